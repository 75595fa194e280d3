Rails.application.routes.draw do
  mount StripeEvent::Engine, at: "/billing/events"
end
