import os

from flask import Blueprint, abort, jsonify, request

from app.models import Subscription, db
from app.paddle_sig import verify_paddle_signature

bp = Blueprint("webhooks", __name__)


@bp.post("/webhooks/paddle")
def paddle_webhook():
    raw = request.get_data()
    if not verify_paddle_signature(raw, request.headers.get("Paddle-Signature", ""), os.environ["PADDLE_WEBHOOK_SECRET"]):
        abort(401)

    payload = request.get_json()
    event_type = payload["event_type"]
    data = payload["data"]
    if event_type in ("subscription.created", "subscription.updated"):
        sub = Subscription.query.filter_by(paddle_id=data["id"]).first() or Subscription(paddle_id=data["id"])
        sub.customer_id = data["customer_id"]
        sub.status = data["status"]
        db.session.add(sub)
    elif event_type == "subscription.canceled":
        Subscription.query.filter_by(paddle_id=data["id"]).update({"status": "canceled"})
    db.session.commit()
    return jsonify(ok=True)
