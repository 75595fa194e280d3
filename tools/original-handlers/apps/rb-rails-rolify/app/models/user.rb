class User < ApplicationRecord
  rolify

  def self.for_stripe(customer_id)
    find_by(stripe_customer_id: customer_id)
  end

  def make_premium!
    add_role(:premium) unless has_role?(:premium)
  end

  def drop_premium!
    remove_role(:premium)
  end
end
