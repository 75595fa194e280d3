//! `billguard init`: connects a coding agent's editor to billguard.
//!
//! It writes each client's MCP server entry, the agent guidance (the Cursor
//! rule, a marked section in CLAUDE.md / AGENTS.md) and a starter
//! `billguard.toml`. Everything is planned first, as data, from the files as
//! they are: a malformed file stops the run before anything is written, and a
//! second run plans the same bytes, so it changes nothing.

mod apps;
mod clients;
mod detect;
mod schema_files;
mod merge_json;
mod merge_toml;
pub mod monitor;
mod section;
mod starter_config;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::error::CheckError;

pub use detect::{Stack, detect_clients, detect_stack};
pub use section::{END_MARKER, START_MARKER};
pub use starter_config::render as render_starter_config;

/// The Cursor rule, installed as `.cursor/rules/billguard.mdc`.
pub const CURSOR_RULE: &str = include_str!("../../cursor-rules/billguard.mdc");
/// The same guidance as a marked section of CLAUDE.md and AGENTS.md.
pub const AGENTS_SECTION: &str = include_str!("../../cursor-rules/agents-section.md");

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Client {
    Cursor,
    Claude,
    Vscode,
    Codex,
    Windsurf,
}

impl Client {
    pub fn display_name(self) -> &'static str {
        match self {
            Client::Cursor => "Cursor",
            Client::Claude => "Claude Code",
            Client::Vscode => "VS Code",
            Client::Codex => "Codex",
            Client::Windsurf => "Windsurf",
        }
    }
}

/// What nothing detected sets up: the two clients whose project files
/// (`.cursor/`, `.mcp.json`) are most often committed with a repository.
pub const DEFAULT_CLIENTS: [Client; 2] = [Client::Cursor, Client::Claude];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Created,
    Updated,
    Unchanged,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::Updated => "updated",
            Status::Unchanged => "unchanged",
        }
    }
}

/// One file the run creates, updates or leaves as it is.
#[derive(Debug, Clone)]
pub struct FileChange {
    /// Relative to the repository root.
    pub path: PathBuf,
    pub status: Status,
    pub contents: String,
    pub note: Option<String>,
}

/// How the clients were chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    Flags,
    Detected(Vec<String>),
    Default,
}

#[derive(Debug, Clone)]
pub struct Plan {
    pub repo: PathBuf,
    pub clients: Vec<Client>,
    pub selection: Selection,
    pub changes: Vec<FileChange>,
    /// Text for the person to act on (Windsurf's global config is not ours to write).
    pub printed: Vec<String>,
    /// One line per detected fact of the stack, for the summary.
    pub detected: Vec<String>,
    /// Files the run writes that git ignores here, with the rule that ignores each.
    pub ignored: Vec<String>,
}

/// A parse problem inside a file, before the file's path is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
}

impl Located {
    pub fn at(text: &str, offset: usize, message: impl Into<String>) -> Self {
        let (line, column) = crate::config::line_col(text, offset);
        Located { line: Some(line), column: Some(column), message: message.into() }
    }

    pub fn nowhere(message: impl Into<String>) -> Self {
        Located { line: None, column: None, message: message.into() }
    }

    fn in_file(self, path: &Path) -> CheckError {
        CheckError::Input {
            path: path.to_path_buf(),
            line: self.line,
            column: self.column,
            message: format!("{}; nothing was written", self.message),
        }
    }
}

/// Collects edits per file, so that two clients editing the same file
/// (AGENTS.md for Claude Code and Codex) make one change.
struct Planner<'a> {
    repo: &'a Path,
    files: Vec<(PathBuf, Option<String>, String, Option<String>)>,
}

impl<'a> Planner<'a> {
    fn new(repo: &'a Path) -> Self {
        Planner { repo, files: Vec::new() }
    }

    /// Whether the file exists now or an earlier edit of this run creates it.
    fn exists(&self, rel: &str) -> bool {
        self.files.iter().any(|(p, ..)| p == Path::new(rel)) || self.repo.join(rel).is_file()
    }

    fn edit(&mut self, rel: &str, f: impl FnOnce(Option<&str>) -> Result<String, Located>) -> Result<(), CheckError> {
        let path = PathBuf::from(rel);
        let index = match self.files.iter().position(|(p, ..)| *p == path) {
            Some(i) => i,
            None => {
                let original = read_existing(&self.repo.join(rel))?;
                let current = original.clone().unwrap_or_default();
                self.files.push((path.clone(), original, current, None));
                self.files.len() - 1
            }
        };
        let entry = &mut self.files[index];
        let input = if entry.1.is_none() && entry.2.is_empty() { None } else { Some(entry.2.as_str()) };
        entry.2 = f(input).map_err(|e| e.in_file(&self.repo.join(rel)))?;
        Ok(())
    }

