ActiveRecord::Schema[7.1].define(version: 2024_05_10_000000) do
  create_table "memberships", force: :cascade do |t|
    t.bigint "user_id", null: false
    t.string "paddle_customer_id"
    t.string "status", default: "none", null: false
    t.boolean "active", default: false, null: false
  end
end
