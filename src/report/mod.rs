//! The report every check returns, and its renderers.
//!
//! One shape for the CLI's `--format json`, the MCP tools' structured content
//! and report files (see DESIGN.md, "Report"). Every renderer redacts what it
//! emits, so a secret that slipped into a message or evidence never leaves.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt::Write as _;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::rules::Rule;
use crate::secrets;

pub mod bounded;
pub mod notify;
mod evidence;
mod json;
mod ordered;

pub use evidence::Evidence;
pub use ordered::{Findings, Ordered};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    High,
    Medium,
    Low,
}

impl Severity {
    fn rank(self) -> u8 {
        match self {
            Severity::High => 0,
            Severity::Medium => 1,
            Severity::Low => 2,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
        }
    }
}

// Declared from best to worst, so `max` is the worse of two verdicts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// No finding; all asked for was examined.
    Pass,
    /// Only medium or low findings; all asked for was examined.
    Warn,
    /// No high finding, but not all that was asked was examined (see `notes`): no
    /// finding there proves nothing.
    Incomplete,
    /// At least one high finding.
    Fail,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Warn => "warn",
            Verdict::Incomplete => "incomplete",
            Verdict::Fail => "fail",
        }
    }
}

/// Exit status per verdict (DESIGN.md, extended): 0 pass or warn, 1 fail (with
/// `strict`, any finding), 3 incomplete. 2 is for usage and connector errors.
pub fn exit_code_of(verdict: Verdict, findings: usize, strict: bool) -> i32 {
    match verdict {
        Verdict::Fail => 1,
        _ if strict && findings > 0 => 1,
        Verdict::Incomplete => 3,
        Verdict::Pass | Verdict::Warn => 0,
    }
}

/// Where a finding points: a file of the repo and a 1-based line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Location {
    pub path: String,
    pub line: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Finding {
    /// Stable rule code, e.g. ACC001. `billguard rules CODE` explains it.
    pub rule: Cow<'static, str>,
    /// The rule's short name, e.g. revenue-leak.
    pub name: Cow<'static, str>,
    pub severity: Severity,
    /// What the finding is about: `user:<id>`, `customer:<id>`, `price:<id>` or `account`.
    pub entity: String,
    /// One sentence: what is wrong, with the ids involved.
    pub message: String,
    /// What to change so that the finding goes away.
    pub fix: Cow<'static, str>,
    /// The observed facts behind the finding.
    pub evidence: Evidence,
    /// The file and line the finding points at, when it points at code or config.
    pub location: Option<Location>,
}

impl Finding {
    /// A finding of `rule` with the rule's default severity and fix.
    pub fn new(rule: &Rule, entity: impl Into<String>, message: impl Into<String>) -> Self {
        // The catalog's own text, borrowed: a large report has a hundred
        // thousand findings of a handful of rules.
        Finding {
            rule: Cow::Borrowed(rule.code),
            name: Cow::Borrowed(rule.name),
            severity: rule.severity,
            entity: entity.into(),
            message: message.into(),
            fix: Cow::Borrowed(rule.fix),
            evidence: Evidence::default(),
            location: None,
        }
    }

    pub fn fix(mut self, fix: impl Into<Cow<'static, str>>) -> Self {
        self.fix = fix.into();
        self
    }

    pub fn evidence(mut self, key: &'static str, value: impl Into<serde_json::Value>) -> Self {
        self.evidence.insert(key, value.into());
        self
    }

    /// Gives back the spare capacity of the finding's strings and evidence:
    /// a check that keeps a hundred thousand findings keeps them all.
    pub fn compact(mut self) -> Self {
        self.evidence.shrink_to_fit();
        self.message.shrink_to_fit();
        if let Cow::Owned(fix) = &mut self.fix {
            fix.shrink_to_fit();
        }
        self
    }

