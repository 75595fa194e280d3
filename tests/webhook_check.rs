//! `billguard check webhook` end to end: the git working tree against a base,
//! diff text, SARIF, and every kind of bad input.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

#[path = "support/git.rs"]
mod git_support;
use git_support::{billguard, git};

fn fixture(case: &str, file: &str) -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/webhook").join(case).join(file);
    std::fs::read_to_string(p).unwrap()
}

fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr)))
}

/// A repo with one committed handler at app/api/webhook/route.ts.
fn repo_with(handler: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q"]);
    std::fs::create_dir_all(dir.path().join("app/api/webhook")).unwrap();
    std::fs::write(dir.path().join("app/api/webhook/route.ts"), handler).unwrap();
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-qm", "handler"]);
    dir
}

#[test]
fn uncommitted_change_against_head_is_reviewed_with_locations() {
    let repo = repo_with(&fixture("ts-wh004-plan-moved", "before.ts"));
    std::fs::write(repo.path().join("app/api/webhook/route.ts"), fixture("ts-wh004-plan-moved", "after.ts")).unwrap();
    for args in [vec!["check", "webhook", "--base", "HEAD", "--format", "json"], vec!["check", "webhook", "--format", "json"]] {
        let out = billguard(repo.path(), &args);
        assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
        let r = json(&out);
        assert_eq!(r["tool"], "diff_webhook_handler");
        assert_eq!(r["scope"]["source"], "git");
        assert_eq!(r["scope"]["handler_files"][0]["change"], "modified");
        let f = r["findings"].as_array().unwrap().iter().find(|f| f["rule"] == "WH004").expect("WH004");
        assert_eq!(f["entity"], "handler:app/api/webhook/route.ts#checkout.session.completed");
        assert_eq!(f["location"]["path"], "app/api/webhook/route.ts");
        assert!(f["location"]["line"].as_u64().unwrap() > 1);
        assert!(f["message"].as_str().unwrap().contains("hasPaidAccess"), "{f}");
    }
    // Committed, nothing changed against HEAD: nothing to say.
    git(repo.path(), &["commit", "-qam", "refactor"]);
    let out = billguard(repo.path(), &["check", "webhook", "--base", "HEAD", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(json(&out)["verdict"], "pass");
    // Against the previous commit, the regression shows again.
    let out = billguard(repo.path(), &["check", "webhook", "--base", "HEAD~1", "--format", "sarif"]);
    let sarif = json(&out);
    assert_eq!(sarif["version"], "2.1.0");
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let r = results.iter().find(|r| r["ruleId"] == "WH004").unwrap();
    assert_eq!(r["level"], "error");
    assert_eq!(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], "app/api/webhook/route.ts");
}

#[test]
fn new_files_are_judged_whole_and_preexisting_bugs_are_low_once() {
    let repo = repo_with(&fixture("ts-wh016-no-payment-check", "after.ts"));
    // A new, unverified handler next to the committed one.
    std::fs::write(repo.path().join("app/api/webhook/legacy.ts"), fixture("ts-wh001-edge-verifies", "after.ts")).unwrap();
    // A harmless edit to the committed handler that already granted without a payment check.
    let edited = fixture("ts-wh016-no-payment-check", "after.ts").replace("ignoring", "skipping");
    std::fs::write(repo.path().join("app/api/webhook/route.ts"), edited).unwrap();
    let r = json(&billguard(repo.path(), &["check", "webhook", "--base", "HEAD", "--format", "json"]));
    let findings = r["findings"].as_array().unwrap();
    let wh001 = findings.iter().find(|f| f["rule"] == "WH001").expect("new file judged whole");
    assert_eq!(wh001["severity"], "high");
    assert_eq!(wh001["location"]["path"], "app/api/webhook/legacy.ts");
    let pre: Vec<_> = findings.iter().filter(|f| f["rule"] == "WH016" && f["location"]["path"] == "app/api/webhook/route.ts").collect();
    assert_eq!(pre.len(), 1, "{findings:?}");
    assert_eq!(pre[0]["severity"], "low");
    assert_eq!(pre[0]["evidence"]["pre_existing"], true);
}

fn diff_of(case: &str, context: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.ts"), fixture(case, "before.ts")).unwrap();
    std::fs::write(dir.path().join("b.ts"), fixture(case, "after.ts")).unwrap();
    let diff = Command::new("git").args(["diff", "--no-index", context, "a.ts", "b.ts"]).current_dir(dir.path()).output().unwrap();
    String::from_utf8_lossy(&diff.stdout).replace("a/a.ts", "a/app/api/webhook/route.ts").replace("b/b.ts", "b/app/api/webhook/route.ts")
}

#[test]
fn diff_text_alone_gives_a_partial_review() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("change.diff"), diff_of("ts-wh005-plan-free-only", "-U40")).unwrap();
    let r = json(&billguard(dir.path(), &["check", "webhook", "--diff", "change.diff", "--format", "json"]));
    assert_eq!(r["scope"]["source"], "diff");
    assert_eq!(r["scope"]["partial"], true);
    assert!(r["notes"].as_array().unwrap().iter().any(|n| n.as_str().unwrap().contains("partial")));
    assert!(r["findings"].as_array().unwrap().iter().any(|f| f["rule"] == "WH005"), "{r}");
}

