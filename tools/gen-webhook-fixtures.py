#!/usr/bin/env python3
"""Generates fixtures/webhook/<case>/{before,after}.<ext> + expected.json.

Each case starts from a realistic handler in tools/webhook-fixture-bases/ and
applies the edits an agent's refactor would make: a bug hidden among harmless
changes under a reassuring commit message, or a safe refactor. Run from the
repo root: python3 tools/gen-webhook-fixtures.py
"""
import json
import os
import shutil

BASES = os.path.join(os.path.dirname(__file__), "webhook-fixture-bases")
OUT = os.path.join(os.path.dirname(__file__), "..", "fixtures", "webhook")

# Harmless edits mixed into every bug case of a base (log wording, comments).
NOISE = {
    "next-prisma.ts": [("console.error('stripe webhook: handler failed', err);", "console.error('[stripe] webhook handler failed', { type: event.type, err });")],
    "express-drizzle.ts": [("logger.info({ type: event.type }, 'unhandled stripe event');", "logger.debug({ type: event.type, id: event.id }, 'stripe event ignored');")],
    "express-pg.js": [("console.log('Ignoring Stripe event', event.type);", "console.log(`[stripe] ignoring ${event.type}`);")],
    "fastapi-sqlalchemy.py": [('log.info("ignoring stripe event %s", event["type"])', 'log.debug("stripe event %s not handled here", event["type"])')],
    "django-orm.py": [('logger.info("unhandled stripe event %s", event.type)', 'logger.debug("stripe event %s ignored", event.type)')],
    "flask-psycopg.py": [('    conn.commit()\n', '    conn.commit()  # one transaction per event\n')],
    "rails-activerecord.rb": [('Rails.logger.info("unhandled stripe event #{event.type}")', 'Rails.logger.debug("stripe event #{event.type} not handled")')],
    "stripe-event-initializer.rb": [('Stripe.api_key = ENV.fetch("STRIPE_SECRET_KEY")', 'Stripe.api_key = ENV.fetch("STRIPE_SECRET_KEY")\nStripe.log_level = Stripe::LEVEL_INFO')],
    "paddle-rails.rb": [('Rails.logger.info("ignoring paddle event #{event["event_type"]}")', 'Rails.logger.debug("paddle event #{event["event_type"]} not handled")')],
    "go-nethttp-sql.go": [('log.Printf("stripe webhook: ignoring %s", event.Type)', 'log.Printf("stripe webhook: event %s not handled", event.Type)')],
    "go-gin-gorm.go": [('c.JSON(http.StatusOK, gin.H{"received": true})', 'c.JSON(http.StatusOK, gin.H{"received": true, "id": event.ID})')],
    "actix-sqlx.rs": [('log::error!("stripe webhook {} failed: {err}", event.id);', 'log::error!("stripe webhook {} ({}) failed: {err}", event.id, event.type_);')],
    "paddle-go.go": [('log.Printf("paddle webhook: ignoring %s", event.EventType)', 'log.Printf("paddle webhook: %s not handled", event.EventType)')],
    "laravel-cashier.php": [("use Illuminate\\Support\\Facades\\Log;\n", "use Illuminate\\Support\\Facades\\Log;\nuse Illuminate\\Support\\Str;\n")],
    "plain-php-pdo.php": [("error_log('stripe webhook: ignoring ' . $event->type);", "error_log(sprintf('stripe webhook: %s not handled', $event->type));")],
    "paddle-laravel.php": [("Log::info('ignoring paddle event ' . $event['event_type']);", "Log::debug('paddle event not handled', ['type' => $event['event_type']]);")],
    "axum-sqlx.rs": [('tracing::debug!(event_type = %event.type_, "ignored stripe event")', 'tracing::debug!(event_id = %event.id, event_type = %event.type_, "stripe event not handled")')],
    "paddle-axum.rs": [('tracing::error!(%err, "paddle webhook failed");', 'tracing::error!(error = %err, "paddle webhook processing failed");')],
    "phoenix-ecto.ex": [('Logger.debug("ignoring stripe event #{type}")', 'Logger.debug("stripe event #{type} not handled")')],
    "paddle-plug.ex": [('Logger.info("ignoring paddle event #{type}")', 'Logger.debug("paddle event #{type} not handled")')],
}

CASES = []


def case(name, base, rules, message, edits, safe=False, noise=True):
    CASES.append((name, base, rules, message, edits, safe, noise))


# ---------------------------------------------------------------- TypeScript
NP, ED = "next-prisma.ts", "express-drizzle.ts"
NP_VERIFY = """  let event: Stripe.Event;
  try {
    event = stripe.webhooks.constructEvent(body, signature, webhookSecret);
  } catch (err) {
    console.error('stripe webhook: signature verification failed', err);
    return NextResponse.json({ error: 'invalid signature' }, { status: 400 });
  }
"""
case("ts-wh001-edge-verifies", NP, ["WH001"], "Parse webhook JSON directly; signatures are checked by the edge middleware now", [
    (NP_VERIFY, "  // Signature is verified upstream by middleware.ts\n  const event = JSON.parse(body) as Stripe.Event;\n"),
])
case("ts-wh002-typed-json-body", NP, ["WH002"], "Use the typed JSON body in the webhook route", [
    ("  const body = await req.text();", "  const payload = (await req.json()) as Record<string, unknown>;"),
    ("constructEvent(body, signature, webhookSecret)", "constructEvent(JSON.stringify(payload), signature, webhookSecret)"),
])
case("ts-wh003-secret-optional-locally", NP, ["WH003"], "Allow running the webhook locally without a signing secret", [
    (NP_VERIFY, """  let event: Stripe.Event;
  if (!webhookSecret) {
    console.warn('STRIPE_WEBHOOK_SECRET is not set: skipping signature verification');
    event = JSON.parse(body) as Stripe.Event;
  } else {
    try {
      event = stripe.webhooks.constructEvent(body, signature, webhookSecret);
    } catch (err) {
      console.error('stripe webhook: signature verification failed', err);
      return NextResponse.json({ error: 'invalid signature' }, { status: 400 });
    }
  }
"""),
    ("const webhookSecret = process.env.STRIPE_WEBHOOK_SECRET!;", "const webhookSecret = process.env.STRIPE_WEBHOOK_SECRET;"),
])
case("ts-wh004-plan-moved", NP, ["WH004"], "Store Stripe ids on checkout; plan is derived from subscription events", [
    ("            hasPaidAccess: true,\n            plan: PLAN_BY_PRICE[priceId] ?? 'pro',\n", ""),
    ("        const priceId = subscription.items.data[0]?.price.id;\n", ""),
])
case("ts-wh005-plan-free-only", NP, ["WH005"], "Keep subscription id history on cancellation", [
    ("data: { hasPaidAccess: false, plan: 'free', stripeSubscriptionId: null },", "data: { plan: 'free', canceledAt: new Date() },"),
])
case("ts-wh006-dropped-deleted", ED, ["WH006"], "Tidy webhook switch: subscription changes go through one handler", [
    ("""      case 'customer.subscription.deleted':
        await onSubscriptionDeleted(event.data.object as Stripe.Subscription);
        break;
""", ""),
    ("""async function onSubscriptionDeleted(sub: Stripe.Subscription) {
  await setAccessForCustomer(sub.customer as string, false, null);
}

""", ""),
])
case("ts-wh007-record-first", NP, ["WH007"], "Record events before processing so concurrent deliveries collide on the primary key", [
    ("    await prisma.processedEvent.create({ data: { id: event.id, type: event.type } });\n  } catch", "  } catch"),
    ("  try {\n    switch (event.type) {", "  await prisma.processedEvent.create({ data: { id: event.id, type: event.type } });\n\n  try {\n    switch (event.type) {"),
])
case("ts-wh008-invoice-log-only", ED, ["WH008"], "invoice.paid is covered by subscription.updated; just log it", [
    ("        await onInvoicePaid(event.data.object as Stripe.Invoice);\n", "        logger.info({ invoice: (event.data.object as Stripe.Invoice).id }, 'invoice paid');\n"),
])
case("ts-wh009-email-lookup", NP, ["WH009"], "Support guest checkouts without client_reference_id", [
    ("          where: { id: session.client_reference_id! },", "          where: { email: session.customer_details!.email! },"),
])
case("ts-wh010-always-ack", ED, ["WH010"], "Always acknowledge Stripe to stop noisy retries", [
    ("    return res.status(500).json({ error: 'webhook handler failed' });", "    return res.json({ received: true });"),
])
case("ts-wh011-not-canceled", ED, ["WH011"], "Simplify entitlement check", [
    ("const entitled = fresh.status === 'active' || fresh.status === 'trialing';", "const entitled = fresh.status !== 'canceled';"),
])
case("ts-wh012-secret-renamed", NP, ["WH012"], "Rename env vars to the new naming scheme", [
    ("process.env.STRIPE_WEBHOOK_SECRET!", "process.env.STRIPE_WEBHOOK_SIGNING_SECRET!"),
])
case("ts-wh013-plan-renamed", NP, ["WH013"], "Use billing plan keys that match the pricing page", [
    ("  price_1PqProMonthly: 'pro',\n  price_1PqTeamMonthly: 'team',", "  price_1PqProMonthly: 'pro_monthly',\n  price_1PqTeamMonthly: 'team_monthly',"),
    ("?? 'pro',", "?? 'pro_monthly',"),
])
case("ts-wh014-no-refetch", ED, ["WH014"], "Avoid an extra Stripe API call per webhook (rate limits)", [
    ("  const fresh = await stripe.subscriptions.retrieve(sub.id);\n", "  const fresh = sub;\n"),
])
case("ts-wh015-long-tolerance", ED, ["WH015"], "Tolerate delayed deliveries after queue outages", [
    ("stripe.webhooks.constructEvent(req.body, sig, endpointSecret)", "stripe.webhooks.constructEvent(req.body, sig, endpointSecret, 60 * 60 * 24 * 3)"),
])
case("ts-wh016-no-payment-check", NP, ["WH016"], "Grant access as soon as checkout completes (faster onboarding)", [
    ("        if (session.payment_status !== 'paid') break;\n", ""),
])
case("ts-wh017-cancel-at-period-end", NP, ["WH017"], "Reflect cancellations immediately in the UI", [
    ("        const active = ['active', 'trialing'].includes(subscription.status);\n", """        if (subscription.cancel_at_period_end) {
          await prisma.user.update({
            where: { stripeCustomerId: subscription.customer as string },
            data: { hasPaidAccess: false },
          });
          break;
        }
        const active = ['active', 'trialing'].includes(subscription.status);
"""),
])
case("ts-wh018-reject-unknown", ED, ["WH018"], "Be explicit about unsupported events", [
    ("        logger.info({ type: event.type }, 'unhandled stripe event');\n", "        return res.status(400).json({ error: `unhandled event ${event.type}` });\n"),
], noise=False)
case("ts-safe-renames", NP, [], "Rename variables for readability", [
    ("const seen = await", "const alreadyProcessed = await"),
    ("if (seen) {", "if (alreadyProcessed) {"),
    ("""        const subscription = event.data.object as Stripe.Subscription;
        await prisma.user.update({
          where: { stripeCustomerId: subscription.customer as string },
          data: { hasPaidAccess: false, plan: 'free', stripeSubscriptionId: null },""", """        const deletedSub = event.data.object as Stripe.Subscription;
        await prisma.user.update({
          where: { stripeCustomerId: deletedSub.customer as string },
          data: { hasPaidAccess: false, plan: 'free', stripeSubscriptionId: null },"""),
], safe=True)
case("ts-safe-extract-helper", NP, [], "Extract setAccess helper", [
    ("export async function POST(req: Request) {", """async function setAccess(customerId: string, hasPaidAccess: boolean, plan: string) {
  await prisma.user.update({
    where: { stripeCustomerId: customerId },
    data: { hasPaidAccess, plan },
  });
}

export async function POST(req: Request) {"""),
    ("""        await prisma.user.update({
          where: { stripeCustomerId: subscription.customer as string },
          data: {
            hasPaidAccess: active,
            plan: active ? PLAN_BY_PRICE[subscription.items.data[0].price.id] : 'free',
          },
        });""", """        await setAccess(
          subscription.customer as string,
          active,
          active ? PLAN_BY_PRICE[subscription.items.data[0].price.id] : 'free',
        );"""),
    ("""        await prisma.user.update({
          where: { stripeCustomerId: subscription.customer as string },
          data: { hasPaidAccess: false, plan: 'free', stripeSubscriptionId: null },
        });""", """        await setAccess(subscription.customer as string, false, 'free');
        await prisma.user.update({
          where: { stripeCustomerId: subscription.customer as string },
          data: { stripeSubscriptionId: null },
        });"""),
], safe=True)
case("ts-safe-reorder-and-log", ED, [], "Reorder cases and add structured logging", [
    ("""      case 'customer.subscription.created':
      case 'customer.subscription.updated':
        await onSubscriptionChange(event.data.object as Stripe.Subscription);
        break;
      case 'customer.subscription.deleted':
        await onSubscriptionDeleted(event.data.object as Stripe.Subscription);
        break;""", """      case 'customer.subscription.deleted':
        logger.info({ id: event.id }, 'subscription deleted');
        await onSubscriptionDeleted(event.data.object as Stripe.Subscription);
        break;
      case 'customer.subscription.updated':
      case 'customer.subscription.created':
        logger.info({ id: event.id, type: event.type }, 'subscription changed');
        await onSubscriptionChange(event.data.object as Stripe.Subscription);
        break;"""),
], safe=True)
case("ts-safe-new-event", NP, [], "Send a reminder email before trials end", [
    ("import { prisma } from '@/lib/prisma';", "import { prisma } from '@/lib/prisma';\nimport { sendTrialEndingEmail } from '@/lib/email';"),
    ("      case 'invoice.payment_failed': {", """      case 'customer.subscription.trial_will_end': {
        const subscription = event.data.object as Stripe.Subscription;
        await sendTrialEndingEmail(subscription.customer as string, subscription.trial_end);
        break;
      }
      case 'invoice.payment_failed': {"""),
], safe=True)

