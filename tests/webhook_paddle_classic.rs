//! Paddle Classic handlers: events named by `alert_name` (`subscription_cancelled`,
//! no dots), a signature over the posted form fields checked in a plug, modules
//! wrapped in a macro of the app, `{:ok, _} -> ...; other -> ...` answers. Each
//! regression has a quiet twin that must raise no high finding.

#[path = "support/git.rs"]
mod git_support;
use git_support::{committed_repo, high_rules, review, write};

const CONTROLLER: &str = "lib/ledgerly_web/controllers/paddle_alert_controller.ex";
const BILLING: &str = "lib/ledgerly/plans.ex";

/// A Phoenix controller dispatching on `alert_name` in its function heads; the
/// signature is checked by a plug of the same module, over the form fields.
const CONTROLLER_BASE: &str = r#"defmodule LedgerlyWeb.PaddleAlertController do
  use LedgerlyWeb, :controller

  alias Ledgerly.Plans
  require Logger

  plug :check_signature

  def create(conn, params = %{"alert_name" => "subscription_created"}) do
    case Plans.start(params["passthrough"], alert_fields(params)) do
      {:ok, _} -> send_resp(conn, 200, "")
      _error -> send_resp(conn, 500, "")
    end
  end

  def create(conn, params = %{"alert_name" => "subscription_payment_succeeded"}) do
    case Plans.renew(params["subscription_id"], alert_fields(params)) do
      {:ok, _} -> send_resp(conn, 200, "")
      _error -> send_resp(conn, 500, "")
    end
  end

  def create(conn, params = %{"alert_name" => "subscription_cancelled"}) do
    case Plans.end_plan(params["subscription_id"]) do
      {:ok, _} -> send_resp(conn, 200, "")
      _error -> send_resp(conn, 500, "")
    end
  end

  def create(conn, _params), do: send_resp(conn, 200, "")

  defp alert_fields(params) do
    %{
      "paddle_subscription_id" => params["subscription_id"],
      "status" => params["status"],
      "renews_on" => params["next_bill_date"]
    }
  end

  defp check_signature(conn, _opts) do
    if Ledgerly.PaddleSignature.valid?(conn.params) do
      conn
    else
      conn |> send_resp(403, "") |> halt()
    end
  end
end
"#;

/// The billing context, wrapped in a macro of the app that only compiles it when hosted.
const BILLING_BASE: &str = r#"Ledgerly.when_hosted do
  defmodule Ledgerly.Plans do
    alias Ledgerly.Repo
    alias Ledgerly.Plans.Plan

    def start(account_id, attrs) do
      %Plan{account_id: account_id}
      |> Plan.changeset(attrs)
      |> Repo.insert()
    end

    def renew(subscription_id, attrs) do
      subscription_id
      |> get_plan!()
      |> Plan.changeset(attrs)
      |> Repo.update()
    end

    def end_plan(subscription_id) do
      subscription_id
      |> get_plan!()
      |> Plan.changeset(%{status: "deleted"})
      |> Repo.update()
    end

    defp get_plan!(id), do: Repo.get_by!(Plan, paddle_subscription_id: id)
  end
end
"#;

fn app() -> tempfile::TempDir {
    committed_repo(&[(CONTROLLER, CONTROLLER_BASE), (BILLING, BILLING_BASE)])
}

fn changed(from: &str, to: &str) -> String {
    let out = CONTROLLER_BASE.replace(from, to);
    assert_ne!(out, CONTROLLER_BASE, "the edit must apply");
    out
}

fn finding<'v>(v: &'v serde_json::Value, rule: &str) -> Option<&'v serde_json::Value> {
    v["findings"].as_array().unwrap().iter().find(|f| f["rule"] == rule)
}

#[test]
fn a_cancelled_alert_that_no_longer_ends_the_plan_is_found() {
    let dir = app();
    let after = changed(
        "    case Plans.end_plan(params[\"subscription_id\"]) do\n      {:ok, _} -> send_resp(conn, 200, \"\")\n      _error -> send_resp(conn, 500, \"\")\n    end",
        "    Logger.info(\"cancelled #{params[\"subscription_id\"]}\")\n    send_resp(conn, 200, \"\")",
    );
    write(dir.path(), CONTROLLER, &after);
    let v = review(dir.path());
    let high = high_rules(&v);
    assert!(high.contains(&"WH005".to_string()) || high.contains(&"WH008".to_string()), "{v:#}");
    let text = v.to_string();
    assert!(text.contains("subscription_cancelled"), "the event is named by its alert name: {v:#}");
}

