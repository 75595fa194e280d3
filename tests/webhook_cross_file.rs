//! The webhook review follows a handler's calls into the repository's other
//! files: a regression inside a helper is seen through the handler, a value
//! passed to a helper is read as the write it becomes, and code that only
//! moves to another file is not a change.

use std::path::Path;
use std::process::Output;

use serde_json::Value;

#[path = "support/git.rs"]
mod git_support;
use git_support::{billguard, git};

/// A git repository holding `files`, committed; returns it.
fn repo(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q"]);
    write(dir.path(), files);
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-qm", "base"]);
    dir
}

fn write(dir: &Path, files: &[(&str, &str)]) {
    for (path, text) in files {
        let p = dir.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
}

fn review(dir: &Path) -> (Value, Output) {
    let out = billguard(dir, &["check", "webhook", "--base", "HEAD", "--format", "json"]);
    let v = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)));
    (v, out)
}

fn high_rules(v: &Value) -> Vec<String> {
    let mut r: Vec<String> =
        v["findings"].as_array().unwrap().iter().filter(|f| f["severity"] == "high").map(|f| f["rule"].as_str().unwrap().to_string()).collect();
    r.sort();
    r.dedup();
    r
}

const NEXT_ROUTE: &str = r#"import Stripe from 'stripe';
import { headers } from 'next/headers';
import { manageSubscriptionStatusChange } from '@/utils/supabase/admin';

const stripe = new Stripe(process.env.STRIPE_SECRET_KEY!);

export async function POST(req: Request) {
  const body = await req.text();
  const sig = headers().get('stripe-signature')!;
  let event: Stripe.Event;
  try {
    event = stripe.webhooks.constructEvent(body, sig, process.env.STRIPE_WEBHOOK_SECRET!);
  } catch (err) {
    return new Response('bad signature', { status: 400 });
  }
  switch (event.type) {
    case 'customer.subscription.created':
    case 'customer.subscription.updated':
    case 'customer.subscription.deleted': {
      const subscription = event.data.object as Stripe.Subscription;
      await manageSubscriptionStatusChange(subscription.id, subscription.customer as string, subscription.status);
      break;
    }
  }
  return new Response(JSON.stringify({ received: true }));
}
"#;

const NEXT_HELPER: &str = r#"import { createClient } from '@supabase/supabase-js';

const supabaseAdmin = createClient(process.env.NEXT_PUBLIC_SUPABASE_URL!, process.env.SUPABASE_SERVICE_ROLE_KEY!);

export async function manageSubscriptionStatusChange(subscriptionId: string, customerId: string, status: string) {
  const { data: customer } = await supabaseAdmin.from('customers').select('id').eq('stripe_customer_id', customerId).single();
  const active = status === 'active' || status === 'trialing';
  await supabaseAdmin.from('profiles').update({ has_paid_access: active }).eq('id', customer!.id);
}
"#;

#[test]
fn a_write_removed_inside_a_helper_is_seen_through_the_unchanged_handler() {
    let dir = repo(&[("app/api/webhooks/route.ts", NEXT_ROUTE), ("utils/supabase/admin.ts", NEXT_HELPER)]);
    let broken = NEXT_HELPER.replace("  await supabaseAdmin.from('profiles').update({ has_paid_access: active }).eq('id', customer!.id);\n", "");
    write(dir.path(), &[("utils/supabase/admin.ts", &broken)]);
    let (v, out) = review(dir.path());
    assert_eq!(out.status.code(), Some(1), "{v:#}");
    // Every lifecycle event wrote access through the helper; now none writes anything,
    // and with the write go the grant and the revocation.
    assert_eq!(v["summary"]["by_rule"]["WH008"], 3, "{v:#}");
    let rules = high_rules(&v);
    assert!(rules.contains(&"WH004".to_string()) && rules.contains(&"WH005".to_string()), "{rules:?}");
    let handler = &v["scope"]["handler_files"][0];
    assert_eq!(handler["path"], "app/api/webhooks/route.ts");
    assert_eq!(handler["change"], "unchanged");
    assert!(handler["helpers"].to_string().contains("utils/supabase/admin.ts"), "{handler}");
    assert!(v["notes"].to_string().contains("calls into changed utils/supabase/admin.ts"), "{}", v["notes"]);
}

#[test]
fn the_same_helper_untouched_is_quiet() {
    let dir = repo(&[("app/api/webhooks/route.ts", NEXT_ROUTE), ("utils/supabase/admin.ts", NEXT_HELPER)]);
    write(dir.path(), &[("utils/supabase/admin.ts", &NEXT_HELPER.replace("const active", "// Entitled statuses.\n  const active"))]);
    let (v, out) = review(dir.path());
    assert_eq!(out.status.code(), Some(0), "{v:#}");
    assert!(high_rules(&v).is_empty(), "{v:#}");
}

