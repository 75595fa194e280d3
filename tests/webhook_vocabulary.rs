//! The access vocabulary real handlers use, each shown firing and staying
//! quiet: status constants passed as values, rows deleted to end access,
//! roles, time-based access, and Ruby methods called without parentheses.

use billguard::webhook::review_texts;

fn high_rules(path: &str, before: &str, after: &str) -> Vec<String> {
    let mut rules: Vec<String> = review_texts(path, Some(before), after)
        .unwrap()
        .into_iter()
        .filter(|f| f.severity.as_str() == "high")
        .map(|f| f.rule.to_string())
        .collect();
    rules.sort();
    rules.dedup();
    rules
}

const TS_ENUM: &str = r#"export const handler = async (event: Stripe.Event) => {
  const e = stripe.webhooks.constructEvent(raw, sig, secret);
  switch (e.type) {
    case 'customer.subscription.deleted':
      await prisma.user.update({ where: { stripeCustomerId: e.data.object.customer }, data: { subscriptionStatus: SubscriptionStatus.Deleted } });
      break;
  }
};
"#;

#[test]
fn an_enum_constant_that_now_grants_on_cancel_is_wh005() {
    let after = TS_ENUM.replace("SubscriptionStatus.Deleted", "SubscriptionStatus.Active");
    assert!(high_rules("app/api/webhook/route.ts", TS_ENUM, &after).contains(&"WH005".to_string()));
    let same = TS_ENUM.replace("SubscriptionStatus.Deleted", "SubscriptionStatus.Canceled");
    assert!(high_rules("app/api/webhook/route.ts", TS_ENUM, &same).is_empty(), "another revoking constant is no regression");
}

const RB_MODEL_DESTROY: &str = r#"class StripeWebhooksController < ApplicationController
  def create
    event = Stripe::Webhook.construct_event(request.body.read, request.headers["Stripe-Signature"], ENV["STRIPE_WEBHOOK_SECRET"])
    case event.type
    when "customer.subscription.deleted"
      user = User.find_by!(stripe_customer_id: event.data.object.customer)
      user.destroy
    end
    head :ok
  end
end
"#;

#[test]
fn deleting_the_member_s_row_is_a_revocation() {
    let after = RB_MODEL_DESTROY.replace("      user.destroy\n", "      Rails.logger.info(\"canceled\")\n");
    let rules = high_rules("app/controllers/stripe_webhooks_controller.rb", RB_MODEL_DESTROY, &after);
    assert!(rules.contains(&"WH005".to_string()), "{rules:?}");
    let cache = RB_MODEL_DESTROY.replace("      user.destroy\n", "      user.destroy\n      Rails.cache.delete(\"plans\")\n");
    assert!(high_rules("app/controllers/stripe_webhooks_controller.rb", RB_MODEL_DESTROY, &cache).is_empty());
}

const RB_ROLE: &str = r#"class StripeWebhooksController < ApplicationController
  def create
    event = Stripe::Webhook.construct_event(request.body.read, request.headers["Stripe-Signature"], ENV["STRIPE_WEBHOOK_SECRET"])
    case event.type
    when "customer.subscription.deleted"
      customer_subscription_deleted
    end
    head :ok
  end

  private

  def customer_subscription_deleted
    account = ProAccount.find_by(stripe_customer_id: @event.data.object.customer)
    account.user.remove_role(:pro)
  end
end
"#;

#[test]
fn a_role_removed_in_a_method_called_without_parentheses_is_followed() {
    let after = RB_ROLE.replace("    account.user.remove_role(:pro)\n", "");
    let rules = high_rules("app/controllers/stripe_webhooks_controller.rb", RB_ROLE, &after);
    assert!(rules.contains(&"WH005".to_string()), "{rules:?}");
    // Inlining the method is no change.
    let inlined = RB_ROLE.replace(
        "      customer_subscription_deleted\n",
        "      account = ProAccount.find_by(stripe_customer_id: @event.data.object.customer)\n      account.user.remove_role(:pro)\n",
    );
    assert!(high_rules("app/controllers/stripe_webhooks_controller.rb", RB_ROLE, &inlined).is_empty());
}