#[test]
fn a_reformatted_paddle_classic_controller_raises_nothing_high() {
    let dir = app();
    let after = changed("  def create(conn, _params), do: send_resp(conn, 200, \"\")", "  def create(conn, _params) do\n    send_resp(conn, 200, \"\")\n  end");
    write(dir.path(), CONTROLLER, &after);
    let v = review(dir.path());
    assert!(high_rules(&v).is_empty(), "{v:#}");
    assert_eq!(v["scope"]["handler_files"].as_array().map_or(0, Vec::len), 1, "the controller is a handler: {v:#}");
    // Paddle Classic signs the form fields: checking them parsed is right, no WH002 even low.
    assert!(finding(&v, "WH002").is_none(), "{v:#}");
}

#[test]
fn a_signature_plug_that_only_logs_a_mismatch_lets_forged_alerts_through() {
    let dir = app();
    let after = changed(
        "      conn |> send_resp(403, \"\") |> halt()",
        "      Logger.warning(\"bad Paddle signature for #{conn.params[\"alert_name\"]}\")\n      conn",
    );
    write(dir.path(), CONTROLLER, &after);
    let v = review(dir.path());
    assert!(high_rules(&v).contains(&"WH003".to_string()), "{v:#}");
}

#[test]
fn a_signature_plug_that_logs_and_still_halts_is_no_fail_open() {
    let dir = app();
    let after = changed(
        "      conn |> send_resp(403, \"\") |> halt()",
        "      Logger.warning(\"bad Paddle signature\")\n      conn |> send_resp(403, \"\") |> halt()",
    );
    write(dir.path(), CONTROLLER, &after);
    let v = review(dir.path());
    assert!(!high_rules(&v).contains(&"WH003".to_string()), "{v:#}");
}

#[test]
fn a_failure_answered_200_by_a_catch_all_arm_is_a_swallowed_error_not_a_lost_write() {
    let dir = app();
    let after = changed(
        "    case Plans.renew(params[\"subscription_id\"], alert_fields(params)) do\n      {:ok, _} -> send_resp(conn, 200, \"\")\n      _error -> send_resp(conn, 500, \"\")",
        "    case Plans.renew(params[\"subscription_id\"], alert_fields(params)) do\n      {:ok, _} -> send_resp(conn, 200, \"\")\n      other ->\n        Logger.error(\"renewal not recorded: #{inspect(other)}\")\n        send_resp(conn, 200, \"\")",
    );
    write(dir.path(), CONTROLLER, &after);
    let v = review(dir.path());
    let high = high_rules(&v);
    assert!(high.contains(&"WH010".to_string()), "{v:#}");
    assert!(!high.contains(&"WH008".to_string()), "the renewal still writes: {v:#}");
}

#[test]
fn attributes_built_by_code_the_review_does_not_read_are_a_medium_to_check_not_a_lost_grant() {
    let dir = app();
    let after = changed(
        "  defp alert_fields(params) do\n    %{\n      \"paddle_subscription_id\" => params[\"subscription_id\"],\n      \"status\" => params[\"status\"],\n      \"renews_on\" => params[\"next_bill_date\"]\n    }\n  end",
        "  @fields %{\"subscription_id\" => \"paddle_subscription_id\", \"status\" => \"status\", \"next_bill_date\" => \"renews_on\"}\n\n  defp alert_fields(params) do\n    Enum.reduce(@fields, %{}, fn {from, to}, acc -> Map.put(acc, to, params[from]) end)\n  end",
    );
    write(dir.path(), CONTROLLER, &after);
    let v = review(dir.path());
    assert!(high_rules(&v).is_empty(), "{v:#}");
    let wh004 = finding(&v, "WH004").unwrap_or_else(|| panic!("the grant that may be gone is still named: {v:#}"));
    assert_eq!(wh004["severity"], "medium", "{v:#}");
    assert!(wh004["message"].as_str().unwrap().contains("attributes"), "{v:#}");
}

#[test]
fn the_billing_module_inside_an_app_macro_is_followed() {
    // The end of the plan lives in `Ledgerly.Plans`, inside `Ledgerly.when_hosted do ... end`:
    // dropping its status write is seen through the controller that calls it.
    let dir = app();
    let after = BILLING_BASE.replace("      |> Plan.changeset(%{status: \"deleted\"})\n      |> Repo.update()", "      |> then(&{:ok, &1})");
    assert_ne!(after, BILLING_BASE);
    write(dir.path(), BILLING, &after);
    let v = review(dir.path());
    assert!(high_rules(&v).contains(&"WH005".to_string()), "{v:#}");
}

