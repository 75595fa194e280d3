defmodule Forge.Events do
  import Ecto.Query
  alias Forge.Repo

  def processed?(event_id) do
    Repo.exists?(from e in "processed_events", where: e.id == ^event_id)
  end

  def mark_processed!(event_id) do
    Repo.insert_all("processed_events", [%{id: event_id, inserted_at: DateTime.utc_now()}], on_conflict: :nothing)
  end
end
