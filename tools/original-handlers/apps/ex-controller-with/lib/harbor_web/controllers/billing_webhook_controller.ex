defmodule HarborWeb.BillingWebhookController do
  use HarborWeb, :controller
  require Logger

  alias Harbor.Subscriptions

  def stripe(conn, _params) do
    with [sig] <- get_req_header(conn, "stripe-signature"),
         {:ok, event} <- Stripe.Webhook.construct_event(conn.assigns.raw_body, sig, secret()),
         :ok <- handle(event) do
      send_resp(conn, 200, "")
    else
      {:error, %Stripe.Error{} = err} ->
        Logger.warning("stripe signature: #{inspect(err)}")
        send_resp(conn, 400, "bad signature")

      {:error, reason} ->
        Logger.error("stripe webhook failed: #{inspect(reason)}")
        send_resp(conn, 500, "retry")

      _ ->
        send_resp(conn, 400, "")
    end
  end

  defp handle(%{type: type, data: %{object: sub}})
       when type in ["customer.subscription.created", "customer.subscription.updated", "customer.subscription.deleted"] do
    Subscriptions.sync(sub)
  end

  defp handle(_event), do: :ok

  defp secret, do: Application.fetch_env!(:harbor, :stripe_webhook_secret)
end
