# frozen_string_literal: true

# app/controllers/stripe_webhooks_controller.rb
class StripeWebhooksController < ApplicationController
  skip_before_action :verify_authenticity_token
  skip_before_action :authenticate_user!

  PLAN_BY_PRICE = {
    "price_1PqStarterMonthly" => "starter",
    "price_1PqProMonthly" => "pro",
  }.freeze

  def create
    payload = request.body.read
    signature = request.headers["Stripe-Signature"]
    begin
      event = Stripe::Webhook.construct_event(payload, signature, ENV.fetch("STRIPE_WEBHOOK_SECRET"))
    rescue JSON::ParserError, Stripe::SignatureVerificationError => e
      Rails.logger.warn("stripe webhook rejected: #{e.message}")
      return head :bad_request
    end

    return head :ok if ProcessedStripeEvent.exists?(event_id: event.id)

    ActiveRecord::Base.transaction do
      case event.type
      when "checkout.session.completed"
        handle_checkout_completed(event.data.object)
      when "customer.subscription.created", "customer.subscription.updated"
        handle_subscription_changed(event.data.object)
      when "customer.subscription.deleted"
        handle_subscription_deleted(event.data.object)
      when "invoice.payment_failed"
        handle_payment_failed(event.data.object)
      else
        Rails.logger.info("unhandled stripe event #{event.type}")
      end
      ProcessedStripeEvent.create!(event_id: event.id, event_type: event.type)
    end
    head :ok
  rescue ActiveRecord::ActiveRecordError => e
    Rails.logger.error("stripe webhook #{event&.id} failed: #{e.message}")
    head :internal_server_error
  end

  private

  def handle_checkout_completed(session)
    return unless session.payment_status == "paid"

    user = User.find_by(id: session.client_reference_id)
    return if user.nil?

    price_id = session.metadata["price_id"]
    user.update!(
      stripe_customer_id: session.customer,
      has_paid_access: true,
      plan: PLAN_BY_PRICE.fetch(price_id, "starter"),
    )
  end

  def handle_subscription_changed(data)
    subscription = Stripe::Subscription.retrieve(data.id)
    user = User.find_by(stripe_customer_id: subscription.customer)
    return if user.nil?

    paying = %w[active trialing].include?(subscription.status)
    price_id = subscription.items.data.first.price.id
    user.update!(has_paid_access: paying, plan: paying ? PLAN_BY_PRICE[price_id] : "free")
  end

  def handle_subscription_deleted(subscription)
    User.where(stripe_customer_id: subscription.customer).update_all(has_paid_access: false, plan: "free")
  end

  def handle_payment_failed(invoice)
    User.where(stripe_customer_id: invoice.customer).update_all(payment_failed_at: Time.current)
  end
end
