//! What a handler's helpers decide: a verifying helper its caller may skip, a
//! status predicate of another file that gates the access flag, an ORM write
//! spelled the Objection way, a promise the route no longer awaits, and an
//! alert-name handler map. Each shape has a regression and a quiet twin.

#[path = "support/git.rs"]
mod git_support;
use git_support::{committed_repo, high_rules, review, write};

// ---------------------------------------------------------------------------
// A Paddle Classic controller (Express) that verifies in a local helper.

const PADDLE_CONTROLLER: &str = r#"import crypto from 'crypto';
import { serialize } from 'php-serialize';
import Billing from '../../helpers/billing.js';
import appConfig from '../../config/app.js';

export default async (request, response) => {
  if (!verifyWebhook(request)) {
    return response.sendStatus(401);
  }

  if (request.body.alert_name === 'subscription_created') {
    await Billing.handleSubscriptionCreated(request);
  } else if (request.body.alert_name === 'subscription_cancelled') {
    await Billing.handleSubscriptionCancelled(request);
  }

  return response.sendStatus(200);
};

const verifyWebhook = (request) => {
  const signature = request.body.p_signature;
  const keys = Object.keys(request.body).filter((key) => key !== 'p_signature').sort();
  const sorted = {};
  keys.forEach((key) => {
    sorted[key] = request.body[key];
  });
  const verifier = crypto.createVerify('sha1');
  verifier.write(serialize(sorted));
  verifier.end();
  return verifier.verify(appConfig.paddlePublicKey, signature, 'base64');
};
"#;

const PADDLE_BILLING: &str = r#"import Subscription from '../models/subscription.js';

const handleSubscriptionCreated = async (request) => {
  await Subscription.query().insertAndFetch({ paddleSubscriptionId: request.body.subscription_id, status: request.body.status });
};

const handleSubscriptionCancelled = async (request) => {
  const subscription = await Subscription.query().findOne({ paddle_subscription_id: request.body.subscription_id });
  await subscription.$query().patchAndFetch({ status: request.body.status, cancelledAt: request.body.cancellation_effective_date });
};

export default { handleSubscriptionCreated, handleSubscriptionCancelled };
"#;

const CONTROLLER_PATH: &str = "src/controllers/paddle/webhooks.js";
const BILLING_PATH: &str = "src/helpers/billing.js";

fn paddle_repo() -> tempfile::TempDir {
    committed_repo(&[
        (CONTROLLER_PATH, PADDLE_CONTROLLER),
        (BILLING_PATH, PADDLE_BILLING),
        ("src/models/subscription.js", "export default class Subscription {}\n"),
        ("src/config/app.js", "export default { paddlePublicKey: process.env.PADDLE_PUBLIC_KEY };\n"),
    ])
}

#[test]
fn verification_skipped_when_the_public_key_is_unset_lets_forged_alerts_through() {
    let dir = paddle_repo();
    write(
        dir.path(),
        CONTROLLER_PATH,
        &PADDLE_CONTROLLER.replace(
            "  if (!verifyWebhook(request)) {",
            "  if (!appConfig.paddlePublicKey) {\n    console.warn('PADDLE_PUBLIC_KEY unset, skipping verification');\n  } else if (!verifyWebhook(request)) {",
        ),
    );
    let v = review(dir.path());
    assert!(high_rules(&v).contains(&"WH003".to_string()), "{v:#}");
}

#[test]
fn an_unset_public_key_that_stops_the_request_is_quiet() {
    let dir = paddle_repo();
    write(
        dir.path(),
        CONTROLLER_PATH,
        &PADDLE_CONTROLLER.replace(
            "  if (!verifyWebhook(request)) {",
            "  if (!appConfig.paddlePublicKey) {\n    return response.sendStatus(500);\n  } else if (!verifyWebhook(request)) {",
        ),
    );
    let v = review(dir.path());
    assert_eq!(high_rules(&v), Vec::<String>::new(), "{v:#}");
}

