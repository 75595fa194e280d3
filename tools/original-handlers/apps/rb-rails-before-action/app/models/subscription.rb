class Subscription < ApplicationRecord
  belongs_to :team

  scope :entitling, -> { where(status: %w[active trialing]) }
end
