//! How values and answers flow through shapes the review reads: a Python walrus
//! binding in a condition carries the value the branch writes, and a Rust `match`
//! arm that only logs a failed write falls through to the answer after the `match`.
//! Each shape has a regression and a quiet twin.

#[path = "support/git.rs"]
mod git_support;
use git_support::{committed_repo, high_rules, review, write};

const PY_ROUTE: &str = r#"import stripe
from fastapi import APIRouter, Request, Response

from account.models import Plan, User

router = APIRouter()


@router.post("/stripe/webhook")
async def stripe_webhook(request: Request):
    payload = await request.body()
    try:
        event = stripe.Webhook.construct_event(payload, request.headers["stripe-signature"], WEBHOOK_SECRET)
    except ValueError:
        return Response(status_code=400)
    if event["type"] == "checkout.session.completed":
        session = event["data"]["object"]
        user = await User.by_customer(session["customer"])
        user.plan = await Plan.by_stripe_id(session["metadata"]["plan_id"])
        await user.save()
    return Response(status_code=200)
"#;

#[test]
fn a_value_bound_by_a_walrus_in_the_condition_is_the_value_the_branch_writes() {
    let dir = committed_repo(&[("account/routes/stripe.py", PY_ROUTE)]);
    let guarded = PY_ROUTE.replace(
        "        user.plan = await Plan.by_stripe_id(session[\"metadata\"][\"plan_id\"])\n",
        "        if plan := await Plan.by_stripe_id(session[\"metadata\"][\"plan_id\"]):\n            user.plan = plan\n        else:\n            return Response(status_code=400)\n",
    );
    assert_ne!(guarded, PY_ROUTE);
    write(dir.path(), "account/routes/stripe.py", &guarded);
    let v = review(dir.path());
    assert!(high_rules(&v).is_empty(), "the same plan is written: {v:#}");

    // The branch writes something else than the plan looked up: the grant is gone.
    let dir = committed_repo(&[("account/routes/stripe.py", PY_ROUTE)]);
    write(dir.path(), "account/routes/stripe.py", &guarded.replace("            user.plan = plan\n", "            user.plan_checked = True\n"));
    let v = review(dir.path());
    assert!(high_rules(&v).contains(&"WH004".to_string()), "{v:#}");
}

const RS_LISTENER: &str = r#"use axum::{http::HeaderMap, http::StatusCode, Json};

use crate::lemonsqueezy::subscription::{subscription_created, subscription_update_status};

pub async fn subscription_listener(headers: HeaderMap, payload: Json<SubscriptionEvent>) -> (StatusCode, Json<GenericResponse>) {
    if !verify_signature(&headers, &payload) {
        return (StatusCode::BAD_REQUEST, Json(GenericResponse::error("invalid signature")));
    }
    let event_name = payload.meta.event_name.clone();
    match event_name.as_str() {
        "subscription_created" => {
            match subscription_created(payload.0.clone()).await {
                Ok(_) => (),
                Err(json) => return (StatusCode::BAD_REQUEST, json),
            }
        }
        "subscription_expired" => {
            match subscription_update_status(payload.0.clone()).await {
                Ok(_) => (),
                Err(json) => return (StatusCode::BAD_REQUEST, json),
            }
        }
        _ => (),
    }
    (StatusCode::OK, Json(GenericResponse::ok("captured")))
}
"#;

const RS_SUBSCRIPTION: &str = r#"use mongodb::bson::doc;

pub async fn subscription_created(event: SubscriptionEvent) -> Result<(), Json<GenericResponse>> {
    let users = database().collection::<User>("users");
    users
        .update_one(doc! { "id": &event.meta.custom_data.customer_id }, doc! { "$set": { "subscription.status": "active", "subscription.active": true } })
        .await
        .map_err(|_| Json(GenericResponse::error("write failed")))?;
    Ok(())
}