    fn note(&mut self, rel: &str, note: String) {
        if let Some(entry) = self.files.iter_mut().find(|(p, ..)| p == Path::new(rel)) {
            entry.3 = Some(note);
        }
    }

    fn finish(self) -> Vec<FileChange> {
        self.files
            .into_iter()
            .map(|(path, original, contents, note)| {
                let status = match &original {
                    None => Status::Created,
                    Some(old) if *old == contents => Status::Unchanged,
                    Some(_) => Status::Updated,
                };
                FileChange { path, status, contents, note }
            })
            .collect()
    }
}

/// The file's text, or None when it does not exist.
fn read_existing(path: &Path) -> Result<Option<String>, CheckError> {
    match std::fs::read(path) {
        Ok(bytes) => String::from_utf8(bytes)
            .map(Some)
            .map_err(|_| CheckError::input(path, "is not UTF-8 text; nothing was written")),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(CheckError::input(path, format!("cannot read: {e}; nothing was written"))),
    }
}

/// Plans the run without writing anything. `requested` empty: detect the clients.
pub fn plan(repo: &Path, requested: &[Client]) -> Result<Plan, CheckError> {
    if !repo.is_dir() {
        return Err(CheckError::Usage(format!("--repo {} is not a directory", repo.display())));
    }
    let (mut clients, selection) = if requested.is_empty() {
        let (found, reasons) = detect_clients(repo);
        if found.is_empty() { (DEFAULT_CLIENTS.to_vec(), Selection::Default) } else { (found, Selection::Detected(reasons)) }
    } else {
        (requested.to_vec(), Selection::Flags)
    };
    clients.sort();
    clients.dedup();

    // The configs to write: one per app below the root that bills, and the
    // root's when the root bills itself or no app below does.
    let shared = std::cell::OnceCell::new();
    let root_stack = detect::detect_stack_in(repo, repo, &shared);
    let billing_apps: Vec<(String, Stack)> = apps::find(repo)
        .into_iter()
        .filter_map(|rel| {
            let stack = detect::detect_stack_in(repo, &repo.join(&rel), &shared);
            (!stack.providers.is_empty()).then_some((rel, stack))
        })
        .collect();
    let root_is_app = billing_apps.is_empty() || !root_stack.providers.is_empty();
    let mut targets: Vec<(String, Stack)> = Vec::new();
    if root_is_app {
        targets.push((String::new(), root_stack));
    }
    targets.extend(billing_apps);
    let monorepo = targets.iter().any(|(rel, _)| !rel.is_empty());
    let section = agents_section(&targets);

    let repo_abs = repo.canonicalize().unwrap_or_else(|_| repo.to_path_buf());
    let mut planner = Planner::new(repo);
    let mut printed = Vec::new();
    for &client in &clients {
        if let Some(text) = clients::plan_client(&mut planner, client, &repo_abs, &section)? {
            printed.push(text);
        }
    }

    let mut detected = Vec::new();
    for (rel, stack) in &targets {
        let config_rel = config_of(rel);
        if planner.repo.join(&config_rel).exists() {
            planner.edit(&config_rel, |old| Ok(old.unwrap_or_default().to_string()))?;
            planner.note(&config_rel, "already exists; init never overwrites it".into());
            continue;
        }
        let prefix = if monorepo { format!("{}: ", if rel.is_empty() { "(root)" } else { rel }) } else { String::new() };
        detected.extend(stack.facts().into_iter().map(|f| format!("{prefix}{f}")));
        let text = render_starter_config(stack);
        planner.edit(&config_rel, |_| Ok(text))?;
        let note = if rel.is_empty() { "starter config from the detected stack: review it".to_string() } else { format!("starter config for the app {rel}: review it") };
        planner.note(&config_rel, note);
    }
    if monorepo {
        printed.push(monorepo_guidance(&targets));
    }
    let paddle_only = targets.iter().all(|(_, s)| !s.providers.is_empty() && s.providers.iter().all(|p| p.value == "paddle"));
    if !paddle_only {
        printed.push(starter_config::restricted_key_guidance());
    }
    let changes = planner.finish();
    let ignored = gitignored(repo, changes.iter().filter(|c| c.status != Status::Unchanged).map(|c| c.path.as_path()));
    Ok(Plan { repo: repo.to_path_buf(), clients, selection, changes, printed, detected, ignored })
}

fn config_of(rel: &str) -> String {
    if rel.is_empty() { crate::config::FILE_NAME.to_string() } else { format!("{rel}/{}", crate::config::FILE_NAME) }
}

