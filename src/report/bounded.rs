//! Bounding a report for its reader: the MCP server and the CLI both cut the
//! findings to a maximum and keep the full report in a file under
//! `.billguard/reports/`.

use std::path::Path;

use serde::Serialize;

use super::Report;
use crate::paths;

/// Cuts the findings to `max`; when anything is cut, writes the full report
/// under `.billguard/reports/` and points to it.
pub fn bound_and_save<S: Serialize>(repo: &Path, report: &mut Report<S>, max: usize) {
    if report.findings.len() <= max {
        return;
    }
    let full = report.to_json_text();
    match paths::save_report(repo, &report.tool, &full) {
        Ok(rel) => report.report_file = Some(rel),
        Err(e) => report.notes.push(format!("the full report could not be written under .billguard/reports/: {e}")),
    }
    report.bound(max);
}


/// Longest list kept anywhere in a result's `scope` (matrix rows, handler files...).
pub const MAX_SCOPE_ITEMS: usize = 40;
/// Most notes kept in a result.
pub const MAX_NOTES: usize = 30;
/// Longest string kept in a result (a note, a message).
pub const MAX_TEXT: usize = 1_000;

/// Bounds every part of a result that can grow with the repository: lists in
/// `scope` (at any depth, and in `check_all`'s sections), the notes, and long
/// strings. Returns what was cut, for a note; the caller keeps the full report
/// in a file.
pub fn bound_json(value: &mut serde_json::Value) -> Vec<String> {
    let mut cut = Vec::new();
    bound_at(value, "", false, &mut cut);
    cut
}

fn bound_at(value: &mut serde_json::Value, path: &str, in_scope: bool, cut: &mut Vec<String>) {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                let child = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                let scope = in_scope || k == "scope";
                if k == "notes"
                    && let Value::Array(items) = v
                    && items.len() > MAX_NOTES
                {
                    cut.push(format!("{child}: {} of {} shown", MAX_NOTES, items.len()));
                    items.truncate(MAX_NOTES);
                }
                bound_at(v, &child, scope, cut);
            }
        }
        Value::Array(items) => {
            if in_scope && items.len() > MAX_SCOPE_ITEMS {
                cut.push(format!("{path}: {} of {} shown", MAX_SCOPE_ITEMS, items.len()));
                items.truncate(MAX_SCOPE_ITEMS);
            }
            for (i, item) in items.iter_mut().enumerate() {
                bound_at(item, &format!("{path}[{i}]"), in_scope, cut);
            }
        }
        Value::String(s) if s.len() > MAX_TEXT => {
            let mut end = MAX_TEXT;
            while !s.is_char_boundary(end) {
                end -= 1;
            }
            s.truncate(end);
            s.push_str("… (cut; the full text is in report_file)");
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn scope_lists_notes_and_long_texts_are_bounded() {
        let rows: Vec<_> = (0..100).map(|i| json!({"variable": format!("V{i}")})).collect();
        let mut v = json!({
            "scope": {"matrix": {"rows": rows}, "few": [1, 2]},
            "findings": (0..60).collect::<Vec<_>>(),
            "notes": (0..45).map(|i| format!("n{i}")).collect::<Vec<_>>(),
            "sections": {"keys": {"report": {"scope": {"matrix": {"rows": (0..41).collect::<Vec<_>>()}}}}},
            "message": "x".repeat(5000),
        });
        let cut = bound_json(&mut v);
        assert_eq!(v["scope"]["matrix"]["rows"].as_array().unwrap().len(), MAX_SCOPE_ITEMS);
        assert_eq!(v["scope"]["few"], json!([1, 2]));
        assert_eq!(v["findings"].as_array().unwrap().len(), 60, "findings are bounded by max_findings, not here");
        assert_eq!(v["notes"].as_array().unwrap().len(), MAX_NOTES);
        assert_eq!(v["sections"]["keys"]["report"]["scope"]["matrix"]["rows"].as_array().unwrap().len(), MAX_SCOPE_ITEMS);
        assert!(v["message"].as_str().unwrap().len() < 1100);
        assert_eq!(cut, ["scope.matrix.rows: 40 of 100 shown", "notes: 30 of 45 shown", "sections.keys.report.scope.matrix.rows: 40 of 41 shown"]);
    }
}