pub async fn subscription_update_status(event: SubscriptionEvent) -> Result<(), Json<GenericResponse>> {
    let users = database().collection::<User>("users");
    users
        .update_one(doc! { "id": &event.meta.custom_data.customer_id }, doc! { "$set": { "subscription.status": &event.data.attributes.status, "subscription.active": false } })
        .await
        .map_err(|_| Json(GenericResponse::error("write failed")))?;
    Ok(())
}
"#;

fn rs_repo() -> tempfile::TempDir {
    committed_repo(&[("src/lemonsqueezy/webhook.rs", RS_LISTENER), ("src/lemonsqueezy/subscription.rs", RS_SUBSCRIPTION)])
}

#[test]
fn a_rust_err_arm_that_now_only_logs_falls_through_to_the_200_after_the_match() {
    let dir = rs_repo();
    write(dir.path(), "src/lemonsqueezy/webhook.rs", &RS_LISTENER.replace("Err(json) => return (StatusCode::BAD_REQUEST, json),", "Err(json) => trace!(\"not applied: {}\", json.message),"));
    let v = review(dir.path());
    assert!(high_rules(&v).contains(&"WH010".to_string()), "{v:#}");

    // Quiet: the failure still answers an error, now a 500.
    let dir = rs_repo();
    write(dir.path(), "src/lemonsqueezy/webhook.rs", &RS_LISTENER.replace("Err(json) => return (StatusCode::BAD_REQUEST, json),", "Err(json) => return (StatusCode::INTERNAL_SERVER_ERROR, json),"));
    let v = review(dir.path());
    assert!(high_rules(&v).is_empty(), "{v:#}");
}

const TS_LS_ROUTE: &str = r#"import crypto from 'crypto';
import { prisma } from '@/lib/db';

function verifySignature(payload: string, signature: string | null): boolean {
  if (!signature) {
    return false;
  }
  const secret = process.env.LEMONSQUEEZY_WEBHOOK_SECRET;
  if (!secret) {
    console.error('LEMONSQUEEZY_WEBHOOK_SECRET not configured');
    return false;
  }
  const digest = Buffer.from(crypto.createHmac('sha256', secret).update(payload).digest('hex'), 'utf8');
  const given = Buffer.from(signature, 'utf8');
  if (digest.length !== given.length) {
    return false;
  }
  return crypto.timingSafeEqual(digest, given);
}

export async function POST(req: Request) {
  const body = await req.text();
  if (!verifySignature(body, req.headers.get('x-signature'))) {
    return new Response('invalid signature', { status: 401 });
  }
  const event = JSON.parse(body);
  if (event.meta.event_name === 'subscription_expired') {
    await prisma.user.update({ where: { id: event.meta.custom_data.user_id }, data: { subscriptionTier: 'FREE' } });
  }
  return new Response('ok');
}
"#;

#[test]
fn a_verifier_that_answers_valid_when_the_secret_is_missing_is_wh003() {
    let dir = committed_repo(&[("src/app/api/webhooks/lemon-squeezy/route.ts", TS_LS_ROUTE)]);
    let open = TS_LS_ROUTE.replace("    console.error('LEMONSQUEEZY_WEBHOOK_SECRET not configured');\n    return false;", "    // Allow preview deployments without a secret\n    return true;");
    assert_ne!(open, TS_LS_ROUTE);
    write(dir.path(), "src/app/api/webhooks/lemon-squeezy/route.ts", &open);
    let v = review(dir.path());
    assert!(high_rules(&v).contains(&"WH003".to_string()), "{v:#}");

    // Quiet: the missing secret still fails the check, now with a warning.
    let dir = committed_repo(&[("src/app/api/webhooks/lemon-squeezy/route.ts", TS_LS_ROUTE)]);
    write(dir.path(), "src/app/api/webhooks/lemon-squeezy/route.ts", &TS_LS_ROUTE.replace("console.error(", "console.warn("));
    let v = review(dir.path());
    assert!(high_rules(&v).is_empty(), "{v:#}");
}