const TS_PERIOD: &str = r#"export async function POST(req: Request) {
  const event = stripe.webhooks.constructEvent(await req.text(), req.headers.get('stripe-signature')!, secret);
  if (event.type === 'invoice.paid') {
    const sub = await stripe.subscriptions.retrieve(event.data.object.subscription as string);
    await db.user.update({ where: { stripeSubscriptionId: sub.id }, data: { stripeCurrentPeriodEnd: new Date(sub.current_period_end * 1000) } });
  }
  return new Response(null, { status: 200 });
}
"#;

#[test]
fn time_based_access_written_on_payment_is_a_grant() {
    let after = TS_PERIOD.replace(", data: { stripeCurrentPeriodEnd: new Date(sub.current_period_end * 1000) }", ", data: { stripePriceId: sub.items.data[0].price.id }");
    let rules = high_rules("app/api/webhooks/stripe/route.ts", TS_PERIOD, &after);
    assert!(rules.contains(&"WH004".to_string()) || rules.contains(&"WH008".to_string()), "{rules:?}");
    // cancel_at_period_end is not an access column.
    let flag = TS_PERIOD.replace("stripeCurrentPeriodEnd: new Date(sub.current_period_end * 1000)", "stripeCurrentPeriodEnd: new Date(sub.current_period_end * 1000), cancelAtPeriodEnd: sub.cancel_at_period_end");
    assert!(high_rules("app/api/webhooks/stripe/route.ts", TS_PERIOD, &flag).is_empty());
}

const PY_SUSPEND: &str = r#"import stripe
from django.http import HttpResponse

def stripe_webhook(request):
    event = stripe.Webhook.construct_event(request.body, request.META["HTTP_STRIPE_SIGNATURE"], settings.STRIPE_WEBHOOK_SECRET)
    if event["type"] == "customer.subscription.deleted":
        account = Account.objects.get(stripe_customer_id=event["data"]["object"]["customer"])
        account.suspended_at = timezone.now()
        account.save()
    return HttpResponse(status=200)
"#;

#[test]
fn setting_an_inverted_flag_is_a_revocation() {
    let after = PY_SUSPEND.replace("        account.suspended_at = timezone.now()\n", "");
    let rules = high_rules("billing/webhooks.py", PY_SUSPEND, &after);
    assert!(rules.contains(&"WH005".to_string()), "{rules:?}");
    let reason = PY_SUSPEND.replace("        account.save()\n", "        account.suspension_reason_note = 'canceled'\n        account.save()\n");
    assert!(high_rules("billing/webhooks.py", PY_SUSPEND, &reason).is_empty());
}

#[path = "support/git.rs"]
mod git_support;

const TS_FROZEN: &str = r#"import Stripe from 'stripe';
export async function POST(req: Request) {
  const e = stripe.webhooks.constructEvent(await req.text(), req.headers.get('stripe-signature')!, process.env.STRIPE_WEBHOOK_SECRET!);
  switch (e.type) {
    case 'customer.subscription.deleted':
      await db.account.update({ where: { customerId: e.data.object.customer }, data: { frozen: true } });
      break;
  }
  return new Response('ok');
}
"#;

/// The review of `after` against `before` in a repo whose billguard.toml says `config`.
fn reviewed_with(config: &str, before: &str, after: &str) -> Vec<String> {
    let repo = git_support::committed_repo(&[("app/api/webhook/route.ts", before), ("billguard.toml", config)]);
    git_support::write(repo.path(), "app/api/webhook/route.ts", after);
    let out = git_support::billguard(repo.path(), &["check", "webhook", "--base", "HEAD", "--format", "json"]);
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut rules: Vec<String> = r["findings"].as_array().unwrap().iter().filter(|f| f["severity"] == "high").map(|f| f["rule"].as_str().unwrap().to_string()).collect();
    rules.sort();
    rules.dedup();
    rules
}

