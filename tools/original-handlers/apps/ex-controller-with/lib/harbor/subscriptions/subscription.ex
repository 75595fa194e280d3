defmodule Harbor.Subscriptions.Subscription do
  use Ecto.Schema
  import Ecto.Changeset

  schema "subscriptions" do
    field :stripe_id, :string
    field :customer_id, :string
    field :status, :string
    field :active, :boolean, default: false
    timestamps()
  end

  def changeset(sub, attrs), do: cast(sub, attrs, [:stripe_id, :customer_id, :status, :active])
end
