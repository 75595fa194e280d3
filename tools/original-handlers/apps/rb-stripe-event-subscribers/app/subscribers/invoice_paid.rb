module Subscribers
  class InvoicePaid
    def call(event)
      invoice = event.data.object
      account = Account.find_by(stripe_customer_id: invoice.customer)
      return unless account

      account.update!(status: "active", paid_through: Time.zone.at(invoice.lines.data.first.period.end))
    end
  end
end