    pub fn at(mut self, path: impl Into<String>, line: u32) -> Self {
        self.location = Some(Location { path: path.into(), line });
        self
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Summary {
    pub high: usize,
    pub medium: usize,
    pub low: usize,
    /// Findings per rule code, counting those left out of `findings`.
    pub by_rule: BTreeMap<String, usize>,
    /// Suppressed by `billguard-ignore` or `[[ignore]]`; not counted above (see `notes`).
    #[serde(default)]
    pub suppressed: usize,
    /// In `.billguard/baseline.json`; not counted above (`--no-baseline` shows them).
    #[serde(default)]
    pub baselined: usize,
}

/// The result of one check. `S` is the check's own scope: what was examined.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Report<S> {
    /// The check that produced this report, e.g. check_access_contract.
    pub tool: String,
    // Verdict's own documentation (in the schema) says what each value means.
    pub verdict: Verdict,
    pub summary: Summary,
    /// What was examined and where it came from.
    pub scope: S,
    /// Findings, highest severity first, grouped by rule. Bounded: see `omitted`.
    pub findings: Vec<Finding>,
    /// Findings left out of `findings` (all are counted in `summary`).
    pub omitted: usize,
    /// What is not a finding but must be known: skipped sources, partial data, odd input.
    pub notes: Vec<String>,
    /// Path of the full report (repo-relative) when findings were left out, else null.
    pub report_file: Option<String>,
    /// Findings taken out by a `billguard-ignore` comment or an `[[ignore]]` entry, with
    /// the reason: not part of the JSON (counted in `summary.suppressed`); SARIF lists
    /// them as suppressed results.
    #[serde(skip)]
    #[schemars(skip)]
    pub suppressed_findings: Vec<(Finding, String)>,
}

/// The summary and verdict of findings in report order.
fn count(findings: &[Finding]) -> (Summary, Verdict) {
    let mut summary = Summary::default();
    // Sorted, so each rule is one run: counted per run, not per finding.
    for run in findings.chunk_by(|a, b| a.severity == b.severity && a.rule == b.rule) {
        match run[0].severity {
            Severity::High => summary.high += run.len(),
            Severity::Medium => summary.medium += run.len(),
            Severity::Low => summary.low += run.len(),
        }
        *summary.by_rule.entry(run[0].rule.to_string()).or_default() += run.len();
    }
    let verdict = if summary.high > 0 {
        Verdict::Fail
    } else if findings.is_empty() {
        Verdict::Pass
    } else {
        Verdict::Warn
    };
    (summary, verdict)
}

/// At most this many notes are kept; the rest are summarised in one line.
const MAX_NOTES: usize = 25;

/// How a check's scope shows in the human renderers. The default is one line
/// of `key=value` pairs; a check with a richer scope (a matrix, say) overrides it.
pub trait ScopeView: Serialize {
    fn text_block(&self) -> String {
        let line = scope_line(self);
        if line.is_empty() { String::new() } else { format!("scope: {line}\n") }
    }
    fn markdown_block(&self) -> String {
        let line = scope_line(self);
        if line.is_empty() { String::new() } else { format!("Scope: `{line}`\n") }
    }
}

impl ScopeView for () {}
impl ScopeView for serde_json::Value {}

impl<S: Serialize> Report<S> {
    /// Builds a report from every finding of a check: puts them in report
    /// order (see [`Findings`]), counts them, sets the verdict.
    pub fn new(tool: &str, scope: S, findings: impl Into<Ordered>, mut notes: Vec<String>) -> Self {
        let findings = findings.into().into_vec();
        let (summary, verdict) = count(&findings);
        if notes.len() > MAX_NOTES {
            let extra = notes.len() - (MAX_NOTES - 1);
            notes.truncate(MAX_NOTES - 1);
            notes.push(format!("… and {extra} more notes (see the full report)"));
        }
        Report { tool: tool.to_string(), verdict, summary, scope, findings, omitted: 0, notes, report_file: None, suppressed_findings: Vec::new() }
    }

    /// Counts and verdict again after findings were taken out (suppressed); an
    /// `incomplete` verdict stays unless a high finding makes it `fail`.
    pub fn recount(&mut self) {
        let (summary, verdict) = count(&self.findings);
        let (suppressed, baselined) = (self.summary.suppressed, self.summary.baselined);
        self.summary = Summary { suppressed, baselined, ..summary };
        self.verdict = if self.verdict == Verdict::Incomplete { verdict.max(Verdict::Incomplete) } else { verdict };
    }

