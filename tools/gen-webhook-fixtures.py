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
