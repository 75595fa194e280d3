class Account < ApplicationRecord
  ENTITLED = %w[active trialing past_due].freeze

  def entitled?
    ENTITLED.include?(status)
  end
end
