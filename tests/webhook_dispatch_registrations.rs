//! Dispatch shapes of real apps: a service class exported as a class expression that
//! registers a method per event, router subscriptions namespaced by provider
//! (`"stripe.customer.subscription.deleted"`), an Elixir map of event types to function
//! names applied to a module, routes of one event each merged into one dispatcher, and a
//! status helper that maps unpaid statuses to a paying one. Each has a regression and a
//! quiet twin.

#[path = "support/git.rs"]
mod git_support;
use git_support::{committed_repo, high_rules, review, write};

fn highs(dir: &std::path::Path) -> (Vec<String>, serde_json::Value) {
    let v = review(dir);
    (high_rules(&v), v)
}

// ---------------------------------------------------------------------------
// `module.exports = class StripeWebhookService { constructor() { this.registerHandler(...) } }`

const SERVICE: &str = r#"module.exports = class StripeWebhookService {
    constructor({memberRepository, eventRepository, stripeAPIService}) {
        this._memberRepository = memberRepository;
        this._eventRepository = eventRepository;
        this._stripeAPIService = stripeAPIService;
        this.handlers = {};
        this.registerHandler('customer.subscription.deleted', this.subscriptionEvent);
        this.registerHandler('customer.subscription.updated', this.subscriptionEvent);
        this.registerHandler('invoice.payment_failed', this.invoiceEvent);
    }

    registerHandler(event, handler) {
        this.handlers[event] = handler.name;
    }

    parseWebhook(body, signature) {
        return this._stripeAPIService.webhooks.constructEvent(body, signature, this._webhookSecret);
    }

    async handleWebhook(event) {
        if (!this.handlers[event.type]) {
            return;
        }
        await this[this.handlers[event.type]](event.data.object);
    }

    async subscriptionEvent(subscription) {
        const member = await this._memberRepository.get({customer_id: subscription.customer});
        if (member) {
            await this._memberRepository.linkSubscription({id: member.id, subscription});
        }
    }

    async invoiceEvent(invoice) {
        if (invoice.paid && invoice.amount_paid !== 0) {
            await this._eventRepository.registerPayment({currency: invoice.currency, amount: invoice.amount_paid});
        }
    }
};
"#;

const SERVICE_PATH: &str = "lib/services/stripe-webhook.js";

#[test]
fn a_class_expression_that_stops_registering_the_deletion_loses_the_event() {
    let dir = committed_repo(&[(SERVICE_PATH, SERVICE)]);
    write(dir.path(), SERVICE_PATH, &SERVICE.replace("        this.registerHandler('customer.subscription.deleted', this.subscriptionEvent);\n", ""));
    let (rules, v) = highs(dir.path());
    assert!(rules.contains(&"WH006".to_string()), "{v:#}");
    assert!(v["scope"]["handler_files"][0]["events"].as_array().is_some_and(|e| e.len() == 2), "{v:#}");
}

#[test]
fn a_class_expression_that_stops_registering_a_payment_record_is_quiet() {
    let dir = committed_repo(&[(SERVICE_PATH, SERVICE)]);
    write(dir.path(), SERVICE_PATH, &SERVICE.replace("        this.registerHandler('invoice.payment_failed', this.invoiceEvent);\n", ""));
    let (rules, v) = highs(dir.path());
    assert!(rules.is_empty(), "{v:#}");
}

// ---------------------------------------------------------------------------
// Pay-style subscriptions namespaced by provider.

const SUBSCRIPTIONS: &str = r#"module Billing
  module Stripe
    def self.configure_webhooks
      Billing::Webhooks.configure do |events|
        events.subscribe "stripe.customer.subscription.updated", Billing::Stripe::Webhooks::SubscriptionUpdated.new
        events.subscribe "stripe.customer.subscription.deleted", Billing::Stripe::Webhooks::SubscriptionDeleted.new
        events.subscribe "stripe.customer.subscription.trial_will_end", Billing::Stripe::Webhooks::TrialWillEnd.new
      end
    end
  end
end
"#;

