//! `check webhook --diff` on diff text alone (`git diff` with 3 lines of context,
//! no checkout): what the hunks show is still found, in every language, and the
//! same lines moved elsewhere in the diff are not a regression.

use std::path::Path;
use std::process::Output;

use serde_json::Value;

#[path = "support/git.rs"]
mod git_support;
use git_support::{billguard, write};

fn review(dir: &Path, diff: &str) -> (Option<i32>, Value) {
    write(dir, "change.diff", diff);
    let out: Output = billguard(dir, &["check", "webhook", "--diff", "change.diff", "--format", "json"]);
    let r = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code(), r)
}

fn highs(r: &Value) -> Vec<String> {
    r["findings"].as_array().unwrap().iter().filter(|f| f["severity"] == "high").map(|f| f["rule"].as_str().unwrap().to_string()).collect()
}

/// A one-hunk diff of `path` at line 40 with the given lines (' ', '-', '+' prefixed).
fn diff(path: &str, section: &str, lines: &[&str]) -> String {
    let old = lines.iter().filter(|l| !l.starts_with('+')).count();
    let new = lines.iter().filter(|l| !l.starts_with('-')).count();
    format!("diff --git a/{path} b/{path}\n--- a/{path}\n+++ b/{path}\n@@ -40,{old} +40,{new} @@ {section}\n{}\n", lines.join("\n"))
}

#[test]
fn what_the_hunks_show_is_found_in_every_language() {
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "typescript: verification swapped for JSON.parse",
            diff("app/api/webhooks/route.ts", "export async function POST(req: Request) {", &["   try {", "-    event = stripe.webhooks.constructEvent(body, sig, webhookSecret);", "+    event = JSON.parse(body) as Stripe.Event;", "   } catch (err) {"]),
            "WH001",
        ),
        (
            "python: the membership flag no longer set",
            diff("webhooks/webhook_handler.py", "class StripeWH_Handler:", &["         profile.cancel_at_period_end = False", "-        profile.membership = True", "         profile.save()"]),
            "WH004",
        ),
        (
            "ruby: the role no longer removed on cancel",
            diff("app/controllers/stripe_webhooks_controller.rb", "class StripeWebhooksController < ApplicationController", &["   def customer_subscription_deleted", "     account = pro_account_from_stripe_event(@stripe_event)", "-    account.user.remove_role(:pro) if account", "   end"]),
            "WH005",
        ),
        (
            "php: the plan no longer reset",
            diff("app/Http/Controllers/WebhookController.php", "public function handleCustomerSubscriptionDeleted(array $payload)", &["         $user = User::where('stripe_id', $payload['data']['object']['customer'])->first();", "-        $user->plan = 'free';", "         $user->save();"]),
            "WH005",
        ),
        (
            "go: the user no longer disabled",
            diff("internal/billing/webhook.go", "func handleSubscriptionDeleted(w http.ResponseWriter, ev stripe.Event) {", &[" \tu := findUser(ev)", "-\tu.Disabled = true", " \tsave(u)"]),
            "WH005",
        ),
        (
            "elixir: a failure now acknowledged",
            diff("lib/app_web/stripe_webhook.ex", "defmodule AppWeb.StripeWebhook do", &["       {:error, reason} ->", "-        send_resp(conn, 500, \"failed\")", "+        send_resp(conn, 200, \"ok\")", "     end"]),
            "WH010",
        ),
        (
            "rust: an event's case dropped from a shared arm",
            diff("src/webhook.rs", "async fn stripe_webhook(event: Event) -> StatusCode {", &["     match event.type_.as_str() {", "-        \"invoice.payment_failed\" |", "         \"customer.subscription.deleted\" => revoke(&db, &event).await?,"]),
            "WH006",
        ),
        (
            "typescript helper: a status pinned to active",
            diff("utils/supabase/admin.ts", "const manageSubscriptionStatusChange = async (", &["     metadata: subscription.metadata,", "-    status: subscription.status,", "+    status: 'active',", "     price_id: subscription.items.data[0].price.id,"]),
            "WH005",
        ),
        (
            "typescript helper: an unpaid status now grants",
            diff("lib/payments/stripe.ts", "export async function handleSubscriptionChange(", &["-  if (status === 'active' || status === 'trialing') {", "+  if (status === 'active' || status === 'trialing' || status === 'unpaid') {", "     const plan = subscription.items.data[0]?.plan;"]),
            "WH011",
        ),
    ];
    for (what, text, rule) in cases {
        let (code, r) = review(dir.path(), &text);
        assert_eq!(code, Some(1), "{what}: {r}");
        assert!(highs(&r).contains(&rule.to_string()), "{what}: expected {rule}: {r}");
        let f = r["findings"].as_array().unwrap().iter().find(|f| f["rule"] == rule).unwrap();
        assert!(f["location"]["line"].as_u64().unwrap() >= 40, "{what}: {f}");
    }
}

