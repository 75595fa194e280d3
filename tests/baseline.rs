//! `billguard baseline`: today's findings recorded in `.billguard/baseline.json`;
//! later runs show only new findings (counted in `summary.baselined`), name the
//! recorded ones that are fixed, and `--no-baseline` shows everything.

use std::process::Output;

use serde_json::Value;

#[path = "support/git.rs"]
mod git_support;
use git_support::{billguard, committed_repo, git, write};

fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr)))
}

fn rules(r: &Value) -> Vec<String> {
    r["findings"].as_array().unwrap().iter().map(|f| f["rule"].as_str().unwrap().to_string()).collect()
}

/// Grants on checkout without a payment check (WH016) and answers a missing row with an exception (WH018).
const HANDLER: &str = "import Stripe from 'stripe';\nexport async function POST(req: Request) {\n  const event = stripe.webhooks.constructEvent(await req.text(), req.headers.get('stripe-signature')!, process.env.STRIPE_WEBHOOK_SECRET!);\n  switch (event.type) {\n    case 'checkout.session.completed':\n      await db.user.update({ where: { id: event.data.object.client_reference_id }, data: { hasPaidAccess: true } });\n      break;\n    case 'customer.subscription.deleted':\n      await db.user.update({ where: { customerId: event.data.object.customer }, data: { hasPaidAccess: false } });\n      break;\n  }\n  return new Response('ok');\n}\n";

#[test]
fn a_webhook_baseline_hides_what_the_handler_already_had_and_shows_what_a_change_adds() {
    let repo = committed_repo(&[("app/api/webhook/route.ts", HANDLER)]);
    let out = billguard(repo.path(), &["baseline", "webhook"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains(".billguard/baseline.json") && said.contains("diff_webhook_handler"), "{said}");
    let file: Value = serde_json::from_str(&std::fs::read_to_string(repo.path().join(".billguard/baseline.json")).unwrap()).unwrap();
    assert!(file["findings"].to_string().contains("WH016"), "the whole handler was reviewed: {file}");
    // The baseline is meant to be committed: git sees it.
    git(repo.path(), &["add", "-A"]);
    git(repo.path(), &["commit", "-qm", "baseline"]);

    // A change elsewhere in the handler (a comment moves every line down): the
    // pre-existing WH016 is not repeated.
    write(repo.path(), "app/api/webhook/route.ts", &HANDLER.replace("export async", "// Stripe events\nexport async"));
    let r = json(&billguard(repo.path(), &["check", "webhook", "--base", "HEAD", "--format", "json"]));
    assert!(!rules(&r).contains(&"WH016".to_string()), "{r}");
    assert!(r["summary"]["baselined"].as_u64().unwrap() >= 1, "{r}");
    assert!(r["notes"].to_string().contains("--no-baseline"), "{}", r["notes"]);
    let all = json(&billguard(repo.path(), &["check", "webhook", "--base", "HEAD", "--format", "json", "--no-baseline"]));
    assert!(rules(&all).contains(&"WH016".to_string()), "--no-baseline shows it: {all}");
    assert_eq!(all["summary"]["baselined"], 0);

    // A regression the change makes is shown, whatever the baseline holds.
    write(repo.path(), "app/api/webhook/route.ts", &HANDLER.replace("data: { hasPaidAccess: false }", "data: { cancelAt: new Date() }"));
    let out = billguard(repo.path(), &["check", "webhook", "--base", "HEAD", "--format", "json"]);
    assert!(rules(&json(&out)).contains(&"WH005".to_string()));
    assert_eq!(out.status.code(), Some(1));

    // Fixing the recorded finding is named.
    write(repo.path(), "app/api/webhook/route.ts", &HANDLER.replace("      await db.user.update({ where: { id: event.data.object.client_reference_id }", "      if (event.data.object.payment_status !== 'paid') break;\n      await db.user.update({ where: { id: event.data.object.client_reference_id }"));
    let r = json(&billguard(repo.path(), &["check", "webhook", "--base", "HEAD", "--format", "json"]));
    assert!(r["notes"].to_string().contains("fixed since the baseline: WH016"), "{}", r["notes"]);
}

#[test]
fn a_key_baseline_keeps_the_gate_green_until_a_new_mistake() {
    let test_key = "sk_test_".to_string() + &"Zq4w".repeat(6);
    let repo = committed_repo(&[("src/billing.ts", "const key = process.env.STRIPE_SECRET_KEY;\nconst hook = process.env.STRIPE_WEBHOOK_SECRET;\n")]);
    write(repo.path(), ".env.production", &format!("STRIPE_SECRET_KEY={test_key}\nSTRIPE_WEBHOOK_SECRET=whsec_{}\n", "k2Pz".repeat(8)));
    let before = json(&billguard(repo.path(), &["check", "keys", "--format", "json"]));
    assert!(rules(&before).contains(&"KEY001".to_string()), "{before}");
    assert_eq!(billguard(repo.path(), &["baseline", "keys"]).status.code(), Some(0));

    let out = billguard(repo.path(), &["check", "keys", "--format", "json"]);
    let r = json(&out);
    assert!(!rules(&r).contains(&"KEY001".to_string()), "{r}");
    assert_eq!(out.status.code(), Some(0), "{r}");

    // A new mistake in another variable shows, and fails.
    write(repo.path(), ".env.production", &format!("STRIPE_SECRET_KEY={test_key}\nSTRIPE_WEBHOOK_SECRET=pk_live_{}\n", "k2Pz".repeat(6)));
    let out = billguard(repo.path(), &["check", "keys", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", json(&out));
    assert!(!rules(&json(&out)).contains(&"KEY001".to_string()));
}

#[test]
fn recording_one_check_keeps_the_others_and_an_unreadable_baseline_hides_nothing() {
    let test_key = "sk_test_".to_string() + &"Zq4w".repeat(6);
    let repo = committed_repo(&[("app/api/webhook/route.ts", HANDLER), ("src/billing.ts", "const key = process.env.STRIPE_SECRET_KEY;\n")]);
    write(repo.path(), ".env.production", &format!("STRIPE_SECRET_KEY={test_key}\n"));
    assert_eq!(billguard(repo.path(), &["baseline", "keys"]).status.code(), Some(0));
    assert_eq!(billguard(repo.path(), &["baseline", "webhook"]).status.code(), Some(0));
    let text = std::fs::read_to_string(repo.path().join(".billguard/baseline.json")).unwrap();
    assert!(text.contains("check_key_mode") && text.contains("diff_webhook_handler"), "{text}");

    std::fs::write(repo.path().join(".billguard/baseline.json"), "not json").unwrap();
    let r = json(&billguard(repo.path(), &["check", "keys", "--format", "json"]));
    assert!(rules(&r).contains(&"KEY001".to_string()), "{r}");
    assert!(r["notes"].to_string().contains("baseline not applied"), "{}", r["notes"]);
    let out = billguard(repo.path(), &["baseline", "keys"]);
    assert_eq!(out.status.code(), Some(2), "an unreadable baseline is not overwritten");
}
