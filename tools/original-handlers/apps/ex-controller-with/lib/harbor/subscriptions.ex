defmodule Harbor.Subscriptions do
  alias Harbor.Repo
  alias Harbor.Subscriptions.Subscription

  @entitling ~w(active trialing)

  def sync(%{id: id, customer: customer, status: status}) do
    record = Repo.get_by(Subscription, stripe_id: id) || %Subscription{stripe_id: id}

    record
    |> Subscription.changeset(%{customer_id: customer, status: status, active: status in @entitling})
    |> Repo.insert_or_update()
    |> case do
      {:ok, _} -> :ok
      {:error, changeset} -> {:error, changeset}
    end
  end
end
