//! A second, independent MCP client: the Python SDK (`mcp` on PyPI) drives the
//! real binary over stdio (tests/python/mcp_client_check.py), calls every tool on
//! fixtures and validates each structuredContent against the tool's outputSchema
//! with the `jsonschema` package. tools/test installs both into .venv.

mod support;

#[path = "support/git.rs"]
#[allow(dead_code)]
mod git_support;

use std::path::PathBuf;
use std::process::Command;

use git_support::git;
use support::{copy_dir, crate_root, materialize};

/// The venv's python (BILLGUARD_MCP_PYTHON overrides), checked to have both packages.
fn python() -> PathBuf {
    let python = std::env::var_os("BILLGUARD_MCP_PYTHON").map(PathBuf::from).unwrap_or_else(|| crate_root().join(".venv/bin/python"));
    assert!(
        python.is_file(),
        "{} is missing: run tools/test, which creates .venv and installs the Python MCP client (mcp, jsonschema) the test drives",
        python.display()
    );
    let probe = Command::new(&python).args(["-c", "import mcp, jsonschema"]).output().expect("run the venv's python");
    assert!(
        probe.status.success(),
        "{} cannot import mcp and jsonschema ({}): run tools/test, which installs them into .venv",
        python.display(),
        String::from_utf8_lossy(&probe.stderr).trim()
    );
    python
}

#[test]
fn the_python_sdk_client_validates_every_result_against_its_output_schema() {
    let python = python();
    // Keys: a production env file with test keys. Access: fixtures under fx/.
    // Webhook: the cancellation branch dropped from a committed handler.
    let repo = materialize(&crate_root().join("fixtures/keys/test-keys-in-production/repo"), true);
    copy_dir(&crate_root().join("fixtures/access/revenue-leak"), &repo.path().join("fx"));
    let fixture = crate_root().join("fixtures/webhook/js-wh006-deleted-dropped");
    let handler = repo.path().join("routes/webhook.js");
    std::fs::create_dir_all(handler.parent().unwrap()).unwrap();
    std::fs::write(&handler, std::fs::read(fixture.join("before.js")).unwrap()).unwrap();
    git(repo.path(), &["add", "-A"]);
    git(repo.path(), &["commit", "-qm", "base"]);
    std::fs::write(&handler, std::fs::read(fixture.join("after.js")).unwrap()).unwrap();

    let out = Command::new(&python)
        .arg(crate_root().join("tests/python/mcp_client_check.py"))
        .arg(env!("CARGO_BIN_EXE_billguard"))
        .arg(repo.path())
        .env_remove("STRIPE_SECRET_KEY")
        .output()
        .expect("run the Python client");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the Python client failed:\n{stdout}\n{stderr}");
    for step in ["ok: initialize", "ok: tools/list", "ok: tools/call check_all", "ok: prompts/list", "ok: resources/list", "all checks passed"] {
        assert!(stdout.contains(step), "missing `{step}`:\n{stdout}\n{stderr}");
    }
    assert_eq!(stdout.matches("valid against outputSchema").count(), 5, "{stdout}");
    for key in &repo.keys {
        assert!(!stdout.contains(key.as_str()) && !stderr.contains(key.as_str()), "a key reached the client's output");
    }
}