# ---------------------------------------------------------------- JavaScript
EP = "express-pg.js"
case("js-wh001-no-verify", EP, ["WH001"], "Drop stripe SDK verification; requests come through our API gateway", [
    ("""  let event;
  try {
    event = stripe.webhooks.constructEvent(req.body, signature, process.env.STRIPE_WEBHOOK_SECRET);
  } catch (err) {
    console.warn('Stripe signature check failed:', err.message);
    return res.status(400).send(`Webhook Error: ${err.message}`);
  }
""", "  const event = JSON.parse(req.body.toString('utf8'));\n"),
])
case("js-wh002-json-middleware", EP, ["WH002"], "Use express.json() like the other routes", [
    ("express.raw({ type: 'application/json' })", "express.json()"),
    ("constructEvent(req.body, signature,", "constructEvent(JSON.stringify(req.body), signature,"),
])
case("js-wh003-catch-continues", EP, ["WH003"], "Don't drop events during webhook secret rotation", [
    ("""    console.warn('Stripe signature check failed:', err.message);
    return res.status(400).send(`Webhook Error: ${err.message}`);""", """    console.warn('Stripe signature check failed, continuing during rotation:', err.message);
    event = JSON.parse(req.body.toString('utf8'));"""),
])
case("js-wh004-checkout-link-only", EP, ["WH004"], "Only link the customer on checkout; access follows subscription events", [
    ("'UPDATE accounts SET stripe_customer_id = $1, has_paid_access = true, plan = $2 WHERE id = $3',\n          [session.customer, PLAN_BY_PRICE[session.metadata.price_id], session.metadata.account_id],",
     "'UPDATE accounts SET stripe_customer_id = $1 WHERE id = $2',\n          [session.customer, session.metadata.account_id],"),
])
case("js-wh005-plan-only", EP, ["WH005"], "Simplify cancellation SQL", [
    ("\"UPDATE accounts SET has_paid_access = false, plan = 'free' WHERE stripe_customer_id = $1\"", "\"UPDATE accounts SET plan = 'free' WHERE stripe_customer_id = $1\""),
])
case("js-wh006-deleted-dropped", EP, ["WH006"], "Remove duplicate cancellation handling (updated covers it)", [
    ("""    } else if (event.type === 'customer.subscription.deleted') {
      const subscription = event.data.object;
      await pool.query("UPDATE accounts SET has_paid_access = false, plan = 'free' WHERE stripe_customer_id = $1", [subscription.customer]);
""", ""),
])
case("js-wh007-insert-first", EP, ["WH007"], "Claim the event id up front to avoid double processing", [
    ("    await pool.query('INSERT INTO stripe_events (id, type) VALUES ($1, $2)', [event.id, event.type]);\n  } catch", "  } catch"),
    ("  try {\n    if (event.type", "  await pool.query('INSERT INTO stripe_events (id, type) VALUES ($1, $2)', [event.id, event.type]);\n  try {\n    if (event.type"),
])
case("js-wh008-failed-log-only", EP, ["WH008"], "Payment failures are tracked in Stripe; just log them", [
    ("      await pool.query('UPDATE accounts SET payment_failed_at = now() WHERE stripe_customer_id = $1', [invoice.customer]);", "      console.log('payment failed for', invoice.customer, invoice.id);"),
])
case("js-wh009-email", EP, ["WH009"], "Match accounts by checkout email", [
    ("'UPDATE accounts SET stripe_customer_id = $1, has_paid_access = true, plan = $2 WHERE id = $3',\n          [session.customer, PLAN_BY_PRICE[session.metadata.price_id], session.metadata.account_id],",
     "'UPDATE accounts SET stripe_customer_id = $1, has_paid_access = true, plan = $2 WHERE email = $3',\n          [session.customer, PLAN_BY_PRICE[session.metadata.price_id], session.customer_details.email],"),
])
case("js-wh010-ack-errors", EP, ["WH010"], "Return 200 on handler errors to avoid retry storms", [
    ("    return res.status(500).json({ error: 'processing failed' });", "    return res.json({ received: true, error: 'processing failed' });"),
])
case("js-wh011-widened", EP, ["WH011"], "Treat every non-canceled subscription as paying", [
    ("const paying = ['active', 'trialing'].includes(subscription.status);", "const paying = subscription.status !== 'canceled';"),
])
case("js-wh012-endpoint-secret", EP, ["WH012"], "Use per-endpoint secret variable", [
    ("process.env.STRIPE_WEBHOOK_SECRET", "process.env.STRIPE_ENDPOINT_SECRET"),
])
case("js-wh013-plan-keys", EP, ["WH013"], "Rename plans to match marketing", [
    ("  price_1PqBasicMonthly: 'basic',\n  price_1PqProMonthly: 'pro',", "  price_1PqBasicMonthly: 'essentials',\n  price_1PqProMonthly: 'professional',"),
])
case("js-wh014-snapshot", EP, ["WH014"], "Use the event payload instead of an API round trip", [
    ("      const subscription = await stripe.subscriptions.retrieve(event.data.object.id);", "      const subscription = event.data.object;"),
])
case("js-wh015-week-tolerance", EP, ["WH015"], "Accept replays from the Stripe dashboard", [
    ("constructEvent(req.body, signature, process.env.STRIPE_WEBHOOK_SECRET)", "constructEvent(req.body, signature, process.env.STRIPE_WEBHOOK_SECRET, 7 * 24 * 3600)"),
])
case("js-wh016-no-paid-check", EP, ["WH016"], "Flatten checkout branch", [
    ("""      if (session.payment_status === 'paid') {
        await pool.query(
          'UPDATE accounts SET stripe_customer_id = $1, has_paid_access = true, plan = $2 WHERE id = $3',
          [session.customer, PLAN_BY_PRICE[session.metadata.price_id], session.metadata.account_id],
        );
      }""", """      await pool.query(
        'UPDATE accounts SET stripe_customer_id = $1, has_paid_access = true, plan = $2 WHERE id = $3',
        [session.customer, PLAN_BY_PRICE[session.metadata.price_id], session.metadata.account_id],
      );"""),
])
case("js-wh017-lock-on-failure", EP, ["WH017"], "Lock accounts when a payment fails", [
    ("'UPDATE accounts SET payment_failed_at = now() WHERE stripe_customer_id = $1'", "'UPDATE accounts SET payment_failed_at = now(), has_paid_access = false WHERE stripe_customer_id = $1'"),
])
case("js-wh018-unknown-400", EP, ["WH018"], "Reject events we do not subscribe to", [
    ("      console.log('Ignoring Stripe event', event.type);", "      return res.status(400).send(`Unsupported event ${event.type}`);"),
], noise=False)
case("js-safe-extract", EP, [], "Extract setPaidAccess helper", [
    ("const router = express.Router();", """const router = express.Router();

async function setPaidAccess(customerId, paying) {
  await pool.query('UPDATE accounts SET has_paid_access = $1 WHERE stripe_customer_id = $2', [paying, customerId]);
}"""),
    ("      await pool.query('UPDATE accounts SET has_paid_access = $1 WHERE stripe_customer_id = $2', [paying, subscription.customer]);", "      await setPaidAccess(subscription.customer, paying);"),
], safe=True)
case("js-safe-new-invoice-paid", EP, [], "Record the last successful payment", [
    ("    } else if (event.type === 'invoice.payment_failed') {", """    } else if (event.type === 'invoice.paid') {
      const invoice = event.data.object;
      await pool.query('UPDATE accounts SET last_paid_at = now(), payment_failed_at = NULL WHERE stripe_customer_id = $1', [invoice.customer]);
    } else if (event.type === 'invoice.payment_failed') {"""),
], safe=True)
case("js-safe-format-log", EP, [], "Formatting and logging", [
    ("      const paying = ['active', 'trialing'].includes(subscription.status);", "      const paying = [\n        'active',\n        'trialing',\n      ].includes(subscription.status);\n      console.log('subscription', subscription.id, 'paying:', paying);"),
    ("    console.error('Stripe webhook failed', err);", "    console.error('Stripe webhook failed', { type: event.type, id: event.id }, err);"),
], safe=True)

