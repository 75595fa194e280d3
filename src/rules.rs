//! The rule catalog: every rule's stable code, name, default severity and
//! documentation. Codes are stable forever; a retired code is never reused.
//! `billguard rules [CODE]` prints from here, and checks build their
//! findings from these entries so that names and fixes cannot drift apart.

use std::fmt::Write as _;

use crate::report::Severity;

#[derive(Debug)]
pub struct Rule {
    pub code: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    /// What the rule finds, in one line.
    pub finds: &'static str,
    /// Why it costs money or leaks access.
    pub why: &'static str,
    /// A concrete example.
    pub example: &'static str,
    /// The default fix, shown under each finding.
    pub fix: &'static str,
}

/// Every rule family, in catalog order. A check's rules join here when the
/// check exists: a code listed is a code billguard reports.
const FAMILIES: &[&[Rule]] = &[crate::access::rules::RULES, crate::keys::rules::RULES, crate::webhook::rules::RULES];

/// Every rule in the catalog.
pub fn all() -> impl Iterator<Item = &'static Rule> {
    FAMILIES.iter().flat_map(|f| f.iter())
}

/// The rule with this code, case-insensitively.
pub fn get(code: &str) -> Option<&'static Rule> {
    all().find(|r| r.code.eq_ignore_ascii_case(code))
}

/// One line per rule.
pub fn render_catalog() -> String {
    let mut out = String::new();
    for r in all() {
        let _ = writeln!(out, "{}  {:<34} {:<6}  {}", r.code, r.name, r.severity.as_str(), r.finds);
    }
    out.push_str("\n`billguard rules CODE` explains one rule.\n");
    out
}

/// The full documentation of one rule.
pub fn render_rule(r: &Rule) -> String {
    format!(
        "{} {} ({})\n\nFinds: {}\n\nWhy it matters: {}\n\nExample: {}\n\nFix: {}\n",
        r.code,
        r.name,
        r.severity.as_str(),
        r.finds,
        r.why,
        r.example,
        r.fix
    )
}

/// One rule's documentation as Markdown (the MCP resource `billguard://rules/{code}`).
pub fn render_rule_markdown(r: &Rule) -> String {
    format!(
        "# {} {}\n\nSeverity: **{}**\n\n## What it finds\n\n{}\n\n## Why it matters\n\n{}\n\n## Example\n\n{}\n\n## Fix\n\n{}\n\n\
         `billguard rules {}` prints this on the command line.\n",
        r.code,
        r.name,
        r.severity.as_str(),
        r.finds,
        r.why,
        r.example,
        r.fix,
        r.code
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_well_formed() {
        let mut codes: Vec<_> = all().map(|r| r.code).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), all().count());
        for r in all() {
            assert!(r.code.len() >= 5 && r.code.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()));
            assert!(!r.name.is_empty() && !r.finds.is_empty() && !r.why.is_empty());
            assert!(!r.example.is_empty() && !r.fix.is_empty());
        }
    }

    #[test]
    fn lookup_is_case_insensitive() {
        assert_eq!(get("acc004").unwrap().name, "unmapped-price");
        assert!(get("ACC999").is_none());
        assert!(render_rule(get("ACC010").unwrap()).contains("wrong mode"));
        let md = render_rule_markdown(get("WH004").unwrap());
        assert!(md.starts_with("# WH004 access-grant-removed\n") && md.contains("## Fix"), "{md}");
        assert_eq!(render_catalog().lines().filter(|l| l.starts_with("ACC")).count(), 10);
    }
}
