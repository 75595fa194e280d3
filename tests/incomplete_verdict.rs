//! The `incomplete` verdict: what was asked for and could not be examined is
//! never a pass. Each case shows it firing (exit 3, a `not examined:` note that
//! names the file or environment and how to get a full review) and staying quiet
//! where everything was seen.

use std::path::Path;
use std::process::Output;

use serde_json::Value;

#[path = "support/git.rs"]
mod git_support;
use git_support::{billguard, committed_repo as committed, write};

fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr)))
}



fn not_examined(r: &Value) -> Vec<String> {
    r["notes"].as_array().unwrap().iter().filter_map(Value::as_str).filter(|n| n.starts_with("not examined: ")).map(String::from).collect()
}

const TS_HANDLER: &str = r#"import Stripe from 'stripe';
import { db } from '@/lib/db';

const stripe = new Stripe(process.env.STRIPE_SECRET_KEY!);

export async function POST(req: Request) {
  const body = await req.text();
  const event = stripe.webhooks.constructEvent(body, req.headers.get('stripe-signature')!, process.env.STRIPE_WEBHOOK_SECRET!);
  switch (event.type) {
    case 'customer.subscription.created':
      await db.user.update({ where: { customerId: event.data.object.customer }, data: { hasPaidAccess: true } });
      break;
    case 'customer.subscription.deleted':
      await db.user.update({ where: { customerId: event.data.object.customer }, data: { hasPaidAccess: false } });
      break;
  }
  console.log('handled', event.id);
  return new Response('ok');
}
"#;

