//! The CI surfaces shipped at the repo root: `action.yml` (a composite GitHub
//! Action) and `.pre-commit-hooks.yaml`. Both are parsed, and the commands they
//! run are run for real, with the built binary first on PATH, in fixture repos.

mod support;

#[path = "support/git.rs"]
#[allow(dead_code)]
mod git_support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use git_support::git;
use serde_json::Value;
use support::{crate_root, materialize};

fn yaml(file: &str) -> serde_norway::Value {
    let text = std::fs::read_to_string(crate_root().join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
    serde_norway::from_str(&text).unwrap_or_else(|e| panic!("{file} is not valid YAML: {e}"))
}

fn str_of<'a>(v: &'a serde_norway::Value, key: &str) -> &'a str {
    v.get(key).and_then(|x| x.as_str()).unwrap_or_else(|| panic!("`{key}` missing or not a string in {v:?}"))
}

/// PATH with the directory of the binary under test first, as `cargo install` would leave it.
fn path_with_billguard() -> String {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_billguard"));
    format!("{}:{}", bin.parent().unwrap().display(), std::env::var("PATH").unwrap_or_default())
}

/// Runs a shell command line (a hook's entry, an action step's script) in `dir`.
fn shell(dir: &Path, script: &str, env: &[(&str, String)]) -> Output {
    let mut cmd = Command::new("bash");
    cmd.arg("-c").arg(script).current_dir(dir).env("PATH", path_with_billguard()).env_remove("GITHUB_BASE_REF");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run bash")
}

fn output_text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

// ---------------------------------------------------------------- pre-commit

fn hook(id: &str) -> serde_norway::Value {
    let hooks = yaml(".pre-commit-hooks.yaml");
    let list = hooks.as_sequence().expect(".pre-commit-hooks.yaml is a list of hooks");
    list.iter().find(|h| h.get("id").and_then(|i| i.as_str()) == Some(id)).unwrap_or_else(|| panic!("no hook {id}")).clone()
}

#[test]
fn pre_commit_hooks_are_well_formed() {
    let hooks = yaml(".pre-commit-hooks.yaml");
    let list = hooks.as_sequence().expect("a list of hooks");
    let ids: Vec<_> = list.iter().map(|h| str_of(h, "id")).collect();
    assert_eq!(ids, ["billguard-webhook", "billguard-keys"]);
    for h in list {
        // pre-commit requires id, name, entry and language.
        for key in ["id", "name", "entry", "language"] {
            assert!(!str_of(h, key).is_empty(), "{key} empty in {h:?}");
        }
        assert_eq!(str_of(h, "language"), "rust", "built from this repository with cargo");
        assert_eq!(h.get("pass_filenames").and_then(|v| v.as_bool()), Some(false), "billguard reads the repo, not file arguments");
        assert!(str_of(h, "entry").contains("billguard check "), "{h:?}");
    }
    assert!(str_of(&hook("billguard-webhook"), "entry").contains("git diff --cached"));
}

/// A git repo whose main commit holds a fixture's `before.js` as the webhook
/// handler, with its `after.js` staged on top.
fn staged_webhook_change(fixture: &str) -> tempfile::TempDir {
    let repo = tempfile::tempdir().unwrap();
    let dir = crate_root().join("fixtures/webhook").join(fixture);
    let handler = repo.path().join("routes/webhook.js");
    std::fs::create_dir_all(handler.parent().unwrap()).unwrap();
    std::fs::write(&handler, std::fs::read(dir.join("before.js")).unwrap()).unwrap();
    git(repo.path(), &["init", "-q"]);
    git(repo.path(), &["add", "-A"]);
    git(repo.path(), &["commit", "-qm", "base"]);
    std::fs::write(&handler, std::fs::read(dir.join("after.js")).unwrap()).unwrap();
    git(repo.path(), &["add", "-A"]);
    repo
}

#[test]
fn the_webhook_hook_reviews_the_staged_diff() {
    let entry = str_of(&hook("billguard-webhook"), "entry").to_string();
    let bad = staged_webhook_change("js-wh006-deleted-dropped");
    let out = shell(bad.path(), &entry, &[]);
    let text = output_text(&out);
    assert_eq!(out.status.code(), Some(1), "a high finding fails the commit: {text}");
    assert!(text.contains("WH006") && text.contains("diff_webhook_handler"), "{text}");

    // Unstaged edits are not the commit's: once the change is unstaged, nothing is reviewed.
    git(bad.path(), &["reset", "-q"]);
    let out = shell(bad.path(), &entry, &[]);
    assert_eq!(out.status.code(), Some(0), "nothing staged: {}", output_text(&out));

    let safe = staged_webhook_change("js-safe-extract");
    let out = shell(safe.path(), &entry, &[]);
    assert_eq!(out.status.code(), Some(0), "a safe refactor passes: {}", output_text(&out));
}