#[test]
fn a_changeset_rebound_from_itself_is_read_without_looping() {
    // `changeset = change(changeset, ...)` binds a local to a call of itself: the walk
    // that follows locals must stop, and the write is still read.
    let handler = r#"defmodule ShopWeb.StripeWebhookController do
  use ShopWeb, :controller
  alias Shop.{Repo, Account}

  def create(conn, _params) do
    {:ok, event} = Stripe.Webhook.construct_event(conn.assigns.raw_body, signature(conn), secret())
    handle(event)
    send_resp(conn, 200, "")
  end

  defp handle(%{type: "customer.subscription.deleted", data: %{object: sub}}) do
    account = Repo.get_by!(Account, stripe_customer_id: sub.customer)
    changeset = Ecto.Changeset.change(account, %{})
    changeset = Ecto.Changeset.change(changeset, plan: "free")
    changeset = Ecto.Changeset.change(changeset, has_paid_access: false)
    Repo.update!(changeset)
  end

  defp handle(_event), do: :ok

  defp signature(conn), do: conn |> get_req_header("stripe-signature") |> List.first()
  defp secret, do: System.fetch_env!("STRIPE_WEBHOOK_SECRET")
end
"#;
    let path = "lib/shop_web/controllers/stripe_webhook_controller.ex";
    let dir = committed_repo(&[(path, handler)]);
    write(dir.path(), path, &handler.replace("    changeset = Ecto.Changeset.change(changeset, has_paid_access: false)\n", ""));
    let v = review(dir.path());
    assert!(high_rules(&v).contains(&"WH005".to_string()), "{v:#}");
}

// --- Rails: a `before_action` checking `p_signature` with the RSA public key, and
// attributes written through strong parameters (`params.permit(:status, ...)`).

const RAILS_PATH: &str = "app/controllers/paddle_webhooks_controller.rb";

const RAILS: &str = r#"class PaddleWebhooksController < ApplicationController
  before_action :verify_webhook
  skip_before_action :verify_authenticity_token

  def create
    case params[:alert_name]
    when "subscription_created"
      subscription_created
    when "subscription_cancelled"
      subscription_cancelled
    end
  end

  def subscription_created
    organization = Organization.find(params[:passthrough])
    organization.build_subscription(paddle_subscription_params)
    organization.save ? head(200) : head(500)
  end

  def subscription_cancelled
    subscription = Subscription.find_by_paddle_subscription_id(params[:subscription_id])
    return head 200 if subscription.nil?

    subscription.update(paddle_cancellation_params) ? head(200) : head(500)
  end

  private

  def verify_webhook
    signature = Base64.decode64(params["p_signature"])
    data = PHP.serialize(params.as_json.except("p_signature", "controller", "action").sort.to_h, true)
    return head(403) unless public_key.verify(OpenSSL::Digest.new("SHA1"), signature, data)
  end

  def public_key
    OpenSSL::PKey::RSA.new(ENV.fetch("PADDLE_PUBLIC_KEY")).public_key
  end

  def paddle_subscription_params
    params.permit(:subscription_id, :subscription_plan_id, :status, :next_bill_date)
  end

  def paddle_cancellation_params
    params.permit(:subscription_id, :subscription_plan_id, :status, :cancellation_effective_date)
  end
end
"#;

#[test]
fn an_rsa_signature_filter_is_verification_and_returning_early_without_its_key_is_wh003() {
    // Unchanged, the RSA check counts: no "no signature verification" finding.
    let dir = committed_repo(&[(RAILS_PATH, RAILS)]);
    write(dir.path(), RAILS_PATH, &RAILS.replace("  def create\n", "  # Paddle Classic alerts\n  def create\n"));
    let v = review(dir.path());
    assert!(finding(&v, "WH001").is_none(), "{v:#}");
    assert!(high_rules(&v).is_empty(), "{v:#}");

    // The filter lets requests through when no key is configured.
    let dir = committed_repo(&[(RAILS_PATH, RAILS)]);
    write(dir.path(), RAILS_PATH, &RAILS.replace("  def verify_webhook\n", "  def verify_webhook\n    return if ENV[\"PADDLE_PUBLIC_KEY\"].blank?\n\n"));
    let v = review(dir.path());
    assert!(high_rules(&v).contains(&"WH003".to_string()), "{v:#}");
}

