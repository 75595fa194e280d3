//! The repository-wide reads of the webhook review leave `.billguard/` out,
//! even when a repository has committed files there.

use std::path::Path;
use std::process::Command;

use super::{tree_files, used_elsewhere};

fn git(dir: &Path, args: &[&str]) {
    let ok = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .status()
        .unwrap()
        .success();
    assert!(ok, "git {args:?}");
}

#[test]
fn billguard_s_folder_is_not_read_even_when_committed() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let handler = "const e = stripe.webhooks.constructEvent(body, sig, process.env.ONLY_IN_OWN_FOLDER);\n";
    for rel in [".billguard/reports/hook.ts", "src/hook.ts"] {
        std::fs::create_dir_all(root.join(rel).parent().unwrap()).unwrap();
        std::fs::write(root.join(rel), handler).unwrap();
    }
    git(root, &["init", "-q"]);
    git(root, &["add", "-A"]);
    git(root, &["commit", "-qm", "app"]);
    for rev in [None, Some("HEAD")] {
        let files = tree_files(root, rev, &["constructEvent"]);
        assert_eq!(files.keys().collect::<Vec<_>>(), ["src/hook.ts"], "{rev:?}");
    }
    assert!(!used_elsewhere(root, "ONLY_IN_OWN_FOLDER", &["src/hook.ts"]));
    assert!(used_elsewhere(root, "ONLY_IN_OWN_FOLDER", &[]));
}
