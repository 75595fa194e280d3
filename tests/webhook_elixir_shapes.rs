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

const ORDERS_PATH: &str = "lib/app_web/controllers/stripe_orders_controller.ex";

/// A controller answering 200 after a handler clause; `handled` is that clause's body end.
fn orders_controller(call: &str, clause_end: &str) -> String {
    format!(
        r#"defmodule AppWeb.StripeOrdersController do
  use AppWeb, :controller
  require Logger
  alias App.Orders

  def webhook(%Plug.Conn{{assigns: %{{stripe_event: stripe_event}}}} = conn, _params) do
    {call}
    conn |> put_resp_content_type("text/plain") |> send_resp(200, "ok")
  end

  def handle_webhook(%{{type: "checkout.session.completed", data: %{{object: session}}}}) do
    {{:ok, _}} = Orders.mark_paid(session.client_reference_id)
    Logger.info("handled webhook")
{clause_end}
  end

  def handle_webhook(_event), do: :ok
end
"#
    )
}

const ORDERS: &str = r#"defmodule App.Orders do
  alias App.{Order, Repo}

  def mark_paid(order_id) do
    Order
    |> Repo.get!(order_id)
    |> Order.changeset(%{paid: true})
    |> Repo.update()
  end
end
"#;

#[test]
fn a_handler_clause_that_now_catches_and_logs_every_error_is_wh010() {
    let before = orders_controller(":ok = handle_webhook(stripe_event)", "    :ok");
    let files = [(ORDERS_PATH, before.as_str()), ("lib/app/orders.ex", ORDERS)];
    let dir = committed_repo(&files);
    let logged = "  catch\n    kind, value ->\n      Logger.error(\"unhandled error in webhook: #{inspect(kind)} #{inspect(value)}\")";
    write(dir.path(), ORDERS_PATH, &orders_controller("handle_webhook(stripe_event)", logged));
    let v = review(dir.path());
    assert!(high_rules(&v).contains(&"WH010".to_string()), "{v:#}");

    // Quiet: the error is logged and raised again, so Phoenix still answers 500.
    let dir = committed_repo(&files);
    let reraised = "  catch\n    kind, value ->\n      Logger.error(\"unhandled error in webhook: #{inspect(kind)}\")\n      :erlang.raise(kind, value, __STACKTRACE__)";
    write(dir.path(), ORDERS_PATH, &orders_controller("handle_webhook(stripe_event)", reraised));
    let v = review(dir.path());
    assert!(!high_rules(&v).contains(&"WH010".to_string()), "{v:#}");
}

const WITH_PATH: &str = "lib/app_web/controllers/billing_webhook_controller.ex";

/// A `with` chain whose `else` maps the handler's failure; `failed` answers it.
fn with_controller(failed: &str) -> String {
    format!(
        r#"defmodule AppWeb.BillingWebhookController do
  use AppWeb, :controller
  require Logger

  def stripe(conn, _) do
    with [signature] <- get_req_header(conn, "stripe-signature"),
         {{:ok, %Stripe.Event{{}} = event}} <- Stripe.Webhook.construct_event(conn.assigns.raw_body, signature, secret()),
         :ok <- handle!(App.Billing, event) do
      send_resp(conn, 200, "received") |> halt()
    else
{failed}
      _ -> send_resp(conn, 400, "bad request") |> halt()
    end
  end

  defp handle!(handler, event) do
    case handler.handle_event(event) do
      :ok -> :ok
      {{:ok, _}} -> :ok
      {{:error, reason}} -> {{:handle_error, inspect(reason)}}
    end
  end

  defp secret, do: Application.fetch_env!(:app, :stripe_webhook_secret)
end
"#
    )
}

#[test]
fn a_with_else_arm_that_now_acknowledges_a_failed_handler_is_wh010() {
    let before = with_controller("      {:handle_error, reason} -> send_resp(conn, 400, reason) |> halt()");
    let dir = committed_repo(&[(WITH_PATH, before.as_str())]);
    let acknowledged = "      {:handle_error, reason} ->\n        Logger.error(\"failed to handle stripe event: #{reason}\")\n        send_resp(conn, 200, \"received\") |> halt()";
    write(dir.path(), WITH_PATH, &with_controller(acknowledged));
    let v = review(dir.path());
    assert!(high_rules(&v).contains(&"WH010".to_string()), "{v:#}");

    // Quiet: still an error status, now a 500.
    let dir = committed_repo(&[(WITH_PATH, before.as_str())]);
    write(dir.path(), WITH_PATH, &with_controller("      {:handle_error, reason} ->\n        Logger.error(\"failed to handle stripe event: #{reason}\")\n        send_resp(conn, 500, reason) |> halt()"));
    let v = review(dir.path());
    assert!(!high_rules(&v).contains(&"WH010".to_string()), "{v:#}");
}
