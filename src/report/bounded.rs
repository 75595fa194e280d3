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

