# frozen_string_literal: true

# app/controllers/paddle_webhooks_controller.rb: Paddle Billing notifications.
class PaddleWebhooksController < ApplicationController
  skip_before_action :verify_authenticity_token

  MAX_SIGNATURE_AGE = 5 # seconds, as Paddle's SDKs

  def create
    raw = request.raw_post
    return head :unauthorized unless valid_signature?(raw, request.headers["Paddle-Signature"].to_s)

    event = JSON.parse(raw)
    data = event["data"]
    case event["event_type"]
    when "subscription.activated", "subscription.updated"
      entitled = %w[active trialing].include?(data["status"])
      Account.where(paddle_customer_id: data["customer_id"]).update_all(has_paid_access: entitled, plan: entitled ? "pro" : "free")
    when "subscription.canceled"
      Account.where(paddle_customer_id: data["customer_id"]).update_all(has_paid_access: false, plan: "free")
    when "transaction.completed"
      Account.where(paddle_customer_id: data["customer_id"]).update_all(last_paid_at: Time.current)
    else
      Rails.logger.info("ignoring paddle event #{event["event_type"]}")
    end
    head :ok
  end

  private

  # Paddle-Signature: ts=1671552777;h1=abc...[;h1=def... while a secret is rotated]
  def valid_signature?(raw, header)
    parts = header.split(";").map { |part| part.split("=", 2) }
    ts = parts.find { |key, _| key == "ts" }&.last
    signatures = parts.select { |key, _| key == "h1" }.map(&:last)
    return false if ts.nil? || signatures.empty?
    return false if (Time.now.to_i - ts.to_i).abs > MAX_SIGNATURE_AGE

    expected = OpenSSL::HMAC.hexdigest("SHA256", ENV.fetch("PADDLE_WEBHOOK_SECRET"), "#{ts}:#{raw}")
    signatures.any? { |signature| ActiveSupport::SecurityUtils.secure_compare(expected, signature) }
  end
end
