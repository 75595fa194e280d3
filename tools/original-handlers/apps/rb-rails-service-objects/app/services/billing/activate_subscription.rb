module Billing
  class ActivateSubscription
    def self.call(session)
      return unless session.payment_status == "paid"

      user = User.find(session.client_reference_id)
      user.update!(stripe_customer_id: session.customer, plan: "pro", pro: true)
    end
  end
end