fn pay_repo() -> tempfile::TempDir {
    committed_repo(&[
        ("lib/billing/stripe.rb", SUBSCRIPTIONS),
        (
            "lib/billing/stripe/webhooks/subscription_updated.rb",
            "module Billing\n  module Stripe\n    module Webhooks\n      class SubscriptionUpdated\n        def call(event)\n          subscription = ::Subscription.find_by!(processor_id: event.data.object.id)\n          subscription.update!(status: event.data.object.status)\n        end\n      end\n    end\n  end\nend\n",
        ),
        (
            "lib/billing/stripe/webhooks/subscription_deleted.rb",
            "module Billing\n  module Stripe\n    module Webhooks\n      class SubscriptionDeleted\n        def call(event)\n          subscription = ::Subscription.find_by!(processor_id: event.data.object.id)\n          subscription.update!(status: \"canceled\", ends_at: Time.current)\n        end\n      end\n    end\n  end\nend\n",
        ),
        (
            "lib/billing/stripe/webhooks/trial_will_end.rb",
            "module Billing\n  module Stripe\n    module Webhooks\n      class TrialWillEnd\n        def call(event)\n          TrialMailer.ending(event.data.object.customer).deliver_later\n        end\n      end\n    end\n  end\nend\n",
        ),
    ])
}

#[test]
fn a_provider_namespaced_deletion_subscription_removed_is_an_event_no_longer_handled() {
    let dir = pay_repo();
    write(dir.path(), "lib/billing/stripe.rb", &SUBSCRIPTIONS.replace("        events.subscribe \"stripe.customer.subscription.deleted\", Billing::Stripe::Webhooks::SubscriptionDeleted.new\n", ""));
    let (rules, v) = highs(dir.path());
    assert!(rules.contains(&"WH006".to_string()), "{v:#}");
}

#[test]
fn a_provider_namespaced_mail_only_subscription_removed_is_quiet() {
    let dir = pay_repo();
    write(dir.path(), "lib/billing/stripe.rb", &SUBSCRIPTIONS.replace("        events.subscribe \"stripe.customer.subscription.trial_will_end\", Billing::Stripe::Webhooks::TrialWillEnd.new\n", ""));
    let (rules, v) = highs(dir.path());
    assert!(rules.is_empty(), "{v:#}");
}

// ---------------------------------------------------------------------------
// Elixir: `@handlers %{"subscription.canceled" => :on_cancel}` applied to a module.

const PHOENIX_HEADS: &str = r#"defmodule AppWeb.VendorWebhookController do
  use AppWeb, :controller
  alias App.Billing

  def webhook(conn, %{"event_type" => "subscription.created", "data" => params}) do
    params |> Billing.on_create_subscription() |> respond(conn)
  end

  def webhook(conn, %{"event_type" => "subscription.canceled", "data" => params}) do
    params |> Billing.on_cancel_subscription() |> respond(conn)
  end

  def webhook(conn, _params), do: send_resp(conn, 200, "")

  defp respond({:ok, _}, conn), do: send_resp(conn, 200, "")
  defp respond({:error, _}, conn), do: send_resp(conn, 400, "")
end
"#;

const PHOENIX_MAP: &str = r#"defmodule AppWeb.VendorWebhookController do
  use AppWeb, :controller
  alias App.Billing

  @event_handlers %{
    "subscription.created" => :on_create_subscription,
    "subscription.canceled" => :on_cancel_subscription
  }

  def webhook(conn, %{"event_type" => event_type, "data" => params}) when is_map_key(@event_handlers, event_type) do
    Billing |> apply(Map.fetch!(@event_handlers, event_type), [params]) |> respond(conn)
  end

  def webhook(conn, _params), do: send_resp(conn, 200, "")

  defp respond({:ok, _}, conn), do: send_resp(conn, 200, "")
  defp respond({:error, _}, conn), do: send_resp(conn, 400, "")
end
"#;

const BILLING: &str = r#"defmodule App.Billing do
  alias App.{Repo, Subscription}

  def on_create_subscription(%{"id" => id, "status" => "active"} = params) do
    Repo.insert(%Subscription{provider_id: id, status: "active", plan: params["plan"]})
  end

  def on_cancel_subscription(%{"id" => id}) do
    Subscription |> Repo.get_by!(provider_id: id) |> Subscription.changeset(%{status: "canceled", plan: "free"}) |> Repo.update()
  end
end
"#;

