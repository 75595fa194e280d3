//! `check_all` / `billguard check all`: the three checks with config defaults,
//! one verdict.
//!
//! A check that cannot run in this repository (no billing data configured, not
//! a git checkout) must not sink the others: its section says `skipped` or
//! `error`, why, and what to do, and the verdict covers the checks that ran.
//! Everything here but [`run`] is a pure function of the three outcomes.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use schemars::JsonSchema;
use serde::Serialize;
use futures_util::FutureExt as _;
use serde_json::{Value, json};

use crate::access::{self, AccessRequest, AccessScope};
use crate::error::CheckError;
use crate::keys::{self, KeysRequest, KeysScope};
use crate::report::{Finding, Format, Report, ScopeView, Summary, Verdict};
use crate::webhook::{self, WebhookRequest, WebhookScope};
use crate::{sarif, secrets};

pub const TOOL: &str = "check_all";

/// One request to run every check.
#[derive(Debug, Clone, Default)]
pub struct AllRequest {
    pub repo: PathBuf,
    /// billguard.toml for every check (default: the repo's; the access check also
    /// takes the fixtures directory's own).
    pub config: Option<PathBuf>,
    /// Billing and user fixtures for the access check; without them it reads live per config.
    pub fixtures_dir: Option<PathBuf>,
    /// Base ref for the webhook review; default: merge-base with the default branch.
    pub base: Option<String>,
    /// Let the key check run `command` sources.
    pub allow_commands: bool,
    /// Let the key check run the probes billguard.toml asks for.
    pub allow_config_probes: bool,
    /// Unix seconds, for the access check's grace periods.
    pub now: i64,
    /// Map large fixture files (see [`AccessRequest::map_files`]).
    pub map_files: bool,
    pub cancel: Option<Arc<AtomicBool>>,
    /// Show findings recorded in `.billguard/baseline.json` too (`--no-baseline`).
    pub no_baseline: bool,
}

/// How a section ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The check ran: `report` holds its result.
    Ran,
    /// The check cannot run in this repository as configured (no billing data source,
    /// not a git checkout): `reason` says why, `what_to_do` how to enable it.
    Skipped,
    /// The check was set up to run but failed (bad config or fixtures, database or
    /// billing API unreachable, an internal error): `reason` says what failed.
    Error,
}

/// One check's part of the combined result.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Section<S> {
    /// The tool that runs this check on its own, with more options.
    pub tool: String,
    pub status: Status,
    /// This check's verdict when it ran, else null.
    pub verdict: Option<Verdict>,
    /// Why the check was skipped or failed, else null.
    pub reason: Option<String>,
    /// How to make the check run, when it was skipped or failed, else null.
    pub what_to_do: Option<String>,
    /// The check's full report (same shape as its own tool's result) when it ran, else null.
    /// Its findings are bounded to this section's share of `max_findings`.
    #[schemars(schema_with = "section_report_schema")]
    pub report: Option<Report<S>>,
}

/// A section's report, described once by its own tool's output schema
/// (check_access_contract, check_key_mode, diff_webhook_handler) rather than
/// repeated here: the three would triple tools/list.
fn section_report_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "description": "The check's report when it ran, else null: the same object as the outputSchema of the section's `tool` (tool, verdict, summary, scope, findings, omitted, notes, report_file).",
        "anyOf": [
            {"type": "object", "required": ["tool", "verdict", "summary", "scope", "findings", "omitted", "notes", "report_file"]},
            {"type": "null"}
        ]
    })
}

/// The three checks' sections.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Sections {
    /// check_access_contract: billing subscriptions vs the app's users.
    pub access: Section<AccessScope>,
    /// check_key_mode: key mode and wiring per environment.
    pub keys: Section<KeysScope>,
    /// diff_webhook_handler: the working tree's webhook handler changes against the base.
    pub webhook: Section<WebhookScope>,
}

/// The combined result of every check.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct AllReport {
    /// Always "check_all".
    pub tool: String,
    /// The worst verdict of the checks that ran: fail if any high finding; incomplete if a
    /// check failed to run, none ran, or one could not examine all it was asked to; warn if
    /// only medium or low; pass if none. Skipped checks do not count: see `complete`.
    pub verdict: Verdict,
    /// True when all three checks ran.
    pub complete: bool,
    /// Findings of every check that ran, counted by severity and rule (including those
    /// left out of a section's findings).
    pub summary: Summary,
    pub sections: Sections,
    /// What the reader must know: which checks did not run and why, findings left out.
    pub notes: Vec<String>,
}

