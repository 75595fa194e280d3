Stripe.api_key = ENV["STRIPE_SECRET_KEY"]
StripeEvent.signing_secret = ENV["STRIPE_SIGNING_SECRET"]

StripeEvent.configure do |events|
  events.subscribe "invoice.payment_succeeded", Subscribers::InvoicePaid.new
  events.subscribe "customer.subscription.updated", Subscribers::SubscriptionChanged.new
  events.subscribe "customer.subscription.deleted", Subscribers::SubscriptionChanged.new
end