#[test]
fn diff_text_matching_the_working_tree_is_reviewed_in_full() {
    let repo = repo_with(&fixture("ts-wh005-plan-free-only", "after.ts"));
    let text = diff_of("ts-wh005-plan-free-only", "-U3");
    let mut child = Command::new(env!("CARGO_BIN_EXE_billguard"))
        .current_dir(repo.path())
        .args(["check", "webhook", "--diff", "-", "--format", "json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), text.as_bytes()).unwrap();
    let r = json(&child.wait_with_output().unwrap());
    assert_eq!(r["scope"]["partial"], false, "{r}");
    assert!(r["findings"].as_array().unwrap().iter().any(|f| f["rule"] == "WH005"), "{r}");
}

#[test]
fn bad_inputs_give_clear_messages() {
    let not_git = tempfile::tempdir().unwrap();
    let out = billguard(not_git.path(), &["check", "webhook"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a git repository"), "{}", String::from_utf8_lossy(&out.stderr));

    let repo = repo_with(&fixture("ts-safe-renames", "before.ts"));
    let out = billguard(repo.path(), &["check", "webhook", "--base", "no-such-branch"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("`no-such-branch` does not exist"));
    let out = billguard(repo.path(), &["check", "webhook", "--base", "--upload-pack=x"]);
    assert_eq!(out.status.code(), Some(2));

    let out = billguard(repo.path(), &["check", "webhook", "--diff", "missing.diff"]);
    assert_eq!(out.status.code(), Some(2));
    std::fs::write(repo.path().join("junk.diff"), "this is not a diff").unwrap();
    let out = billguard(repo.path(), &["check", "webhook", "--diff", "junk.diff"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad diff"));

    // Binary, invalid UTF-8, unparsable, renamed, deleted and mode-changed files in one working tree.
    let root = repo.path();
    std::fs::create_dir_all(root.join("app/billing")).unwrap();
    std::fs::write(root.join("app/billing/webhook.js"), fixture("js-safe-extract", "before.js")).unwrap();
    std::fs::write(root.join("app/billing/stripe_webhook.py"), fixture("py-safe-rename-format", "before.py")).unwrap();
    std::fs::write(root.join("app/billing/old_webhook.py"), fixture("py-safe-paused-event", "before.py")).unwrap();
    std::fs::write(root.join("app/billing/webhook.rb"), "post '/stripe/webhook' do\n  event = Stripe::Webhook.construct_event(payload, sig, secret)\n  case event.type\n  when 'invoice.paid' then nil\n  end\nend\n").unwrap();
    git(root, &["add", "-A"]);
    git(root, &["commit", "-qm", "more handlers"]);
    let mut bin = b"\x00\x01binary stripe webhook 'invoice.paid'".to_vec();
    bin.extend_from_slice(&[0xff, 0xfe]);
    std::fs::write(root.join("app/billing/webhook.js"), &bin).unwrap();
    let mut bad_utf8 = fixture("py-safe-rename-format", "before.py").into_bytes();
    bad_utf8.extend_from_slice(b"\n# caf\xe9\n");
    std::fs::write(root.join("app/billing/stripe_webhook.py"), bad_utf8).unwrap();
    let broken = fixture("ts-safe-renames", "before.ts").replace("switch (event.type) {", "switch (event.type {{{");
    std::fs::write(root.join("app/api/webhook/route.ts"), broken).unwrap();
    git(root, &["mv", "app/billing/old_webhook.py", "app/billing/hooks.py"]);
    std::fs::write(root.join("app/billing/webhook.rb"), "post '/stripe/webhook' do\n  event = Stripe::Webhook.construct_event(payload, sig, secret)\n  case event.type\n  when 'invoice.paid' then nil\n  end\nend\n# changed\n").unwrap();
    let out = billguard(root, &["check", "webhook", "--base", "HEAD", "--format", "json"]);
    assert!(matches!(out.status.code(), Some(0) | Some(1)), "{}", String::from_utf8_lossy(&out.stderr));
    let r = json(&out);
    let notes = r["notes"].to_string();
    assert!(notes.contains("binary"), "{notes}");
    assert!(notes.contains("not valid UTF-8"), "{notes}");
    assert!(notes.contains("syntax error"), "{notes}");
    assert!(notes.contains("renamed"), "{notes}");
    let ruby = r["scope"]["handler_files"].as_array().unwrap().iter().find(|h| h["path"] == "app/billing/webhook.rb").expect("the Ruby handler is reviewed");
    assert_eq!(ruby["language"], "ruby");
    assert_eq!(ruby["events"], serde_json::json!(["invoice.paid"]));

    git(root, &["add", "-A"]);
    git(root, &["commit", "-qm", "state"]);
    std::fs::remove_file(root.join("app/billing/hooks.py")).unwrap();
    let r = json(&billguard(root, &["check", "webhook", "--base", "HEAD", "--format", "json"]));
    let deleted: Vec<_> = r["findings"].as_array().unwrap().iter().filter(|f| f["rule"] == "WH006").collect();
    assert!(!deleted.is_empty(), "{r}");
    assert!(deleted[0]["message"].as_str().unwrap().contains("was deleted"));

    git(root, &["add", "-A"]);
    git(root, &["commit", "-qm", "state2"]);
    let script = root.join("app/api/webhook/route.ts");
    let mut perms = std::fs::metadata(&script).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(&script, perms).unwrap();
    let r = json(&billguard(root, &["check", "webhook", "--base", "HEAD", "--format", "json"]));
    assert!(r["notes"].to_string().contains("file mode changed"), "{r}");
}

#[test]
fn webhook_secrets_in_code_never_reach_the_output() {
    let secret = "whsec_4fQ9zXv2Lm8Rt1Yp6Wc3Nb7Ka1b2Qq";
    let before = fixture("ts-safe-renames", "before.ts");
    let after = before.replace(
        "    event = stripe.webhooks.constructEvent(body, signature, webhookSecret);",
        &format!("    if (webhookSecret !== '{secret}') {{\n      event = stripe.webhooks.constructEvent(body, signature, webhookSecret);\n    }}"),
    );
    assert_ne!(before, after);
    let repo = repo_with(&before);
    std::fs::write(repo.path().join("app/api/webhook/route.ts"), &after).unwrap();
    for format in ["text", "json", "markdown", "sarif"] {
        let out = billguard(repo.path(), &["check", "webhook", "--base", "HEAD", "--format", format]);
        let all = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
        assert!(!all.contains(secret), "{format} leaked: {all}");
        assert!(all.contains("WH003"), "{format}: {all}");
    }
}

#[test]
fn paddle_signature_parser_that_keeps_one_h1_is_noted() {
    let base = std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tools/webhook-fixture-bases/paddle-rails.rb")).unwrap();
    // Only the last h1 survives: `to_h` keeps one value per key.
    let one_h1 = base
        .replace(
            "    signatures = parts.select { |key, _| key == \"h1\" }.map(&:last)\n",
            "    signature = parts.to_h[\"h1\"]\n",
        )
        .replace("return false if ts.nil? || signatures.empty?", "return false if ts.nil? || signature.nil?")
        .replace(
            "    signatures.any? { |signature| ActiveSupport::SecurityUtils.secure_compare(expected, signature) }",
            "    ActiveSupport::SecurityUtils.secure_compare(expected, signature)",
        );
    assert_ne!(base, one_h1);
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q"]);
    std::fs::create_dir_all(dir.path().join("app/controllers")).unwrap();
    std::fs::write(dir.path().join("app/controllers/paddle_webhooks_controller.rb"), &base).unwrap();
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-qm", "paddle"]);
    let r = json(&billguard(dir.path(), &["check", "webhook", "--base", "HEAD", "--format", "json"]));
    assert!(r["findings"].as_array().unwrap().is_empty(), "{r}");
    std::fs::write(dir.path().join("app/controllers/paddle_webhooks_controller.rb"), &one_h1).unwrap();
    let r = json(&billguard(dir.path(), &["check", "webhook", "--base", "HEAD", "--format", "json"]));
    assert!(r["findings"].as_array().unwrap().iter().all(|f| f["severity"] != "high"), "{r}");
    assert!(r["notes"].to_string().contains("only one h1 signature"), "{r}");
    let v = r["scope"]["handler_files"][0]["verification"].as_str().unwrap();
    assert!(v.contains("Paddle-Signature"), "{v}");
}

#[cfg(unix)]
#[test]
fn a_handler_under_a_non_utf8_directory_is_said_to_be_unreviewed() {
    use std::os::unix::ffi::OsStrExt;
    let repo = repo_with("export const x = 1;\n");
    let dir = repo.path().join(std::ffi::OsStr::from_bytes(b"app/api/caf\xe9"));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("webhook.ts"), fixture("ts-wh004-plan-moved", "before.ts")).unwrap();
    git(repo.path(), &["add", "-A"]);
    git(repo.path(), &["commit", "-qm", "handler in a latin-1 directory"]);
    std::fs::write(dir.join("webhook.ts"), fixture("ts-wh004-plan-moved", "after.ts")).unwrap();
    let out = billguard(repo.path(), &["check", "webhook", "--base", "HEAD", "--format", "json"]);
    let r = json(&out);
    let notes = r["notes"].to_string();
    assert!(notes.contains("webhook.ts: not reviewed: its path is not valid UTF-8"), "{notes}");
}

#[test]
fn deeply_nested_handlers_in_every_language_are_named_as_not_analysed() {
    let repo = repo_with("export const x = 1;\n");
    let open = "(".repeat(20_000);
    let close = ")".repeat(20_000);
    let event = "\"customer.subscription.deleted\"";
    let cases = [
        ("ts", format!("export function POST() {{ const t = {event}; const x = {open}1{close}; }}\n")),
        ("js", format!("export function POST() {{ const t = {event}; const x = {open}1{close}; }}\n")),
        ("py", format!("def webhook():\n    t = {event}\n    x = {open}1{close}\n")),
        ("rb", format!("def webhook\n  t = {event}\n  x = {open}1{close}\nend\n")),
        ("go", format!("package main\nfunc Webhook() {{ t := {event}; x := {open}1{close} }}\n")),
        ("php", format!("<?php function webhook() {{ $t = {event}; $x = {open}1{close}; }}\n")),
        ("rs", format!("fn webhook() {{ let t = {event}; let x = {open}1{close}; }}\n")),
        ("ex", format!("defmodule W do\n  def webhook(conn) do\n    t = {event}\n    x = {open}1{close}\n  end\nend\n")),
        // Python's grammar aborts on very deep block nesting: refused before parsing.
        ("py", (0..1100).fold(format!("def webhook():\n    t = {event}\n"), |s, i| s + &"    ".repeat(i + 1) + "if t:\n") + &"    ".repeat(1101) + "pass\n"),
    ];
    for (ext, text) in cases {
        let path = format!("app/api/webhook/stripe_webhook.{ext}");
        std::fs::write(repo.path().join(&path), text).unwrap();
        let out = billguard(repo.path(), &["check", "webhook", "--base", "HEAD", "--format", "json", "--path", &path]);
        assert_ne!(out.status.code(), None, "{ext}: killed by a signal");
        let r = json(&out);
        let notes = r["notes"].to_string();
        assert!(notes.contains(&format!("{path} (new version): not analysed: nesting deeper")), "{ext}: {notes}");
        std::fs::remove_file(repo.path().join(&path)).unwrap();
    }
}

#[test]
fn absurd_hunk_positions_and_endless_diff_input_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let diff = "--- a/app/api/webhook/route.ts\n+++ b/app/api/webhook/route.ts\n@@ -4294967295,1 +4294967295,1 @@\n-a\n+b\n";
    let mut child = Command::new(env!("CARGO_BIN_EXE_billguard"))
        .current_dir(dir.path())
        .args(["check", "webhook", "--diff", "-", "--format", "json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), diff.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("names a line past 1000000"), "{}", String::from_utf8_lossy(&out.stderr));
    let out = billguard(dir.path(), &["check", "webhook", "--diff", "/dev/zero", "--format", "json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("larger than 64 MB"), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn billguard_s_own_reports_are_never_part_of_the_change() {
    let repo = repo_with(&fixture("ts-wh004-plan-moved", "before.ts"));
    let reports = repo.path().join(".billguard/reports");
    std::fs::create_dir_all(&reports).unwrap();
    // Reports written before .billguard/ ignored itself, and a stray handler-looking file.
    std::fs::write(reports.join("diff_webhook_handler-1.json"), "{}").unwrap();
    std::fs::write(repo.path().join(".billguard/webhook.ts"), fixture("ts-wh004-plan-moved", "after.ts")).unwrap();
    let out = billguard(repo.path(), &["check", "webhook", "--base", "HEAD", "--format", "json"]);
    let r = json(&out);
    assert_eq!(r["scope"]["files_changed"], 0, "{r:#}");
    assert_eq!(r["verdict"], "pass");
}

#[test]
fn a_diff_under_billguard_s_own_folder_is_not_reviewed() {
    let dir = tempfile::tempdir().unwrap();
    let diff = diff_of("ts-wh005-plan-free-only", "-U40").replace("/app/api/webhook/route.ts", "/.billguard/app/api/webhook/route.ts");
    assert!(diff.contains("b/.billguard/app/api/webhook/route.ts"), "{diff}");
    std::fs::write(dir.path().join("change.diff"), diff).unwrap();
    let r = json(&billguard(dir.path(), &["check", "webhook", "--diff", "change.diff", "--format", "json"]));
    assert_eq!(r["scope"]["files_changed"], 0, "{r:#}");
    assert!(r["findings"].as_array().unwrap().is_empty(), "{r:#}");
}
