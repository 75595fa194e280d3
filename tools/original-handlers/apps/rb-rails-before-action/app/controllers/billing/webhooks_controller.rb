class Billing::WebhooksController < ApplicationController
  include StripeSignature
  skip_forgery_protection
  before_action :verify_stripe_signature!

  def create
    case @event.type
    when "customer.subscription.created", "customer.subscription.updated"
      sync(@event.data.object)
    when "customer.subscription.deleted"
      Subscription.find_by(stripe_id: @event.data.object.id)&.destroy!
    end
    head :ok
  end

  private

  def sync(sub)
    record = Subscription.find_or_initialize_by(stripe_id: sub.id)
    record.update!(
      team: Team.find_by!(stripe_customer_id: sub.customer),
      status: sub.status,
      current_period_end: Time.zone.at(sub.current_period_end)
    )
  end
end
