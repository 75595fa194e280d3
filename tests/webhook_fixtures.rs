//! Runs every case in fixtures/webhook/: a handler before and after a change,
//! and the rules the change must trigger. Prints recall per rule, per language
//! (and per language and rule) and the false-alarm rate on safe refactors;
//! fails below 100% recall, on any high finding for a safe case, or when a
//! language lacks a bug case for a rule.

use std::collections::BTreeMap;
use std::path::PathBuf;

use billguard::report::Severity;
use billguard::webhook::review_texts;

struct Case {
    name: String,
    lang: &'static str,
    before: String,
    after: String,
    path: String,
    rules: Vec<String>,
    safe: bool,
}

/// The language of a case, from its name's prefix (`rb-wh004-...`).
fn language(name: &str) -> &'static str {
    match name.split('-').next().unwrap_or("") {
        "ts" => "typescript",
        "js" => "javascript",
        "py" => "python",
        "rb" => "ruby",
        "go" => "go",
        "php" => "php",
        "rs" => "rust",
        "ex" => "elixir",
        other => panic!("{name}: unknown language prefix {other}"),
    }
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
            lang: language(&name),
            name,
            before,
            after,
            rules: expected["rules"].as_array().unwrap().iter().map(|r| r.as_str().unwrap().to_string()).collect(),
            safe: expected["safe"].as_bool().unwrap(),
        });
    }
    out
}

#[derive(Default)]
struct Tally {
    bug: usize,
    safe: usize,
    expected: usize,
    found: usize,
    false_alarms: usize,
}

#[test]
fn webhook_fixture_cases() {
    let cases = cases();
    assert!(cases.len() >= 40, "at least 40 cases, found {}", cases.len());
    let mut by_rule: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut by_lang: BTreeMap<&str, Tally> = BTreeMap::new();
    let mut matrix: BTreeMap<(&str, String), (usize, usize)> = BTreeMap::new();
    let mut failures = Vec::new();
    let (mut safe, mut false_alarms) = (0usize, Vec::new());
    let mut extras = Vec::new();
    for c in &cases {
        let findings = review_texts(&c.path, Some(&c.before), &c.after).unwrap();
        let got: Vec<&str> = findings.iter().map(|f| &*f.rule).collect();
        let tally = by_lang.entry(c.lang).or_default();
        for r in &c.rules {
            let hit = got.contains(&r.as_str());
            for e in [by_rule.entry(r.clone()).or_default(), matrix.entry((c.lang, r.clone())).or_default()] {
                e.0 += 1;
                e.1 += usize::from(hit);
            }
            tally.expected += 1;
            tally.found += usize::from(hit);
            if !hit {
                failures.push(format!("{}: expected {r}, got {got:?}", c.name));
            }
        }
        if c.safe {
            safe += 1;
            tally.safe += 1;
            let high: Vec<String> = findings.iter().filter(|f| f.severity == Severity::High).map(|f| format!("{} {}", f.rule, f.message)).collect();
            if !high.is_empty() {
                tally.false_alarms += 1;
                false_alarms.push(format!("{}: {high:?}", c.name));
            }
        } else {
            tally.bug += 1;
            // Regressions other than the expected ones (pre-existing problems are reported as low, once).
            let more: Vec<&str> = findings
                .iter()
                .filter(|f| !c.rules.iter().any(|r| *r == f.rule) && f.evidence.get("pre_existing").is_none())
                .map(|f| &*f.rule)
                .collect();
            if !more.is_empty() {
                extras.push(format!("{}: also {more:?}", c.name));
            }
        }
    }
    let pct = |a: usize, b: usize| if b == 0 { 100.0 } else { 100.0 * a as f64 / b as f64 };
    println!("\nwebhook fixtures: {} cases ({} bug, {} safe)", cases.len(), cases.len() - safe, safe);
    println!("{:<8} {:>6} {:>8} {:>8}", "rule", "cases", "found", "recall");
    for (rule, (n, found)) in &by_rule {
        println!("{rule:<8} {n:>6} {found:>8} {:>7.0}%", pct(*found, *n));
    }
    println!("\n{:<11} {:>5} {:>5} {:>9} {:>8} {:>13}", "language", "bug", "safe", "expected", "recall", "false alarms");
    for (lang, t) in &by_lang {
        println!("{lang:<11} {:>5} {:>5} {:>9} {:>7.0}% {:>6}/{:<3} {:>3.0}%", t.bug, t.safe, t.expected, pct(t.found, t.expected), t.false_alarms, t.safe, pct(t.false_alarms, t.safe));
    }
    let langs: Vec<&str> = by_lang.keys().copied().collect();
    print!("\nrecall by language and rule (found/cases)\n{:<8}", "rule");
    for l in &langs {
        print!(" {:>10}", l);
    }
    println!();
    for rule in by_rule.keys() {
        print!("{rule:<8}");
        for l in &langs {
            match matrix.get(&(*l, rule.clone())) {
                Some((n, f)) => print!(" {:>10}", format!("{f}/{n}")),
                None => print!(" {:>10}", "-"),
            }
        }
        println!();
    }
    println!("\nfalse alarms (high findings on safe refactors): {}/{} = {:.0}%", false_alarms.len(), safe, pct(false_alarms.len(), safe));
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
        assert!(by_rule.contains_key(r), "no bug case for {r}");
    }
    // Every rule applies to every language the engine models; each has a bug case for it.
    for lang in ["ruby", "go", "php", "rust", "elixir"] {
        let t = by_lang.get(lang).unwrap_or_else(|| panic!("no {lang} cases"));
        assert!(t.bug + t.safe >= 8 && t.safe >= 2, "{lang}: at least 8 cases with safe refactors among them");
        for r in &all_rules {
            assert!(matrix.contains_key(&(lang, r.clone())), "{lang}: no bug case for {r}");
        }
    }
    assert!(failures.is_empty() && false_alarms.is_empty(), "{} missed, {} false alarms", failures.len(), false_alarms.len());
}