const CONTROLLER_PATH: &str = "lib/app_web/controllers/vendor_webhook_controller.ex";

fn phoenix_repo() -> tempfile::TempDir {
    committed_repo(&[(CONTROLLER_PATH, PHOENIX_HEADS), ("lib/app/billing.ex", BILLING), ("lib/app/subscription.ex", "defmodule App.Subscription do\n  use Ecto.Schema\nend\n")])
}

#[test]
fn function_heads_turned_into_a_map_of_function_names_are_quiet() {
    let dir = phoenix_repo();
    write(dir.path(), CONTROLLER_PATH, PHOENIX_MAP);
    let (rules, v) = highs(dir.path());
    assert!(rules.is_empty(), "{v:#}");
}

#[test]
fn a_map_of_function_names_that_drops_the_cancellation_loses_the_event() {
    let dir = phoenix_repo();
    write(dir.path(), CONTROLLER_PATH, &PHOENIX_MAP.replace(",\n    \"subscription.canceled\" => :on_cancel_subscription", ""));
    let (rules, v) = highs(dir.path());
    assert!(rules.contains(&"WH006".to_string()) || rules.contains(&"WH005".to_string()), "{v:#}");
}

// ---------------------------------------------------------------------------
// axum: one route per event (its payload type names it), merged into one dispatcher.

const CANCELED_ROUTE: &str = r#"use crate::prelude::*;

pub async fn subscription_canceled_handler(
    State(state): State<AppState>,
    Json(payload): Json<SubscriptionCanceledPayload>,
) -> Result<StatusCode, PaymentError> {
    sqlx::query("UPDATE subscriptions SET status = $1, next_billing_date = NULL WHERE subscription_id = $2")
        .bind(&payload.data.status)
        .bind(&payload.data.id)
        .execute(&state.pool)
        .await
        .map_err(|_| PaymentError::Unforseen)?;
    Ok(StatusCode::OK)
}
"#;

fn dispatcher(canceled_arm: &str) -> String {
    format!(
        r#"use crate::prelude::*;

pub async fn payments_webhook_handler(
    State(state): State<AppState>,
    Json(payload): Json<PaymentWebhookPayload>,
) -> Result<StatusCode, PaymentError> {{
    match payload.event_type.as_str() {{
        "subscription.canceled" => {{
{canceled_arm}
        }}
        _ => {{}}
    }}
    Ok(StatusCode::OK)
}}
"#
    )
}

fn axum_repo() -> tempfile::TempDir {
    committed_repo(&[
        ("src/routes/payments/subscription_canceled.rs", CANCELED_ROUTE),
        ("src/routes/payments/mod.rs", "pub mod subscription_canceled;\n"),
    ])
}

fn merge(dir: &std::path::Path, arm: &str) {
    std::fs::remove_file(dir.join("src/routes/payments/subscription_canceled.rs")).unwrap();
    write(dir, "src/routes/payments/mod.rs", "pub mod payments_webhook;\n");
    write(dir, "src/routes/payments/payments_webhook.rs", &dispatcher(arm));
}

#[test]
fn per_event_routes_merged_into_a_dispatcher_that_only_logs_lose_the_write() {
    let dir = axum_repo();
    merge(dir.path(), "            dbg!(&payload);");
    let (rules, v) = highs(dir.path());
    assert!(rules.iter().any(|r| r == "WH008" || r == "WH005"), "{v:#}");
    assert!(v["scope"]["handler_files"][0]["path"].as_str().is_some_and(|p| p.contains("->")), "{v:#}");
}

#[test]
fn per_event_routes_merged_into_a_dispatcher_that_keeps_the_write_are_quiet() {
    let dir = axum_repo();
    merge(
        dir.path(),
        r#"            sqlx::query("UPDATE subscriptions SET status = $1, next_billing_date = NULL WHERE subscription_id = $2")
                .bind(&payload.data.status)
                .bind(&payload.data.id)
                .execute(&state.pool)
                .await
                .map_err(|_| PaymentError::Unforseen)?;"#,
    );
    let (rules, v) = highs(dir.path());
    assert!(rules.is_empty(), "{v:#}");
}

// ---------------------------------------------------------------------------
// A stored status computed by a helper that remaps statuses.

