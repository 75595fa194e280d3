//! Reviewed findings a team has chosen to accept, for every check: inline
//! `billguard-ignore: CODE reason` comments on the finding's line or the line
//! above (any comment syntax, env files included), and `[[ignore]]` entries in
//! billguard.toml with a required reason and an optional expiry date. A
//! suppressed finding leaves `findings` and the verdict, and is counted in
//! `summary.suppressed` and named in `notes`, so nothing disappears silently.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::report::{Finding, Report};

/// One `[[ignore]]` entry of billguard.toml.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IgnoreEntry {
    /// The rule code, e.g. WH016.
    pub rule: String,
    /// Only this entity (`user:usr_1`, `env:production/STRIPE_SECRET_KEY`, `handler:path#event`); `*` ends a prefix.
    pub entity: Option<String>,
    /// Only findings located in this file (a path or glob).
    pub path: Option<String>,
    /// Only findings about this environment (key mode).
    pub environment: Option<String>,
    /// Why the finding is accepted: required, shown in every report it suppresses.
    pub reason: String,
    /// Last day the entry applies (YYYY-MM-DD); after it the finding shows again and a note says so.
    pub until: Option<String>,
}

/// The largest file read for inline comments.
const MAX_FILE: u64 = 2 << 20;

pub struct Suppressor<'a> {
    repo: PathBuf,
    entries: Vec<&'a IgnoreEntry>,
    files: RefCell<HashMap<String, Option<Vec<String>>>>,
}

impl<'a> Suppressor<'a> {
    /// The entries in force on `today` (YYYY-MM-DD); expired or malformed ones are named in `notes`.
    pub fn new(repo: &Path, entries: &'a [IgnoreEntry], today: &str, notes: &mut Vec<String>) -> Suppressor<'a> {
        let mut live = Vec::new();
        for e in entries {
            match e.until.as_deref() {
                Some(d) if chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").is_err() => {
                    notes.push(format!("[[ignore]] {} until = \"{d}\" is not a YYYY-MM-DD date: the entry is not applied", e.rule))
                }
                Some(d) if d < today => notes.push(format!(
                    "[[ignore]] {}{} expired on {d}: its findings are shown again; renew it with a new `until` or fix them",
                    e.rule,
                    e.entity.as_deref().map(|x| format!(" ({x})")).unwrap_or_default()
                )),
                _ if e.reason.trim().is_empty() => notes.push(format!("[[ignore]] {} has an empty reason: the entry is not applied", e.rule)),
                _ => live.push(e),
            }
        }
        Suppressor { repo: repo.to_path_buf(), entries: live, files: RefCell::new(HashMap::new()) }
    }

    /// Why `f` is suppressed, if it is.
    pub fn reason(&self, f: &Finding) -> Option<String> {
        for e in &self.entries {
            if e.rule != f.rule {
                continue;
            }
            let entity_ok = e.entity.as_deref().is_none_or(|p| match p.strip_suffix('*') {
                Some(prefix) => f.entity.starts_with(prefix),
                None => f.entity == p,
            });
            let path_ok = e.path.as_deref().is_none_or(|p| f.location.as_ref().is_some_and(|l| crate::webhook::detect::glob_match(p, &l.path)));
            let env_ok = e.environment.as_deref().is_none_or(|env| f.evidence.get("environment").and_then(|v| v.as_str()) == Some(env));
            if entity_ok && path_ok && env_ok {
                return Some(format!("billguard.toml [[ignore]]: {}", e.reason.trim()));
            }
        }
        let loc = f.location.as_ref()?;
        let lines = self.lines(&loc.path)?;
        let at = loc.line as usize;
        [at, at.saturating_sub(1)].into_iter().filter(|n| *n >= 1).find_map(|n| inline(lines.get(n - 1)?, &f.rule).map(|why| format!("{}:{n}: {why}", loc.path)))
    }

    fn lines(&self, path: &str) -> Option<Vec<String>> {
        let mut files = self.files.borrow_mut();
        files
            .entry(path.to_string())
            .or_insert_with(|| {
                let full = crate::paths::within_repo(&self.repo, path, "location").ok()?;
                if std::fs::metadata(&full).ok()?.len() > MAX_FILE {
                    return None;
                }
                let text = String::from_utf8_lossy(&std::fs::read(full).ok()?).into_owned();
                Some(text.lines().map(str::to_string).collect())
            })
            .clone()
    }
}

/// The reason of a `billguard-ignore: CODE[,CODE] reason` comment on `line` naming `rule`.
fn inline(line: &str, rule: &str) -> Option<String> {
    let rest = &line[line.find("billguard-ignore:")? + "billguard-ignore:".len()..];
    let mut words = rest.trim_start().splitn(2, char::is_whitespace);
    let codes = words.next()?;
    let reason = words.next().unwrap_or("").trim().trim_end_matches(['*', '/', '-', '>', '#', ' ']).trim();
    let named = codes.split(',').any(|c| c.trim() == rule);
    (named && !reason.is_empty()).then(|| reason.to_string())
}

/// Applies the repository's inline comments and `[[ignore]]` entries to a check's report (today's date decides expiry).
pub fn in_report<S: serde::Serialize>(report: &mut Report<S>, repo: &Path, entries: &[IgnoreEntry]) {
    let today = chrono::Local::now().format("%Y-%m-%d").to_string();
    let mut notes = Vec::new();
    let suppressor = Suppressor::new(repo, entries, &today, &mut notes);
    apply(report, &suppressor);
    report.notes.extend(notes);
}

/// Takes the suppressed findings out of `report`: counts and verdict follow, each one is named in notes.
pub fn apply<S: serde::Serialize>(report: &mut Report<S>, suppressor: &Suppressor) {
    let mut named = Vec::new();
    let mut taken = Vec::new();
    report.findings.retain(|f| match suppressor.reason(f) {
        Some(why) => {
            named.push(format!("suppressed {} on {}: {why}", f.rule, f.entity));
            taken.push((f.clone(), why));
            false
        }
        None => true,
    });
    report.suppressed_findings.extend(taken);
    if named.is_empty() {
        return;
    }
    report.recount();
    report.summary.suppressed = named.len();
    let shown = named.len().min(10);
    let extra = named.len() - shown;
    report.notes.extend(named.into_iter().take(shown));
    if extra > 0 {
        report.notes.push(format!("… and {extra} more suppressed findings"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_comments_in_any_syntax_need_the_code_and_a_reason() {
        assert_eq!(inline("  // billguard-ignore: WH016 checkout is free-trial only", "WH016").as_deref(), Some("checkout is free-trial only"));
        assert_eq!(inline("# billguard-ignore: KEY003,KEY001 staging runs live on purpose", "KEY001").as_deref(), Some("staging runs live on purpose"));
        assert_eq!(inline("<!-- billguard-ignore: WH018 retries are wanted -->", "WH018").as_deref(), Some("retries are wanted"));
        assert_eq!(inline("-- billguard-ignore: WH016", "WH016"), None, "no reason, not applied");
        assert_eq!(inline("# billguard-ignore: WH016 fine", "WH004"), None, "another rule");
        assert_eq!(inline("const x = 1;", "WH016"), None);
    }
}
