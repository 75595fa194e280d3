//! Changes that touch access-looking code without widening access: a Checkout
//! Session's params rewritten (they say what the customer buys, not what is stored),
//! a status bail-out added above a write the base made whatever the status, and an
//! Elixir changeset whose permitted fields the caller's literal attributes do not name.
//! Each has a regression twin that must still be reported.

#[path = "support/git.rs"]
mod git_support;
use git_support::{committed_repo, high_rules, review, write};

const PY_UTIL: &str = r#"import stripe

from account.models.user import User

_SESSION = {
    "payment_method_types": ["card"],
    "success_url": SUCCESS_URL,
}


def get_session(user: User, price_id: str) -> stripe.checkout.Session:
    params = {
        "client_reference_id": user.id,
        "subscription_data": {"items": [{"plan": price_id}]},
        **_SESSION,
    }
    return stripe.checkout.Session.create(**params)


def get_event(payload: bytes, signature: str) -> stripe.Event:
    return stripe.Webhook.construct_event(payload, signature, WEBHOOK_SECRET)


async def checkout_completed(session) -> bool:
    user = await User.by_id(session.client_reference_id)
    user.plan = session.metadata["plan"]
    await user.save()
    return True
"#;

const PY_SESSION_KWARGS: &str = r#"def get_session(user: User, price_id: str) -> stripe.checkout.Session:
    return stripe.checkout.Session.create(
        client_reference_id=str(user.id),
        mode="subscription",
        line_items=[{"price": price_id, "quantity": 1}],
        payment_method_types=["card"],
        success_url=SUCCESS_URL,
    )
"#;

fn py_session_rewritten() -> String {
    let start = PY_UTIL.find("_SESSION = {").unwrap();
    let end = PY_UTIL.find("def get_event").unwrap();
    format!("{}{}\n\n{}", &PY_UTIL[..start], PY_SESSION_KWARGS, &PY_UTIL[end..])
}

#[test]
fn rewriting_a_checkout_sessions_params_is_no_removed_grant() {
    let dir = committed_repo(&[("account/util/stripe.py", PY_UTIL)]);
    let rewritten = py_session_rewritten();
    assert!(!rewritten.contains("subscription_data"));
    write(dir.path(), "account/util/stripe.py", &rewritten);
    let v = review(dir.path());
    assert!(high_rules(&v).is_empty(), "the plan in the params is what the customer buys: {v:#}");

    // The same rewrite that also drops the plan the app stores is a removed grant.
    let dir = committed_repo(&[("account/util/stripe.py", PY_UTIL)]);
    write(dir.path(), "account/util/stripe.py", &rewritten.replace("    user.plan = session.metadata[\"plan\"]\n", ""));
    let v = review(dir.path());
    assert!(high_rules(&v).contains(&"WH004".to_string()), "{v:#}");
}

const TS_HANDLER: &str = r#"import type { NextApiRequest, NextApiResponse } from 'next';
import { buffer } from 'micro';

import { stripe } from '@/lib/stripe';
import { prisma } from '@/lib/prisma';

export default async function handler(req: NextApiRequest, res: NextApiResponse) {
  const body = await buffer(req);
  const event = stripe.webhooks.constructEvent(body, req.headers['stripe-signature'] as string, process.env.STRIPE_WEBHOOK_SECRET!);

  if (event.type === 'invoice.payment_succeeded') {
    const invoice = event.data.object;
    const subscription = await stripe.subscriptions.retrieve(invoice.subscription as string);
//GATE
    await prisma.subscription.upsert({
      where: { customerId: invoice.customer as string },
      create: { customerId: invoice.customer as string, status: subscription.status, planId: subscription.id },
      update: { status: subscription.status, planId: subscription.id },
    });
  }

  return res.status(200).json({ received: true });
}
"#;

fn ts_gate(gate: &str) -> String {
    TS_HANDLER.replace("//GATE\n", gate)
}

