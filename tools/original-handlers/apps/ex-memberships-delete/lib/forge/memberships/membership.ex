defmodule Forge.Memberships.Membership do
  use Ecto.Schema

  schema "memberships" do
    field :stripe_customer_id, :string
    field :tier, :string
    timestamps()
  end
end