const SYNC: &str = r#"import { prisma } from "@/utils/prisma";

export async function syncStripeDataToDb(subscription: Stripe.Subscription) {
  const stripeSubscriptionStatus = getEffectiveStatus(subscription);
  await prisma.premium.update({
    where: { stripeCustomerId: subscription.customer as string },
    data: { stripeSubscriptionStatus, stripePriceId: subscription.items.data[0].price.id },
  });
}

function getEffectiveStatus(subscription: { status: string; cancel_at_period_end: boolean }) {
  if (subscription.status === "trialing" && subscription.cancel_at_period_end) {
    return "canceled";
  }
  return subscription.status;
}
"#;

const ROUTE: &str = r#"import { stripe } from "@/utils/stripe";
import { syncStripeDataToDb } from "@/ee/billing/sync";

export async function POST(request: Request) {
  const body = await request.text();
  const event = stripe.webhooks.constructEvent(body, request.headers.get("stripe-signature")!, process.env.STRIPE_WEBHOOK_SECRET!);
  if (event.type === "customer.subscription.updated") {
    await syncStripeDataToDb(event.data.object);
  }
  return new Response("ok");
}
"#;

const SYNC_PATH: &str = "src/ee/billing/sync.ts";

fn remap_repo() -> tempfile::TempDir {
    committed_repo(&[("src/app/api/stripe/webhook/route.ts", ROUTE), (SYNC_PATH, SYNC), ("src/utils/prisma.ts", "export const prisma = {} as any;\n"), ("src/utils/stripe.ts", "export const stripe = {} as any;\n")])
}

#[test]
fn a_status_helper_that_stores_past_due_as_active_widens_access() {
    let dir = remap_repo();
    write(
        dir.path(),
        SYNC_PATH,
        &SYNC.replace("  return subscription.status;\n}", "  if (subscription.status === \"past_due\" || subscription.status === \"unpaid\") {\n    return \"active\";\n  }\n  return subscription.status;\n}"),
    );
    let (rules, v) = highs(dir.path());
    assert!(rules.contains(&"WH011".to_string()), "{v:#}");
}

#[test]
fn a_status_helper_that_stores_a_canceled_trial_as_canceled_is_quiet() {
    let dir = remap_repo();
    write(
        dir.path(),
        SYNC_PATH,
        &SYNC.replace("  return subscription.status;\n}", "  if (subscription.status === \"incomplete_expired\") {\n    return \"canceled\";\n  }\n  return subscription.status;\n}"),
    );
    let (rules, v) = highs(dir.path());
    assert!(rules.is_empty(), "{v:#}");
}

// ---------------------------------------------------------------------------
// Go: an event no longer handled whose followed write sets no access column.

const GO_CONTROLLER: &str = r#"package controller

import (
	"encoding/json"

	"github.com/acme/app/server/pkg/repo"
	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/webhook"
)

type StripeController struct {
	BillingRepo *repo.BillingRepository
	secret      string
}

func (c *StripeController) findHandlerForEvent(event stripe.Event) func(event stripe.Event) error {
	switch event.Type {
	case "customer.subscription.deleted":
		return c.handleCustomerSubscriptionDeleted
	case "customer.subscription.updated":
		return c.handleCustomerSubscriptionUpdated
	}
	return nil
}

func (c *StripeController) HandleWebhook(payload []byte, header string) error {
	event, err := webhook.ConstructEvent(payload, header, c.secret)
	if err != nil {
		return err
	}
	if handler := c.findHandlerForEvent(event); handler != nil {
		return handler(event)
	}
	return nil
}

func (c *StripeController) handleCustomerSubscriptionDeleted(event stripe.Event) error {
	var sub stripe.Subscription
	json.Unmarshal(event.Data.Raw, &sub)
	return c.BillingRepo.UpdateSubscriptionCancellationStatus(sub.ID, true)
}

func (c *StripeController) handleCustomerSubscriptionUpdated(event stripe.Event) error {
	var sub stripe.Subscription
	json.Unmarshal(event.Data.Raw, &sub)
	return c.BillingRepo.UpdateExpiryTime(sub.ID, sub.CurrentPeriodEnd)
}
"#;

const GO_REPO: &str = r#"package repo

import "database/sql"