#[test]
fn alerts_processed_in_a_promise_after_the_answer_are_acknowledged_before_persisted() {
    let dir = paddle_repo();
    let changed = PADDLE_CONTROLLER
        .replace(
            "  if (request.body.alert_name === 'subscription_created') {",
            "  response.sendStatus(200);\n  processAlert(request).catch((error) => console.error(error));\n};\n\nconst processAlert = async (request) => {\n  if (request.body.alert_name === 'subscription_created') {",
        )
        .replace("  }\n\n  return response.sendStatus(200);\n};", "  }\n};");
    write(dir.path(), CONTROLLER_PATH, &changed);
    let v = review(dir.path());
    let rules = high_rules(&v);
    assert!(rules.contains(&"WH019".to_string()), "{v:#}");
    // The function the route calls is no second, unverified entry point.
    assert!(!rules.contains(&"WH021".to_string()), "{v:#}");
}

#[test]
fn alerts_processed_in_an_awaited_helper_before_the_answer_are_quiet() {
    let dir = paddle_repo();
    let changed = PADDLE_CONTROLLER
        .replace(
            "  if (request.body.alert_name === 'subscription_created') {",
            "  await processAlert(request);\n  return response.sendStatus(200);\n};\n\nconst processAlert = async (request) => {\n  if (request.body.alert_name === 'subscription_created') {",
        )
        .replace("  }\n\n  return response.sendStatus(200);\n};", "  }\n};");
    write(dir.path(), CONTROLLER_PATH, &changed);
    let v = review(dir.path());
    assert_eq!(high_rules(&v), Vec::<String>::new(), "{v:#}");
}

#[test]
fn an_alert_name_chain_turned_into_a_handler_map_is_quiet() {
    let dir = paddle_repo();
    let changed = PADDLE_CONTROLLER
        .replace(
            "export default async",
            "const alertHandlers = {\n  subscription_created: (request) => Billing.handleSubscriptionCreated(request),\n  subscription_cancelled: (request) => Billing.handleSubscriptionCancelled(request),\n};\n\nexport default async",
        )
        .replace(
            "  if (request.body.alert_name === 'subscription_created') {\n    await Billing.handleSubscriptionCreated(request);\n  } else if (request.body.alert_name === 'subscription_cancelled') {\n    await Billing.handleSubscriptionCancelled(request);\n  }",
            "  const handleAlert = alertHandlers[request.body.alert_name];\n  if (handleAlert) {\n    await handleAlert(request);\n  }",
        );
    write(dir.path(), CONTROLLER_PATH, &changed);
    let v = review(dir.path());
    assert_eq!(high_rules(&v), Vec::<String>::new(), "{v:#}");
}

#[test]
fn a_cancellation_that_no_longer_patches_the_status_stops_revoking() {
    let dir = paddle_repo();
    write(
        dir.path(),
        BILLING_PATH,
        &PADDLE_BILLING.replace("status: request.body.status, cancelledAt: request.body.cancellation_effective_date", "cancelledAt: request.body.cancellation_effective_date"),
    );
    let v = review(dir.path());
    assert!(high_rules(&v).contains(&"WH005".to_string()), "{v:#}");
}

#[test]
fn a_soft_delete_through_patch_and_fetch_replacing_the_row_delete_still_revokes() {
    let with_delete = PADDLE_BILLING.replace(
        "cancelledAt: request.body.cancellation_effective_date });",
        "cancelledAt: request.body.cancellation_effective_date });\n  await subscription.$query().delete();",
    );
    let dir = committed_repo(&[
        (CONTROLLER_PATH, PADDLE_CONTROLLER),
        (BILLING_PATH, with_delete.as_str()),
        ("src/models/subscription.js", "export default class Subscription {}\n"),
        ("src/config/app.js", "export default { paddlePublicKey: process.env.PADDLE_PUBLIC_KEY };\n"),
    ]);
    write(dir.path(), BILLING_PATH, PADDLE_BILLING);
    let v = review(dir.path());
    assert_eq!(high_rules(&v), Vec::<String>::new(), "{v:#}");
}

// ---------------------------------------------------------------------------
// The access flag computed by a status predicate of another file.

const ROUTE: &str = r#"import Stripe from 'stripe';
import { prisma } from './db';
import { isSubscriptionActive } from './utils';

const stripe = new Stripe(process.env.STRIPE_SECRET_KEY!);

export async function POST(request: Request) {
  const body = await request.text();
  let event: Stripe.Event;
  try {
    event = stripe.webhooks.constructEvent(body, request.headers.get('stripe-signature')!, process.env.STRIPE_WEBHOOK_SECRET!);
  } catch (err) {
    return new Response('bad signature', { status: 400 });
  }
  switch (event.type) {
    case 'customer.subscription.updated': {
      const subscription = event.data.object as Stripe.Subscription;
      const isActive = isSubscriptionActive(subscription);
      await prisma.subscription.update({ where: { id: subscription.id }, data: { active: isActive, status: subscription.status } });
      break;
    }
  }
  return new Response('ok');
}
"#;

