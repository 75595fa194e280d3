//! Paths that tools receive resolve against the repo root and may not leave
//! it: an agent's tool call must not read `/etc` or a sibling checkout.

use std::io;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

/// Resolves `given` against `repo`, refusing anything outside it.
pub fn within_repo(repo: &Path, given: &str, argument: &str) -> Result<PathBuf, String> {
    let repo_abs = repo.canonicalize().unwrap_or_else(|_| normalize(&absolute(repo)));
    let joined = repo_abs.join(given);
    // Follow symlinks where the path exists; otherwise resolve `..` by hand.
    let resolved = joined.canonicalize().unwrap_or_else(|_| normalize(&joined));
    if resolved.starts_with(&repo_abs) {
        Ok(resolved)
    } else {
        Err(format!(
            "argument `{argument}` ({given}) points outside the repository root {}; give a path inside the repo",
            repo_abs.display()
        ))
    }
}

/// Whether `file` (which exists) resolves inside `dir` once every symlink is
/// followed: a fixture or config file that links out of the repository must not be read.
pub fn resolves_inside(dir: &Path, file: &Path) -> bool {
    match (dir.canonicalize(), file.canonicalize()) {
        (Ok(d), Ok(f)) => f.starts_with(d),
        _ => false,
    }
}

fn absolute(p: &Path) -> PathBuf {
    if p.is_absolute() { p.to_path_buf() } else { std::env::current_dir().unwrap_or_default().join(p) }
}

/// Removes `.` and resolves `..` lexically.
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// Whether a repo-relative path (`/`-separated, as git and diffs name them)
/// is under `.billguard/`: billguard's own output, never part of what it checks.
pub fn is_own_output(rel: &str) -> bool {
    let rel = rel.strip_prefix("./").unwrap_or(rel);
    rel == ".billguard" || rel.starts_with(".billguard/")
}

/// Directories that hold installed or vendored third-party packages, not the
/// app's own code: npm, Composer and Go vendoring, Bundler, Mix, Python
/// virtualenvs and site-packages.
pub const DEPENDENCY_DIRS: &[&str] = &["node_modules", "vendor", "bower_components", "deps", "_build", "site-packages", "venv", ".venv", "__pypackages__", ".bundle"];

/// Directories whose JavaScript is served to browsers or built from sources
/// elsewhere in the repository: static assets and bundler output.
const BROWSER_OR_BUILT_JS_DIRS: &[&str] = &["public", "static", "dist", "build", ".next", ".nuxt", ".svelte-kit"];

/// Whether a repo-relative path is third-party or built code rather than the
/// app's own: under a dependency directory at any depth (`vendor/stripe/...`,
/// `web/node_modules/...`, Mix's `deps/`), a minified script, or JavaScript in a
/// static-assets or build-output directory (`public/tinymce/tinymce.js`,
/// `dist/server.js`). Following a handler into such a file, or scanning it for
/// mounts, reads a library or a copy as if the app had written it.
pub fn is_vendored_or_built(rel: &str) -> bool {
    let lower = rel.to_ascii_lowercase();
    let mut parts = lower.split('/').rev();
    let file = parts.next().unwrap_or("");
    let dirs: Vec<&str> = parts.collect();
    if dirs.iter().any(|d| DEPENDENCY_DIRS.contains(d)) {
        return true;
    }
    // A billing SDK copied into a PHP plugin (`includes/lib/Stripe/lib/ApiRequestor.php`).
    if file.ends_with(".php") && ["stripe/lib/", "stripe-php/", "braintree/lib/", "braintree_php/"].iter().any(|d| lower.contains(d)) {
        return true;
    }
    let script = [".js", ".mjs", ".cjs", ".jsx", ".ts", ".tsx"].iter().any(|e| file.ends_with(e));
    script && (file.contains(".min.") || file.contains("-min.") || dirs.iter().any(|d| BROWSER_OR_BUILT_JS_DIRS.contains(d)))
}

/// Whether a repo-relative path is test code: a test or spec directory, or a
/// test file by its language's naming. Test files are not handlers, and a
/// variable read only by tests is not required in production.
pub fn is_test_path(path: &str) -> bool {
    let p = path.to_ascii_lowercase();
    let parts: Vec<&str> = p.split('/').collect();
    let file = parts.last().copied().unwrap_or("");
    let original = path.rsplit('/').next().unwrap_or(path);
    parts[..parts.len().saturating_sub(1)]
        .iter()
        .any(|d| matches!(*d, "test" | "tests" | "__tests__" | "__mocks__" | "spec" | "specs" | "e2e" | "cypress" | "testdata" | "fixtures"))
        || file.contains(".test.")
        || file.contains(".spec.")
        || file.starts_with("test_")
        || ["_test.go", "_test.py", "_spec.rb", "_test.rb", "_test.exs"].iter().any(|s| file.ends_with(s))
        // PHPUnit: `WebhookTest.php`, not `latest.php`.
        || original.ends_with("Test.php")
}

/// How many full reports `.billguard/reports/` keeps: older ones are removed.
pub const KEPT_REPORTS: usize = 20;

/// `.billguard/.gitignore`: billguard's reports stay out of git, its baseline is committed.
pub const OWN_OUTPUT_GITIGNORE: &str = "# billguard's own output: never committed, never reviewed.\n*\n!baseline.json\n";

/// The tools whose reports billguard writes (and may prune).
const REPORT_TOOLS: &[&str] = &["check_access_contract", "check_key_mode", "diff_webhook_handler", "check_all"];

