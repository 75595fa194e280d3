module StripeSignature
  extend ActiveSupport::Concern

  private

  def verify_stripe_signature!
    @event = Stripe::Webhook.construct_event(
      request.body.read,
      request.headers["HTTP_STRIPE_SIGNATURE"],
      Rails.application.credentials.dig(:stripe, :webhook_secret) || ENV.fetch("STRIPE_WEBHOOK_SECRET")
    )
  rescue JSON::ParserError, Stripe::SignatureVerificationError => e
    Rails.logger.warn("stripe signature rejected: #{e.message}")
    head :bad_request
  end
end