#[test]
fn the_keys_hook_runs_the_key_check() {
    let entry = str_of(&hook("billguard-keys"), "entry").to_string();
    let bad = materialize(&crate_root().join("fixtures/keys/test-keys-in-production/repo"), true);
    let out = shell(bad.path(), &entry, &[]);
    let text = output_text(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("KEY001"), "{text}");
    for key in &bad.keys {
        assert!(!text.contains(key.as_str()), "a key reached the hook's output");
    }
    let good = materialize(&crate_root().join("fixtures/keys/healthy/repo"), true);
    let out = shell(good.path(), &entry, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
}

// ---------------------------------------------------------------- action.yml

fn step<'a>(action: &'a serde_norway::Value, name: &str) -> &'a serde_norway::Value {
    let steps = action["runs"]["steps"].as_sequence().expect("runs.steps");
    steps.iter().find(|s| s.get("name").and_then(|n| n.as_str()) == Some(name)).unwrap_or_else(|| panic!("no step named {name}"))
}

#[test]
fn the_action_is_a_composite_that_builds_runs_uploads_and_summarises() {
    let action = yaml("action.yml");
    assert!(!str_of(&action, "name").is_empty() && !str_of(&action, "description").is_empty());
    assert_eq!(str_of(&action["runs"], "using"), "composite");
    for input in ["args", "config", "base", "fail-on", "working-directory", "version"] {
        assert!(action["inputs"].get(input).is_some(), "input {input} missing");
    }
    assert_eq!(str_of(&action["inputs"]["fail-on"], "default"), "high");
    let steps = action["runs"]["steps"].as_sequence().unwrap();
    for s in steps {
        // A composite action's run steps must name their shell.
        if s.get("run").is_some() {
            assert_eq!(str_of(s, "shell"), "bash", "{s:?}");
        }
    }
    let build = step(&action, "Build billguard");
    assert_eq!(str_of(&build["env"], "ACTION_PATH"), "${{ github.action_path }}");
    assert!(str_of(build, "run").contains("cargo install --locked --force --path \"$ACTION_PATH\""));
    assert!(steps.iter().any(|s| s.get("uses").and_then(|u| u.as_str()) == Some("actions/cache@v4")));
    let upload = step(&action, "Upload SARIF to code scanning");
    assert!(str_of(upload, "uses").starts_with("github/codeql-action/upload-sarif@"));
    let run = str_of(step(&action, "Run billguard check all"), "run");
    assert!(run.contains("billguard check all") && run.contains("--format sarif --report-file") && run.contains("--format markdown"));
    assert!(run.contains("GITHUB_STEP_SUMMARY"));
}

/// A git repo with the revenue-leak access fixtures under fx/.
fn action_repo() -> tempfile::TempDir {
    let repo = tempfile::tempdir().unwrap();
    support::copy_dir(&crate_root().join("fixtures/access/revenue-leak"), &repo.path().join("fx"));
    git(repo.path(), &["init", "-q"]);
    git(repo.path(), &["add", "-A"]);
    git(repo.path(), &["commit", "-qm", "base"]);
    repo
}

struct ActionRun {
    out: Output,
    outputs: String,
    summary: String,
}

/// Runs the action's "Run billguard check all" step as GitHub would: its script
/// under bash with the step's env, and GITHUB_OUTPUT / GITHUB_STEP_SUMMARY files.
fn run_step(repo: &Path, inputs: &[(&str, &str)]) -> (ActionRun, PathBuf) {
    let action = yaml("action.yml");
    let script = str_of(step(&action, "Run billguard check all"), "run").to_string();
    let tmp = repo.join(".runner");
    std::fs::create_dir_all(&tmp).unwrap();
    let (outputs, summary) = (tmp.join("output"), tmp.join("summary"));
    std::fs::write(&outputs, "").unwrap();
    std::fs::write(&summary, "").unwrap();
    let get = |k: &str| inputs.iter().find(|(n, _)| *n == k).map_or(String::new(), |(_, v)| v.to_string());
    let env = [
        ("ARGS", get("args")),
        ("CONFIG", get("config")),
        ("BASE", get("base")),
        ("FAIL_ON", if get("fail-on").is_empty() { "high".into() } else { get("fail-on") }),
        ("OUT", tmp.join("billguard").display().to_string()),
        ("GITHUB_OUTPUT", outputs.display().to_string()),
        ("GITHUB_STEP_SUMMARY", summary.display().to_string()),
    ];
    let out = shell(repo, &format!("set -eo pipefail\n{script}"), &env);
    let run = ActionRun { out, outputs: std::fs::read_to_string(&outputs).unwrap(), summary: std::fs::read_to_string(&summary).unwrap() };
    (run, tmp.join("billguard"))
}