const UTILS: &str = r#"import type Stripe from 'stripe';

export function isSubscriptionActive(subscription: Stripe.Subscription) {
  return (
    subscription.status === 'active' ||
    subscription.status === 'trialing' ||
    subscription.status === 'past_due'
  );
}
"#;

fn predicate_repo() -> tempfile::TempDir {
    committed_repo(&[
        ("app/api/stripe/webhook/route.ts", ROUTE),
        ("app/api/stripe/webhook/utils.ts", UTILS),
        ("app/api/stripe/webhook/db.ts", "export const prisma: any = {};\n"),
    ])
}

#[test]
fn a_status_predicate_of_another_file_widened_to_unpaid_statuses_widens_access() {
    let dir = predicate_repo();
    write(
        dir.path(),
        "app/api/stripe/webhook/utils.ts",
        "import type Stripe from 'stripe';\n\nconst ACTIVE = ['active', 'trialing', 'past_due', 'unpaid', 'incomplete'];\n\nexport function isSubscriptionActive(subscription: Stripe.Subscription) {\n  return ACTIVE.includes(subscription.status);\n}\n",
    );
    let v = review(dir.path());
    assert!(high_rules(&v).contains(&"WH011".to_string()), "{v:#}");
}

#[test]
fn a_status_predicate_restated_as_a_list_of_the_same_statuses_is_quiet() {
    let dir = predicate_repo();
    write(
        dir.path(),
        "app/api/stripe/webhook/utils.ts",
        "import type Stripe from 'stripe';\n\nconst ACTIVE = ['active', 'trialing', 'past_due'];\n\nexport function isSubscriptionActive(subscription: Stripe.Subscription) {\n  return ACTIVE.includes(subscription.status);\n}\n",
    );
    let v = review(dir.path());
    assert_eq!(high_rules(&v), Vec::<String>::new(), "{v:#}");
}

// ---------------------------------------------------------------------------
// A PHP gateway whose verifying helper the webhook skips when no secret is set.

const GATEWAY: &str = r#"<?php

namespace Extensions\Gateways\Stripe;

use Illuminate\Http\Request;
use App\Helpers\ExtensionHelper;

class Stripe
{
    public function webhook(Request $request)
    {
        if (!$this->isValidSignature($request->getContent(), $request->header('Stripe-Signature'), $this->config('stripe_webhook_secret'))) {
            return response()->json(['error' => 'Invalid signature'], 400);
        }
        $event = json_decode($request->getContent());
        if ($event->type == 'invoice.paid') {
            ExtensionHelper::addPayment($event->data->object->metadata->invoice_id, 'Stripe');
        }
        return response()->json(['success' => true]);
    }

    private function isValidSignature($payload, $header, $secret)
    {
        $parts = explode(',', $header);
        $timestamp = substr($parts[0], 2);
        $signature = substr($parts[1], 3);
        $expected = hash_hmac('sha256', $timestamp . '.' . $payload, $secret);
        return hash_equals($expected, $signature);
    }
}
"#;

const GATEWAY_PATH: &str = "extensions/Gateways/Stripe/Stripe.php";

#[test]
fn a_verifying_helper_called_only_when_a_secret_is_set_is_a_skipped_verification() {
    let dir = committed_repo(&[(GATEWAY_PATH, GATEWAY)]);
    write(
        dir.path(),
        GATEWAY_PATH,
        &GATEWAY.replace(
            "        if (!$this->isValidSignature($request->getContent(), $request->header('Stripe-Signature'), $this->config('stripe_webhook_secret'))) {",
            "        $secret = $this->config('stripe_webhook_secret');\n        if (!empty($secret) && !$this->isValidSignature($request->getContent(), $request->header('Stripe-Signature'), $secret)) {",
        ),
    );
    let v = review(dir.path());
    assert!(high_rules(&v).contains(&"WH003".to_string()), "{v:#}");
}

