defmodule Tally.PaddleRouter do
  use Plug.Router

  alias Tally.{Entitlements, PaddleSignature}

  plug :match
  plug :dispatch

  post "/paddle/webhook" do
    {:ok, raw, conn} = Plug.Conn.read_body(conn)
    header = conn |> get_req_header("paddle-signature") |> List.first("")

    if PaddleSignature.valid?(raw, header, System.fetch_env!("PADDLE_WEBHOOK_SECRET")) do
      raw |> Jason.decode!() |> handle()
      send_resp(conn, 200, "ok")
    else
      send_resp(conn, 401, "invalid signature")
    end
  end

  defp handle(%{"event_type" => "subscription.activated", "data" => data}),
    do: Entitlements.grant(data["customer_id"])

  defp handle(%{"event_type" => "subscription.canceled", "data" => data}),
    do: Entitlements.revoke(data["customer_id"])

  defp handle(_), do: :ok
end
