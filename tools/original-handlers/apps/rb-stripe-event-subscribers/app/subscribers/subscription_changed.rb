module Subscribers
  class SubscriptionChanged
    def call(event)
      sub = event.data.object
      account = Account.find_by(stripe_customer_id: sub.customer)
      return unless account

      account.update!(status: sub.status, cancel_at_period_end: sub.cancel_at_period_end)
    end
  end
end