type BillingRepository struct {
	DB *sql.DB
}

func (r *BillingRepository) UpdateSubscriptionCancellationStatus(subscriptionID string, status bool) error {
	_, err := r.DB.Exec(`UPDATE subscriptions SET attributes = jsonb_set(attributes, '{isCancelled}', $1::jsonb) WHERE original_transaction_id = $2`, status, subscriptionID)
	return err
}

func (r *BillingRepository) UpdateExpiryTime(subscriptionID string, expiry int64) error {
	_, err := r.DB.Exec(`UPDATE subscriptions SET expiry_time = $1 WHERE original_transaction_id = $2`, expiry, subscriptionID)
	return err
}
"#;

const GO_CONTROLLER_PATH: &str = "server/pkg/controller/stripe.go";

#[test]
fn an_event_dropped_whose_followed_write_sets_no_access_column_is_quiet() {
    let dir = committed_repo(&[(GO_CONTROLLER_PATH, GO_CONTROLLER), ("server/pkg/repo/billing.go", GO_REPO), ("server/go.mod", "module github.com/acme/app/server\n")]);
    let without = GO_CONTROLLER
        .replace("\tcase \"customer.subscription.deleted\":\n\t\treturn c.handleCustomerSubscriptionDeleted\n", "")
        .replace(&GO_CONTROLLER[GO_CONTROLLER.find("func (c *StripeController) handleCustomerSubscriptionDeleted").unwrap()..GO_CONTROLLER.find("func (c *StripeController) handleCustomerSubscriptionUpdated").unwrap()], "");
    write(dir.path(), GO_CONTROLLER_PATH, &without);
    let (rules, v) = highs(dir.path());
    assert!(rules.is_empty(), "{v:#}");
}

#[test]
fn an_update_that_stops_writing_the_expiry_it_followed_loses_the_grant() {
    let dir = committed_repo(&[(GO_CONTROLLER_PATH, GO_CONTROLLER), ("server/pkg/repo/billing.go", GO_REPO), ("server/go.mod", "module github.com/acme/app/server\n")]);
    let updated = GO_CONTROLLER.replace("return c.BillingRepo.UpdateExpiryTime(sub.ID, sub.CurrentPeriodEnd)", "return nil");
    write(dir.path(), GO_CONTROLLER_PATH, &updated);
    let (rules, v) = highs(dir.path());
    assert!(rules.iter().any(|r| ["WH004", "WH005", "WH008"].contains(&r.as_str())), "{v:#}");
}

// ---------------------------------------------------------------------------
// Django: `getattr(self, event.type.replace(".", "_"))(obj)` calls the method named after the event.

const DJANGO_VIEW: &str = r#"import logging

import stripe
from django.conf import settings
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from .models import Owner
from .segment import SegmentService

log = logging.getLogger(__name__)


class StripeWebhookHandler(APIView):
    permission_classes = []

    def customer_subscription_deleted(self, subscription):
        owner = Owner.objects.get(stripe_customer_id=subscription.customer)
        owner.plan = "free"
        owner.has_paid_access = False
        owner.save()
        SegmentService().account_cancelled_subscription(owner.id)

    def invoice_payment_succeeded(self, invoice):
        owner = Owner.objects.get(stripe_customer_id=invoice.customer)
        owner.delinquent = False
        owner.has_paid_access = True
        owner.save()
        SegmentService().account_paid_invoice(owner.id)

    def post(self, request, *args, **kwargs):
        try:
            self.event = stripe.Webhook.construct_event(
                self.request.body,
                self.request.META.get("HTTP_STRIPE_SIGNATURE"),
                settings.STRIPE_ENDPOINT_SECRET,
            )
        except stripe.error.SignatureVerificationError:
            return Response("Invalid signature", status=status.HTTP_400_BAD_REQUEST)
        getattr(self, self.event.type.replace(".", "_"))(self.event.data.object)
        return Response(status=status.HTTP_204_NO_CONTENT)
"#;

const SEGMENT: &str = r#"import analytics


class SegmentService:
    def account_cancelled_subscription(self, owner_id):
        analytics.track(owner_id, "Subscription Cancelled", {"role": "admin"})

    def account_paid_invoice(self, owner_id):
        analytics.track(owner_id, "Invoice Paid", {"role": "admin"})
