//! Baselines: `billguard baseline` records the findings a repository has today
//! in `.billguard/baseline.json` (committed with the code); later runs show
//! only findings that are not in it and name the recorded ones that are gone.
//! A finding is known by its check, rule and entity, never its line, so code
//! that moves does not bring a recorded finding back.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::report::{Finding, Report};

/// Where the baseline lives, relative to the repository root.
pub const FILE: &str = ".billguard/baseline.json";
/// A baseline larger than this is refused (it is read on every run).
const MAX_BYTES: u64 = 16 << 20;
/// How many fixed findings are named one by one in the notes.
const FIXED_SHOWN: usize = 10;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Baseline {
    pub version: u32,
    /// The day it was written (YYYY-MM-DD).
    pub created: String,
    pub findings: Vec<Entry>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct Entry {
    /// The tool whose finding it is, e.g. `diff_webhook_handler`.
    pub check: String,
    pub rule: String,
    pub entity: String,
    /// The finding's message when it was recorded, for the reader of the file.
    #[serde(default)]
    pub message: String,
}

impl Entry {
    fn of(check: &str, f: &Finding) -> Entry {
        Entry { check: check.to_string(), rule: f.rule.to_string(), entity: f.entity.clone(), message: f.message.clone() }
    }
    fn key(&self) -> (&str, &str, &str) {
        (&self.check, &self.rule, &self.entity)
    }
}

/// Reads `<repo>/.billguard/baseline.json`: `Ok(None)` when there is none.
pub fn load(repo: &Path) -> Result<Option<Baseline>, String> {
    let path = repo.join(FILE);
    let Ok(meta) = std::fs::metadata(&path) else { return Ok(None) };
    if !crate::paths::resolves_inside(repo, &path) {
        return Err(format!("{FILE} resolves outside the repository (a symlink?); it was not read"));
    }
    if meta.len() > MAX_BYTES {
        return Err(format!("{FILE} is {} bytes, over the {MAX_BYTES}-byte limit; it was not read", meta.len()));
    }
    let text = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {FILE}: {e}"))?;
    let b: Baseline = serde_json::from_str(&text).map_err(|e| format!("{FILE} is not a billguard baseline ({e}); rewrite it with `billguard baseline`"))?;
    if b.version != 1 {
        return Err(format!("{FILE} has version {}, this billguard reads version 1; rewrite it with `billguard baseline`", b.version));
    }
    Ok(Some(b))
}

/// Takes the findings recorded in the baseline out of `report` (counts and
/// verdict follow) and names the recorded ones of this check that are gone,
/// among those `examined` says this run looked at.
pub fn apply<S: Serialize>(report: &mut Report<S>, repo: &Path, examined: &dyn Fn(&Entry) -> bool) {
    let baseline = match load(repo) {
        Ok(Some(b)) => b,
        Ok(None) => return,
        Err(e) => {
            report.notes.push(format!("baseline not applied: {e}"));
            return;
        }
    };
    let tool = report.tool.clone();
    let recorded: BTreeSet<(&str, &str, &str)> = baseline.findings.iter().filter(|e| e.check == tool).map(Entry::key).collect();
    if recorded.is_empty() {
        return;
    }
    let current: BTreeSet<Entry> = report.findings.iter().map(|f| Entry::of(&tool, f)).collect();
    let current_keys: BTreeSet<(&str, &str, &str)> = current.iter().map(Entry::key).collect();
    let before = report.findings.len();
    report.findings.retain(|f| !recorded.contains(&(tool.as_str(), &*f.rule, f.entity.as_str())));
    let hidden = before - report.findings.len();
    let fixed: Vec<&Entry> = baseline.findings.iter().filter(|e| e.check == tool && !current_keys.contains(&e.key()) && examined(e)).collect();
    if hidden > 0 {
        report.recount();
        report.summary.baselined = hidden;
        report.notes.push(format!("{hidden} findings recorded in {FILE} are not shown (run with --no-baseline to see them)"));
    }
    for e in fixed.iter().take(FIXED_SHOWN) {
        report.notes.push(format!("fixed since the baseline: {} on {} (remove it with `billguard baseline`)", e.rule, e.entity));
    }
    if fixed.len() > FIXED_SHOWN {
        report.notes.push(format!("… and {} more baselined findings are fixed", fixed.len() - FIXED_SHOWN));
    }
}

/// Writes the baseline of these checks' findings. Findings of checks not given
/// are kept from the existing baseline, so `billguard baseline webhook` does not
/// drop the access check's entries. Returns the file and how many entries it holds.
pub fn record(repo: &Path, checks: &[(&str, &[Finding])], today: &str) -> Result<(PathBuf, usize), String> {
    let kept: Vec<Entry> = match load(repo) {
        Ok(Some(b)) => b.findings.into_iter().filter(|e| !checks.iter().any(|(c, _)| *c == e.check)).collect(),
        Ok(None) => Vec::new(),
        Err(e) => return Err(format!("{e}; move it away to start a new baseline")),
    };
    let mut all: BTreeSet<Entry> = kept.into_iter().collect();
    for (check, findings) in checks {
        all.extend(findings.iter().map(|f| Entry::of(check, f)));
    }
    let baseline = Baseline { version: 1, created: today.to_string(), findings: all.into_iter().collect() };
    let dir = repo.join(".billguard");
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let path = repo.join(FILE);
    if path.exists() && !crate::paths::resolves_inside(repo, &path) {
        return Err(format!("{FILE} resolves outside the repository (a symlink?); not written"));
    }
    let text = serde_json::to_string_pretty(&baseline).map_err(|e| e.to_string())? + "\n";
    std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    keep_in_git(&dir)?;
    Ok((path, baseline.findings.len()))
}

/// `.billguard/` holds billguard's own reports, which git ignores; the baseline
/// is meant to be committed, so the ignore file gets an exception for it.
fn keep_in_git(dir: &Path) -> Result<(), String> {
    let ignore = dir.join(".gitignore");
    let text = std::fs::read_to_string(&ignore).unwrap_or_default();
    if text.lines().any(|l| l.trim() == "!baseline.json") {
        return Ok(());
    }
    if text.is_empty() {
        return std::fs::write(&ignore, crate::paths::OWN_OUTPUT_GITIGNORE).map_err(|e| format!("cannot write {}: {e}", ignore.display()));
    }
    let mut text = text;
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str("!baseline.json\n");
    std::fs::write(&ignore, text).map_err(|e| format!("cannot write {}: {e}", ignore.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Severity;
    use crate::rules;

    fn finding(rule: &str, entity: &str, line: u32) -> Finding {
        let mut f = Finding::new(rules::get(rule).unwrap(), entity.to_string(), format!("{rule} on {entity}")).at("app/api/webhook/route.ts", line);
        f.severity = Severity::Low;
        f
    }

    fn report(findings: Vec<Finding>) -> Report<()> {
        Report::new("diff_webhook_handler", (), findings, Vec::new())
    }

    #[test]
    fn recorded_findings_are_hidden_across_line_moves_and_new_and_fixed_ones_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let old = [finding("WH016", "handler:route.ts#checkout.session.completed", 10), finding("WH018", "handler:route.ts", 40)];
        let (path, n) = record(dir.path(), &[("diff_webhook_handler", &old)], "2026-12-05").unwrap();
        assert_eq!(n, 2);
        assert!(path.ends_with(FILE));
        let ignore = std::fs::read_to_string(dir.path().join(".billguard/.gitignore")).unwrap();
        assert!(ignore.contains("!baseline.json"), "{ignore}");

        // The WH016 moved 30 lines; WH018 is fixed; a WH009 is new.
        let mut r = report(vec![finding("WH016", "handler:route.ts#checkout.session.completed", 40), finding("WH009", "handler:route.ts#invoice.paid", 12)]);
        apply(&mut r, dir.path(), &|_| true);
        assert_eq!(r.findings.iter().map(|f| f.rule.to_string()).collect::<Vec<_>>(), ["WH009"]);
        assert_eq!(r.summary.baselined, 1);
        assert_eq!(r.summary.low, 1);
        assert!(r.notes.iter().any(|n| n.contains("fixed since the baseline: WH018 on handler:route.ts")), "{:?}", r.notes);

        // Not examined this run: not claimed fixed.
        let mut r = report(Vec::new());
        apply(&mut r, dir.path(), &|e| e.rule != "WH018");
        assert!(!r.notes.iter().any(|n| n.contains("WH018")), "{:?}", r.notes);
    }

    #[test]
    fn recording_one_check_keeps_the_others_and_a_broken_file_is_a_note() {
        let dir = tempfile::tempdir().unwrap();
        let acc = [finding("WH016", "user:1", 1)];
        record(dir.path(), &[("check_access_contract", &acc)], "2026-12-05").unwrap();
        let (_, n) = record(dir.path(), &[("diff_webhook_handler", &[])], "2026-12-06").unwrap();
        assert_eq!(n, 1, "the access entry stays");

        std::fs::write(dir.path().join(FILE), "{ not json").unwrap();
        let mut r = report(vec![finding("WH018", "handler:route.ts", 1)]);
        apply(&mut r, dir.path(), &|_| true);
        assert_eq!(r.findings.len(), 1, "nothing hidden");
        assert!(r.notes.iter().any(|n| n.starts_with("baseline not applied")), "{:?}", r.notes);
        assert!(record(dir.path(), &[("diff_webhook_handler", &[])], "2026-12-06").is_err(), "an unreadable baseline is not overwritten");
    }

    #[cfg(unix)]
    #[test]
    fn a_baseline_linking_outside_the_repository_is_not_read() {
        let outside = tempfile::tempdir().unwrap();
        let repo = tempfile::tempdir().unwrap();
        let target = outside.path().join("b.json");
        std::fs::write(&target, r#"{"version":1,"created":"x","findings":[{"check":"diff_webhook_handler","rule":"WH018","entity":"handler:route.ts"}]}"#).unwrap();
        std::fs::create_dir_all(repo.path().join(".billguard")).unwrap();
        std::os::unix::fs::symlink(&target, repo.path().join(FILE)).unwrap();
        let mut r = report(vec![finding("WH018", "handler:route.ts", 1)]);
        apply(&mut r, repo.path(), &|_| true);
        assert_eq!(r.findings.len(), 1);
        assert!(r.notes.iter().any(|n| n.contains("outside the repository")), "{:?}", r.notes);
    }
}