#[test]
fn access_fields_take_a_polarity_a_bang_marks_a_field_that_revokes_when_set() {
    let inverted = "[webhook]\naccess_fields = [\"!frozen\"]\n";
    // Setting frozen on cancel revokes: dropping it, or clearing it instead, loses the revocation.
    assert!(reviewed_with(inverted, TS_FROZEN, &TS_FROZEN.replace("frozen: true", "note: 'canceled'")).contains(&"WH005".to_string()));
    assert!(reviewed_with(inverted, TS_FROZEN, &TS_FROZEN.replace("frozen: true", "frozen: false")).contains(&"WH005".to_string()));
    assert!(reviewed_with(inverted, TS_FROZEN, &TS_FROZEN.replace("return new Response('ok')", "return new Response('received')")).is_empty());
    // Without the bang the same name is a plain access flag: `frozen: false` on cancel is the
    // revocation, so writing it where the base granted loses nothing.
    let plain = "[webhook]\naccess_fields = [\"frozen\"]\n";
    let now_false = reviewed_with(plain, TS_FROZEN, &TS_FROZEN.replace("frozen: true", "frozen: false"));
    assert!(!now_false.contains(&"WH005".to_string()), "{now_false:?}");
}

const GO_HELPER: &str = r#"package billing

func processStripeEvent(event stripe.Event) {
	switch event.Type {
	case "customer.subscription.created":
		var sub stripe.Subscription
		json.Unmarshal(event.Data.Raw, &sub)
		user := findUser(sub.Customer.ID)
		user.StripeSubscriptionActive = (sub.Status == stripe.SubscriptionStatusActive)
		db.DB.Save(&user)
	}
}

func HandleWebhook(w http.ResponseWriter, r *http.Request) {
	payload, _ := io.ReadAll(r.Body)
	event, err := webhook.ConstructEvent(payload, r.Header.Get("Stripe-Signature"), secret)
	if err != nil {
		w.WriteHeader(400)
		return
	}
	processStripeEvent(event)
	w.WriteHeader(200)
}
"#;

#[test]
fn a_status_check_moved_into_a_one_line_helper_is_still_a_check() {
    let helper = |returns: &str| {
        GO_HELPER.replace("(sub.Status == stripe.SubscriptionStatusActive)", "isSubscriptionActive(&sub)")
            + &format!("\nfunc isSubscriptionActive(sub *stripe.Subscription) bool {{\n\treturn {returns}\n}}\n")
    };
    let moved = helper("sub.Status == stripe.SubscriptionStatusActive");
    assert!(high_rules("internal/billing/webhook.go", GO_HELPER, &moved).is_empty());
    // A helper that no longer checks anything grants without a check.
    let unchecked = helper("true");
    assert!(high_rules("internal/billing/webhook.go", GO_HELPER, &unchecked).contains(&"WH016".to_string()));
}

const RB_GROUP: &str = r#"class HooksController < ApplicationController
  def create
    event = Stripe::Webhook.construct_event(request.body.read, request.headers["Stripe-Signature"], ENV["STRIPE_WEBHOOK_SECRET"])
    case event[:type]
    when "customer.subscription.deleted"
      customer = Customer.find_by(customer_id: event[:data][:object][:customer])
      user = ::User.find(customer.user_id)
      customer.destroy!
      if group = plan_group(event[:data][:object][:plan])
        group.remove(user)
      end
    end
    head 200
  end
end
"#;

#[test]
fn group_membership_is_access_and_a_soft_delete_still_revokes() {
    let path = "app/controllers/hooks_controller.rb";
    let no_group = RB_GROUP.replace("      if group = plan_group(event[:data][:object][:plan])\n        group.remove(user)\n      end\n", "");
    assert!(high_rules(path, RB_GROUP, &no_group).contains(&"WH005".to_string()));
    // The row is kept with a canceled status instead of deleted; the group still goes.
    let soft = RB_GROUP.replace("      customer.destroy!\n", "      customer.update!(status: \"canceled\")\n");
    assert!(high_rules(path, RB_GROUP, &soft).is_empty(), "{:?}", high_rules(path, RB_GROUP, &soft));
}

const JS_KNEX_DEL: &str = r#"const express = require('express');
const knex = require('./db');
const router = express.Router();
router.post('/stripe', express.raw({ type: 'application/json' }), async (req, res) => {
  const event = stripe.webhooks.constructEvent(req.body, req.headers['stripe-signature'], process.env.STRIPE_WEBHOOK_SECRET);
  switch (event.type) {
    case 'customer.subscription.deleted':
      await knex('subscriptions').where({ stripe_id: event.data.object.id }).del();
      break;
  }
  res.sendStatus(200);
});
module.exports = router;
"#;

