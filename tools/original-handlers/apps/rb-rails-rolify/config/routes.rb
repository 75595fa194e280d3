Rails.application.routes.draw do
  post "/stripe/events", to: "stripe_events#receive"
end