#[test]
fn a_status_no_longer_permitted_on_cancellation_is_a_lost_revocation() {
    let dir = committed_repo(&[(RAILS_PATH, RAILS)]);
    write(
        dir.path(),
        RAILS_PATH,
        &RAILS.replace(":subscription_plan_id, :status, :cancellation_effective_date)", ":subscription_plan_id, :cancellation_effective_date)"),
    );
    let v = review(dir.path());
    assert!(high_rules(&v).contains(&"WH005".to_string()), "{v:#}");

    // Quiet: a field that is no access state leaves the list.
    let dir = committed_repo(&[(RAILS_PATH, RAILS)]);
    write(dir.path(), RAILS_PATH, &RAILS.replace(":subscription_plan_id, :status, :cancellation_effective_date)", ":status, :cancellation_effective_date)"));
    let v = review(dir.path());
    assert!(high_rules(&v).is_empty(), "{v:#}");
}

// --- Django: a view that hands each alert to a signal named by `alert_name`.

const DJANGO_PATH: &str = "django_paddle/views.py";

const DJANGO: &str = r#"from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .utils import webhook_signature_is_valid
from django_paddle import signals


@csrf_exempt
@require_POST
def webhook(request):
    payload = request.POST.dict()

    if webhook_signature_is_valid(payload):
        signal = getattr(signals, payload['alert_name'])
        if signal:
            signal.send(sender=None, payload=payload)
    return HttpResponse()
"#;

#[test]
fn a_signal_dispatching_view_whose_check_now_needs_a_configured_key_is_wh003() {
    let dir = committed_repo(&[(DJANGO_PATH, DJANGO)]);
    write(
        dir.path(),
        DJANGO_PATH,
        &DJANGO
            .replace("    if webhook_signature_is_valid(payload):\n", "    if getattr(settings, 'PADDLE_PUBLIC_KEY', None) and not webhook_signature_is_valid(payload):\n        return HttpResponse()\n    if True:\n")
            .replace("from django.http", "from django.conf import settings\nfrom django.http"),
    );
    let v = review(dir.path());
    assert!(high_rules(&v).contains(&"WH003".to_string()), "{v:#}");

    // Quiet: the same check, reworded.
    let dir = committed_repo(&[(DJANGO_PATH, DJANGO)]);
    write(dir.path(), DJANGO_PATH, &DJANGO.replace("    if webhook_signature_is_valid(payload):\n", "    valid = webhook_signature_is_valid(payload)\n    if valid:\n"));
    let v = review(dir.path());
    assert!(high_rules(&v).is_empty(), "{v:#}");
}

const RECEIVERS_PATH: &str = "django_paddle/receivers.py";

const RECEIVERS: &str = r#"from django.dispatch import receiver
from .signals import subscription_created, subscription_cancelled
from .models import PaddleSubscription


@receiver(subscription_created)
def subscription_created_receiver(**kwargs):
    payload = kwargs['payload']
    PaddleSubscription.objects.create(id=payload['subscription_id'], state=payload['status'])


@receiver(subscription_cancelled)
def subscription_cancelled_receiver(**kwargs):
    payload = kwargs['payload']
    subscription = PaddleSubscription.objects.get(id=payload['subscription_id'])
    subscription.cancellation_effective_date = payload['cancellation_effective_date']
    subscription.state = payload['status']
    subscription.save()
"#;

#[test]
fn a_signal_receiver_that_no_longer_records_the_cancelled_state_is_wh005() {
    let dir = committed_repo(&[(RECEIVERS_PATH, RECEIVERS)]);
    write(dir.path(), RECEIVERS_PATH, &RECEIVERS.replace("    subscription.state = payload['status']\n    subscription.save()\n", "    subscription.save(update_fields=['cancellation_effective_date'])\n"));
    let v = review(dir.path());
    assert!(high_rules(&v).contains(&"WH005".to_string()), "{v:#}");

    // Quiet: the same writes, the save narrowed to the two fields it changes.
    let dir = committed_repo(&[(RECEIVERS_PATH, RECEIVERS)]);
    write(dir.path(), RECEIVERS_PATH, &RECEIVERS.replace("    subscription.save()\n", "    subscription.save(update_fields=['cancellation_effective_date', 'state'])\n"));
    let v = review(dir.path());
    assert!(high_rules(&v).is_empty(), "{v:#}");
}
