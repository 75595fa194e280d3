//! The webhook handler diff: what a change does to the billing state machine.
//!
//! Sources ([`git_source`], [`unified_diff`]) give the changed files with both
//! versions; [`detect`] keeps the handlers; each version is parsed
//! ([`lang`]) and modelled ([`extract`] -> [`model::HandlerModel`]); the pure
//! [`compare::compare`] turns the two models into findings.

mod analyzed;
pub mod callees;
pub mod compare;
pub mod detect;
pub mod dispatch;
pub mod effects;
pub mod entries;
pub mod external;
pub mod extract;
pub mod hunks;
pub mod hunk_comments;
pub mod hunk_errors;
pub mod hunk_request_params;
pub mod hunk_status_map;
pub mod hunk_timing;
pub mod hunk_verification;
pub mod flow;
pub mod git_source;
pub mod index;
pub mod lang;
mod line_review;
mod mounting;
pub mod model;
pub mod resolve;
pub mod rules;
pub mod timing;
pub mod unified_diff;
pub mod vocab;

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::PathBuf;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::error::CheckError;
use crate::paths;
use crate::report::{Finding, Report, ScopeView};
use lang::Language;
use analyzed::{Analyzed, drop_delegates, pair_moves, verified_by_caller};
use model::{ExternalVerification, HandlerModel};

pub const TOOL: &str = "diff_webhook_handler";

/// One changed file, with whatever versions the source could give.
#[derive(Debug, Clone, Default)]
pub struct FileChange {
    /// Path in the base (None for an added file).
    pub old_path: Option<String>,
    /// Path in the new version (None for a deleted file).
    pub new_path: Option<String>,
    pub before: Option<Vec<u8>>,
    pub after: Option<Vec<u8>>,
    pub binary: bool,
    pub mode_change: Option<(String, String)>,
    pub renamed: bool,
    /// The versions were reconstructed from diff hunks: lines outside them are unknown.
    pub partial: bool,
    /// The diff's hunks, when the change came from diff text.
    pub hunks: Vec<Hunk>,
}

/// One hunk of a unified diff: where it starts in the new file, and its lines
/// tagged ' ', '-' or '+'.
#[derive(Debug, Clone, Default)]
pub struct Hunk {
    pub new_start: u32,
    /// The hunk header's section text (`@@ … @@ async function POST(req)`), often the enclosing function.
    pub section: String,
    pub lines: Vec<(char, String)>,
}

/// One request to review a webhook handler diff.
#[derive(Debug, Clone, Default)]
pub struct WebhookRequest {
    /// Repo root: billguard.toml, env files and (without `diff`) the git checkout.
    pub repo: PathBuf,
    /// Base ref to compare the working tree with (default: merge-base with the default branch, else HEAD).
    pub base: Option<String>,
    /// Unified diff text; when given, git is not used.
    pub diff: Option<String>,
    /// Handler files or globs to review (repo-relative); default: [webhook].paths, else detection.
    pub paths: Vec<String>,
    /// billguard.toml to use (repo-relative); default: the repo's.
    pub config: Option<PathBuf>,
    /// Show findings recorded in `.billguard/baseline.json` too (`--no-baseline`).
    pub no_baseline: bool,
}

/// What the webhook diff examined.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct WebhookScope {
    /// "git" (working tree against a base), "diff" (unified diff text, files seen through
    /// its hunks) or "diff+checkout" (diff text whose files the working tree completed: it
    /// holds the diff's result or the files the diff applies to).
    pub source: String,
    /// The base compared against, in git mode.
    pub base: Option<String>,
    /// Files changed in the input.
    pub files_changed: usize,
    /// Changed files reviewed as webhook handlers, with their language.
    pub handler_files: Vec<HandlerFile>,
    /// True when versions were reconstructed from diff hunks (analysis is partial).
    pub partial: bool,
    /// Changed files that may be webhook handlers and were not fully examined (the
    /// verdict is then `incomplete`; `notes` says why and how to get a full review).
    pub not_examined: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct HandlerFile {
    pub path: String,
    pub language: String,
    /// added, modified, renamed, deleted, or unchanged (the file did not change but
    /// the verification mounted on it from another file did).
    pub change: String,
    /// Event types the new version handles.
    pub events: Vec<String>,
    /// Where the new version's events are verified: in the file, or outside it
    /// (middleware, filter, plug, dependency, router layer) with both locations.
    pub verification: Option<String>,
    /// Repository files whose functions the handler's calls reach: their effects count
    /// as the handler's (followed in both versions).
    pub helpers: Vec<String>,
}

impl ScopeView for WebhookScope {
    fn text_block(&self) -> String {
        let mut out = format!("scope: source={}", self.source);
        if let Some(b) = &self.base {
            let _ = write!(out, "  base={b}");
        }
        let _ = writeln!(out, "  files_changed={}  handlers={}{}", self.files_changed, self.handler_files.len(), if self.partial { "  (partial)" } else { "" });
        for h in &self.handler_files {
            let _ = writeln!(out, "  {} [{}, {}]: {} events", h.path, h.language, h.change, h.events.len());
            if !h.helpers.is_empty() {
                let _ = writeln!(out, "    follows calls into {}", h.helpers.join(", "));
            }
            if let Some(v) = &h.verification {
                let _ = writeln!(out, "    verified {v}");
            }
        }
        out
    }
}