#[test]
fn moving_the_write_into_a_new_helper_file_is_not_a_change() {
    let inline = NEXT_ROUTE.replace("import { manageSubscriptionStatusChange } from '@/utils/supabase/admin';\n", "import { createClient } from '@supabase/supabase-js';\nconst supabaseAdmin = createClient(process.env.NEXT_PUBLIC_SUPABASE_URL!, process.env.SUPABASE_SERVICE_ROLE_KEY!);\n").replace(
        "      await manageSubscriptionStatusChange(subscription.id, subscription.customer as string, subscription.status);\n",
        "      const { data: customer } = await supabaseAdmin.from('customers').select('id').eq('stripe_customer_id', subscription.customer as string).single();\n      const active = subscription.status === 'active' || subscription.status === 'trialing';\n      await supabaseAdmin.from('profiles').update({ has_paid_access: active }).eq('id', customer!.id);\n",
    );
    let dir = repo(&[("app/api/webhooks/route.ts", &inline)]);
    write(dir.path(), &[("app/api/webhooks/route.ts", NEXT_ROUTE), ("utils/supabase/admin.ts", NEXT_HELPER)]);
    let (v, out) = review(dir.path());
    assert!(high_rules(&v).is_empty(), "a move to a new file raised {:?}: {v:#}", high_rules(&v));
    assert_eq!(out.status.code(), Some(0));
    assert!(v["scope"]["handler_files"][0]["helpers"].to_string().contains("utils/supabase/admin.ts"), "{v:#}");
}

const GO_HANDLER: &str = r#"package server

import (
	"encoding/json"
	"io"
	"net/http"
	"os"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/webhook"
)

func (s *Server) HandleStripeWebhook(w http.ResponseWriter, r *http.Request) {
	payload, _ := io.ReadAll(r.Body)
	event, err := webhook.ConstructEvent(payload, r.Header.Get("Stripe-Signature"), os.Getenv("STRIPE_WEBHOOK_SECRET"))
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	switch event.Type {
	case "customer.subscription.deleted":
		var sub stripe.Subscription
		json.Unmarshal(event.Data.Raw, &sub)
		if err := s.SetUserPlanByCustomerID(r.Context(), sub.Customer.ID, "free", false); err != nil {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
	}
	w.WriteHeader(http.StatusOK)
}
"#;

const GO_STORE: &str = r#"package server

import "context"

func (s *Server) SetUserPlanByCustomerID(ctx context.Context, customerID string, plan string, paid bool) error {
	_, err := s.db.ExecContext(ctx, "UPDATE users SET plan = $1, has_paid_access = $2 WHERE stripe_customer_id = $3", plan, paid, customerID)
	return err
}
"#;

#[test]
fn a_value_passed_to_a_helper_of_the_same_go_package_is_the_write_it_becomes() {
    let dir = repo(&[("internal/server/webhook.go", GO_HANDLER), ("internal/server/store.go", GO_STORE)]);
    // The cancel path now passes paid = true to the helper: access is no longer revoked.
    write(dir.path(), &[("internal/server/webhook.go", &GO_HANDLER.replace("\"free\", false)", "\"free\", true)"))]);
    let (v, out) = review(dir.path());
    assert_eq!(out.status.code(), Some(1), "{v:#}");
    assert!(high_rules(&v).contains(&"WH005".to_string()), "{:?} {v:#}", high_rules(&v));
    assert!(v["scope"]["handler_files"][0]["helpers"].to_string().contains("internal/server/store.go"), "{v:#}");
}

const PY_VIEW: &str = r#"import stripe
from django.conf import settings
from django.http import HttpResponse
from billing.services import deactivate_subscription

def stripe_webhook(request):
    try:
        event = stripe.Webhook.construct_event(request.body, request.META["HTTP_STRIPE_SIGNATURE"], settings.STRIPE_WEBHOOK_SECRET)
    except (ValueError, stripe.error.SignatureVerificationError):
        return HttpResponse(status=400)
    if event["type"] == "customer.subscription.deleted":
        deactivate_subscription(event["data"]["object"]["customer"])
    return HttpResponse(status=200)
"#;

const PY_SERVICE: &str = r#"from accounts.models import Profile

def deactivate_subscription(customer_id):
    profile = Profile.objects.get(stripe_customer_id=customer_id)
    profile.is_pro = False
    profile.save()
"#;

#[test]
fn a_python_service_function_that_stops_revoking_is_wh005() {
    let dir = repo(&[("billing/views/webhooks.py", PY_VIEW), ("billing/services.py", PY_SERVICE), ("accounts/models.py", "")]);
    write(dir.path(), &[("billing/services.py", &PY_SERVICE.replace("    profile.is_pro = False\n", ""))]);
    let (v, _) = review(dir.path());
    assert!(high_rules(&v).contains(&"WH005".to_string()), "{:?} {v:#}", high_rules(&v));
}

const RB_CONTROLLER: &str = r#"class StripeWebhooksController < ApplicationController
  skip_before_action :verify_authenticity_token

  def create
    event = Stripe::Webhook.construct_event(request.body.read, request.headers["Stripe-Signature"], ENV["STRIPE_WEBHOOK_SECRET"])
    case event.type
    when "customer.subscription.deleted"
      Billing::CancelSubscription.new(event.data.object).call
    end
    head :ok
  rescue Stripe::SignatureVerificationError
    head :bad_request
  end
end
"#;

const RB_SERVICE: &str = r#"module Billing
  class CancelSubscription
    def initialize(subscription)
      @subscription = subscription
    end

    def call
      user = User.find_by!(stripe_customer_id: @subscription.customer)
      user.update!(has_paid_access: false, plan: "free")
    end
  end
end
"#;

#[test]
fn a_ruby_service_object_that_keeps_access_on_cancel_is_wh005() {
    let dir = repo(&[("app/controllers/stripe_webhooks_controller.rb", RB_CONTROLLER), ("app/services/billing/cancel_subscription.rb", RB_SERVICE)]);
    write(dir.path(), &[("app/services/billing/cancel_subscription.rb", &RB_SERVICE.replace("has_paid_access: false, plan: \"free\"", "plan: \"free\""))]);
    let (v, _) = review(dir.path());
    assert!(high_rules(&v).contains(&"WH005".to_string()), "{:?} {v:#}", high_rules(&v));
}

#[test]
fn an_import_that_names_no_file_is_a_note_and_the_review_goes_on() {
    let route = NEXT_ROUTE.replace("@/utils/supabase/admin", "@/utils/nowhere");
    let dir = repo(&[("app/api/webhooks/route.ts", &route)]);
    write(dir.path(), &[("app/api/webhooks/route.ts", &format!("{route}\n// touched\n"))]);
    let (v, out) = review(dir.path());
    assert_ne!(out.status.code(), Some(2), "{v:#}");
    assert!(v["notes"].to_string().contains("'@/utils/nowhere' names no file"), "{}", v["notes"]);
}

const GUARDED_ROUTE: &str = r#"import Stripe from 'stripe';
import { syncSubscription, saveProduct } from '../../../lib/billing-store';

const handled = new Set(['product.updated', 'customer.subscription.updated', 'customer.subscription.deleted']);

export async function POST(req: Request) {
  const raw = await req.text();
  let event: Stripe.Event;
  try {
    event = stripe.webhooks.constructEvent(raw, req.headers.get('stripe-signature')!, process.env.STRIPE_WEBHOOK_SECRET!);
  } catch {
    return new Response('invalid signature', { status: 400 });
  }
  if (handled.has(event.type)) {
    switch (event.type) {
      case 'product.updated':
        await saveProduct(event.data.object as Stripe.Product);
        break;
      case 'customer.subscription.updated':
      case 'customer.subscription.deleted':
        await syncSubscription(event.data.object as Stripe.Subscription);
        break;
    }
  }
  return Response.json({ ok: true });
}
"#;

const BILLING_STORE: &str = r#"export const saveProduct = async (product: Stripe.Product) => {
  await db.from('products').upsert([{ id: product.id, active: product.active, name: product.name }]);
};

