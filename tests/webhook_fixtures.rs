//! Runs every case in fixtures/webhook/: a handler before and after a change,
//! and the rules the change must trigger. Prints recall per rule and the
//! false-alarm rate on safe refactors; fails below 100% recall or on any
//! high finding for a safe case.

use std::collections::BTreeMap;
use std::path::PathBuf;

use billguard::report::Severity;
use billguard::webhook::review_texts;

struct Case {
    name: String,
    before: String,
    after: String,
    path: String,
    rules: Vec<String>,
    safe: bool,
}

fn cases() -> Vec<Case> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/webhook");
    let mut out = Vec::new();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root).expect("fixtures/webhook").map(|e| e.unwrap().path()).filter(|p| p.is_dir()).collect();
    dirs.sort();
    for dir in dirs {
        let file = |stem: &str| -> (String, String) {
            let entry = std::fs::read_dir(&dir)
                .unwrap()
                .map(|e| e.unwrap().path())
                .find(|p| p.file_stem().is_some_and(|s| s == stem))
                .unwrap_or_else(|| panic!("{}: no {stem}.*", dir.display()));
            (std::fs::read_to_string(&entry).unwrap(), entry.file_name().unwrap().to_string_lossy().into_owned())
        };
        let (before, _) = file("before");
        let (after, after_name) = file("after");
        let expected: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap()).unwrap();
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        out.push(Case {
            path: format!("{name}/{after_name}"),
            name,
            before,
            after,
            rules: expected["rules"].as_array().unwrap().iter().map(|r| r.as_str().unwrap().to_string()).collect(),
            safe: expected["safe"].as_bool().unwrap(),
        });
    }
    out
}

#[test]
fn webhook_fixture_cases() {
    let cases = cases();
    assert!(cases.len() >= 40, "at least 40 cases, found {}", cases.len());
    let mut expected: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut failures = Vec::new();
    let (mut safe, mut false_alarms) = (0usize, Vec::new());
    let mut extras = Vec::new();
    for c in &cases {
        let findings = review_texts(&c.path, Some(&c.before), &c.after).unwrap();
        let got: Vec<&str> = findings.iter().map(|f| f.rule.as_str()).collect();
        for r in &c.rules {
            let e = expected.entry(r.clone()).or_default();
            e.0 += 1;
            if got.contains(&r.as_str()) {
                e.1 += 1;
            } else {
                failures.push(format!("{}: expected {r}, got {got:?}", c.name));
            }
        }
        if c.safe {
            safe += 1;
            let high: Vec<String> = findings.iter().filter(|f| f.severity == Severity::High).map(|f| format!("{} {}", f.rule, f.message)).collect();
            if !high.is_empty() {
                false_alarms.push(format!("{}: {high:?}", c.name));
            }
        } else {
            let more: Vec<&str> = got.iter().copied().filter(|g| !c.rules.iter().any(|r| r == g)).collect();
            if !more.is_empty() {
                extras.push(format!("{}: also {more:?}", c.name));
            }
        }
    }
    println!("\nwebhook fixtures: {} cases ({} bug, {} safe)", cases.len(), cases.len() - safe, safe);
    println!("{:<8} {:>6} {:>8} {:>8}", "rule", "cases", "found", "recall");
    for (rule, (n, found)) in &expected {
        println!("{rule:<8} {n:>6} {found:>8} {:>7.0}%", 100.0 * *found as f64 / *n as f64);
    }
    println!("false alarms (high findings on safe refactors): {}/{} = {:.0}%", false_alarms.len(), safe, 100.0 * false_alarms.len() as f64 / safe.max(1) as f64);
    for e in &extras {
        println!("  extra: {e}");
    }
    for f in &false_alarms {
        println!("  FALSE ALARM {f}");
    }
    for f in &failures {
        println!("  MISSED {f}");
    }
    let all_rules: Vec<String> = (1..=18).map(|i| format!("WH{i:03}")).collect();
    for r in &all_rules {
        assert!(expected.contains_key(r), "no bug case for {r}");
    }
    assert!(failures.is_empty() && false_alarms.is_empty(), "{} missed, {} false alarms", failures.len(), false_alarms.len());
}

