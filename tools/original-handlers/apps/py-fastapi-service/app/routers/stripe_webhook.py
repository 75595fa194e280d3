import os

import stripe
from fastapi import APIRouter, Depends, Header, HTTPException, Request
from sqlalchemy.orm import Session

from app.db import get_db
from app.services import billing

router = APIRouter()


def on_checkout_completed(db: Session, session) -> None:
    if session["payment_status"] != "paid":
        return
    billing.link_customer(db, session["client_reference_id"], session["customer"])
    billing.set_plan_by_customer(db, session["customer"], plan="pro", is_pro=True)


def on_subscription_deleted(db: Session, sub) -> None:
    billing.set_plan_by_customer(db, sub["customer"], plan="free", is_pro=False)


HANDLERS = {
    "checkout.session.completed": on_checkout_completed,
    "customer.subscription.deleted": on_subscription_deleted,
}


@router.post("/webhooks/stripe")
async def stripe_webhook(request: Request, stripe_signature: str = Header(None), db: Session = Depends(get_db)):
    payload = await request.body()
    try:
        event = stripe.Webhook.construct_event(payload, stripe_signature, os.environ["STRIPE_WEBHOOK_SECRET"])
    except (ValueError, stripe.error.SignatureVerificationError):
        raise HTTPException(status_code=400, detail="invalid payload")

    handler = HANDLERS.get(event["type"])
    if handler is not None:
        handler(db, event["data"]["object"])
        db.commit()
    return {"received": True}
