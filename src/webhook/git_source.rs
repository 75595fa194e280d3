//! The changed files of a working tree (uncommitted changes and untracked
//! files included) against a base, and both versions of each, through the
//! git command line.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::FileChange;
use crate::error::CheckError;

/// Git's empty tree: as a base, every file of the working tree is new (`billguard baseline`).
pub const EMPTY_TREE: &str = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";

pub struct GitChanges {
    /// The repository's top directory.
    pub top: PathBuf,
    /// The base commit (or the empty tree).
    pub base_sha: String,
    /// How the base was chosen, e.g. "merge-base with main (1a2b3c4)".
    pub base_label: String,
    pub changes: Vec<FileChange>,
    /// Changed files that could not be reviewed, each with why: a report must say so.
    pub unreviewed: Vec<String>,
}

fn git(dir: &Path, args: &[&str]) -> Result<Vec<u8>, String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run git: {e}; install git or pass the diff text instead"))?;
    if out.status.success() {
        Ok(out.stdout)
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
    }
}

fn git_text(dir: &Path, args: &[&str]) -> Result<String, String> {
    git(dir, args).map(|o| String::from_utf8_lossy(&o).trim().to_string())
}

fn verify(dir: &Path, rev: &str) -> Option<String> {
    git_text(dir, &["rev-parse", "--verify", "--quiet", &format!("{rev}^{{commit}}")]).ok().filter(|s| !s.is_empty())
}

fn short(sha: &str) -> &str {
    &sha[..sha.len().min(7)]
}

/// Refs a diff read inside a checkout may apply to, in the order they are tried:
/// the current commit, then the default branch.
pub const REF_CANDIDATES: &[&str] = &["HEAD", "origin/HEAD", "main", "master", "origin/main", "origin/master"];

/// A file's text at a commit (`path` relative to `repo`), with the commit's short id.
pub fn file_at(repo: &Path, rev: &str, path: &str) -> Option<(String, String)> {
    let sha = verify(repo, rev)?;
    let blob = git(repo, &["show", &format!("{sha}:./{path}")]).ok()?;
    Some((short(&sha).to_string(), String::from_utf8(blob).ok()?))
}

/// Picks the base: the given ref, else the merge-base with the default branch, else HEAD.
fn resolve_base(top: &Path, base: Option<&str>) -> Result<(String, String), CheckError> {
    if let Some(b) = base {
        if b.starts_with('-') || b.contains("..") || b.trim().is_empty() {
            return Err(CheckError::Usage(format!("base `{b}` is not a git ref; give a branch, tag or commit such as `main` or `HEAD~1`")));
        }
        if b == EMPTY_TREE {
            return Ok((EMPTY_TREE.to_string(), "the empty tree (every file is new)".into()));
        }
        return match verify(top, b) {
            Some(sha) => Ok((sha.clone(), format!("{b} ({})", short(&sha)))),
            None => Err(CheckError::Usage(format!(
                "base ref `{b}` does not exist in this repository; give a branch, tag or commit that `git rev-parse` knows (for example `main`, `origin/main` or `HEAD~1`)"
            ))),
        };
    }
    let Some(head) = verify(top, "HEAD") else {
        return Ok((EMPTY_TREE.to_string(), "the empty tree (no commits yet)".into()));
    };
    let mut candidates = Vec::new();
    if let Ok(r) = git_text(top, &["symbolic-ref", "--quiet", "--short", "refs/remotes/origin/HEAD"]) {
        candidates.push(r);
    }
    candidates.extend(["main", "master", "origin/main", "origin/master"].map(String::from));
    for c in candidates {
        if verify(top, &c).is_some() {
            if let Ok(mb) = git_text(top, &["merge-base", "HEAD", &c]) {
                if !mb.is_empty() {
                    return Ok((mb.clone(), format!("merge-base with {c} ({})", short(&mb))));
                }
            }
        }
    }
    Ok((head.clone(), format!("HEAD ({})", short(&head))))
}

/// Files worth reading: source files and env files.
/// Prefix that marks a path git gave as bytes that are not UTF-8.
const NOT_UTF8: &str = "\u{0}not-utf8:";

fn wanted(path: &str) -> bool {
    // billguard's own output is never part of a change.
    if path.starts_with(".billguard/") {
        return false;
    }
    let name = path.rsplit('/').next().unwrap_or(path);
    // Sources in languages billguard does not parse are read too: a handler among them is named as not examined.
    // Schema files tell a column dropped on purpose from an access write lost.
    name.starts_with(".env") || super::lang::Language::of_path(path).is_some() || super::detect::foreign_source(path).is_some() || crate::app_schema::is_schema_file(path)
}

