class PaddleWebhooksController < ActionController::API
  def create
    raw = request.raw_post
    unless PaddleSignature.valid?(raw, request.headers["Paddle-Signature"], ENV.fetch("PADDLE_WEBHOOK_SECRET"))
      return head :unauthorized
    end

    payload = JSON.parse(raw)
    data = payload["data"]
    case payload["event_type"]
    when "subscription.activated", "subscription.updated"
      Membership.where(paddle_customer_id: data["customer_id"]).update_all(status: data["status"], active: data["status"] == "active")
    when "subscription.canceled"
      Membership.where(paddle_customer_id: data["customer_id"]).update_all(status: "canceled", active: false)
    end
    head :ok
  end
end
