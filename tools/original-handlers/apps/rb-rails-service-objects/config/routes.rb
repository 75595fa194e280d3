Rails.application.routes.draw do
  namespace :webhooks do
    resource :stripe, only: :create, controller: "stripe"
  end
end
