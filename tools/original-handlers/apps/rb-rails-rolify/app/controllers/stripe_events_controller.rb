class StripeEventsController < ApplicationController
  skip_before_action :verify_authenticity_token

  def receive
    event = Stripe::Webhook.construct_event(request.raw_post, request.headers["Stripe-Signature"], ENV["STRIPE_WEBHOOK_SECRET"])
  rescue Stripe::SignatureVerificationError, JSON::ParserError
    head :bad_request
  else
    object = event.data.object
    if event.type == "invoice.paid"
      User.for_stripe(object.customer)&.make_premium!
    elsif event.type == "customer.subscription.deleted"
      User.for_stripe(object.customer)&.drop_premium!
    end
    head :ok
  end
end
