//! The CLI as a user (or CI) runs it: exit codes, formats, errors.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn crate_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn billguard(dir: &Path, args: &[&str]) -> Output {
    // Without fixture subscriptions billguard reads Stripe live: keep a developer's key out of the tests.
    Command::new(env!("CARGO_BIN_EXE_billguard")).current_dir(dir).args(args).env_remove("STRIPE_SECRET_KEY").output().expect("run billguard")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A fixture directory in a fresh temp repo.
fn scratch_fixture(subscriptions: &str, users: &str, toml: Option<&str>) -> tempfile::TempDir {
    let repo = tempfile::tempdir().unwrap();
    let fx = repo.path().join("fx");
    std::fs::create_dir_all(fx.join("stripe")).unwrap();
    std::fs::create_dir_all(fx.join("db")).unwrap();
    std::fs::write(fx.join("stripe/subscriptions.json"), subscriptions).unwrap();
    std::fs::write(fx.join("db/users.json"), users).unwrap();
    if let Some(t) = toml {
        std::fs::write(fx.join("billguard.toml"), t).unwrap();
    }
    repo
}

#[test]
fn demo_needs_nothing_and_exits_1_on_its_leak() {
    let empty = tempfile::tempdir().unwrap();
    let out = billguard(empty.path(), &["demo"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("PASS") && text.contains("FAIL"), "{text}");
    assert!(text.contains("ACC001 revenue-leak"), "{text}");
    assert!(text.contains("WH005 revocation-removed"), "the demo reviews a webhook change too: {text}");
    assert!(!text.contains('\x1b'), "no colour when stdout is not a terminal");
    assert_eq!(stdout(&billguard(empty.path(), &["demo"])), text, "the demo is deterministic");
    let json: Value = serde_json::from_slice(&billguard(empty.path(), &["demo", "--format", "json"]).stdout).unwrap();
    assert_eq!(json[1]["report"]["verdict"], "fail");
}

#[test]
fn check_access_exit_codes() {
    let root = crate_root();
    let ok = billguard(&root, &["check", "access", "--fixtures", "fixtures/access/healthy"]);
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
    let fail = billguard(&root, &["check", "access", "--fixtures", "fixtures/access/revenue-leak", "--format", "markdown"]);
    assert_eq!(fail.status.code(), Some(1));
    assert!(stdout(&fail).contains("| ACC001 | revenue-leak | high | 1 |"), "{}", stdout(&fail));
}

#[test]
fn strict_fails_on_medium_findings() {
    let repo = scratch_fixture(
        r#"[{"id":"sub_1","customer":"cus_1","status":"active","items":{"data":[{"price":{"id":"price_x"}}]}}]"#,
        r#"[{"id":1,"stripe_customer_id":"cus_1","has_paid_access":true}]"#,
        Some("[access.plans]\nprice_pro = \"pro\"\n"),
    );
    let warn = billguard(repo.path(), &["check", "access", "--fixtures", "fx", "--format", "json"]);
    let report: Value = serde_json::from_slice(&warn.stdout).unwrap();
    assert_eq!((report["verdict"].as_str(), warn.status.code()), (Some("warn"), Some(0)));
    let strict = billguard(repo.path(), &["check", "access", "--fixtures", "fx", "--strict"]);
    assert_eq!(strict.status.code(), Some(1));
}

#[test]
fn report_file_and_max_findings() {
    let root = crate_root();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("full.json");
    let out = billguard(
        &root,
        &["check", "access", "--fixtures", "fixtures/access/revenue-leak", "--format", "json", "--max-findings", "2", "--report-file"],
    );
    assert_eq!(out.status.code(), Some(2), "--report-file needs a value");
    let out = Command::new(env!("CARGO_BIN_EXE_billguard"))
        .current_dir(&root)
        .args(["check", "access", "--fixtures", "fixtures/access/revenue-leak", "--format", "json", "--max-findings", "2"])
        .arg("--report-file")
        .arg(&file)
        .output()
        .unwrap();
    let shown: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(shown["findings"].as_array().unwrap().len(), 2);
    assert_eq!(shown["omitted"], 7);
    assert_eq!(shown["report_file"], file.display().to_string());
    let full: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(full["findings"].as_array().unwrap().len(), 9);
    assert_eq!(full["omitted"], 0);
}

#[test]
fn bad_config_is_exit_2_with_file_line_and_suggestion() {
    let repo = scratch_fixture("[]", "[]", Some("[access]\npast_due_grace_dayz = 3\n"));
    let out = billguard(repo.path(), &["check", "access", "--fixtures", "fx"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("configuration error"), "{err}");
    assert!(err.contains("billguard.toml:2:1"), "{err}");
    assert!(err.contains("did you mean `past_due_grace_days`"), "{err}");

    let repo = scratch_fixture("[]", "[]", Some("[access\n"));
    let out = billguard(repo.path(), &["check", "access", "--fixtures", "fx"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("billguard.toml:1:"), "{}", stderr(&out));
}

#[test]
fn bad_fixtures_are_exit_2_and_say_what_was_looked_for() {
    let repo = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(repo.path().join("fx/db")).unwrap();
    let out = billguard(repo.path(), &["check", "access", "--fixtures", "fx"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("stripe/subscriptions.json") && err.contains("paddle/subscriptions.json"), "{err}");
    assert!(err.contains("db/users.json"), "{err}");

    let out = billguard(repo.path(), &["check", "access", "--fixtures", "nowhere"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("does not exist"), "{}", stderr(&out));

    let repo = scratch_fixture("[{\"id\": \"sub_1\",\n \"customer\": \"cus_1\", \"status\": 5}]", "[]", None);
    let out = billguard(repo.path(), &["check", "access", "--fixtures", "fx"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("fx/stripe/subscriptions.json:2:"), "{}", stderr(&out));

    let repo = scratch_fixture("[]", r#"[{"id": 1, "stripe_customer_id": "cus", "has_paid_access": "perhaps"}]"#, None);
    let out = billguard(repo.path(), &["check", "access", "--fixtures", "fx"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("\"perhaps\", which is not boolean-like"), "{}", stderr(&out));

    let out = billguard(repo.path(), &["check", "access"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--fixtures"), "{}", stderr(&out));
}

#[test]
fn secrets_never_reach_the_output() {
    // Built at run time so that no key-shaped literal sits in the source.
    let key = &format!("{}{}", "sk_live_", "51Hq2dLm8Rt1Yp6Wc3Nb7Ka9Zx0Vb4Nm");
    let repo = scratch_fixture(
        &format!(r#"[{{"id":"sub_1","customer":"{key}","status":"active"}}]"#),
        &format!(r#"[{{"id":"{key}","stripe_customer_id":null,"has_paid_access":true}}]"#),
        None,
    );
    for format in ["text", "json", "markdown"] {
        let out = billguard(repo.path(), &["check", "access", "--fixtures", "fx", "--format", format]);
        let all = stdout(&out) + &stderr(&out);
        assert!(!all.contains(key), "{format} leaked the key: {all}");
        assert!(all.contains("sk_live_…4Nm") || all.contains("sk_live_…b4Nm"), "{format}: {all}");
    }
}

#[test]
fn rules_catalog_and_one_rule() {
    let root = crate_root();
    let all = billguard(&root, &["rules"]);
    assert_eq!(all.status.code(), Some(0));
    for code in ["ACC001", "ACC005", "ACC010"] {
        assert!(stdout(&all).contains(code));
    }
    let one = billguard(&root, &["rules", "acc007"]);
    assert!(stdout(&one).contains("ACC007 grace-expired (high)"), "{}", stdout(&one));
    assert!(stdout(&one).contains("Fix:"));
    let bad = billguard(&root, &["rules", "ACC011"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("Did you mean"), "{}", stderr(&bad));
}

#[test]
fn usage_errors_are_exit_2() {
    let root = crate_root();
    assert_eq!(billguard(&root, &["check", "access", "--format", "yaml"]).status.code(), Some(2));
    assert_eq!(billguard(&root, &["frobnicate"]).status.code(), Some(2));
    assert_eq!(billguard(&root, &["serve", "--repo", "/definitely/not/here"]).status.code(), Some(2));
}

#[test]
fn a_customer_column_that_no_user_row_has_is_an_error_naming_the_columns_present() {
    let dir = tempfile::tempdir().unwrap();
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/access/revenue-leak");
    for sub in ["db", "stripe"] {
        std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        for e in std::fs::read_dir(src.join(sub)).unwrap() {
            let e = e.unwrap();
            std::fs::copy(e.path(), dir.path().join(sub).join(e.file_name())).unwrap();
        }
    }
    let base = std::fs::read_to_string(src.join("billguard.toml")).unwrap();
    std::fs::write(dir.path().join("billguard.toml"), format!("{base}\n[database.columns]\ncustomer_id = \"stripe_customer\"\n")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_billguard")).current_dir(dir.path()).args(["check", "access", "--fixtures", "."]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no row has the customer column `stripe_customer`") && err.contains("`stripe_customer_id`"), "{err}");
    // The right name reads as before.
    std::fs::write(dir.path().join("billguard.toml"), format!("{base}\n[database.columns]\ncustomer_id = \"stripe_customer_id\"\n")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_billguard")).current_dir(dir.path()).args(["check", "access", "--fixtures", "."]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
}

/// A one-request HTTP server on 127.0.0.1 standing in for a chat webhook: it answers
/// `status` and hands back the request it received.
fn webhook_stand_in(status: &str) -> (String, std::thread::JoinHandle<String>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://127.0.0.1:{}/services/T0/B0/stand-in-secret-path", listener.local_addr().unwrap().port());
    let status = status.to_string();
    let handle = std::thread::spawn(move || {
        listener.set_nonblocking(false).unwrap();
        let (mut sock, _) = listener.accept().unwrap();
        sock.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        // Headers, then the body by Content-Length.
        loop {
            let n = sock.read(&mut chunk).unwrap_or(0);
            buf.extend_from_slice(&chunk[..n]);
            let text = String::from_utf8_lossy(&buf).to_string();
            if let Some(end) = text.find("\r\n\r\n") {
                let len = text.lines().find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse::<usize>().unwrap_or(0))).unwrap_or(0);
                if buf.len() >= end + 4 + len || n == 0 {
                    break;
                }
            }
            if n == 0 {
                break;
            }
        }
        let _ = sock.write_all(format!("HTTP/1.1 {status}\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok").as_bytes());
        String::from_utf8_lossy(&buf).to_string()
    });
    (url, handle)
}

#[test]
fn a_failing_access_check_notifies_the_chat_webhook_and_never_prints_its_url() {
    let root = crate_root();
    let (url, server) = webhook_stand_in("200 OK");
    let out = Command::new(env!("CARGO_BIN_EXE_billguard"))
        .current_dir(&root)
        .args(["check", "access", "--fixtures", "fixtures/access/revenue-leak", "--notify-url-env", "SLACK_WEBHOOK_URL"])
        .env("SLACK_WEBHOOK_URL", &url)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let request = server.join().unwrap();
    assert!(request.starts_with("POST /services/T0/B0/stand-in-secret-path"), "{request}");
    let body: serde_json::Value = serde_json::from_str(&request[request.find("\r\n\r\n").unwrap() + 4..]).unwrap();
    let text = body["text"].as_str().unwrap();
    assert!(text.starts_with("billguard check_access_contract: FAIL (") && text.contains("• ACC001 user:"), "{text}");
    let all = stdout(&out) + &stderr(&out);
    assert!(!all.contains("stand-in-secret-path"), "the URL was printed: {all}");

    // A pass sends nothing (nothing listens: a request would fail the run); a refused send is exit 2.
    let quiet = Command::new(env!("CARGO_BIN_EXE_billguard"))
        .current_dir(&root)
        .args(["check", "access", "--fixtures", "fixtures/access/healthy", "--notify-url-env", "SLACK_WEBHOOK_URL"])
        .env("SLACK_WEBHOOK_URL", "http://127.0.0.1:9/closed")
        .output()
        .unwrap();
    assert_eq!(quiet.status.code(), Some(0), "{}", stderr(&quiet));
    let (url, server) = webhook_stand_in("500 Internal Server Error");
    let refused = Command::new(env!("CARGO_BIN_EXE_billguard"))
        .current_dir(&root)
        .args(["check", "access", "--fixtures", "fixtures/access/revenue-leak", "--notify-url-env", "SLACK_WEBHOOK_URL"])
        .env("SLACK_WEBHOOK_URL", &url)
        .output()
        .unwrap();
    server.join().unwrap();
    assert_eq!(refused.status.code(), Some(2));
    assert!(stderr(&refused).contains("notification not sent: the webhook in SLACK_WEBHOOK_URL answered 500"), "{}", stderr(&refused));
    let plain = Command::new(env!("CARGO_BIN_EXE_billguard"))
        .current_dir(&root)
        .args(["check", "access", "--fixtures", "fixtures/access/revenue-leak", "--notify-url-env", "SLACK_WEBHOOK_URL"])
        .env("SLACK_WEBHOOK_URL", "http://hooks.example.com/services/secret-path")
        .output()
        .unwrap();
    assert_eq!(plain.status.code(), Some(2));
    assert!(stderr(&plain).contains("must be an https:// URL") && !stderr(&plain).contains("secret-path"), "{}", stderr(&plain));
}
