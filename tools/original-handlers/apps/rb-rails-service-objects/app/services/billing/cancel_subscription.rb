module Billing
  class CancelSubscription
    def self.call(subscription)
      user = User.find_by!(stripe_customer_id: subscription.customer)
      user.update!(plan: "free", pro: false)
    end
  end
end
