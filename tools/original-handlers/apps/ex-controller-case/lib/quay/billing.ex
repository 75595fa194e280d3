defmodule Quay.Billing do
  import Ecto.Query
  alias Quay.Repo
  alias Quay.Accounts.Org

  def set_plan(customer_id, plan) do
    {_count, _} =
      from(o in Org, where: o.stripe_customer_id == ^customer_id)
      |> Repo.update_all(set: [plan: plan, plan_changed_at: DateTime.utc_now()])

    :ok
  end
end