pub fn changes(repo: &Path, base: Option<&str>) -> Result<GitChanges, CheckError> {
    if !repo.is_dir() {
        return Err(CheckError::Usage(format!("{} is not a directory", repo.display())));
    }
    let top = git_text(repo, &["rev-parse", "--show-toplevel"]).map_err(|e| {
        CheckError::Usage(format!(
            "{} is not a git repository ({e}); run billguard inside a git checkout, or pass the diff text (`--diff FILE` on the CLI, `diff` over MCP)",
            repo.display()
        ))
    })?;
    let top = PathBuf::from(top);
    let (base_sha, base_label) = resolve_base(&top, base)?;
    let raw = git(&top, &["diff", "--raw", "-z", "-M", "--no-color", "--no-ext-diff", &base_sha])
        .map_err(|e| CheckError::Usage(format!("git diff against {base_label} failed: {e}")))?;
    let mut changes = Vec::new();
    let mut unreviewed = Vec::new();
    let mut fields = raw.split(|b| *b == 0).map(|f| match std::str::from_utf8(f) {
        Ok(s) => s.to_string(),
        // Marked so that the change is reported as not reviewed rather than read under a wrong name.
        Err(_) => format!("{NOT_UTF8}{}", String::from_utf8_lossy(f)),
    });
    while let Some(meta) = fields.next() {
        let Some(meta) = meta.strip_prefix(':') else { continue };
        let parts: Vec<&str> = meta.split(' ').collect();
        let (old_mode, new_mode, status) = match parts.as_slice() {
            [om, nm, _, _, st] => (om.to_string(), nm.to_string(), st.to_string()),
            _ => continue,
        };
        let first = fields.next().unwrap_or_default();
        let second = if status.starts_with('R') || status.starts_with('C') { fields.next() } else { None };
        let (old_path, new_path) = match status.chars().next() {
            Some('A') => (None, Some(first)),
            Some('D') => (Some(first), None),
            Some('R') | Some('C') => (Some(first), second),
            _ => (Some(first.clone()), Some(first)),
        };
        if [&old_path, &new_path].into_iter().flatten().any(|p| p.starts_with(NOT_UTF8)) {
            let shown = new_path.as_deref().or(old_path.as_deref()).unwrap_or_default().trim_start_matches(NOT_UTF8).to_string();
            if wanted(&shown) {
                unreviewed.push(format!("{shown}: not reviewed: its path is not valid UTF-8; rename it, or review this change by hand"));
            }
            continue;
        }
        if [&old_path, &new_path].into_iter().flatten().all(|p| p.starts_with(".billguard/")) {
            continue;
        }
        let mode_change = (old_mode != new_mode && old_mode != "000000" && new_mode != "000000").then(|| (old_mode.clone(), new_mode.clone()));
        changes.push(FileChange {
            old_path,
            new_path,
            before: None,
            after: None,
            binary: false,
            mode_change,
            renamed: status.starts_with('R'),
            partial: false,
            hunks: Vec::new(),
        });
        if old_mode == "120000" || new_mode == "120000" {
            changes.last_mut().expect("pushed").binary = true;
        }
    }
    if let Ok(untracked) = git(&top, &["ls-files", "--others", "--exclude-standard", "-z"]) {
        for p in untracked.split(|b| *b == 0).filter(|p| !p.is_empty()) {
            let Ok(p) = std::str::from_utf8(p).map(str::to_string) else {
                let shown = String::from_utf8_lossy(p).into_owned();
                if wanted(&shown) {
                    unreviewed.push(format!("{shown}: not reviewed: its path is not valid UTF-8; rename it, or review this change by hand"));
                }
                continue;
            };
            if p.starts_with(".billguard/") {
                continue;
            }
            changes.push(FileChange { old_path: None, new_path: Some(p), ..FileChange::default() });
        }
    }
    // Old versions in one `git cat-file --batch`; new versions from the working tree.
    let olds: Vec<usize> = (0..changes.len()).filter(|&i| changes[i].old_path.as_deref().is_some_and(wanted) && !changes[i].binary).collect();
    let specs: Vec<String> = olds.iter().map(|&i| format!("{base_sha}:{}", changes[i].old_path.as_deref().unwrap_or(""))).collect();
    let blobs = cat_batch(&top, &specs).map_err(|e| CheckError::Usage(format!("reading the base versions failed: {e}")))?;
    for (i, blob) in olds.into_iter().zip(blobs) {
        changes[i].before = blob;
    }
    for c in &mut changes {
        if let Some(p) = c.new_path.as_deref().filter(|p| wanted(p)) {
            if !c.binary {
                c.after = std::fs::read(top.join(p)).ok();
            }
        }
    }
    Ok(GitChanges { top, base_sha, base_label, changes, unreviewed })
}

