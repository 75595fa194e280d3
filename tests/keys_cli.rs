//! `billguard check keys` as a user runs it: every fixture scenario gives its
//! expected findings, no key reaches any output format, and bad input gives a
//! clear note without stopping the other checks.

mod support;

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;
use support::{check_keys, crate_root, fake_key, materialize, rule_entities};

fn billguard(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_billguard")).current_dir(dir).args(args).output().expect("run billguard")
}

#[test]
fn every_fixture_scenario_gives_its_expected_findings_and_leaks_nothing() {
    let dir = crate_root().join("fixtures/keys");
    let mut scenarios: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    scenarios.sort();
    assert!(scenarios.len() >= 6, "{scenarios:?}");
    let mut rules_seen = std::collections::BTreeSet::new();
    for scenario in scenarios {
        let name = scenario.file_name().unwrap().to_string_lossy().to_string();
        let expected: Value = serde_json::from_str(&std::fs::read_to_string(scenario.join("expected.json")).unwrap()).unwrap();
        let repo = materialize(&scenario.join("repo"), true);
        let (v, out) = check_keys(repo.path(), &[]);
        let mut want: Vec<(String, String)> = expected["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p[0].as_str().unwrap().to_string(), p[1].as_str().unwrap().to_string()))
            .collect();
        want.sort();
        assert_eq!(rule_entities(&v), want, "{name}: {}", serde_json::to_string_pretty(&v).unwrap());
        assert_eq!(v["verdict"], expected["verdict"], "{name}");
        let code = if expected["verdict"] == "fail" { 1 } else { 0 };
        assert_eq!(out.status.code(), Some(code), "{name}");
        for f in v["findings"].as_array().unwrap() {
            rules_seen.insert(f["rule"].as_str().unwrap().to_string());
            if f["rule"] != "KEY006" && f["rule"] != "KEY002" {
                assert!(f["location"].is_object(), "{name}: a finding about an assignment points at it: {f}");
            }
        }
        for format in ["text", "json", "markdown"] {
            let out = billguard(repo.path(), &["check", "keys", "--format", format]);
            let all = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
            for key in &repo.keys {
                assert!(!all.contains(key.as_str()), "{name} {format} leaked a key: {all}");
            }
        }
    }
    for code in ["KEY001", "KEY002", "KEY003", "KEY004", "KEY005", "KEY006", "KEY007", "KEY008", "KEY011", "KEY013"] {
        assert!(rules_seen.contains(code), "no fixture shows {code}: {rules_seen:?}");
    }
}

#[test]
fn the_matrix_is_in_every_format() {
    let repo = materialize(&crate_root().join("fixtures/keys/staging-unwired/repo"), true);
    let (v, _) = check_keys(repo.path(), &[]);
    let m = &v["scope"]["matrix"];
    let envs: Vec<_> = m["environments"].as_array().unwrap().iter().map(|e| e["name"].as_str().unwrap()).collect();
    assert_eq!(envs, ["production", "staging"]);
    let row = m["rows"].as_array().unwrap().iter().find(|r| r["variable"] == "STRIPE_SECRET_KEY").unwrap();
    assert_eq!(row["read_by_code"], false);
    assert_eq!(row["cells"][0]["status"], "set");
    assert_eq!(row["cells"][0]["kind"], "restricted");
    assert_eq!(row["cells"][0]["mode"], "live");
    assert!(row["cells"][0]["value"].as_str().unwrap().starts_with("rk_live_…"));
    assert_eq!(row["cells"][0]["location"], "config/env/production.env:1");
    assert_eq!(row["cells"][1]["status"], "missing");
    let text = String::from_utf8_lossy(&billguard(repo.path(), &["check", "keys"]).stdout).to_string();
    assert!(text.contains("STRIPE_RESTRICTED_KEY *") && text.contains("MISSING"), "{text}");
    let md = String::from_utf8_lossy(&billguard(repo.path(), &["check", "keys", "--format", "markdown"]).stdout).to_string();
    assert!(md.contains("| variable | production (production) | staging (staging) |"), "{md}");
}

#[test]
fn env_flag_picks_and_defines_environments() {
    let repo = materialize(&crate_root().join("fixtures/keys/healthy/repo"), true);
    std::fs::write(repo.path().join("prod.env"), format!("STRIPE_SECRET_KEY={}\n", fake_key("sk_test_"))).unwrap();
    let (v, out) = check_keys(repo.path(), &["--env", "production=prod.env", "--env", "development"]);
    assert_eq!(out.status.code(), Some(1));
    let p = rule_entities(&v);
    assert!(p.contains(&("KEY001".into(), "env:production/STRIPE_SECRET_KEY".into())), "{p:?}");
    assert!(p.contains(&("KEY006".into(), "env:production/STRIPE_WEBHOOK_SECRET".into())), "{p:?}");
    let envs: Vec<_> = v["scope"]["matrix"]["environments"].as_array().unwrap().iter().map(|e| e["name"].as_str().unwrap().to_string()).collect();
    assert_eq!(envs, ["production", "development", ".env.example"]);
    let bad = billguard(repo.path(), &["check", "keys", "--env", "nowhere"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("no environment `nowhere`"), "{}", String::from_utf8_lossy(&bad.stderr));
    let bad = billguard(repo.path(), &["check", "keys", "--env", "=x"]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn process_environment_is_an_environment() {
    let repo = materialize(&crate_root().join("fixtures/keys/healthy/repo"), true);
    let key = fake_key("sk_test_");
    let out = Command::new(env!("CARGO_BIN_EXE_billguard"))
        .current_dir(repo.path())
        .args(["check", "keys", "--format", "json", "--env", "process"])
        .env("APP_ENV", "production")
        .env("STRIPE_SECRET_KEY", &key)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let p = rule_entities(&v);
    assert!(p.contains(&("KEY001".into(), "env:process/STRIPE_SECRET_KEY".into())), "{p:?}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains(&key));
}

#[test]
fn commands_run_and_their_failures_are_notes() {
    let repo = materialize(&crate_root().join("fixtures/keys/healthy/repo"), true);
    let live = fake_key("sk_live_");
    std::fs::write(
        repo.path().join("billguard.toml"),
        format!(
            "[keys]\ncommand_timeout_secs = 1\n[keys.environments.production]\ncommand = \"printf 'STRIPE_SECRET_KEY={live}\\\\nSTRIPE_WEBHOOK_SECRET=$(cat .env.production | grep WEBHOOK | cut -d= -f2)\\\\n'\"\n\
             [keys.environments.staging]\ncommand = \"echo 'vault: permission denied {live}' >&2; exit 2\"\n\
             [keys.environments.hanging]\nkind = \"development\"\ncommand = \"sleep 30\"\n"
        ),
    )
    .unwrap();
    let start = std::time::Instant::now();
    let (v, _) = check_keys(repo.path(), &[]);
    assert!(start.elapsed().as_secs() < 15, "the hanging command was killed");
    let notes = v["notes"].to_string();
    assert!(notes.contains("staging: command") && notes.contains("exited with exit status: 2") && notes.contains("permission denied"), "{notes}");
    assert!(notes.contains("hanging: command") && notes.contains("timed out after 1 s"), "{notes}");
    assert!(!v.to_string().contains(&live), "stderr is redacted");
    let p = rule_entities(&v);
    // production came from the command: live key, read by the code: no finding there;
    // staging and hanging could not be read, so their absence is not judged.
    assert!(p.iter().all(|(_, e)| e.starts_with("env:development") || e.starts_with("env:production")), "{p:?}");
    let row = v["scope"]["matrix"]["rows"].as_array().unwrap().iter().find(|r| r["variable"] == "STRIPE_SECRET_KEY").unwrap().clone();
    let prod = row["cells"].as_array().unwrap().iter().find(|c| c["environment"] == "production").unwrap().clone();
    assert_eq!((prod["status"].as_str(), prod["mode"].as_str()), (Some("set"), Some("live")), "{prod}");
}

#[test]
fn bad_env_files_are_notes_and_the_rest_is_still_checked() {
    let repo = materialize(&crate_root().join("fixtures/keys/healthy/repo"), true);
    std::fs::write(repo.path().join(".env.staging"), b"\0\0binary\xff").unwrap();
    std::fs::write(repo.path().join(".env.test"), b"STRIPE_SECRET_KEY=sk_live_caf\xe9\nA=1\n").unwrap();
    std::fs::write(repo.path().join(".env.production"), format!("STRIPE_SECRET_KEY={}\n", fake_key("sk_test_"))).unwrap();
    let (v, out) = check_keys(repo.path(), &[]);
    assert_eq!(out.status.code(), Some(1), "the production test key is still found");
    let notes = v["notes"].to_string();
    assert!(notes.contains(".env.staging (staging): is a binary file"), "{notes}");
    assert!(notes.contains(".env.test: line 1: invalid UTF-8"), "{notes}");
    assert!(rule_entities(&v).contains(&("KEY001".into(), "env:production/STRIPE_SECRET_KEY".into())));
    assert!(!rule_entities(&v).iter().any(|(_, e)| e.starts_with("env:staging")), "an unreadable environment's absence is not judged");
}

#[test]
fn outside_git_key004_is_skipped_with_a_note() {
    let repo = materialize(&crate_root().join("fixtures/keys/committed-and-deployed/repo"), false);
    let (v, _) = check_keys(repo.path(), &[]);
    assert!(!rule_entities(&v).iter().any(|(r, _)| r == "KEY004"));
    assert!(v["notes"].to_string().contains("KEY004"), "{}", v["notes"]);
    assert!(v["scope"]["tracked_files"].is_null());
}

#[test]
fn no_environments_is_a_pass_with_a_note_and_bad_config_is_exit_2() {
    let repo = tempfile::tempdir().unwrap();
    std::fs::write(repo.path().join("app.js"), "process.env.STRIPE_SECRET_KEY").unwrap();
    let (v, out) = check_keys(repo.path(), &[]);
    assert_eq!(out.status.code(), Some(0));
    assert!(v["notes"].to_string().contains("no environment to judge"), "{}", v["notes"]);
    std::fs::write(repo.path().join("billguard.toml"), "[keys.environments.production]\nfile = [\".env\"]\n").unwrap();
    let out = billguard(repo.path(), &["check", "keys"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("did you mean `files`"), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn a_command_that_prints_nothing_usable_leaves_its_environment_unjudged() {
    let repo = materialize(&crate_root().join("fixtures/keys/healthy/repo"), true);
    let test_key = fake_key("sk_test_");
    std::fs::write(
        repo.path().join("billguard.toml"),
        format!(
            "[keys.environments.production]\ncommand = \"echo 'Logged in as ci'\"\n\
             [keys.environments.staging]\ncommand = \"sleep 30 & echo STRIPE_SECRET_KEY={test_key}\"\n"
        ),
    )
    .unwrap();
    let start = std::time::Instant::now();
    let (v, _) = check_keys(repo.path(), &[]);
    assert!(start.elapsed().as_secs() < 10, "a background process did not hold the check");
    let notes = v["notes"].to_string();
    assert!(notes.contains("production: command") && notes.contains("was not judged"), "{notes}");
    // Nothing read is not a missing variable in production.
    let p = rule_entities(&v);
    assert!(!p.iter().any(|(r, e)| r == "KEY006" && e.starts_with("env:production")), "{p:?}");
    // ...and the matrix says production was not examined instead of showing its variables as not set.
    let envs = v["scope"]["matrix"]["environments"].as_array().unwrap();
    let production = envs.iter().find(|e| e["name"] == "production").unwrap();
    assert_eq!(production["not_examined"], true, "{production}");
    assert!(production["unread"][0].as_str().unwrap().starts_with("command `echo"), "{production}");
    let rows = v["scope"]["matrix"]["rows"].as_array().unwrap();
    let cells: Vec<&Value> = rows.iter().flat_map(|r| r["cells"].as_array().unwrap()).filter(|c| c["environment"] == "production").collect();
    assert!(!cells.is_empty() && cells.iter().all(|c| c["status"] == "unread"), "{cells:?}");
    // The staging output printed before the background process was kept.
    let row = v["scope"]["matrix"]["rows"].as_array().unwrap().iter().find(|r| r["variable"] == "STRIPE_SECRET_KEY").unwrap().clone();
    let staging = row["cells"].as_array().unwrap().iter().find(|c| c["environment"] == "staging").unwrap().clone();
    assert_eq!(staging["status"], "set", "{staging}");
}

#[test]
fn billing_code_whose_keys_billguard_cannot_see_is_said_never_a_silent_pass() {
    let repo = tempfile::tempdir().unwrap();
    std::fs::write(repo.path().join("pay.ts"), "import Stripe from 'stripe';\nexport const stripe = new Stripe(config.billing.key);\n").unwrap();
    let (v, _) = check_keys(repo.path(), &[]);
    let notes = v["notes"].to_string();
    assert!(notes.contains("no read of a billing variable found, but pay.ts uses a billing SDK"), "{notes}");
    // Once the code reads its key from the environment, the note goes.
    std::fs::write(repo.path().join("pay.ts"), "import Stripe from 'stripe';\nexport const stripe = new Stripe(process.env.STRIPE_SECRET_KEY!);\n").unwrap();
    let (v, _) = check_keys(repo.path(), &[]);
    assert!(!v["notes"].to_string().contains("no read of a billing variable"), "{}", v["notes"]);
}
