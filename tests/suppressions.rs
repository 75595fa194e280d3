//! Accepted findings, for every check: an inline `billguard-ignore: CODE reason`
//! comment on the finding's line or the line above, and `[[ignore]]` entries in
//! billguard.toml with a required reason and an optional expiry. A suppressed
//! finding leaves the findings and the verdict, is counted in
//! `summary.suppressed` and named in `notes`; an expired entry shows it again.

use std::path::Path;
use std::process::Output;

use serde_json::Value;

#[path = "support/git.rs"]
mod git_support;
use git_support::{billguard, committed_repo, write};

fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr)))
}

fn rules(r: &Value) -> Vec<String> {
    r["findings"].as_array().unwrap().iter().map(|f| f["rule"].as_str().unwrap().to_string()).collect()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

const GRANT_ON_CHECKOUT: &str = "import Stripe from 'stripe';\nexport async function POST(req: Request) {\n  const event = stripe.webhooks.constructEvent(await req.text(), req.headers.get('stripe-signature')!, process.env.STRIPE_WEBHOOK_SECRET!);\n  switch (event.type) {\n    case 'checkout.session.completed':\n      await db.user.update({ where: { id: event.data.object.client_reference_id }, data: { hasPaidAccess: true } });\n      break;\n    case 'customer.subscription.deleted':\n      await db.user.update({ where: { customerId: event.data.object.customer }, data: { hasPaidAccess: false } });\n      break;\n  }\n  return new Response('ok');\n}\n";

#[test]
fn an_inline_comment_with_a_reason_suppresses_a_webhook_finding_on_its_line_or_the_next() {
    let repo = committed_repo(&[("README.md", "app\n")]);
    write(repo.path(), "app/api/webhook/route.ts", GRANT_ON_CHECKOUT);
    let r = json(&billguard(repo.path(), &["check", "webhook", "--base", "HEAD", "--format", "json"]));
    assert!(rules(&r).contains(&"WH016".to_string()), "the new handler grants without a payment check: {r}");

    let ignored = GRANT_ON_CHECKOUT.replace(
        "      await db.user.update({ where: { id: event.data.object.client_reference_id }",
        "      // billguard-ignore: WH016 checkout only sells free trials, paid later by invoice\n      await db.user.update({ where: { id: event.data.object.client_reference_id }",
    );
    write(repo.path(), "app/api/webhook/route.ts", &ignored);
    let out = billguard(repo.path(), &["check", "webhook", "--base", "HEAD", "--format", "json"]);
    let r = json(&out);
    assert!(!rules(&r).contains(&"WH016".to_string()), "{r}");
    assert_eq!(r["summary"]["suppressed"], 1, "{r}");
    assert!(r["notes"].to_string().contains("suppressed WH016") && r["notes"].to_string().contains("free trials"), "{}", r["notes"]);
    assert_eq!(out.status.code(), Some(0), "{r}");
    // SARIF keeps it, marked as suppressed in source with its justification.
    let sarif = json(&billguard(repo.path(), &["check", "webhook", "--base", "HEAD", "--format", "sarif"]));
    let wh016 = sarif["runs"][0]["results"].as_array().unwrap().iter().find(|r| r["ruleId"] == "WH016").expect("suppressed result listed");
    assert_eq!(wh016["suppressions"][0]["kind"], "inSource");
    assert!(wh016["suppressions"][0]["justification"].as_str().unwrap().contains("free trials"));

    // Without a reason the comment does nothing.
    write(repo.path(), "app/api/webhook/route.ts", &ignored.replace(" checkout only sells free trials, paid later by invoice", ""));
    let r = json(&billguard(repo.path(), &["check", "webhook", "--base", "HEAD", "--format", "json"]));
    assert!(rules(&r).contains(&"WH016".to_string()), "{r}");
    assert_eq!(r["summary"]["suppressed"], 0);
}

#[test]
fn an_env_file_comment_suppresses_a_key_finding() {
    let key = "sk_test_".to_string() + &"x7Qa".repeat(6);
    let repo = committed_repo(&[("src/billing.ts", "const key = process.env.STRIPE_SECRET_KEY;\n")]);
    write(repo.path(), ".env.production", &format!("STRIPE_SECRET_KEY={key}\n"));
    let r = json(&billguard(repo.path(), &["check", "keys", "--format", "json"]));
    assert!(rules(&r).contains(&"KEY001".to_string()), "a test key in production: {r}");
    write(repo.path(), ".env.production", &format!("# billguard-ignore: KEY001 production is the public demo, on test mode by design\nSTRIPE_SECRET_KEY={key}\n"));
    let r = json(&billguard(repo.path(), &["check", "keys", "--format", "json"]));
    assert!(!rules(&r).contains(&"KEY001".to_string()), "{r}");
    assert_eq!(r["summary"]["suppressed"], 1);
}

#[test]
fn config_entries_need_a_reason_match_rule_and_entity_and_expire() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/access/revenue-leak"), dir.path());
    let base = std::fs::read_to_string(dir.path().join("billguard.toml")).unwrap_or_default();
    let run = |extra: &str| {
        std::fs::write(dir.path().join("billguard.toml"), format!("{base}\n{extra}")).unwrap();
        billguard(dir.path(), &["check", "access", "--fixtures", ".", "--format", "json"])
    };
    let entry = "[[ignore]]\nrule = \"ACC001\"\nentity = \"user:usr_alice\"\nreason = \"alice pays by bank transfer, reconciled by hand\"\n";
    let r = json(&run(entry));
    assert!(!r["findings"].as_array().unwrap().iter().any(|f| f["rule"] == "ACC001" && f["entity"] == "user:usr_alice"), "{r}");
    assert_eq!(r["summary"]["suppressed"], 1);
    assert!(rules(&r).contains(&"ACC002".to_string()), "other findings stay");

    // Another entity is not matched; an expired entry shows the finding again and says so.
    let r = json(&run(&entry.replace("usr_alice", "usr_nobody")));
    assert_eq!(r["summary"]["suppressed"], 0);
    let r = json(&run(&format!("{entry}until = \"2020-01-31\"\n")));
    assert!(r["findings"].as_array().unwrap().iter().any(|f| f["rule"] == "ACC001" && f["entity"] == "user:usr_alice"), "{r}");
    assert!(r["notes"].to_string().contains("expired on 2020-01-31"), "{}", r["notes"]);

    // No reason: the config is refused, naming the field.
    let out = run("[[ignore]]\nrule = \"ACC001\"\n");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("reason"), "{}", String::from_utf8_lossy(&out.stderr));
}