#[test]
fn the_action_step_runs_check_all_and_writes_sarif_summary_and_exit_code() {
    let repo = action_repo();
    let (run, out_dir) = run_step(repo.path(), &[("args", "--fixtures fx")]);
    assert!(run.out.status.success(), "the step itself succeeds; the exit code travels as an output: {}", output_text(&run.out));
    assert!(run.outputs.contains("exit-code=1\n"), "{}", run.outputs);
    assert!(run.outputs.contains("sarif-file="), "{}", run.outputs);
    let sarif: Value = serde_json::from_str(&std::fs::read_to_string(out_dir.join("billguard.sarif")).unwrap()).expect("SARIF is JSON");
    assert_eq!(sarif["version"], "2.1.0");
    assert_eq!(sarif["runs"].as_array().unwrap().len(), 1, "one run with every check's findings");
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert!(results.iter().any(|r| r["ruleId"] == "ACC001" && r["properties"]["check"] == "check_access_contract"));
    let report: Value = serde_json::from_str(&std::fs::read_to_string(out_dir.join("billguard.json")).unwrap()).unwrap();
    assert_eq!(report["tool"], "check_all");
    assert_eq!(report["sections"]["access"]["status"], "ran");
    assert!(run.summary.contains("## billguard `check_all`: **fail**"), "{}", run.summary);

    // The exit step turns billguard's code into the job's result, unless fail-on is never.
    let action = yaml("action.yml");
    let exit = str_of(step(&action, "Exit with billguard's code"), "run").to_string();
    let code = |code: &str, fail_on: &str| shell(repo.path(), &exit, &[("CODE", code.into()), ("FAIL_ON", fail_on.into())]).status.code();
    assert_eq!(code("1", "high"), Some(1));
    assert_eq!(code("0", "high"), Some(0));
    assert_eq!(code("1", "never"), Some(0));
    assert_eq!(code("", "high"), Some(2), "no exit code recorded: the run step broke");
    let check = str_of(step(&action, "Check the inputs"), "run").to_string();
    assert_eq!(shell(repo.path(), &check, &[("FAIL_ON", "sometimes".into())]).status.code(), Some(2));
}

#[test]
fn the_action_step_passes_config_base_and_strictness() {
    let repo = action_repo();
    std::fs::write(repo.path().join("other.toml"), "[access]\ngranting_statuses = [\"active\", \"trialing\"]\n").unwrap();
    // fail-on any: --strict; a base that exists; a config file.
    let (run, out_dir) = run_step(repo.path(), &[("fail-on", "any"), ("base", "HEAD"), ("config", "other.toml")]);
    assert!(run.out.status.success(), "{}", output_text(&run.out));
    let report: Value = serde_json::from_str(&std::fs::read_to_string(out_dir.join("billguard.json")).unwrap()).unwrap();
    assert_eq!(report["sections"]["webhook"]["status"], "ran", "{}", report["sections"]["webhook"]);
    assert!(report["sections"]["webhook"]["report"]["scope"]["base"].as_str().unwrap().starts_with("HEAD"));
    // No fixtures and no billing key: access is skipped, the rest pass, so the code is 0.
    assert_eq!(report["sections"]["access"]["status"], "skipped");
    assert!(run.outputs.contains("exit-code=0\n"), "{}", run.outputs);

    // A base that does not exist is an error the exit code reports (2).
    let (run, _) = run_step(repo.path(), &[("base", "no-such-branch")]);
    assert!(run.outputs.contains("exit-code=2\n"), "{}\n{}", run.outputs, output_text(&run.out));
}

// ---------------------------------------------------------------- nightly monitor

/// The step of the monitor workflow whose name is `name`.
fn monitor_step(workflow: &serde_norway::Value, name: &str) -> serde_norway::Value {
    let steps = workflow["jobs"]["drift"]["steps"].as_sequence().expect("steps");
    steps.iter().find(|s| s.get("name").and_then(|n| n.as_str()) == Some(name)).unwrap_or_else(|| panic!("no step {name}")).clone()
}

