//! Running git and the billguard binary in a test repository. Included with
//! `#[path = "support/git.rs"] mod git_support;` by the webhook tests.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

/// Runs git in `dir` with a fixed identity and default branch; fails the test on error.
pub fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .current_dir(dir)
        .args(["-c", "user.email=t@example.com", "-c", "user.name=t", "-c", "init.defaultBranch=main"])
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// Runs the billguard binary in `dir`.
pub fn billguard(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_billguard")).current_dir(dir).args(args).output().unwrap()
}

/// Writes `text` at the repo-relative `path`, creating its directories.
#[allow(dead_code)]
pub fn write(root: &Path, path: &str, text: &str) {
    let p = root.join(path);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

/// A new git repository holding `files` in one commit.
#[allow(dead_code)]
pub fn committed_repo(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q"]);
    for (path, text) in files {
        write(dir.path(), path, text);
    }
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-qm", "app"]);
    dir
}

/// `check webhook --base HEAD --format json` in `dir`: the report.
#[allow(dead_code)]
pub fn review(dir: &Path) -> Value {
    let out = billguard(dir, &["check", "webhook", "--base", "HEAD", "--format", "json"]);
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

/// The rules of a report's high findings, sorted, each once.
#[allow(dead_code)]
pub fn high_rules(v: &Value) -> Vec<String> {
    let mut r: Vec<String> =
        v["findings"].as_array().unwrap().iter().filter(|f| f["severity"] == "high").map(|f| f["rule"].as_str().unwrap().to_string()).collect();
    r.sort();
    r.dedup();
    r
}
