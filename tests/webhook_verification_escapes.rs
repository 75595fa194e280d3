//! Ways a verification that is still in the file stops protecting it: a secret the
//! request supplies, an earlier branch that hands the body back unchecked, a Phoenix plug
//! that answers 403 without `halt()`, and a failed API fetch that falls back to the posted
//! JSON. Each regression has a quiet twin; the verification read through an Elixir pipe
//! into `case` is one of them.

#[path = "support/git.rs"]
mod git_support;
use git_support::{committed_repo, high_rules, review, write};

fn assert_high(dir: &std::path::Path, rule: &str) -> serde_json::Value {
    let v = review(dir);
    assert!(high_rules(&v).contains(&rule.to_string()), "expected {rule} at high: {v:#}");
    v
}

fn assert_quiet(dir: &std::path::Path) -> serde_json::Value {
    let v = review(dir);
    assert!(high_rules(&v).is_empty(), "expected no high finding: {v:#}");
    v
}

// ---------------------------------------------------------------------------
// Django: the signing secret read from a request header.

const DJANGO_TRIGGER: &str = r#"import stripe
from django.conf import settings
from django.db import models
from django.utils.datastructures import CaseInsensitiveMapping

from .sync import sync_subscription


class WebhookEventTrigger(models.Model):
    def verify_signature(self, secret, tolerance=300):
        headers = CaseInsensitiveMapping(self.headers)
        signature = headers.get("stripe-signature")
        try:
            stripe.WebhookSignature.verify_header(self.body, signature, secret, tolerance)
        except stripe.error.SignatureVerificationError:
            return False
        return True

    def process(self):
        if not self.verify_signature(settings.STRIPE_WEBHOOK_SECRET):
            raise PermissionError("bad signature")
        event = self.json_body
        if event["type"] == "customer.subscription.deleted":
            sync_subscription(event["data"]["object"], active=False)
"#;

const TRIGGER_PATH: &str = "billing/models/webhooks.py";

#[test]
fn a_signing_secret_taken_from_a_request_header_verifies_nothing() {
    let dir = committed_repo(&[(TRIGGER_PATH, DJANGO_TRIGGER), ("billing/models/sync.py", "def sync_subscription(obj, active):\n    pass\n")]);
    write(
        dir.path(),
        TRIGGER_PATH,
        &DJANGO_TRIGGER.replace(
            "        signature = headers.get(\"stripe-signature\")\n",
            "        signature = headers.get(\"stripe-signature\")\n        local_secret = headers.get(\"x-webhook-secret\")\n        if local_secret:\n            secret = local_secret\n",
        ),
    );
    let v = assert_high(dir.path(), "WH001");
    assert!(v.to_string().contains("x-webhook-secret"), "{v:#}");
}

#[test]
fn a_signing_secret_taken_from_settings_is_quiet() {
    let dir = committed_repo(&[(TRIGGER_PATH, DJANGO_TRIGGER), ("billing/models/sync.py", "def sync_subscription(obj, active):\n    pass\n")]);
    write(
        dir.path(),
        TRIGGER_PATH,
        &DJANGO_TRIGGER.replace(
            "        signature = headers.get(\"stripe-signature\")\n",
            "        signature = headers.get(\"stripe-signature\")\n        if settings.STRIPE_ENDPOINT_SECRET:\n            secret = settings.STRIPE_ENDPOINT_SECRET\n",
        ),
    );
    assert_quiet(dir.path());
}

// ---------------------------------------------------------------------------
// Rails: an earlier branch that returns the body parsed without a check.

const RAILS_CONTROLLER: &str = r#"class StripeWebhooksController < ActionController::API
  def create
    event = verified_event
    SyncSubscriptionJob.perform_later(event.data.object.id) if event.type == "customer.subscription.updated"
    head :ok
  rescue ::Stripe::SignatureVerificationError
    head :bad_request
  end

  private

  def verified_event
    payload = request.body.read
    signature = request.headers["Stripe-Signature"]
    secrets = Array.wrap(Rails.application.credentials.stripe_signing_secret).compact_blank

    secrets.each_with_index do |secret, i|
      return ::Stripe::Webhook.construct_event(payload, signature, secret.to_s)
    rescue ::Stripe::SignatureVerificationError
      raise if i == secrets.length - 1
      next
    end
  end
end
"#;

const RAILS_PATH: &str = "app/controllers/stripe_webhooks_controller.rb";

