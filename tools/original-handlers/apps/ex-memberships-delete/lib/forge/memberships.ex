defmodule Forge.Memberships do
  import Ecto.Query
  alias Forge.Repo
  alias Forge.Memberships.Membership

  def ensure!(customer_id) do
    Repo.insert!(%Membership{stripe_customer_id: customer_id, tier: "member"},
      on_conflict: :nothing,
      conflict_target: :stripe_customer_id
    )
  end

  def remove!(customer_id) do
    from(m in Membership, where: m.stripe_customer_id == ^customer_id) |> Repo.delete_all()
  end
end
