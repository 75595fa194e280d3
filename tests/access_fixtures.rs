//! Every scenario under `fixtures/access/` runs through the real access check
//! and must give exactly the verdict and (rule, entity) pairs of its
//! `expected.json`:
//!
//! ```json
//! {"about": "...", "verdict": "pass|warn|fail",
//!  "findings": [["ACC001", "user:usr_x"], ...],
//!  "quiet": ["ACC002"]}
//! ```
//!
//! `quiet` (optional) names the rules the scenario is built to keep quiet:
//! it holds a case where a naive implementation would fire them. Across all
//! scenarios every ACC rule must both fire somewhere and be kept quiet somewhere.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use billguard::access::{self, AccessRequest};
use serde_json::Value;

const RULES: [&str; 10] = ["ACC001", "ACC002", "ACC003", "ACC004", "ACC005", "ACC006", "ACC007", "ACC008", "ACC009", "ACC010"];
const MIN_SCENARIOS: usize = 15;

type Pair = (String, String);

fn crate_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every scenario directory, sorted, as paths relative to the crate root.
fn scenarios() -> Vec<PathBuf> {
    let base = crate_root().join("fixtures").join("access");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&base)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", base.display()))
        .map(|entry| entry.expect("readable directory entry").path())
        .filter(|p| p.is_dir())
        .map(|p| p.strip_prefix(crate_root()).expect("inside the crate").to_path_buf())
        .collect();
    dirs.sort();
    assert!(
        dirs.len() >= MIN_SCENARIOS,
        "expected at least {MIN_SCENARIOS} scenarios under {}, found {}: {dirs:?}",
        base.display(),
        dirs.len()
    );
    dirs
}

fn name(dir: &Path) -> String {
    dir.file_name().expect("a named directory").to_string_lossy().into_owned()
}

struct Expected {
    verdict: String,
    findings: BTreeSet<Pair>,
    quiet: BTreeSet<String>,
}

