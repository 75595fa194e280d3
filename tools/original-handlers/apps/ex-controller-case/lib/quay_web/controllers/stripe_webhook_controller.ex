defmodule QuayWeb.StripeWebhookController do
  use QuayWeb, :controller

  alias Quay.Billing

  def create(conn, _params) do
    [signature] = get_req_header(conn, "stripe-signature")
    raw_body = conn.assigns[:raw_body] |> IO.iodata_to_binary()
    secret = Application.fetch_env!(:quay, :stripe_webhook_secret)

    case Stripe.Webhook.construct_event(raw_body, signature, secret) do
      {:ok, %Stripe.Event{} = event} ->
        :ok = dispatch(event)
        send_resp(conn, 200, "ok")

      {:error, reason} ->
        send_resp(conn, 400, inspect(reason))
    end
  end

  defp dispatch(%Stripe.Event{type: type, data: %{object: object}}) do
    case type do
      "invoice.paid" -> Billing.set_plan(object.customer, "pro")
      "customer.subscription.deleted" -> Billing.set_plan(object.customer, "free")
      _ -> :ok
    end
  end
end
