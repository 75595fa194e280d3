defmodule QuayWeb.Router do
  use QuayWeb, :router

  pipeline :webhooks do
    plug :accepts, ["json"]
  end

  scope "/webhooks", QuayWeb do
    pipe_through :webhooks
    post "/stripe", StripeWebhookController, :create
  end
end
