//! Shapes from real Phoenix apps: one function clause handling every event of a module
//! attribute (`when is_map_key(@statuses, type)`) and writing that event's entry.
//! Each shape has a regression and a quiet twin.

#[path = "support/git.rs"]
mod git_support;
use git_support::{committed_repo, high_rules, review, write};

const HANDLER_PATH: &str = "lib/app_web/stripe_handler.ex";
const BILLING_PATH: &str = "lib/app/billing.ex";

const HANDLER: &str = r#"defmodule AppWeb.StripeHandler do
  @behaviour Stripe.WebhookHandler

  alias App.Billing

  @impl true
  def handle_event(%Stripe.Event{type: "invoice.paid", data: %{object: invoice}}) do
    Billing.set_status(invoice.customer, "active")
  end

  @impl true
  def handle_event(%Stripe.Event{type: "customer.subscription.deleted", data: %{object: sub}}) do
    Billing.set_status(sub.customer, "canceled")
  end

  @impl true
  def handle_event(_event), do: :ok
end
"#;

const BILLING: &str = r#"defmodule App.Billing do
  alias App.{Account, Repo}

  def set_status(customer_id, status) do
    Account
    |> Repo.get_by!(stripe_customer_id: customer_id)
    |> Account.changeset(%{subscription_status: status})
    |> Repo.update()
  end
end
"#;

/// The two clauses merged into one driven by a status table; `deleted` maps to `deleted_status`.
fn merged(deleted_status: &str) -> String {
    format!(
        r#"defmodule AppWeb.StripeHandler do
  @behaviour Stripe.WebhookHandler

  alias App.Billing

  @statuses %{{
    "invoice.paid" => "active",
    "customer.subscription.deleted" => "{deleted_status}"
  }}

  @impl true
  def handle_event(%Stripe.Event{{type: type, data: %{{object: object}}}}) when is_map_key(@statuses, type) do
    Billing.set_status(object.customer, Map.fetch!(@statuses, type))
  end

  @impl true
  def handle_event(_event), do: :ok
end
"#
    )
}

#[test]
fn clauses_merged_into_a_status_table_keep_each_events_write() {
    let files = [(HANDLER_PATH, HANDLER), (BILLING_PATH, BILLING)];
    let dir = committed_repo(&files);
    write(dir.path(), HANDLER_PATH, &merged("active"));
    let v = review(dir.path());
    assert!(high_rules(&v).contains(&"WH005".to_string()), "{v:#}");

    // Quiet: the same statuses, read from the table.
    let dir = committed_repo(&files);
    write(dir.path(), HANDLER_PATH, &merged("canceled"));
    let v = review(dir.path());
    assert!(high_rules(&v).is_empty(), "{v:#}");
}

const CONTROLLER_PATH: &str = "lib/app_web/controllers/stripe_controller.ex";

const CONTROLLER: &str = r#"defmodule AppWeb.StripeController do
  use AppWeb, :controller

  alias App.Billing
  require Logger

  def webhook(conn, _params) do
    [signature] = get_req_header(conn, "stripe-signature")
    {:ok, event} = Stripe.Webhook.construct_event(conn.assigns.raw_body, signature, secret())

    case handle_event(event) do
      {:ok, _} -> handle_success(conn)
      {:error, error} -> handle_error(conn, error)
    end
  end

  defp handle_success(conn) do
    conn
    |> put_resp_content_type("text/plain")
    |> send_resp(200, "ok")
  end

  defp handle_error(conn, error) do
    conn
    |> put_resp_content_type("text/plain")
    |> send_resp(422, inspect(error))
  end

  defp handle_event(%{type: "customer.subscription.deleted", data: %{object: sub}}) do
    Billing.set_status(sub.customer, "canceled")
  end

  defp handle_event(_event), do: {:ok, :ignored}

  defp secret, do: Application.fetch_env!(:app, :stripe_webhook_secret)
end
"#;

#[test]
fn an_error_now_answered_by_the_success_helper_is_wh010() {
    let files = [(CONTROLLER_PATH, CONTROLLER), (BILLING_PATH, BILLING)];
    let dir = committed_repo(&files);
    write(
        dir.path(),
        CONTROLLER_PATH,
        &CONTROLLER.replace("      {:error, error} -> handle_error(conn, error)\n", "      {:error, error} ->\n        Logger.error(\"stripe webhook failed: #{inspect(error)}\")\n        handle_success(conn)\n"),
    );
    let v = review(dir.path());
    assert!(high_rules(&v).contains(&"WH010".to_string()), "{v:#}");

    // Quiet: the same failure logged, still answered by the error helper.
    let dir = committed_repo(&files);
    write(
        dir.path(),
        CONTROLLER_PATH,
        &CONTROLLER.replace("      {:error, error} -> handle_error(conn, error)\n", "      {:error, error} ->\n        Logger.error(\"stripe webhook failed: #{inspect(error)}\")\n        handle_error(conn, error)\n"),
    );
    let v = review(dir.path());
    assert!(high_rules(&v).is_empty(), "{v:#}");
}
