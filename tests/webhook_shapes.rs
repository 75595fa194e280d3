//! General shapes of webhook handler code the review must read right: a review
//! that could not follow everything says so instead of passing, a failed check
//! must stop on every path, a guard must not skip the check, and code that only
//! moves or restates a write is no regression. Each shape has a regression and
//! a quiet twin that must raise no high finding.

#[path = "support/git.rs"]
mod git_support;
use git_support::{committed_repo, high_rules, review, write};

// ---------------------------------------------------------------------------
// A review that could not follow every file the handler reaches is incomplete.

/// A route that verifies and hands each event to one of `n` imported helpers.
fn many_imports_route(n: usize, marker: &str) -> String {
    let mut s = String::from("import Stripe from 'stripe';\n");
    for i in 0..n {
        s.push_str(&format!("import {{ step{i} }} from './steps/step{i}';\n"));
    }
    s.push_str(
        "\nconst stripe = new Stripe(process.env.STRIPE_SECRET_KEY!);\n\nexport async function POST(req: Request) {\n  const body = await req.text();\n  let event: Stripe.Event;\n  try {\n    event = stripe.webhooks.constructEvent(body, req.headers.get('stripe-signature')!, process.env.STRIPE_WEBHOOK_SECRET!);\n  } catch (err) {\n    return new Response('bad signature', { status: 400 });\n  }\n",
    );
    s.push_str(&format!("  console.log('{marker}');\n  switch (event.type) {{\n    case 'invoice.paid':\n"));
    for i in 0..n {
        s.push_str(&format!("      await step{i}(event);\n"));
    }
    s.push_str("      break;\n  }\n  return new Response('ok');\n}\n");
    s
}

fn steps(n: usize) -> Vec<(String, String)> {
    (0..n)
        .map(|i| (format!("app/api/stripe/webhook/steps/step{i}.ts"), format!("export async function step{i}(event: unknown) {{\n  console.log('step {i}', event);\n}}\n")))
        .collect()
}

fn repo_with_steps(n: usize) -> tempfile::TempDir {
    let route = many_imports_route(n, "received");
    let files = steps(n);
    let mut all: Vec<(&str, &str)> = vec![("app/api/stripe/webhook/route.ts", route.as_str())];
    all.extend(files.iter().map(|(p, t)| (p.as_str(), t.as_str())));
    committed_repo(&all)
}

#[test]
fn a_handler_whose_calls_reach_too_many_files_to_follow_is_incomplete_not_pass() {
    let dir = repo_with_steps(120);
    write(dir.path(), "app/api/stripe/webhook/route.ts", &many_imports_route(120, "event received"));
    let v = review(dir.path());
    assert_eq!(v["verdict"], "incomplete", "{v:#}");
    assert!(v["scope"]["not_examined"].to_string().contains("app/api/stripe/webhook/route.ts"), "{v:#}");
    // The files not seen are named.
    assert!(v["notes"].to_string().contains("steps/step"), "{v:#}");
}

#[test]
fn a_handler_whose_calls_reach_few_files_passes() {
    let dir = repo_with_steps(3);
    write(dir.path(), "app/api/stripe/webhook/route.ts", &many_imports_route(3, "event received"));
    let v = review(dir.path());
    assert_eq!(v["verdict"], "pass", "{v:#}");
}

const GO_ROUTE: &str = r#"package webhook

import (
	"io"
	"net/http"
	"os"

	"example.com/app/store"
	"github.com/stripe/stripe-go/v76/webhook"
)