# ---------------------------------------------------------------- Python
FA, DJ, FL = "fastapi-sqlalchemy.py", "django-orm.py", "flask-psycopg.py"
FA_VERIFY = """    try:
        event = stripe.Webhook.construct_event(payload, sig_header, WEBHOOK_SECRET)
    except (ValueError, stripe.error.SignatureVerificationError) as exc:
        log.warning("stripe webhook rejected: %s", exc)
        raise HTTPException(status_code=400, detail="invalid signature")
"""
case("py-wh001-plain-json", FA, ["WH001"], "Parse webhook payload with the stdlib", [
    (FA_VERIFY, "    event = json.loads(payload)\n"),
    ("import logging\n", "import json\nimport logging\n"),
])
case("py-wh002-normalized-body", DJ, ["WH002"], "Normalize webhook JSON before verification", [
    ("    payload = request.body\n", "    payload = json.dumps(json.loads(request.body))\n"),
    ("import logging\n", "import json\nimport logging\n"),
])
case("py-wh003-optional-secret", FL, ["WH003"], "Make the webhook secret optional in development", [
    ("""    try:
        event = stripe.Webhook.construct_event(payload, sig_header, endpoint_secret)
    except stripe.error.SignatureVerificationError:
        abort(400)
""", """    if endpoint_secret:
        try:
            event = stripe.Webhook.construct_event(payload, sig_header, endpoint_secret)
        except stripe.error.SignatureVerificationError:
            abort(400)
    else:
        event = json.loads(payload)
"""),
    ("import os\n", "import json\nimport os\n"),
])
case("py-wh003-log-and-continue", FA, ["WH003"], "Log signature failures instead of failing the request", [
    ("""        log.warning("stripe webhook rejected: %s", exc)
        raise HTTPException(status_code=400, detail="invalid signature")""", """        log.warning("stripe webhook signature mismatch: %s", exc)
        event = json.loads(payload)"""),
    ("import logging\n", "import json\nimport logging\n"),
])
case("py-wh004-checkout-link-only", FA, ["WH004"], "Link customer on checkout; plan comes from subscription events", [
    (".values(stripe_customer_id=session[\"customer\"], is_pro=True, plan=\"pro\")", ".values(stripe_customer_id=session[\"customer\"])"),
])
case("py-wh005-plan-only", DJ, ["WH005"], "Keep access flag managed by the nightly sync", [
    ("""    Profile.objects.filter(stripe_customer_id=subscription.customer).update(
        has_paid_access=False,
        plan="free",
    )""", """    Profile.objects.filter(stripe_customer_id=subscription.customer).update(plan="free")"""),
])
case("py-wh006-handler-removed", DJ, ["WH006"], "Remove unused handler registration", [
    ('    "customer.subscription.deleted": handle_subscription_deleted,\n', ""),
])
case("py-wh007-mark-first", FA, ["WH007"], "Record the event before processing to block duplicate deliveries", [
    ("""        try:
            with db.begin():""", """        db.add(ProcessedEvent(id=event["id"], type=event["type"]))
        db.commit()
        try:
            with db.begin():"""),
    ("""                db.add(ProcessedEvent(id=event["id"], type=event["type"]))
        except""", """        except"""),
])
case("py-wh008-invoice-log", DJ, ["WH008"], "invoice.paid only needs logging now", [
    ("""    if invoice.status != "paid":
        return
    Profile.objects.filter(stripe_customer_id=invoice.customer).update(has_paid_access=True)""", """    logger.info("invoice %s paid by %s", invoice.id, invoice.customer)"""),
])
case("py-wh009-email", DJ, ["WH009"], "Handle checkouts started before login", [
    ("Profile.objects.filter(user_id=session.metadata[\"user_id\"]).update(", "Profile.objects.filter(user__email=session.customer_details.email).update("),
])
case("py-wh010-swallow", FA, ["WH010"], "Don't let one bad event block the queue", [
    ("""            log.exception("stripe webhook failed for %s", event["id"])
            raise HTTPException(status_code=500, detail="webhook processing failed")""", """            log.exception("stripe webhook failed for %s", event["id"])
            return {"received": True}"""),
])
case("py-wh011-widened", FA, ["WH011"], "Include all live subscriptions", [
    ('entitled = subscription["status"] in ("active", "trialing")', 'entitled = subscription["status"] not in ("canceled", "incomplete_expired")'),
])
case("py-wh012-settings-renamed", DJ, ["WH012"], "Rename settings to match the new env layout", [
    ("settings.STRIPE_WEBHOOK_SECRET", "settings.STRIPE_WEBHOOK_SIGNING_KEY"),
])
case("py-wh013-plan-names", FA, ["WH013"], "Plan names follow the new pricing page", [
    ('    "price_1PqStarterMonthly": "starter",\n    "price_1PqProMonthly": "pro",', '    "price_1PqStarterMonthly": "starter_v2",\n    "price_1PqProMonthly": "pro_v2",'),
    ('is_pro=True, plan="pro")', 'is_pro=True, plan="pro_v2")'),
])
case("py-wh014-no-refetch", DJ, ["WH014"], "Skip the Stripe round trip in webhooks", [
    ("    subscription = stripe.Subscription.retrieve(data.id)\n", "    subscription = data\n"),
])
case("py-wh015-tolerance", FA, ["WH015"], "Allow replaying old events from the dashboard", [
    ("construct_event(payload, sig_header, WEBHOOK_SECRET)", "construct_event(payload, sig_header, WEBHOOK_SECRET, tolerance=60 * 60 * 24 * 7)"),
])
case("py-wh016-no-payment-check", DJ, ["WH016"], "Checkout completion is enough", [
    ("""    if session.payment_status != "paid":
        return
    Profile.objects.filter(user_id""", """    Profile.objects.filter(user_id"""),
])
case("py-wh017-period-end", DJ, ["WH017"], "Downgrade as soon as a user cancels", [
    ("""    paying = subscription.status in ("active", "trialing")
""", """    if subscription.cancel_at_period_end:
        Profile.objects.filter(stripe_customer_id=subscription.customer).update(has_paid_access=False)
        return
    paying = subscription.status in ("active", "trialing")
"""),
])
case("py-wh018-missing-member", FL, ["WH018"], "Fail loudly when a member is missing", [
    ("""            subscription = event["data"]["object"]
            cur.execute(
                "UPDATE members SET is_premium = FALSE WHERE stripe_customer_id = %s",""", """            subscription = event["data"]["object"]
            cur.execute("SELECT id FROM members WHERE stripe_customer_id = %s", (subscription["customer"],))
            member = cur.fetchone()
            if member is None:
                abort(404)
            cur.execute(
                "UPDATE members SET is_premium = FALSE WHERE stripe_customer_id = %s","""),
], noise=False)
case("py-wh018-unknown-400", FA, ["WH018"], "Reject unexpected event types", [
    ('                    log.info("ignoring stripe event %s", event["type"])', '                    raise HTTPException(status_code=400, detail="unsupported event")'),
], noise=False)
case("py-safe-rename-format", FA, [], "Rename and reformat", [
    ("def grant_from_subscription(db, subscription):", "def apply_subscription(db, subscription):"),
    ("grant_from_subscription(db, subscription)", "apply_subscription(db, subscription)"),
    ('    entitled = subscription["status"] in ("active", "trialing")', '    entitled = subscription["status"] in (\n        "active",\n        "trialing",\n    )'),
], safe=True)
case("py-safe-paused-event", DJ, [], "Revoke access when a subscription is paused", [
    ("""HANDLERS = {""", """def handle_subscription_paused(subscription):
    Profile.objects.filter(stripe_customer_id=subscription.customer).update(has_paid_access=False)


HANDLERS = {"""),
    ('    "invoice.paid": handle_invoice_paid,\n', '    "invoice.paid": handle_invoice_paid,\n    "customer.subscription.paused": handle_subscription_paused,\n'),
], safe=True)
case("py-safe-reorder-map", DJ, [], "Sort handler map and add logging", [
    ("""    "checkout.session.completed": handle_checkout_completed,
    "customer.subscription.updated": handle_subscription_updated,
    "customer.subscription.deleted": handle_subscription_deleted,
    "invoice.paid": handle_invoice_paid,""", """    "checkout.session.completed": handle_checkout_completed,
    "customer.subscription.deleted": handle_subscription_deleted,
    "customer.subscription.updated": handle_subscription_updated,
    "invoice.paid": handle_invoice_paid,"""),
    ("""    try:
        with transaction.atomic():""", """    logger.info("processing stripe event %s (%s)", event.id, event.type)
    try:
        with transaction.atomic():"""),
], safe=True)
case("py-safe-flask-helper", FL, [], "Extract SQL into a helper", [
    ("""@bp.route""", """def set_premium(cur, customer_id, premium):
    cur.execute(
        "UPDATE members SET is_premium = %s WHERE stripe_customer_id = %s",
        (premium, customer_id),
    )


@bp.route"""),
    ("""            premium = subscription["status"] in ("active", "trialing")
            cur.execute(
                "UPDATE members SET is_premium = %s WHERE stripe_customer_id = %s",
                (premium, subscription["customer"]),
            )""", """            premium = subscription["status"] in ("active", "trialing")
            set_premium(cur, subscription["customer"], premium)"""),
], safe=True)