/// Names declared by an env file (`NAME=value`, `export NAME=...`, `NAME=` in examples).
pub fn env_file_names(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| {
            let l = l.trim().trim_start_matches("export ").trim();
            let (name, _) = l.split_once('=')?;
            let name = name.trim();
            (!name.is_empty() && !name.starts_with('#') && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')).then(|| name.to_string())
        })
        .collect()
}

/// When the repo's working tree holds the file the diff produced (or the file it
/// applies to, the change not made yet), or a commit of the default branch holds
/// the file it applies to (a PR's diff read on another branch), both versions are
/// known in full: the analysis of that file is no longer partial. Returns where
/// the versions came from.
fn complete_from_worktree(f: &mut FileChange, repo: &std::path::Path) -> Option<String> {
    if !f.partial {
        return None;
    }
    let read = |path: Option<&str>| -> Option<String> {
        let path = path?;
        paths::within_repo(repo, path, "diff").ok()?;
        String::from_utf8(std::fs::read(repo.join(path)).ok()?).ok()
    };
    let (versions, held) = if let Some(v) = read(f.new_path.as_deref()).and_then(|t| unified_diff::complete(&f.hunks, &t)) {
        (v, "the diff's result")
    } else if let Some(v) = read(f.old_path.as_deref()).and_then(|t| unified_diff::complete_from_before(&f.hunks, &t)) {
        (v, "the file the diff applies to")
    } else {
        let old = f.old_path.as_deref()?;
        paths::within_repo(repo, old, "diff").ok()?;
        let (v, at) = git_source::REF_CANDIDATES.iter().find_map(|r| {
            let (sha, text) = git_source::file_at(repo, r, old)?;
            Some((unified_diff::complete_from_before(&f.hunks, &text)?, format!("commit {r} ({sha}), which holds the file the diff applies to")))
        })?;
        f.before = Some(v.0.into_bytes());
        f.after = Some(v.1.into_bytes());
        f.partial = false;
        return Some(at);
    };
    f.before = Some(versions.0.into_bytes());
    f.after = Some(versions.1.into_bytes());
    f.partial = false;
    Some(format!("the working tree, which holds {held}"))
}

/// Decodes a version, noting what had to be done to it.
fn decode(bytes: &[u8], path: &str, notes: &mut Vec<String>) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => {
            notes.push(format!("{path}: not valid UTF-8; invalid bytes were replaced before parsing"));
            String::from_utf8_lossy(bytes).into_owned()
        }
    }
}

/// `f` over `items` on up to four threads, results in the order of `items`.
pub(crate) fn par_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(4).min(items.len().max(1));
    if threads <= 1 {
        return items.iter().map(&f).collect();
    }
    let chunk = items.len().div_ceil(threads);
    std::thread::scope(|scope| {
        // The same stack as the thread that runs a check: lowering and the effects walk recurse.
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| {
                std::thread::Builder::new()
                    .stack_size(crate::cli::CHECK_STACK_SIZE)
                    .spawn_scoped(scope, || part.iter().map(&f).collect::<Vec<R>>())
                    .expect("a webhook analysis thread starts")
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().expect("a webhook analysis thread panicked")).collect()
    })
}

/// Parses and models one version of a file.
pub fn model_of(lang: Language, text: &str, access_fields: &[String]) -> HandlerModel {
    extract::build(&lang::parse(lang, text), access_fields)
}

/// Both versions of the repository, for following a handler's calls into other files.
struct Views {
    before: resolve::RepoView,
    after: resolve::RepoView,
    cache: resolve::ParseCache,
}

impl Views {
    /// git mode: the base commit and the working tree. Diff text inside a checkout: the
    /// working tree, and the working tree with the diff's old versions put back.
    fn new(top: &std::path::Path, base_sha: Option<&str>, changes: &[FileChange]) -> Option<Views> {
        let view = |rev: Option<&str>| {
            let (top, rev) = (top.to_path_buf(), rev.map(str::to_string));
            let paths = git_source::source_paths(&top, rev.as_deref());
            (!paths.is_empty()).then(|| {
                resolve::RepoView::new(paths, Box::new(move |ps: &[String]| git_source::read_sources(&top, rev.as_deref(), ps, resolve::MAX_FILE_BYTES)))
            })
        };
        let after = view(None)?;
        let before = match base_sha {
            // A base with no source files (the empty tree: every file is new) is an empty view.
            Some(sha) => view(Some(sha)).unwrap_or_else(|| resolve::RepoView::new(Vec::new(), Box::new(|ps: &[String]| vec![None; ps.len()]))),
            None => {
                let mut before = view(None)?;
                for c in changes.iter().filter(|c| !c.partial) {
                    if let Some(n) = &c.new_path {
                        before.set(n, None);
                    }
                    if let (Some(o), Some(b)) = (&c.old_path, &c.before) {
                        before.set(o, Some(String::from_utf8_lossy(b).into_owned()));
                    }
                }
                before
            }
        };
        Some(Views { before, after, cache: resolve::ParseCache::default() })
    }
}