#[test]
fn a_verifying_helper_whose_caller_rejects_a_missing_secret_is_quiet() {
    let dir = committed_repo(&[(GATEWAY_PATH, GATEWAY)]);
    write(
        dir.path(),
        GATEWAY_PATH,
        &GATEWAY.replace(
            "        if (!$this->isValidSignature($request->getContent(), $request->header('Stripe-Signature'), $this->config('stripe_webhook_secret'))) {",
            "        $secret = $this->config('stripe_webhook_secret');\n        if (empty($secret) || !$this->isValidSignature($request->getContent(), $request->header('Stripe-Signature'), $secret)) {",
        ),
    );
    let v = review(dir.path());
    assert!(!high_rules(&v).contains(&"WH003".to_string()), "{v:#}");
}

// ---------------------------------------------------------------------------
// Statuses named by an enum's constants (`SubscriptionStatus.active`).

const DJANGO_HANDLERS: &str = r#"from djstripe import webhooks
from djstripe.enums import SubscriptionStatus

from .models import Organization


@webhooks.handler("customer.subscription.updated")
def subscription_updated_event(event, **kwargs):
    stripe_subscription = event.data["object"]
    organization = Organization.objects.get(stripe_customer=stripe_subscription["customer"])
    if stripe_subscription.status == SubscriptionStatus.active and organization.disabled:
        organization.disabled = False
        organization.save()
"#;

#[test]
fn an_enum_status_check_widened_to_unpaid_widens_access() {
    let path = "app/subscriptions/event_handlers.py";
    let dir = committed_repo(&[(path, DJANGO_HANDLERS)]);
    write(
        dir.path(),
        path,
        &DJANGO_HANDLERS.replace("stripe_subscription.status == SubscriptionStatus.active", "stripe_subscription.status in (SubscriptionStatus.active, SubscriptionStatus.unpaid)"),
    );
    let v = review(dir.path());
    assert!(high_rules(&v).contains(&"WH011".to_string()), "{v:#}");
}

#[test]
fn an_enum_status_check_widened_to_trialing_is_quiet() {
    let path = "app/subscriptions/event_handlers.py";
    let dir = committed_repo(&[(path, DJANGO_HANDLERS)]);
    write(
        dir.path(),
        path,
        &DJANGO_HANDLERS.replace("stripe_subscription.status == SubscriptionStatus.active", "stripe_subscription.status in (SubscriptionStatus.active, SubscriptionStatus.trialing)"),
    );
    let v = review(dir.path());
    assert!(!high_rules(&v).contains(&"WH011".to_string()), "{v:#}");
}

// ---------------------------------------------------------------------------
// The revoked column dropped from the schema by the same change.

const CUSTOMER_MODEL: &str = r#"from django.db import models


class Customer(models.Model):
    user = models.OneToOneField("auth.User", on_delete=models.CASCADE)
    stripe_subscription_id = models.CharField(max_length=255)
    current_period_end = models.DateTimeField()
    is_active = models.BooleanField(default=True)
"#;

const CUSTOMER_VIEWS: &str = r#"import stripe
from django.http import HttpResponse
from django.utils import timezone

from .models import Customer


def webhook(request):
    event = stripe.Webhook.construct_event(request.body, request.META["HTTP_STRIPE_SIGNATURE"], "whsec")
    subscription = event.data.object
    if event.type == "customer.subscription.deleted":
        customer = Customer.objects.get(stripe_subscription_id=subscription.id)
        customer.is_active = False
        customer.save()
    return HttpResponse()
"#;

fn dropped_column(deleted_branch: &str) -> tempfile::TempDir {
    let dir = committed_repo(&[("subscription/models.py", CUSTOMER_MODEL), ("subscription/views.py", CUSTOMER_VIEWS)]);
    write(dir.path(), "subscription/models.py", &CUSTOMER_MODEL.replace("    is_active = models.BooleanField(default=True)\n", "    cancel_at_period_end = models.BooleanField(default=False)\n"));
    write(dir.path(), "subscription/views.py", &CUSTOMER_VIEWS.replace("        customer.is_active = False\n", deleted_branch));
    dir
}

#[test]
fn an_ending_event_whose_revoked_column_is_dropped_and_that_ends_nothing_else_is_wh005() {
    let v = review(dropped_column("        customer.cancel_at_period_end = True\n").path());
    assert!(high_rules(&v).contains(&"WH005".to_string()), "{v:#}");
}

#[test]
fn an_ending_event_whose_revoked_column_is_dropped_but_that_ends_the_period_is_quiet() {
    let v = review(dropped_column("        customer.current_period_end = timezone.now()\n").path());
    assert!(!high_rules(&v).contains(&"WH005".to_string()), "{v:#}");
}

