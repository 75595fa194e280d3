defmodule Lumen.Accounts.User do
  use Ecto.Schema
  import Ecto.Changeset

  schema "users" do
    field :email, :string
    field :stripe_customer_id, :string
    field :subscribed, :boolean, default: false
    timestamps()
  end

  def billing_changeset(user, attrs) do
    cast(user, attrs, [:stripe_customer_id, :subscribed])
  end
end