/// One version of a handler modelled with the files it reaches in `view`.
/// Returns the model, the repository files followed, what could not be, and the files
/// reached but not followed (too many reached: the review of this version is incomplete).
fn model_in(lang: Language, path: &str, text: &str, fields: &[String], view: Option<(&resolve::RepoView, &resolve::ParseCache)>) -> (HandlerModel, Vec<String>, Vec<String>, Vec<String>) {
    match view {
        Some((view, cache)) => {
            // A file that only re-exports another module handles what that module handles.
            let target = resolve::reexported_file(view, path, lang, text).and_then(|t| view.read_one(&t).map(|text| (t, text)));
            let (path, text, lang) = match &target {
                Some((t, text)) => (t.as_str(), text.as_str(), Language::of_path(t).unwrap_or(lang)),
                None => (path, text, lang),
            };
            let parsed = lang::parse(lang, text);
            let reach = resolve::reach(view, path, lang, text, cache);
            let model = extract::build_with(&parsed, fields, Some(&reach));
            let followed = reach.files.iter().map(|f| f.path.clone()).chain(target.iter().map(|(t, _)| t.clone())).collect();
            let skipped = reach.unresolved.clone();
            (model, followed, skipped, reach.not_followed.clone())
        }
        None => (extract::build(&lang::parse(lang, text), fields), Vec::new(), Vec::new(), Vec::new()),
    }
}

/// Both sides of the repository for the outside-the-file scan: the base tree
/// (the working tree with the change's old versions put back: in git mode the
/// base commit's files as far as the scan reads them) and the working tree.
fn outside_trees(req: &WebhookRequest, changes: &[FileChange], top: Option<&std::path::Path>) -> Option<(external::Tree, external::Tree)> {
    let top = match top {
        Some(t) => t.to_path_buf(),
        None => {
            let out = std::process::Command::new("git").arg("-C").arg(&req.repo).args(["rev-parse", "--show-toplevel"]).output().ok()?;
            if !out.status.success() {
                return None;
            }
            PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
        }
    };
    let after = git_source::tree_files(&top, None, external::MARKERS);
    // The base side is the working tree with the change undone: the files the change
    // touched are the only ones that differ, and their old versions are already read.
    // (Searching the base commit again costs more than the rest of a review.)
    let mut base = after.clone();
    for c in changes.iter().filter(|c| !c.partial) {
        if let Some(n) = &c.new_path {
            base.remove(n);
        }
        if let (Some(o), Some(b)) = (&c.old_path, &c.before) {
            if git_source::worth_scanning(o, b, external::MARKERS) {
                base.insert(o.clone(), String::from_utf8_lossy(b).into_owned());
            }
        }
    }
    Some((base, after))
}

/// Attaches verification mounted from outside each handler file (base and new
/// tree), adds handlers whose outside verification was removed while the file
/// itself did not change, and locates each removal in the new tree.
fn attach_outside(analyzed: &mut Vec<Analyzed>, base: &external::Tree, after: &external::Tree, repo_top: Option<&std::path::Path>, fields: &[String]) {
    let (sb, sa) = external::scan_both(base, after);
    for a in analyzed.iter_mut() {
        if let Some(b) = &mut a.before {
            b.external = sb.links.get(a.old_path.as_deref().unwrap_or(&a.path)).cloned();
        }
        if let Some(m) = &mut a.after {
            m.external = sa.links.get(&a.path).cloned();
        }
    }
    // Unchanged handlers whose outside verification went away: a removed mount, or a
    // Cashier config that now switches the signature middleware off.
    let (cb, ca) = (external::cashier_config(base), external::cashier_config(after));
    let cashier_off = ca.as_ref().is_some_and(|c| c.disabled_at.is_some()) && !cb.as_ref().is_some_and(|c| c.disabled_at.is_some());
    let mut lost: Vec<(&String, Option<&ExternalVerification>)> =
        sb.links.iter().filter(|(p, _)| !sa.links.contains_key(*p)).map(|(p, l)| (p, Some(l))).collect();
    if cashier_off {
        lost.extend(sa.framework_handlers.iter().map(|p| (p, None)));
    }
    for (path, link) in lost {
        let known = analyzed.iter().any(|a| a.path == *path || a.old_path.as_deref() == Some(path.as_str()));
        if known {
            continue;
        }
        let Some(lang) = Language::of_path(path) else { continue };
        let text = after.get(path).cloned().or_else(|| repo_top.and_then(|t| std::fs::read_to_string(t.join(path)).ok()));
        let Some(text) = text else { continue };
        let model = model_of(lang, &text, fields);
        let mut before = model.clone();
        before.external = link.cloned();
        analyzed.push(Analyzed {
            path: path.clone(),
            old_path: None,
            change: "unchanged",
            lang,
            before: Some(before),
            after: Some(model),
            partial: false,
            removed_at: None,
            helpers: BTreeSet::new(),
            quotes_events: false,
            not_followed: BTreeSet::new(),
            before_handler: true,
        });
    }
    // Cashier's controller verifies only when config/cashier.php sets the webhook secret.
    for a in analyzed.iter_mut() {
        for (model, config) in [(&mut a.before, &cb), (&mut a.after, &ca)] {
            let (Some(m), Some(c)) = (model.as_mut(), config) else { continue };
            if !m.verification.as_ref().is_some_and(|v| v.call.starts_with("Cashier")) {
                continue;
            }
            if c.disabled_at.is_some() {
                m.verification = None;
            } else if let (Some(v), Some(t)) = (m.verification.as_mut(), c.tolerance) {
                v.tolerance = Some(if t <= 0.0 { model::Tolerance::Disabled } else { model::Tolerance::Seconds(t) });
            }
        }
        let cashier_before = a.before.as_ref().is_some_and(|m| m.verification.as_ref().is_some_and(|v| v.call.starts_with("Cashier")));
        if let (true, Some(line)) = (cashier_before, ca.as_ref().and_then(|c| c.disabled_at)) {
            a.removed_at = Some((external::CASHIER_CONFIG.to_string(), line));
        }
    }
    let text_of = |tree: &external::Tree, p: &str| tree.get(p).cloned().or_else(|| repo_top.and_then(|t| std::fs::read_to_string(t.join(p)).ok()));
    for a in analyzed.iter_mut() {
        let (Some(b), Some(m)) = (&a.before, &a.after) else { continue };
        let (Some(link), None) = (&b.external, &m.external) else { continue };
        // The mount went away while the verifier still verifies; else the verifier changed.
        let (path, line) = if sa.verifiers.contains(&link.verifier_name) || link.verifier_line == 0 {
            (link.mount_path.clone(), link.mount_line)
        } else {
            (link.verifier_path.clone(), link.verifier_line)
        };
        let line = match (text_of(base, &path), text_of(after, &path)) {
            (Some(old), Some(new)) => external::map_line(&old, &new, line),
            _ => line,
        };
        a.removed_at = Some((path, line));
    }
}

