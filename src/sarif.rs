//! SARIF 2.1.0 output, for GitHub code scanning and other SARIF consumers.
//! Rules come from the catalog; findings with a location become results with
//! a physical location, the others results without one.

use serde_json::{Value, json};

use crate::report::{Finding, Report, Severity};
use crate::rules;

pub const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
const INFORMATION_URI: &str = "https://crates.io/crates/billguard";

fn level(s: Severity) -> &'static str {
    match s {
        Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low => "note",
    }
}

/// FNV-1a: a fingerprint that is stable across runs and Rust versions.
fn fingerprint(f: &Finding) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in f.rule.bytes().chain([0]).chain(f.entity.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// One result; `check` names the check it came from when a run mixes checks.
fn result(f: &Finding, rule_index: Option<usize>, check: Option<&str>) -> Value {
    let mut r = json!({
        "ruleId": f.rule,
        "level": level(f.severity),
        "message": {"text": format!("{} Fix: {}", f.message, f.fix)},
        "partialFingerprints": {"billguard/v1": fingerprint(f)},
        "properties": {"entity": f.entity, "severity": f.severity.as_str(), "evidence": f.evidence},
    });
    if let Some(i) = rule_index {
        r["ruleIndex"] = json!(i);
    }
    if let Some(check) = check {
        r["properties"]["check"] = json!(check);
    }
    if let Some(loc) = &f.location {
        r["locations"] = json!([{
            "physicalLocation": {
                "artifactLocation": {"uri": loc.path, "uriBaseId": "%SRCROOT%"},
                "region": {"startLine": loc.line.max(1)}
            }
        }]);
    }
    r
}

/// The report as a SARIF log (one run). Strings are redacted by the caller.
pub fn to_sarif<S>(report: &Report<S>) -> Value {
    let findings: Vec<(&Finding, Option<&str>)> = report.findings.iter().map(|f| (f, None)).collect();
    let mut sarif = log(&report.tool, &findings, json!({"verdict": report.verdict, "omitted": report.omitted, "notes": report.notes}));
    add_suppressed(&mut sarif, &report.suppressed_findings, None);
    sarif
}

/// Accepted findings stay visible to code scanning as suppressed results: an inline
/// `billguard-ignore` is `inSource`, a billguard.toml `[[ignore]]` entry `external`.
pub fn add_suppressed(sarif: &mut Value, suppressed: &[(Finding, String)], check: Option<&str>) {
    if let Some(results) = sarif["runs"][0]["results"].as_array_mut() {
        for (f, why) in suppressed {
            let mut r = result(f, rules::all().position(|r| r.code == f.rule), check);
            let kind = if why.starts_with("billguard.toml") { "external" } else { "inSource" };
            r["suppressions"] = json!([{"kind": kind, "justification": why}]);
            results.push(r);
        }
    }
}

/// A SARIF log of one run for `tool`, with the whole rule catalog, these findings
/// (each with the check it came from, if given) and the run's `properties`.
pub fn log(tool: &str, findings: &[(&Finding, Option<&str>)], properties: Value) -> Value {
    let catalog: Vec<&rules::Rule> = rules::all().collect();
    let rules: Vec<Value> = catalog
        .iter()
        .map(|r| {
            json!({
                "id": r.code,
                "name": r.name,
                "shortDescription": {"text": r.finds},
                "fullDescription": {"text": format!("{} {}", r.finds, r.why)},
                "help": {"text": format!("{}\n\nExample: {}\n\nFix: {}", r.why, r.example, r.fix)},
                "defaultConfiguration": {"level": level(r.severity)},
                "properties": {"severity": r.severity.as_str()}
            })
        })
        .collect();
    let results: Vec<Value> = findings.iter().map(|(f, check)| result(f, catalog.iter().position(|r| r.code == f.rule), *check)).collect();
    json!({
        "version": "2.1.0",
        "$schema": SCHEMA,
        "runs": [{
            "tool": {"driver": {
                "name": "billguard",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": INFORMATION_URI,
                "rules": rules
            }},
            "automationDetails": {"id": format!("billguard/{tool}/")},
            "results": results,
            "properties": properties
        }]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sarif_has_the_required_shape() {
        let rule = rules::get("WH004").unwrap();
        let f = Finding::new(rule, "handler:a.ts#checkout.session.completed", "grant removed").at("a.ts", 12);
        let g = Finding::new(rules::get("ACC001").unwrap(), "user:1", "no access");
        let report = Report::new("diff_webhook_handler", (), vec![f, g], vec![]);
        let v = to_sarif(&report);
        assert_eq!(v["version"], "2.1.0");
        assert!(v["$schema"].as_str().unwrap().contains("sarif-2.1.0"));
        let run = &v["runs"][0];
        let driver = &run["tool"]["driver"];
        assert_eq!(driver["name"], "billguard");
        assert!(driver["informationUri"].is_string() && driver["version"].is_string());
        assert!(driver["rules"].as_array().unwrap().iter().any(|r| r["id"] == "WH018"));
        let results = run["results"].as_array().unwrap();
        let r0 = results.iter().find(|r| r["ruleId"] == "WH004").unwrap();
        assert_eq!(r0["ruleId"], "WH004");
        assert_eq!(r0["level"], "error");
        assert_eq!(r0["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], "a.ts");
        assert_eq!(r0["locations"][0]["physicalLocation"]["region"]["startLine"], 12);
        let idx = r0["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(driver["rules"][idx]["id"], "WH004");
        let acc = results.iter().find(|r| r["ruleId"] == "ACC001").unwrap();
        assert!(acc.get("locations").is_none());
    }
}
