defmodule MyAppWeb.PaddleWebhookController do
  @moduledoc "POST /webhooks/paddle: Paddle Billing notifications."
  use MyAppWeb, :controller

  require Logger
  import Ecto.Query

  alias MyApp.Accounts.Account
  alias MyApp.Repo

  @max_age 5

  def create(conn, _params) do
    raw = conn.assigns[:raw_body]
    header = conn |> get_req_header("paddle-signature") |> List.first("")

    if valid_signature?(header, raw, System.fetch_env!("PADDLE_WEBHOOK_SECRET")) do
      handle(Jason.decode!(raw))
      send_resp(conn, 200, "ok")
    else
      send_resp(conn, 401, "invalid signature")
    end
  end

  defp handle(%{"event_type" => type, "data" => %{"customer_id" => customer, "status" => status}})
       when type in ["subscription.activated", "subscription.updated"] do
    entitled = status in ["active", "trialing"]
    from(a in Account, where: a.paddle_customer_id == ^customer) |> Repo.update_all(set: [has_paid_access: entitled])
  end

  defp handle(%{"event_type" => "subscription.canceled", "data" => %{"customer_id" => customer}}) do
    from(a in Account, where: a.paddle_customer_id == ^customer)
    |> Repo.update_all(set: [has_paid_access: false, plan: "free"])
  end

  defp handle(%{"event_type" => type}), do: Logger.info("ignoring paddle event #{type}")

  # Paddle-Signature: ts=...;h1=...[;h1=... while a secret is rotated]
  defp valid_signature?(header, raw, secret) do
    parts = header |> String.split(";") |> Enum.map(&String.split(&1, "=", parts: 2))
    ts = Enum.find_value(parts, fn [k, v] -> if k == "ts", do: v end)
    signatures = for ["h1", v] <- parts, do: v

    with ts when is_binary(ts) <- ts,
         true <- abs(System.system_time(:second) - String.to_integer(ts)) <= @max_age do
      expected = :crypto.mac(:hmac, :sha256, secret, "#{ts}:#{raw}") |> Base.encode16(case: :lower)
      Enum.any?(signatures, fn signature -> Plug.Crypto.secure_compare(expected, signature) end)
    else
      _ -> false
    end
  end
end