/// A harmless edit far from the dispatch: with 3 lines of context, the hunk shows no event.
fn harmless_diff(root: &Path) -> String {
    write(root, "app/api/webhooks/stripe/route.ts", &TS_HANDLER.replace("console.log('handled'", "console.info('handled'"));
    let out = std::process::Command::new("git").args(["diff"]).current_dir(root).output().unwrap();
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn a_bare_diff_of_a_handler_is_incomplete_and_the_checkout_makes_it_complete() {
    let repo = committed(&[("app/api/webhooks/stripe/route.ts", TS_HANDLER)]);
    let diff = harmless_diff(repo.path());
    let elsewhere = tempfile::tempdir().unwrap();
    write(elsewhere.path(), "change.diff", &diff);
    let out = billguard(elsewhere.path(), &["check", "webhook", "--diff", "change.diff", "--format", "json"]);
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    let r = json(&out);
    assert_eq!(r["verdict"], "incomplete");
    assert_eq!(r["scope"]["not_examined"], serde_json::json!(["app/api/webhooks/stripe/route.ts"]));
    let why = not_examined(&r);
    assert_eq!(why.len(), 1, "{why:?}");
    assert!(why[0].contains("app/api/webhooks/stripe/route.ts: ") && why[0].contains("git diff -U50"), "{why:?}");

    // The same diff inside the checkout that holds the change: both versions are known and
    // judged whole (the handler's pre-existing low finding shows), complete.
    write(repo.path(), "change.diff", &diff);
    let out = billguard(repo.path(), &["check", "webhook", "--diff", "change.diff", "--format", "json"]);
    let r = json(&out);
    assert_eq!((out.status.code(), r["verdict"].as_str()), (Some(0), Some("warn")), "{r}");
    assert_eq!(r["scope"]["partial"], false);
    assert!(not_examined(&r).is_empty());

    assert_eq!(r["scope"]["source"], "diff+checkout");

    // The same diff before it is applied: the working tree holds the file it applies to.
    git_support::git(repo.path(), &["checkout", "--", "app/api/webhooks/stripe/route.ts"]);
    let out = billguard(repo.path(), &["check", "webhook", "--diff", "change.diff", "--format", "json"]);
    let r = json(&out);
    assert_eq!((r["verdict"].as_str(), r["scope"]["partial"].as_bool()), (Some("warn"), Some(false)), "{r}");
    assert!(r["notes"].to_string().contains("which holds the file the diff applies to"), "{}", r["notes"]);

    // Text and markdown say it too.
    let text = String::from_utf8(billguard(elsewhere.path(), &["check", "webhook", "--diff", "change.diff"]).stdout).unwrap();
    assert!(text.starts_with("billguard diff_webhook_handler: INCOMPLETE"), "{text}");
    let md = String::from_utf8(billguard(elsewhere.path(), &["check", "webhook", "--diff", "change.diff", "--format", "markdown"]).stdout).unwrap();
    assert!(md.contains("**incomplete**"), "{md}");
}

#[test]
fn a_high_finding_from_a_bare_diff_still_fails() {
    let repo = committed(&[("app/api/webhooks/stripe/route.ts", TS_HANDLER)]);
    write(
        repo.path(),
        "app/api/webhooks/stripe/route.ts",
        &TS_HANDLER.replace("data: { hasPaidAccess: false }", "data: { cancelledAt: new Date() }"),
    );
    let diff = String::from_utf8(std::process::Command::new("git").args(["diff", "-U6"]).current_dir(repo.path()).output().unwrap().stdout).unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    write(elsewhere.path(), "change.diff", &diff);
    let out = billguard(elsewhere.path(), &["check", "webhook", "--diff", "change.diff", "--format", "json"]);
    let r = json(&out);
    assert_eq!((out.status.code(), r["verdict"].as_str()), (Some(1), Some("fail")), "{r}");
    assert!(r["findings"].as_array().unwrap().iter().any(|f| f["rule"] == "WH005"), "{r}");
    assert_eq!(not_examined(&r).len(), 1, "what was not seen is still said: {r}");
}

#[test]
fn a_hunk_of_a_billing_webhook_path_that_shows_no_handler_mark_is_named() {
    let diff = "diff --git a/app/api/webhooks/stripe/route.ts b/app/api/webhooks/stripe/route.ts\n\
--- a/app/api/webhooks/stripe/route.ts\n+++ b/app/api/webhooks/stripe/route.ts\n\
@@ -40,3 +40,3 @@ export async function POST(req: Request) {\n   const user = await findUser(id);\n-  await audit(user);\n+  await audit(user, id);\n   return ok();\n";
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "change.diff", diff);
    let out = billguard(dir.path(), &["check", "webhook", "--diff", "change.diff", "--format", "json"]);
    let r = json(&out);
    assert_eq!((out.status.code(), r["verdict"].as_str()), (Some(3), Some("incomplete")), "{r}");
    assert!(not_examined(&r)[0].contains("app/api/webhooks/stripe/route.ts: by its path a billing webhook handler"), "{r}");

    // A hunk of an ordinary file is not a handler: nothing to review, a pass.
    let other = diff.replace("app/api/webhooks/stripe/route.ts", "src/lib/format.ts");
    write(dir.path(), "other.diff", &other);
    let out = billguard(dir.path(), &["check", "webhook", "--diff", "other.diff", "--format", "json"]);
    assert_eq!((out.status.code(), json(&out)["verdict"].as_str()), (Some(0), Some("pass")));
}

#[test]
fn a_handler_in_a_language_billguard_does_not_read_is_named() {
    let kotlin = "import com.stripe.net.Webhook\n\nfun handle(payload: String, sig: String) {\n    val event = Webhook.constructEvent(payload, sig, secret)\n    when (event.type) {\n        \"customer.subscription.deleted\" -> users.revoke(event)\n    }\n}\n";
    let repo = committed(&[("src/main/kotlin/billing/StripeWebhook.kt", kotlin)]);
    write(repo.path(), "src/main/kotlin/billing/StripeWebhook.kt", &kotlin.replace("users.revoke(event)", "log(event)"));
    let out = billguard(repo.path(), &["check", "webhook", "--base", "HEAD", "--format", "json"]);
    let r = json(&out);
    assert_eq!((out.status.code(), r["verdict"].as_str()), (Some(3), Some("incomplete")), "{r}");
    assert!(not_examined(&r)[0].contains("StripeWebhook.kt: looks like a webhook handler in a language billguard does not read"), "{r}");

    // A Kotlin file that is no handler, or a document about webhooks, is not named.
    let repo = committed(&[("src/Util.kt", "fun add(a: Int, b: Int) = a + b\n"), ("docs/webhooks.md", "# Stripe webhooks\n")]);
    write(repo.path(), "src/Util.kt", "fun add(a: Int, b: Int): Int = a + b\n");
    write(repo.path(), "docs/webhooks.md", "# Stripe webhooks\n\nWe handle 'invoice.paid' with Stripe-Signature checks.\n");
    let out = billguard(repo.path(), &["check", "webhook", "--base", "HEAD", "--format", "json"]);
    assert_eq!((out.status.code(), json(&out)["verdict"].as_str()), (Some(0), Some("pass")));
}