#[test]
fn an_earlier_branch_that_returns_the_unchecked_body_fails_open() {
    let dir = committed_repo(&[(RAILS_PATH, RAILS_CONTROLLER)]);
    write(
        dir.path(),
        RAILS_PATH,
        &RAILS_CONTROLLER.replace(
            "    secrets.each_with_index",
            "    if secrets.empty?\n      return ::Stripe::Event.construct_from(JSON.parse(payload, symbolize_names: true))\n    end\n\n    secrets.each_with_index",
        ),
    );
    assert_high(dir.path(), "WH003");
}

#[test]
fn an_earlier_branch_that_refuses_without_a_secret_is_quiet() {
    let dir = committed_repo(&[(RAILS_PATH, RAILS_CONTROLLER)]);
    write(
        dir.path(),
        RAILS_PATH,
        &RAILS_CONTROLLER.replace(
            "    secrets.each_with_index",
            "    if secrets.empty?\n      raise ::Stripe::SignatureVerificationError.new(\"no signing secret\", signature, http_body: payload)\n    end\n\n    secrets.each_with_index",
        ),
    );
    assert_quiet(dir.path());
}

// ---------------------------------------------------------------------------
// Phoenix: a function plug that verifies, its failure answered through a helper.

const PHOENIX_CONTROLLER: &str = r##"defmodule AppWeb.PaddleWebhookController do
  use AppWeb, :controller
  alias App.Billing

  plug :verify_signature when action in [:webhook]

  def webhook(conn, %{"event_type" => "subscription.canceled", "data" => params}) do
    Billing.cancel_subscription(params)
    send_resp(conn, 200, "")
  end

  def verify_signature(conn, _opts) do
    %{"ts" => timestamp, "h1" => received} = parse_signature_header(conn)

    case compute_signature(conn, timestamp) do
      {:ok, computed} ->
        if Plug.Crypto.secure_compare(received, computed) do
          conn
        else
          error_response(conn, 403, "bad signature")
        end

      {:error, error} ->
        error_response(conn, 400, error)
    end
  end

  defp error_response(conn, status, error) do
    conn
    |> put_resp_content_type("application/json")
    |> send_resp(status, Jason.encode!(%{errors: error}))
    |> halt()
  end

  defp parse_signature_header(conn) do
    conn
    |> get_req_header("paddle-signature")
    |> List.first()
    |> String.split(";")
    |> Map.new(fn kv -> kv |> String.split("=", parts: 2) |> List.to_tuple() end)
  end

  defp compute_signature(conn, timestamp) do
    secret = Application.fetch_env!(:app, :paddle_webhook_secret)
    {:ok, :crypto.mac(:hmac, :sha256, secret, "#{timestamp}:#{conn.assigns.raw_body}") |> Base.encode16(case: :lower)}
  end
end
"##;

const PHOENIX_PATH: &str = "lib/app_web/controllers/paddle_webhook_controller.ex";

fn phoenix_repo() -> tempfile::TempDir {
    committed_repo(&[
        (PHOENIX_PATH, PHOENIX_CONTROLLER),
        ("lib/app/billing.ex", "defmodule App.Billing do\n  def cancel_subscription(params) do\n    App.Repo.update_all(App.Subscription, set: [status: \"canceled\"])\n  end\nend\n"),
    ])
}

#[test]
fn a_plug_that_answers_a_failed_check_without_halt_lets_the_action_run() {
    let dir = phoenix_repo();
    write(dir.path(), PHOENIX_PATH, &PHOENIX_CONTROLLER.replace("    |> send_resp(status, Jason.encode!(%{errors: error}))\n    |> halt()\n", "    |> send_resp(status, Jason.encode!(%{errors: error}))\n"));
    let v = assert_high(dir.path(), "WH003");
    assert!(v.to_string().contains("halt()"), "{v:#}");
}

#[test]
fn a_case_on_a_piped_signature_still_verifies() {
    let dir = phoenix_repo();
    write(dir.path(), PHOENIX_PATH, &PHOENIX_CONTROLLER.replace("    case compute_signature(conn, timestamp) do", "    conn\n    |> compute_signature(timestamp)\n    |> case do"));
    let v = assert_quiet(dir.path());
    assert!(v["scope"]["handler_files"][0]["verification"].as_str().is_some_and(|s| s.contains("secure_compare")), "{v:#}");
}

// ---------------------------------------------------------------------------
// Plain PHP: the event read back from the API, and a failed fetch.

const PHP_WEBHOOK: &str = r#"<?php
$body = @file_get_contents('php://input');
$post_event = json_decode($body);
$event_id = $post_event->id;

