ActiveRecord::Schema[7.1].define(version: 2024_03_01_000000) do
  create_table "users", force: :cascade do |t|
    t.string "email", null: false
    t.string "stripe_customer_id"
    t.string "plan", default: "free", null: false
    t.boolean "pro", default: false, null: false
    t.index ["stripe_customer_id"], unique: true
  end
end