"#;

fn django_repo() -> tempfile::TempDir {
    committed_repo(&[("billing/views.py", DJANGO_VIEW), ("billing/segment.py", SEGMENT), ("billing/models.py", "from django.db import models\n\n\nclass Owner(models.Model):\n    plan = models.CharField(max_length=50)\n    has_paid_access = models.BooleanField(default=False)\n    delinquent = models.BooleanField(default=False)\n    stripe_customer_id = models.CharField(max_length=50)\n")])
}

#[test]
fn a_method_named_after_the_event_and_reached_through_getattr_handles_it() {
    let dir = django_repo();
    write(dir.path(), "billing/views.py", &DJANGO_VIEW.replace("        owner.has_paid_access = False\n", ""));
    let (h, v) = highs(dir.path());
    assert!(h.contains(&"WH005".to_string()), "{v:#}");
    let events = v["scope"]["handler_files"][0]["events"].to_string();
    assert!(events.contains("customer.subscription.deleted") && events.contains("invoice.payment_succeeded"), "{events}");
}

#[test]
fn removing_product_analytics_calls_from_getattr_handlers_is_quiet() {
    let dir = django_repo();
    let without = DJANGO_VIEW
        .replace("        SegmentService().account_cancelled_subscription(owner.id)\n", "")
        .replace("        SegmentService().account_paid_invoice(owner.id)\n", "")
        .replace("from .segment import SegmentService\n", "");
    write(dir.path(), "billing/views.py", &without);
    std::fs::remove_file(dir.path().join("billing/segment.py")).unwrap();
    let (h, v) = highs(dir.path());
    assert!(h.is_empty(), "{v:#}");
}

// ---------------------------------------------------------------------------
// Laravel Cashier (Paddle): an event listener `handle(SubscriptionPaymentSucceeded $event)`
// handles the webhook its event class names, after Cashier's controller verified it.

const CASHIER_LISTENER: &str = r#"<?php

namespace App\Listeners;

use App\Models\User;
use App\Services\RenewLicenceKey;
use Laravel\Paddle\Events\SubscriptionPaymentSucceeded;

class SubscriptionPaymentSucceededListener
{
    public function handle(SubscriptionPaymentSucceeded $event)
    {
        if (! $event->billable instanceof User) {
            return;
        }

        app(RenewLicenceKey::class)->execute($event->billable, $event->payload);
    }
}
"#;

const RENEW_SERVICE: &str = r#"<?php

namespace App\Services;

use App\Models\LicenceKey;
use App\Models\User;
use Illuminate\Support\Carbon;

class RenewLicenceKey
{
    public function execute(User $user, array $payload): void
    {
        $licenceKey = LicenceKey::where('subscription_id', $payload['subscription_id'])->firstOrFail();
        $licenceKey->subscription_state = 'subscription_payment_succeeded';
        $licenceKey->valid_until_at = Carbon::parse($payload['next_bill_date']);
        $licenceKey->save();
    }
}
"#;

fn cashier_repo() -> tempfile::TempDir {
    committed_repo(&[("app/Listeners/SubscriptionPaymentSucceededListener.php", CASHIER_LISTENER), ("app/Services/RenewLicenceKey.php", RENEW_SERVICE)])
}

#[test]
fn a_cashier_listener_whose_service_stops_extending_access_is_wh004() {
    let dir = cashier_repo();
    write(dir.path(), "app/Services/RenewLicenceKey.php", &RENEW_SERVICE.replace("        $licenceKey->valid_until_at = Carbon::parse($payload['next_bill_date']);\n", ""));
    let (h, v) = highs(dir.path());
    assert!(h.contains(&"WH004".to_string()), "{v:#}");
}

