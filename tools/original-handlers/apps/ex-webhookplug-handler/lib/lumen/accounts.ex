defmodule Lumen.Accounts do
  import Ecto.Query
  alias Lumen.Accounts.User
  alias Lumen.Repo

  def activate_subscription(user_id, customer_id) do
    User
    |> Repo.get!(user_id)
    |> User.billing_changeset(%{stripe_customer_id: customer_id, subscribed: true})
    |> Repo.update!()
  end

  def cancel_subscription(customer_id) do
    from(u in User, where: u.stripe_customer_id == ^customer_id)
    |> Repo.update_all(set: [subscribed: false])
  end
end
