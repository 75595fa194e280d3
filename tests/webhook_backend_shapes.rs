//! Shapes from real Go, Rust and Python backends: a Go error check with a log line
//! between it and the call, a plan kept in `account_type` and reset to the free
//! plan's name on cancellation, a Rust handler writing MongoDB `doc!` documents and
//! answering `Ok(ok(..))`, and a Django REST framework view whose `request.data` is
//! the parsed body. Each shape has a regression and a quiet twin.

#[path = "support/git.rs"]
mod git_support;
use git_support::{committed_repo, high_rules, review, write};

const GO_HANDLER: &str = r#"package handlers

import (
	"database/sql"
	"fmt"
	"net/http"

	"github.com/stripe/stripe-go/v76/webhook"
)

type Stripe struct{ Db *sql.DB }

func applyUserPlan(db *sql.DB, userID, accountType string, calls int) error {
	_, err := db.Exec(`
		UPDATE users
		SET api_calls = $1,
			account_type = $2
		WHERE uuid = $3
	`, calls, accountType, userID)
	return err
}

func (s *Stripe) HandleWebhook(w http.ResponseWriter, r *http.Request) {
	payload := readBody(r)
	event, err := webhook.ConstructEvent(payload, r.Header.Get("Stripe-Signature"), secret)
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	switch event.Type {
	case "invoice.paid":
		err = applyUserPlan(s.Db, userOf(event), "pro", 10)
		fmt.Println("invoice paid")
		if err != nil {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
	case "customer.subscription.deleted":
		err = applyUserPlan(s.Db, userOf(event), "basic", 5)
		if err != nil {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
	}
	w.WriteHeader(http.StatusOK)
}
"#;

const GO_PATH: &str = "handlers/stripe_handler.go";

#[test]
fn a_go_failure_checked_after_a_log_line_that_now_answers_200_is_wh010() {
    let dir = committed_repo(&[(GO_PATH, GO_HANDLER)]);
    write(
        dir.path(),
        GO_PATH,
        &GO_HANDLER.replacen("\t\t\tw.WriteHeader(http.StatusInternalServerError)\n", "\t\t\tfmt.Println(\"invoice.paid failed\", err)\n\t\t\tw.WriteHeader(http.StatusOK)\n", 1),
    );
    let v = review(dir.path());
    assert!(high_rules(&v).contains(&"WH010".to_string()), "{v:#}");

    // Quiet: the failure still answers 500, now after a log line of its own.
    let dir = committed_repo(&[(GO_PATH, GO_HANDLER)]);
    write(
        dir.path(),
        GO_PATH,
        &GO_HANDLER.replacen("\t\t\tw.WriteHeader(http.StatusInternalServerError)\n", "\t\t\tfmt.Println(\"invoice.paid failed\", err)\n\t\t\tw.WriteHeader(http.StatusInternalServerError)\n", 1),
    );
    let v = review(dir.path());
    assert!(high_rules(&v).is_empty(), "{v:#}");
}

#[test]
fn resetting_account_type_to_the_free_plan_on_cancel_is_the_revocation() {
    let dir = committed_repo(&[(GO_PATH, GO_HANDLER)]);
    write(
        dir.path(),
        GO_PATH,
        &GO_HANDLER.replace("\t\terr = applyUserPlan(s.Db, userOf(event), \"basic\", 5)\n", "\t\terr = nil\n\t\tfmt.Println(\"subscription canceled\")\n"),
    );
    let v = review(dir.path());
    assert!(high_rules(&v).contains(&"WH005".to_string()), "{v:#}");

    // Quiet: the downgrade stays; only the call count given with it changes.
    let dir = committed_repo(&[(GO_PATH, GO_HANDLER)]);
    write(dir.path(), GO_PATH, &GO_HANDLER.replace("userOf(event), \"basic\", 5)", "userOf(event), \"basic\", 3)"));
    let v = review(dir.path());
    assert!(high_rules(&v).is_empty(), "{v:#}");
}

const RS_LISTENER: &str = r#"use axum::{extract::State, http::StatusCode, Json};
use mongodb::bson::doc;

pub async fn listener(State(state): State<AppState>, payload: Json<SubscriptionEvent>) -> Result<(StatusCode, Json<GenericResponse>), (StatusCode, Json<GenericResponse>)> {
    match payload.meta.event_name.as_str() {
        "subscription_created" => {
            let state = state.clone();
            match subscription_created(payload.0.clone(), state).await {
                Ok(_) => (),
                Err(response) => return Err(response),
            }
        }
        "subscription_expired" => {
            let state = state.clone();
            match subscription_expired(payload.0.clone(), state).await {
                Ok(_) => (),
                Err(response) => return Err(response),
            }
        }
        _ => {}
    }
    Ok(ok("captured", None))
}

pub async fn subscription_created(event: SubscriptionEvent, state: AppState) -> Result<(), (StatusCode, Json<GenericResponse>)> {
    let update = doc! {
        "$set": doc! {
            "subscription.status": event.data.attributes.status.clone(),
            "subscription.updated_at": event.data.attributes.updated_at,
        },
    };
    update_customer(&state.mongo_db, filter_of(&event), update).await?;
    Ok(())
}

pub async fn subscription_expired(event: SubscriptionEvent, state: AppState) -> Result<(), (StatusCode, Json<GenericResponse>)> {
    let update = doc! { "$set": doc! { "subscription.status": "expired" } };
    update_customer(&state.mongo_db, filter_of(&event), update).await?;
    Ok(())
}

pub async fn update_customer(db: &Database, filter: Document, update: Document) -> Result<(), (StatusCode, Json<GenericResponse>)> {
    let customers = db.collection::<Customer>("customers");
    customers.update_one(filter, update).await.map_err(|_| internal_error("update.failed"))?;
    Ok(())
}
"#;

const RS_PATH: &str = "src/lemonsqueezy/webhook.rs";

#[test]
fn a_rust_failure_now_only_traced_before_ok_ok_is_wh010() {
    let dir = committed_repo(&[(RS_PATH, RS_LISTENER)]);
    write(
        dir.path(),
        RS_PATH,
        &RS_LISTENER.replacen(
            "            match subscription_created(payload.0.clone(), state).await {\n                Ok(_) => (),\n                Err(response) => return Err(response),\n            }\n",
            "            if let Err(response) = subscription_created(payload.0.clone(), state).await {\n                trace!(\"subscription_created failed: {:?}\", response.1);\n            }\n",
            1,
        ),
    );
    let v = review(dir.path());
    assert!(high_rules(&v).contains(&"WH010".to_string()), "{v:#}");

    // Quiet: the same failure handed back with `?`.
    let dir = committed_repo(&[(RS_PATH, RS_LISTENER)]);
    write(
        dir.path(),
        RS_PATH,
        &RS_LISTENER.replacen(
            "            match subscription_created(payload.0.clone(), state).await {\n                Ok(_) => (),\n                Err(response) => return Err(response),\n            }\n",
            "            subscription_created(payload.0.clone(), state).await?;\n",
            1,
        ),
    );
    let v = review(dir.path());
    assert!(high_rules(&v).is_empty(), "{v:#}");
}

#[test]
fn a_status_written_through_a_doc_macro_is_access() {
    let dir = committed_repo(&[(RS_PATH, RS_LISTENER)]);
    write(dir.path(), RS_PATH, &RS_LISTENER.replace("doc! { \"$set\": doc! { \"subscription.status\": \"expired\" } }", "doc! { \"$set\": doc! { \"subscription.expired_seen\": true } }"));
    let v = review(dir.path());
    assert!(high_rules(&v).contains(&"WH005".to_string()), "{v:#}");

    // Quiet: the same document, written over two lines.
    let dir = committed_repo(&[(RS_PATH, RS_LISTENER)]);
    write(dir.path(), RS_PATH, &RS_LISTENER.replace("doc! { \"$set\": doc! { \"subscription.status\": \"expired\" } }", "doc! {\n        \"$set\": doc! { \"subscription.status\": \"expired\" },\n    }"));
    let v = review(dir.path());
    assert!(high_rules(&v).is_empty(), "{v:#}");
}

const PY_VIEW: &str = r#"import logging

import stripe
from django.conf import settings
from rest_framework.decorators import api_view
from rest_framework.response import Response

from association_membership.handlers import run_handler

logger = logging.getLogger(__file__)


@api_view(["POST"])
def stripe_webhook(request):
    payload = request.body
    try:
        signature = request.headers.get("stripe-signature")
        event = stripe.Webhook.construct_event(payload=payload, sig_header=signature, secret=settings.STRIPE_WEBHOOK_SECRET)
    except ValueError as e:
        logger.exception("Called stripe webhook but parsing failed!", exc_info=e)
        raise
    except stripe.error.SignatureVerificationError as e:
        logger.exception("Called stripe webhook but signature validation failed!", exc_info=e)
        raise

    run_handler("stripe", event["type"], event)
    return Response(status=200)
"#;

const PY_HANDLERS: &str = r#"from .stripe.handle_invoice_paid import handle_invoice_paid

HANDLERS = {
    "stripe": {
        "invoice.paid": handle_invoice_paid,
    },
}


def get_handler(service, event):
    return HANDLERS.get(service, {}).get(event, None)


def run_handler(service, event_name, payload):
    handler = get_handler(service, event_name)
    if not handler:
        return None
    handler(payload)
"#;

const PY_PAID: &str = r#"from users.models import User


def handle_invoice_paid(event):
    user = User.objects.get(stripe_customer_id=event["data"]["object"]["customer"])
    user.is_member = True
    user.save()
"#;

fn py_repo() -> tempfile::TempDir {
    committed_repo(&[
        ("backend/association_membership/views.py", PY_VIEW),
        ("backend/association_membership/handlers/__init__.py", PY_HANDLERS),
        ("backend/association_membership/handlers/stripe/handle_invoice_paid.py", PY_PAID),
    ])
}

#[test]
fn rest_frameworks_request_data_is_the_parsed_body() {
    let dir = py_repo();
    write(dir.path(), "backend/association_membership/views.py", &PY_VIEW.replace("payload = request.body", "payload = request.data"));
    let v = review(dir.path());
    assert!(high_rules(&v).contains(&"WH002".to_string()), "{v:#}");

    // Quiet: the verification moves into a helper that still reads the raw body and re-raises.
    let dir = py_repo();
    let moved = PY_VIEW
        .replace(
            "    payload = request.body\n    try:\n        signature = request.headers.get(\"stripe-signature\")\n        event = stripe.Webhook.construct_event(payload=payload, sig_header=signature, secret=settings.STRIPE_WEBHOOK_SECRET)\n    except ValueError as e:\n        logger.exception(\"Called stripe webhook but parsing failed!\", exc_info=e)\n        raise\n    except stripe.error.SignatureVerificationError as e:\n        logger.exception(\"Called stripe webhook but signature validation failed!\", exc_info=e)\n        raise\n",
            "    event = verify_stripe_event(request)\n",
        )
        .replace("from association_membership.handlers import run_handler\n", "from association_membership.handlers import run_handler\nfrom association_membership.stripe_verification import verify_stripe_event\n");
    assert!(moved.contains("verify_stripe_event(request)"));
    write(dir.path(), "backend/association_membership/views.py", &moved);
    write(
        dir.path(),
        "backend/association_membership/stripe_verification.py",
        "import stripe\nfrom django.conf import settings\n\n\ndef verify_stripe_event(request):\n    signature = request.headers.get(\"stripe-signature\")\n    return stripe.Webhook.construct_event(payload=request.body, sig_header=signature, secret=settings.STRIPE_WEBHOOK_SECRET)\n",
    );
    let v = review(dir.path());
    assert!(high_rules(&v).is_empty(), "{v:#}");
}

#[test]
fn a_per_provider_handler_map_dispatches_its_events() {
    // The map loses the Stripe event: invoice.paid is no longer handled.
    let dir = py_repo();
    write(dir.path(), "backend/association_membership/handlers/__init__.py", &PY_HANDLERS.replace("        \"invoice.paid\": handle_invoice_paid,\n", ""));
    let v = review(dir.path());
    assert!(high_rules(&v).iter().any(|r| r == "WH006" || r == "WH004"), "{v:#}");

    // Quiet: a second provider joins the map.
    let dir = py_repo();
    write(dir.path(), "backend/association_membership/handlers/__init__.py", &PY_HANDLERS.replace("    },\n}", "    },\n    \"pretix\": {},\n}"));
    let v = review(dir.path());
    assert!(high_rules(&v).is_empty(), "{v:#}");
}