#[test]
fn a_cashier_listener_is_verified_by_cashier_and_a_reordered_service_is_quiet() {
    let dir = cashier_repo();
    let reordered = RENEW_SERVICE.replace(
        "        $licenceKey->subscription_state = 'subscription_payment_succeeded';\n        $licenceKey->valid_until_at = Carbon::parse($payload['next_bill_date']);\n",
        "        $licenceKey->valid_until_at = Carbon::parse($payload['next_bill_date']);\n        $licenceKey->subscription_state = 'subscription_payment_succeeded';\n",
    );
    assert_ne!(reordered, RENEW_SERVICE);
    write(dir.path(), "app/Services/RenewLicenceKey.php", &reordered);
    let (h, v) = highs(dir.path());
    assert!(h.is_empty(), "{v:#}");
    assert!(!v.to_string().contains("WH001"), "Cashier verified the event before firing it: {v:#}");
    let listener = v["scope"]["handler_files"].as_array().unwrap().iter().find(|f| f["path"] == "app/Listeners/SubscriptionPaymentSucceededListener.php").cloned();
    assert!(listener.is_some_and(|l| l["events"].as_array().is_some_and(|e| !e.is_empty())), "{v:#}");
}

#[test]
fn a_cashier_listener_that_catches_and_only_logs_a_failure_is_wh010() {
    let dir = cashier_repo();
    let swallowing = CASHIER_LISTENER
        .replace("use App\\Services\\RenewLicenceKey;\n", "use App\\Services\\RenewLicenceKey;\nuse Illuminate\\Support\\Facades\\Log;\nuse Throwable;\n")
        .replace(
            "        app(RenewLicenceKey::class)->execute($event->billable, $event->payload);\n",
            "        try {\n            app(RenewLicenceKey::class)->execute($event->billable, $event->payload);\n        } catch (Throwable $e) {\n            Log::error($e->getMessage());\n        }\n",
        );
    assert_ne!(swallowing, CASHIER_LISTENER);
    write(dir.path(), "app/Listeners/SubscriptionPaymentSucceededListener.php", &swallowing);
    let (h, v) = highs(dir.path());
    assert!(h.contains(&"WH010".to_string()), "{v:#}");

    // The twin: a catch that rethrows lets Cashier answer 5xx, and the provider retries.
    let dir = cashier_repo();
    write(dir.path(), "app/Listeners/SubscriptionPaymentSucceededListener.php", &swallowing.replace("            Log::error($e->getMessage());\n", "            Log::error($e->getMessage());\n            throw $e;\n"));
    let (h, v) = highs(dir.path());
    assert!(h.is_empty(), "{v:#}");
}

// ---------------------------------------------------------------------------
// PHP: `$method = 'handle'.Str::studly($payload['meta']['event_name'])` then
// `$this->{$method}($payload)`. Each `handleX` method handles its event; the write
// lives in the model the finder's return type names (`?Subscription`), in a method
// (`sync`) that other models of the app define too.

const LS_CONTROLLER: &str = r#"<?php

namespace App\Http\Controllers;

use App\Models\Subscription;
use Illuminate\Http\Request;
use Illuminate\Support\Str;
use Symfony\Component\HttpFoundation\Response;

final class LemonSqueezyWebhookController extends Controller
{
    public function __construct()
    {
        $this->middleware(VerifyWebhookSignature::class);
    }

    public function __invoke(Request $request): Response
    {
        $payload = $request->all();
        $method = 'handle' . Str::studly($payload['meta']['event_name']);

        if (method_exists($this, $method)) {
            try {
                $this->{$method}($payload);
            } catch (\Exception $e) {
                return new Response('Internal server error', 500);
            }

            return new Response('Webhook was handled.');
        }

        return new Response('Webhook received but no handler found.');
    }

    private function handleSubscriptionExpired(array $payload): void
    {
        if (! $subscription = $this->findSubscription($payload['data']['id'])) {
            return;
        }

        $subscription = $subscription->sync($payload['data']['attributes']);
    }

    private function findSubscription(string $subscriptionId): ?Subscription
    {
        return Subscription::firstWhere('lemon_squeezy_id', $subscriptionId);
    }
}
"#;

const LS_SUBSCRIPTION: &str = r#"<?php

namespace App\Models;

use Illuminate\Database\Eloquent\Model;

class Subscription extends Model
{
    public function sync(array $attributes): self
    {
        $this->update([
            'status' => $attributes['status'],
            'ends_at' => $attributes['ends_at'],
        ]);

        return $this;
    }
}
"#;

const LS_ORDER: &str = r#"<?php

namespace App\Models;

use Illuminate\Database\Eloquent\Model;