/// Runs the three checks at once, each with the config's defaults.
/// Never fails as a whole: a check's failure becomes its section.
pub async fn run(req: &AllRequest, hooks: &access::Hooks) -> AllReport {
    let keys_req = KeysRequest {
        repo: req.repo.clone(),
        config: req.config.clone(),
        environments: Vec::new(),
        probe_url: None,
        probe_api: false,
        allow_commands: req.allow_commands,
        allow_config_probes: req.allow_config_probes,
        cancel: req.cancel.clone(),
        no_baseline: req.no_baseline,
    };
    let webhook_req = WebhookRequest { repo: req.repo.clone(), base: req.base.clone(), diff: None, paths: Vec::new(), config: req.config.clone(), no_baseline: req.no_baseline };
    let access_req = AccessRequest { repo: req.repo.clone(), fixtures_dir: req.fixtures_dir.clone(), config: req.config.clone(), now: req.now, map_files: req.map_files, no_baseline: req.no_baseline };
    let keys_task = tokio::task::spawn_blocking(move || keys::check(&keys_req));
    let webhook_task = tokio::task::spawn_blocking(move || webhook::check(&webhook_req));
    // Not spawned: dropping this future (a cancelled tool call) must stop the
    // access check's API requests. A panic in it still becomes its section.
    let access = std::panic::AssertUnwindSafe(access::check_with(&access_req, hooks)).catch_unwind();
    let (access, keys, webhook) = tokio::join!(access, keys_task, webhook_task);
    let crashed = |join: tokio::task::JoinError| if join.is_panic() { "panic" } else { "aborted" };
    combine(
        outcome(access::TOOL, access.map_err(|_| "panic"), req.fixtures_dir.is_some()),
        outcome(keys::TOOL, keys.map_err(crashed), false),
        outcome(webhook::TOOL, webhook.map_err(crashed), req.base.is_some()),
    )
}

fn outcome<S>(tool: &str, joined: Result<Result<Report<S>, CheckError>, &str>, asked: bool) -> Section<S> {
    match joined {
        Ok(result) => section(tool, result, asked),
        Err(how) => {
            tracing::error!("{tool} crashed inside check_all ({how})");
            Section {
                tool: tool.to_string(),
                status: Status::Error,
                verdict: None,
                reason: Some(format!("internal error: the check crashed ({how})")),
                what_to_do: Some(format!(
                    "This is a billguard bug; the other sections stand. Run {tool} on its own (or `billguard check` on the CLI) with the same inputs to reproduce it."
                )),
                report: None,
            }
        }
    }
}

/// A check's outcome as a section. A usage error means the check has nothing to
/// work on here (no billing source configured, no git checkout): skipped, unless
/// the caller asked for that input explicitly (`asked`), when it is an error.
pub fn section<S>(tool: &str, result: Result<Report<S>, CheckError>, asked: bool) -> Section<S> {
    match result {
        Ok(report) => Section { tool: tool.to_string(), status: Status::Ran, verdict: Some(report.verdict), reason: None, what_to_do: None, report: Some(report) },
        Err(err) => {
            let skipped = matches!(err, CheckError::Usage(_)) && !asked;
            let what_to_do = if skipped {
                enable_hint(tool)
            } else {
                format!("Fix what the reason names, then run check_all again (or {tool} on its own to iterate on it); the other sections' results stand.")
            };
            Section {
                tool: tool.to_string(),
                status: if skipped { Status::Skipped } else { Status::Error },
                verdict: None,
                reason: Some(secrets::redact(&format!("{}: {err}", err.kind()))),
                what_to_do: Some(what_to_do),
                report: None,
            }
        }
    }
}

/// How to give a skipped check something to work on.
fn enable_hint(tool: &str) -> String {
    match tool {
        access::TOOL => "Give billing and user data: `fixtures_dir` (`--fixtures DIR` on the CLI), a directory with stripe/subscriptions.json \
                         (or paddle/subscriptions.json) and db/users.json; or name the read-only billing key's variable ([billing] secret_env) \
                         and the database URL's ([database] url_env) in billguard.toml and export both. Then run check_all again."
            .to_string(),
        webhook::TOOL => "Run inside a git checkout (the working tree is compared with the merge-base of the default branch), or pass `base` \
                          (`--base REF`), or review diff text with diff_webhook_handler (`billguard check webhook --diff FILE`)."
            .to_string(),
        _ => format!("Run {tool} on its own for the details, fix what it names, then run check_all again."),
    }
}

