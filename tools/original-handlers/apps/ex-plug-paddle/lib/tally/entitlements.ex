defmodule Tally.Entitlements do
  import Ecto.Query
  alias Tally.{Repo, Customer}

  def grant(paddle_customer_id) do
    from(c in Customer, where: c.paddle_customer_id == ^paddle_customer_id)
    |> Repo.update_all(set: [has_access: true])

    :ok
  end

  def revoke(paddle_customer_id) do
    from(c in Customer, where: c.paddle_customer_id == ^paddle_customer_id)
    |> Repo.update_all(set: [has_access: false])

    :ok
  end
end
