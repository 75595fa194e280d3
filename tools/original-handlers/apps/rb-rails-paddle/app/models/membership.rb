class Membership < ApplicationRecord
  belongs_to :user
end