export const syncSubscription = async (sub: Stripe.Subscription) => {
  const row = {
    id: sub.id,
    user_id: sub.metadata.user_id,
    status: sub.status,
    renews_at: new Date(sub.current_period_end * 1000).toISOString(),
  };
  await db.from('subscriptions').upsert([row]);
};
"#;

#[test]
fn a_status_column_copied_from_the_subscription_is_access() {
    let dir = repo(&[("app/api/webhooks/route.ts", GUARDED_ROUTE), ("lib/billing-store.ts", BILLING_STORE)]);
    write(dir.path(), &[("lib/billing-store.ts", &BILLING_STORE.replace("    status: sub.status,\n", ""))]);
    let (v, _) = review(dir.path());
    let rules = high_rules(&v);
    assert!(rules.contains(&"WH004".to_string()) && rules.contains(&"WH005".to_string()), "{rules:?} {v:#}");
    // A product's `active` flag is not access: the product event is not part of it.
    assert!(!v["findings"].to_string().contains("product.updated"), "{v:#}");
}

#[test]
fn under_a_handled_events_guard_each_event_has_only_its_own_case() {
    let dir = repo(&[("app/api/webhooks/route.ts", GUARDED_ROUTE), ("lib/billing-store.ts", BILLING_STORE)]);
    // The product upsert goes: the subscription events, which never wrote products, are unaffected.
    write(dir.path(), &[("lib/billing-store.ts", &BILLING_STORE.replace("  await db.from('products').upsert([{ id: product.id, active: product.active, name: product.name }]);\n", ""))]);
    let (v, _) = review(dir.path());
    let findings = v["findings"].as_array().unwrap();
    assert!(findings.iter().all(|f| !f["entity"].as_str().unwrap().contains("customer.subscription")), "{v:#}");
    assert!(findings.iter().any(|f| f["rule"] == "WH008" && f["entity"].as_str().unwrap().ends_with("#product.updated")), "{v:#}");
}

const TEAM_ROUTE: &str = r#"import Stripe from 'stripe';
import { syncTeam } from '@/lib/billing/team-sync';

export async function POST(request: Request) {
  const payload = await request.text();
  let event: Stripe.Event;
  try {
    event = stripe.webhooks.constructEvent(payload, request.headers.get('stripe-signature')!, process.env.STRIPE_WEBHOOK_SECRET!);
  } catch {
    return Response.json({ error: 'bad signature' }, { status: 400 });
  }
  switch (event.type) {
    case 'customer.subscription.updated':
    case 'customer.subscription.deleted':
      await syncTeam(event.data.object as Stripe.Subscription);
      break;
  }
  return Response.json({ received: true });
}
"#;

const TEAM_SYNC: &str = r#"import { saveTeamBilling } from '@/lib/db/teams';

