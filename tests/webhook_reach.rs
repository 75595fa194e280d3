//! How far the review follows a handler into the repository: a file is followed
//! when the handler calls into something it declares, not because the handler
//! imports or names it. A handler of a large app must not be cut off at the
//! bound of followed files by imports it never calls, and what it does call is
//! still seen (a regression there is found).

use serde_json::Value;

#[path = "support/git.rs"]
mod git_support;
use git_support::{committed_repo, high_rules, review, write};

fn helpers(v: &Value) -> String {
    v["scope"]["handler_files"][0]["helpers"].to_string()
}

// ---------------------------------------------------------------------------
// PHP: imported classes are followed when called into, not when only named.

/// A Laravel webhook controller that names `n` models without calling into them
/// (imports, a morph map of `::class` names, type hints, Eloquent's own `where`)
/// and revokes through a method of the Team model.
fn php_controller(n: usize) -> String {
    let mut s = String::from("<?php\n\nnamespace App\\Http\\Controllers;\n\nuse App\\Models\\Team;\nuse Illuminate\\Http\\Request;\nuse Stripe\\Webhook;\n");
    for i in 0..n {
        s.push_str(&format!("use App\\Models\\Resource{i};\n"));
    }
    s.push_str("\nclass StripeWebhookController extends Controller\n{\n    private array $morphs = [\n");
    for i in 0..n {
        s.push_str(&format!("        'resource{i}' => Resource{i}::class,\n"));
    }
    s.push_str(
        r#"    ];

    /** @param Resource0 $resource */
    public function handle(Request $request, ?Resource1 $resource = null)
    {
        $event = Webhook::constructEvent($request->getContent(), $request->header('Stripe-Signature'), config('services.stripe.webhook_secret'));
        $customer = $event->data->object->customer;
        switch ($event->type) {
            case 'customer.subscription.deleted':
                $team = Team::where('stripe_customer_id', $customer)->first();
                if (! $team) {
                    return response('no team', 200);
                }
                $team->subscriptionEnded();
                Resource2::where('team_id', $team->id)->delete();
                break;
        }
        return response('ok', 200);
    }
}
"#,
    );
    s
}

const PHP_TEAM: &str = r#"<?php

namespace App\Models;

use Illuminate\Database\Eloquent\Model;

class Team extends Model
{
    public function subscriptionEnded(): void
    {
        $this->update(['has_paid_access' => false]);
    }
}
"#;

fn php_repo(n: usize) -> tempfile::TempDir {
    let controller = php_controller(n);
    let models: Vec<(String, String)> = (0..n)
        .map(|i| {
            let uses: String = (0..n).filter(|j| *j != i).take(5).map(|j| format!("use App\\Models\\Resource{j};\n")).collect();
            (format!("app/Models/Resource{i}.php"), format!("<?php\n\nnamespace App\\Models;\n\n{uses}\nclass Resource{i} extends Model\n{{\n    public function owner() {{ return $this->belongsTo(Team::class); }}\n}}\n"))
        })
        .collect();
    let mut files: Vec<(&str, &str)> = vec![("app/Http/Controllers/StripeWebhookController.php", controller.as_str()), ("app/Models/Team.php", PHP_TEAM)];
    files.extend(models.iter().map(|(p, t)| (p.as_str(), t.as_str())));
    committed_repo(&files)
}

#[test]
fn a_php_handler_naming_many_classes_is_followed_into_the_ones_it_calls() {
    let dir = php_repo(70);
    let path = "app/Http/Controllers/StripeWebhookController.php";
    // A response text changes: nothing to report, and nothing left unseen.
    write(dir.path(), path, &php_controller(70).replace("response('ok', 200)", "response('received', 200)"));
    let v = review(dir.path());
    assert_eq!(v["verdict"], "pass", "{v:#}");
    assert!(helpers(&v).contains("app/Models/Team.php"), "{v:#}");
    assert!(!helpers(&v).contains("Resource"), "named only, never called into: {}", helpers(&v));

    // The revocation lives in the model method the handler calls: dropping the call is WH005.
    let dir = php_repo(70);
    write(dir.path(), path, &php_controller(70).replace("                $team->subscriptionEnded();\n", ""));
    let v = review(dir.path());
    assert!(high_rules(&v).contains(&"WH005".to_string()), "{v:#}");

    // And so is a model method that stops revoking.
    let dir = php_repo(70);
    write(dir.path(), "app/Models/Team.php", &PHP_TEAM.replace("'has_paid_access' => false", "'cancelled_notified' => true"));
    let v = review(dir.path());
    assert!(high_rules(&v).contains(&"WH005".to_string()), "{v:#}");
}

