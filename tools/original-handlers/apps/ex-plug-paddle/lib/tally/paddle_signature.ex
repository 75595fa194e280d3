defmodule Tally.PaddleSignature do
  @max_age 5

  def valid?(raw_body, header, secret) do
    with %{"ts" => ts, "h1" => h1} <- parse(header),
         {ts_int, ""} <- Integer.parse(ts),
         true <- abs(System.system_time(:second) - ts_int) <= @max_age do
      expected = :crypto.mac(:hmac, :sha256, secret, ts <> ":" <> raw_body) |> Base.encode16(case: :lower)
      Plug.Crypto.secure_compare(expected, h1)
    else
      _ -> false
    end
  end

  defp parse(header) do
    header |> String.split(";") |> Enum.map(&String.split(&1, "=", parts: 2)) |> Map.new(fn [k, v] -> {k, v} end)
  end
end