/// Combines the three sections: the verdict is the worst of those that ran.
pub fn combine(access: Section<AccessScope>, keys: Section<KeysScope>, webhook: Section<WebhookScope>) -> AllReport {
    let mut summary = Summary::default();
    let mut verdict = Verdict::Pass;
    let mut notes = Vec::new();
    let mut ran = 0;
    let statuses = [(&access.tool, access.status, access.reason.as_deref(), access.report.as_ref().map(|r| (&r.summary, r.verdict)))];
    let statuses = statuses.into_iter().chain([
        (&keys.tool, keys.status, keys.reason.as_deref(), keys.report.as_ref().map(|r| (&r.summary, r.verdict))),
        (&webhook.tool, webhook.status, webhook.reason.as_deref(), webhook.report.as_ref().map(|r| (&r.summary, r.verdict))),
    ]);
    for (tool, status, reason, result) in statuses {
        match result {
            Some((s, v)) => {
                ran += 1;
                summary.high += s.high;
                summary.medium += s.medium;
                summary.low += s.low;
                summary.suppressed += s.suppressed;
                summary.baselined += s.baselined;
                for (rule, n) in &s.by_rule {
                    *summary.by_rule.entry(rule.clone()).or_default() += n;
                }
                verdict = verdict.max(v);
            }
            None => {
                let word = if status == Status::Error { "failed" } else { "skipped" };
                notes.push(format!("{tool} {word}: {}", reason.unwrap_or("no reason given")));
            }
        }
    }
    // A check that was asked for and failed, or no check at all, examined nothing: that is never a pass.
    let errored = [access.status, keys.status, webhook.status].contains(&Status::Error);
    if errored || ran == 0 {
        verdict = verdict.max(Verdict::Incomplete);
    }
    match ran {
        3 => {}
        0 => notes.push("No check ran: nothing was examined, so the verdict is `incomplete`. Each section's what_to_do says how to make it run.".into()),
        n => notes.push(format!("{n} of 3 checks ran: the verdict covers only those. Each other section's what_to_do says how to make it run.")),
    }
    AllReport { tool: TOOL.to_string(), verdict, complete: ran == 3, summary, sections: Sections { access, keys, webhook }, notes }
}

/// Splits `max` findings between sections that have `counts` findings: an even
/// share each, and what a small section does not use goes to the larger ones.
pub fn shares(counts: &[usize], max: usize) -> Vec<usize> {
    let mut share = vec![0; counts.len()];
    let mut left = max;
    loop {
        let needy: Vec<usize> = (0..counts.len()).filter(|&i| share[i] < counts[i]).collect();
        if needy.is_empty() || left == 0 {
            return share;
        }
        let each = (left / needy.len()).max(1);
        for i in needy {
            let add = each.min(counts[i] - share[i]).min(left);
            share[i] += add;
            left -= add;
        }
    }
}

/// Where a section's full report went before it was cut: a path to show, or why it could not be kept.
pub type KeepFull<'a> = dyn FnMut(&str, &str) -> Result<String, String> + 'a;

fn bound_section<S: Serialize>(section: &mut Section<S>, share: usize, keep_full: &mut KeepFull<'_>, notes: &mut Vec<String>) {
    let Some(report) = section.report.as_mut() else { return };
    if report.findings.len() <= share {
        return;
    }
    match keep_full(&report.tool, &report.to_json_text()) {
        Ok(path) => report.report_file = Some(path),
        Err(e) => report.notes.push(format!("the full report could not be kept: {e}")),
    }
    let cut = report.bound(share);
    notes.push(format!("{}: {cut} finding(s) left out of this result; all are counted in its summary", report.tool));
}

impl AllReport {
    /// Cuts each section to its share of `max` findings. Before a section is cut,
    /// `keep_full(tool, full_json)` keeps its full report and says where.
    pub fn bound(&mut self, max: usize, keep_full: &mut KeepFull<'_>) {
        let len = |n: Option<usize>| n.unwrap_or(0);
        let s = &mut self.sections;
        let counts = [
            len(s.access.report.as_ref().map(|r| r.findings.len())),
            len(s.keys.report.as_ref().map(|r| r.findings.len())),
            len(s.webhook.report.as_ref().map(|r| r.findings.len())),
        ];
        let share = shares(&counts, max);
        bound_section(&mut s.access, share[0], keep_full, &mut self.notes);
        bound_section(&mut s.keys, share[1], keep_full, &mut self.notes);
        bound_section(&mut s.webhook, share[2], keep_full, &mut self.notes);
    }

