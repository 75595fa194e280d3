defmodule ForgeWeb.StripeController do
  use ForgeWeb, :controller

  alias Forge.{Events, Memberships}

  def webhook(conn, _params) do
    signature = conn |> get_req_header("stripe-signature") |> List.first()

    with {:ok, event} <- Stripe.Webhook.construct_event(conn.assigns.raw_body, signature, webhook_secret()) do
      unless Events.processed?(event.id) do
        apply_event(event)
        Events.mark_processed!(event.id)
      end

      json(conn, %{received: true})
    else
      {:error, _} -> conn |> put_status(400) |> json(%{error: "invalid signature"})
    end
  end

  defp apply_event(%{type: "invoice.paid", data: %{object: invoice}}),
    do: Memberships.ensure!(invoice.customer)

  defp apply_event(%{type: "customer.subscription.deleted", data: %{object: sub}}),
    do: Memberships.remove!(sub.customer)

  defp apply_event(_), do: :noop

  defp webhook_secret, do: Application.fetch_env!(:forge, :stripe_webhook_secret)
end