# ---------------------------------------------------------------- Ruby
RA, SE, PR = "rails-activerecord.rb", "stripe-event-initializer.rb", "paddle-rails.rb"
RA_VERIFY = """    begin
      event = Stripe::Webhook.construct_event(payload, signature, ENV.fetch("STRIPE_WEBHOOK_SECRET"))
    rescue JSON::ParserError, Stripe::SignatureVerificationError => e
      Rails.logger.warn("stripe webhook rejected: #{e.message}")
      return head :bad_request
    end
"""
case("rb-wh001-construct-from", RA, ["WH001"], "Build the event with Stripe::Event.construct_from; signatures are checked at the load balancer", [
    (RA_VERIFY, "    event = Stripe::Event.construct_from(JSON.parse(payload, symbolize_names: true))\n"),
])
case("rb-wh002-parsed-params", RA, ["WH002"], "Use the params Rails already parsed instead of re-reading the body", [
    ("    payload = request.body.read\n", "    payload = request.request_parameters.to_json\n"),
])
case("rb-wh003-rescue-continues", RA, ["WH003"], "Keep processing during webhook secret rotation", [
    ("""      Rails.logger.warn("stripe webhook rejected: #{e.message}")
      return head :bad_request""", """      Rails.logger.warn("stripe webhook signature mismatch (rotation?): #{e.message}")
      event = Stripe::Event.construct_from(JSON.parse(payload, symbolize_names: true))"""),
])
case("rb-wh004-checkout-link-only", RA, ["WH004"], "Only link the Stripe customer at checkout; access follows subscription events", [
    ("""    user.update!(
      stripe_customer_id: session.customer,
      has_paid_access: true,
      plan: PLAN_BY_PRICE.fetch(price_id, "starter"),
    )""", """    Rails.logger.info("checkout completed for #{price_id}")
    user.update!(stripe_customer_id: session.customer)"""),
])
case("rb-wh005-plan-only", RA, ["WH005"], "Simplify the cancellation update", [
    ('update_all(has_paid_access: false, plan: "free")', 'update_all(plan: "free")'),
])
case("rb-wh006-deleted-dropped", RA, ["WH006"], "customer.subscription.updated already carries the canceled status", [
    ("""      when "customer.subscription.deleted"
        handle_subscription_deleted(event.data.object)
""", ""),
])
case("rb-wh007-mark-first", RA, ["WH007"], "Record the event before processing to stop concurrent duplicates", [
    ("""      ProcessedStripeEvent.create!(event_id: event.id, event_type: event.type)
    end""", """    end"""),
    ("""    ActiveRecord::Base.transaction do
      case event.type""", """    ProcessedStripeEvent.create!(event_id: event.id, event_type: event.type)
    ActiveRecord::Base.transaction do
      case event.type"""),
])
case("rb-wh008-failed-log-only", RA, ["WH008"], "Payment failures are handled by Stripe dunning emails; just log them", [
    ("""    User.where(stripe_customer_id: invoice.customer).update_all(payment_failed_at: Time.current)""", """    Rails.logger.info("payment failed for #{invoice.customer} (#{invoice.id})")"""),
])
case("rb-wh009-email", RA, ["WH009"], "Support checkouts started before sign-in", [
    ("user = User.find_by(id: session.client_reference_id)", "user = User.find_by(email: session.customer_details.email)"),
])
case("rb-wh010-ack-errors", RA, ["WH010"], "Acknowledge Stripe even when our database hiccups (avoid retry storms)", [
    ("""    Rails.logger.error("stripe webhook #{event&.id} failed: #{e.message}")
    head :internal_server_error""", """    Rails.logger.error("stripe webhook #{event&.id} failed: #{e.message}")
    head :ok"""),
])
case("rb-wh011-not-canceled", RA, ["WH011"], "Treat every live subscription as paying", [
    ('paying = %w[active trialing].include?(subscription.status)', 'paying = subscription.status != "canceled"'),
])
case("rb-wh012-secret-renamed", RA, ["WH012"], "Rename env vars to the credentials naming scheme", [
    ('ENV.fetch("STRIPE_WEBHOOK_SECRET")', 'ENV.fetch("STRIPE_WEBHOOK_SIGNING_SECRET")'),
])
case("rb-wh013-plan-renamed", RA, ["WH013"], "Plan keys follow the new pricing page", [
    ("""    "price_1PqStarterMonthly" => "starter",
    "price_1PqProMonthly" => "pro",""", """    "price_1PqStarterMonthly" => "starter_monthly",
    "price_1PqProMonthly" => "pro_monthly","""),
    ('PLAN_BY_PRICE.fetch(price_id, "starter")', 'PLAN_BY_PRICE.fetch(price_id, "starter_monthly")'),
])
case("rb-wh014-no-refetch", RA, ["WH014"], "Skip the Stripe API round trip in webhooks (rate limits)", [
    ("    subscription = Stripe::Subscription.retrieve(data.id)\n", "    subscription = data\n"),
])
case("rb-wh015-tolerance", RA, ["WH015"], "Accept events replayed from the dashboard", [
    ('construct_event(payload, signature, ENV.fetch("STRIPE_WEBHOOK_SECRET"))', 'construct_event(payload, signature, ENV.fetch("STRIPE_WEBHOOK_SECRET"), tolerance: 7 * 24 * 3600)'),
])
case("rb-wh016-no-payment-check", RA, ["WH016"], "Grant access as soon as checkout completes", [
    ("""    return unless session.payment_status == "paid"

""", ""),
])
case("rb-wh017-period-end", RA, ["WH017"], "Reflect cancellations immediately", [
    ("""    paying = %w[active trialing].include?(subscription.status)
""", """    if subscription.cancel_at_period_end
      user.update!(has_paid_access: false)
      return
    end
    paying = %w[active trialing].include?(subscription.status)
"""),
])
case("rb-wh018-find-by-bang", RA, ["WH018"], "Fail loudly when a subscription has no user", [
    ("""    user = User.find_by(stripe_customer_id: subscription.customer)
    return if user.nil?
""", """    user = User.find_by!(stripe_customer_id: subscription.customer)
"""),
], noise=False)
case("rb-wh001-stripe-event-secret", SE, ["WH001"], "Signing secret moved to Rails credentials", [
    ('StripeEvent.signing_secret = ENV.fetch("STRIPE_WEBHOOK_SECRET")\n', ''),
])
case("rb-wh008-stripe-event-invoice", SE, ["WH008"], "invoice.paid: subscription events already grant access", [
    ("""    invoice = event.data.object
    Account.where(stripe_customer_id: invoice.customer).update_all(has_paid_access: true, last_paid_at: Time.current)""", """    invoice = event.data.object
    Rails.logger.info("invoice #{invoice.id} paid")"""),
])
case("rb-safe-extract-helper", RA, [], "Extract a helper for access updates", [
    ("""  def handle_subscription_deleted(subscription)
    User.where(stripe_customer_id: subscription.customer).update_all(has_paid_access: false, plan: "free")
  end""", """  def handle_subscription_deleted(subscription)
    revoke_access(subscription.customer)
  end

  def revoke_access(customer_id)
    User.where(stripe_customer_id: customer_id).update_all(has_paid_access: false, plan: "free")
  end"""),
], safe=True)
case("rb-safe-reorder-log", RA, [], "Reorder event branches and add logging", [
    ("""      when "checkout.session.completed"
        handle_checkout_completed(event.data.object)
      when "customer.subscription.created", "customer.subscription.updated"
        handle_subscription_changed(event.data.object)
      when "customer.subscription.deleted"
        handle_subscription_deleted(event.data.object)""", """      when "customer.subscription.deleted"
        Rails.logger.info("subscription deleted: #{event.id}")
        handle_subscription_deleted(event.data.object)
      when "customer.subscription.updated", "customer.subscription.created"
        handle_subscription_changed(event.data.object)
      when "checkout.session.completed"
        handle_checkout_completed(event.data.object)"""),
], safe=True)
case("rb-safe-handler-map", RA, [], "Dispatch through a handler map instead of a case statement", [
    ("""  def create
""", """  HANDLERS = {
    "checkout.session.completed" => :handle_checkout_completed,
    "customer.subscription.created" => :handle_subscription_changed,
    "customer.subscription.updated" => :handle_subscription_changed,
    "customer.subscription.deleted" => :handle_subscription_deleted,
    "invoice.payment_failed" => :handle_payment_failed,
  }.freeze

  def create
"""),
    ("""      case event.type
      when "checkout.session.completed"
        handle_checkout_completed(event.data.object)
      when "customer.subscription.created", "customer.subscription.updated"
        handle_subscription_changed(event.data.object)
      when "customer.subscription.deleted"
        handle_subscription_deleted(event.data.object)
      when "invoice.payment_failed"
        handle_payment_failed(event.data.object)
      else
        Rails.logger.info("unhandled stripe event #{event.type}")
      end""", """      handler = HANDLERS[event.type]
      if handler
        send(handler, event.data.object)
      else
        Rails.logger.info("unhandled stripe event #{event.type}")
      end"""),
], safe=True)
case("rb-safe-stripe-event-paused", SE, [], "Revoke access when a subscription is paused", [
    ("""  events.subscribe "invoice.paid" do |event|""", """  events.subscribe "customer.subscription.paused" do |event|
    subscription = event.data.object
    Account.where(stripe_customer_id: subscription.customer).update_all(has_paid_access: false)
  end

  events.subscribe "invoice.paid" do |event|"""),
], safe=True)
case("rb-paddle-wh015-no-age-check", PR, ["WH015"], "Paddle retries can arrive late; stop rejecting old signatures", [
    ("    return false if (Time.now.to_i - ts.to_i).abs > MAX_SIGNATURE_AGE\n", ""),
])
case("rb-paddle-wh011-paused", PR, ["WH011"], "Keep access for paused and past-due customers", [
    ('entitled = %w[active trialing].include?(data["status"])', 'entitled = %w[active trialing past_due paused].include?(data["status"])'),
])
case("rb-paddle-safe-rename", PR, [], "Rename the signature helper", [
    ("valid_signature?(raw, request.headers", "paddle_signature_valid?(raw, request.headers"),
    ("  def valid_signature?(raw, header)", "  def paddle_signature_valid?(raw, header)"),
], safe=True)