    /// How many sections failed (not skipped).
    fn errors(&self) -> usize {
        self.statuses().iter().filter(|(_, s, _)| *s == Status::Error).count()
    }

    fn statuses(&self) -> [(&str, Status, Option<Verdict>); 3] {
        let s = &self.sections;
        [
            (s.access.tool.as_str(), s.access.status, s.access.verdict),
            (s.keys.tool.as_str(), s.keys.status, s.keys.verdict),
            (s.webhook.tool.as_str(), s.webhook.status, s.webhook.verdict),
        ]
    }

    /// 1 on fail (with `strict`, on any finding); else 2 when a check failed to run
    /// or none ran; else 0. Findings come first: they are real whatever else broke.
    pub fn exit_code(&self, strict: bool) -> i32 {
        let findings = self.summary.high + self.summary.medium + self.summary.low;
        if self.verdict == Verdict::Fail || (strict && findings > 0) {
            1
        } else if self.errors() > 0 || self.statuses().iter().all(|(_, s, _)| *s != Status::Ran) {
            2
        } else if self.verdict == Verdict::Incomplete {
            3
        } else {
            0
        }
    }

    /// The combined report as JSON with every string redacted.
    pub fn to_json_value(&self) -> Value {
        let mut value = serde_json::to_value(self).expect("a report always serializes");
        secrets::redact_json(&mut value);
        value
    }

    pub fn to_json_text(&self) -> String {
        secrets::redact(&(serde_json::to_string_pretty(self).expect("a report always serializes") + "\n"))
    }

    pub fn render(&self, format: Format, color: bool) -> String {
        match format {
            Format::Json => self.to_json_text(),
            Format::Text => secrets::redact(&self.render_text(color)),
            Format::Markdown => secrets::redact(&self.render_markdown()),
            Format::Sarif => {
                let mut v = self.to_sarif();
                secrets::redact_json(&mut v);
                serde_json::to_string_pretty(&v).expect("serializes") + "\n"
            }
        }
    }

    fn headline(&self) -> String {
        let ran = self.statuses().iter().filter(|(_, s, _)| *s == Status::Ran).count();
        format!("{} high, {} medium, {} low; {ran} of 3 checks ran", self.summary.high, self.summary.medium, self.summary.low)
    }

    fn render_text(&self, color: bool) -> String {
        let mut out = format!("billguard check_all: {}  ({})\n", verdict_word(self.verdict).to_uppercase(), self.headline());
        let s = &self.sections;
        text_section(&mut out, &s.access, color);
        text_section(&mut out, &s.keys, color);
        text_section(&mut out, &s.webhook, color);
        if !self.notes.is_empty() {
            out.push_str("\nnotes:\n");
            for n in &self.notes {
                let _ = writeln!(out, "  - {n}");
            }
        }
        out
    }

    fn render_markdown(&self) -> String {
        let mut out = format!("## billguard `check_all`: **{}**\n\n{}.\n\n", verdict_word(self.verdict), self.headline());
        out.push_str("| check | status | verdict | high | medium | low |\n|---|---|---|---|---|---|\n");
        let s = &self.sections;
        for (tool, status, verdict, summary) in [
            (&s.access.tool, s.access.status, s.access.verdict, s.access.report.as_ref().map(|r| &r.summary)),
            (&s.keys.tool, s.keys.status, s.keys.verdict, s.keys.report.as_ref().map(|r| &r.summary)),
            (&s.webhook.tool, s.webhook.status, s.webhook.verdict, s.webhook.report.as_ref().map(|r| &r.summary)),
        ] {
            let counts = summary.map_or("| - | - | -".to_string(), |m| format!("| {} | {} | {}", m.high, m.medium, m.low));
            let _ = writeln!(out, "| `{tool}` | {} | {} {counts} |", status_word(status), verdict.map_or("-", verdict_word));
        }
        markdown_section(&mut out, &s.access);
        markdown_section(&mut out, &s.keys);
        markdown_section(&mut out, &s.webhook);
        if !self.notes.is_empty() {
            out.push_str("\n**Notes**\n\n");
            for n in &self.notes {
                let _ = writeln!(out, "- {}", n.replace('\n', " "));
            }
        }
        out
    }