export async function syncTeam(sub: Stripe.Subscription) {
  const team = await findTeamByCustomer(sub.customer as string);
  const status = sub.status;
  if (status === 'active' || status === 'trialing') {
    await saveTeamBilling(team.id, { tier: sub.items.data[0].price.lookup_key, billingStatus: status });
  } else if (status === 'canceled' || status === 'unpaid') {
    await saveTeamBilling(team.id, { tier: null, billingStatus: status });
  }
}
"#;

const TEAM_DB: &str = r#"export async function saveTeamBilling(teamId: number, billing: { tier: string | null; billingStatus: string }) {
  await db.update(teams).set({ ...billing, updatedAt: new Date() }).where(eq(teams.id, teamId));
}
"#;

#[test]
fn a_row_spread_into_an_update_two_files_away_carries_the_revocation() {
    let files = [("app/api/stripe/webhook/route.ts", TEAM_ROUTE), ("lib/billing/team-sync.ts", TEAM_SYNC), ("lib/db/teams.ts", TEAM_DB)];
    let dir = repo(&files);
    // The canceled branch stops clearing the tier and the status: cancellations keep access.
    write(dir.path(), &[("lib/billing/team-sync.ts", &TEAM_SYNC.replace("{ tier: null, billingStatus: status }", "{} as any"))]);
    let (v, _) = review(dir.path());
    assert!(high_rules(&v).contains(&"WH005".to_string()), "{:?} {v:#}", high_rules(&v));
    // The paying branch's write is guarded to paying statuses: touching only it is no revocation lost.
    let dir = repo(&files);
    write(dir.path(), &[("lib/db/teams.ts", &TEAM_DB.replace("updatedAt: new Date()", "updatedAt: new Date(), syncedBy: 'webhook'"))]);
    let (v, _) = review(dir.path());
    assert!(high_rules(&v).is_empty(), "{v:#}");
}

const FLASK_VIEWS: &str = r#"import stripe
from flask import Blueprint, request

from .db import db
from .models import User

bp = Blueprint("app", __name__)


@bp.route("/")
def index():
    return "home"


@bp.route("/account")
def account():
    return "account"


@bp.route("/pricing")
def pricing():
    plans = [{"name": "free", "price": 0}, {"name": "pro", "price": 12}, {"name": "team", "price": 40}]
    return {"plans": plans}


@bp.route("/settings", methods=["GET", "POST"])
def settings():
    if request.method == "POST":
        db.session.commit()
    return "settings"


@bp.route("/health")
def health():
    return {"ok": True, "version": "1.4.2"}


@bp.route("/stripe/webhook", methods=["POST"])
def stripe_webhook():
    event = stripe.Webhook.construct_event(request.get_data(), request.headers["Stripe-Signature"], SECRET)
    if event["type"] == "customer.subscription.deleted":
        user = User.query.filter_by(stripe_customer_id=event["data"]["object"]["customer"]).first()
        user.has_paid_access = False
        db.session.commit()
    return "", 200
"#;

/// The webhook view alone, as it reads once `views.py` is split into a package.
fn payment_view(body_change: Option<(&str, &str)>) -> String {
    let start = FLASK_VIEWS.find("@bp.route(\"/stripe/webhook\"").unwrap();
    let view = format!("import stripe\nfrom flask import Blueprint, request\n\nfrom ..db import db\nfrom ..models import User\n\nbp = Blueprint(\"payment\", __name__)\n\n\n{}", &FLASK_VIEWS[start..]);
    match body_change {
        Some((from, to)) => view.replace(from, to),
        None => view,
    }
}

#[test]
fn a_handler_file_split_out_of_a_deleted_file_is_a_move_not_new_code() {
    let dir = repo(&[("app/views.py", FLASK_VIEWS)]);
    std::fs::remove_file(dir.path().join("app/views.py")).unwrap();
    write(dir.path(), &[("app/views/__init__.py", "from .payment import bp\n"), ("app/views/payment.py", &payment_view(None))]);
    git(dir.path(), &["add", "-A"]);
    let status = std::process::Command::new("git").args(["diff", "--cached", "-M", "--name-status", "HEAD"]).current_dir(dir.path()).output().unwrap();
    assert!(String::from_utf8_lossy(&status.stdout).contains("D\tapp/views.py"), "git itself does not call it a rename");
    let (v, _) = review(dir.path());
    assert!(high_rules(&v).is_empty(), "{v}");
    let h = &v["scope"]["handler_files"][0];
    assert_eq!(h["change"], "renamed", "{h}");
    assert_eq!(h["path"], "app/views.py -> app/views/payment.py");
    // The same move that also drops the revocation is still a regression.
    write(dir.path(), &[("app/views/payment.py", &payment_view(Some(("        user.has_paid_access = False\n", ""))))]);
    let (v, _) = review(dir.path());
    assert!(high_rules(&v).contains(&"WH005".to_string()), "{v}");
}

const PRISMA_SCHEMA: &str = "model User {\n  id                 String  @id\n  stripeCustomerId   String?\n  hasPaid            Boolean @default(false)\n  subscriptionStatus String?\n}\n";

const PRISMA_ROUTE: &str = r#"import Stripe from 'stripe';
import { prisma } from '@/lib/prisma';

