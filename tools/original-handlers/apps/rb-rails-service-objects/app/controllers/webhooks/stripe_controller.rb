module Webhooks
  class StripeController < ActionController::API
    def create
      event = Stripe::Webhook.construct_event(
        request.raw_post,
        request.headers["Stripe-Signature"],
        ENV.fetch("STRIPE_WEBHOOK_SECRET")
      )

      case event.type
      when "checkout.session.completed"
        Billing::ActivateSubscription.call(event.data.object)
      when "customer.subscription.deleted"
        Billing::CancelSubscription.call(event.data.object)
      else
        Rails.logger.info("stripe: ignoring #{event.type}")
      end

      head :ok
    rescue JSON::ParserError, Stripe::SignatureVerificationError
      head :bad_request
    end
  end
end