// ---------------------------------------------------------------------------
// Rust: a path reaches the module holding its item; `mod x;` lines only declare.

const RUST_ROUTE: &str = r#"use actix_web::{post, web, HttpRequest, HttpResponse};
use stripe::{EventObject, EventType, Webhook};

use crate::db::revoke_access;
use crate::state::AppState;

#[post("/stripe/webhook")]
pub async fn stripe_webhook(req: HttpRequest, payload: String, state: web::Data<AppState>) -> HttpResponse {
    let signature = req.headers().get("Stripe-Signature").and_then(|v| v.to_str().ok()).unwrap_or_default();
    let Ok(event) = Webhook::construct_event(&payload, signature, &state.webhook_secret) else {
        return HttpResponse::BadRequest().finish();
    };
    match event.type_ {
        EventType::CustomerSubscriptionDeleted => {
            if let EventObject::Subscription(sub) = event.data.object {
                if revoke_access(&state.pool, sub.customer.id().as_str()).await.is_err() {
                    return HttpResponse::InternalServerError().finish();
                }
            }
        }
        _ => {}
    }
    HttpResponse::Ok().finish()
}
"#;

const RUST_USERS: &str = r#"use sqlx::PgPool;

pub async fn revoke_access(pool: &PgPool, customer_id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET has_paid_access = false WHERE stripe_customer_id = $1").bind(customer_id).execute(pool).await?;
    Ok(())
}
"#;

fn rust_repo(n: usize) -> tempfile::TempDir {
    let mut db_mod = String::from("pub mod users;\n");
    for i in 0..n {
        db_mod.push_str(&format!("pub mod table{i};\n"));
    }
    db_mod.push_str("\npub use users::revoke_access;\n");
    let tables: Vec<(String, String)> = (0..n).map(|i| (format!("src/db/table{i}.rs"), format!("use crate::db::table{};\n\npub fn rows{i}() -> usize {{ {i} }}\n", (i + 1) % n))).collect();
    let mut files: Vec<(&str, &str)> = vec![
        ("src/routes/stripe.rs", RUST_ROUTE),
        ("src/db/mod.rs", db_mod.as_str()),
        ("src/db/users.rs", RUST_USERS),
        ("src/state.rs", "pub struct AppState { pub pool: sqlx::PgPool, pub webhook_secret: String }\n"),
    ];
    files.extend(tables.iter().map(|(p, t)| (p.as_str(), t.as_str())));
    committed_repo(&files)
}

#[test]
fn a_rust_handler_is_followed_through_the_module_holding_what_it_uses_not_every_declared_module() {
    let dir = rust_repo(70);
    write(dir.path(), "src/routes/stripe.rs", &RUST_ROUTE.replace("HttpResponse::Ok().finish()", "HttpResponse::Ok().body(\"received\")"));
    let v = review(dir.path());
    assert_eq!(v["verdict"], "pass", "{v:#}");
    assert!(helpers(&v).contains("src/db/users.rs"), "re-exported from db/mod.rs: {v:#}");
    assert!(!helpers(&v).contains("src/db/table"), "declared only, never used: {}", helpers(&v));

    // The revocation is still seen through the re-export: dropping it is WH005.
    let dir = rust_repo(70);
    write(dir.path(), "src/db/users.rs", &RUST_USERS.replace("SET has_paid_access = false", "SET updated_at = now()"));
    let v = review(dir.path());
    assert!(high_rules(&v).contains(&"WH005".to_string()), "{v:#}");
}

// ---------------------------------------------------------------------------
// Go: a call through an interface reaches the implementation wired in `main`.

const GO_HANDLER: &str = r#"package web

import (
	"encoding/json"
	"io"
	"net/http"
	"os"

	"example.com/app/data"
	"github.com/stripe/stripe-go/v76/webhook"
)

type Billing struct {
	DB *data.DB
}

