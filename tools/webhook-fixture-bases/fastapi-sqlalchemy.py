import logging
import os

import stripe
from fastapi import APIRouter, HTTPException, Request
from sqlalchemy import select, update

from app.db import SessionLocal
from app.models import ProcessedEvent, User

router = APIRouter()
log = logging.getLogger(__name__)

stripe.api_key = os.environ["STRIPE_SECRET_KEY"]
WEBHOOK_SECRET = os.environ["STRIPE_WEBHOOK_SECRET"]

PLAN_FOR_PRICE = {
    "price_1PqStarterMonthly": "starter",
    "price_1PqProMonthly": "pro",
}


def grant_from_subscription(db, subscription):
    entitled = subscription["status"] in ("active", "trialing")
    price_id = subscription["items"]["data"][0]["price"]["id"]
    db.execute(
        update(User)
        .where(User.stripe_customer_id == subscription["customer"])
        .values(is_pro=entitled, plan=PLAN_FOR_PRICE.get(price_id) if entitled else "free")
    )


@router.post("/webhooks/stripe")
async def stripe_webhook(request: Request):
    payload = await request.body()
    sig_header = request.headers.get("stripe-signature")
    try:
        event = stripe.Webhook.construct_event(payload, sig_header, WEBHOOK_SECRET)
    except (ValueError, stripe.error.SignatureVerificationError) as exc:
        log.warning("stripe webhook rejected: %s", exc)
        raise HTTPException(status_code=400, detail="invalid signature")

    with SessionLocal() as db:
        if db.get(ProcessedEvent, event["id"]):
            return {"received": True}
        try:
            with db.begin():
                if event["type"] == "checkout.session.completed":
                    session = event["data"]["object"]
                    if session["payment_status"] == "paid":
                        db.execute(
                            update(User)
                            .where(User.id == session["client_reference_id"])
                            .values(stripe_customer_id=session["customer"], is_pro=True, plan="pro")
                        )
                elif event["type"] == "customer.subscription.updated":
                    subscription = stripe.Subscription.retrieve(event["data"]["object"]["id"])
                    grant_from_subscription(db, subscription)
                elif event["type"] == "customer.subscription.deleted":
                    subscription = event["data"]["object"]
                    db.execute(
                        update(User)
                        .where(User.stripe_customer_id == subscription["customer"])
                        .values(is_pro=False, plan="free")
                    )
                elif event["type"] == "invoice.payment_failed":
                    invoice = event["data"]["object"]
                    db.execute(
                        update(User)
                        .where(User.stripe_customer_id == invoice["customer"])
                        .values(billing_problem=True)
                    )
                else:
                    log.info("ignoring stripe event %s", event["type"])
                db.add(ProcessedEvent(id=event["id"], type=event["type"]))
        except Exception:
            log.exception("stripe webhook failed for %s", event["id"])
            raise HTTPException(status_code=500, detail="webhook processing failed")
    return {"received": True}