export async function POST(req: Request) {
  const event = stripe.webhooks.constructEvent(await req.text(), req.headers.get('stripe-signature')!, process.env.STRIPE_WEBHOOK_SECRET!);
  switch (event.type) {
    case 'customer.subscription.updated':
      await prisma.user.update({ where: { stripeCustomerId: event.data.object.customer }, data: { hasPaid: true, subscriptionStatus: event.data.object.status } });
      break;
    case 'customer.subscription.deleted':
      await prisma.user.update({ where: { stripeCustomerId: event.data.object.customer }, data: { hasPaid: false, subscriptionStatus: 'canceled' } });
      break;
  }
  return new Response('ok');
}
"#;

#[test]
fn writes_of_a_column_the_change_drops_from_the_schema_may_go() {
    let dir = repo(&[("prisma/schema.prisma", PRISMA_SCHEMA), ("app/api/webhook/route.ts", PRISMA_ROUTE)]);
    let without = PRISMA_ROUTE.replace("hasPaid: true, ", "").replace("hasPaid: false, ", "");
    // The writes go and the column stays: lost grant and revocation.
    write(dir.path(), &[("app/api/webhook/route.ts", &without)]);
    let (v, _) = review(dir.path());
    let rules = high_rules(&v);
    assert!(rules.contains(&"WH004".to_string()) && rules.contains(&"WH005".to_string()), "{v}");
    // The column is dropped in the same change: access now rests on subscriptionStatus.
    write(dir.path(), &[("prisma/schema.prisma", &PRISMA_SCHEMA.replace("  hasPaid            Boolean @default(false)\n", ""))]);
    let (v, _) = review(dir.path());
    assert!(high_rules(&v).is_empty(), "{v}");
    assert!(v["notes"].to_string().contains("drops hasPaid from the app's schema"), "{}", v["notes"]);
}

/// An Express app that loads one module per event type by name from a list.
const EVENT_MODULES_INDEX: &str = r#"const express = require('express');
const stripe = require('stripe')(process.env.STRIPE_API_KEY);

const app = express();
const handled = ['customer.subscription.created', 'customer.subscription.deleted'];
const handlers = {};
handled.forEach((type) => (handlers[type] = require(`./handlers/${type}`)));

app.post('/billing/hook', express.raw({ type: 'application/json' }), async (req, res) => {
  let event;
  try {
    event = stripe.webhooks.constructEvent(req.body, req.headers['stripe-signature'], process.env.STRIPE_HOOK_SECRET);
  } catch (err) {
    return res.status(400).send('bad signature');
  }
  const run = handlers[event.type];
  if (run) await run(event);
  res.sendStatus(200);
});

module.exports = app;
"#;

const EVENT_MODULE_CREATED: &str = r#"const markMember = require('../members/markMember');

module.exports = async (event) => {
  const sub = event.data.object;
  await markMember(sub.metadata.memberId, true);
};
"#;

const EVENT_MODULE_DELETED: &str = r#"const markMember = require('../members/markMember');

module.exports = async (event) => {
  const sub = event.data.object;
  await markMember(sub.metadata.memberId, false);
};
"#;

const MARK_MEMBER: &str = r#"const db = require('../db');

module.exports = async (memberId, plus) => {
  await db('members').where({ id: memberId }).update({ plus });
};
"#;

fn event_modules_repo() -> tempfile::TempDir {
    repo(&[
        ("server/index.js", EVENT_MODULES_INDEX),
        ("server/handlers/customer.subscription.created.js", EVENT_MODULE_CREATED),
        ("server/handlers/customer.subscription.deleted.js", EVENT_MODULE_DELETED),
        ("server/members/markMember.js", MARK_MEMBER),
    ])
}

#[test]
fn modules_loaded_per_event_type_by_name_are_the_events_handlers() {
    let dir = event_modules_repo();
    // The deleted event's module stops revoking: seen through the unchanged index.
    write(dir.path(), &[("server/handlers/customer.subscription.deleted.js", &EVENT_MODULE_DELETED.replace("await markMember(sub.metadata.memberId, false);\n", "console.log('ended', sub.id);\n"))]);
    let (v, _) = review(dir.path());
    assert_eq!(high_rules(&v), ["WH005", "WH008"], "{v:#}");
    let handler = &v["scope"]["handler_files"][0];
    assert_eq!(handler["events"], serde_json::json!(["customer.subscription.created", "customer.subscription.deleted"]), "{handler}");

    // Dropping the events from the list leaves them unhandled.
    let dir = event_modules_repo();
    write(dir.path(), &[("server/index.js", &EVENT_MODULES_INDEX.replace("['customer.subscription.created', 'customer.subscription.deleted']", "['charge.succeeded']"))]);
    let (v, _) = review(dir.path());
    assert_eq!(high_rules(&v), ["WH006"], "{v:#}");

    // The same modules in an object literal of requires: a move, quiet.
    let dir = event_modules_repo();
    let literal = "const handlers = {\n  'customer.subscription.created': require('./handlers/customer.subscription.created'),\n  'customer.subscription.deleted': require('./handlers/customer.subscription.deleted'),\n};\n";
    write(dir.path(), &[("server/index.js", &EVENT_MODULES_INDEX.replace("const handlers = {};\nhandled.forEach((type) => (handlers[type] = require(`./handlers/${type}`)));\n", literal))]);
    let (v, out) = review(dir.path());
    assert!(high_rules(&v).is_empty(), "{v:#}");
    assert_eq!(out.status.code(), Some(0), "{v:#}");

    // A reformatted index is quiet.
    let dir = event_modules_repo();
    write(dir.path(), &[("server/index.js", &EVENT_MODULES_INDEX.replace("handled.forEach((type) =>", "handled.forEach(type =>"))]);
    let (v, out) = review(dir.path());
    assert!(high_rules(&v).is_empty(), "{v:#}");
    assert_eq!(out.status.code(), Some(0), "{v:#}");
}