    /// The same report with its scope turned into another type (e.g. JSON for a mixed list).
    pub fn map_scope<T>(self, f: impl FnOnce(S) -> T) -> Report<T> {
        Report {
            tool: self.tool,
            verdict: self.verdict,
            summary: self.summary,
            scope: f(self.scope),
            findings: self.findings,
            omitted: self.omitted,
            notes: self.notes,
            report_file: self.report_file,
            suppressed_findings: self.suppressed_findings,
        }
    }

    /// Exit status: 1 on fail (or on any finding with `strict`), 3 when incomplete, else 0.
    pub fn exit_code(&self, strict: bool) -> i32 {
        exit_code_of(self.verdict, self.summary.by_rule.values().sum(), strict)
    }

    /// Marks the report incomplete: each entry names something that was asked for
    /// and not examined, and how to get it examined. A failing report stays `fail`
    /// (its high findings stand); otherwise the verdict becomes `incomplete`.
    pub fn not_examined(&mut self, what: &[String]) {
        if what.is_empty() {
            return;
        }
        self.verdict = self.verdict.max(Verdict::Incomplete);
        let mut front: Vec<String> = what.iter().map(|w| format!("not examined: {w}")).collect();
        front.append(&mut self.notes);
        if front.len() > MAX_NOTES {
            let extra = front.len() - (MAX_NOTES - 1);
            front.truncate(MAX_NOTES - 1);
            front.push(format!("… and {extra} more notes (see the full report)"));
        }
        self.notes = front;
    }

    /// Keeps at most `max` findings. Every rule keeps at least one finding while
    /// the budget allows (a flood of one rule must not hide another), the rest
    /// is filled in severity order. Returns how many were dropped.
    pub fn bound(&mut self, max: usize) -> usize {
        let total = self.findings.len();
        if total <= max {
            return 0;
        }
        let mut groups: Vec<Vec<Finding>> = Vec::new();
        for f in std::mem::take(&mut self.findings) {
            match groups.last_mut() {
                Some(g) if g[0].rule == f.rule => g.push(f),
                _ => groups.push(vec![f]),
            }
        }
        // Round-robin over rules: each pass gives every rule one more slot.
        let mut quota = vec![0usize; groups.len()];
        let mut left = max;
        while left > 0 {
            let mut progressed = false;
            for (i, g) in groups.iter().enumerate() {
                if left > 0 && quota[i] < g.len() {
                    quota[i] += 1;
                    left -= 1;
                    progressed = true;
                }
            }
            if !progressed {
                break;
            }
        }
        for (g, q) in groups.into_iter().zip(quota) {
            self.findings.extend(g.into_iter().take(q));
        }
        self.omitted += total - self.findings.len();
        total - self.findings.len()
    }

    /// The report as JSON with every string redacted.
    pub fn to_json_value(&self) -> serde_json::Value {
        let mut value = serde_json::to_value(self).expect("a report always serializes");
        secrets::redact_json(&mut value);
        value
    }

    /// The report as pretty JSON text, redacted (see [`Report::write_json`]).
    pub fn to_json_text(&self) -> String {
        let mut out = Vec::new();
        self.write_json(&mut out).expect("writing to memory does not fail");
        String::from_utf8(out).expect("the JSON renderer writes UTF-8")
    }

    /// Writes the report as pretty JSON, redacted, in chunks: a large report
    /// is never held as one text.
    pub fn write_json(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        json::write(self, out)
    }