try {
    $stripe_event = Stripe_Event::retrieve($event_id);
} catch (Exception $e) {
    error_log("Could not find an event with ID #" . $event_id);
    stripe_webhook_exit();
}

if ($stripe_event->type == "customer.subscription.deleted") {
    $user_id = find_user_by_customer($stripe_event->data->object->customer);
    update_user_meta($user_id, 'membership_level', 0);
}
"#;

const PHP_PATH: &str = "services/stripe-webhook.php";

#[test]
fn a_failed_event_fetch_that_falls_back_to_the_posted_json_fails_open() {
    let dir = committed_repo(&[(PHP_PATH, PHP_WEBHOOK)]);
    write(dir.path(), PHP_PATH, &PHP_WEBHOOK.replace("    stripe_webhook_exit();\n", "    $stripe_event = $post_event;\n"));
    let v = assert_high(dir.path(), "WH003");
    assert!(v["scope"]["handler_files"][0]["verification"].as_str().is_some_and(|s| s.contains("Stripe_Event")), "{v:#}");
}

#[test]
fn a_failed_event_fetch_that_still_stops_is_quiet() {
    let dir = committed_repo(&[(PHP_PATH, PHP_WEBHOOK)]);
    write(dir.path(), PHP_PATH, &PHP_WEBHOOK.replace("    stripe_webhook_exit();\n", "    http_response_code(400);\n    exit;\n"));
    assert_quiet(dir.path());
}

// ---------------------------------------------------------------------------
// Ruby: verification in a method declared `private def`.

const RUBY_RECEIVER: &str = r#"class PaymentTransaction::Stripe
  def self.receive_webhook(request)
    event = build_event(request)
    case event.type
    when "checkout.session.completed"
      upgrade = UserUpgrade.find(event.data.object.metadata.user_upgrade_id)
      upgrade.update!(status: "complete") if event.data.object.payment_status == "paid"
    end
  end

  private_class_method def self.build_event(request)
    payload = request.body.read
    signature = request.headers["Stripe-Signature"]
    ::Stripe::Webhook.construct_event(payload, signature, Rails.application.credentials.stripe_webhook_secret)
  end
end
"#;

const RUBY_RECEIVER_PATH: &str = "app/logical/payment_transaction/stripe.rb";

#[test]
fn verification_in_a_private_def_still_verifies() {
    let dir = committed_repo(&[("README.md", "app\n")]);
    write(dir.path(), RUBY_RECEIVER_PATH, RUBY_RECEIVER);
    let v = assert_quiet(dir.path());
    assert!(v["scope"]["handler_files"][0]["verification"].as_str().is_some_and(|s| s.contains("construct_event")), "{v:#}");
}

#[test]
fn a_private_def_that_stops_verifying_is_wh001() {
    let dir = committed_repo(&[(RUBY_RECEIVER_PATH, RUBY_RECEIVER)]);
    write(
        dir.path(),
        RUBY_RECEIVER_PATH,
        &RUBY_RECEIVER.replace("    ::Stripe::Webhook.construct_event(payload, signature, Rails.application.credentials.stripe_webhook_secret)", "    ::Stripe::Event.construct_from(JSON.parse(payload))"),
    );
    assert_high(dir.path(), "WH001");
}

// ---------------------------------------------------------------------------
// Rust: an axum extractor that, when the secret is empty, parses the body a statement
// before returning it.

const AXUM_EXTRACTOR: &str = r#"use axum::{
    body::Body,
    extract::{FromRequest, State},
    http::{Request, StatusCode},
    response::{IntoResponse, Response},
};
use stripe::{Event, EventObject, EventType};

use crate::state::AppState;

pub struct StripeEvent(Event);

impl FromRequest<AppState> for StripeEvent {
    type Rejection = Response;

    async fn from_request(req: Request<Body>, state: &AppState) -> Result<Self, Self::Rejection> {
        let signature = req.headers().get("stripe-signature").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        let payload = String::from_request(req, state).await.map_err(IntoResponse::into_response)?;

        Ok(Self(
            stripe::Webhook::construct_event(&payload, &signature, &state.stripe_webhook_secret)
                .map_err(|_| StatusCode::BAD_REQUEST.into_response())?,
        ))
    }
}

pub async fn handler(State(state): State<AppState>, StripeEvent(event): StripeEvent) -> Response {
    match event.type_ {
        EventType::CustomerSubscriptionDeleted => {
            if let EventObject::Subscription(sub) = event.data.object {
                if state.db.revoke_access(sub.customer.id().as_str()).await.is_err() {
                    return StatusCode::INTERNAL_SERVER_ERROR.into_response();
                }
            }
        }
        _ => {}
    }
    StatusCode::OK.into_response()
}
"#;

