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
