import os

import stripe
from flask import Blueprint, abort, jsonify, request

from .db import get_conn

bp = Blueprint("billing", __name__)
endpoint_secret = os.getenv("STRIPE_WEBHOOK_SECRET")


@bp.route("/stripe/webhook", methods=["POST"])
def webhook():
    payload = request.get_data()
    sig_header = request.headers.get("Stripe-Signature")
    try:
        event = stripe.Webhook.construct_event(payload, sig_header, endpoint_secret)
    except stripe.error.SignatureVerificationError:
        abort(400)

    conn = get_conn()
    with conn.cursor() as cur:
        if event["type"] == "checkout.session.completed":
            session = event["data"]["object"]
            if session["payment_status"] == "paid":
                cur.execute(
                    "UPDATE members SET is_premium = TRUE, stripe_customer_id = %s WHERE id = %s",
                    (session["customer"], session["client_reference_id"]),
                )
        elif event["type"] == "customer.subscription.deleted":
            subscription = event["data"]["object"]
            cur.execute(
                "UPDATE members SET is_premium = FALSE WHERE stripe_customer_id = %s",
                (subscription["customer"],),
            )
        elif event["type"] == "customer.subscription.updated":
            subscription = stripe.Subscription.retrieve(event["data"]["object"]["id"])
            premium = subscription["status"] in ("active", "trialing")
            cur.execute(
                "UPDATE members SET is_premium = %s WHERE stripe_customer_id = %s",
                (premium, subscription["customer"]),
            )
    conn.commit()
    return jsonify(success=True)