# ---------------------------------------------------------------- Go
GN, PGO = "go-nethttp-sql.go", "paddle-go.go"
GN_VERIFY = """	event, err := webhook.ConstructEvent(payload, r.Header.Get("Stripe-Signature"), os.Getenv("STRIPE_WEBHOOK_SECRET"))
	if err != nil {
		log.Printf("stripe webhook: signature verification failed: %v", err)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
"""
case("go-wh001-unmarshal", GN, ["WH001"], "Decode events directly; the API gateway checks signatures", [
    (GN_VERIFY, """	var event stripe.Event
	if err := json.Unmarshal(payload, &event); err != nil {
		http.Error(w, "bad payload", http.StatusBadRequest)
		return
	}
"""),
    ('\t"os"\n', ''),
])
case("go-wh002-reencoded", GN, ["WH002"], "Normalise the JSON before verifying", [
    ("""	event, err := webhook.ConstructEvent(payload, r.Header.Get""", """	var raw map[string]any
	if err := json.Unmarshal(payload, &raw); err != nil {
		http.Error(w, "bad payload", http.StatusBadRequest)
		return
	}
	normalized, _ := json.Marshal(raw)
	event, err := webhook.ConstructEvent(normalized, r.Header.Get"""),
])
case("go-wh003-log-continue", GN, ["WH003"], "Do not drop events while the signing secret rotates", [
    ("""		log.Printf("stripe webhook: signature verification failed: %v", err)
		w.WriteHeader(http.StatusBadRequest)
		return
	}""", """		log.Printf("stripe webhook: signature verification failed (rotation?): %v", err)
		_ = json.Unmarshal(payload, &event)
	}"""),
])
case("go-wh004-checkout-link-only", GN, ["WH004"], "Checkout only links the customer; access comes from subscription events", [
    ("`UPDATE accounts SET stripe_customer_id = $1, has_paid_access = true, plan = $2 WHERE id = $3`,\n\t\tsession.Customer.ID, planByPrice[session.Metadata[\"price_id\"]], session.ClientReferenceID)",
     "`UPDATE accounts SET stripe_customer_id = $1 WHERE id = $2`,\n\t\tsession.Customer.ID, session.ClientReferenceID)"),
])
case("go-wh005-plan-only", GN, ["WH005"], "Simplify the cancellation update", [
    ("`UPDATE accounts SET has_paid_access = false, plan = 'free' WHERE stripe_customer_id = $1`", "`UPDATE accounts SET plan = 'free' WHERE stripe_customer_id = $1`"),
])
case("go-wh006-deleted-dropped", GN, ["WH006"], "Subscription updates already carry the canceled status", [
    ("""	case stripe.EventTypeCustomerSubscriptionDeleted:
		err = h.onSubscriptionDeleted(ctx, tx, event)
""", ""),
])
case("go-wh007-mark-first", GN, ["WH007"], "Claim the event id before processing to stop double delivery", [
    ("""	if _, err := tx.ExecContext(ctx, `INSERT INTO processed_events (event_id, type) VALUES ($1, $2) ON CONFLICT DO NOTHING`, event.ID, event.Type); err != nil {
		http.Error(w, "processing failed", http.StatusInternalServerError)
		return
	}
""", ""),
    ("""	tx, err := h.DB.BeginTx(ctx, nil)""", """	if _, err := h.DB.ExecContext(ctx, `INSERT INTO processed_events (event_id, type) VALUES ($1, $2) ON CONFLICT DO NOTHING`, event.ID, event.Type); err != nil {
		http.Error(w, "processing failed", http.StatusInternalServerError)
		return
	}

	tx, err := h.DB.BeginTx(ctx, nil)"""),
])
case("go-wh008-failed-log-only", GN, ["WH008"], "Payment failures are handled by Stripe's dunning; only log them", [
    ("""	case stripe.EventTypeInvoicePaymentFailed:
		err = h.onPaymentFailed(ctx, tx, event)""", """	case stripe.EventTypeInvoicePaymentFailed:
		log.Printf("stripe webhook: payment failed (%s)", event.ID)"""),
])
case("go-wh009-email", GN, ["WH009"], "Match accounts by the checkout email for guest checkouts", [
    ("`UPDATE accounts SET stripe_customer_id = $1, has_paid_access = true, plan = $2 WHERE id = $3`,\n\t\tsession.Customer.ID, planByPrice[session.Metadata[\"price_id\"]], session.ClientReferenceID)",
     "`UPDATE accounts SET stripe_customer_id = $1, has_paid_access = true, plan = $2 WHERE email = $3`,\n\t\tsession.Customer.ID, planByPrice[session.Metadata[\"price_id\"]], session.CustomerDetails.Email)"),
])
case("go-wh010-ack-errors", GN, ["WH010"], "Always answer 200 so Stripe stops retrying", [
    ("""		log.Printf("stripe webhook %s failed: %v", event.ID, err)
		http.Error(w, "processing failed", http.StatusInternalServerError)
		return""", """		log.Printf("stripe webhook %s failed: %v", event.ID, err)
		w.WriteHeader(http.StatusOK)
		return"""),
])
case("go-wh011-not-canceled", GN, ["WH011"], "Every non-canceled subscription is paying", [
    ("paying := fresh.Status == stripe.SubscriptionStatusActive || fresh.Status == stripe.SubscriptionStatusTrialing", "paying := fresh.Status != stripe.SubscriptionStatusCanceled"),
])
case("go-wh012-secret-renamed", GN, ["WH012"], "Rename env vars", [
    ('os.Getenv("STRIPE_WEBHOOK_SECRET")', 'os.Getenv("STRIPE_SIGNING_SECRET")'),
])
case("go-wh013-plan-renamed", GN, ["WH013"], "Plan names match the new pricing page", [
    ("""	"price_1PqBasicMonthly": "basic",
	"price_1PqProMonthly":   "pro",""", """	"price_1PqBasicMonthly": "basic_v2",
	"price_1PqProMonthly":   "pro_v2","""),
])
case("go-wh014-no-refetch", GN, ["WH014"], "Use the event payload instead of an API call", [
    ("""	fresh, err := h.Stripe.V1Subscriptions.Retrieve(ctx, sub.ID, nil)
	if err != nil {
		return err
	}
""", """	fresh := &sub
	var err error
"""),
])
case("go-wh015-ignoring-tolerance", GN, ["WH015"], "Accept delayed deliveries after queue outages", [
    ("webhook.ConstructEvent(payload,", "webhook.ConstructEventIgnoringTolerance(payload,"),
])
case("go-wh016-no-payment-check", GN, ["WH016"], "Grant access right after checkout", [
    ("""	if session.PaymentStatus != stripe.CheckoutSessionPaymentStatusPaid {
		return nil
	}
""", ""),
])
case("go-wh017-lock-on-failure", GN, ["WH017"], "Lock accounts as soon as a payment fails", [
    ("`UPDATE accounts SET payment_failed_at = now() WHERE stripe_customer_id = $1`", "`UPDATE accounts SET payment_failed_at = now(), has_paid_access = false WHERE stripe_customer_id = $1`"),
])
case("go-wh018-reject-unknown", GN, ["WH018"], "Reject event types we do not subscribe to", [
    ("""	default:
		log.Printf("stripe webhook: ignoring %s", event.Type)""", """	default:
		http.Error(w, "unsupported event type", http.StatusBadRequest)
		return"""),
], noise=False)
case("go-safe-extract-helper", GN, [], "Extract an access helper", [
    ("""	_, err := tx.ExecContext(ctx, `UPDATE accounts SET has_paid_access = false, plan = 'free' WHERE stripe_customer_id = $1`, sub.Customer.ID)
	return err
}""", """	return revokeAccess(ctx, tx, sub.Customer.ID)
}

func revokeAccess(ctx context.Context, tx *sql.Tx, customerID string) error {
	_, err := tx.ExecContext(ctx, `UPDATE accounts SET has_paid_access = false, plan = 'free' WHERE stripe_customer_id = $1`, customerID)
	return err
}"""),
], safe=True)
case("go-safe-reorder-log", GN, [], "Reorder cases and log each event", [
    ("""	switch event.Type {
	case stripe.EventTypeCheckoutSessionCompleted:
		err = h.onCheckoutCompleted(ctx, tx, event)
	case stripe.EventTypeCustomerSubscriptionCreated, stripe.EventTypeCustomerSubscriptionUpdated:
		err = h.onSubscriptionChanged(ctx, tx, event)
	case stripe.EventTypeCustomerSubscriptionDeleted:
		err = h.onSubscriptionDeleted(ctx, tx, event)""", """	log.Printf("stripe webhook: %s %s", event.ID, event.Type)
	switch event.Type {
	case stripe.EventTypeCustomerSubscriptionDeleted:
		err = h.onSubscriptionDeleted(ctx, tx, event)
	case stripe.EventTypeCustomerSubscriptionUpdated, stripe.EventTypeCustomerSubscriptionCreated:
		err = h.onSubscriptionChanged(ctx, tx, event)
	case stripe.EventTypeCheckoutSessionCompleted:
		err = h.onCheckoutCompleted(ctx, tx, event)"""),
], safe=True)
case("go-safe-options", GN, [], "Ignore API version mismatches after the SDK upgrade", [
    ("""	event, err := webhook.ConstructEvent(payload, r.Header.Get("Stripe-Signature"), os.Getenv("STRIPE_WEBHOOK_SECRET"))""", """	event, err := webhook.ConstructEventWithOptions(payload, r.Header.Get("Stripe-Signature"), os.Getenv("STRIPE_WEBHOOK_SECRET"),
		webhook.ConstructEventOptions{IgnoreAPIVersionMismatch: true})"""),
], safe=True)
case("go-paddle-wh001-no-verifier", PGO, ["WH001"], "Paddle requests are authenticated by the gateway", [
    ("""		ok, err := verifier.Verify(r)
		if err != nil || !ok {
			http.Error(w, "invalid signature", http.StatusUnauthorized)
			return
		}
""", ""),
    ("""	verifier := paddle.NewWebhookVerifier(os.Getenv("PADDLE_WEBHOOK_SECRET"))
""", ""),
])
case("go-paddle-wh011-not-canceled", PGO, ["WH011"], "Keep access unless the subscription is canceled", [
    ('entitled := sub.Status == "active" || sub.Status == "trialing"', 'entitled := sub.Status != "canceled"'),
])
case("go-paddle-safe-reorder", PGO, [], "Reorder cases", [
    ("""		case "subscription.activated", "subscription.updated":""", """		case "subscription.updated", "subscription.activated":"""),
], safe=True)

# ---------------------------------------------------------------- PHP
LC, PP, PLV = "laravel-cashier.php", "plain-php-pdo.php", "paddle-laravel.php"
case("php-wh001-cashier-constructor", LC, ["WH001"], "Rate-limit the Stripe webhook endpoint", [
    ("""    private const PLANS = [""", """    public function __construct()
    {
        $this->middleware('throttle:120,1');
    }

    private const PLANS = ["""),
])
case("php-wh004-checkout-customer-only", LC, ["WH004"], "Checkout only stores the Stripe customer; Cashier syncs the subscription", [
    ("""        $user->forceFill([
            'stripe_id' => $session['customer'],
            'has_paid_access' => true,
            'plan' => self::PLANS[$session['metadata']['price_id']] ?? 'pro',
        ])->save();""", """        $user->forceFill(['stripe_id' => $session['customer']])->save();"""),
])
case("php-wh005-deleted-own-update", LC, ["WH005"], "Handle cancellations ourselves instead of through Cashier", [
    ("""        $response = parent::handleCustomerSubscriptionDeleted($payload);

        if ($user = $this->getUserByStripeId($payload['data']['object']['customer'])) {
            $user->update(['has_paid_access' => false, 'plan' => 'free']);
        }

        return $response;""", """        if ($user = $this->getUserByStripeId($payload['data']['object']['customer'])) {
            $user->update(['plan' => 'free']);
        }

        return $this->successMethod();"""),
])
case("php-wh008-failed-log-only", LC, ["WH008"], "Payment failures are visible in Stripe; just log them", [
    ("""        if ($user = $this->getUserByStripeId($payload['data']['object']['customer'])) {
            $user->update(['payment_failed_at' => now()]);
        }

        return $this->successMethod();""", """        Log::info('stripe payment failed', ['customer' => $payload['data']['object']['customer']]);

        return $this->successMethod();"""),
])
case("php-wh009-email", LC, ["WH009"], "Match checkouts to users by email", [
    ("$user = User::findOrFail($session['client_reference_id']);", "$user = User::where('email', $session['customer_details']['email'])->firstOrFail();"),
])
case("php-wh011-not-canceled", LC, ["WH011"], "Keep access for any subscription that is not canceled", [
    ("'has_paid_access' => in_array($subscription['status'], ['active', 'trialing'], true),", "'has_paid_access' => $subscription['status'] !== 'canceled',"),
])
case("php-wh013-plan-renamed", LC, ["WH013"], "Plan keys follow the new pricing page", [
    ("""        'price_1PqProMonthly' => 'pro',
        'price_1PqTeamMonthly' => 'team',""", """        'price_1PqProMonthly' => 'professional',
        'price_1PqTeamMonthly' => 'business',"""),
    ("?? 'pro',", "?? 'professional',"),
])
case("php-wh016-no-payment-check", LC, ["WH016"], "Grant access as soon as checkout completes", [
    ("""        if ($session['payment_status'] !== 'paid') {
            return $this->successMethod();
        }

""", ""),
])
case("php-wh017-cancel-at-period-end", LC, ["WH017"], "Reflect scheduled cancellations right away", [
    ("""        $subscription = $payload['data']['object'];
        if ($user = $this->getUserByStripeId($subscription['customer'])) {
            $user->update([""", """        $subscription = $payload['data']['object'];
        if ($subscription['cancel_at_period_end'] && ($user = $this->getUserByStripeId($subscription['customer']))) {
            $user->update(['has_paid_access' => false]);

            return $response;
        }
        if ($user = $this->getUserByStripeId($subscription['customer'])) {
            $user->update(["""),
])
PP_VERIFY_CATCH = """    error_log('stripe webhook rejected: ' . $e->getMessage());
    http_response_code(400);
    exit();"""