/// `git cat-file --batch` for many objects at once; `None` for a missing one.
fn cat_batch(top: &Path, specs: &[String]) -> Result<Vec<Option<Vec<u8>>>, String> {
    if specs.is_empty() {
        return Ok(Vec::new());
    }
    let mut child = Command::new("git")
        .arg("-C")
        .arg(top)
        .args(["cat-file", "--batch"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot run git: {e}"))?;
    let mut stdin = child.stdin.take().ok_or("no stdin")?;
    let input = specs.join("\n") + "\n";
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let mut out = Vec::new();
    child.stdout.take().ok_or("no stdout")?.read_to_end(&mut out).map_err(|e| e.to_string())?;
    let _ = writer.join();
    let _ = child.wait();
    let mut blobs = Vec::new();
    let mut at = 0;
    for _ in specs {
        let Some(nl) = out[at..].iter().position(|b| *b == b'\n') else { break };
        let header = String::from_utf8_lossy(&out[at..at + nl]).into_owned();
        at += nl + 1;
        let parts: Vec<&str> = header.split(' ').collect();
        match parts.as_slice() {
            [_, "blob", size] => {
                let size: usize = size.parse().map_err(|_| format!("bad cat-file header: {header}"))?;
                let end = (at + size).min(out.len());
                blobs.push(Some(out[at..end].to_vec()));
                at = end + 1;
            }
            [_, _, size] => {
                let size: usize = size.parse().unwrap_or(0);
                at = (at + size + 1).min(out.len());
                blobs.push(None);
            }
            _ => blobs.push(None),
        }
    }
    blobs.resize(specs.len(), None);
    Ok(blobs)
}

/// Env variable names declared by the env files at the repo's top (examples included).
pub fn declared_env(top: &Path) -> Vec<String> {
    let mut names = Vec::new();
    let Ok(dir) = std::fs::read_dir(top) else { return names };
    for entry in dir.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let is_env = name.starts_with(".env") || name.ends_with(".env") || name.contains(".env.") || name == "env.example";
        if !is_env || !entry.path().is_file() {
            continue;
        }
        if let Ok(text) = std::fs::read(entry.path()) {
            names.extend(super::env_file_names(&String::from_utf8_lossy(&text)));
        }
    }
    names.extend(elixir_config_keys(top));
    names
}

/// Keys an Elixir app's `config/*.exs` sets (`config :app, paddle_webhook_secret: ...`):
/// what `Application.get_env(:app, :paddle_webhook_secret)` reads is declared there, as an
/// environment variable is in an env file.
fn elixir_config_keys(top: &Path) -> Vec<String> {
    static KEY: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let key = super::resolve::re(&KEY, r"\b([a-z_][a-z0-9_]*):\s");
    let Ok(dir) = std::fs::read_dir(top.join("config")) else { return Vec::new() };
    let mut out = Vec::new();
    for entry in dir.flatten().filter(|e| e.file_name().to_string_lossy().ends_with(".exs")) {
        let Ok(text) = std::fs::read_to_string(entry.path()) else { continue };
        for c in key.captures_iter(&text) {
            out.push(c[1].to_string());
            out.push(format!(":{}", &c[1]));
        }
    }
    out
}

/// Whether a word occurs in any tracked file other than `except`.
pub fn used_elsewhere(top: &Path, word: &str, except: &[&str]) -> bool {
    let Ok(out) = git(top, &["grep", "-l", "-F", "-w", "-e", word]) else { return false };
    String::from_utf8_lossy(&out).lines().any(|p| !except.contains(&p) && !crate::paths::is_own_output(p))
}

/// Source files that mention any of `words` (case-insensitive), with their
/// text: at a commit (`rev`), or in the working tree (tracked and untracked,
/// not ignored), dependency directories left out. Bounded: the first 3,000
/// files under 1 MB each.
pub fn tree_files(top: &Path, rev: Option<&str>, words: &[&str]) -> std::collections::BTreeMap<String, String> {
    let mut args: Vec<String> = vec!["grep".into(), "-l".into(), "-I".into(), "-i".into(), "-F".into(), "-z".into()];
    if rev.is_none() {
        args.push("--untracked".into());
    }
    for w in words {
        args.push("-e".into());
        args.push((*w).into());
    }
    if let Some(r) = rev {
        args.push(r.into());
    }
    // Dependency directories are not searched at all: they are most of a vendored tree.
    args.push("--".into());
    args.push(".".into());
    for d in crate::paths::DEPENDENCY_DIRS {
        args.push(format!(":(exclude,glob)**/{d}/**"));
    }
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let Ok(out) = git(top, &refs) else { return Default::default() };
    let prefix = rev.map(|r| format!("{r}:")).unwrap_or_default();
    let paths: Vec<String> = out
        .split(|b| *b == 0)
        .filter(|p| !p.is_empty())
        .map(|p| String::from_utf8_lossy(p).trim_start_matches(prefix.as_str()).to_string())
        .filter(|p| scanned_path(p))
        .take(3000)
        .collect();
    // The same bounded reader as the resolver's: no symlink followed out of the checkout.
    let texts = read_sources(top, rev, &paths, SCANNED_MAX_BYTES);
    paths.into_iter().zip(texts).filter_map(|(p, t)| Some((p, t?))).collect()
}

/// The largest file [`tree_files`] reads.
const SCANNED_MAX_BYTES: usize = (1 << 20) - 1;

/// A source file of the app's own (not vendored, built or billguard's output).
fn scanned_path(p: &str) -> bool {
    super::lang::Language::of_path(p).is_some() && !crate::paths::is_own_output(p) && !crate::paths::is_vendored_or_built(p)
}

/// Whether [`tree_files`] would hold the file `path` with content `bytes`: the
/// same test for a version it did not search (the base side of a change).
pub fn worth_scanning(path: &str, bytes: &[u8], words: &[&str]) -> bool {
    if !scanned_path(path) || bytes.len() > SCANNED_MAX_BYTES || bytes.contains(&0) {
        return false;
    }
    let lower = String::from_utf8_lossy(bytes).to_ascii_lowercase();
    words.iter().any(|w| lower.contains(&w.to_ascii_lowercase()))
}

/// Source files (by extension) of a commit, or of the working tree (tracked
/// and untracked, ignored files left out) when `rev` is None.
pub fn source_paths(top: &Path, rev: Option<&str>) -> Vec<String> {
    let out = match rev {
        Some(r) => git(top, &["ls-tree", "-r", "-z", "--name-only", r]),
        None => git(top, &["ls-files", "-z", "-c", "-o", "--exclude-standard"]),
    };
    let Ok(out) = out else { return Vec::new() };
    let mut paths: Vec<String> = out
        .split(|b| *b == 0)
        .filter(|p| !p.is_empty())
        .filter_map(|p| std::str::from_utf8(p).ok())
        .filter(|p| super::lang::Language::of_path(p).is_some() && !crate::paths::is_own_output(p) && !crate::paths::is_vendored_or_built(p))
        .map(str::to_string)
        .collect();
    paths.sort();
    paths.dedup();
    paths
}

/// The texts of `paths` at `rev`, or in the working tree (never following a
/// symlink out of `top`); None for a missing, unreadable or oversized file.
pub fn read_sources(top: &Path, rev: Option<&str>, paths: &[String], max_bytes: usize) -> Vec<Option<String>> {
    let decode = |b: Vec<u8>| (b.len() <= max_bytes).then(|| String::from_utf8_lossy(&b).into_owned());
    match rev {
        Some(r) => {
            let specs: Vec<String> = paths.iter().map(|p| format!("{r}:{p}")).collect();
            let mut blobs = cat_batch(top, &specs).unwrap_or_default();
            blobs.resize(paths.len(), None);
            blobs.into_iter().map(|b| b.and_then(decode)).collect()
        }
        None => {
            let root = top.canonicalize().unwrap_or_else(|_| top.to_path_buf());
            paths
                .iter()
                .map(|p| {
                    let real = root.join(p).canonicalize().ok().filter(|r| r.starts_with(&root))?;
                    let meta = std::fs::metadata(&real).ok()?;
                    if !meta.is_file() || meta.len() as usize > max_bytes {
                        return None;
                    }
                    std::fs::read(&real).ok().and_then(decode)
                })
                .collect()
        }
    }
}

/// The top of the git checkout holding `dir`, when it is one.
pub fn toplevel(dir: &Path) -> Option<std::path::PathBuf> {
    git_text(dir, &["rev-parse", "--show-toplevel"]).ok().filter(|t| !t.is_empty()).map(std::path::PathBuf::from)
}

#[cfg(test)]
#[path = "git_source_tests.rs"]
mod tests;