#[test]
fn a_handler_whose_dispatch_is_not_understood_is_named_but_verification_middleware_is_not() {
    let handler = "import stripe\nfrom django.http import HttpResponse\n\nSUPPORTED = (\"invoice.paid\", \"customer.subscription.deleted\")\n\n\ndef webhook(request):\n    event = stripe.Webhook.construct_event(request.body, request.META[\"HTTP_STRIPE_SIGNATURE\"], settings.STRIPE_WEBHOOK_SECRET)\n    celery_app.send_task(\"billing.\" + event[\"type\"].replace(\".\", \"_\"), args=[event])\n    return HttpResponse(status=200)\n";
    let middleware = "import stripe\n\n\ndef verify_stripe(get_response):\n    def middleware(request):\n        request.stripe_event = stripe.Webhook.construct_event(request.body, request.META[\"HTTP_STRIPE_SIGNATURE\"], SECRET)\n        return get_response(request)\n    return middleware\n";
    let repo = committed(&[("billing/stripe_webhooks.py", handler), ("billing/verify.py", middleware)]);
    write(repo.path(), "billing/verify.py", &middleware.replace("SECRET", "settings.STRIPE_WEBHOOK_SECRET"));
    let out = billguard(repo.path(), &["check", "webhook", "--base", "HEAD", "--format", "json"]);
    let r = json(&out);
    assert!(not_examined(&r).is_empty() && r["verdict"] != "incomplete", "middleware quotes no event: {r}");

    write(repo.path(), "billing/stripe_webhooks.py", &handler.replace("status=200", "status=202"));
    let out = billguard(repo.path(), &["check", "webhook", "--base", "HEAD", "--format", "json"]);
    let r = json(&out);
    assert_eq!((out.status.code(), r["verdict"].as_str()), (Some(3), Some("incomplete")), "{r}");
    let why = not_examined(&r);
    assert!(why.iter().any(|w| w.contains("billing/stripe_webhooks.py: looks like a webhook handler, but no event it handles was found")), "{why:?}");
}

#[test]
fn a_changed_file_naming_billing_events_that_is_no_recognised_handler_is_named_not_passed() {
    // A queue consumer of another service's events: no signature check, SDK or webhook path,
    // so billguard cannot tell whether it handles them; the change is not passed unseen.
    let consumer = "def consume(message):\n    kind = message[\"kind\"]\n    if kind == \"customer.subscription.deleted\":\n        accounts.close(message[\"account\"])\n    elif kind == \"invoice.paid\":\n        accounts.extend(message[\"account\"])\n";
    let repo = committed(&[("workers/inbox.py", consumer)]);
    write(repo.path(), "workers/inbox.py", &consumer.replace("        accounts.close(message[\"account\"])\n", "        pass\n"));
    let out = billguard(repo.path(), &["check", "webhook", "--base", "HEAD", "--format", "json"]);
    let r = json(&out);
    assert_eq!((out.status.code(), r["verdict"].as_str()), (Some(3), Some("incomplete")), "{r}");
    let why = not_examined(&r);
    assert!(why.iter().any(|w| w.contains("workers/inbox.py: names billing events (customer.subscription.deleted, invoice.paid)")), "{why:?}");

    // One event named in passing (a label, a log line) is not a handler's worth.
    let repo = committed(&[("workers/labels.py", "LABELS = {\"invoice.paid\": \"Paid\"}\n")]);
    write(repo.path(), "workers/labels.py", "LABELS = {\"invoice.paid\": \"Invoice paid\"}\n");
    let out = billguard(repo.path(), &["check", "webhook", "--base", "HEAD", "--format", "json"]);
    assert_eq!((out.status.code(), json(&out)["verdict"].as_str()), (Some(0), Some("pass")));
}