pub fn check(req: &WebhookRequest) -> Result<Report<WebhookScope>, CheckError> {
    let explicit = req.config.as_ref().map(|c| req.repo.join(c));
    let (config, _) = Config::discover(&req.repo, explicit.as_deref())?;
    let mut notes = Vec::new();
    // What was asked for and could not be examined: each entry makes the verdict `incomplete`.
    let mut unexamined: Vec<String> = Vec::new();
    let (changes, source, base, top, base_sha) = match &req.diff {
        Some(text) => {
            let mut files = unified_diff::parse(text).map_err(|e| CheckError::Usage(format!("bad diff: {e}")))?;
            files.retain(|f| ![&f.old_path, &f.new_path].into_iter().flatten().all(|p| crate::paths::is_own_output(p)));
            let mut completed = BTreeSet::new();
            for f in &mut files {
                completed.extend(complete_from_worktree(f, &req.repo));
            }
            for held in &completed {
                notes.push(format!("diff text: files were rebuilt in full from {held}"));
            }
            (files, if completed.is_empty() { "diff" } else { "diff+checkout" }, None, None, None)
        }
        None => {
            let g = git_source::changes(&req.repo, req.base.as_deref())?;
            // Paths git could not give (not valid UTF-8): not examined.
            unexamined.extend(g.unreviewed.iter().cloned());
            (g.changes, "git", Some(g.base_label), Some(g.top), Some(g.base_sha))
        }
    };
    let mut declared: BTreeSet<String> = top.as_deref().map(git_source::declared_env).unwrap_or_default().into_iter().collect();
    let globs: Vec<String> = if req.paths.is_empty() { config.webhook.paths.clone() } else { req.paths.clone() };
    let mut sources = Vec::new();
    for c in &changes {
        let shown = c.new_path.clone().or_else(|| c.old_path.clone()).unwrap_or_default();
        let name = shown.rsplit('/').next().unwrap_or(&shown);
        if name.starts_with(".env") {
            if let Some(a) = &c.after {
                declared.extend(env_file_names(&String::from_utf8_lossy(a)));
            }
            continue;
        }
        sources.push((c, shown));
    }
    // The repository, when there is one, to follow handlers into the files they call.
    let view_top = top.clone().or_else(|| req.diff.as_ref().and_then(|_| git_source::toplevel(&req.repo)));
    let clock = std::time::Instant::now();
    let views = view_top.as_deref().and_then(|t| Views::new(t, base_sha.as_deref(), &changes));
    tracing::debug!(ms = clock.elapsed().as_millis() as u64, "webhook: repository views listed");
    let mut analyzed = Vec::new();
    for (analysis, mut file_notes) in par_map(&sources, |(c, shown)| {
        let mut file_notes = Vec::new();
        (analyze_change(c, shown, &globs, &config.webhook.access_fields, views.as_ref(), &mut file_notes), file_notes)
    }) {
        notes.append(&mut file_notes);
        match analysis {
            Ok(a) => analyzed.extend(a),
            Err(why) => unexamined.push(why),
        }
    }
    tracing::debug!(ms = clock.elapsed().as_millis() as u64, files = sources.len(), "webhook: changed files analysed");
    if let Some(views) = &views {
        analyzed.extend(reached_through_helpers(&changes, &analyzed, views, &globs, &config.webhook.access_fields, &mut notes));
    }
    tracing::debug!(ms = clock.elapsed().as_millis() as u64, "webhook: handlers reached through changed helpers analysed");
    drop_delegates(&mut analyzed);
    // Changed files naming billing events that neither are handlers nor were followed from one.
    let seen: BTreeSet<&str> = analyzed.iter().flat_map(|a| a.helpers.iter().map(String::as_str).chain([a.path.as_str()])).collect();
    for (c, shown) in &sources {
        // Configured paths say where the handlers are: other files are not theirs to doubt.
        if globs.is_empty() && !c.partial && !seen.contains(shown.as_str()) {
            let text = c.after.as_deref().or(c.before.as_deref()).map(String::from_utf8_lossy).unwrap_or_default();
            unexamined.extend(detect::unrecognised_billing_file(shown, &text));
        }
    }
    notes.sort();
    notes.dedup();
    // Verification outside the handler files: only worth a scan when handlers changed (or
    // files that may mount verification did, in git mode).
    let worth_scanning = !analyzed.is_empty() || (top.is_some() && changes.iter().any(|c| c.new_path.as_deref().or(c.old_path.as_deref()).is_some_and(|p| Language::of_path(p).is_some())));
    if worth_scanning {
        if let Some((tb, ta)) = outside_trees(req, &changes, top.as_deref()) {
            tracing::debug!(ms = clock.elapsed().as_millis() as u64, base = tb.len(), after = ta.len(), "webhook: trees read for verification outside handlers");
            attach_outside(&mut analyzed, &tb, &ta, top.as_deref(), &config.webhook.access_fields);
            tracing::debug!(ms = clock.elapsed().as_millis() as u64, "webhook: verification outside handlers scanned");
        }
    }
    verified_by_caller(&mut analyzed);
    pair_moves(&mut analyzed);
    // Columns the change drops from the app's schema: their writes may go.
    fn text(v: &Option<Vec<u8>>) -> Option<&str> {
        v.as_deref().and_then(|b| std::str::from_utf8(b).ok())
    }
    let dropped = crate::app_schema::dropped_fields(changes.iter().filter_map(|c| Some((c.new_path.as_deref().or(c.old_path.as_deref())?, text(&c.before), text(&c.after)))));
    // Named as the handlers wrote them (`hasPaid`), not squashed.
    let dropped_written: BTreeSet<&str> = analyzed
        .iter()
        .filter_map(|a| a.before.as_ref())
        .flat_map(|m| m.events.values().flat_map(|e| e.access_writes.iter().map(|w| w.field.as_str())))
        .filter(|f| dropped.contains(&crate::app_schema::squash(f)))
        .collect();
    if !dropped_written.is_empty() {
        notes.push(format!(
            "the change drops {} from the app's schema: handlers no longer writing it is not a lost grant or revocation; access now rests on what they still write",
            dropped_written.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
    let mut findings = Vec::new();
    let mut plans_elsewhere: BTreeSet<String> = config.access.plans.values().cloned().collect();
    if let Some(top) = &top {
        let handler_paths: Vec<&str> = analyzed.iter().map(|a| a.path.as_str()).collect();
        for a in &analyzed {
            let (Some(b), Some(m)) = (&a.before, &a.after) else { continue };
            for name in compare::new_plan_names(b, m) {
                if git_source::used_elsewhere(top, &name, &handler_paths) {
                    plans_elsewhere.insert(name);
                }
            }
        }
    }
    for (i, a) in analyzed.iter().enumerate() {
        let elsewhere: BTreeSet<String> = analyzed
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .filter_map(|(_, o)| o.after.as_ref())
            .flat_map(|m| m.events.keys().cloned())
            .collect();
        let before_elsewhere: Vec<&HandlerModel> = analyzed.iter().enumerate().filter(|(j, _)| *j != i).filter_map(|(_, o)| o.before.as_ref()).collect();
        let ctx = compare::Context {
            path: &a.path,
            declared_env: &declared,
            plans_elsewhere: &plans_elsewhere,
            events_elsewhere: &elsewhere,
            partial: a.partial,
            verification_removed_at: a.removed_at.as_ref().map(|(p, l)| (p.as_str(), *l)),
            dropped_fields: &dropped,
            before_was_handler: a.before_handler,
            before_elsewhere: &before_elsewhere,
        };
        match (&a.before, &a.after) {
            // A handler pulled in by the outside scan did not change: only its regressions count.
            (b, Some(m)) if a.change == "unchanged" => {
                findings.extend(compare::compare(b.as_ref(), m, &ctx).into_iter().filter(|f| f.evidence.get("pre_existing").is_none()))
            }
            (b, Some(m)) => findings.extend(compare::compare(b.as_ref(), m, &ctx)),
            (Some(b), None) => findings.extend(deleted_handler(&a.path, b, &elsewhere)),
            (None, None) => {}
        }
    }
    findings.extend(line_review::line_review(&changes, &analyzed, &findings, &config.webhook.access_fields, &dropped, &mut unexamined));
    never_sent_events(&mut findings);
    if let (Some(views), Some(t), Some(sha)) = (&views, top.as_deref(), base_sha.as_deref()) {
        let flagged: BTreeSet<&str> = findings
            .iter()
            .filter(|f| f.severity == crate::report::Severity::High)
            .filter_map(|f| f.entity.strip_prefix("handler:").map(|e| e.split('#').next().unwrap_or(e)))
            .collect();
        if !flagged.is_empty() {
            let mentioning = |word: &str| git_source::tree_files(t, Some(sha), &[word]).into_iter().collect::<Vec<_>>();
            for path in mounting::unmounted_copies(&analyzed, &flagged, &views.before, &mentioning) {
                notes.push(format!("{path}: a router no file of the app imports (tests aside), while another route verifying events the same way is imported: an unmounted copy, so its findings are low"));
                let own = |f: &crate::report::Finding| f.entity.strip_prefix("handler:").is_some_and(|e| e.split('#').next() == Some(path.as_str())) || f.location.as_ref().is_some_and(|l| l.path == path);
                for f in findings.iter_mut().filter(|f| own(f) && f.severity == crate::report::Severity::High) {
                    f.severity = crate::report::Severity::Low;
                    f.message = format!("{} (in an unmounted copy: no file of the app imports {path})", f.message);
                    f.evidence.insert("unmounted", serde_json::Value::Bool(true));
                }
            }
        }
    }
    for a in &analyzed {
        if let Some(note) = a.after.as_ref().and_then(|m| m.verification.as_ref()).and_then(|v| v.note.as_ref()) {
            notes.push(format!("{}: {note}", a.path));
        }
    }
    let partial = analyzed.iter().any(|a| a.partial);
    let reached_by_handler = |a: &Analyzed| analyzed.iter().any(|o| o.path != a.path && tells_events(o) && o.helpers.contains(&a.path));
    unexamined.extend(analyzed.iter().filter_map(|a| unmodelled(a, reached_by_handler(a))));
    if partial {
        notes.push(
            "partial analysis: files were reconstructed from the diff's hunks, so code outside them is unknown; pre-existing problems are not reported. Give `base` in a git checkout for a full review."
                .into(),
        );
    }
    if analyzed.is_empty() {
        notes.push(format!(
            "no webhook handler among the {} changed file(s); set [webhook] paths in billguard.toml (or the `paths` argument) if a handler was missed",
            changes.len()
        ));
    }
    let scope = WebhookScope {
        source: source.into(),
        base,
        files_changed: changes.len(),
        handler_files: analyzed
            .iter()
            .map(|a| HandlerFile {
                path: match &a.old_path {
                    Some(o) if a.change == "renamed" => format!("{o} -> {}", a.path),
                    _ => a.path.clone(),
                },
                language: a.lang.name().into(),
                change: a.change.into(),
                events: a.after.as_ref().or(a.before.as_ref()).map(|m| m.events.keys().cloned().collect()).unwrap_or_default(),
                helpers: a.helpers.iter().cloned().collect(),
                verification: a.after.as_ref().and_then(|m| match (&m.verification, &m.external) {
                    (Some(v), _) => Some(format!("in the file by {} (line {})", v.call, v.line)),
                    (None, Some(e)) => Some(format!("outside the file by {}", e.describe())),
                    (None, None) => None,
                }),
            })
            .collect(),
        partial,
        not_examined: unexamined.iter().map(|u| u.split(": ").next().unwrap_or(u).to_string()).collect(),
    };
    let mut report = Report::new(TOOL, scope, findings, notes);
    crate::suppress::in_report(&mut report, top.as_deref().unwrap_or(&req.repo), &config.ignore);
    if !req.no_baseline {
        // Only the files of this change were reviewed: a recorded finding elsewhere is not fixed.
        let reviewed: BTreeSet<&str> = changes.iter().flat_map(|c| [c.old_path.as_deref(), c.new_path.as_deref()]).flatten().collect();
        let in_change = |e: &crate::baseline::Entry| {
            let path = e.entity.strip_prefix("handler:").unwrap_or(&e.entity);
            reviewed.contains(path.split('#').next().unwrap_or(path))
        };
        crate::baseline::apply(&mut report, &req.repo, &in_change);
    }
    report.not_examined(&unexamined);
    Ok(report)
}

/// Why a handler that was read could not be modelled in full, if it could not:
/// a version rebuilt from hunks, a file too deep to lower, or no event found in a
/// file that looks like a handler (its dispatch is a shape billguard does not know).
/// `reached_by_handler`: another handler that tells events apart reaches this file.
fn unmodelled(a: &Analyzed, reached_by_handler: bool) -> Option<String> {
    let models = [a.before.as_ref(), a.after.as_ref()];
    if let Some(why) = models.iter().flatten().find_map(|m| m.not_analysed.as_ref()) {
        return Some(format!("{}: not analysed ({why}); review it by hand", a.path));
    }
    if a.partial {
        return Some(format!(
            "{}: only the diff's hunks were seen; run in the checkout (`--base REF`, or `--diff` where the working tree holds the change) or give more context (`git diff -U50`) for a full review",
            a.path
        ));
    }
    if !a.not_followed.is_empty() {
        let not_followed: Vec<&String> = a.not_followed.iter().collect();
        return Some(format!(
            "{}: its calls reach more files than are followed; {} file(s) were not seen ({}), so what it does there is unknown; review those paths by hand, or set [webhook] paths to the handler files",
            a.path,
            a.not_followed.len(),
            resolve::first_few(&not_followed)
        ));
    }
    // A helper quoting event names (in messages, document paths) that a handler reaches was
    // reviewed through that handler.
    if a.quotes_events && !reached_by_handler && a.change != "deleted" && models.iter().flatten().all(|m| m.events.is_empty()) {
        return Some(format!(
            "{}: looks like a webhook handler, but no event it handles was found (its dispatch is a shape billguard does not read); review it by hand, or set [webhook] paths so that only handler files are reviewed",
            a.path
        ));
    }
    None
}

/// Reviews one changed file: `Ok(None)` when it is not a webhook handler, `Err` naming
/// it when it may be one and could not be read as one.
fn analyze_change(c: &FileChange, shown: &str, globs: &[String], fields: &[String], views: Option<&Views>, notes: &mut Vec<String>) -> Result<Option<Analyzed>, String> {
    let configured = globs.iter().any(|g| detect::glob_match(g, shown) || c.old_path.as_deref().is_some_and(|o| detect::glob_match(g, o)));
    if !globs.is_empty() && !configured {
        return Ok(None);
    }
    let Some(lang) = Language::of_path(shown) else {
        return match detect::foreign_source(shown) {
            Some(_) if configured || [&c.before, &c.after].into_iter().flatten().any(|b| detect::looks_like_handler(shown, &String::from_utf8_lossy(b))) => Err(format!(
                "{shown}: looks like a webhook handler in a language billguard does not read (it reads TypeScript, JavaScript, Python, Ruby, Go, PHP, Rust and Elixir); review it by hand"
            )),
            _ => Ok(None),
        };
    };
    if c.binary {
        notes.push(format!("{shown}: binary content, skipped"));
        return Ok(None);
    }
    let is_binary = |b: &Option<Vec<u8>>| b.as_ref().is_some_and(|b| b[..b.len().min(8000)].contains(&0));
    if is_binary(&c.before) || is_binary(&c.after) {
        notes.push(format!("{shown}: binary content, skipped"));
        return Ok(None);
    }
    let before = c.before.as_ref().map(|b| decode(b, shown, notes));
    let after = c.after.as_ref().map(|b| decode(b, shown, notes));
    let is_handler = configured
        || before.as_deref().is_some_and(|t| detect::looks_like_handler(c.old_path.as_deref().unwrap_or(shown), t))
        || after.as_deref().is_some_and(|t| detect::looks_like_handler(shown, t));
    // A route handing the request to a handler of another file (`stripeService.webhook(request)`)
    // is the handler's entry: what it answers around that call is the handler's answer.
    let routes_in = !is_handler
        && !c.partial
        && views.is_some_and(|v| {
            after.as_deref().is_some_and(|t| {
                detect::may_route_to_handler(shown, t) && !model_in(lang, shown, t, fields, Some((&v.after, &v.cache))).0.events.is_empty()
            })
        });
    if !is_handler && !routes_in {
        // Hunks alone may not show a handler's marks: a billing webhook's path is enough to say so.
        if c.partial && detect::billing_webhook_path(c.old_path.as_deref().unwrap_or(shown)) | detect::billing_webhook_path(shown) {
            return Err(format!(
                "{shown}: by its path a billing webhook handler, but the diff's hunks show too little of it to review; run in the checkout (`--base REF`) or give more context (`git diff -U50`)"
            ));
        }
        return Ok(None);
    }
    if let Some((old, new)) = &c.mode_change {
        notes.push(format!("{shown}: file mode changed from {old} to {new}"));
    }
    let change = match (&c.old_path, &c.new_path) {
        (None, _) => "added",
        (_, None) => "deleted",
        (Some(o), Some(n)) if o != n || c.renamed => "renamed",
        _ => "modified",
    };
    let mut helpers = BTreeSet::new();
    let mut not_followed = BTreeSet::new();
    let mut model = |text: &Option<String>, which: &str, path: &str, view: Option<&resolve::RepoView>| {
        text.as_deref().map(|t| {
            // A version rebuilt from hunks is not followed: its calls may be cut.
            let view = view.filter(|_| !c.partial).zip(views.map(|v| &v.cache));
            let (m, followed, skipped, cut) = model_in(lang, path, t, fields, view);
            helpers.extend(followed);
            not_followed.extend(cut);
            if which == "new version" {
                notes.extend(skipped);
            }
            if let Some(why) = &m.not_analysed {
                notes.push(format!("{shown} ({which}): not analysed: {why}; this file was not reviewed"));
            }
            if let Some(line) = m.parse_error_line {
                if !c.partial {
                    notes.push(format!("{shown} ({which}): syntax error near line {line}; the rest of the file was analysed from the partial tree"));
                }
            }
            m
        })
    };
    let before_model = model(&before, "base version", c.old_path.as_deref().unwrap_or(shown), views.map(|v| &v.before));
    let after_model = model(&after, "new version", shown, views.map(|v| &v.after));
    if change == "renamed" {
        notes.push(format!("{} was renamed to {shown}; the two versions were compared", c.old_path.as_deref().unwrap_or("")));
    }
    let before_handler = before.as_deref().is_some_and(|t| configured || detect::looks_like_handler(c.old_path.as_deref().unwrap_or(shown), t))
        || (routes_in && before_model.as_ref().is_some_and(|m| !m.events.is_empty()));
    Ok(Some(Analyzed {
        path: shown.to_string(),
        old_path: c.old_path.clone(),
        change,
        lang,
        before: before_model,
        after: after_model,
        partial: c.partial,
        removed_at: None,
        helpers,
        quotes_events: [&before, &after].into_iter().flatten().any(|t| detect::event_strings(t) > 0),
        not_followed,
        before_handler,
    }))
}

/// A deleted handler: its access-moving events must be handled somewhere else.
fn deleted_handler(path: &str, b: &HandlerModel, elsewhere: &BTreeSet<String>) -> Vec<Finding> {
    let rule = crate::rules::get("WH006").expect("catalog");
    b.events
        .iter()
        .filter(|(name, e)| e.moves_access() && !elsewhere.contains(*name))
        .map(|(name, e)| {
            Finding::new(
                rule,
                format!("handler:{path}#{name}"),
                format!("{path} handled {name} (line {} of the base) and was deleted; no other changed handler handles it now", e.line),
            )
            .evidence("event", name.clone())
            .evidence("deleted_file", path.to_string())
        })
        .collect()
}

/// Reviews one handler given as two texts (None before = a new file), with
/// default configuration: the engine without any source, for tests and fixtures.
pub fn review_texts(path: &str, before: Option<&str>, after: &str) -> Result<Vec<Finding>, String> {
    let lang = Language::of_path(path).ok_or_else(|| format!("{path}: not a supported language"))?;
    let b = before.map(|t| model_of(lang, t, &[]));
    let a = model_of(lang, after, &[]);
    let empty = BTreeSet::new();
    let ctx = compare::Context {
        path,
        declared_env: &empty,
        plans_elsewhere: &empty,
        events_elsewhere: &empty,
        partial: false,
        verification_removed_at: None,
        dropped_fields: &empty,
        before_was_handler: before.is_some_and(|t| detect::looks_like_handler(path, t)),
        before_elsewhere: &[],
    };
    Ok(compare::compare(b.as_ref(), &a, &ctx))
}

fn tells_events(a: &Analyzed) -> bool {
    [&a.before, &a.after].iter().any(|m| m.as_ref().is_some_and(|m| !m.events.is_empty()))
}

/// Handlers that did not change but reach a changed helper: each is reviewed
/// through the helper, both versions modelled with what they reach.
fn reached_through_helpers(changes: &[FileChange], analyzed: &[Analyzed], views: &Views, globs: &[String], fields: &[String], notes: &mut Vec<String>) -> Vec<Analyzed> {
    let changed: BTreeSet<&str> = changes
        .iter()
        .filter(|c| !c.partial)
        .filter_map(|c| c.new_path.as_deref().or(c.old_path.as_deref()))
        .filter(|p| Language::of_path(p).is_some())
        // A file that tells no event apart (a signature validator) is a helper to whoever calls it.
        .filter(|p| !analyzed.iter().any(|a| a.path == *p && tells_events(a)))
        .collect();
    if changed.is_empty() {
        return Vec::new();
    }
    let keep = |p: &str| !analyzed.iter().any(|a| a.path == p) && (globs.is_empty() || globs.iter().any(|g| detect::glob_match(g, p)));
    let mut handlers: Vec<String> = views
        .after
        .candidates(keep)
        .into_iter()
        .filter(|(p, t)| !globs.is_empty() || detect::looks_like_handler(p, t))
        .map(|(p, _)| p)
        .collect();
    // A module per event type is loaded by a file whose path need not say "webhook".
    for loader in changed.iter().flat_map(|c| views.after.event_module_loaders(c)) {
        if keep(&loader) && !handlers.contains(&loader) && views.after.read_one(&loader).is_some_and(|t| detect::looks_like_handler(&loader, &t)) {
            handlers.push(loader);
        }
    }
    let mut out = Vec::new();
    for path in handlers {
        let Some(lang) = Language::of_path(&path) else { continue };
        let read = |v: &resolve::RepoView| v.read_one(&path);
        let (Some(after_text), before_text) = (read(&views.after), read(&views.before)) else { continue };
        let (after, after_reach, skipped, mut not_followed) = model_in(lang, &path, &after_text, fields, Some((&views.after, &views.cache)));
        let before = before_text.as_deref().map(|t| model_in(lang, &path, t, fields, Some((&views.before, &views.cache))));
        let before_reach: BTreeSet<String> = before.as_ref().map(|b| b.1.iter().cloned().collect()).unwrap_or_default();
        not_followed.extend(before.iter().flat_map(|b| b.3.iter().cloned()));
        let touches = after_reach.iter().chain(before_reach.iter()).any(|h| changed.contains(h.as_str()));
        if !touches {
            continue;
        }
        notes.extend(skipped);
        let mut helpers: BTreeSet<String> = after_reach.into_iter().collect();
        helpers.extend(before_reach);
        let via: Vec<&str> = helpers.iter().map(String::as_str).filter(|h| changed.contains(h)).collect();
        notes.push(format!("{path} did not change but calls into changed {}: reviewed through them", via.join(", ")));
        out.push(Analyzed {
            path: path.clone(),
            old_path: None,
            change: "unchanged",
            lang,
            before: before.map(|b| b.0),
            after: Some(after),
            partial: false,
            removed_at: None,
            helpers,
            quotes_events: false,
            not_followed: not_followed.into_iter().collect(),
            before_handler: before_text.as_deref().is_some_and(|t| detect::looks_like_handler(&path, t)),
        });
    }
    out
}

/// The statements a file lowers to, for looking at what the later steps read.
pub fn debug_stmts(path: &str, text: &str) -> String {
    match Language::of_path(path) {
        Some(lang) => format!("{:#?}", lang::parse(lang, text).stmts),
        None => "not a supported language".into(),
    }
}

/// The model of the handler at `path` in the working tree of `top`, with the
/// files it reaches, as JSON: for looking at what the review sees.
pub fn debug_model(top: &std::path::Path, path: &str) -> String {
    let Some(views) = Views::new(top, None, &[]) else { return "not a git checkout".into() };
    let Some(lang) = Language::of_path(path) else { return "not a supported language".into() };
    let Some(text) = views.after.read_one(path) else { return "no such file".into() };
    let (model, followed, skipped, _) = model_in(lang, path, &text, &[], Some((&views.after, &views.cache)));
    serde_json::to_string_pretty(&serde_json::json!({"followed": followed, "skipped": skipped, "model": model})).unwrap_or_default()
}

/// A lost grant, revocation or handling of an event the provider never sends
/// (`customer.subscription.cancelled`) loses nothing: that code never ran. Low, saying so.
fn never_sent_events(findings: &mut [crate::report::Finding]) {
    for f in findings.iter_mut().filter(|f| f.severity == crate::report::Severity::High && matches!(&*f.rule, "WH004" | "WH005" | "WH006" | "WH008")) {
        let event = f.evidence.get("event").and_then(|v| v.as_str()).map(str::to_string).or_else(|| f.entity.split_once('#').map(|(_, e)| e.to_string()));
        if let Some(event) = event.filter(|e| vocab::never_sent(e)) {
            f.severity = crate::report::Severity::Low;
            f.message = format!("{} (Stripe never sends `{event}`: the removed code never ran)", f.message);
        }
    }
}
