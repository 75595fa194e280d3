defmodule Lumen.StripeHandler do
  @behaviour Stripe.WebhookHandler

  alias Lumen.Accounts

  @impl true
  def handle_event(%Stripe.Event{type: "checkout.session.completed", data: %{object: session}}) do
    if session.payment_status == "paid" do
      Accounts.activate_subscription(session.client_reference_id, session.customer)
    end

    :ok
  end

  def handle_event(%Stripe.Event{type: "customer.subscription.deleted", data: %{object: sub}}) do
    Accounts.cancel_subscription(sub.customer)
    :ok
  end

  def handle_event(_event), do: :ok
end