/// Writes a full report as JSON under `<repo>/.billguard/reports/` and returns
/// its repo-relative path. `.billguard/` gets a `.gitignore` that keeps it out
/// of git (and so out of every scan), and only the newest [`KEPT_REPORTS`]
/// reports are kept.
pub fn save_report(repo: &Path, tool: &str, report_json: &str) -> io::Result<String> {
    static SEQ: AtomicU32 = AtomicU32::new(0);
    let top = repo.join(".billguard");
    let dir = top.join("reports");
    std::fs::create_dir_all(&dir)?;
    let ignore = top.join(".gitignore");
    if !ignore.exists() {
        std::fs::write(&ignore, OWN_OUTPUT_GITIGNORE)?;
    }
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S");
    let name = format!("{tool}-{stamp}-{}-{}.json", std::process::id(), SEQ.fetch_add(1, Ordering::Relaxed));
    std::fs::write(dir.join(&name), report_json)?;
    prune_reports(&dir, KEPT_REPORTS);
    Ok(format!(".billguard/reports/{name}"))
}

/// Removes all but the newest `keep` of billguard's report files in `dir`
/// (other files are left alone).
fn prune_reports(dir: &Path, keep: usize) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut reports: Vec<(std::time::SystemTime, String, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_str()?.to_string();
            let ours = name.ends_with(".json") && REPORT_TOOLS.iter().any(|t| name.starts_with(&format!("{t}-")));
            let meta = e.metadata().ok().filter(|m| m.is_file())?;
            ours.then(|| (meta.modified().unwrap_or(std::time::UNIX_EPOCH), name, e.path()))
        })
        .collect();
    if reports.len() <= keep {
        return;
    }
    reports.sort();
    for (_, _, path) in &reports[..reports.len() - keep] {
        let _ = std::fs::remove_file(path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_inside_the_repo() {
        let repo = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(repo.path().join("fixtures/a")).unwrap();
        let ok = within_repo(repo.path(), "fixtures/a", "fixtures_dir").unwrap();
        assert!(ok.ends_with("fixtures/a"));
        assert!(within_repo(repo.path(), "fixtures/../fixtures/a", "x").is_ok());
        assert!(within_repo(repo.path(), "not/yet/there", "x").is_ok());
        let err = within_repo(repo.path(), "../outside", "fixtures_dir").unwrap_err();
        assert!(err.contains("outside the repository"), "{err}");
        assert!(within_repo(repo.path(), "/etc", "config").is_err());
    }

    #[test]
    fn test_code_is_told_from_handlers_by_directory_and_file_name() {
        for t in ["spec/requests/stripe_webhook_spec.rb", "app/__tests__/route.ts", "pkg/billing/webhook_test.go", "tests/test_webhooks.py", "src/webhook.test.ts", "tests/Feature/WebhookTest.php", "web/e2e/checkout.ts"] {
            assert!(is_test_path(t), "{t}");
        }
        for h in ["app/api/webhooks/stripe/route.ts", "app/Http/Controllers/latest.php", "billing/webhooks.py", "lib/app_web/controllers/stripe_controller.ex", "contest/handler.go"] {
            assert!(!is_test_path(h), "{h}");
        }
    }

    #[test]
    fn vendored_and_built_code_is_told_from_the_apps_own() {
        for v in [
            "vendor/laravel/cashier/src/Http/Controllers/WebhookController.php",
            "web/node_modules/stripe/lib/Webhooks.js",
            "deps/stripity_stripe/lib/stripe/webhook_plug.ex",
            "backend/.venv/lib/python3.12/site-packages/stripe/webhook.py",
            "search/public/tinymce/tinymce.js",
            "assets/js/chart.min.js",
            "dist/server.js",
            "priv/static/assets/app.js",
            "includes/lib/Stripe/lib/ApiRequestor.php",
        ] {
            assert!(is_vendored_or_built(v), "{v}");
        }
        for own in [
            "app/api/webhooks/stripe/route.ts",
            "public/index.php",
            "lib/deps.ex",
            "src/build/webhook.rs",
            "billing/vendors.py",
            "app/Http/Controllers/VendorWebhookController.php",
        ] {
            assert!(!is_vendored_or_built(own), "{own}");
        }
    }

    #[test]
    fn reports_are_pruned_to_the_newest_and_git_ignores_them() {
        let repo = tempfile::tempdir().unwrap();
        let reports = repo.path().join(".billguard/reports");
        std::fs::create_dir_all(&reports).unwrap();
        std::fs::write(reports.join("notes.txt"), "mine").unwrap();
        for _ in 0..KEPT_REPORTS + 5 {
            save_report(repo.path(), "check_key_mode", "{}").unwrap();
        }
        let names: Vec<String> = std::fs::read_dir(&reports).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        assert_eq!(names.iter().filter(|n| n.starts_with("check_key_mode-")).count(), KEPT_REPORTS);
        assert!(names.contains(&"notes.txt".to_string()), "other files stay");
        let ignore = std::fs::read_to_string(repo.path().join(".billguard/.gitignore")).unwrap();
        assert!(ignore.lines().any(|l| l == "*"), "{ignore}");
    }

    #[test]
    fn reports_are_saved_under_dot_billguard() {
        let repo = tempfile::tempdir().unwrap();
        let rel = save_report(repo.path(), "check_access_contract", "{\n  \"a\": 1\n}\n").unwrap();
        assert!(rel.starts_with(".billguard/reports/check_access_contract-"), "{rel}");
        let text = std::fs::read_to_string(repo.path().join(&rel)).unwrap();
        assert!(text.contains("\"a\": 1"));
    }
}