func (b Billing) Webhook(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	event, err := webhook.ConstructEvent(body, r.Header.Get("Stripe-Signature"), os.Getenv("STRIPE_WEBHOOK_SECRET"))
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	switch event.Type {
	case "customer.subscription.deleted":
		var sub struct{ Customer string `json:"customer"` }
		if err := json.Unmarshal(event.Data.Raw, &sub); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		if err := b.DB.Accounts.Cancel(sub.Customer); err != nil {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
	}
	w.WriteHeader(http.StatusOK)
}
"#;

const GO_DATA: &str = r#"package data

// AccountServices is implemented by each storage backend.
type AccountServices interface {
	Cancel(customerID string) error
	Find(id int64) (string, error)
}

type DB struct {
	Accounts AccountServices
}
"#;

const GO_POSTGRES: &str = r#"package postgres

import "database/sql"

type Accounts struct {
	DB *sql.DB
}

func (a *Accounts) Cancel(customerID string) error {
	_, err := a.DB.Exec(`UPDATE accounts SET plan = '', has_paid_access = false WHERE stripe_customer_id = $1`, customerID)
	return err
}

func (a *Accounts) Find(id int64) (string, error) {
	return "", nil
}
"#;

const GO_MOCK: &str = r#"package mocks

type Accounts struct{}

func (a *Accounts) Cancel(customerID string) error { return nil }
"#;

fn go_repo() -> tempfile::TempDir {
    committed_repo(&[
        ("go.mod", "module example.com/app\n\ngo 1.22\n"),
        ("web/billing.go", GO_HANDLER),
        ("data/db.go", GO_DATA),
        ("data/postgres/accounts.go", GO_POSTGRES),
        ("data/mocks/accounts.go", GO_MOCK),
    ])
}

#[test]
fn a_go_call_through_an_interface_is_followed_into_its_implementation_not_its_mock() {
    let dir = go_repo();
    write(dir.path(), "web/billing.go", &GO_HANDLER.replace("w.WriteHeader(http.StatusOK)", "w.WriteHeader(http.StatusNoContent)"));
    let v = review(dir.path());
    assert!(!high_rules(&v).iter().any(|r| r == "WH005" || r == "WH008"), "{v:#}");
    assert!(helpers(&v).contains("data/postgres/accounts.go"), "{v:#}");
    assert!(!helpers(&v).contains("mocks"), "a mock is not the app's code: {}", helpers(&v));

    // The revocation lives in the implementation: replacing the call with a log line is WH005.
    let dir = go_repo();
    let logged = GO_HANDLER.replace(
        "\t\tif err := b.DB.Accounts.Cancel(sub.Customer); err != nil {\n\t\t\tw.WriteHeader(http.StatusInternalServerError)\n\t\t\treturn\n\t\t}\n",
        "\t\tprintln(\"subscription ended\", sub.Customer)\n",
    );
    assert_ne!(logged, GO_HANDLER);
    write(dir.path(), "web/billing.go", &logged);
    let v = review(dir.path());
    assert!(high_rules(&v).contains(&"WH005".to_string()), "{v:#}");

    // And so is an implementation that stops revoking.
    let dir = go_repo();
    write(dir.path(), "data/postgres/accounts.go", &GO_POSTGRES.replace("plan = '', has_paid_access = false", "cancel_notified = true"));
    let v = review(dir.path());
    assert!(high_rules(&v).contains(&"WH005".to_string()), "{v:#}");
}

// ---------------------------------------------------------------------------
// Python: `from app.db import crud` names a package; `crud.processed_event.record(...)` is
// followed through its `__init__.py` into the module that records the event.

const PY_ROUTE: &str = r#"import stripe
from fastapi import APIRouter, Header, Request
from sqlalchemy.orm import Session

from app.db import crud
from app.db.session import get_session

router = APIRouter()


@router.post("/stripe/webhook")
async def handle_stripe_webhook(request: Request, stripe_signature: str = Header(None)):
    db_session: Session = get_session()
    payload = await request.body()
    try:
        event = stripe.Webhook.construct_event(payload, stripe_signature, STRIPE_WEBHOOK_SECRET)
    except stripe.error.SignatureVerificationError:
        raise HTTPException(status_code=400)

    if crud.processed_event.is_processed(db_session, event.id):
        return

    match event.type:
        case "customer.subscription.deleted":
            crud.subscriptions.cancel_subscription(db_session, event.data.object["customer"])
        case _:
            return

    crud.processed_event.record_processed_event(db_session, event.id)
    db_session.commit()
"#;

const PY_PROCESSED: &str = r#"from sqlalchemy.orm import Session

from app.db.models import ProcessedStripeEvent


def is_processed(db_session: Session, event_id: str) -> bool:
    return db_session.query(ProcessedStripeEvent).filter_by(event_id=event_id).first() is not None


def record_processed_event(db_session: Session, event_id: str) -> None:
    db_session.add(ProcessedStripeEvent(event_id=event_id))
    db_session.flush()
"#;

const PY_SUBSCRIPTIONS: &str = r#"from sqlalchemy.orm import Session

from app.db.models import Account


def cancel_subscription(db_session: Session, customer_id: str) -> None:
    account = db_session.query(Account).filter_by(stripe_customer_id=customer_id).one()
    account.has_paid_access = False
    db_session.add(account)
"#;

fn py_repo() -> tempfile::TempDir {
    committed_repo(&[
        ("app/routes/billing.py", PY_ROUTE),
        ("app/db/__init__.py", ""),
        ("app/db/crud/__init__.py", "from . import processed_event, subscriptions\n"),
        ("app/db/crud/processed_event.py", PY_PROCESSED),
        ("app/db/crud/subscriptions.py", PY_SUBSCRIPTIONS),
        ("app/db/session.py", "def get_session():\n    return None\n"),
    ])
}

#[test]
fn a_python_package_imported_by_name_is_followed_and_a_mark_moved_before_the_writes_is_wh007() {
    let dir = py_repo();
    let early = PY_ROUTE
        .replace("    crud.processed_event.record_processed_event(db_session, event.id)\n    db_session.commit()\n", "")
        .replace("    match event.type:\n", "    crud.processed_event.record_processed_event(db_session, event.id)\n    db_session.commit()\n\n    match event.type:\n");
    assert_ne!(early, PY_ROUTE);
    write(dir.path(), "app/routes/billing.py", &early);
    let v = review(dir.path());
    assert!(high_rules(&v).contains(&"WH007".to_string()), "{v:#}");
    assert!(helpers(&v).contains("app/db/crud/processed_event.py"), "{v:#}");

    // The twin: a log line added changes nothing.
    let dir = py_repo();
    write(dir.path(), "app/routes/billing.py", &PY_ROUTE.replace("    db_session.commit()\n", "    db_session.commit()\n    print(\"processed\", event.id)\n"));
    let v = review(dir.path());
    assert!(high_rules(&v).is_empty(), "{v:#}");
}

// ---------------------------------------------------------------------------
// Go: a handler package with many handlers, and a service with many methods. The
// review follows the methods the handler calls on the types it names, and from a
// reached file only what the called declarations use, so it is not cut off at the
// bound by the app's other handlers and their repositories.

const GO_LS_HANDLER: &str = r#"package handlers

import (
	"net/http"

	"example.com/app/services"
	"github.com/lemonsqueezy/lemonsqueezy-go"
)

type LemonsqueezyHandler struct {
	handler
	service *services.BillingService
	client  *lemonsqueezy.Client
}

func (h *LemonsqueezyHandler) Event(w http.ResponseWriter, r *http.Request) {
	payload, err := h.client.Webhooks.Verify(r.Context(), r.Header.Get("X-Signature"), r.Body)
	if err != nil {
		h.responseBadRequest(w, err)
		return
	}
	switch payload.Meta.EventName {
	case "subscription_expired":
		if err := h.service.Expire(r.Context(), payload.Data.Attributes.UserEmail); err != nil {
			h.responseInternalServerError(w)
			return
		}
	}
	h.responseNoContent(w)
}

func (h *LemonsqueezyHandler) Index(w http.ResponseWriter, r *http.Request) {
	h.responseNoContent(w)
}
"#;

const GO_BASE_HANDLER: &str = r#"package handlers

import "net/http"

type handler struct{}

func (h *handler) responseBadRequest(w http.ResponseWriter, err error) {
	w.WriteHeader(http.StatusBadRequest)
}

func (h *handler) responseInternalServerError(w http.ResponseWriter) {
	w.WriteHeader(http.StatusInternalServerError)
}

func (h *handler) responseNoContent(w http.ResponseWriter) {
	w.WriteHeader(http.StatusNoContent)
}
"#;

const GO_USER_REPO: &str = r#"package repositories

import "database/sql"

type UserRepository interface {
	Expire(email string) error
}

type sqlUserRepository struct {
	db *sql.DB
}

func (r *sqlUserRepository) Expire(email string) error {
	_, err := r.db.Exec(`UPDATE users SET subscription_status = 'expired', has_paid_access = false WHERE email = $1`, email)
	return err
}
"#;

/// The billing service: `Expire` goes to the user repository; each report method
/// goes to a repository of its own.
fn go_billing_service(n: usize) -> String {
    let mut s = String::from(
        "package services\n\nimport (\n\t\"context\"\n\n\t\"example.com/app/repositories\"\n)\n\ntype BillingService struct {\n\tusers repositories.UserRepository\n",
    );
    for i in 0..n {
        s.push_str(&format!("\treports{i} repositories.Report{i}Repository\n"));
    }
    s.push_str("}\n\nfunc (s *BillingService) Expire(ctx context.Context, email string) error {\n\treturn s.users.Expire(email)\n}\n");
    for i in 0..n {
        s.push_str(&format!("\nfunc (s *BillingService) Report{i}(ctx context.Context) error {{\n\treturn s.reports{i}.Index(ctx)\n}}\n"));
    }
    s
}

fn go_many_handlers_repo(n: usize) -> tempfile::TempDir {
    let mut files: Vec<(String, String)> = vec![
        ("go.mod".into(), "module example.com/app\n\ngo 1.22\n".into()),
        ("handlers/lemonsqueezy_handler.go".into(), GO_LS_HANDLER.into()),
        ("handlers/handler.go".into(), GO_BASE_HANDLER.into()),
        ("services/billing_service.go".into(), go_billing_service(n)),
        ("repositories/user_repository.go".into(), GO_USER_REPO.into()),
    ];
    for i in 0..n {
        files.push((
            format!("handlers/report{i}_handler.go"),
            format!("package handlers\n\nimport \"net/http\"\n\ntype Report{i}Handler struct {{\n\thandler\n}}\n\nfunc (h *Report{i}Handler) Index(w http.ResponseWriter, r *http.Request) {{\n\th.responseNoContent(w)\n}}\n"),
        ));
        files.push((
            format!("repositories/report{i}_repository.go"),
            format!("package repositories\n\nimport \"context\"\n\ntype Report{i}Repository interface {{\n\tIndex(ctx context.Context) error\n}}\n\ntype sqlReport{i}Repository struct{{}}\n\nfunc (r *sqlReport{i}Repository) Index(ctx context.Context) error {{\n\treturn nil\n}}\n"),
        ));
    }
    let refs: Vec<(&str, &str)> = files.iter().map(|(p, t)| (p.as_str(), t.as_str())).collect();
    committed_repo(&refs)
}

#[test]
fn a_go_handler_among_many_is_followed_through_what_it_calls_not_every_method_of_the_same_name() {
    let n = 70;
    let dir = go_many_handlers_repo(n);
    write(dir.path(), "handlers/lemonsqueezy_handler.go", &GO_LS_HANDLER.replace("\tswitch payload", "\t// one event for now\n\tswitch payload"));
    let v = review(dir.path());
    assert_eq!(v["verdict"], "pass", "every path the handler takes was followed: {v:#}");
    assert!(helpers(&v).contains("repositories/user_repository.go"), "{}", helpers(&v));
    assert!(!helpers(&v).contains("report1_handler.go"), "another handler's Index is not called: {}", helpers(&v));
    assert!(!helpers(&v).contains("report1_repository.go"), "the service's other methods are not called: {}", helpers(&v));

    // What it calls is still seen: the repository stops revoking.
    let dir = go_many_handlers_repo(n);
    write(dir.path(), "repositories/user_repository.go", &GO_USER_REPO.replace("subscription_status = 'expired', has_paid_access = false", "expiry_notified = true"));
    let v = review(dir.path());
    assert!(high_rules(&v).contains(&"WH005".to_string()), "{v:#}");
}