    /// One SARIF run with every finding of every check (each result names its check
    /// in `properties.check`): code scanning then shows one billguard analysis per
    /// upload, whatever ran.
    pub fn to_sarif(&self) -> Value {
        let s = &self.sections;
        let mut findings: Vec<(&Finding, Option<&str>)> = Vec::new();
        let mut sections = serde_json::Map::new();
        for (key, tool, status, verdict, report) in [
            ("access", &s.access.tool, s.access.status, s.access.verdict, s.access.report.as_ref().map(|r| (&r.findings, r.omitted, &r.report_file))),
            ("keys", &s.keys.tool, s.keys.status, s.keys.verdict, s.keys.report.as_ref().map(|r| (&r.findings, r.omitted, &r.report_file))),
            ("webhook", &s.webhook.tool, s.webhook.status, s.webhook.verdict, s.webhook.report.as_ref().map(|r| (&r.findings, r.omitted, &r.report_file))),
        ] {
            let (omitted, file) = report.map_or((0, None), |(f, omitted, file)| {
                findings.extend(f.iter().map(|x| (x, Some(tool.as_str()))));
                (omitted, file.clone())
            });
            sections.insert(key.into(), json!({"tool": tool, "status": status, "verdict": verdict, "omitted": omitted, "report_file": file}));
        }
        let props = json!({"verdict": self.verdict, "complete": self.complete, "sections": sections, "notes": self.notes});
        let mut log = sarif::log(TOOL, &findings, props);
        for (tool, suppressed) in [
            (&s.access.tool, s.access.report.as_ref().map(|r| &r.suppressed_findings)),
            (&s.keys.tool, s.keys.report.as_ref().map(|r| &r.suppressed_findings)),
            (&s.webhook.tool, s.webhook.report.as_ref().map(|r| &r.suppressed_findings)),
        ] {
            if let Some(list) = suppressed {
                sarif::add_suppressed(&mut log, list, Some(tool.as_str()));
            }
        }
        log
    }
}

fn verdict_word(v: Verdict) -> &'static str {
    v.as_str()
}

fn status_word(s: Status) -> &'static str {
    match s {
        Status::Ran => "ran",
        Status::Skipped => "skipped",
        Status::Error => "error",
    }
}

fn text_section<S: ScopeView>(out: &mut String, s: &Section<S>, color: bool) {
    let _ = writeln!(out, "\n== {}: {} ==", s.tool, status_word(s.status));
    match &s.report {
        Some(report) => out.push_str(&report.render(Format::Text, color)),
        None => {
            let _ = writeln!(out, "reason: {}", s.reason.as_deref().unwrap_or("-"));
            let _ = writeln!(out, "what to do: {}", s.what_to_do.as_deref().unwrap_or("-"));
        }
    }
}

