//! Which files git tracks (`git ls-files`): KEY004 judges only those.

use std::collections::HashSet;
use std::path::Path;
use std::process::{Command, Stdio};

/// Repo-relative paths in git's index, or why they are unknown.
pub fn tracked_files(root: &Path) -> Result<HashSet<String>, String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["ls-files", "-z", "--full-name"])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("git could not be run ({e})"))?;
    if !out.status.success() {
        return Err("not a git repository".into());
    }
    let prefix = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["rev-parse", "--show-prefix"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    Ok(out
        .stdout
        .split(|b| *b == 0)
        .filter(|p| !p.is_empty())
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .filter_map(|p| p.strip_prefix(prefix.as_str()).map(str::to_string))
        .collect())
}
