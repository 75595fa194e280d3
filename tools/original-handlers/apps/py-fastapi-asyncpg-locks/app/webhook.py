import os

import stripe
from fastapi import FastAPI, HTTPException, Request

from app import repo

app = FastAPI()


@app.post("/stripe/events")
async def stripe_events(request: Request):
    payload = await request.body()
    secret = os.getenv("STRIPE_WEBHOOK_SECRET")
    if not secret:
        raise HTTPException(500, "webhook secret not configured")
    try:
        event = stripe.Webhook.construct_event(payload, request.headers.get("stripe-signature"), secret)
    except stripe.error.SignatureVerificationError:
        raise HTTPException(400, "bad signature")

    obj = event["data"]["object"]
    async with repo.pool().acquire() as conn:
        if event["type"] == "invoice.paid":
            await repo.unlock_workspace(conn, obj["customer"])
        elif event["type"] == "customer.subscription.deleted":
            await repo.lock_workspace(conn, obj["customer"], reason="subscription_ended")
    return {"ok": True}