#[test]
fn a_query_builder_deleting_the_subscription_row_is_a_revocation() {
    let after = JS_KNEX_DEL.replace("      await knex('subscriptions').where({ stripe_id: event.data.object.id }).del();\n", "      console.log('deleted');\n");
    let rules = high_rules("routes/stripe.js", JS_KNEX_DEL, &after);
    assert!(rules.contains(&"WH005".to_string()), "{rules:?}");
    // A cache key dropped beside it names no table: nothing changes.
    let cache = JS_KNEX_DEL.replace("del();\n", "del();\n      await redis.del('plans:' + event.data.object.customer);\n");
    assert!(high_rules("routes/stripe.js", JS_KNEX_DEL, &cache).is_empty());
    // Dropping only the cache is no regression either.
    let only_cache = cache.replace("      await knex('subscriptions').where({ stripe_id: event.data.object.id }).del();\n", "");
    assert!(high_rules("routes/stripe.js", &cache, &only_cache).contains(&"WH005".to_string()), "the table delete is what revoked");
}

const EX_REPO_DELETE_ALL: &str = r#"defmodule AppWeb.StripeWebhookController do
  use AppWeb, :controller
  alias App.Repo

  def create(conn, _params) do
    {:ok, event} = Stripe.Webhook.construct_event(conn.assigns.raw_body, signature(conn), secret())
    case event.type do
      "customer.subscription.deleted" ->
        Repo.delete_all(from(s in Subscription, where: s.stripe_id == ^event.data.object.id))
      _ ->
        :ok
    end
    send_resp(conn, 200, "ok")
  end
end
"#;

#[test]
fn an_ecto_delete_all_of_subscriptions_is_a_revocation() {
    let path = "lib/app_web/controllers/stripe_webhook_controller.ex";
    let after = EX_REPO_DELETE_ALL.replace("        Repo.delete_all(from(s in Subscription, where: s.stripe_id == ^event.data.object.id))\n", "        Logger.info(\"deleted\")\n");
    assert!(high_rules(path, EX_REPO_DELETE_ALL, &after).contains(&"WH005".to_string()));
    let events = EX_REPO_DELETE_ALL.replace("from(s in Subscription,", "from(e in WebhookEvent,");
    let after_events = events.replace("        Repo.delete_all(from(e in WebhookEvent, where: s.stripe_id == ^event.data.object.id))\n", "        Logger.info(\"deleted\")\n");
    let rules = high_rules(path, &events, &after_events);
    assert!(!rules.contains(&"WH005".to_string()), "deleting event rows revokes nothing: {rules:?}");
}

const RS_BADGES: &str = r#"pub async fn stripe_webhook(req: HttpRequest, payload: String, pool: web::Data<PgPool>) -> Result<HttpResponse, ApiError> {
    let event = Webhook::construct_event(&payload, signature(&req), &dotenvy::var("STRIPE_WEBHOOK_SECRET")?)?;
    match event.type_ {
        EventType::PaymentIntentSucceeded => {
            let user = find_user(&pool, &event).await?;
            let badges = user.badges | Badges::SUPPORTER;
            sqlx::query!("UPDATE users SET badges = $1 WHERE (id = $2)", badges.bits() as i64, user.id)
                .execute(&**pool)
                .await?;
            sqlx::query!("UPDATE users SET last_payment_at = NOW() WHERE (id = $1)", user.id)
                .execute(&**pool)
                .await?;
        }
        _ => {}
    }
    Ok(HttpResponse::Ok().finish())
}
"#;

#[test]
fn what_a_plan_unlocks_on_the_user_badges_or_a_role_is_access() {
    let path = "src/routes/billing.rs";
    let dropped = RS_BADGES.replace("            sqlx::query!(\"UPDATE users SET badges = $1 WHERE (id = $2)\", badges.bits() as i64, user.id)\n                .execute(&**pool)\n                .await?;\n", "");
    assert_ne!(dropped, RS_BADGES);
    assert!(high_rules(path, RS_BADGES, &dropped).contains(&"WH004".to_string()), "{:?}", high_rules(path, RS_BADGES, &dropped));
    // Another column of the same row is not access.
    let other = RS_BADGES.replace("            sqlx::query!(\"UPDATE users SET last_payment_at = NOW() WHERE (id = $1)\", user.id)\n                .execute(&**pool)\n                .await?;\n", "");
    assert_ne!(other, RS_BADGES);
    assert!(high_rules(path, RS_BADGES, &other).is_empty(), "{:?}", high_rules(path, RS_BADGES, &other));
}

