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

/// The README's block of environment sources, run as written with a stand-in for each
/// tool on PATH that prints what the real one prints (keys random, of the right shape).
#[test]
fn the_readme_environment_sources_run_as_documented() {
    let readme = std::fs::read_to_string(crate_root().join("README.md")).unwrap();
    let start = readme.find("# Environment sources (tests/keys_cli.rs").expect("README block of environment sources");
    let block = &readme[start..start + readme[start..].find("```").unwrap()];
    let repo = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(repo.path().join("src")).unwrap();
    std::fs::write(
        repo.path().join("src/billing.ts"),
        "export const stripe = new Stripe(process.env.STRIPE_SECRET_KEY!);\nconst whsec = process.env.STRIPE_WEBHOOK_SECRET!;\n",
    )
    .unwrap();
    std::fs::write(repo.path().join("billguard.toml"), block).unwrap();
    let (sk, wh) = (fake_key("sk_live_"), fake_key("whsec_"));
    let bin = tempfile::tempdir().unwrap();
    let log = bin.path().join("calls.log");
    let dotenv = format!("STRIPE_SECRET_KEY=\"{sk}\"\nSTRIPE_WEBHOOK_SECRET=\"{wh}\"\n");
    let outputs = [
        ("vercel", format!("# Created by Vercel CLI\n{dotenv}")),
        ("heroku", format!("STRIPE_SECRET_KEY='{sk}'\nSTRIPE_WEBHOOK_SECRET='{wh}'\n")),
        ("fly", "NAME                 \tDIGEST          \tCREATED AT\nSTRIPE_SECRET_KEY    \t1a2b3c4d5e6f7a8b\t2024-01-01T00:00:00Z\nSTRIPE_WEBHOOK_SECRET\t9f8e7d6c5b4a3f2e\t2024-01-01T00:00:00Z\n".to_string()),
        ("doppler", dotenv.clone()),
        ("op", dotenv.clone()),
        (
            "aws",
            format!(
                r#"{{"Parameters":[{{"Name":"/myapp/production/STRIPE_SECRET_KEY","Type":"SecureString","Value":"{sk}","Version":1}},{{"Name":"/myapp/production/STRIPE_WEBHOOK_SECRET","Type":"SecureString","Value":"{wh}","Version":1}}]}}"#
            ),
        ),
    ];
    for (tool, printed) in &outputs {
        let path = bin.path().join(tool);
        std::fs::write(&path, format!("#!/bin/sh\necho \"{tool} $*\" >> '{}'\ncat <<'OUT'\n{printed}\nOUT\n", log.display())).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let path = format!("{}:{}", bin.path().display(), std::env::var("PATH").unwrap_or_default());
    let out = Command::new(env!("CARGO_BIN_EXE_billguard"))
        .current_dir(repo.path())
        .args(["check", "keys", "--format", "json"])
        .env("PATH", path)
        .env("STRIPE_SECRET_KEY", &sk)
        .env("STRIPE_WEBHOOK_SECRET", &wh)
        .env_remove("BILLGUARD_API_BASE")
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    // Each tool ran with the documented arguments.
    let calls = std::fs::read_to_string(&log).unwrap();
    for call in [
        "vercel env pull --yes --environment=production /dev/stdout",
        "heroku config --shell -a myapp",
        "fly secrets list -a myapp",
        "doppler secrets download --no-file --format env --project myapp --config prd",
        "op inject -i .env.production.tpl",
        "aws ssm get-parameters-by-path --path /myapp/production/ --with-decryption --output json",
    ] {
        assert!(calls.lines().any(|l| l == call), "{call} not run: {calls}");
    }
    // Live keys in every production environment, both variables read: nothing to report.
    assert_eq!(rule_entities(&v), Vec::<(String, String)>::new(), "{}", serde_json::to_string_pretty(&v["notes"]).unwrap());
    let rows = v["scope"]["matrix"]["rows"].as_array().unwrap();
    let row = rows.iter().find(|r| r["variable"] == "STRIPE_SECRET_KEY").unwrap();
    for cell in row["cells"].as_array().unwrap() {
        let env = cell["environment"].as_str().unwrap();
        let want = if env == "fly" { ("declared", None) } else { ("set", Some("live")) };
        assert_eq!((cell["status"].as_str().unwrap(), cell["mode"].as_str()), want, "{env}: {cell}");
    }
    assert!(v["notes"].to_string().contains("fly: command `fly secrets list -a myapp` lists names only"), "{}", v["notes"]);
    assert!(!v.to_string().contains(&sk) && !v.to_string().contains(&wh), "no key in the report");

    // A variable the tool lacks is KEY006 there, fly included (presence is judged).
    std::fs::write(bin.path().join("fly"), "#!/bin/sh\nprintf 'NAME\\tDIGEST\\tCREATED AT\\nSTRIPE_SECRET_KEY\\tab12\\t2024-01-01\\n'\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_billguard"))
        .current_dir(repo.path())
        .args(["check", "keys", "--format", "json", "--env", "fly"])
        .env("PATH", format!("{}:{}", bin.path().display(), std::env::var("PATH").unwrap_or_default()))
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rule_entities(&v), [("KEY006".to_string(), "env:fly/STRIPE_WEBHOOK_SECRET".to_string())]);
}