const EX_HANDLER: &str = r#"defmodule Ledger.StripeHandler do
  @behaviour Stripe.WebhookHandler
  alias Ledger.Teams

  @impl true
  def handle_event(%Stripe.Event{type: "customer.subscription.created"} = event) do
    subscription = event.data.object

    with {:ok, team} <- Teams.get_team_by_customer(subscription.customer) do
      Teams.update_team_subscription(team, subscription.id)
    end

    :ok
  end

  @impl true
  def handle_event(_event), do: :ok
end
"#;

const EX_TEAMS: &str = r#"defmodule Ledger.Teams do
  alias Ledger.Repo
  alias Ledger.Teams.Team

  def get_team_by_customer(customer_id) do
    case Repo.get_by(Team, stripe_customer_id: customer_id) do
      nil -> {:error, :not_found}
      team -> {:ok, team}
    end
  end

  def update_team_subscription(%Team{} = team, subscription_id) do
    team |> Ecto.Changeset.change(stripe_subscription_id: subscription_id) |> Repo.update!()
  end

  def refresh_team_plan(%Team{} = team, status) do
    plan = if status in ["active", "trialing"], do: "team", else: "free"
    team |> Ecto.Changeset.change(plan: plan, stripe_status: status) |> Repo.update!()
  end
end
"#;

#[test]
fn a_removed_call_to_a_helper_seen_writing_no_access_field_is_no_lost_grant() {
    let dir = repo(&[("lib/ledger/stripe_handler.ex", EX_HANDLER), ("lib/ledger/teams.ex", EX_TEAMS)]);
    // The subscription id is no longer stored; the plan is refreshed instead.
    write(dir.path(), &[("lib/ledger/stripe_handler.ex", &EX_HANDLER.replace("Teams.update_team_subscription(team, subscription.id)", "Teams.refresh_team_plan(team, subscription.status)"))]);
    let (v, _) = review(dir.path());
    assert!(high_rules(&v).is_empty(), "storing an id is no access write: {v:#}");

    // Dropping the plan refresh is a lost grant.
    let dir = repo(&[("lib/ledger/stripe_handler.ex", &EX_HANDLER.replace("Teams.update_team_subscription(team, subscription.id)", "Teams.refresh_team_plan(team, subscription.status)")), ("lib/ledger/teams.ex", EX_TEAMS)]);
    write(dir.path(), &[("lib/ledger/stripe_handler.ex", EX_HANDLER)]);
    let (v, _) = review(dir.path());
    assert!(high_rules(&v).contains(&"WH004".to_string()), "{v:#}");
}

const EX_CAST_HANDLER: &str = r#"defmodule App.StripeHandler do
  @behaviour Stripe.WebhookHandler
  alias App.Orgs

  @impl true
  def handle_event(%Stripe.Event{type: "customer.subscription.deleted"} = event) do
    subscription = event.data.object
    with {:ok, org} <- Orgs.get_org_by_customer(subscription.customer) do
      Orgs.validate_org_plan(org)
      Tracking.deleted(event, org)
    end
    :ok
  end

  def handle_event(_event), do: :ok
end
"#;

const EX_CAST_ORGS: &str = r#"defmodule App.Orgs do
  alias App.Repo
  alias App.Orgs.Org

  def get_org_by_customer(customer) do
    Repo.get_by(Org, stripe_customer_id: customer)
  end

  def validate_org_plan(%Org{} = org) do
    cond do
      org.stripe_customer_id -> validate_stripe_plan(org.stripe_customer_id)
      true -> {:ok, %{plan: "free"}}
    end
    |> Result.tap(fn validated -> org |> Org.validate_plan_changeset(validated, DateTime.utc_now()) |> Repo.update() end)
    |> Result.map(fn validated -> validated.plan end)
  end
end
"#;

const EX_CAST_ORG: &str = r#"defmodule App.Orgs.Org do
  use Ecto.Schema
  import Ecto.Changeset

  def validate_plan_changeset(%Org{} = org, attrs, now) do
    required = [:plan, :plan_status]

    org
    |> cast(attrs, required)
    |> put_change(:plan_validated, now)
    |> validate_required(required)
  end
end
"#;

