defmodule MyAppWeb.StripeWebhookController do
  @moduledoc """
  POST /webhooks/stripe. The raw body is kept in conn.assigns.raw_body by
  MyAppWeb.CacheBodyReader (configured in the endpoint's Plug.Parsers).
  """
  use MyAppWeb, :controller

  require Logger
  import Ecto.Query

  alias MyApp.Accounts.User
  alias MyApp.Billing.ProcessedEvent
  alias MyApp.Repo

  @plans %{
    "price_1PqProMonthly" => "pro",
    "price_1PqTeamMonthly" => "team"
  }

  def create(conn, _params) do
    raw_body = conn.assigns[:raw_body]
    [signature | _] = get_req_header(conn, "stripe-signature")
    secret = System.fetch_env!("STRIPE_WEBHOOK_SECRET")

    case Stripe.Webhook.construct_event(raw_body, signature, secret) do
      {:ok, %Stripe.Event{} = event} ->
        if Repo.exists?(from(e in ProcessedEvent, where: e.event_id == ^event.id)) do
          send_resp(conn, 200, "duplicate")
        else
          case process(event) do
            {:ok, _} ->
              send_resp(conn, 200, "ok")

            {:error, reason} ->
              Logger.error("stripe webhook #{event.id} failed: #{inspect(reason)}")
              send_resp(conn, 500, "processing failed")
          end
        end

      {:error, reason} ->
        Logger.warning("stripe webhook rejected: #{inspect(reason)}")
        send_resp(conn, 400, "invalid signature")
    end
  end

  defp process(event) do
    Repo.transaction(fn ->
      handle_event(event)
      Repo.insert!(%ProcessedEvent{event_id: event.id, type: event.type})
    end)
  end

  defp handle_event(%Stripe.Event{type: "checkout.session.completed", data: %{object: session}}) do
    if session.payment_status == "paid" do
      User
      |> Repo.get!(session.client_reference_id)
      |> Ecto.Changeset.change(
        stripe_customer_id: session.customer,
        has_paid_access: true,
        plan: Map.get(@plans, session.metadata["price_id"], "pro")
      )
      |> Repo.update!()
    end
  end

  defp handle_event(%Stripe.Event{type: "customer.subscription.updated", data: %{object: data}}) do
    {:ok, subscription} = Stripe.Subscription.retrieve(data.id)
    paying = subscription.status in ["active", "trialing"]

    from(u in User, where: u.stripe_customer_id == ^subscription.customer)
    |> Repo.update_all(set: [has_paid_access: paying])
  end

  defp handle_event(%Stripe.Event{type: "customer.subscription.deleted", data: %{object: subscription}}) do
    from(u in User, where: u.stripe_customer_id == ^subscription.customer)
    |> Repo.update_all(set: [has_paid_access: false, plan: "free"])
  end

  defp handle_event(%Stripe.Event{type: "invoice.payment_failed", data: %{object: invoice}}) do
    from(u in User, where: u.stripe_customer_id == ^invoice.customer)
    |> Repo.update_all(set: [payment_failed_at: DateTime.utc_now()])
  end

  defp handle_event(%Stripe.Event{type: type}) do
    Logger.debug("ignoring stripe event #{type}")
    :ok
  end
end