class Order extends Model
{
    public function sync(array $attributes): self
    {
        $this->update(['refunded' => $attributes['refunded']]);

        return $this;
    }
}
"#;

fn ls_repo() -> tempfile::TempDir {
    committed_repo(&[
        ("app/Http/Controllers/LemonSqueezyWebhookController.php", LS_CONTROLLER),
        ("app/Models/Subscription.php", LS_SUBSCRIPTION),
        ("app/Models/Order.php", LS_ORDER),
    ])
}

#[test]
fn a_php_method_named_from_the_event_is_its_handler_and_its_model_write_is_seen() {
    // The catch-all now acknowledges: WH010.
    let dir = ls_repo();
    write(dir.path(), "app/Http/Controllers/LemonSqueezyWebhookController.php", &LS_CONTROLLER.replace("return new Response('Internal server error', 500);", "report($e);\n\n                return new Response('Webhook skipped');"));
    let v = review(dir.path());
    assert!(high_rules(&v).contains(&"WH010".to_string()), "{v:#}");

    // subscription_expired no longer syncs the row: the revocation is lost.
    let dir = ls_repo();
    write(dir.path(), "app/Http/Controllers/LemonSqueezyWebhookController.php", &LS_CONTROLLER.replace("        $subscription = $subscription->sync($payload['data']['attributes']);\n", "        logger()->info('expired');\n"));
    let v = review(dir.path());
    assert!(high_rules(&v).contains(&"WH005".to_string()), "{v:#}");

    // Quiet: the sync call keeps its effect under a new variable name.
    let dir = ls_repo();
    write(dir.path(), "app/Http/Controllers/LemonSqueezyWebhookController.php", &LS_CONTROLLER.replace("$subscription = $subscription->sync($payload['data']['attributes']);", "$subscription->sync($payload['data']['attributes']);"));
    let v = review(dir.path());
    assert!(high_rules(&v).is_empty(), "{v:#}");
}

// ---------------------------------------------------------------------------
// Python: `handler = globals().get('handle_%s' % type.replace('.', '_'))`: each
// module function named after an event handles it.

const PY_GLOBALS: &str = r#"import stripe

from .services import cancel_subscription, extend_subscription


def handle_customer_subscription_deleted(event):
    cancel_subscription(event.data.object.customer)


def handle_invoice_paid(event):
    extend_subscription(event.data.object.customer)


def process(event):
    # The view retrieved the event from Stripe's API by id.
    handler_name = 'handle_%s' % event.type.replace('.', '_')
    handler = globals().get(handler_name)
    if handler:
        handler(event)
"#;

const PY_SERVICES: &str = r#"from .models import Account


def cancel_subscription(customer_id):
    Account.objects.filter(stripe_customer_id=customer_id).update(is_pro=False)


def extend_subscription(customer_id):
    Account.objects.filter(stripe_customer_id=customer_id).update(is_pro=True)
"#;

#[test]
fn python_functions_looked_up_in_globals_by_event_name_are_its_handlers() {
    let files = [("billing/webhook.py", PY_GLOBALS), ("billing/services.py", PY_SERVICES)];
    // Quiet: the lookup replaced by an explicit map of the same functions.
    let dir = committed_repo(&files);
    let mapped = PY_GLOBALS.replace("def process(", "HANDLERS = {\n    'customer.subscription.deleted': handle_customer_subscription_deleted,\n    'invoice.paid': handle_invoice_paid,\n}\n\n\ndef process(").replace(
        "    handler_name = 'handle_%s' % event.type.replace('.', '_')\n    handler = globals().get(handler_name)\n",
        "    handler = HANDLERS.get(event.type)\n",
    );
    write(dir.path(), "billing/webhook.py", &mapped);
    let (rules, v) = highs(dir.path());
    assert!(rules.is_empty(), "the same events and functions: {v:#}");

    // The deleted handler stops revoking: WH005.
    let dir = committed_repo(&files);
    write(dir.path(), "billing/webhook.py", &PY_GLOBALS.replace("    cancel_subscription(event.data.object.customer)\n", "    print('subscription ended', event.data.object.customer)\n"));
    let (rules, v) = highs(dir.path());
    assert!(rules.contains(&"WH005".to_string()), "{v:#}");
}