const EX_PUT_CHANGE: &str = r#"defmodule AppWeb.StripeWebhookHandler do
  @behaviour Stripe.WebhookHandler

  @impl true
  def handle_event(%Stripe.Event{type: "customer.subscription.updated"} = event) do
    subscription = event.data.object
    billing = Repo.get_by(Billing, stripe_customer_id: subscription.customer)

    billing
    |> Billing.changeset(%{})
    |> Ecto.Changeset.put_change(:stripe_subscription, subscription)
    |> Repo.update()

    :ok
  end

  def handle_event(_event), do: :ok
end
"#;

#[test]
fn the_subscription_object_stored_whole_through_a_piped_put_change_is_access() {
    let path = "lib/app_web/stripe_webhook_handler.ex";
    let dropped = EX_PUT_CHANGE.replace("    |> Ecto.Changeset.put_change(:stripe_subscription, subscription)\n", "");
    let rules = high_rules(path, EX_PUT_CHANGE, &dropped);
    assert!(rules.contains(&"WH005".to_string()), "{rules:?}");
    // Storing only the id is no access.
    let id_only = EX_PUT_CHANGE.replace("put_change(:stripe_subscription, subscription)", "put_change(:stripe_subscription_id, subscription.id)");
    let rules = high_rules(path, &id_only, &id_only.replace("    |> Ecto.Changeset.put_change(:stripe_subscription_id, subscription.id)\n", ""));
    assert!(!rules.contains(&"WH005".to_string()) && !rules.contains(&"WH004".to_string()), "{rules:?}");
    // Stored on checkout, the object carries its status: no payment check is missing.
    let checkout = EX_PUT_CHANGE.replace("customer.subscription.updated", "checkout.session.completed");
    let without = checkout.replace("    |> Ecto.Changeset.put_change(:stripe_subscription, subscription)
", "");
    let rules = high_rules(path, &without, &checkout);
    assert!(!rules.contains(&"WH016".to_string()), "{rules:?}");
    let plan = checkout.replace("put_change(:stripe_subscription, subscription)", "put_change(:plan, subscription.plan.nickname)");
    assert!(high_rules(path, &without, &plan).contains(&"WH016".to_string()), "a plan written on checkout without a payment check is");
}

const EX_ATTRS_INLINE: &str = r#"defmodule Dock.Billing do
  @behaviour Stripe.WebhookHandler
  @entitling ["active", "trialing"]

  @impl true
  def handle_event(%Stripe.Event{type: "customer.subscription.updated", data: %{object: sub}}) do
    record = Repo.get_by(Subscription, stripe_id: sub.id) || %Subscription{stripe_id: sub.id}

    record
    |> Subscription.changeset(%{customer_id: sub.customer, status: sub.status, active: sub.status in @entitling})
    |> Repo.insert_or_update()

    :ok
  end

  def handle_event(_event), do: :ok
end
"#;

#[test]
fn attributes_built_by_a_private_function_are_the_writes_they_were() {
    let path = "lib/dock/billing.ex";
    let extracted = EX_ATTRS_INLINE
        .replace("%{customer_id: sub.customer, status: sub.status, active: sub.status in @entitling}", "attrs(sub.customer, sub.status)")
        .replace("  def handle_event(_event), do: :ok\n", "  def handle_event(_event), do: :ok\n\n  defp attrs(customer, status), do: %{customer_id: customer, status: status, active: status in @entitling}\n");
    assert!(high_rules(path, EX_ATTRS_INLINE, &extracted).is_empty(), "{:?}", high_rules(path, EX_ATTRS_INLINE, &extracted));
    // The extracted function no longer sets the flag: a lost grant and revocation.
    let dropped = extracted.replace(", active: status in @entitling}", "}");
    let rules = high_rules(path, EX_ATTRS_INLINE, &dropped);
    assert!(rules.contains(&"WH005".to_string()) || rules.contains(&"WH004".to_string()), "{rules:?}");
}

const PY_CATCHES: &str = r#"import stripe
from django.http import HttpResponse

def stripe_webhook(request):
    event = stripe.Webhook.construct_event(request.body, request.META["HTTP_STRIPE_SIGNATURE"], settings.STRIPE_WEBHOOK_SECRET)
    try:
        if event["type"] == "customer.subscription.deleted":
            profile = Profile.objects.get(stripe_customer_id=event["data"]["object"]["customer"])
            profile.is_pro = False
            profile.save()
    except Profile.DoesNotExist:
        return HttpResponse(status=200)
    except Exception:
        return HttpResponse(status=500)
    return HttpResponse(status=200)
"#;

#[test]
fn a_catch_all_that_now_acknowledges_beside_a_missing_row_catch_is_a_new_wh010() {
    let path = "billing/views.py";
    let swallowed = PY_CATCHES.replace("    except Exception:\n        return HttpResponse(status=500)", "    except Exception:\n        return HttpResponse(status=200)");
    assert_ne!(swallowed, PY_CATCHES);
    assert!(high_rules(path, PY_CATCHES, &swallowed).contains(&"WH010".to_string()), "{:?}", high_rules(path, PY_CATCHES, &swallowed));
    // The missing-row catch alone, unchanged, is no new finding.
    let moved = PY_CATCHES.replace("profile.is_pro = False\n            profile.save()", "profile.is_pro = False\n            profile.save(update_fields=[\"is_pro\"])");
    assert!(high_rules(path, PY_CATCHES, &moved).is_empty(), "{:?}", high_rules(path, PY_CATCHES, &moved));
}

const TS_OPAQUE_REVOKE: &str = r#"import { setPro } from '@acme/accounts';

export async function POST(req: Request) {
  const event = stripe.webhooks.constructEvent(await req.text(), req.headers.get('stripe-signature')!, secret);
  switch (event.type) {
    case 'customer.subscription.deleted':
      await setPro(event.data.object.customer as string, false);
      break;
  }
  return new Response('ok');
}
"#;

#[test]
fn a_revocation_by_a_call_of_another_package_is_named_in_the_message() {
    let after = TS_OPAQUE_REVOKE.replace("      await setPro(event.data.object.customer as string, false);\n", "      console.log('ended');\n");
    let findings = review_texts("app/api/stripe/route.ts", Some(TS_OPAQUE_REVOKE), &after).unwrap();
    let wh005 = findings.iter().find(|f| f.rule.as_ref() == "WH005").unwrap_or_else(|| panic!("{findings:?}"));
    assert!(wh005.message.contains("revoked setPro() before"), "{}", wh005.message);
}

const RS_MATCH_ARMS: &str = r#"pub async fn handle(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> impl IntoResponse {
    let sig = headers.get("stripe-signature").and_then(|s| s.to_str().ok()).unwrap_or_default();
    let event = match Webhook::construct_event(std::str::from_utf8(&body).unwrap_or_default(), sig, &app.secret) {
        Ok(e) => e,
        Err(_) => return StatusCode::BAD_REQUEST,
    };
    if let EventObject::Subscription(sub) = event.data.object {
        match event.type_ {
            EventType::CustomerSubscriptionUpdated | EventType::CustomerSubscriptionDeleted => {
                sqlx::query("UPDATE accounts SET subscription_status = $1 WHERE stripe_customer_id = $2")
                    .bind(sub.status.as_str())
                    .bind(sub.customer.id().as_str())
                    .execute(&app.db)
                    .await
                    .ok();
            }
            _ => {}
        }
    }
    StatusCode::OK
}
"#;