fn markdown_section<S: ScopeView>(out: &mut String, s: &Section<S>) {
    out.push('\n');
    match &s.report {
        Some(report) => out.push_str(&report.render(Format::Markdown, false)),
        None => {
            let _ = writeln!(out, "### billguard `{}`: **{}**\n", s.tool, status_word(s.status));
            let _ = writeln!(out, "- Reason: {}", s.reason.as_deref().unwrap_or("-").replace('\n', " "));
            let _ = writeln!(out, "- What to do: {}", s.what_to_do.as_deref().unwrap_or("-"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules;

    fn finding(code: &str, entity: &str) -> Finding {
        Finding::new(rules::get(code).unwrap(), entity, format!("{code} on {entity}"))
    }

    fn access_scope() -> AccessScope {
        AccessScope {
            users: 1,
            subscriptions: 1,
            source: "fixtures".into(),
            billing_source: "fixtures:x".into(),
            users_source: "fixtures:y".into(),
            config: None,
            key_mode: None,
            test_clocks: None,
            evaluated: "in-process".into(),
        }
    }

    fn webhook_scope() -> WebhookScope {
        WebhookScope { source: "git".into(), base: None, files_changed: 0, handler_files: vec![], partial: false, not_examined: vec![] }
    }

    fn keys_missing() -> Section<KeysScope> {
        section(keys::TOOL, Err(CheckError::Usage("the repository x is not a directory".into())), false)
    }

    #[test]
    fn shares_split_evenly_and_pass_on_what_is_unused() {
        assert_eq!(shares(&[100, 100, 100], 50), [17, 17, 16]);
        assert_eq!(shares(&[2, 100, 0], 50), [2, 48, 0]);
        assert_eq!(shares(&[3, 4, 5], 50), [3, 4, 5]);
        assert_eq!(shares(&[10, 10, 10], 2), [1, 1, 0]);
        assert_eq!(shares(&[0, 0, 0], 50), [0, 0, 0]);
        assert_eq!(shares(&[5, 5, 5], 0), [0, 0, 0]);
    }

    #[test]
    fn verdict_is_the_worst_of_what_ran_and_skips_do_not_sink_it() {
        let access = section(access::TOOL, Ok(Report::new(access::TOOL, access_scope(), vec![finding("ACC009", "customer:c")], vec![])), false);
        let webhook = section(webhook::TOOL, Ok(Report::new(webhook::TOOL, webhook_scope(), vec![], vec![])), false);
        let all = combine(access, keys_missing(), webhook);
        assert_eq!(all.verdict, Verdict::Warn);
        assert!(!all.complete);
        assert_eq!(all.sections.keys.status, Status::Skipped);
        assert!(all.sections.keys.what_to_do.is_some());
        assert_eq!(all.summary.low, 1);
        assert!(all.notes.iter().any(|n| n.contains("2 of 3 checks ran")), "{:?}", all.notes);
        assert_eq!(all.exit_code(false), 0);
        assert_eq!(all.exit_code(true), 1);

        let failing = section(webhook::TOOL, Ok(Report::new(webhook::TOOL, webhook_scope(), vec![finding("WH004", "handler:a")], vec![])), false);
        let access = section(access::TOOL, Ok(Report::new(access::TOOL, access_scope(), vec![finding("ACC009", "customer:c")], vec![])), false);
        let all = combine(access, keys_missing(), failing);
        assert_eq!(all.verdict, Verdict::Fail);
        assert_eq!(all.summary.by_rule.len(), 2);
        assert_eq!(all.exit_code(false), 1);
    }

    #[test]
    fn a_section_that_could_not_examine_everything_makes_the_whole_incomplete_exit_3() {
        let mut partial = Report::new(webhook::TOOL, webhook_scope(), Vec::<Finding>::new(), vec![]);
        partial.not_examined(&["app/hooks.kt: a language billguard does not read".to_string()]);
        assert_eq!(partial.verdict, Verdict::Incomplete);
        let webhook = section(webhook::TOOL, Ok(partial), false);
        let access = section(access::TOOL, Ok(Report::new(access::TOOL, access_scope(), Vec::<Finding>::new(), vec![])), false);
        let all = combine(access, keys_missing(), webhook);
        assert_eq!(all.sections.keys.status, Status::Skipped);
        assert_eq!(all.verdict, Verdict::Incomplete);
        assert_eq!(all.exit_code(false), 3);
        assert!(all.render(Format::Text, false).starts_with("billguard check_all: INCOMPLETE"));
        // A high finding elsewhere still fails: it is real whatever was not seen.
        let mut failing = Report::new(webhook::TOOL, webhook_scope(), vec![finding("WH004", "handler:a")], vec![]);
        failing.not_examined(&["x.kt: unread".to_string()]);
        assert_eq!(failing.verdict, Verdict::Fail);
        assert_eq!(failing.exit_code(false), 1);
    }

    #[test]
    fn an_asked_for_input_that_fails_is_an_error_and_exits_2() {
        let access = section::<AccessScope>(access::TOOL, Err(CheckError::Usage("fixtures dir does not exist".into())), true);
        assert_eq!(access.status, Status::Error);
        let webhook = section::<WebhookScope>(webhook::TOOL, Err(CheckError::Database("refused".into())), false);
        assert_eq!(webhook.status, Status::Error, "a broken connection is an error even when not asked for");
        let all = combine(access, keys_missing(), webhook);
        assert_eq!(all.verdict, Verdict::Incomplete, "nothing examined is never a pass");
        assert!(all.notes.iter().any(|n| n.contains("No check ran")));
        assert_eq!(all.exit_code(false), 2);
        let text = all.render(Format::Text, false);
        assert!(text.contains("check_access_contract: error") && text.contains("what to do:"), "{text}");
    }

    #[test]
    fn bounding_cuts_each_section_to_its_share_and_keeps_the_full_report() {
        let many: Vec<_> = (0..40).map(|i| finding("ACC001", &format!("user:{i}"))).collect();
        let access = section(access::TOOL, Ok(Report::new(access::TOOL, access_scope(), many, vec![])), false);
        let few: Vec<_> = (0..3).map(|i| finding("WH004", &format!("handler:{i}"))).collect();
        let webhook = section(webhook::TOOL, Ok(Report::new(webhook::TOOL, webhook_scope(), few, vec![])), false);
        let mut all = combine(access, keys_missing(), webhook);
        let mut kept = Vec::new();
        all.bound(10, &mut |tool: &str, json: &str| {
            kept.push((tool.to_string(), json.len()));
            Ok(format!(".billguard/reports/{tool}.json"))
        });
        let access = all.sections.access.report.as_ref().unwrap();
        assert_eq!((access.findings.len(), access.omitted), (7, 33));
        assert_eq!(access.report_file.as_deref(), Some(".billguard/reports/check_access_contract.json"));
        assert_eq!(all.sections.webhook.report.as_ref().unwrap().findings.len(), 3);
        assert_eq!(kept.len(), 1, "only the cut section is kept: {kept:?}");
        assert_eq!(all.summary.high, 43, "the summary still counts everything");
    }

    #[test]
    fn every_format_renders_every_section_and_sarif_is_one_run() {
        let key = format!("{}{}", "sk_live_", "4fQ9zXv2Lm8Rt1Yp6Wc3Nb7Ka1b2");
        let access = section(access::TOOL, Ok(Report::new(access::TOOL, access_scope(), vec![finding("ACC001", "user:1").evidence("k", key.as_str())], vec![])), false);
        let webhook = section(webhook::TOOL, Ok(Report::new(webhook::TOOL, webhook_scope(), vec![finding("WH004", "handler:a").at("a.ts", 3)], vec![])), false);
        let all = combine(access, keys_missing(), webhook);
        for format in [Format::Text, Format::Json, Format::Markdown, Format::Sarif] {
            let out = all.render(format, false);
            assert!(!out.contains(&key), "{format:?} leaked");
            if format != Format::Sarif {
                for tool in [access::TOOL, keys::TOOL, webhook::TOOL] {
                    assert!(out.contains(tool), "{format:?} lacks {tool}");
                }
            }
        }
        let md = all.render(Format::Markdown, false);
        assert!(md.contains("| `check_key_mode` | skipped | - | - | - | - |"), "{md}");
        let sarif: Value = serde_json::from_str(&all.render(Format::Sarif, false)).unwrap();
        let runs = sarif["runs"].as_array().unwrap();
        assert_eq!(runs.len(), 1);
        let results = runs[0]["results"].as_array().unwrap();
        assert_eq!(results.len(), 2);
        assert!(results.iter().any(|r| r["ruleId"] == "WH004" && r["properties"]["check"] == webhook::TOOL));
        assert_eq!(runs[0]["properties"]["sections"]["keys"]["status"], "skipped");
        assert_eq!(runs[0]["automationDetails"]["id"], "billguard/check_all/");
    }

    #[test]
    fn check_all_sarif_keeps_suppressed_findings_as_suppressions() {
        let mut report = Report::new(webhook::TOOL, webhook_scope(), vec![finding("WH004", "handler:a").at("a.ts", 3)], vec![]);
        report.suppressed_findings.push((finding("WH016", "handler:a").at("a.ts", 9), "a.ts:8: billguard-ignore: WH016 checked upstream".into()));
        report.suppressed_findings.push((finding("WH010", "handler:b").at("b.ts", 2), "billguard.toml [[ignore]] WH010: retries handled by the queue".into()));
        let access_missing = section(access::TOOL, Err(CheckError::Usage("no billguard.toml".into())), false);
        let all = combine(access_missing, keys_missing(), section(webhook::TOOL, Ok(report), false));
        let sarif: Value = serde_json::from_str(&all.render(Format::Sarif, false)).unwrap();
        let results = sarif["runs"][0]["results"].as_array().unwrap();
        let kinds: Vec<(&str, Option<&str>)> =
            results.iter().map(|r| (r["ruleId"].as_str().unwrap(), r["suppressions"][0]["kind"].as_str())).collect();
        assert_eq!(kinds, [("WH004", None), ("WH016", Some("inSource")), ("WH010", Some("external"))]);
        assert!(results.iter().all(|r| r["properties"]["check"] == webhook::TOOL), "{results:?}");
    }
}