const PY_MAP_ROUTE: &str = r#"import stripe
from fastapi import APIRouter, Header, HTTPException, Request, Response

from account.util.stripe import get_event, invoice_paid, subscription_deleted

router = APIRouter()

_EVENTS = {
    "invoice.paid": invoice_paid,
    "customer.subscription.deleted": subscription_deleted,
}


@router.post("/fulfill")
async def stripe_fulfill(request: Request, stripe_signature: str = Header(None)) -> Response:
    try:
        event = get_event(await request.body(), stripe_signature)
    except (ValueError, stripe.error.SignatureVerificationError) as exc:
        raise HTTPException(400) from exc
    if handler := _EVENTS.get(event.type):
        if await handler(event.data.object):
            return Response()
    raise HTTPException(400)
"#;

const PY_UTIL: &str = r#"import stripe

from account.models.user import User


def get_event(payload: bytes, signature: str) -> stripe.Event:
    return stripe.Webhook.construct_event(payload, signature, WEBHOOK_SECRET)


async def invoice_paid(invoice) -> bool:
    user = await User.by_customer(invoice.customer)
    if not user:
        return False
    user.has_paid_access = True
    await user.save()
    return True


async def subscription_deleted(subscription) -> bool:
    user = await User.by_customer(subscription.customer)
    if not user:
        return False
    user.has_paid_access = False
    await user.save()
    return True
"#;

#[test]
fn a_handler_from_a_map_called_inside_a_try_that_only_logs_is_wh010() {
    let files = [("account/routes/stripe.py", PY_MAP_ROUTE), ("account/util/stripe.py", PY_UTIL)];
    let dir = committed_repo(&files);
    let swallowed = PY_MAP_ROUTE.replace(
        "        if await handler(event.data.object):\n            return Response()\n",
        "        try:\n            await handler(event.data.object)\n        except Exception as exc:\n            print(f\"Error handling {event.type}: {exc}\")\n        return Response()\n",
    );
    assert_ne!(swallowed, PY_MAP_ROUTE);
    write(dir.path(), "account/routes/stripe.py", &swallowed);
    let v = review(dir.path());
    assert!(high_rules(&v).contains(&"WH010".to_string()), "{v:#}");

    // Quiet: the failure is logged and raised again.
    let dir = committed_repo(&files);
    write(dir.path(), "account/routes/stripe.py", &swallowed.replace("            print(f\"Error handling {event.type}: {exc}\")\n", "            print(f\"Error handling {event.type}: {exc}\")\n            raise HTTPException(500) from exc\n"));
    let v = review(dir.path());
    assert!(!high_rules(&v).contains(&"WH010".to_string()), "{v:#}");
}

#[test]
fn a_document_path_removed_from_a_helper_the_listener_reaches_is_a_lost_revocation_not_a_pass() {
    let split = RS_SUBSCRIPTION.replace(
        "doc! { \"$set\": { \"subscription.status\": &event.data.attributes.status, \"subscription.active\": false } }",
        "doc! { \"$set\": {\n            \"subscription.status\": &event.data.attributes.status,\n            \"subscription.active\": false,\n        } }",
    );
    assert_ne!(split, RS_SUBSCRIPTION);
    let dir = committed_repo(&[("src/lemonsqueezy/webhook.rs", RS_LISTENER), ("src/lemonsqueezy/subscription.rs", &split)]);
    write(dir.path(), "src/lemonsqueezy/subscription.rs", &split.replace("            \"subscription.active\": false,\n", ""));
    let v = review(dir.path());
    let rules = high_rules(&v);
    assert!(rules.contains(&"WH005".to_string()) || rules.contains(&"WH004".to_string()), "{v:#}");
    assert_ne!(v["verdict"], "pass", "{v:#}");
}