#[test]
fn init_monitor_writes_a_nightly_workflow_that_keeps_one_drift_issue() {
    let repo = tempfile::tempdir().unwrap();
    std::fs::write(repo.path().join("billguard.toml"), "[billing]\nsecret_env = \"STRIPE_RESTRICTED_KEY\"\n[database]\nurl_env = \"APP_DATABASE_URL\"\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_billguard")).current_dir(repo.path()).args(["init", "--monitor"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
    assert!(output_text(&out).contains("created") && output_text(&out).contains("STRIPE_RESTRICTED_KEY, APP_DATABASE_URL"), "{}", output_text(&out));
    let text = std::fs::read_to_string(repo.path().join(".github/workflows/billguard-monitor.yml")).unwrap();
    let w: serde_norway::Value = serde_norway::from_str(&text).unwrap();
    assert_eq!(w["on"]["schedule"][0]["cron"].as_str(), Some("17 3 * * *"));
    assert_eq!(w["permissions"]["issues"].as_str(), Some("write"));
    let check = monitor_step(&w, "Check the access contract");
    assert_eq!(check["env"]["STRIPE_RESTRICTED_KEY"].as_str(), Some("${{ secrets.STRIPE_RESTRICTED_KEY }}"));
    assert_eq!(check["env"]["APP_DATABASE_URL"].as_str(), Some("${{ secrets.APP_DATABASE_URL }}"));
    let again = Command::new(env!("CARGO_BIN_EXE_billguard")).current_dir(repo.path()).args(["init", "--monitor"]).output().unwrap();
    assert!(output_text(&again).contains("unchanged"), "{}", output_text(&again));

    // The check step, run with the real binary: its exit code reaches the step output (2: no key).
    let script = check["run"].as_str().unwrap();
    let output = repo.path().join("gh-output");
    let summary = repo.path().join("gh-summary");
    let out = shell(repo.path(), script, &[("GITHUB_OUTPUT", output.display().to_string()), ("GITHUB_STEP_SUMMARY", summary.display().to_string())]);
    assert!(out.status.success(), "{}", output_text(&out));
    assert_eq!(std::fs::read_to_string(&output).unwrap().trim(), "code=2");

    // The issue step with a stand-in `gh` that logs its calls.
    let issue = monitor_step(&w, "Keep the drift issue in step");
    let script = issue["run"].as_str().unwrap();
    let bin = tempfile::tempdir().unwrap();
    let log = bin.path().join("gh.log");
    let gh = bin.path().join("gh");
    std::fs::write(&gh, format!("#!/bin/sh\necho \"gh $*\" >> '{}'\nif [ \"$1 $2\" = \"issue list\" ]; then echo \"$OPEN\"; fi\n", log.display())).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&gh, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(repo.path().join("billguard-report.md"), "# billguard\nACC001 x1\n").unwrap();
    let run_issue_step = |code: &str, open: &str| -> (Option<i32>, String) {
        let _ = std::fs::remove_file(&log);
        let out = Command::new("bash")
            .arg("-c")
            .arg(script)
            .current_dir(repo.path())
            .env("PATH", format!("{}:{}", bin.path().display(), std::env::var("PATH").unwrap_or_default()))
            .env("CODE", code)
            .env("OPEN", open)
            .env("RUN_URL", "https://github.example/run/1")
            .output()
            .unwrap();
        (out.status.code(), std::fs::read_to_string(&log).unwrap_or_default())
    };
    let (code, calls) = run_issue_step("1", "");
    assert_eq!(code, Some(0));
    assert!(calls.contains("gh label create billguard-drift") && calls.contains("gh issue create --title billguard: billing and app access disagree --label billguard-drift --body-file billguard-report.md"), "{calls}");
    let (_, calls) = run_issue_step("1", "7");
    assert!(calls.contains("gh issue edit 7 --body-file billguard-report.md") && !calls.contains("issue create"), "{calls}");
    let (_, calls) = run_issue_step("0", "7");
    assert!(calls.contains("gh issue close 7 --comment"), "{calls}");
    let (_, calls) = run_issue_step("0", "");
    assert!(!calls.contains("close") && !calls.contains("create") && !calls.contains("edit"), "{calls}");
    let (code, calls) = run_issue_step("2", "7");
    assert_eq!(code, Some(2), "an error fails the job");
    assert!(!calls.contains("close") && !calls.contains("edit"), "{calls}");
}