#[test]
fn fields_an_ecto_changeset_casts_are_written_through_the_helper_that_applies_it() {
    let files = [("lib/app/stripe_handler.ex", EX_CAST_HANDLER), ("lib/app/orgs.ex", EX_CAST_ORGS), ("lib/app/orgs/org.ex", EX_CAST_ORG)];
    // The plan re-validation dropped from the cancellation: it no longer revokes.
    let dir = repo(&files);
    write(dir.path(), &[("lib/app/stripe_handler.ex", &EX_CAST_HANDLER.replace("      Orgs.validate_org_plan(org)\n", ""))]);
    let (v, _) = review(dir.path());
    assert!(high_rules(&v).contains(&"WH005".to_string()), "{v:#}");
    // The changeset no longer casting the plan: seen through both helpers.
    let dir = repo(&files);
    write(dir.path(), &[("lib/app/orgs/org.ex", &EX_CAST_ORG.replace("[:plan, :plan_status]", "[:plan_status]"))]);
    let (v, _) = review(dir.path());
    assert!(high_rules(&v).contains(&"WH005".to_string()), "{v:#}");
    // Reordered calls: quiet.
    let dir = repo(&files);
    write(dir.path(), &[("lib/app/stripe_handler.ex", &EX_CAST_HANDLER.replace("      Orgs.validate_org_plan(org)\n      Tracking.deleted(event, org)\n", "      Tracking.deleted(event, org)\n      Orgs.validate_org_plan(org)\n"))]);
    let (v, out) = review(dir.path());
    assert!(high_rules(&v).is_empty(), "{v:#}");
    assert_eq!(out.status.code(), Some(0), "{v:#}");
}

#[test]
fn a_vendored_copy_of_a_helper_is_neither_followed_nor_hides_the_apps_change() {
    // Mix's `deps/` holds a library whose modules end like the app's own (`app/orgs/org.ex`).
    let files = [
        ("lib/app/stripe_handler.ex", EX_CAST_HANDLER),
        ("lib/app/orgs.ex", EX_CAST_ORGS),
        ("lib/app/orgs/org.ex", EX_CAST_ORG),
        ("deps/org_kit/lib/app/orgs.ex", EX_CAST_ORGS),
        ("deps/org_kit/lib/app/orgs/org.ex", EX_CAST_ORG),
    ];
    let dir = repo(&files);
    write(dir.path(), &[("lib/app/orgs/org.ex", &EX_CAST_ORG.replace("[:plan, :plan_status]", "[:plan_status]"))]);
    let (v, _) = review(dir.path());
    assert!(high_rules(&v).contains(&"WH005".to_string()), "{v:#}");
    let helpers: Vec<&str> = v["scope"]["handler_files"].as_array().unwrap().iter().flat_map(|h| h["helpers"].as_array().unwrap()).filter_map(Value::as_str).collect();
    assert!(helpers.contains(&"lib/app/orgs/org.ex"), "{helpers:?}");
    assert!(!helpers.iter().any(|h| h.starts_with("deps/")), "{helpers:?}");
}

const RB_STRIPE_EVENT_INITIALIZER: &str = r#"StripeEvent.signing_secret = ENV["STRIPE_SIGNING_SECRET"]

StripeEvent.configure do |events|
  events.subscribe "customer.subscription.updated", Billing::SyncSubscription.new
  events.subscribe "customer.subscription.deleted", Billing::SyncSubscription.new
end
"#;

const RB_SYNC_SUBSCRIPTION: &str = r#"module Billing
  class SyncSubscription
    def call(event)
      sub = event.data.object
      team = Team.find_by(stripe_customer_id: sub.customer)
      return unless team

      team.update!(subscription_status: sub.status)
    end
  end
end
"#;

#[test]
fn a_stripe_event_subscriber_object_in_its_own_file_handles_its_events() {
    let files = [("config/initializers/stripe.rb", RB_STRIPE_EVENT_INITIALIZER), ("app/services/billing/sync_subscription.rb", RB_SYNC_SUBSCRIPTION)];
    // The deleted event unsubscribed: the status is no longer synced on cancel.
    let dir = repo(&files);
    write(dir.path(), &[("config/initializers/stripe.rb", &RB_STRIPE_EVENT_INITIALIZER.replace("  events.subscribe \"customer.subscription.deleted\", Billing::SyncSubscription.new\n", ""))]);
    let (v, _) = review(dir.path());
    assert!(high_rules(&v).contains(&"WH006".to_string()), "{v:#}");
    // The subscriber's write removed: seen through the initializer.
    let dir = repo(&files);
    write(dir.path(), &[("app/services/billing/sync_subscription.rb", &RB_SYNC_SUBSCRIPTION.replace("      team.update!(subscription_status: sub.status)\n", "      Rails.logger.info(sub.status)\n"))]);
    let (v, _) = review(dir.path());
    assert!(!high_rules(&v).is_empty(), "{v:#}");
    // A subscriber renamed in both places: quiet.
    let dir = repo(&files);
    std::fs::remove_file(dir.path().join("app/services/billing/sync_subscription.rb")).unwrap();
    write(
        dir.path(),
        &[
            ("config/initializers/stripe.rb", &RB_STRIPE_EVENT_INITIALIZER.replace("SyncSubscription", "SubscriptionSync")),
            ("app/services/billing/subscription_sync.rb", &RB_SYNC_SUBSCRIPTION.replace("SyncSubscription", "SubscriptionSync")),
        ],
    );
    let (v, _) = review(dir.path());
    assert!(high_rules(&v).is_empty(), "{v:#}");
}

const EXPRESS_ROUTE_INLINE: &str = r#"import express from 'express';
import Stripe from 'stripe';
import { grantPro, revokePro } from '../services/plans';

const stripe = new Stripe(process.env.STRIPE_SECRET_KEY as string);
export const billingRouter = express.Router();