func Handle(w http.ResponseWriter, r *http.Request) {
	payload, _ := io.ReadAll(r.Body)
	event, err := webhook.ConstructEvent(payload, r.Header.Get("Stripe-Signature"), os.Getenv("STRIPE_WEBHOOK_SECRET"))
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	switch event.Type {
	case "customer.subscription.deleted":
		if err := store.RevokeAccess(r.Context(), event.GetObjectValue("customer")); err != nil {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
	}
	w.WriteHeader(http.StatusOK)
}
"#;

const GO_STORE_REVOKE: &str = r#"package store

import "context"

func RevokeAccess(ctx context.Context, customerID string) error {
	_, err := db.ExecContext(ctx, "UPDATE users SET has_paid_access = false WHERE stripe_customer_id = $1", customerID)
	return err
}
"#;

/// A Go package is many files: only those declaring what the handler uses are reached.
#[test]
fn a_large_go_package_is_followed_through_the_files_declaring_what_the_handler_calls() {
    let unrelated: Vec<(String, String)> =
        (0..70).map(|i| (format!("store/audit{i}.go"), format!("package store\n\nfunc Audit{i}Rows() int {{\n\treturn {i}\n}}\n"))).collect();
    let mut files: Vec<(&str, &str)> = vec![("webhook/handler.go", GO_ROUTE), ("store/revoke.go", GO_STORE_REVOKE)];
    files.extend(unrelated.iter().map(|(p, t)| (p.as_str(), t.as_str())));
    let dir = committed_repo(&files);
    // A log line changes: nothing to report, and nothing left unseen.
    write(dir.path(), "webhook/handler.go", &GO_ROUTE.replace("w.WriteHeader(http.StatusOK)", "w.WriteHeader(http.StatusOK) // acknowledged"));
    let v = review(dir.path());
    assert_eq!(v["verdict"], "pass", "{v:#}");
    assert!(v["scope"]["handler_files"][0]["helpers"].to_string().contains("store/revoke.go"), "{v:#}");
    // The revocation is still seen through the package: dropping it is WH005.
    write(dir.path(), "store/revoke.go", &GO_STORE_REVOKE.replace("SET has_paid_access = false", "SET updated_at = now()"));
    let v = review(dir.path());
    assert!(high_rules(&v).contains(&"WH005".to_string()), "{v:#}");
}

// ---------------------------------------------------------------------------
// A missing verification the base already had is pre-existing, not high.

const TS_UNVERIFIED_BASE: &str = r#"import Stripe from 'stripe';

export async function POST(req: Request) {
  const event = (await req.json()) as Stripe.Event;
  console.log('stripe webhook', event.id);
  return new Response('ok');
}
"#;

const TS_UNVERIFIED_AFTER: &str = r#"import Stripe from 'stripe';
import { db } from '@/lib/db';

export async function POST(req: Request) {
  const event = (await req.json()) as Stripe.Event;
  console.log('stripe webhook', event.id);
  if (event.type === 'customer.subscription.deleted') {
    const sub = event.data.object as Stripe.Subscription;
    await db.user.update({ where: { stripeCustomerId: sub.customer as string }, data: { hasPaidAccess: false } });
  }
  return new Response('ok');
}
"#;

#[test]
fn a_handler_that_verified_nothing_before_either_is_a_pre_existing_low_finding() {
    let dir = committed_repo(&[("app/api/stripe/webhook/route.ts", TS_UNVERIFIED_BASE)]);
    write(dir.path(), "app/api/stripe/webhook/route.ts", TS_UNVERIFIED_AFTER);
    let v = review(dir.path());
    assert!(!high_rules(&v).contains(&"WH001".to_string()), "{v:#}");
    let wh001 = v["findings"].as_array().unwrap().iter().find(|f| f["rule"] == "WH001").unwrap_or_else(|| panic!("{v:#}"));
    assert_eq!(wh001["severity"], "low", "{v:#}");
    assert_eq!(wh001["evidence"]["pre_existing"], true, "{v:#}");
}

#[test]
fn a_file_that_becomes_an_unverified_handler_is_still_high() {
    let dir = committed_repo(&[("app/api/stripe/webhook/route.ts", "export function greet(name: string) {\n  return `hello ${name}`;\n}\n")]);
    write(dir.path(), "app/api/stripe/webhook/route.ts", TS_UNVERIFIED_AFTER);
    let v = review(dir.path());
    assert!(high_rules(&v).contains(&"WH001".to_string()), "{v:#}");
}

// ---------------------------------------------------------------------------
// A failed verification must stop processing on every path of its branch.

const GO_VERIFIED: &str = r#"package billing

import (
	"io"
	"net/http"
	"os"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/webhook"
)

type Controller struct{}

func (c *Controller) Receive(w http.ResponseWriter, r *http.Request) {
	payload, _ := io.ReadAll(r.Body)
	if err := c.Verify(payload, r.Header.Get("Stripe-Signature")); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	w.WriteHeader(http.StatusOK)
}

func (c *Controller) Verify(payload []byte, header string) error {
	event, err := webhook.ConstructEvent(payload, header, os.Getenv("STRIPE_WEBHOOK_SECRET"))
	if err != nil {
		return err
	}
	return c.apply(event)
}

func (c *Controller) apply(event stripe.Event) error {
	switch event.Type {
	case "customer.subscription.deleted":
		return setPaid(event.GetObjectValue("customer"), false)
	}
	return nil
}
"#;

#[test]
fn a_go_error_branch_that_returns_only_conditionally_lets_an_unverified_event_through() {
    let dir = committed_repo(&[("billing/stripe_webhook.go", GO_VERIFIED)]);
    let open = GO_VERIFIED.replace(
        "\tif err != nil {\n\t\treturn err\n\t}\n\treturn c.apply(event)",
        "\tif err != nil {\n\t\tlog.Println(\"signature check failed\", err)\n\t\tif jsonErr := json.Unmarshal(payload, &event); jsonErr != nil {\n\t\t\treturn jsonErr\n\t\t}\n\t}\n\treturn c.apply(event)",
    );
    assert_ne!(open, GO_VERIFIED);
    write(dir.path(), "billing/stripe_webhook.go", &open);
    let v = review(dir.path());
    assert!(high_rules(&v).contains(&"WH003".to_string()), "{v:#}");
}

#[test]
fn a_go_error_branch_that_ends_on_every_path_is_no_fail_open() {
    let dir = committed_repo(&[("billing/stripe_webhook.go", GO_VERIFIED)]);
    let closed = GO_VERIFIED.replace(
        "\tif err != nil {\n\t\treturn err\n\t}\n\treturn c.apply(event)",
        "\tif err != nil {\n\t\tlog.Println(\"signature check failed\", err)\n\t\tif errors.Is(err, webhook.ErrNotSigned) {\n\t\t\treturn fmt.Errorf(\"unsigned: %w\", err)\n\t\t}\n\t\treturn err\n\t}\n\treturn c.apply(event)",
    );
    assert_ne!(closed, GO_VERIFIED);
    write(dir.path(), "billing/stripe_webhook.go", &closed);
    let v = review(dir.path());
    assert!(!high_rules(&v).contains(&"WH003".to_string()), "{v:#}");
}

// ---------------------------------------------------------------------------
// A presence test beside the mismatch test skips the check when the header is absent.

const TS_HMAC: &str = r#"import crypto from 'node:crypto';
import { db } from '@/lib/db';

export async function POST(request: Request) {
  const raw = await request.text();
  const secret = process.env.LEMON_WEBHOOK_SECRET!;
  const hmac = Buffer.from(crypto.createHmac('sha256', secret).update(raw).digest('hex'), 'hex');
  const signature = Buffer.from(request.headers.get('X-Signature') ?? '', 'hex');

  if (!crypto.timingSafeEqual(hmac, signature)) {
    return new Response('Invalid signature', { status: 400 });
  }

  const body = JSON.parse(raw);
  if (body.meta.event_name === 'subscription_expired') {
    await db.user.update({ where: { id: body.meta.custom_data.user_id }, data: { isPro: false } });
  }
  return new Response('ok');
}
"#;

#[test]
fn a_signature_compared_only_when_present_is_a_skipped_verification() {
    let dir = committed_repo(&[("app/api/webhook/route.ts", TS_HMAC)]);
    write(dir.path(), "app/api/webhook/route.ts", &TS_HMAC.replace("if (!crypto.timingSafeEqual", "if (signature.length > 0 && !crypto.timingSafeEqual"));
    let v = review(dir.path());
    assert!(high_rules(&v).contains(&"WH003".to_string()), "{v:#}");
}

#[test]
fn a_missing_signature_rejected_beside_the_mismatch_is_no_skipped_verification() {
    let dir = committed_repo(&[("app/api/webhook/route.ts", TS_HMAC)]);
    write(dir.path(), "app/api/webhook/route.ts", &TS_HMAC.replace("if (!crypto.timingSafeEqual", "if (signature.length === 0 || !crypto.timingSafeEqual"));
    let v = review(dir.path());
    assert!(!high_rules(&v).contains(&"WH003".to_string()), "{v:#}");
}

const PY_HMAC: &str = r#"import hashlib
import hmac
import json
import os

from django.http import HttpResponse

from .models import Account


def paddle_webhook(request):
    signature = request.headers.get("X-Signature", "")
    expected = hmac.new(os.environ["PADDLE_WEBHOOK_SECRET"].encode(), request.body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature):
        return HttpResponse(status=400)
    payload = json.loads(request.body)
    if payload["event_type"] == "subscription.canceled":
        Account.objects.filter(customer_id=payload["data"]["customer_id"]).update(is_pro=False)
    return HttpResponse(status=200)
"#;

#[test]
fn a_python_signature_compared_only_when_present_is_a_skipped_verification() {
    let dir = committed_repo(&[("billing/webhooks.py", PY_HMAC)]);
    write(dir.path(), "billing/webhooks.py", &PY_HMAC.replace("if not hmac.compare_digest", "if signature and not hmac.compare_digest"));
    let v = review(dir.path());
    assert!(high_rules(&v).contains(&"WH003".to_string()), "{v:#}");
    let dir = committed_repo(&[("billing/webhooks.py", PY_HMAC)]);
    write(dir.path(), "billing/webhooks.py", &PY_HMAC.replace("if not hmac.compare_digest", "if not signature or not hmac.compare_digest"));
    let v = review(dir.path());
    assert!(!high_rules(&v).contains(&"WH003".to_string()), "{v:#}");
}

// ---------------------------------------------------------------------------
// Removed lines that return a value or test a condition write nothing.

const GO_LOGGING: &str = r#"package billing

import (
	"github.com/stripe/stripe-go/v76"
)

type EventLog struct {
	UserID       int64
	Subscription stripe.Subscription
}

func (c *Controller) route(event stripe.Event) (EventLog, error) {
	switch event.Type {
	case "invoice.paid":
		return c.onInvoicePaid(event)
	}
	return EventLog{}, nil
}

func (c *Controller) onInvoicePaid(event stripe.Event) (EventLog, error) {
	userID, sub := c.lookup(event)
	if err := c.Store.ExtendExpiry(userID, sub.CurrentPeriodEnd); err != nil {
		return EventLog{}, err
	}
	return EventLog{UserID: userID, Subscription: sub}, nil
}

// Kept for audits: records what a trial reminder would have said.
func (c *Controller) describeTrialReminder(event stripe.Event) (EventLog, error) {
	// Sometimes "checkout.session.completed" arrives after this one.
	userID, sub := c.lookup(event)
	return EventLog{UserID: userID, Subscription: sub}, nil
}
"#;

#[test]
fn a_removed_function_returning_a_record_literal_is_no_lost_access_write() {
    let dir = committed_repo(&[("billing/stripe_events.go", GO_LOGGING)]);
    let cut = GO_LOGGING.find("// Kept for audits").unwrap();
    write(dir.path(), "billing/stripe_events.go", &GO_LOGGING[..cut]);
    let v = review(dir.path());
    assert!(high_rules(&v).is_empty(), "{v:#}");
}

const PY_SUBSCRIPTION: &str = r#"import stripe
from django.http import HttpResponse

from .models import Subscription


def stripe_webhook(request):
    event = stripe.Webhook.construct_event(request.body, request.headers["Stripe-Signature"], "whsec")
    if event["type"] == "invoice.paid":
        user = find_user(event)
        subscription = Subscription.objects.filter(user=user).first()
        if not subscription:
            subscription = Subscription.objects.create(user=user)
        subscription.renewal_date = event["data"]["object"]["period_end"]
        subscription.is_recurring = True
        subscription.save()
    return HttpResponse(status=200)
"#;

#[test]
fn a_removed_condition_naming_the_subscription_is_no_lost_access_write() {
    let dir = committed_repo(&[("payments/stripe_webhook.py", PY_SUBSCRIPTION)]);
    write(
        dir.path(),
        "payments/stripe_webhook.py",
        &PY_SUBSCRIPTION.replace("        if not subscription:\n", "        if subscription is None:\n"),
    );
    let v = review(dir.path());
    assert!(high_rules(&v).is_empty(), "{v:#}");
}

#[test]
fn a_removed_return_that_writes_through_a_call_is_still_a_lost_write() {
    let base = "import Stripe from 'stripe';\nimport { db } from '@/lib/db';\n\nconst stripe = new Stripe(process.env.STRIPE_SECRET_KEY!);\n\nexport async function POST(req: Request) {\n  const event = stripe.webhooks.constructEvent(await req.text(), req.headers.get('stripe-signature')!, process.env.STRIPE_WEBHOOK_SECRET!);\n  if (event.type === 'customer.subscription.deleted') {\n    return db.user.update({ where: { customerId: String(event.data.object.customer) }, data: { isPro: false } });\n  }\n  return new Response('ok');\n}\n";
    let dir = committed_repo(&[("app/api/stripe/webhook/route.ts", base)]);
    write(dir.path(), "app/api/stripe/webhook/route.ts", &base.replace("    return db.user.update({ where: { customerId: String(event.data.object.customer) }, data: { isPro: false } });\n", "    return new Response('ok');\n"));
    let v = review(dir.path());
    assert!(high_rules(&v).contains(&"WH005".to_string()), "{v:#}");
}

// ---------------------------------------------------------------------------
// A pattern that matches event types handles every type it matches.

const RB_PATTERN: &str = r#"class StripeWebhookProcessor
  def process(payload, signature)
    event = Stripe::Webhook.construct_event(payload, signature, ENV.fetch("STRIPE_WEBHOOK_SECRET"))
    case event.type
    when /^customer\.subscription\./
      account = Account.find_by!(stripe_customer_id: event.data.object.customer)
      account.update!(subscription_status: event.data.object.status)
    else
      Rails.logger.info("ignored #{event.type}")
    end
  end
end
"#;

#[test]
fn a_regex_when_narrowed_to_literal_types_drops_the_others() {
    let dir = committed_repo(&[("app/services/stripe_webhook_processor.rb", RB_PATTERN)]);
    write(
        dir.path(),
        "app/services/stripe_webhook_processor.rb",
        &RB_PATTERN.replace(r#"when /^customer\.subscription\./"#, r#"when "customer.subscription.created", "customer.subscription.updated""#),
    );
    let v = review(dir.path());
    assert!(high_rules(&v).contains(&"WH006".to_string()), "{v:#}");
    assert!(v["findings"].to_string().contains("customer.subscription.deleted"), "{v:#}");
}

#[test]
fn a_regex_when_kept_raises_nothing() {
    let dir = committed_repo(&[("app/services/stripe_webhook_processor.rb", RB_PATTERN)]);
    write(dir.path(), "app/services/stripe_webhook_processor.rb", &RB_PATTERN.replace("ignored #{event.type}", "skipped #{event.type}"));
    let v = review(dir.path());
    assert!(high_rules(&v).is_empty(), "{v:#}");
    assert!(v["scope"]["handler_files"][0]["events"].to_string().contains("customer.subscription.deleted"), "{v:#}");
}

const TS_PREFIX: &str = r#"import Stripe from 'stripe';
import { db } from '@/lib/db';

const stripe = new Stripe(process.env.STRIPE_SECRET_KEY!);

export async function POST(req: Request) {
  const event = stripe.webhooks.constructEvent(await req.text(), req.headers.get('stripe-signature')!, process.env.STRIPE_WEBHOOK_SECRET!);
  if (event.type.startsWith('customer.subscription.')) {
    const sub = event.data.object as Stripe.Subscription;
    await db.account.update({ where: { customerId: String(sub.customer) }, data: { status: sub.status } });
  }
  return new Response('ok');
}
"#;

#[test]
fn a_prefix_test_narrowed_to_one_type_drops_the_others() {
    let dir = committed_repo(&[("app/api/stripe/webhook/route.ts", TS_PREFIX)]);
    write(dir.path(), "app/api/stripe/webhook/route.ts", &TS_PREFIX.replace("event.type.startsWith('customer.subscription.')", "event.type === 'customer.subscription.updated'"));
    let v = review(dir.path());
    assert!(high_rules(&v).contains(&"WH006".to_string()), "{v:#}");
    let dir = committed_repo(&[("app/api/stripe/webhook/route.ts", TS_PREFIX)]);
    write(dir.path(), "app/api/stripe/webhook/route.ts", &TS_PREFIX.replace("return new Response('ok')", "return new Response('received')"));
    let v = review(dir.path());
    assert!(high_rules(&v).is_empty(), "{v:#}");
}

// ---------------------------------------------------------------------------
// A queued job handed the event by a controller that verifies first is no unverified handler.

const PHP_CONTROLLER_INLINE: &str = r#"<?php

namespace App\Http\Controllers\Webhook;

use App\Http\Controllers\Controller;
use App\Models\Team;
use Illuminate\Http\Request;
use Stripe\Webhook;

class StripeController extends Controller
{
    public function events(Request $request)
    {
        $event = Webhook::constructEvent($request->getContent(), $request->header('Stripe-Signature'), config('services.stripe.webhook_secret'));
        switch ($event->type) {
            case 'customer.subscription.deleted':
                Team::where('stripe_customer_id', $event->data->object->customer)->update(['is_paid' => false]);
                break;
        }
        return response('ok', 200);
    }
}
"#;

/// The same controller handing the verified event to a queued job.
fn php_controller_queued() -> String {
    let switch_at = PHP_CONTROLLER_INLINE.find("        switch").unwrap();
    let return_at = PHP_CONTROLLER_INLINE.find("        return response").unwrap();
    let queued = format!("{}        StripeEventJob::dispatch($event);\n{}", &PHP_CONTROLLER_INLINE[..switch_at], &PHP_CONTROLLER_INLINE[return_at..]);
    queued.replace("use App\\Models\\Team;", "use App\\Jobs\\StripeEventJob;")
}

const PHP_JOB: &str = r#"<?php

namespace App\Jobs;

use App\Models\Team;
use Illuminate\Contracts\Queue\ShouldQueue;

class StripeEventJob implements ShouldQueue
{
    public function __construct(public $event)
    {
    }

    public function handle(): void
    {
        switch ($this->event->type) {
            case 'customer.subscription.deleted':
                Team::where('stripe_customer_id', $this->event->data->object->customer)->update(['is_paid' => false]);
                break;
        }
    }
}
"#;

#[test]
fn a_queued_job_handed_the_event_by_a_verifying_controller_is_no_unverified_handler() {
    let dir = committed_repo(&[("app/Http/Controllers/Webhook/StripeController.php", PHP_CONTROLLER_INLINE)]);
    write(dir.path(), "app/Http/Controllers/Webhook/StripeController.php", &php_controller_queued());
    write(dir.path(), "app/Jobs/StripeEventJob.php", PHP_JOB);
    let v = review(dir.path());
    assert!(!high_rules(&v).contains(&"WH001".to_string()), "{v:#}");
}

#[test]
fn a_queued_job_handed_the_event_by_a_controller_that_does_not_verify_is_unverified() {
    let dir = committed_repo(&[("app/Http/Controllers/Webhook/StripeController.php", PHP_CONTROLLER_INLINE)]);
    let unverified = php_controller_queued().replace(
        "$event = Webhook::constructEvent($request->getContent(), $request->header('Stripe-Signature'), config('services.stripe.webhook_secret'));",
        "$event = json_decode($request->getContent());",
    );
    write(dir.path(), "app/Http/Controllers/Webhook/StripeController.php", &unverified);
    write(dir.path(), "app/Jobs/StripeEventJob.php", PHP_JOB);
    let v = review(dir.path());
    assert!(high_rules(&v).contains(&"WH001".to_string()), "{v:#}");
}

/// Both files also grant on checkout without checking that it was paid (WH016 in each).
fn with_checkout_grant(php: &str) -> String {
    let deleted = "            case 'customer.subscription.deleted':";
    let object = if php.contains("$this->event") { "$this->event" } else { "$event" };
    let grant = format!(
        "            case 'checkout.session.completed':\n                Team::where('stripe_customer_id', {object}->data->object->customer)->update(['is_paid' => true]);\n                break;\n{deleted}"
    );
    php.replacen(deleted, &grant, 1)
}

#[test]
fn a_problem_the_controller_had_is_no_new_problem_once_moved_into_a_queued_job() {
    let dir = committed_repo(&[("app/Http/Controllers/Webhook/StripeController.php", &with_checkout_grant(PHP_CONTROLLER_INLINE))]);
    write(dir.path(), "app/Http/Controllers/Webhook/StripeController.php", &php_controller_queued());
    write(dir.path(), "app/Jobs/StripeEventJob.php", &with_checkout_grant(PHP_JOB));
    let v = review(dir.path());
    assert!(high_rules(&v).is_empty(), "{v:#}");
    assert!(v["findings"].to_string().contains("moved here by this diff"), "said as pre-existing: {v:#}");
}

#[test]
fn a_queued_job_that_grants_where_the_controller_did_not_is_a_new_problem() {
    let dir = committed_repo(&[("app/Http/Controllers/Webhook/StripeController.php", PHP_CONTROLLER_INLINE)]);
    write(dir.path(), "app/Http/Controllers/Webhook/StripeController.php", &php_controller_queued());
    write(dir.path(), "app/Jobs/StripeEventJob.php", &with_checkout_grant(PHP_JOB));
    let v = review(dir.path());
    assert!(high_rules(&v).contains(&"WH016".to_string()), "{v:#}");
}

// ---------------------------------------------------------------------------
// A write's data built by a function of the same file writes that function's fields.

const TS_PRISMA_INLINE: &str = r#"import Stripe from 'stripe';
import { prisma } from '~/utils/db.server';

const stripe = new Stripe(process.env.STRIPE_SECRET_KEY!);

export async function action({ request }: { request: Request }) {
  const event = stripe.webhooks.constructEvent(await request.text(), request.headers.get('stripe-signature')!, process.env.STRIPE_WEBHOOK_SECRET!);
  switch (event.type) {
    case 'customer.subscription.updated': {
      const subscription = event.data.object as Stripe.Subscription;
      const user = await prisma.user.findUniqueOrThrow({ where: { customerId: String(subscription.customer) } });
      await prisma.subscription.update({
        where: { userId: user.id },
        data: {
          id: subscription.id,
          userId: user.id,
          status: subscription.status,
          currentPeriodEnd: subscription.current_period_end,
        },
      });
      break;
    }
  }
  return new Response(null);
}
"#;

fn extracted(status_line: &str) -> String {
    TS_PRISMA_INLINE
        .replace(
            "        data: {\n          id: subscription.id,\n          userId: user.id,\n          status: subscription.status,\n          currentPeriodEnd: subscription.current_period_end,\n        },\n",
            "        data: subscriptionData(user.id, subscription),\n",
        )
        .replace(
            "export async function action",
            &format!("function subscriptionData(userId: string, subscription: Stripe.Subscription) {{\n  return {{\n    id: subscription.id,\n    userId,\n{status_line}    currentPeriodEnd: subscription.current_period_end,\n  }}\n}}\n\nexport async function action"),
        )
}

#[test]
fn a_write_whose_data_a_local_function_builds_writes_its_fields() {
    let dir = committed_repo(&[("app/routes/webhook.ts", TS_PRISMA_INLINE)]);
    let after = extracted("    status: subscription.status,\n");
    assert!(after.contains("data: subscriptionData(user.id, subscription)"));
    write(dir.path(), "app/routes/webhook.ts", &after);
    let v = review(dir.path());
    assert!(high_rules(&v).is_empty(), "{v:#}");
}

#[test]
fn a_local_data_builder_that_drops_the_status_is_a_lost_write() {
    let dir = committed_repo(&[("app/routes/webhook.ts", TS_PRISMA_INLINE)]);
    write(dir.path(), "app/routes/webhook.ts", &extracted(""));
    let v = review(dir.path());
    let h = high_rules(&v);
    assert!(h.contains(&"WH004".to_string()) || h.contains(&"WH005".to_string()), "{v:#}");
}

// ---------------------------------------------------------------------------
// An update event carries any status: a fixed paying value written without looking at it.

const JS_UPDATED: &str = r#"const stripe = require('stripe')(process.env.STRIPE_SECRET_KEY);
const Accounts = require('../models/accounts');

async function onSubscriptionUpdated(sub) {
  let changes;
  if (sub.cancel_at_period_end) {
    changes = { subscription_status: 'canceled', stripe_subscription: sub };
  } else {
    changes = { stripe_subscription: sub };
  }
  await Accounts.findOneAndUpdate({ customer: sub.customer }, changes);
}

module.exports = async (req, res) => {
  const event = stripe.webhooks.constructEvent(req.body, req.headers['stripe-signature'], process.env.STRIPE_WEBHOOK_SECRET);
  if (event.type === 'customer.subscription.updated') {
    await onSubscriptionUpdated(event.data.object);
  }
  res.json({ received: true });
};
"#;

#[test]
fn an_update_that_now_writes_active_whatever_the_status_widens_access() {
    let path = "routes/stripe-webhook.js";
    let dir = committed_repo(&[(path, JS_UPDATED)]);
    write(dir.path(), path, &JS_UPDATED.replace("changes = { stripe_subscription: sub };", "changes = { subscription_status: 'active', stripe_subscription: sub };"));
    let v = review(dir.path());
    assert!(high_rules(&v).contains(&"WH011".to_string()), "{v:#}");
}

#[test]
fn an_update_that_writes_active_only_for_a_paying_status_is_quiet() {
    let path = "routes/stripe-webhook.js";
    let dir = committed_repo(&[(path, JS_UPDATED)]);
    write(
        dir.path(),
        path,
        &JS_UPDATED.replace("changes = { stripe_subscription: sub };", "changes = { stripe_subscription: sub };\n    if (sub.status === 'active') changes.subscription_status = 'active';"),
    );
    let v = review(dir.path());
    assert!(!high_rules(&v).contains(&"WH011".to_string()), "{v:#}");
}

// ---------------------------------------------------------------------------
// A handler file replaced by a re-export of another module handles what that module does.

const JS_COPY: &str = r#"const stripe = require('stripe')(process.env.STRIPE_SECRET_KEY);
const Users = require('../models/users');

module.exports = async (req, res) => {
  let event;
  try {
    event = stripe.webhooks.constructEvent(req.body, req.headers['stripe-signature'], process.env.STRIPE_WEBHOOK_SECRET);
  } catch (err) {
    return res.status(400).send('bad signature');
  }
  if (event.type === 'customer.subscription.deleted') {
    await Users.updateOne({ customer: event.data.object.customer }, { hasPaidAccess: false });
  }
  res.json({ received: true });
};
"#;

#[test]
fn a_duplicate_handler_replaced_by_a_re_export_of_the_same_handling_is_quiet() {
    let dir = committed_repo(&[("routes/webhook.js", JS_COPY), ("routes/webhooks.js", JS_COPY)]);
    write(dir.path(), "routes/webhooks.js", "// kept for old imports\nconst webhook = require('./webhook');\nmodule.exports = webhook;\n");
    let v = review(dir.path());
    assert!(high_rules(&v).is_empty(), "{v:#}");
}

#[test]
fn a_handler_replaced_by_a_re_export_of_an_unverified_one_is_still_judged() {
    let unverified = JS_COPY.replace(
        "  try {\n    event = stripe.webhooks.constructEvent(req.body, req.headers['stripe-signature'], process.env.STRIPE_WEBHOOK_SECRET);\n  } catch (err) {\n    return res.status(400).send('bad signature');\n  }\n",
        "  event = JSON.parse(req.body);\n",
    );
    assert_ne!(unverified, JS_COPY);
    let dir = committed_repo(&[("routes/webhook.js", JS_COPY), ("routes/legacy.js", unverified.as_str())]);
    write(dir.path(), "routes/webhook.js", "module.exports = require('./legacy');\n");
    let v = review(dir.path());
    assert!(high_rules(&v).contains(&"WH001".to_string()), "{v:#}");
}

// ---------------------------------------------------------------------------
// An event the provider never sends: removing its case loses nothing.

const NEVER_SENT_ROUTE: &str = r#"import Stripe from 'stripe';
import { db } from '../db';

const stripe = new Stripe(process.env.STRIPE_SECRET_KEY!);

export async function POST(req: Request) {
  const body = await req.text();
  const event = stripe.webhooks.constructEvent(body, req.headers.get('stripe-signature')!, process.env.STRIPE_WEBHOOK_SECRET!);
  switch (event.type) {
    case 'customer.subscription.deleted': {
      const sub = event.data.object as Stripe.Subscription;
      await db.user.update({ where: { stripeCustomerId: sub.customer as string }, data: { hasPaidAccess: false } });
      break;
    }
    case 'customer.subscription.cancelled': {
      const sub = event.data.object as Stripe.Subscription;
      await db.user.update({ where: { stripeCustomerId: sub.customer as string }, data: { hasPaidAccess: false } });
      break;
    }
  }
  return new Response('ok');
}
"#;

#[test]
fn removing_the_case_of_an_event_stripe_never_sends_is_not_high() {
    let cancelled_case = "    case 'customer.subscription.cancelled': {\n      const sub = event.data.object as Stripe.Subscription;\n      await db.user.update({ where: { stripeCustomerId: sub.customer as string }, data: { hasPaidAccess: false } });\n      break;\n    }\n";
    let deleted_case = cancelled_case.replace("cancelled", "deleted");
    let dir = committed_repo(&[("app/api/webhooks/stripe/route.ts", NEVER_SENT_ROUTE)]);
    let without = NEVER_SENT_ROUTE.replace(cancelled_case, "");
    assert_ne!(without, NEVER_SENT_ROUTE);
    write(dir.path(), "app/api/webhooks/stripe/route.ts", &without);
    let v = review(dir.path());
    assert!(high_rules(&v).is_empty(), "{v:#}");
    assert!(v.to_string().contains("Stripe never sends"), "the finding says why it is low: {v:#}");

    // The twin: removing the real event's case is still a lost revocation.
    let dir = committed_repo(&[("app/api/webhooks/stripe/route.ts", NEVER_SENT_ROUTE)]);
    write(dir.path(), "app/api/webhooks/stripe/route.ts", &NEVER_SENT_ROUTE.replace(&deleted_case, ""));
    let v = review(dir.path());
    assert!(high_rules(&v).iter().any(|r| r == "WH005" || r == "WH006"), "{v:#}");
}

// ---------------------------------------------------------------------------
// A verifier moved word for word into a module of its own removes no check and no error answer.

const PHOENIX_CONTROLLER: &str = r##"defmodule AppWeb.StripeWebhookController do
  use AppWeb, :controller

  alias App.Billing

  @tolerance 300

  def handle(conn, _params) do
    with {:ok, body} <- conn.assigns[:raw_body] |> List.wrap() |> Enum.join() |> then(&{:ok, &1}),
         [signature] <- get_req_header(conn, "stripe-signature"),
         :ok <- verify(body, signature, Application.fetch_env!(:app, :stripe_webhook_secret)),
         {:ok, event} <- Jason.decode(body) do
      Billing.handle_event(event)
      send_resp(conn, 200, "ok")
    else
      _ -> send_resp(conn, 400, "invalid")
    end
  end

  defp verify(body, header, secret) do
    parts = header |> String.split(",") |> Enum.map(&String.split(&1, "=", parts: 2)) |> Map.new(fn [k, v] -> {k, v} end)
    timestamp = String.to_integer(parts["t"])

    if timestamp < System.system_time(:second) - @tolerance do
      {:error, :timestamp_too_old}
    else
      expected = :crypto.mac(:hmac, :sha256, secret, "#{timestamp}.#{body}") |> Base.encode16(case: :lower)
      if Plug.Crypto.secure_compare(expected, parts["v1"]), do: :ok, else: {:error, :bad_signature}
    end
  end
end
"##;

const PHOENIX_BILLING: &str = r#"defmodule App.Billing do
  alias App.Repo
  alias App.Accounts.Account

  def handle_event(%{"type" => "customer.subscription.deleted", "data" => %{"object" => sub}}) do
    Repo.get_by!(Account, stripe_customer_id: sub["customer"])
    |> Ecto.Changeset.change(has_paid_access: false)
    |> Repo.update!()
  end

  def handle_event(_event), do: :ok
end
"#;

#[test]
fn a_verifier_moved_word_for_word_into_its_own_module_is_quiet() {
    let dir = committed_repo(&[("lib/app_web/controllers/stripe_webhook_controller.ex", PHOENIX_CONTROLLER), ("lib/app/billing.ex", PHOENIX_BILLING)]);
    let start = PHOENIX_CONTROLLER.find("  defp verify(").unwrap();
    let end = PHOENIX_CONTROLLER.rfind("end\n").unwrap();
    let verify_fn = &PHOENIX_CONTROLLER[start..end];
    let controller = PHOENIX_CONTROLLER
        .replace(verify_fn, "")
        .replace("  alias App.Billing\n", "  alias App.Billing\n  alias AppWeb.StripeSignature\n")
        .replace(":ok <- verify(body,", ":ok <- StripeSignature.verify(body,")
        .replace("  @tolerance 300\n\n", "");
    let module = format!("defmodule AppWeb.StripeSignature do\n  @tolerance 300\n\n{}end\n", verify_fn.replace("  defp verify(", "  def verify("));
    write(dir.path(), "lib/app_web/controllers/stripe_webhook_controller.ex", &controller);
    write(dir.path(), "lib/app_web/stripe_signature.ex", &module);
    let v = review(dir.path());
    assert!(high_rules(&v).is_empty(), "{v:#}");

    // The twin: the same move that drops the timestamp check on the way is WH015.
    let dir = committed_repo(&[("lib/app_web/controllers/stripe_webhook_controller.ex", PHOENIX_CONTROLLER), ("lib/app/billing.ex", PHOENIX_BILLING)]);
    let lax = module.replace("    if timestamp < System.system_time(:second) - @tolerance do\n      {:error, :timestamp_too_old}\n    else\n", "    if false do\n      :ok\n    else\n");
    assert_ne!(lax, module);
    write(dir.path(), "lib/app_web/controllers/stripe_webhook_controller.ex", &controller);
    write(dir.path(), "lib/app_web/stripe_signature.ex", &lax);
    let v = review(dir.path());
    assert!(high_rules(&v).contains(&"WH015".to_string()), "{v:#}");
}

#[test]
fn a_catch_all_arm_below_a_bad_signature_arm_that_now_answers_200_is_wh010() {
    let controller = r#"defmodule AppWeb.StripeController do
  use AppWeb, :controller
  require Logger

  def webhook(conn, _params) do
    with [sig] <- get_req_header(conn, "stripe-signature"),
         {:ok, body, conn} <- read_body(conn),
         {:ok, event} <- Stripe.Webhook.construct_event(body, sig, Application.fetch_env!(:app, :stripe_webhook_secret)),
         :ok <- App.Billing.handle_event(event) do
      send_resp(conn, 200, "")
    else
      {:error, %Stripe.Error{}} ->
        send_resp(conn, 400, "Bad Request: invalid signature")

      reason ->
        Logger.error("Stripe webhook failed", reason: inspect(reason))
        send_resp(conn, 500, "Internal Error")
    end
  end
end
"#;
    let billing = "defmodule App.Billing do\n  def handle_event(%{type: \"customer.subscription.deleted\", data: %{object: sub}}) do\n    App.Accounts.revoke_access(sub.customer)\n  end\n\n  def handle_event(_), do: :ok\nend\n";
    let dir = committed_repo(&[("lib/app_web/controllers/stripe_controller.ex", controller), ("lib/app/billing.ex", billing)]);
    write(dir.path(), "lib/app_web/controllers/stripe_controller.ex", &controller.replace("send_resp(conn, 500, \"Internal Error\")", "send_resp(conn, 200, \"\")"));
    let v = review(dir.path());
    assert!(high_rules(&v).contains(&"WH010".to_string()), "{v:#}");

    // The twin: the bad-signature arm itself answering 401 instead of 400 is no swallowed failure.
    let dir = committed_repo(&[("lib/app_web/controllers/stripe_controller.ex", controller), ("lib/app/billing.ex", billing)]);
    write(dir.path(), "lib/app_web/controllers/stripe_controller.ex", &controller.replace("send_resp(conn, 400, \"Bad Request: invalid signature\")", "send_resp(conn, 401, \"Bad Request: invalid signature\")"));
    let v = review(dir.path());
    assert!(high_rules(&v).is_empty(), "{v:#}");
}

// ---------------------------------------------------------------------------
// A case list moved into a constant (`when *SUBSCRIPTION_EVENTS`) handles the same
// events; a commented-out block removed from a switch handled nothing.

const RB_SYNC: &str = r#"module StripeSync
  def self.handle(event)
    Stripe::Webhook.construct_event(event.payload, event.signature, ENV['STRIPE_WEBHOOK_SECRET'])
    case event.type
    when 'customer.subscription.created', 'customer.subscription.updated', 'customer.subscription.deleted'
      subscription = event.data.object
      user = User.find_by!(stripe_customer_id: subscription.customer)
      user.update!(has_paid_access: %w[active trialing].include?(subscription.status))
    end
  end
end
"#;

#[test]
fn a_ruby_when_over_a_splatted_list_constant_handles_the_listed_events() {
    let listed = RB_SYNC
        .replace("module StripeSync\n", "module StripeSync\n  SUBSCRIPTION_EVENTS = [\n    'customer.subscription.created',\n    'customer.subscription.updated',\n    'customer.subscription.deleted',\n  ].freeze\n\n")
        .replace("when 'customer.subscription.created', 'customer.subscription.updated', 'customer.subscription.deleted'", "when *SUBSCRIPTION_EVENTS");
    let dir = committed_repo(&[("app/services/stripe_sync.rb", RB_SYNC)]);
    write(dir.path(), "app/services/stripe_sync.rb", &listed);
    let v = review(dir.path());
    assert!(high_rules(&v).is_empty(), "the same three events: {v:#}");

    // The list loses deleted: that event is no longer handled.
    let dir = committed_repo(&[("app/services/stripe_sync.rb", RB_SYNC)]);
    write(dir.path(), "app/services/stripe_sync.rb", &listed.replace("    'customer.subscription.deleted',\n", ""));
    let v = review(dir.path());
    assert!(high_rules(&v).contains(&"WH006".to_string()), "{v:#}");
}

const GO_COMMENTED: &str = r#"package webhook

import (
	"io"
	"net/http"
	"os"

	"github.com/stripe/stripe-go/v82/webhook"
)

func (h *Handler) Stripe(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	event, err := webhook.ConstructEvent(body, r.Header.Get("Stripe-Signature"), os.Getenv("STRIPE_WEBHOOK_SECRET"))
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	switch event.Type {
	case "customer.subscription.deleted":
		h.users.Downgrade(r.Context(), event)
	/*case "invoice.payment_failed":
		h.users.Downgrade(r.Context(), event)
	case "customer.subscription.trial_will_end":*/
	default:
	}
	w.WriteHeader(http.StatusOK)
}
"#;

#[test]
fn removing_a_commented_out_case_block_loses_no_event() {
    let dir = committed_repo(&[("internal/webhook/handler.go", GO_COMMENTED)]);
    let edited = GO_COMMENTED.replace("\t/*case \"invoice.payment_failed\":\n\t\th.users.Downgrade(r.Context(), event)\n\tcase \"customer.subscription.trial_will_end\":*/\n", "");
    assert_ne!(edited, GO_COMMENTED);
    write(dir.path(), "internal/webhook/handler.go", &edited);
    let v = review(dir.path());
    assert!(!high_rules(&v).contains(&"WH006".to_string()), "{v:#}");

    // Removing the live case is still WH006.
    let dir = committed_repo(&[("internal/webhook/handler.go", GO_COMMENTED)]);
    let edited = GO_COMMENTED.replace("\tcase \"customer.subscription.deleted\":\n\t\th.users.Downgrade(r.Context(), event)\n", "");
    assert_ne!(edited, GO_COMMENTED);
    write(dir.path(), "internal/webhook/handler.go", &edited);
    let v = review(dir.path());
    assert!(high_rules(&v).contains(&"WH006".to_string()), "{v:#}");
}