const AXUM_STATE: &str = r#"pub struct AppState {
    pub stripe_webhook_secret: String,
    pub db: Db,
}

pub struct Db;

impl Db {
    pub async fn revoke_access(&self, customer: &str) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE users SET has_paid_access = false WHERE stripe_customer_id = $1").bind(customer).execute(&self.pool).await?;
        Ok(())
    }
}
"#;

fn axum_repo() -> tempfile::TempDir {
    committed_repo(&[("Cargo.toml", "[package]\nname = \"app\"\nversion = \"0.1.0\"\n"), ("src/stripe.rs", AXUM_EXTRACTOR), ("src/state.rs", AXUM_STATE)])
}

const BEFORE_CHECK: &str = "        Ok(Self(\n            stripe::Webhook";

#[test]
fn an_extractor_that_parses_the_body_when_the_secret_is_empty_fails_open() {
    let dir = axum_repo();
    let skipping = AXUM_EXTRACTOR.replace(
        BEFORE_CHECK,
        "        if state.stripe_webhook_secret.is_empty() {\n            let event: Event = serde_json::from_str(&payload).map_err(|_| StatusCode::BAD_REQUEST.into_response())?;\n            return Ok(Self(event));\n        }\n\n        Ok(Self(\n            stripe::Webhook",
    );
    assert_ne!(skipping, AXUM_EXTRACTOR);
    write(dir.path(), "src/stripe.rs", &skipping);
    assert_high(dir.path(), "WH003");
}

#[test]
fn an_extractor_that_refuses_when_the_secret_is_empty_is_quiet() {
    let dir = axum_repo();
    let refusing = AXUM_EXTRACTOR.replace(
        BEFORE_CHECK,
        "        if state.stripe_webhook_secret.is_empty() {\n            return Err(StatusCode::INTERNAL_SERVER_ERROR.into_response());\n        }\n\n        Ok(Self(\n            stripe::Webhook",
    );
    write(dir.path(), "src/stripe.rs", &refusing);
    assert_quiet(dir.path());
}

// ---------------------------------------------------------------------------
// WH012: an Elixir app's config keys are declared in `config/*.exs`, not in env files.

const PHX_WEBHOOK: &str = r#"defmodule AppWeb.StripeWebhookController do
  use AppWeb, :controller

  def create(conn, _params) do
    {:ok, body, conn} = read_body(conn)
    [sig] = get_req_header(conn, "stripe-signature")

    case Stripe.Webhook.construct_event(body, sig, System.get_env("STRIPE_WEBHOOK_SECRET")) do
      {:ok, %{type: "customer.subscription.deleted", data: %{object: sub}}} ->
        App.Accounts.revoke_access(sub.customer)
        send_resp(conn, 200, "")

      {:ok, _event} ->
        send_resp(conn, 200, "")

      {:error, _} ->
        send_resp(conn, 400, "")
    end
  end
end
"#;

fn wh012(v: &serde_json::Value) -> bool {
    v["findings"].as_array().unwrap().iter().any(|f| f["rule"] == "WH012")
}

#[test]
fn a_secret_moved_to_a_config_key_the_app_declares_is_no_wh012() {
    let moved = PHX_WEBHOOK.replace("System.get_env(\"STRIPE_WEBHOOK_SECRET\")", "Application.get_env(:app, :stripe_webhook_secret)");
    let files = [
        ("lib/app_web/controllers/stripe_webhook_controller.ex", PHX_WEBHOOK),
        (".env.example", "STRIPE_WEBHOOK_SECRET=\n"),
        ("config/runtime.exs", "import Config\n\nconfig :app, stripe_webhook_secret: System.get_env(\"STRIPE_WEBHOOK_SECRET\")\n"),
    ];
    let dir = committed_repo(&files);
    write(dir.path(), "lib/app_web/controllers/stripe_webhook_controller.ex", &moved);
    let v = review(dir.path());
    assert!(!wh012(&v), "the key is set in config/runtime.exs: {v:#}");

    // The twin: a key no config file sets is still WH012.
    let dir = committed_repo(&files[..2]);
    write(dir.path(), "lib/app_web/controllers/stripe_webhook_controller.ex", &moved);
    let v = review(dir.path());
    assert!(wh012(&v), "{v:#}");
}