#[test]
fn the_same_lines_moved_or_reworded_are_not_regressions() {
    let dir = tempfile::tempdir().unwrap();
    // The revocation moves into a helper file in the same diff.
    let moved = diff("app/controllers/stripe_webhooks_controller.rb", "class StripeWebhooksController", &["   def customer_subscription_deleted", "-    account.user.remove_role(:pro) if account", "+    Billing.revoke(account)", "   end"])
        + &diff("app/services/billing.rb", "class Billing", &["+  def self.revoke(account)", "+    account.user.remove_role(:pro) if account", "+  end"]);
    // Verification reformatted onto two lines; a clause that only acknowledged removed; a log reworded.
    let reformatted = diff("webhooks/views.py", "def webhook(request):", &["-    event = stripe.Webhook.construct_event(payload, sig, secret)", "+    event = stripe.Webhook.construct_event(", "+        payload, sig, secret)", "     handle(event)"]);
    let noop = diff("lib/app_web/stripe_webhook.ex", "defmodule AppWeb.StripeWebhook do", &["-  def handle_event(%Stripe.Event{type: \"invoice.paid\"} = _event) do", "-    :ok", "-  end", " ", "   def handle_event(_event), do: :ok"]);
    let log = diff("app/api/webhooks/route.ts", "export async function POST(req: Request) {", &["-    console.log('customer.subscription.deleted', id);", "+    logger.info({ id }, 'deleted');", "     break;"]);
    for (what, text) in [("moved", moved), ("reformatted", reformatted), ("no-op clause", noop), ("log", log)] {
        let (_, r) = review(dir.path(), &text);
        assert!(highs(&r).is_empty(), "{what}: {r}");
        assert_ne!(r["verdict"], "pass", "{what}: seen only through hunks, never a pass: {r}");
    }
}

/// Rebinding a name to an expression of itself (`tolerance = tolerance * 1000`,
/// `events = new Set(events)`, common in Elixir and in vendored libraries) makes the
/// values a cycle: the review ends with a verdict, it does not overflow its stack.
#[test]
fn self_referencing_rebindings_end_with_a_verdict() {
    let before = "import Stripe from 'stripe';\nconst stripe = new Stripe(process.env.STRIPE_SECRET_KEY!);\n\
        export async function verify(body: string, sig: string, tolerance: number) {\n  tolerance = tolerance * 1000;\n  \
        return stripe.webhooks.constructEvent(body, sig, process.env.STRIPE_WEBHOOK_SECRET!, tolerance);\n}\n\
        export async function POST(req: Request, relevant: string[]) {\n  const event = await verify(await req.text(), req.headers.get('stripe-signature')!, 300);\n  \
        relevant = new Set(relevant);\n  if (relevant.has(event.type)) {\n    await db.user.update({ where: { id: 1 }, data: { hasAccess: true } });\n  }\n  return new Response('ok');\n}\n";
    let repo = git_support::committed_repo(&[("app/api/webhook/route.ts", before)]);
    write(repo.path(), "app/api/webhook/route.ts", &before.replace("hasAccess: true", "hasAccess: false"));
    // Before the fix this recursed without end: bound the wait, so the test fails instead of hanging.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_billguard"))
        .current_dir(repo.path())
        .args(["check", "webhook", "--format", "json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > std::time::Duration::from_secs(60) {
            let _ = child.kill();
            panic!("the review did not end within 60 s");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    assert!(matches!(out.status.code(), Some(0..=3)), "exit {:?}: {}", out.status, String::from_utf8_lossy(&out.stderr));
    let r: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    assert!(r["verdict"].is_string(), "{r}");
}

#[test]
fn a_billing_file_whose_hunks_show_no_handler_is_incomplete_not_pass() {
    let dir = tempfile::tempdir().unwrap();
    let removed_call = diff(
        "backend/lib/azimutt/stripe_handler.ex",
        "defmodule Azimutt.StripeHandler do",
        &[
            "     with {:ok, %Organization{} = organization} <- Organizations.get_organization_by_customer(subscription.customer) do",
            "-      Organizations.validate_organization_plan(organization)",
            "       Tracking.stripe_subscription_deleted(event, organization, subscription.id)",
            "     end",
        ],
    );
    let (code, r) = review(dir.path(), &removed_call);
    assert_eq!(r["verdict"], "incomplete", "{r:#}");
    assert_eq!(code, Some(3));
    assert!(r["scope"]["not_examined"].to_string().contains("stripe_handler.ex"), "{r:#}");
    // A comment-only change to the same file says nothing about what it calls.
    let comment = diff(
        "backend/lib/azimutt/stripe_handler.ex",
        "defmodule Azimutt.StripeHandler do",
        &["-      # validate the plan", "+      # re-validate the plan", "       Organizations.validate_organization_plan(organization)"],
    );
    let (_, r) = review(dir.path(), &comment);
    assert_eq!(r["verdict"], "pass", "{r:#}");
}