    pub fn render(&self, format: Format, color: bool) -> String
    where
        S: ScopeView,
    {
        match format {
            Format::Json => self.to_json_text(),
            Format::Text => secrets::redact(&render_text(self, color)),
            Format::Markdown => secrets::redact(&render_markdown(self)),
            Format::Sarif => {
                let mut v = crate::sarif::to_sarif(self);
                secrets::redact_json(&mut v);
                serde_json::to_string_pretty(&v).expect("serializes") + "\n"
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    Markdown,
    /// SARIF 2.1.0, for GitHub code scanning.
    Sarif,
}

/// Severity first, then rule code, then entity in natural order (user:9
/// before user:10), then message: the order [`sorted`] gives, stated plainly.
#[cfg(test)]
fn compare_findings(a: &Finding, b: &Finding) -> Ordering {
    a.severity
        .rank()
        .cmp(&b.severity.rank())
        .then_with(|| a.rule.cmp(&b.rule))
        .then_with(|| natural_cmp(&a.entity, &b.entity))
        .then_with(|| a.message.cmp(&b.message))
}

/// Compares strings with runs of digits compared by value.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (a.as_bytes(), b.as_bytes());
    loop {
        match (a.first(), b.first()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let na = a.iter().take_while(|c| c.is_ascii_digit()).count();
                let nb = b.iter().take_while(|c| c.is_ascii_digit()).count();
                let (da, db) = (trim_zeros(&a[..na]), trim_zeros(&b[..nb]));
                let ord = da.len().cmp(&db.len()).then_with(|| da.cmp(db)).then_with(|| na.cmp(&nb));
                if ord != Ordering::Equal {
                    return ord;
                }
                a = &a[na..];
                b = &b[nb..];
            }
            (Some(x), Some(y)) => {
                if x != y {
                    return x.cmp(y);
                }
                a = &a[1..];
                b = &b[1..];
            }
        }
    }
}

/// Bytes that compare like [`natural_cmp`] compares the text: each run of
/// digits becomes `0`, its significant length, its significant digits and
/// its full length. (A run starts with `0` so that it compares with any other
/// character as a digit does: that character is never a digit.)
pub fn natural_key(text: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(text.len() + 8);
    let mut rest = text.as_bytes();
    while let Some(&c) = rest.first() {
        if c.is_ascii_digit() {
            let n = rest.iter().take_while(|c| c.is_ascii_digit()).count();
            let digits = trim_zeros(&rest[..n]);
            key.push(b'0');
            key.extend_from_slice(&(digits.len() as u32).to_be_bytes());
            key.extend_from_slice(digits);
            key.extend_from_slice(&(n as u32).to_be_bytes());
            rest = &rest[n..];
        } else {
            key.push(c);
            rest = &rest[1..];
        }
    }
    key
}

fn trim_zeros(d: &[u8]) -> &[u8] {
    let n = d.iter().take_while(|c| **c == b'0').count();
    &d[n.min(d.len().saturating_sub(1))..]
}

struct Paint {
    on: bool,
}

impl Paint {
    fn wrap(&self, code: &str, s: &str) -> String {
        if self.on { format!("\x1b[{code}m{s}\x1b[0m") } else { s.to_string() }
    }
    fn severity(&self, sev: Severity) -> String {
        let code = match sev {
            Severity::High => "1;31",
            Severity::Medium => "33",
            Severity::Low => "36",
        };
        self.wrap(code, sev.as_str())
    }
    fn verdict(&self, v: Verdict) -> String {
        match v {
            Verdict::Pass => self.wrap("1;32", "PASS"),
            Verdict::Warn => self.wrap("1;33", "WARN"),
            Verdict::Incomplete => self.wrap("1;35", "INCOMPLETE"),
            Verdict::Fail => self.wrap("1;31", "FAIL"),
        }
    }
}

/// `key=value` pairs of the scope, for one summary line.
fn scope_line<S: Serialize + ?Sized>(scope: &S) -> String {
    match serde_json::to_value(scope) {
        Ok(serde_json::Value::Object(map)) => map
            .iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| match v {
                serde_json::Value::String(s) => format!("{k}={s}"),
                other => format!("{k}={other}"),
            })
            .collect::<Vec<_>>()
            .join("  "),
        _ => String::new(),
    }
}

/// Findings split into runs of the same rule (they are sorted, so runs are groups).
fn by_rule(findings: &[Finding]) -> Vec<&[Finding]> {
    findings.chunk_by(|a, b| a.rule == b.rule).collect()
}

/// How many findings a group stands for: its own, plus those of its rule left out
/// by bounding. A rule found at two severities is two groups; only what is not
/// shown in either counts as left out.
fn group_total<S>(r: &Report<S>, group: &[Finding]) -> usize {
    let rule = &group[0].rule;
    let shown_elsewhere = r.findings.iter().filter(|f| f.rule == *rule).count() - group.len();
    let total = r.summary.by_rule.get(&**rule).copied().unwrap_or(group.len()).saturating_sub(shown_elsewhere);
    if r.omitted == 0 { group.len() } else { total.max(group.len()) }
}

fn render_text<S: ScopeView>(r: &Report<S>, color: bool) -> String {
    let p = Paint { on: color };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "billguard {}: {}  ({} high, {} medium, {} low)",
        r.tool,
        p.verdict(r.verdict),
        r.summary.high,
        r.summary.medium,
        r.summary.low
    );
    out.push_str(&r.scope.text_block());
    for group in by_rule(&r.findings) {
        let first = &group[0];
        let total = group_total(r, group);
        let shown = if total > group.len() {
            let rest = r.report_file.as_deref().map_or("--report-file PATH, or without --max-findings".to_string(), |p| format!("the full report {p}"));
            format!(", {} shown; the other {} are in {rest}", group.len(), total - group.len())
        } else {
            String::new()
        };
        let _ = writeln!(out, "\n{} {} ({}) x{}{}", p.wrap("1", &first.rule), first.name, p.severity(first.severity), total, shown);
        for f in group {
            let _ = writeln!(out, "  {}: {}", f.entity, f.message);
            if let Some(loc) = &f.location {
                let _ = writeln!(out, "    at {}:{}", loc.path, loc.line);
            }
            let _ = writeln!(out, "    {} {}", p.wrap("2", "fix:"), f.fix);
        }
    }
    if r.omitted > 0 {
        let _ = writeln!(out, "\n{} more findings not shown.", r.omitted);
    }
    if !r.notes.is_empty() {
        let _ = writeln!(out, "\nnotes:");
        for n in &r.notes {
            let _ = writeln!(out, "  - {n}");
        }
    }
    if let Some(path) = &r.report_file {
        let _ = writeln!(out, "\nfull report: {path}");
    }
    out
}