#[test]
fn key_mode_an_environment_file_named_by_the_caller_must_exist() {
    let repo = committed(&[("src/billing.ts", "const key = process.env.STRIPE_SECRET_KEY;\n")]);
    let out = billguard(repo.path(), &["check", "keys", "--env", "production=.env.nope"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("environment `production`: the file `.env.nope` does not exist"), "{err}");
}

#[test]
fn key_mode_an_environment_none_of_whose_sources_could_be_read_is_incomplete() {
    let repo = committed(&[
        ("src/billing.ts", "const key = process.env.STRIPE_SECRET_KEY;\n"),
        ("billguard.toml", "[keys.environments.production]\nfiles = [\".env.production\"]\n"),
    ]);
    let out = billguard(repo.path(), &["check", "keys", "--format", "json"]);
    let r = json(&out);
    assert_eq!((out.status.code(), r["verdict"].as_str()), (Some(3), Some("incomplete")), "{r}");
    assert!(not_examined(&r)[0].starts_with("not examined: production: none of its sources could be read (.env.production)"), "{r}");

    // Once the file exists and is right, the same check passes.
    write(repo.path(), ".env.production", "STRIPE_SECRET_KEY=sk_live_DwoFXtXHIE8ITDeG8rmwvYDtq2Wa1YsD\n");
    let out = billguard(repo.path(), &["check", "keys", "--format", "json"]);
    let r = json(&out);
    assert!(not_examined(&r).is_empty(), "{r}");
    assert_ne!(r["verdict"], "incomplete");
}

#[test]
fn a_diff_that_applies_to_the_default_branch_is_reviewed_whole_from_another_branch() {
    let repo = committed(&[("app/api/webhooks/stripe/route.ts", TS_HANDLER)]);
    let git = |args: &[&str]| git_support::git(repo.path(), args);
    git(&["branch", "-M", "main"]);
    // The PR's change, made against main: the revocation goes.
    write(repo.path(), "app/api/webhooks/stripe/route.ts", &TS_HANDLER.replace("data: { hasPaidAccess: false }", "data: { cancelledAt: new Date() }"));
    let diff = String::from_utf8(std::process::Command::new("git").args(["diff"]).current_dir(repo.path()).output().unwrap().stdout).unwrap();
    git(&["checkout", "-q", "--", "."]);
    // The checkout is on another branch whose handler differs around the change.
    git(&["checkout", "-q", "-b", "other"]);
    write(repo.path(), "app/api/webhooks/stripe/route.ts", &TS_HANDLER.replace("data: { hasPaidAccess: false }", "data: { hasPaidAccess: false, plan: 'free' }"));
    git(&["commit", "-qam", "other work"]);
    write(repo.path(), "change.diff", &diff);
    let out = billguard(repo.path(), &["check", "webhook", "--diff", "change.diff", "--format", "json"]);
    let r = json(&out);
    assert_eq!(r["scope"]["source"], "diff+checkout", "{r}");
    assert_eq!(r["scope"]["partial"], false);
    assert!(r["notes"].to_string().contains("rebuilt in full from commit main"), "{}", r["notes"]);
    assert!(r["findings"].to_string().contains("WH005"), "{r}");
    assert_eq!(out.status.code(), Some(1));

    // A diff that applies to nothing known stays a bare diff.
    write(repo.path(), "change.diff", &diff.replace("hasPaidAccess: false }", "hasPaidAccess: false, extra: 1 }"));
    let r = json(&billguard(repo.path(), &["check", "webhook", "--diff", "change.diff", "--format", "json"]));
    assert_eq!(r["scope"]["source"], "diff", "{r}");
}
