//! Monorepos: the apps below the root. An app is a folder that a workspace
//! declares (package.json `workspaces`, pnpm-workspace.yaml `packages`) or
//! that sits where apps conventionally sit (`apps/*`, `packages/*`,
//! `template/app`, Wasp's Open SaaS layout).

use std::path::Path;

const MAX_APPS: usize = 100;
const CONVENTIONAL: [&str; 3] = ["apps/*", "packages/*", "template/app"];

/// App folders relative to `repo`, sorted, without the root itself.
pub fn find(repo: &Path) -> Vec<String> {
    let mut patterns: Vec<String> = CONVENTIONAL.iter().map(|p| p.to_string()).collect();
    if let Some(text) = super::schema_files::read_bounded(&repo.join("package.json"))
        && let Ok(json) = serde_json::from_str::<serde_json::Value>(&text)
    {
        let list = json.get("workspaces").map(|w| w.get("packages").unwrap_or(w));
        if let Some(items) = list.and_then(|l| l.as_array()) {
            patterns.extend(items.iter().filter_map(|i| i.as_str()).map(str::to_string));
        }
    }
    if let Some(text) = super::schema_files::read_bounded(&repo.join("pnpm-workspace.yaml")) {
        patterns.extend(pnpm_packages(&text));
    }
    let mut out: Vec<String> = Vec::new();
    for pattern in patterns {
        for dir in expand(repo, &pattern) {
            if out.len() < MAX_APPS && !out.contains(&dir) {
                out.push(dir);
            }
        }
    }
    out.sort();
    out
}

/// The `packages:` list of pnpm-workspace.yaml (`- 'apps/*'` lines).
fn pnpm_packages(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut inside = false;
    for line in text.lines() {
        if !line.starts_with([' ', '\t', '-']) && !line.trim().is_empty() {
            inside = line.trim_end() == "packages:";
            continue;
        }
        if inside && let Some(item) = line.trim().strip_prefix('-') {
            out.push(item.trim().trim_matches(|c| c == '\'' || c == '"').to_string());
        }
    }
    out
}

/// The folders a workspace pattern names: `dir`, `dir/*` and `dir/**` (one
/// level); negations, absolute paths and `..` are passed over, and so are
/// symlinked folders.
fn expand(repo: &Path, pattern: &str) -> Vec<String> {
    let pattern = pattern.trim().trim_start_matches("./").trim_end_matches('/');
    if pattern.is_empty() || pattern.starts_with('!') || pattern.starts_with('/') || pattern.split('/').any(|s| s == "..") {
        return Vec::new();
    }
    let is_dir = |rel: &str| std::fs::symlink_metadata(repo.join(rel)).is_ok_and(|m| m.is_dir());
    let base = pattern.trim_end_matches("/**").trim_end_matches("/*");
    if base.contains('*') {
        return Vec::new();
    }
    if base == pattern {
        return if is_dir(base) { vec![base.to_string()] } else { Vec::new() };
    }
    let Ok(rd) = std::fs::read_dir(repo.join(base)) else { return Vec::new() };
    let mut out: Vec<String> = rd
        .filter_map(Result::ok)
        .map(|e| format!("{base}/{}", e.file_name().to_string_lossy()))
        .filter(|rel| !rel.rsplit('/').next().unwrap_or("").starts_with('.') && is_dir(rel))
        .collect();
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pnpm_workspace_packages_are_read() {
        let yaml = "packages:\n  - 'apps/*'\n  - \"services/**\"\n  - '!**/test/**'\ncatalog:\n  - not-this\n";
        assert_eq!(pnpm_packages(yaml), ["apps/*", "services/**", "!**/test/**"]);
    }
}