fn md_escape(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn render_markdown<S: ScopeView>(r: &Report<S>) -> String {
    let mut out = String::new();
    let verdict = r.verdict.as_str();
    let _ = writeln!(out, "### billguard `{}`: **{verdict}**\n", r.tool);
    let _ = writeln!(out, "{} high, {} medium, {} low.", r.summary.high, r.summary.medium, r.summary.low);
    out.push_str(&r.scope.markdown_block());
    if !r.summary.by_rule.is_empty() {
        let _ = writeln!(out, "\n| rule | name | severity | count |\n|---|---|---|---|");
        for group in by_rule(&r.findings) {
            let f = &group[0];
            let total = group_total(r, group);
            let _ = writeln!(out, "| {} | {} | {} | {} |", f.rule, f.name, f.severity.as_str(), total);
        }
    }
    for group in by_rule(&r.findings) {
        let f0 = &group[0];
        let _ = writeln!(out, "\n#### {} {} ({})\n", f0.rule, f0.name, f0.severity.as_str());
        for f in group {
            let at = f.location.as_ref().map(|l| format!(" (`{}:{}`)", l.path, l.line)).unwrap_or_default();
            let _ = writeln!(out, "- `{}`{}: {}  \n  **Fix:** {}", f.entity, at, md_escape(&f.message), md_escape(&f.fix));
        }
    }
    if r.omitted > 0 {
        let _ = writeln!(out, "\n_{} more findings not shown._", r.omitted);
    }
    if !r.notes.is_empty() {
        let _ = writeln!(out, "\n**Notes**\n");
        for n in &r.notes {
            let _ = writeln!(out, "- {}", md_escape(n));
        }
    }
    if let Some(path) = &r.report_file {
        let _ = writeln!(out, "\nFull report: `{path}`");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules;

    fn finding(code: &str, entity: &str) -> Finding {
        Finding::new(rules::get(code).unwrap(), entity, format!("{code} on {entity}"))
    }

    #[test]
    fn natural_keys_order_like_natural_cmp() {
        let words = ["user:9", "user:10", "user:010", "user:", "user:a", "user:1a", "user:1:", "user:0", "user:00",
            "user:99999999999999999999", "cus_A7", "cus_A07x", "price:", "a", "", "10", "9z", "user:1/", "user:1~"];
        for a in words {
            for b in words {
                assert_eq!(natural_key(a).cmp(&natural_key(b)), natural_cmp(a, b), "{a:?} vs {b:?}");
            }
        }
    }

    #[test]
    fn findings_are_sorted_in_place_like_a_plain_sort() {
        let codes = ["ACC001", "ACC005", "ACC002", "ACC004"];
        let findings: Vec<Finding> =
            (0..200u32).map(|i| finding(codes[(i * 7 % 4) as usize], &format!("user:{}", (i * 37) % 101))).collect();
        let key = |f: &Finding| (f.rule.clone(), f.entity.clone(), f.message.clone());
        let mut plain = findings.clone();
        plain.sort_by(compare_findings);
        let got: Vec<_> = Ordered::from(findings).iter().map(key).collect();
        assert_eq!(got, plain.iter().map(key).collect::<Vec<_>>());
        assert_ne!(got.first(), got.last());
    }

    #[test]
    fn findings_already_in_row_order_are_kept_and_others_sorted() {
        // Rules interleaved as an evaluation emits them, entities in row order,
        // except one rule whose run is out of order and a repeated entity.
        let mut findings = Vec::new();
        for i in 0..500u32 {
            findings.push(finding("ACC005", &format!("user:{i}")));
            findings.push(finding("ACC001", &format!("user:{}", i * 2)));
            findings.push(finding("ACC009", &format!("customer:{}", 500 - i)));
        }
        findings.push(finding("ACC001", "user:4"));
        let key = |f: &Finding| (f.rule.clone(), f.entity.clone(), f.message.clone());
        let mut plain = findings.clone();
        plain.sort_by(compare_findings);
        let got: Vec<_> = Ordered::from(findings).iter().map(key).collect();
        assert_eq!(got, plain.iter().map(key).collect::<Vec<_>>());
        assert_eq!((got[0].1.as_str(), got[2].1.as_str(), got[3].1.as_str()), ("user:0", "user:4", "user:4"));
    }

    #[test]
    fn shares_collected_apart_join_in_order_only_when_they_follow_each_other() {
        let key = |f: &Finding| (f.rule.to_string(), f.entity.clone());
        let share = |range: std::ops::Range<u32>| {
            let mut f = Findings::default();
            for i in range {
                f.push(finding("ACC001", &format!("user:{i}")));
                f.push(finding("ACC009", &format!("customer:{i}")));
            }
            f
        };
        for (front, back) in [(0..50, 50..100), (50..100, 0..50), (0..60, 40..100)] {
            let mut all = share(front.clone());
            all.append(share(back.clone()));
            all.append(Findings::default());
            assert_eq!(all.len(), 2 * (front.len() + back.len()));
            let got: Vec<_> = Ordered::from(all).iter().map(key).collect();
            let mut plain: Vec<Finding> = front.chain(back).flat_map(|i| [finding("ACC001", &format!("user:{i}")), finding("ACC009", &format!("customer:{i}"))]).collect();
            plain.sort_by(compare_findings);
            assert_eq!(got, plain.iter().map(key).collect::<Vec<_>>());
        }
        assert!(Findings::default().is_empty() && Ordered::from(Findings::default()).is_empty());
    }

    #[test]
    fn a_cut_group_says_where_the_rest_is() {
        let many: Vec<Finding> = (0..7).map(|i| finding("ACC001", &format!("user:{i}"))).collect();
        let mut r = Report::new("t", (), many, vec![]);
        r.bound(2);
        r.report_file = Some(".billguard/reports/t.json".into());
        let text = r.render(Format::Text, false);
        assert!(text.contains("x7, 2 shown; the other 5 are in the full report .billguard/reports/t.json"), "{text}");
    }

    #[test]
    fn verdict_follows_severities() {
        let pass = Report::new("t", (), vec![], vec![]);
        assert_eq!(pass.verdict, Verdict::Pass);
        assert_eq!(pass.exit_code(true), 0);
        let warn = Report::new("t", (), vec![finding("ACC009", "customer:c")], vec![]);
        assert_eq!(warn.verdict, Verdict::Warn);
        assert_eq!((warn.exit_code(false), warn.exit_code(true)), (0, 1));
        let fail = Report::new("t", (), vec![finding("ACC009", "customer:c"), finding("ACC001", "user:1")], vec![]);
        assert_eq!(fail.verdict, Verdict::Fail);
        assert_eq!(fail.exit_code(false), 1);
        assert_eq!(fail.findings[0].rule, "ACC001", "high findings come first");
        assert_eq!(fail.summary.by_rule["ACC009"], 1);
    }

    #[test]
    fn json_shape_matches_design() {
        let r = Report::new(
            "check_access_contract",
            serde_json::json!({"users": 1}),
            vec![finding("ACC001", "user:usr_alice").evidence("db_access", false)],
            vec!["a note".into()],
        );
        let v = r.to_json_value();
        let keys: Vec<_> = v.as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys, ["tool", "verdict", "summary", "scope", "findings", "omitted", "notes", "report_file"]);
        let f = &v["findings"][0];
        let fkeys: Vec<_> = f.as_object().unwrap().keys().cloned().collect();
        assert_eq!(fkeys, ["rule", "name", "severity", "entity", "message", "fix", "evidence", "location"]);
        assert_eq!(f["severity"], "high");
        assert_eq!(v["verdict"], "fail");
        assert_eq!(v["summary"]["by_rule"]["ACC001"], 1);
        assert!(f["location"].is_null());
    }

    #[test]
    fn natural_order_of_entities() {
        let mut ids = vec!["user:10", "user:9", "user:a", "user:09x"];
        ids.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(ids, ["user:9", "user:09x", "user:10", "user:a"]);
    }

    #[test]
    fn bounding_keeps_every_rule_and_counts_the_rest() {
        let mut findings: Vec<_> = (0..30).map(|i| finding("ACC001", &format!("user:{i}"))).collect();
        findings.push(finding("ACC009", "customer:x"));
        findings.push(finding("ACC005", "customer:y"));
        let mut r = Report::new("t", (), findings, vec![]);
        assert_eq!(r.bound(5), 27);
        assert_eq!(r.findings.len(), 5);
        assert_eq!(r.omitted, 27);
        let rules: Vec<_> = r.findings.iter().map(|f| &*f.rule).collect();
        assert_eq!(rules, ["ACC001", "ACC001", "ACC001", "ACC005", "ACC009"]);
        assert_eq!(r.summary.by_rule["ACC001"], 30, "summary still counts everything");
        assert_eq!(r.bound(50), 0);
    }

    #[test]
    fn renderers_redact_and_group() {
        // Built at run time so that no key-shaped literal sits in the source.
        let key = &format!("{}{}", "sk_live_", "4fQ9zXv2Lm8Rt1Yp6Wc3Nb7Ka1b2");
        let r = Report::new(
            "t",
            (),
            vec![finding("ACC001", "user:1").evidence("leak", key.as_str()), finding("ACC001", "user:2")],
            vec![format!("saw {key}")],
        );
        for format in [Format::Text, Format::Json, Format::Markdown, Format::Sarif] {
            let out = r.render(format, false);
            assert!(!out.contains(key), "{format:?} leaked: {out}");
        }
        let text = r.render(Format::Text, false);
        assert_eq!(text.matches("ACC001 revenue-leak").count(), 1, "{text}");
        assert_eq!(text.matches("fix:").count(), 2, "{text}");
        assert!(!text.contains('\x1b'));
        assert!(r.render(Format::Text, true).contains('\x1b'));
        let md = r.render(Format::Markdown, false);
        assert!(md.contains("| ACC001 | revenue-leak | high | 2 |"), "{md}");
    }

    #[test]
    fn notes_are_bounded() {
        let notes = (0..100).map(|i| format!("n{i}")).collect();
        let r = Report::new("t", (), vec![], notes);
        assert_eq!(r.notes.len(), MAX_NOTES);
        assert!(r.notes.last().unwrap().contains("76 more"));
    }
}
