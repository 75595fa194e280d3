# frozen_string_literal: true

# config/initializers/stripe.rb: the stripe_event engine verifies the signature
# (StripeEvent.signing_secret) and calls these subscribers.
Stripe.api_key = ENV.fetch("STRIPE_SECRET_KEY")
StripeEvent.signing_secret = ENV.fetch("STRIPE_WEBHOOK_SECRET")

StripeEvent.configure do |events|
  events.subscribe "checkout.session.completed" do |event|
    session = event.data.object
    next unless session.payment_status == "paid"

    Account.where(id: session.client_reference_id).update_all(stripe_customer_id: session.customer, has_paid_access: true)
  end

  events.subscribe "customer.subscription.deleted" do |event|
    subscription = event.data.object
    Account.where(stripe_customer_id: subscription.customer).update_all(has_paid_access: false, plan: "free")
  end

  events.subscribe "invoice.paid" do |event|
    invoice = event.data.object
    Account.where(stripe_customer_id: invoice.customer).update_all(has_paid_access: true, last_paid_at: Time.current)
  end
end