fn expected(dir: &Path) -> Expected {
    let path = crate_root().join(dir).join("expected.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let json: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()));
    let verdict = json["verdict"].as_str().unwrap_or_else(|| panic!("{}: `verdict` must be a string", path.display()));
    assert!(["pass", "warn", "fail"].contains(&verdict), "{}: verdict {verdict:?} is not pass|warn|fail", path.display());
    let mut findings = BTreeSet::new();
    for pair in json["findings"].as_array().unwrap_or_else(|| panic!("{}: `findings` must be an array", path.display())) {
        let pair = pair.as_array().filter(|p| p.len() == 2).and_then(|p| Some((p[0].as_str()?, p[1].as_str()?)));
        let (rule, entity) = pair.unwrap_or_else(|| panic!("{}: each finding must be [\"RULE\", \"entity\"]", path.display()));
        assert!(RULES.contains(&rule), "{}: unknown rule {rule}", path.display());
        assert!(findings.insert((rule.to_string(), entity.to_string())), "{}: ({rule}, {entity}) listed twice", path.display());
    }
    let mut quiet = BTreeSet::new();
    if let Some(list) = json.get("quiet") {
        for rule in list.as_array().unwrap_or_else(|| panic!("{}: `quiet` must be an array", path.display())) {
            let rule = rule.as_str().unwrap_or_else(|| panic!("{}: `quiet` holds rule codes", path.display()));
            assert!(RULES.contains(&rule), "{}: unknown rule {rule} in `quiet`", path.display());
            quiet.insert(rule.to_string());
        }
    }
    Expected { verdict: verdict.to_string(), findings, quiet }
}

/// What the check reported for a scenario.
struct Actual {
    verdict: String,
    findings: BTreeSet<Pair>,
    /// rule/entity -> message, to explain a mismatch.
    messages: BTreeMap<Pair, String>,
    /// Pairs reported more than once.
    repeated: Vec<Pair>,
    notes: Vec<String>,
}

fn run(dir: &Path) -> Result<Actual, String> {
    let layout = crate_root().join(dir);
    let has_subs = layout.join("stripe/subscriptions.json").is_file() || layout.join("paddle/subscriptions.json").is_file();
    if !has_subs || !layout.join("db/users.json").is_file() {
        return Err("needs stripe/subscriptions.json or paddle/subscriptions.json, and db/users.json".into());
    }
    let req = AccessRequest { repo: crate_root(), fixtures_dir: Some(dir.to_path_buf()), config: None, now: access::now(), map_files: true, no_baseline: false };
    let report = access::check_blocking(&req).map_err(|e| format!("the check failed: {e}"))?;
    let verdict = serde_json::to_value(report.verdict).expect("verdict serializes");
    let mut findings = BTreeSet::new();
    let mut messages = BTreeMap::new();
    let mut repeated = Vec::new();
    for f in &report.findings {
        let pair = (f.rule.to_string(), f.entity.clone());
        if !findings.insert(pair.clone()) {
            repeated.push(pair.clone());
        }
        messages.insert(pair, f.message.clone());
    }
    if report.omitted > 0 {
        return Err(format!("{} findings were omitted from the report; the test needs all of them", report.omitted));
    }
    Ok(Actual {
        verdict: verdict.as_str().unwrap_or("?").to_string(),
        findings,
        messages,
        repeated,
        notes: report.notes.clone(),
    })
}

/// A readable account of how `actual` differs from `expected`, or None.
fn diff(expected: &Expected, actual: &Actual) -> Option<String> {
    let missing: Vec<&Pair> = expected.findings.difference(&actual.findings).collect();
    let unexpected: Vec<&Pair> = actual.findings.difference(&expected.findings).collect();
    let quiet_broken: Vec<&Pair> = actual.findings.iter().filter(|(rule, _)| expected.quiet.contains(rule)).collect();
    if missing.is_empty() && unexpected.is_empty() && quiet_broken.is_empty() && expected.verdict == actual.verdict {
        return None;
    }
    let mut out = String::new();
    if expected.verdict != actual.verdict {
        out.push_str(&format!("    verdict: expected {}, got {}\n", expected.verdict, actual.verdict));
    }
    for (rule, entity) in &missing {
        out.push_str(&format!("    - missing    {rule} {entity}\n"));
    }
    for pair in &unexpected {
        out.push_str(&format!("    + unexpected {} {}: {}\n", pair.0, pair.1, actual.messages[*pair]));
    }
    for (rule, entity) in &quiet_broken {
        out.push_str(&format!("    ! {rule} fired for {entity} in a scenario that must keep {rule} quiet\n"));
    }
    for note in &actual.notes {
        out.push_str(&format!("    note: {note}\n"));
    }
    Some(out)
}

#[test]
fn every_scenario_gives_exactly_its_expected_findings() {
    let mut failures = Vec::new();
    let mut passed = 0;
    for dir in scenarios() {
        let expected = expected(&dir);
        match run(&dir) {
            Err(e) => failures.push(format!("  {}: {e}", name(&dir))),
            Ok(actual) => {
                if !actual.repeated.is_empty() {
                    eprintln!("note: {} reported the same (rule, entity) more than once: {:?}", name(&dir), actual.repeated);
                }
                match diff(&expected, &actual) {
                    Some(d) => failures.push(format!("  {}:\n{d}", name(&dir))),
                    None => passed += 1,
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} access scenarios disagree with their expected.json:\n{}",
        failures.len(),
        failures.len() + passed,
        failures.join("\n")
    );
}

#[test]
fn scenarios_cover_every_rule_firing_and_kept_quiet() {
    let mut fired: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut quiet: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut problems = Vec::new();
    for dir in scenarios() {
        let exp = expected(&dir);
        for (rule, _) in &exp.findings {
            fired.entry(rule.clone()).or_default().insert(name(&dir));
        }
        for rule in &exp.quiet {
            quiet.entry(rule.clone()).or_default().insert(name(&dir));
            if exp.findings.iter().any(|(r, _)| r == rule) {
                problems.push(format!("{}: expected.json lists {rule} both as a finding and as quiet", name(&dir)));
            }
        }
        // The scenario's quiet rules must stay quiet in the real check, too.
        if !exp.quiet.is_empty() {
            match run(&dir) {
                Err(e) => problems.push(format!("{}: {e}", name(&dir))),
                Ok(actual) => {
                    for (rule, entity) in actual.findings.iter().filter(|(r, _)| exp.quiet.contains(r)) {
                        problems.push(format!("{}: {rule} must stay quiet but fired for {entity}", name(&dir)));
                    }
                }
            }
        }
    }
    for rule in RULES {
        if !fired.contains_key(rule) {
            problems.push(format!("no scenario's expected.json has {rule} firing"));
        }
        if !quiet.contains_key(rule) {
            problems.push(format!("no scenario lists {rule} in `quiet` (a case where a naive check would fire it)"));
        }
    }
    let table: Vec<String> = RULES
        .iter()
        .map(|r| {
            let list = |m: &BTreeMap<String, BTreeSet<String>>| {
                m.get(*r).map(|v| v.iter().cloned().collect::<Vec<_>>().join(", ")).unwrap_or_else(|| "-".into())
            };
            format!("  {r}  fires: {}\n          quiet: {}", list(&fired), list(&quiet))
        })
        .collect();
    eprintln!("rule coverage:\n{}", table.join("\n"));
    assert!(problems.is_empty(), "rule coverage problems:\n  {}", problems.join("\n  "));
}

fn cli_check_access(fixtures: &str) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_billguard"))
        .current_dir(crate_root())
        .args(["check", "access", "--fixtures", fixtures, "--format", "json"])
        .output()
        .expect("the billguard binary runs");
    (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn cli_revenue_leak_exits_1_with_a_fail_report() {
    let (code, stdout, stderr) = cli_check_access("fixtures/access/revenue-leak");
    assert_eq!(code, Some(1), "exit code; stderr:\n{stderr}\nstdout:\n{stdout}");
    let report: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{stdout}"));
    assert_eq!(report["verdict"], "fail", "{report:#}");
    assert_eq!(report["tool"], "check_access_contract", "{report:#}");
    let reported: BTreeSet<Pair> = report["findings"]
        .as_array()
        .expect("findings array")
        .iter()
        .map(|f| (f["rule"].as_str().unwrap_or("?").to_string(), f["entity"].as_str().unwrap_or("?").to_string()))
        .collect();
    assert_eq!(reported, expected(Path::new("fixtures/access/revenue-leak")).findings, "CLI findings");
}

#[test]
fn cli_healthy_exits_0_with_a_pass_report() {
    let (code, stdout, stderr) = cli_check_access("fixtures/access/healthy");
    assert_eq!(code, Some(0), "exit code; stderr:\n{stderr}\nstdout:\n{stdout}");
    let report: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{stdout}"));
    assert_eq!(report["verdict"], "pass", "{report:#}");
    assert_eq!(report["findings"], serde_json::json!([]), "{report:#}");
}
