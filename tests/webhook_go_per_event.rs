//! Go handlers with one function per event, told apart by the Paddle SDK type the body
//! is decoded into (`&paddlenotification.SubscriptionCanceled{}`) and mounted on a
//! route each; access moves through calls named for it (`BlockAccount`,
//! `UnblockAccountIfNeeded(ctx, id, active)`). Each regression has a quiet twin.

#[path = "support/git.rs"]
mod git_support;
use git_support::{committed_repo, high_rules, review, write};

const HANDLERS: &str = "internal/web/paddle_hooks.go";
const GATE: &str = "internal/web/gate.go";

const HANDLERS_BASE: &str = r#"package web

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"

	"github.com/PaddleHQ/paddle-go-sdk/v3/pkg/paddlenotification"
)

func (a *App) onSubscriptionUpdated(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	body, err := io.ReadAll(r.Body)
	if err != nil {
		slog.ErrorContext(ctx, "cannot read body", "err", err)
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	evt := &paddlenotification.SubscriptionUpdated{}
	if err := json.Unmarshal(body, evt); err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	account, err := a.Store.AccountBySubscription(ctx, evt.Data.ID)
	if err != nil {
		http.Error(w, "unknown subscription", http.StatusInternalServerError)
		return
	}
	active := a.Plans.IsActive(string(evt.Data.Status))
	a.Gate.UnblockAccountIfNeeded(ctx, account.ID, active)
	w.WriteHeader(http.StatusOK)
}

func (a *App) onSubscriptionCanceled(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	body, err := io.ReadAll(r.Body)
	if err != nil {
		slog.ErrorContext(ctx, "cannot read body", "err", err)
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	evt := &paddlenotification.SubscriptionCanceled{}
	if err := json.Unmarshal(body, evt); err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	account, err := a.Store.AccountBySubscription(ctx, evt.Data.ID)
	if err != nil {
		http.Error(w, "unknown subscription", http.StatusInternalServerError)
		return
	}
	a.Gate.BlockAccount(ctx, account.ID)
	w.WriteHeader(http.StatusOK)
}
"#;

/// Blocking lives in a cache guarded by a mutex: no column names access.
const GATE_BASE: &str = r#"package web

import (
	"context"
	"sync"
)

type Plans struct{}

func (p *Plans) IsActive(status string) bool {
	return status == "active" || status == "trialing"
}

type Gate struct {
	mu      sync.RWMutex
	blocked map[int64]bool
}

func (g *Gate) BlockAccount(ctx context.Context, id int64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.blocked[id] = true
}

func (g *Gate) UnblockAccountIfNeeded(ctx context.Context, id int64, active bool) {
	if !active {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.blocked, id)
}
"#;

fn app() -> tempfile::TempDir {
    committed_repo(&[(HANDLERS, HANDLERS_BASE), (GATE, GATE_BASE)])
}

fn changed(from: &str, to: &str) -> String {
    let out = HANDLERS_BASE.replace(from, to);
    assert_ne!(out, HANDLERS_BASE, "the edit must apply");
    out
}

#[test]
fn a_canceled_handler_that_no_longer_blocks_the_account_is_a_lost_revocation() {
    let dir = app();
    write(dir.path(), HANDLERS, &changed("\ta.Gate.BlockAccount(ctx, account.ID)\n", "\tslog.InfoContext(ctx, \"canceled; access ends with the period\", \"account\", account.ID)\n"));
    let v = review(dir.path());
    assert!(high_rules(&v).contains(&"WH005".to_string()), "{v:#}");
    assert!(v.to_string().contains("subscription.canceled"), "the event is named from the decoded type: {v:#}");
}

#[test]
fn an_access_flag_widened_to_every_status_but_canceled_is_a_widened_grant() {
    let dir = app();
    write(dir.path(), HANDLERS, &changed("active := a.Plans.IsActive(string(evt.Data.Status))", "active := evt.Data.Status != \"canceled\""));
    let v = review(dir.path());
    assert!(high_rules(&v).contains(&"WH011".to_string()), "{v:#}");
}

#[test]
fn the_same_allow_list_inlined_is_no_widening() {
    let dir = app();
    write(dir.path(), HANDLERS, &changed("active := a.Plans.IsActive(string(evt.Data.Status))", "active := evt.Data.Status == \"active\" || evt.Data.Status == \"trialing\""));
    let v = review(dir.path());
    assert!(high_rules(&v).is_empty(), "{v:#}");
}

#[test]
fn body_reading_moved_into_a_helper_that_answers_400_is_no_swallowed_error() {
    let dir = app();
    let read = "\tbody, err := io.ReadAll(r.Body)\n\tif err != nil {\n\t\tslog.ErrorContext(ctx, \"cannot read body\", \"err\", err)\n\t\thttp.Error(w, \"bad request\", http.StatusBadRequest)\n\t\treturn\n\t}\n";
    let helper = "// readBody reads the notification, answering 400 when it cannot.\nfunc readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {\n\tbody, err := io.ReadAll(r.Body)\n\tif err != nil {\n\t\tslog.ErrorContext(r.Context(), \"cannot read body\", \"err\", err)\n\t\thttp.Error(w, \"bad request\", http.StatusBadRequest)\n\t\treturn nil, false\n\t}\n\treturn body, true\n}\n\n";
    let after = changed(read, "\tbody, ok := readBody(w, r)\n\tif !ok {\n\t\treturn\n\t}\n").replacen("func (a *App) onSubscriptionUpdated", &format!("{helper}func (a *App) onSubscriptionUpdated"), 1);
    write(dir.path(), HANDLERS, &after);
    let v = review(dir.path());
    assert!(high_rules(&v).is_empty(), "{v:#}");

    // The same call with a helper that only logs: the failure is answered 200 now.
    let logging = helper.replace("\t\thttp.Error(w, \"bad request\", http.StatusBadRequest)\n", "");
    write(dir.path(), HANDLERS, &after.replace(helper, &logging));
    let v = review(dir.path());
    assert!(high_rules(&v).contains(&"WH010".to_string()), "{v:#}");
}

// ---------------------------------------------------------------------------
// A Stripe route that switches to per-event methods which log their service's error
// and return; the route then answers 200.

const STRIPE_ROUTE: &str = "internal/api/webhook/handler.go";

fn stripe_route(cases: &str, methods: &str) -> String {
    format!(
        r#"package webhook

import (
	"context"
	"encoding/json"
	"io"
	"net/http"

	"example.com/billing/internal/subscriptions"
	"github.com/stripe/stripe-go/v82"
	"github.com/stripe/stripe-go/v82/webhook"
	"go.uber.org/zap"
)

type webhookHandler struct {{
	logger        *zap.Logger
	secret        string
	subscriptions *subscriptions.Service
}}

func (h *webhookHandler) Handle() http.HandlerFunc {{
	return func(w http.ResponseWriter, r *http.Request) {{
		ctx := r.Context()
		payload, err := io.ReadAll(r.Body)
		if err != nil {{
			http.Error(w, "read error", http.StatusBadRequest)
			return
		}}
		event, err := webhook.ConstructEvent(payload, r.Header.Get("Stripe-Signature"), h.secret)
		if err != nil {{
			http.Error(w, "bad signature", http.StatusBadRequest)
			return
		}}
		switch event.Type {{
		case "invoice.paid":
			h.handleInvoicePaid(ctx, event)
{cases}
		}}
		w.WriteHeader(http.StatusOK)
	}}
}}

func (h *webhookHandler) handleInvoicePaid(ctx context.Context, event stripe.Event) {{
	var invoice stripe.Invoice
	if err := json.Unmarshal(event.Data.Raw, &invoice); err != nil {{
		h.logger.Error("bad invoice", zap.Error(err))
		return
	}}
	err := h.subscriptions.MarkPaid(ctx, invoice.Customer.ID)
	if err != nil {{
		h.logger.Error("failed to handle invoice.paid", zap.Error(err))
	}}
}}
{methods}
"#
    )
}

const SERVICE_PATH: &str = "internal/subscriptions/service.go";
const SERVICE: &str = r#"package subscriptions

import (
	"context"
	"database/sql"
)

type Service struct {
	db *sql.DB
}

func (s *Service) MarkPaid(ctx context.Context, customerID string) error {
	_, err := s.db.ExecContext(ctx, "UPDATE accounts SET plan = 'pro' WHERE stripe_customer_id = $1", customerID)
	return err
}

func (s *Service) Cancel(ctx context.Context, customerID string) error {
	_, err := s.db.ExecContext(ctx, "UPDATE accounts SET plan = 'free' WHERE stripe_customer_id = $1", customerID)
	return err
}
"#;

const DELETED_CASE: &str = "\t\tcase \"customer.subscription.deleted\":\n\t\t\th.handleSubscriptionDeleted(ctx, event)";
const DELETED_LOGGED: &str = r#"
func (h *webhookHandler) handleSubscriptionDeleted(ctx context.Context, event stripe.Event) {
	var sub stripe.Subscription
	if err := json.Unmarshal(event.Data.Raw, &sub); err != nil {
		h.logger.Error("bad subscription", zap.Error(err))
		return
	}
	err := h.subscriptions.Cancel(ctx, sub.Customer.ID)
	if err != nil {
		h.logger.Error("failed to handle customer.subscription.deleted", zap.Error(err))
	}
}
"#;

#[test]
fn a_new_event_method_logging_errors_like_the_existing_ones_is_quiet() {
    let dir = committed_repo(&[(STRIPE_ROUTE, &stripe_route("", "")), (SERVICE_PATH, SERVICE), ("go.mod", "module example.com/billing\n\ngo 1.23\n")]);
    write(dir.path(), STRIPE_ROUTE, &stripe_route(DELETED_CASE, DELETED_LOGGED));
    let v = review(dir.path());
    assert!(!high_rules(&v).contains(&"WH010".to_string()), "{v:#}");
}

#[test]
fn an_event_method_that_now_logs_the_error_its_route_answered_500_for_is_wh010() {
    // Before: the only method returns its error and the route answers 500.
    let returning = stripe_route("", "")
        .replace("func (h *webhookHandler) handleInvoicePaid(ctx context.Context, event stripe.Event) {", "func (h *webhookHandler) handleInvoicePaid(ctx context.Context, event stripe.Event) error {")
        .replace("\t\th.logger.Error(\"bad invoice\", zap.Error(err))\n\t\treturn\n", "\t\treturn err\n")
        .replace("\tif err != nil {\n\t\th.logger.Error(\"failed to handle invoice.paid\", zap.Error(err))\n\t}\n}", "\treturn err\n}")
        .replace("\t\t\th.handleInvoicePaid(ctx, event)\n", "\t\t\tif err := h.handleInvoicePaid(ctx, event); err != nil {\n\t\t\t\thttp.Error(w, \"failed\", http.StatusInternalServerError)\n\t\t\t\treturn\n\t\t\t}\n");
    let dir = committed_repo(&[(STRIPE_ROUTE, &returning), (SERVICE_PATH, SERVICE), ("go.mod", "module example.com/billing\n\ngo 1.23\n")]);
    write(dir.path(), STRIPE_ROUTE, &stripe_route("", ""));
    let v = review(dir.path());
    assert!(high_rules(&v).contains(&"WH010".to_string()), "{v:#}");
}