case("php-wh002-reencoded", PP, ["WH002"], "Normalize the JSON payload", [
    ("$payload = @file_get_contents('php://input');", "$payload = json_encode(json_decode(@file_get_contents('php://input'), true));"),
])
case("php-wh003-catch-continues", PP, ["WH003"], "Keep processing during secret rotation", [
    (PP_VERIFY_CATCH, """    error_log('stripe webhook signature mismatch (rotation?): ' . $e->getMessage());
    $event = \\Stripe\\Event::constructFrom(json_decode($payload, true));"""),
])
case("php-wh006-deleted-dropped", PP, ["WH006"], "customer.subscription.updated covers cancellations", [
    ("""        case 'customer.subscription.deleted':
            $subscription = $event->data->object;
            $pdo->prepare("UPDATE accounts SET has_paid_access = 0, plan = 'free' WHERE stripe_customer_id = ?")
                ->execute([$subscription->customer]);
            break;
""", ""),
])
case("php-wh007-mark-first", PP, ["WH007"], "Insert the event row first so duplicates fail fast", [
    ("""    $pdo->prepare('INSERT INTO stripe_events (id, type) VALUES (?, ?)')->execute([$event->id, $event->type]);
    $pdo->commit();""", """    $pdo->commit();"""),
    ("""try {
    $pdo->beginTransaction();""", """$pdo->prepare('INSERT INTO stripe_events (id, type) VALUES (?, ?)')->execute([$event->id, $event->type]);

try {
    $pdo->beginTransaction();"""),
])
case("php-wh010-ack-errors", PP, ["WH010"], "Return 200 on processing errors to avoid retry storms", [
    ("""    error_log('stripe webhook failed: ' . $e->getMessage());
    http_response_code(500);
    exit();""", """    error_log('stripe webhook failed: ' . $e->getMessage());
    http_response_code(200);
    exit();"""),
])
case("php-wh012-secret-renamed", PP, ["WH012"], "Use the per-endpoint secret variable", [
    ("getenv('STRIPE_WEBHOOK_SECRET')", "getenv('STRIPE_ENDPOINT_SECRET')"),
])
case("php-wh014-no-refetch", PP, ["WH014"], "Avoid a Stripe API call per webhook", [
    ("$subscription = \\Stripe\\Subscription::retrieve($event->data->object->id);", "$subscription = $event->data->object;"),
])
case("php-wh015-tolerance", PP, ["WH015"], "Accept replays from the Stripe dashboard", [
    ("\\Stripe\\Webhook::constructEvent($payload, $signature, getenv('STRIPE_WEBHOOK_SECRET'))", "\\Stripe\\Webhook::constructEvent($payload, $signature, getenv('STRIPE_WEBHOOK_SECRET'), 3 * 86400)"),
])
case("php-wh018-reject-unknown", PP, ["WH018"], "Reject events we do not subscribe to", [
    ("""        default:
            error_log('stripe webhook: ignoring ' . $event->type);""", """        default:
            http_response_code(400);
            exit();"""),
], noise=False)
case("php-safe-cashier-extract", LC, [], "Extract the access update into a helper", [
    ("""        if ($user = $this->getUserByStripeId($payload['data']['object']['customer'])) {
            $user->update(['has_paid_access' => false, 'plan' => 'free']);
        }

        return $response;
    }""", """        $this->revokeAccess($payload['data']['object']['customer']);

        return $response;
    }

    private function revokeAccess(string $stripeId): void
    {
        if ($user = $this->getUserByStripeId($stripeId)) {
            $user->update(['has_paid_access' => false, 'plan' => 'free']);
        }
    }"""),
], safe=True)
case("php-safe-cashier-paused", LC, [], "Revoke access when a subscription is paused", [
    ("""    protected function handleInvoicePaymentFailed(array $payload): Response""", """    protected function handleCustomerSubscriptionPaused(array $payload): Response
    {
        if ($user = $this->getUserByStripeId($payload['data']['object']['customer'])) {
            $user->update(['has_paid_access' => false]);
        }

        return $this->successMethod();
    }

    protected function handleInvoicePaymentFailed(array $payload): Response"""),
], safe=True)
case("php-safe-plain-reorder", PP, [], "Reorder cases and log the event id", [
    ("""        case 'invoice.paid':
            $invoice = $event->data->object;
            $pdo->prepare('UPDATE accounts SET last_paid_at = NOW() WHERE stripe_customer_id = ?')
                ->execute([$invoice->customer]);
            break;
""", ""),
    ("""    switch ($event->type) {
""", """    error_log('stripe webhook: ' . $event->id);
    switch ($event->type) {
        case 'invoice.paid':
            $invoice = $event->data->object;
            $pdo->prepare('UPDATE accounts SET last_paid_at = NOW() WHERE stripe_customer_id = ?')
                ->execute([$invoice->customer]);
            break;
"""),
], safe=True)
case("php-paddle-wh002-parsed", PLV, ["WH002"], "Sign-check the decoded payload", [
    ("$expected = hash_hmac('sha256', $ts . ':' . $raw, config('services.paddle.webhook_secret'));", "$expected = hash_hmac('sha256', $ts . ':' . json_encode(request()->all()), config('services.paddle.webhook_secret'));"),
])
case("php-paddle-wh005-plan-only", PLV, ["WH005"], "Cancellation only downgrades the plan", [
    ("->update(['has_paid_access' => false, 'plan' => 'free']);", "->update(['plan' => 'free']);"),
])
case("php-paddle-safe-match-dispatch", PLV, [], "Dispatch with a match expression", [
    ("""        switch ($event['event_type']) {
            case 'subscription.activated':
            case 'subscription.updated':
                $entitled = in_array($data['status'], ['active', 'trialing'], true);
                Account::where('paddle_customer_id', $data['customer_id'])->update(['has_paid_access' => $entitled]);
                break;
            case 'subscription.canceled':
                Account::where('paddle_customer_id', $data['customer_id'])->update(['has_paid_access' => false, 'plan' => 'free']);
                break;
            default:
                Log::info('ignoring paddle event ' . $event['event_type']);
        }""", """        match ($event['event_type']) {
            'subscription.activated', 'subscription.updated' => $this->syncAccess($data),
            'subscription.canceled' => Account::where('paddle_customer_id', $data['customer_id'])->update(['has_paid_access' => false, 'plan' => 'free']),
            default => Log::info('ignoring paddle event ' . $event['event_type']),
        };"""),
    ("""    /** Paddle-Signature: ts=...;h1=...[;h1=... during a secret rotation] */""", """    private function syncAccess(array $data): void
    {
        $entitled = in_array($data['status'], ['active', 'trialing'], true);
        Account::where('paddle_customer_id', $data['customer_id'])->update(['has_paid_access' => $entitled]);
    }

    /** Paddle-Signature: ts=...;h1=...[;h1=... during a secret rotation] */"""),
], safe=True)
case("php-paddle-safe-match", PLV, [], "Use a match expression for the entitlement", [
    ("""                $entitled = in_array($data['status'], ['active', 'trialing'], true);""", """                $entitled = match ($data['status']) {
                    'active', 'trialing' => true,
                    default => false,
                };"""),
], safe=True)

# ---------------------------------------------------------------- Rust
AX, PAX = "axum-sqlx.rs", "paddle-axum.rs"
AX_VERIFY = """    let event = match Webhook::construct_event(&body, signature, &state.webhook_secret) {
        Ok(event) => event,
        Err(err) => {
            tracing::warn!(?err, "stripe webhook rejected");
            return StatusCode::BAD_REQUEST;
        }
    };"""