billingRouter.post('/billing/events', express.raw({ type: 'application/json' }), async (req, res) => {
  let event: Stripe.Event;
  try {
    event = stripe.webhooks.constructEvent(req.body, req.headers['stripe-signature'] as string, process.env.STRIPE_WEBHOOK_SECRET as string);
  } catch {
    return res.status(400).send('bad signature');
  }
  if (event.type === 'invoice.paid') {
    const invoice = event.data.object as Stripe.Invoice;
    await grantPro(invoice.customer as string);
  } else if (event.type === 'customer.subscription.deleted') {
    const sub = event.data.object as Stripe.Subscription;
    await revokePro(sub.customer as string);
  }
  res.json({ ok: true });
});
"#;

const PLANS_SERVICE: &str = r#"import { db } from '../db';

export async function grantPro(customerId: string) {
  await db.account.update({ where: { stripeCustomerId: customerId }, data: { isPro: true } });
}

export async function revokePro(customerId: string) {
  await db.account.update({ where: { stripeCustomerId: customerId }, data: { isPro: false } });
}
"#;

/// The route's dispatch moved into `routeBillingEvent` of a new file, handed the verified event.
fn delegated_route_and_module(body_change: Option<(&str, &str)>) -> (String, String) {
    let start = EXPRESS_ROUTE_INLINE.find("  if (event.type === 'invoice.paid') {").unwrap();
    let end = EXPRESS_ROUTE_INLINE.find("  res.json({ ok: true });").unwrap();
    let dispatch = &EXPRESS_ROUTE_INLINE[start..end];
    let route = EXPRESS_ROUTE_INLINE
        .replace(dispatch, "  await routeBillingEvent(event);\n")
        .replace("import { grantPro, revokePro } from '../services/plans';", "import { routeBillingEvent } from '../services/billing-events';");
    let mut body = dispatch.to_string();
    if let Some((from, to)) = body_change {
        body = body.replace(from, to);
    }
    let module = format!("import type Stripe from 'stripe';\nimport {{ grantPro, revokePro }} from './plans';\n\nexport async function routeBillingEvent(event: Stripe.Event) {{\n{body}}}\n");
    (route, module)
}

#[test]
fn dispatch_moved_into_a_function_of_a_new_file_is_reviewed_through_the_verified_route() {
    let files = [("src/routes/billing.ts", EXPRESS_ROUTE_INLINE), ("src/services/plans.ts", PLANS_SERVICE)];
    // Moved as is: nothing changed, and the new file is no unverified handler.
    let dir = repo(&files);
    let (route, module) = delegated_route_and_module(None);
    write(dir.path(), &[("src/routes/billing.ts", &route), ("src/services/billing-events.ts", &module)]);
    let (v, _) = review(dir.path());
    assert!(high_rules(&v).is_empty(), "{v:#}");
    // Moved, and the revocation left behind: seen through the route.
    let dir = repo(&files);
    let (route, module) = delegated_route_and_module(Some(("    await revokePro(sub.customer as string);\n", "    console.log('ended', sub.id);\n")));
    write(dir.path(), &[("src/routes/billing.ts", &route), ("src/services/billing-events.ts", &module)]);
    let (v, _) = review(dir.path());
    let rules = high_rules(&v);
    assert!(rules.contains(&"WH005".to_string()) && !rules.contains(&"WH001".to_string()), "{v:#}");
}

const EX_SEATS_HANDLER: &str = r#"defmodule AppWeb.BillingEventsController do
  use AppWeb, :controller
  alias App.Seats

  def create(conn, _params) do
    sig = conn |> get_req_header("stripe-signature") |> List.first()
    {:ok, event} = Stripe.Webhook.construct_event(conn.private[:raw_body], sig, secret())
    handle(event)
    json(conn, %{ok: true})
  end

  defp handle(%Stripe.Event{type: "customer.subscription.deleted", data: %{object: sub}}),
    do: Seats.release_all!(sub.customer)

  defp handle(_), do: :ok
end
"#;

const EX_SEATS: &str = r#"defmodule App.Seats do
  import Ecto.Query
  alias App.{Repo, Seat}

  def release_all!(customer) do
    from(s in Seat, where: s.billing_customer == ^customer) |> Repo.delete_all()
  end
end
"#;

#[test]
fn a_helper_named_like_a_revocation_that_now_only_reads_revokes_nothing() {
    let files = [("lib/app_web/controllers/billing_events_controller.ex", EX_SEATS_HANDLER), ("lib/app/seats.ex", EX_SEATS)];
    let dir = repo(&files);
    write(dir.path(), &[("lib/app/seats.ex", &EX_SEATS.replace("|> Repo.delete_all()", "|> Repo.all()"))]);
    let (v, _) = review(dir.path());
    assert!(high_rules(&v).contains(&"WH005".to_string()), "{v:#}");
    let dir = repo(&files);
    write(dir.path(), &[("lib/app/seats.ex", &EX_SEATS.replace("from(s in Seat, where: s.billing_customer == ^customer) |> Repo.delete_all()", "Repo.delete_all(from(s in Seat, where: s.billing_customer == ^customer))"))]);
    let (v, _) = review(dir.path());
    assert!(high_rules(&v).is_empty(), "{v:#}");
}
