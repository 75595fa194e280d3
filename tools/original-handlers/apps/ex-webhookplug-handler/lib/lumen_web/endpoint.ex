defmodule LumenWeb.Endpoint do
  use Phoenix.Endpoint, otp_app: :lumen

  plug Stripe.WebhookPlug,
    at: "/webhook/stripe",
    handler: Lumen.StripeHandler,
    secret: {Application, :get_env, [:stripity_stripe, :signing_secret]}

  plug Plug.Parsers,
    parsers: [:urlencoded, :multipart, :json],
    pass: ["*/*"],
    json_decoder: Phoenix.json_library()

  plug LumenWeb.Router
end