#[test]
fn from_process_judges_what_the_ci_job_exposes_and_unknown_sources_are_errors() {
    let repo = tempfile::tempdir().unwrap();
    std::fs::write(repo.path().join("billing.py"), "stripe.api_key = os.environ[\"STRIPE_SECRET_KEY\"]\n").unwrap();
    std::fs::write(repo.path().join("billguard.toml"), "[keys.environments.production]\nfrom = \"process\"\n").unwrap();
    let test_key = fake_key("sk_test_");
    let out = Command::new(env!("CARGO_BIN_EXE_billguard"))
        .current_dir(repo.path())
        .args(["check", "keys", "--format", "json"])
        .env("STRIPE_SECRET_KEY", &test_key)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rule_entities(&v), [("KEY001".to_string(), "env:production/STRIPE_SECRET_KEY".to_string())]);
    std::fs::write(repo.path().join("billguard.toml"), "[keys.environments.production]\nfrom = \"vault\"\n").unwrap();
    let out = billguard(repo.path(), &["check", "keys"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("from = \"vault\" is not known"), "{}", String::from_utf8_lossy(&out.stderr));
}

/// Config libraries read the environment too: django-environ, viper with AutomaticEnv;
/// Rails' encrypted credentials cannot be read and a note says so.
#[test]
fn config_library_reads_are_judged_and_encrypted_credentials_are_named() {
    let repo = tempfile::tempdir().unwrap();
    let w = |rel: &str, text: &str| {
        let p = repo.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    w("app/settings.py", "import environ\nenv = environ.Env()\nSTRIPE_SECRET_KEY = env(\"STRIPE_SECRET_KEY\")\n");
    w("cmd/config.go", "func init() {\n\tviper.SetEnvKeyReplacer(strings.NewReplacer(\".\", \"_\"))\n\tviper.AutomaticEnv()\n}\n");
    w("billing/stripe.go", "func key() string { return viper.GetString(\"stripe.webhook_secret\") }\n");
    w("config/initializers/stripe.rb", "Stripe.api_key = Rails.application.credentials.stripe[:secret_key]\n");
    w(".env.production", "OTHER=1\n");
    let (v, _) = check_keys(repo.path(), &[]);
    let mut got = rule_entities(&v);
    got.sort();
    assert_eq!(
        got,
        [("KEY006".to_string(), "env:production/STRIPE_SECRET_KEY".to_string()), ("KEY006".to_string(), "env:production/STRIPE_WEBHOOK_SECRET".to_string())]
    );
    let notes = v["notes"].to_string();
    assert!(notes.contains("Rails' encrypted credentials (config/initializers/stripe.rb:1)"), "{notes}");
}
