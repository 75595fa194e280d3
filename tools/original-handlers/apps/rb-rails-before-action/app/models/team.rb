class Team < ApplicationRecord
  has_one :subscription, dependent: :destroy

  def paid?
    subscription&.status.in?(%w[active trialing])
  end
end