/// Which config to use for which app, for the person running init.
fn monorepo_guidance(targets: &[(String, Stack)]) -> String {
    let mut out = String::from("Monorepo: billing found in ");
    let names: Vec<String> =
        targets.iter().map(|(rel, _)| if rel.is_empty() { "the root (billguard.toml)".to_string() } else { format!("{rel} ({})", config_of(rel)) }).collect();
    out.push_str(&names.join(", "));
    out.push_str(".\nCheck each app with its own config and env files:\n");
    for (rel, _) in targets.iter().filter(|(rel, _)| !rel.is_empty()) {
        let _ = writeln!(out, "  billguard check all --repo {rel}");
    }
    out.push_str("The MCP server serves the repository root: for an app, the agent passes its config to the tools, e.g.\n");
    if let Some((rel, _)) = targets.iter().find(|(rel, _)| !rel.is_empty()) {
        let _ = writeln!(out, "  check_all with config = \"{}\"", config_of(rel));
    }
    out
}

/// The agent section, with a line naming each app's config in a monorepo.
fn agents_section(targets: &[(String, Stack)]) -> String {
    if !targets.iter().any(|(rel, _)| !rel.is_empty()) {
        return AGENTS_SECTION.to_string();
    }
    let apps: Vec<String> = targets
        .iter()
        .map(|(rel, _)| if rel.is_empty() { "the root: `billguard.toml`".to_string() } else { format!("`{rel}`: `{}`", config_of(rel)) })
        .collect();
    let line = format!(
        "\nThis repository is a monorepo; billing lives in {}.\n\
         For a change in an app, pass its file as `config` to the tools (on the command line,\n\
         `--repo` the app's folder).\n",
        apps.join(", ")
    );
    match AGENTS_SECTION.rfind(END_MARKER) {
        Some(end) => format!("{}\n{line}{}", AGENTS_SECTION[..end].trim_end_matches('\n'), &AGENTS_SECTION[end..]),
        None => AGENTS_SECTION.to_string(),
    }
}

/// The paths git would ignore in `repo`, each as `path (source:line: pattern)`.
/// Nothing when git is missing or `repo` is not a work tree.
fn gitignored<'a>(repo: &Path, paths: impl Iterator<Item = &'a Path>) -> Vec<String> {
    let paths: Vec<&Path> = paths.collect();
    if paths.is_empty() {
        return Vec::new();
    }
    let Ok(out) = std::process::Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(["check-ignore", "--verbose", "--"])
        .args(&paths)
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
    else {
        return Vec::new();
    };
    // `source:line:pattern<TAB>path` per ignored path.
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once('\t'))
        .map(|(rule, path)| format!("{path} ({rule})"))
        .collect()
}

/// Writes the created and updated files.
pub fn apply(plan: &Plan) -> Result<(), CheckError> {
    for change in plan.changes.iter().filter(|c| c.status != Status::Unchanged) {
        let path = plan.repo.join(&change.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| CheckError::input(parent, format!("cannot create the directory: {e}")))?;
        }
        std::fs::write(&path, &change.contents).map_err(|e| CheckError::input(&path, format!("cannot write: {e}")))?;
    }
    Ok(())
}

/// Plans, writes, and returns the summary for stdout.
pub fn run(repo: &Path, requested: &[Client]) -> Result<String, CheckError> {
    let plan = plan(repo, requested)?;
    apply(&plan)?;
    Ok(render_summary(&plan))
}

pub fn render_summary(plan: &Plan) -> String {
    let mut out = String::new();
    let names: Vec<&str> = plan.clients.iter().map(|c| c.display_name()).collect();
    match &plan.selection {
        Selection::Flags => {}
        Selection::Detected(reasons) => {
            let _ = writeln!(out, "Detected {} ({}).", names.join(", "), reasons.join(", "));
        }
        Selection::Default => {
            let _ = writeln!(
                out,
                "No editor configuration found (.cursor/, .mcp.json, CLAUDE.md, .claude/, .vscode/, .codex/, .windsurf*):\n\
                 setting up Cursor and Claude Code. Pass --vscode, --codex or --windsurf for the others."
            );
        }
    }
    let _ = writeln!(out, "billguard init for {}:", names.join(", "));
    let width = plan.changes.iter().map(|c| c.path.display().to_string().len()).max().unwrap_or(0);
    for change in &plan.changes {
        let path = change.path.display().to_string();
        let note = change.note.as_deref().map(|n| format!("  ({n})")).unwrap_or_default();
        let row = format!("  {:<9}  {path:<width$}{note}", change.status.as_str());
        let _ = writeln!(out, "{}", row.trim_end());
    }
    for ignored in &plan.ignored {
        let _ = writeln!(
            out,
            "warning: git ignores {ignored}: teammates and CI will not get it; un-ignore it or `git add -f` it"
        );
    }
    if !plan.detected.is_empty() {
        let _ = writeln!(out, "Detected in the stack:");
        for fact in &plan.detected {
            let _ = writeln!(out, "  - {fact}");
        }
    }
    for text in &plan.printed {
        out.push('\n');
        out.push_str(text);
        if !text.ends_with('\n') {
            out.push('\n');
        }
    }
    out.push('\n');
    out.push_str(&clients::next_steps(&plan.clients));
    out
}