// ---------------------------------------------------------------------------
// An update handler whose helper writes the plan its price names (dub's shape).

const PLAN_FROM_PRICE: &str = "app/api/stripe/webhook/customer-subscription-updated.ts";
const PLAN_HELPER_PATH: &str = "app/api/stripe/webhook/utils/update-workspace-plan.ts";

const PLAN_HELPER: &str = r#"import { prisma } from "@/lib/prisma";
import { getPlanFromPriceId } from "@/lib/plans";
import type Stripe from "stripe";

export async function updateWorkspacePlan({ workspace, priceId, subscription }: { workspace: { id: string; plan: string }; priceId: string; subscription: Stripe.Subscription }) {
  const newPlan = getPlanFromPriceId(priceId);
  if (!newPlan) return;
  const newPlanName = newPlan.name.toLowerCase();
  if (workspace.plan !== newPlanName) {
    await prisma.project.update({
      where: { id: workspace.id },
      data: { plan: newPlanName, usageLimit: newPlan.limits.usage },
    });
  }
}
"#;

const PLAN_ROUTE_PATH: &str = "app/api/stripe/webhook/route.ts";
const PLAN_ROUTE: &str = r#"import Stripe from "stripe";
import { customerSubscriptionUpdated } from "./customer-subscription-updated";

const stripe = new Stripe(process.env.STRIPE_SECRET_KEY as string);

export const POST = async (req: Request) => {
  const buf = await req.text();
  const sig = req.headers.get("Stripe-Signature") as string;
  let event: Stripe.Event;
  try {
    event = stripe.webhooks.constructEvent(buf, sig, process.env.STRIPE_WEBHOOK_SECRET as string);
  } catch (err: any) {
    return new Response(`Webhook Error: ${err.message}`, { status: 400 });
  }
  let response = "OK";
  switch (event.type) {
    case "customer.subscription.updated":
      response = await customerSubscriptionUpdated(event);
      break;
  }
  return new Response(response, { status: 200 });
};
"#;

fn plan_from_price(skip: &str) -> String {
    format!(
        r#"import Stripe from "stripe";
import {{ prisma }} from "@/lib/prisma";
import {{ getPlanFromPriceId }} from "@/lib/plans";
import {{ updateWorkspacePlan }} from "./utils/update-workspace-plan";

export async function customerSubscriptionUpdated(event: Stripe.Event) {{
  const updatedSubscription = event.data.object as Stripe.Subscription;
  const priceId = updatedSubscription.items.data[0].price.id;
  const plan = getPlanFromPriceId(priceId);
  if (!plan) {{
    return `Invalid price ID: ${{priceId}}`;
  }}
{skip}
  const workspace = await prisma.project.findUnique({{ where: {{ stripeId: updatedSubscription.customer.toString() }} }});
  if (!workspace) {{
    return "workspace not found";
  }}
  await updateWorkspacePlan({{ workspace, priceId, subscription: updatedSubscription }});
}}
"#
    )
}

const PAYING_ONLY: &str = "  if (![\"active\", \"trialing\"].includes(updatedSubscription.status)) {\n    return `skipping status ${updatedSubscription.status}`;\n  }";

#[test]
fn an_update_that_now_skips_unpaid_statuses_keeps_the_price_plan_quiet() {
    // Before, a past_due update also wrote the price's plan; now only paying statuses do.
    let dir = committed_repo(&[(PLAN_FROM_PRICE, &plan_from_price("")), (PLAN_HELPER_PATH, PLAN_HELPER), (PLAN_ROUTE_PATH, PLAN_ROUTE)]);
    write(dir.path(), PLAN_FROM_PRICE, &plan_from_price(PAYING_ONLY));
    let v = review(dir.path());
    assert!(!high_rules(&v).contains(&"WH005".to_string()), "{v:#}");
}

#[test]
fn an_update_that_no_longer_writes_the_price_plan_is_wh004() {
    let dir = committed_repo(&[(PLAN_FROM_PRICE, &plan_from_price("")), (PLAN_HELPER_PATH, PLAN_HELPER), (PLAN_ROUTE_PATH, PLAN_ROUTE)]);
    write(dir.path(), PLAN_HELPER_PATH, &PLAN_HELPER.replace("plan: newPlanName, ", ""));
    let v = review(dir.path());
    assert!(high_rules(&v).contains(&"WH004".to_string()), "{v:#}");
}