#[test]
fn an_event_test_held_in_a_variable_dispatches_like_the_match_it_replaced() {
    let path = "src/routes/webhooks.rs";
    let held = RS_MATCH_ARMS
        .replace("        match event.type_ {\n            EventType::CustomerSubscriptionUpdated | EventType::CustomerSubscriptionDeleted => {\n", "        let lifecycle = matches!(event.type_, EventType::CustomerSubscriptionUpdated | EventType::CustomerSubscriptionDeleted);\n        if lifecycle {\n            {\n")
        .replace("            }\n            _ => {}\n        }\n", "            }\n        }\n");
    assert_ne!(held, RS_MATCH_ARMS);
    assert!(high_rules(path, RS_MATCH_ARMS, &held).is_empty(), "{:?}", high_rules(path, RS_MATCH_ARMS, &held));
    // Narrowed to one event: the other is no longer handled.
    let narrowed = held.replace("EventType::CustomerSubscriptionUpdated | EventType::CustomerSubscriptionDeleted", "EventType::CustomerSubscriptionUpdated");
    assert!(high_rules(path, RS_MATCH_ARMS, &narrowed).contains(&"WH006".to_string()), "{:?}", high_rules(path, RS_MATCH_ARMS, &narrowed));
}

const PHP_PAID_CHECK: &str = r#"<?php
namespace App\Controller;