#[test]
fn a_bail_out_added_above_a_write_the_base_made_for_any_status_narrows_it() {
    let base = ts_gate("");
    let dir = committed_repo(&[("pages/api/stripe/webhook.ts", &base)]);
    write(
        dir.path(),
        "pages/api/stripe/webhook.ts",
        &ts_gate("    if (subscription.status === 'incomplete_expired') {\n      return res.status(200).json({ received: true });\n    }\n"),
    );
    let v = review(dir.path());
    assert!(high_rules(&v).is_empty(), "incomplete_expired is now skipped; every other status was written before too: {v:#}");

    // A base that wrote only for active subscriptions, widened to everything but
    // incomplete_expired: past_due and unpaid are now written as paying.
    let active_only = ts_gate("    if (subscription.status !== 'active') {\n      return res.status(200).json({ received: true });\n    }\n");
    let dir = committed_repo(&[("pages/api/stripe/webhook.ts", &active_only)]);
    write(dir.path(), "pages/api/stripe/webhook.ts", &active_only.replace("!== 'active'", "=== 'incomplete_expired'"));
    let v = review(dir.path());
    assert!(high_rules(&v).contains(&"WH011".to_string()), "{v:#}");
}

const EX_WEBHOOKS: &str = r#"defmodule App.Stripe.Webhooks do
  alias App.Payments

  def handle_webhook(%{type: "invoice.payment_succeeded", data: %{object: invoice}}) do
    Payments.process_successful_renewal(invoice.subscription, invoice.period_end)
  end

  def handle_webhook(%{type: type}) do
    {:ok, type}
  end
end
"#;

const EX_DELETED_CLAUSE: &str = r#"  def handle_webhook(%{type: "customer.subscription.deleted", data: %{object: subscription}}) do
    case subscription.status do
      "canceled" -> Payments.process_unsuccessful_renewal(subscription.id)
      "unpaid" -> Payments.process_unsuccessful_renewal(subscription.id)
      _ -> {:ok, ""}
    end
  end

  def handle_webhook(%{type: type}) do"#;

const EX_PAYMENTS: &str = r#"defmodule App.Payments do
  alias App.Repo
  alias App.Payments.Subscription

  def process_successful_renewal(stripe_id, period_end) do
    case get_subscription_by_stripe_id(stripe_id) do
      %Subscription{} = sub -> update_subscription(sub, %{is_active: true, current_period_end: period_end})
      _ -> {:error, "not found"}
    end
  end

  def process_unsuccessful_renewal(stripe_id) do
    case get_subscription_by_stripe_id(stripe_id) do
      %Subscription{} = sub -> update_subscription(sub, %{is_canceling: false, is_active: false})
      _ -> {:error, "not found"}
    end
  end

  def get_subscription_by_stripe_id(stripe_id) do
    Repo.get_by(Subscription, stripe_subscription_id: stripe_id)
  end

  def update_subscription(%Subscription{} = subscription, attrs) do
    subscription
    |> Subscription.update_changeset(attrs)
    |> Repo.update()
  end
end
"#;

const EX_SUBSCRIPTION: &str = r#"defmodule App.Payments.Subscription do
  use Ecto.Schema
  import Ecto.Changeset

  schema "subscriptions" do
    field :stripe_subscription_id, :string
    field :current_period_end, :integer
    field :is_active, :boolean
    field :is_canceling, :boolean
  end

  def update_changeset(subscription, attrs) do
    subscription
    |> cast(attrs, [:current_period_end, :is_active, :is_canceling])
    |> validate_required([:is_active])
  end
end
"#;

fn ex_repo() -> tempfile::TempDir {
    committed_repo(&[
        ("lib/app/stripe/webhooks.ex", EX_WEBHOOKS),
        ("lib/app/payments.ex", EX_PAYMENTS),
        ("lib/app/payments/subscription.ex", EX_SUBSCRIPTION),
    ])
}

#[test]
fn a_changeset_writes_only_the_fields_the_callers_literal_names() {
    let dir = ex_repo();
    write(dir.path(), "lib/app/stripe/webhooks.ex", &EX_WEBHOOKS.replace("  def handle_webhook(%{type: type}) do", EX_DELETED_CLAUSE));
    let v = review(dir.path());
    assert!(high_rules(&v).is_empty(), "an unpaid subscription is deactivated, its period end untouched: {v:#}");

    // The unpaid arm renews instead: unpaid now grants.
    let dir = ex_repo();
    let renews = EX_DELETED_CLAUSE.replace(
        "\"unpaid\" -> Payments.process_unsuccessful_renewal(subscription.id)",
        "\"unpaid\" -> Payments.process_successful_renewal(subscription.id, subscription.current_period_end)",
    );
    write(dir.path(), "lib/app/stripe/webhooks.ex", &EX_WEBHOOKS.replace("  def handle_webhook(%{type: type}) do", &renews));
    let v = review(dir.path());
    assert!(high_rules(&v).contains(&"WH011".to_string()), "{v:#}");
}
