defmodule Tally.Repo.Migrations.CreateCustomers do
  use Ecto.Migration

  def change do
    create table(:customers) do
      add :paddle_customer_id, :string
      add :has_access, :boolean, default: false, null: false
    end

    create unique_index(:customers, [:paddle_customer_id])
  end
end