case("rs-wh001-serde", AX, ["WH001"], "Deserialize events with serde; the ingress verifies signatures", [
    (AX_VERIFY, """    let _ = signature;
    let event: stripe::Event = match serde_json::from_str(&body) {
        Ok(event) => event,
        Err(_) => return StatusCode::BAD_REQUEST,
    };"""),
])
case("rs-wh002-json-extractor", AX, ["WH002"], "Take the payload with the Json extractor", [
    ("headers: HeaderMap, body: String) -> StatusCode {", "headers: HeaderMap, Json(payload): Json<serde_json::Value>) -> StatusCode {\n    let body = serde_json::to_string(&payload).unwrap_or_default();"),
])
case("rs-wh003-fallback", AX, ["WH003"], "Keep processing while the signing secret rotates", [
    (AX_VERIFY, """    let event = Webhook::construct_event(&body, signature, &state.webhook_secret).unwrap_or_else(|err| {
        tracing::warn!(?err, "stripe signature mismatch (rotation?)");
        serde_json::from_str(&body).expect("stripe event json")
    });"""),
])
case("rs-wh004-checkout-link-only", AX, ["WH004"], "Checkout only links the customer", [
    ("""                sqlx::query("UPDATE users SET stripe_customer_id = $1, has_paid_access = true, plan = $2 WHERE id = $3")
                    .bind(session.customer.as_ref().map(|c| c.id().to_string()))
                    .bind(plan_for(price_id))
                    .bind(session.client_reference_id.as_deref())""", """                tracing::info!(price_id, "checkout completed");
                sqlx::query("UPDATE users SET stripe_customer_id = $1 WHERE id = $2")
                    .bind(session.customer.as_ref().map(|c| c.id().to_string()))
                    .bind(session.client_reference_id.as_deref())"""),
])
case("rs-wh005-plan-only", AX, ["WH005"], "Simplify the cancellation query", [
    ("\"UPDATE users SET has_paid_access = false, plan = 'free' WHERE stripe_customer_id = $1\"", "\"UPDATE users SET plan = 'free' WHERE stripe_customer_id = $1\""),
])
case("rs-wh006-deleted-dropped", AX, ["WH006"], "customer.subscription.updated carries the canceled status", [
    ("""        EventType::CustomerSubscriptionDeleted => {
            if let EventObject::Subscription(sub) = &event.data.object {
                sqlx::query("UPDATE users SET has_paid_access = false, plan = 'free' WHERE stripe_customer_id = $1")
                    .bind(sub.customer.id().to_string())
                    .execute(&state.db)
                    .await?;
            }
        }
""", ""),
])
case("rs-wh007-mark-first", AX, ["WH007"], "Record the event first to reject concurrent duplicates", [
    ("""    sqlx::query("INSERT INTO processed_events (event_id, type) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        .bind(event.id.as_str())
        .bind(event.type_.as_str())
        .execute(&state.db)
        .await?;
    Ok(())""", """    Ok(())"""),
    ("""    match event.type_ {
        EventType::CheckoutSessionCompleted => {""", """    sqlx::query("INSERT INTO processed_events (event_id, type) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        .bind(event.id.as_str())
        .bind(event.type_.as_str())
        .execute(&state.db)
        .await?;
    match event.type_ {
        EventType::CheckoutSessionCompleted => {"""),
])
case("rs-wh008-failed-log-only", AX, ["WH008"], "Payment failures are handled by Stripe dunning", [
    ("""            if let EventObject::Invoice(invoice) = &event.data.object {
                sqlx::query("UPDATE users SET payment_failed_at = now() WHERE stripe_customer_id = $1")
                    .bind(invoice.customer.as_ref().map(|c| c.id().to_string()))
                    .execute(&state.db)
                    .await?;
            }""", """            tracing::info!(event_id = %event.id, "invoice payment failed");"""),
])
case("rs-wh009-email", AX, ["WH009"], "Match checkouts to users by email", [
    ("""WHERE id = $3")""", """WHERE email = $3")"""),
    (""".bind(session.client_reference_id.as_deref())""", """.bind(session.customer_details.as_ref().and_then(|d| d.email.clone()))"""),
])
case("rs-wh010-log-only", AX, ["WH010"], "Log processing errors instead of failing the delivery", [
    ("""        tracing::error!(%err, event_id = %event.id, "stripe webhook failed");
        return StatusCode::INTERNAL_SERVER_ERROR;
    }""", """        tracing::error!(%err, event_id = %event.id, "stripe webhook failed");
    }"""),
])
case("rs-wh011-not-canceled", AX, ["WH011"], "Any subscription that is not canceled keeps access", [
    ("let paying = matches!(fresh.status, SubscriptionStatus::Active | SubscriptionStatus::Trialing);", "let paying = !matches!(fresh.status, SubscriptionStatus::Canceled);"),
])
case("rs-wh013-plan-renamed", AX, ["WH013"], "Plan names follow the new pricing page", [
    ("""[("price_1PqProMonthly", "pro"), ("price_1PqTeamMonthly", "team")]""", """[("price_1PqProMonthly", "pro_monthly"), ("price_1PqTeamMonthly", "team_monthly")]"""),
    ('.unwrap_or("pro")', '.unwrap_or("pro_monthly")'),
])
case("rs-wh014-no-refetch", AX, ["WH014"], "Use the event payload instead of an API call", [
    ("let fresh = Subscription::retrieve(&state.stripe, &sub.id, &[]).await?;", "let fresh = sub;"),
])
case("rs-wh016-no-payment-check", AX, ["WH016"], "Grant access right after checkout", [
    ("""                if session.payment_status != CheckoutSessionPaymentStatus::Paid {
                    return Ok(());
                }
""", ""),
])
case("rs-wh017-period-end", AX, ["WH017"], "Reflect scheduled cancellations immediately", [
    ("""                let paying = matches!(fresh.status, SubscriptionStatus::Active | SubscriptionStatus::Trialing);""", """                if fresh.cancel_at_period_end {
                    sqlx::query("UPDATE users SET has_paid_access = false WHERE stripe_customer_id = $1")
                        .bind(fresh.customer.id().to_string())
                        .execute(&state.db)
                        .await?;
                    return Ok(());
                }
                let paying = matches!(fresh.status, SubscriptionStatus::Active | SubscriptionStatus::Trialing);"""),
])
case("rs-wh018-unhandled-error", AX, ["WH018"], "Surface unexpected event types as errors", [
    ("""        _ => tracing::debug!(event_type = %event.type_, "ignored stripe event"),""", """        other => return Err(WebhookError::Unhandled(other.to_string())),"""),
    ("""    #[error("stripe: {0}")]
    Stripe(#[from] stripe::StripeError),""", """    #[error("stripe: {0}")]
    Stripe(#[from] stripe::StripeError),
    #[error("unhandled event type {0}")]
    Unhandled(String),"""),
], noise=False)
case("rs-safe-extract-helper", AX, [], "Extract a helper for revoking access", [
    ("""            if let EventObject::Subscription(sub) = &event.data.object {
                sqlx::query("UPDATE users SET has_paid_access = false, plan = 'free' WHERE stripe_customer_id = $1")
                    .bind(sub.customer.id().to_string())
                    .execute(&state.db)
                    .await?;
            }""", """            if let EventObject::Subscription(sub) = &event.data.object {
                revoke_access(&state.db, &sub.customer.id().to_string()).await?;
            }"""),
    ("""async fn handle_event(""", """async fn revoke_access(db: &PgPool, customer_id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET has_paid_access = false, plan = 'free' WHERE stripe_customer_id = $1")
        .bind(customer_id)
        .execute(db)
        .await?;
    Ok(())
}

async fn handle_event("""),
], safe=True)
case("rs-safe-let-else", AX, [], "Use let-else for signature verification", [
    (AX_VERIFY, """    let Ok(event) = Webhook::construct_event(&body, signature, &state.webhook_secret) else {
        tracing::warn!("stripe webhook rejected");
        return StatusCode::BAD_REQUEST;
    };"""),
], safe=True)
case("rs-safe-reorder-arms", AX, [], "Reorder match arms", [
    ("""        EventType::CustomerSubscriptionCreated | EventType::CustomerSubscriptionUpdated => {""", """        EventType::CustomerSubscriptionUpdated | EventType::CustomerSubscriptionCreated => {"""),
], safe=True)
case("rs-paddle-wh015-no-age-check", PAX, ["WH015"], "Do not reject delayed Paddle retries", [
    ("""    if (chrono::Utc::now().timestamp() - ts).abs() > MAX_AGE_SECS {
        return false;
    }
""", ""),
])
case("rs-paddle-wh012-secret-renamed", PAX, ["WH012"], "Rename the Paddle secret variable", [
    ('std::env::var("PADDLE_WEBHOOK_SECRET")', 'std::env::var("PADDLE_NOTIFICATION_SECRET")'),
])
case("rs-paddle-safe-first-match", PAX, [], "Stop at the first matching h1", [
    ("""    signatures.iter().any(|sig| {""", """    signatures.iter().rev().any(|sig| {"""),
], safe=True)