class StripeWebhookController extends AbstractController
{
    public function __invoke(Request $request): Response
    {
        try {
            $event = Webhook::constructEvent($request->getContent(), $request->headers->get('stripe-signature'), $this->secret);
        } catch (\Throwable $e) {
            return new Response('invalid', 400);
        }
        $object = $event->data->object;
        if ($event->type === 'checkout.session.completed' && $object->payment_status === 'paid') {
            $this->markPremium((int) $object->client_reference_id);
        }
        match ($event->type) {
            'checkout.session.completed' => $object->payment_status === 'paid' ? $this->markPro($object->customer) : null,
            default => null,
        };
        return new Response('ok');
    }

    private function markPremium(int $id): void
    {
        User::where('id', $id)->update(['is_premium' => true]);
    }

    private function markPro(string $customer): void
    {
        User::where('stripe_customer_id', $customer)->update(['is_pro' => true]);
    }
}
"#;

#[test]
fn a_payment_check_beside_the_event_test_or_in_a_ternary_guards_the_grant() {
    let path = "src/Controller/StripeWebhookController.php";
    let same = PHP_PAID_CHECK.replace("return new Response('ok');", "return new Response('received');");
    assert!(!high_rules(path, PHP_PAID_CHECK, &same).contains(&"WH016".to_string()), "both grants are checked");
    let conjunct_dropped = PHP_PAID_CHECK.replace(" && $object->payment_status === 'paid'", "");
    assert!(high_rules(path, PHP_PAID_CHECK, &conjunct_dropped).contains(&"WH016".to_string()));
    let ternary_dropped = PHP_PAID_CHECK.replace("$object->payment_status === 'paid' ? $this->markPro($object->customer) : null", "$this->markPro($object->customer)");
    assert!(high_rules(path, PHP_PAID_CHECK, &ternary_dropped).contains(&"WH016".to_string()));
}

const RS_SQLX_BIND: &str = r#"pub async fn stripe_webhook(State(db): State<PgPool>, headers: HeaderMap, body: String) -> StatusCode {
    let sig = headers.get("stripe-signature").and_then(|v| v.to_str().ok()).unwrap_or_default();
    let Ok(event) = Webhook::construct_event(&body, sig, &std::env::var("STRIPE_WEBHOOK_SECRET").unwrap_or_default()) else {
        return StatusCode::BAD_REQUEST;
    };
    match event.type_ {
        EventType::CustomerSubscriptionUpdated | EventType::CustomerSubscriptionDeleted => {
            if let EventObject::Subscription(sub) = event.data.object {
                let saved = sqlx::query(
                    "INSERT INTO team_plans (team_customer, stripe_status, renews_at) VALUES ($1, $2, to_timestamp($3)) \
                     ON CONFLICT (team_customer) DO UPDATE SET stripe_status = EXCLUDED.stripe_status, renews_at = EXCLUDED.renews_at",
                )
                .bind(sub.customer.id().to_string())
                .bind(sub.status.as_str())
                .bind(sub.current_period_end)
                .execute(&db)
                .await;
                if saved.is_err() {
                    return StatusCode::INTERNAL_SERVER_ERROR;
                }
            }
        }
        _ => {}
    }
    StatusCode::OK
}
"#;

#[test]
fn values_bound_to_an_sqlx_query_are_the_columns_it_writes() {
    let path = "src/routes/webhooks.rs";
    let pinned = RS_SQLX_BIND.replace(".bind(sub.status.as_str())", ".bind(\"active\")");
    assert!(high_rules(path, RS_SQLX_BIND, &pinned).contains(&"WH005".to_string()), "{:?}", high_rules(path, RS_SQLX_BIND, &pinned));
    let reordered = RS_SQLX_BIND.replace("if saved.is_err() {", "if let Err(_) = saved {");
    assert!(high_rules(path, RS_SQLX_BIND, &reordered).is_empty(), "{:?}", high_rules(path, RS_SQLX_BIND, &reordered));
}