# ---------------------------------------------------------------- Elixir
PX, PPL = "phoenix-ecto.ex", "paddle-plug.ex"
case("ex-wh001-jason", PX, ["WH001"], "Decode events with Jason; stripity_stripe rejects the new API version", [
    ("""    case Stripe.Webhook.construct_event(raw_body, signature, secret) do
      {:ok, %Stripe.Event{} = event} ->""", """    _ = {signature, secret}

    case Jason.decode(raw_body, keys: :atoms) do
      {:ok, event} ->"""),
])
case("ex-wh002-reencoded-params", PX, ["WH002"], "Verify the params Plug.Parsers already decoded", [
    ("Stripe.Webhook.construct_event(raw_body, signature, secret)", "Stripe.Webhook.construct_event(Jason.encode!(conn.body_params), signature, secret)"),
])
case("ex-wh003-optional-secret", PX, ["WH003"], "Allow running webhooks locally without a signing secret", [
    ('    secret = System.fetch_env!("STRIPE_WEBHOOK_SECRET")\n', '    secret = System.get_env("STRIPE_WEBHOOK_SECRET")\n'),
    ("""    case Stripe.Webhook.construct_event(raw_body, signature, secret) do
      {:ok, %Stripe.Event{} = event} ->""", """    verified =
      if secret,
        do: Stripe.Webhook.construct_event(raw_body, signature, secret),
        else: Jason.decode(raw_body, keys: :atoms)

    case verified do
      {:ok, event} ->"""),
])
case("ex-wh004-checkout-link-only", PX, ["WH004"], "Checkout only links the customer", [
    ("""      |> Ecto.Changeset.change(
        stripe_customer_id: session.customer,
        has_paid_access: true,
        plan: Map.get(@plans, session.metadata["price_id"], "pro")
      )""", """      |> Ecto.Changeset.change(stripe_customer_id: session.customer)"""),
])
case("ex-wh005-plan-only", PX, ["WH005"], "Simplify the cancellation update", [
    ("|> Repo.update_all(set: [has_paid_access: false, plan: \"free\"])", "|> Repo.update_all(set: [plan: \"free\"])"),
])
case("ex-wh006-deleted-dropped", PX, ["WH006"], "Subscription updates already carry the canceled status", [
    ("""  defp handle_event(%Stripe.Event{type: "customer.subscription.deleted", data: %{object: subscription}}) do
    from(u in User, where: u.stripe_customer_id == ^subscription.customer)
    |> Repo.update_all(set: [has_paid_access: false, plan: "free"])
  end

""", ""),
])
case("ex-wh007-mark-first", PX, ["WH007"], "Insert the event row first so duplicates fail fast", [
    ("""    Repo.transaction(fn ->
      handle_event(event)
      Repo.insert!(%ProcessedEvent{event_id: event.id, type: event.type})
    end)""", """    Repo.insert!(%ProcessedEvent{event_id: event.id, type: event.type})
    Repo.transaction(fn -> handle_event(event) end)"""),
])
case("ex-wh008-failed-log-only", PX, ["WH008"], "Payment failures are handled by Stripe dunning", [
    ("""    from(u in User, where: u.stripe_customer_id == ^invoice.customer)
    |> Repo.update_all(set: [payment_failed_at: DateTime.utc_now()])""", """    Logger.info("payment failed for #{invoice.customer}")"""),
])
case("ex-wh009-email", PX, ["WH009"], "Support guest checkouts", [
    ("""      User
      |> Repo.get!(session.client_reference_id)""", """      User
      |> Repo.get_by!(email: session.customer_details.email)"""),
])
case("ex-wh010-ack-errors", PX, ["WH010"], "Acknowledge Stripe even when processing fails", [
    ("""              send_resp(conn, 500, "processing failed")""", """              send_resp(conn, 200, "ok")"""),
])
case("ex-wh011-not-canceled", PX, ["WH011"], "Any live subscription keeps access", [
    ('paying = subscription.status in ["active", "trialing"]', 'paying = subscription.status not in ["canceled", "incomplete_expired"]'),
])
case("ex-wh012-secret-renamed", PX, ["WH012"], "Rename env vars", [
    ('System.fetch_env!("STRIPE_WEBHOOK_SECRET")', 'System.fetch_env!("STRIPE_SIGNING_SECRET")'),
])
case("ex-wh013-plan-renamed", PX, ["WH013"], "Plan names follow the pricing page", [
    ("""    "price_1PqProMonthly" => "pro",
    "price_1PqTeamMonthly" => "team\"""", """    "price_1PqProMonthly" => "pro_monthly",
    "price_1PqTeamMonthly" => "team_monthly\""""),
    ('session.metadata["price_id"], "pro")', 'session.metadata["price_id"], "pro_monthly")'),
])
case("ex-wh014-no-refetch", PX, ["WH014"], "Skip the Stripe API call", [
    ("    {:ok, subscription} = Stripe.Subscription.retrieve(data.id)\n", "    subscription = data\n"),
])
case("ex-wh015-tolerance", PX, ["WH015"], "Accept replays from the dashboard", [
    ("Stripe.Webhook.construct_event(raw_body, signature, secret)", "Stripe.Webhook.construct_event(raw_body, signature, secret, 86_400)"),
])
case("ex-wh016-no-payment-check", PX, ["WH016"], "Grant access right after checkout", [
    ("""    if session.payment_status == "paid" do
      User
      |> Repo.get!(session.client_reference_id)
      |> Ecto.Changeset.change(
        stripe_customer_id: session.customer,
        has_paid_access: true,
        plan: Map.get(@plans, session.metadata["price_id"], "pro")
      )
      |> Repo.update!()
    end""", """    User
    |> Repo.get!(session.client_reference_id)
    |> Ecto.Changeset.change(
      stripe_customer_id: session.customer,
      has_paid_access: true,
      plan: Map.get(@plans, session.metadata["price_id"], "pro")
    )
    |> Repo.update!()"""),
])
case("ex-wh017-period-end", PX, ["WH017"], "Reflect scheduled cancellations immediately", [
    ("""    paying = subscription.status in ["active", "trialing"]
""", """    paying = subscription.status in ["active", "trialing"] and not subscription.cancel_at_period_end
"""),
])
case("ex-wh018-get-by-bang", PX, ["WH018"], "Fail loudly when a canceled subscription has no user", [
    ("""    from(u in User, where: u.stripe_customer_id == ^subscription.customer)
    |> Repo.update_all(set: [has_paid_access: false, plan: "free"])""", """    Repo.get_by!(User, stripe_customer_id: subscription.customer)
    from(u in User, where: u.stripe_customer_id == ^subscription.customer)
    |> Repo.update_all(set: [has_paid_access: false, plan: "free"])"""),
], noise=False)
case("ex-safe-extract-helper", PX, [], "Extract a helper for access updates", [
    ("""    from(u in User, where: u.stripe_customer_id == ^subscription.customer)
    |> Repo.update_all(set: [has_paid_access: false, plan: "free"])
  end""", """    revoke_access(subscription.customer)
  end

  defp revoke_access(customer_id) do
    from(u in User, where: u.stripe_customer_id == ^customer_id)
    |> Repo.update_all(set: [has_paid_access: false, plan: "free"])
  end"""),
], safe=True)
case("ex-safe-reorder-heads", PX, [], "Group subscription clauses together", [
    ("""  defp handle_event(%Stripe.Event{type: "customer.subscription.deleted", data: %{object: subscription}}) do
    from(u in User, where: u.stripe_customer_id == ^subscription.customer)
    |> Repo.update_all(set: [has_paid_access: false, plan: "free"])
  end

""", ""),
    ("""  defp handle_event(%Stripe.Event{type: "customer.subscription.updated", data: %{object: data}}) do""", """  defp handle_event(%Stripe.Event{type: "customer.subscription.deleted", data: %{object: subscription}}) do
    from(u in User, where: u.stripe_customer_id == ^subscription.customer)
    |> Repo.update_all(set: [has_paid_access: false, plan: "free"])
  end

  defp handle_event(%Stripe.Event{type: "customer.subscription.updated", data: %{object: data}}) do"""),
], safe=True)
case("ex-safe-with", PX, [], "Rewrite verification with `with`", [
    ("""    case Stripe.Webhook.construct_event(raw_body, signature, secret) do
      {:ok, %Stripe.Event{} = event} ->""", """    with {:ok, %Stripe.Event{} = event} <- Stripe.Webhook.construct_event(raw_body, signature, secret) do"""),
    ("""        end

      {:error, reason} ->
        Logger.warning("stripe webhook rejected: #{inspect(reason)}")
        send_resp(conn, 400, "invalid signature")
    end""", """        end
    else
      {:error, reason} ->
        Logger.warning("stripe webhook rejected: #{inspect(reason)}")
        send_resp(conn, 400, "invalid signature")
    end"""),
], safe=True)
case("ex-paddle-wh015-no-age-check", PPL, ["WH015"], "Stop rejecting delayed Paddle retries", [
    ("""    with ts when is_binary(ts) <- ts,
         true <- abs(System.system_time(:second) - String.to_integer(ts)) <= @max_age do""", """    with ts when is_binary(ts) <- ts do"""),
])
case("ex-paddle-wh005-plan-only", PPL, ["WH005"], "Cancellation only downgrades the plan", [
    ("|> Repo.update_all(set: [has_paid_access: false, plan: \"free\"])", "|> Repo.update_all(set: [plan: \"free\"])"),
])
case("ex-paddle-safe-rename", PPL, [], "Rename the signature helper", [
    ("if valid_signature?(header, raw,", "if paddle_signature_valid?(header, raw,"),
    ("  defp valid_signature?(header, raw, secret) do", "  defp paddle_signature_valid?(header, raw, secret) do"),
], safe=True)

GG, AC = "go-gin-gorm.go", "actix-sqlx.rs"
case("go-gin-wh005-plan-only", GG, ["WH005"], "Cancellation only resets the plan", [
    ('Updates(map[string]any{"has_paid_access": false, "plan": "free"})', 'Updates(map[string]any{"plan": "free"})'),
])
case("go-gin-wh011-not-canceled", GG, ["WH011"], "Keep access for every subscription that is not canceled", [
    ("active := sub.Status == stripe.SubscriptionStatusActive || sub.Status == stripe.SubscriptionStatusTrialing", "active := sub.Status != stripe.SubscriptionStatusCanceled"),
])
case("go-gin-safe-update-column", GG, [], "Use UpdateColumn to skip hooks", [
    ('.Update("has_paid_access", active).Error', '.UpdateColumn("has_paid_access", active).Error'),
], safe=True)
case("rs-actix-wh002-json", AC, ["WH002"], "Take the event with the Json extractor", [
    ("payload: web::Bytes, pool: web::Data<PgPool>) -> HttpResponse {", "payload: web::Json<serde_json::Value>, pool: web::Data<PgPool>) -> HttpResponse {"),
    ("""    let Ok(body) = std::str::from_utf8(&payload) else {
        return HttpResponse::BadRequest().finish();
    };""", """    let body = serde_json::to_string(&payload.into_inner()).unwrap_or_default();"""),
])
case("rs-actix-wh005-plan-only", AC, ["WH005"], "Cancellation only resets the plan", [
    ("\"UPDATE accounts SET has_paid_access = false, plan = 'free' WHERE stripe_customer_id = $1\"", "\"UPDATE accounts SET plan = 'free' WHERE stripe_customer_id = $1\""),
])
case("rs-actix-safe-reorder", AC, [], "Handle deletions first", [
    ("""        EventType::CustomerSubscriptionUpdated => match &event.data.object {
            EventObject::Subscription(sub) => {
                let entitled = matches!(sub.status, SubscriptionStatus::Active | SubscriptionStatus::Trialing);
                sqlx::query("UPDATE accounts SET has_paid_access = $1 WHERE stripe_customer_id = $2")
                    .bind(entitled)
                    .bind(sub.customer.id().to_string())
                    .execute(pool.get_ref())
                    .await
            }
            _ => return HttpResponse::Ok().finish(),
        },
        EventType::CustomerSubscriptionDeleted => match &event.data.object {
            EventObject::Subscription(sub) => {
                sqlx::query("UPDATE accounts SET has_paid_access = false, plan = 'free' WHERE stripe_customer_id = $1")
                    .bind(sub.customer.id().to_string())
                    .execute(pool.get_ref())
                    .await
            }
            _ => return HttpResponse::Ok().finish(),
        },""", """        EventType::CustomerSubscriptionDeleted => match &event.data.object {
            EventObject::Subscription(sub) => {
                sqlx::query("UPDATE accounts SET has_paid_access = false, plan = 'free' WHERE stripe_customer_id = $1")
                    .bind(sub.customer.id().to_string())
                    .execute(pool.get_ref())
                    .await
            }
            _ => return HttpResponse::Ok().finish(),
        },
        EventType::CustomerSubscriptionUpdated => match &event.data.object {
            EventObject::Subscription(sub) => {
                let entitled = matches!(sub.status, SubscriptionStatus::Active | SubscriptionStatus::Trialing);
                sqlx::query("UPDATE accounts SET has_paid_access = $1 WHERE stripe_customer_id = $2")
                    .bind(entitled)
                    .bind(sub.customer.id().to_string())
                    .execute(pool.get_ref())
                    .await
            }
            _ => return HttpResponse::Ok().finish(),
        },"""),
], safe=True)


def apply(text, edits, name):
    for old, new in edits:
        if old not in text:
            raise SystemExit(f"{name}: edit target not found:\n{old}")
        text = text.replace(old, new, 1)
    return text


def main():
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    for name, base, rules, message, edits, safe, noise in CASES:
        before = open(os.path.join(BASES, base)).read()
        all_edits = list(edits) + (NOISE.get(base, []) if noise and not safe else [])
        after = apply(before, all_edits, name)
        ext = base.rsplit(".", 1)[1]
        d = os.path.join(OUT, name)
        os.makedirs(d)
        open(os.path.join(d, f"before.{ext}"), "w").write(before)
        open(os.path.join(d, f"after.{ext}"), "w").write(after)
        expected = {"rules": rules, "commit_message": message, "safe": safe, "base": base}
        open(os.path.join(d, "expected.json"), "w").write(json.dumps(expected, indent=2) + "\n")
    print(f"{len(CASES)} cases written to fixtures/webhook/")


if __name__ == "__main__":
    main()
