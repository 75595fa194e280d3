//! The command line: parse, call the engine, render, exit 0/1/2.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::access::{self, AccessRequest};
use crate::all::{self, AllReport, AllRequest};
use crate::webhook::{self, WebhookRequest};
use crate::error::CheckError;
use crate::keys::{self, KeysRequest};
use crate::report::{Format, Report, ScopeView};
use crate::{demo, mcp, rules, secrets};

#[derive(Debug, Parser)]
#[command(
    name = "billguard",
    version,
    about = "Catch billing that drifts out of sync with what the app believes.",
    long_about = "Pre-PR checks for billing code: a local stdio MCP server for coding agents, and a CLI on the same engine.\n\
                  Exit codes: 0 pass or warn; 1 fail (any high finding; with --strict, any finding); 2 usage, configuration or input error; 3 incomplete (no high finding, but something asked for was not examined: see the notes)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the stdio MCP server (logs go to stderr only).
    Serve {
        /// Repository root: tool paths resolve here and may not leave it.
        #[arg(long, default_value = ".")]
        repo: PathBuf,
        /// Let check_key_mode run the `command` sources of [keys.environments] (off by
        /// default: a repository's config must not run code through an agent's tool call).
        #[arg(long)]
        allow_commands: bool,
        /// Let check_key_mode and check_all reach the network: the probes billguard.toml asks for
        /// and the probe_url argument (a POST that creates an unpaid Checkout Session). Off by
        /// default; with it, those tools no longer advertise themselves as read-only.
        #[arg(long)]
        allow_probes: bool,
    },
    /// Run the checks on fixtures built into the binary (no files, keys or network).
    Demo {
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Run one check, or all of them (`check all`).
    Check {
        #[command(subcommand)]
        check: CheckCommand,
    },
    /// Connect coding agents to billguard: each client's MCP entry, the agent
    /// guidance, and a starter billguard.toml. No client flag: detect them from the
    /// files present, else set up Cursor and Claude Code.
    Init {
        /// Repository root.
        #[arg(long, default_value = ".")]
        repo: PathBuf,
        /// .cursor/mcp.json and .cursor/rules/billguard.mdc.
        #[arg(long)]
        cursor: bool,
        /// .mcp.json and the billguard section of CLAUDE.md (and of AGENTS.md when it exists).
        #[arg(long)]
        claude: bool,
        /// .vscode/mcp.json.
        #[arg(long)]
        vscode: bool,
        /// .codex/config.toml and the billguard section of AGENTS.md.
        #[arg(long)]
        codex: bool,
        /// Prints the entry for Windsurf's global config (init does not write it).
        #[arg(long)]
        windsurf: bool,
        /// Write only .github/workflows/billguard-monitor.yml: the access contract every night,
        /// keeping one issue open while it fails.
        #[arg(long)]
        monitor: bool,
    },
    /// Record today's findings in .billguard/baseline.json (commit it): later runs show only
    /// findings not recorded there and name the recorded ones that are fixed. Every webhook
    /// handler is reviewed whole, so the findings it already has are recorded once.
    Baseline {
        /// Which check to record (the others' entries are kept).
        #[arg(value_enum, default_value_t = BaselineCheck::All)]
        check: BaselineCheck,
        /// Repository root.
        #[arg(long, default_value = ".")]
        repo: PathBuf,
        /// billguard.toml to use (default: the repo's).
        #[arg(long)]
        config: Option<PathBuf>,
        /// Fixtures directory for the access check (as `check access --fixtures`).
        #[arg(long)]
        fixtures: Option<PathBuf>,
    },
    /// The rule catalog, or one rule explained.
    Rules {
        /// A rule code such as ACC001.
        code: Option<String>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BaselineCheck {
    Access,
    Keys,
    Webhook,
    /// Every check that can run here (one that cannot is named and left out).
    All,
}

#[derive(Debug, Subcommand)]
pub enum CheckCommand {
    /// Billing subscriptions vs the app's users: revenue leaks, wrongful access, plan drift.
    Access {
        /// billguard.toml to use (default: the fixtures directory's, else the repo's).
        #[arg(long)]
        config: Option<PathBuf>,
        /// Directory with stripe/subscriptions.json (or paddle/) and db/users.json. A side it
        /// lacks is read live: subscriptions from the billing API ([billing]), users from the database.
        #[arg(long)]
        fixtures: Option<PathBuf>,
        /// Post a short summary to the chat webhook whose URL this environment variable holds
        /// (Slack-compatible `{"text": …}`), when the verdict is not pass. The URL is never printed.
        #[arg(long, value_name = "VAR")]
        notify_url_env: Option<String>,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// A webhook handler diff: what it changes in the billing state machine (WH rules).
    Webhook {
        /// Unified diff to review (a file, or `-` for stdin) instead of the git working tree.
        #[arg(long)]
        diff: Option<PathBuf>,
        /// Base ref to compare the working tree with (default: merge-base with the default branch, else HEAD).
        #[arg(long)]
        base: Option<String>,
        /// A handler file or glob to review (repeatable; default: [webhook] paths, else detection).
        #[arg(long = "path")]
        paths: Vec<String>,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Test vs live keys, missing or misnamed variables and probes, per environment.
    Keys {
        /// billguard.toml to use (default: the repo's).
        #[arg(long)]
        config: Option<PathBuf>,
        /// Judge exactly these environments: NAME=FILE reads a dotenv file, NAME picks a
        /// configured or discovered one, `process` is this process's environment. Repeatable.
        #[arg(long = "env", value_name = "NAME[=FILE]")]
        env: Vec<String>,
        /// POST to this production checkout endpoint and read the session's mode
        /// (creates an unpaid Checkout Session).
        #[arg(long)]
        probe_url: Option<String>,
        /// Ask the Stripe API (read-only) about each environment's key, prices and webhook endpoints.
        #[arg(long)]
        probe_api: bool,
        /// Run the probes billguard.toml asks for ([keys] probe_url, probe_api). Without it they are
        /// skipped with a note: a repository's config does not reach the network unasked.
        #[arg(long)]
        allow_probes: bool,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// All three checks with billguard.toml's defaults, one verdict. A check that cannot run
    /// here (no billing data configured, not a git checkout) is reported as skipped, with what to
    /// do. Exit 1 on fail; else 2 when a check failed to run or none ran; else 0.
    All {
        /// billguard.toml to use for every check (default: the repo's).
        #[arg(long)]
        config: Option<PathBuf>,
        /// Fixtures for the access check (stripe/subscriptions.json or paddle/, db/users.json);
        /// without them it reads live per [billing] and [database], or is skipped.
        #[arg(long)]
        fixtures: Option<PathBuf>,
        /// Base ref for the webhook review (default: merge-base with the default branch, else HEAD).
        #[arg(long)]
        base: Option<String>,
        /// Run the probes billguard.toml asks for ([keys] probe_url, probe_api); skipped with a note
        /// otherwise.
        #[arg(long)]
        allow_probes: bool,
        #[command(flatten)]
        common: CommonArgs,
    },
}

#[derive(Debug, Args)]
pub struct CommonArgs {
    /// Repository root.
    #[arg(long, default_value = ".")]
    pub repo: PathBuf,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Exit 1 on any finding, not only on high ones.
    #[arg(long)]
    pub strict: bool,
    /// Also write the full JSON report to this file.
    #[arg(long)]
    pub report_file: Option<PathBuf>,
    /// Show at most N findings (all are still counted in the summary).
    #[arg(long)]
    pub max_findings: Option<usize>,
    /// Also show findings recorded in .billguard/baseline.json (see `billguard baseline`).
    #[arg(long)]
    pub no_baseline: bool,
}

/// Runs the CLI and returns the process exit code.
pub fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Serve { repo, allow_commands, allow_probes } => serve(repo, allow_commands, allow_probes),
        Command::Demo { format } => run_demo(format),
        Command::Rules { code } => show_rules(code.as_deref()),
        Command::Baseline { check, repo, config, fixtures } => run_baseline(check, repo, config, fixtures),
        Command::Init { repo, monitor: true, .. } => match crate::init::monitor::write(&repo) {
            Ok(summary) => {
                print_stdout(&summary);
                ExitCode::SUCCESS
            }
            Err(e) => fail(&e),
        },
        Command::Init { repo, cursor, claude, vscode, codex, windsurf, monitor: false } => {
            use crate::init::Client;
            let flags = [(cursor, Client::Cursor), (claude, Client::Claude), (vscode, Client::Vscode), (codex, Client::Codex), (windsurf, Client::Windsurf)];
            let clients: Vec<Client> = flags.into_iter().filter(|(on, _)| *on).map(|(_, c)| c).collect();
            match crate::init::run(&repo, &clients) {
                Ok(summary) => {
                    print_stdout(&summary);
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&e),
            }
        }
        Command::Check { check: CheckCommand::Access { config, fixtures, notify_url_env, common } } => {
            let req = AccessRequest { repo: common.repo.clone(), fixtures_dir: fixtures, config, now: access::now(), map_files: true, no_baseline: common.no_baseline };
            let line = ProgressLine::default();
            let result = block_on(access::check_with(&req, &line.hooks()));
            line.finish();
            match result {
                Ok(report) => {
                    // Composed before `emit` bounds the findings shown; sent after the report is out.
                    let note = notify_url_env.as_ref().filter(|_| report.verdict != crate::report::Verdict::Pass).map(|var| (var, crate::report::notify::message(&report)));
                    let code = emit(report, &common);
                    match note.map(|(var, text)| crate::report::notify::post(var, &text)) {
                        Some(Err(why)) => {
                            eprintln!("billguard: notification not sent: {}", secrets::redact(&why));
                            ExitCode::from(2)
                        }
                        _ => code,
                    }
                }
                Err(e) => fail(&e),
            }
        }
        Command::Check { check: CheckCommand::Webhook { diff, base, paths, common } } => {
            let diff = match diff.as_deref().map(read_diff).transpose() {
                Ok(d) => d,
                Err(e) => return fail(&e),
            };
            if diff.is_some() && base.is_some() {
                return fail(&CheckError::Usage("give either --diff or --base, not both".into()));
            }
            let req = WebhookRequest { repo: common.repo.clone(), base, diff, paths, config: None, no_baseline: common.no_baseline };
            match on_check_thread(move || webhook::check(&req)) {
                Ok(report) => emit(report, &common),
                Err(e) => fail(&e),
            }
        }
        Command::Check { check: CheckCommand::All { config, fixtures, base, allow_probes, common } } => {
            let req = AllRequest { repo: common.repo.clone(), config, fixtures_dir: fixtures, base, allow_commands: true, allow_config_probes: allow_probes, now: access::now(), map_files: true, cancel: None, no_baseline: common.no_baseline };
            let line = ProgressLine::default();
            let result = block_on(async { Ok(all::run(&req, &line.hooks()).await) });
            line.finish();
            match result {
                Ok(report) => emit_all(report, &common),
                Err(e) => fail(&e),
            }
        }
        Command::Check { check: CheckCommand::Keys { config, env, probe_url, probe_api, allow_probes, common } } => {
            let environments = match env.iter().map(|s| keys::env_sources::EnvSpec::parse(s)).collect::<Result<Vec<_>, _>>() {
                Ok(specs) => specs,
                Err(e) => return fail(&CheckError::Usage(format!("--env {e}"))),
            };
            let req = KeysRequest {
                repo: common.repo.clone(),
                config,
                environments,
                probe_url,
                probe_api,
                allow_commands: true,
                allow_config_probes: allow_probes,
                cancel: None,
                no_baseline: common.no_baseline,
            };
            match on_check_thread(move || keys::check(&req)) {
                Ok(report) => emit(report, &common),
                Err(e) => fail(&e),
            }
        }
    }
}

/// `billguard baseline`: runs the chosen checks with nothing hidden and records their findings.
fn run_baseline(which: BaselineCheck, repo: PathBuf, config: Option<PathBuf>, fixtures: Option<PathBuf>) -> ExitCode {
    let wanted = |c: BaselineCheck| which == c || which == BaselineCheck::All;
    let mut recorded: Vec<(&str, Vec<crate::report::Finding>)> = Vec::new();
    let mut left_out: Vec<String> = Vec::new();
    let mut outcome = |tool: &'static str, result: Result<Vec<crate::report::Finding>, CheckError>| -> Result<(), ExitCode> {
        match result {
            Ok(findings) => recorded.push((tool, findings)),
            Err(e) if which == BaselineCheck::All => left_out.push(format!("{tool}: {}", secrets::redact(&e.to_string()))),
            Err(e) => return Err(fail(&e)),
        }
        Ok(())
    };
    if wanted(BaselineCheck::Access) {
        let req = AccessRequest { repo: repo.clone(), fixtures_dir: fixtures, config: config.clone(), now: access::now(), map_files: true, no_baseline: true };
        let line = ProgressLine::default();
        let result = block_on(access::check_with(&req, &line.hooks()));
        line.finish();
        if let Err(code) = outcome(access::TOOL, result.map(|r| r.findings)) {
            return code;
        }
    }
    if wanted(BaselineCheck::Keys) {
        let req = KeysRequest {
            repo: repo.clone(),
            config: config.clone(),
            environments: Vec::new(),
            probe_url: None,
            probe_api: false,
            allow_commands: true,
            allow_config_probes: false,
            cancel: None,
            no_baseline: true,
        };
        if let Err(code) = outcome(keys::TOOL, on_check_thread(move || keys::check(&req)).map(|r| r.findings)) {
            return code;
        }
    }
    if wanted(BaselineCheck::Webhook) {
        // Against the empty tree every handler is new: each is reviewed whole.
        let base = Some(webhook::git_source::EMPTY_TREE.to_string());
        let req = WebhookRequest { repo: repo.clone(), base, diff: None, paths: Vec::new(), config, no_baseline: true };
        if let Err(code) = outcome(webhook::TOOL, on_check_thread(move || webhook::check(&req)).map(|r| r.findings)) {
            return code;
        }
    }
    let today = chrono::Local::now().format("%Y-%m-%d").to_string();
    let checks: Vec<(&str, &[crate::report::Finding])> = recorded.iter().map(|(t, f)| (*t, f.as_slice())).collect();
    match crate::baseline::record(&repo, &checks, &today) {
        Ok((_, total)) => {
            let per: Vec<String> = recorded.iter().map(|(t, f)| format!("{t} {}", f.len())).collect();
            let mut out = format!(
                "wrote {}: {total} findings ({}). Commit it: later runs show only findings not in it and name the fixed ones; --no-baseline shows everything.\n",
                crate::baseline::FILE,
                per.join(", ")
            );
            for l in &left_out {
                out.push_str(&format!("not recorded: {l}\n"));
            }
            print_stdout(&out);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("billguard: input error: {e}");
            ExitCode::from(2)
        }
    }
}

/// Stack of every thread that runs a check: lowering deeply nested code and
/// reading nested JSON recurse, and inputs are capped well below what this holds.
pub const CHECK_STACK_SIZE: usize = 64 << 20;

/// Runs `work` on a thread with [`CHECK_STACK_SIZE`] of stack; a panic in it
/// becomes an internal error instead of an abort with a backtrace.
fn on_check_thread<T: Send + 'static>(work: impl FnOnce() -> Result<T, CheckError> + Send + 'static) -> Result<T, CheckError> {
    let spawned = std::thread::Builder::new().name("billguard-check".into()).stack_size(CHECK_STACK_SIZE).spawn(work);
    match spawned.map_err(|e| CheckError::Usage(format!("cannot start a thread: {e}")))?.join() {
        Ok(result) => result,
        Err(_) => Err(CheckError::Usage("internal error: the check crashed (panic); this is a billguard bug: please report it with the inputs that caused it".into())),
    }
}

/// Runs a future on a fresh runtime (checks read databases and APIs asynchronously).
fn block_on<T>(fut: impl Future<Output = Result<T, CheckError>>) -> Result<T, CheckError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_stack_size(CHECK_STACK_SIZE)
        .enable_all()
        .build()
        .map_err(|e| CheckError::Usage(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(fut)
}

/// A progress line on stderr while a live billing fetch runs, drawn only when
/// stderr is a terminal and only once the first page has arrived.
#[derive(Default)]
struct ProgressLine(std::sync::Arc<std::sync::OnceLock<indicatif::ProgressBar>>);

impl ProgressLine {
    fn hooks(&self) -> access::Hooks {
        if !std::io::stderr().is_terminal() {
            return access::Hooks::default();
        }
        let cell = std::sync::Arc::clone(&self.0);
        let report: access::ProgressFn = std::sync::Arc::new(move |p: &access::Progress| {
            let bar = cell.get_or_init(|| {
                let bar = indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
                bar.set_style(
                    indicatif::ProgressStyle::with_template("{spinner} {msg} [{elapsed}]").unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
                );
                bar.enable_steady_tick(std::time::Duration::from_millis(120));
                bar
            });
            bar.set_message(p.message());
        });
        access::Hooks { progress: Some(report) }
    }

    fn finish(&self) {
        if let Some(bar) = self.0.get() {
            bar.finish_and_clear();
        }
    }
}

/// Reads the diff for `check webhook --diff FILE|-`.
/// Reads `--diff` (a file or `-`), at most one byte past the cap, so that
/// `/dev/zero` or an endless pipe stops with an error instead of filling memory.
fn read_diff(path: &std::path::Path) -> Result<String, CheckError> {
    use std::io::Read;
    let cap = webhook::unified_diff::MAX_DIFF_BYTES as u64 + 1;
    let mut bytes = Vec::new();
    let read = if path.as_os_str() == "-" {
        std::io::stdin().take(cap).read_to_end(&mut bytes)
    } else {
        let file = std::fs::File::open(path).map_err(|e| CheckError::input(path, format!("cannot read the diff: {e}")))?;
        file.take(cap).read_to_end(&mut bytes)
    };
    read.map_err(|e| CheckError::input(path, format!("cannot read the diff: {e}")))?;
    webhook::unified_diff::check_size(bytes.len()).map_err(|m| CheckError::input(path, m))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

fn serve(repo: PathBuf, allow_commands: bool, allow_probes: bool) -> ExitCode {
    if !repo.is_dir() {
        eprintln!("billguard: usage error: --repo {} is not a directory", repo.display());
        return ExitCode::from(2);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).thread_stack_size(CHECK_STACK_SIZE).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("billguard: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(mcp::serve(repo, mcp::Permissions { allow_commands, allow_probes })) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("billguard: MCP server error: {}", secrets::redact(&e.to_string()));
            ExitCode::from(2)
        }
    }
}

/// The demo's clock is fixed so that its output is the same on every run.
pub const DEMO_NOW: i64 = 1_767_225_600; // 2026-01-01T00:00:00Z

fn run_demo(format: Format) -> ExitCode {
    let results = match demo::run(DEMO_NOW) {
        Ok(r) => r,
        Err(e) => return fail(&e),
    };
    let color = stdout_color();
    let mut out = String::new();
    let mut code = 0;
    if format == Format::Sarif {
        let runs: Vec<_> = results.iter().flat_map(|run| run.report.render(format, false).parse::<serde_json::Value>().ok()).flat_map(|v| v["runs"].as_array().cloned().unwrap_or_default()).collect();
        let log = serde_json::json!({"version": "2.1.0", "$schema": crate::sarif::SCHEMA, "runs": runs});
        out = serde_json::to_string_pretty(&log).expect("serializes") + "\n";
    }
    if format == Format::Json {
        let all: Vec<_> = results
            .iter()
            .map(|run| serde_json::json!({"scenario": run.name, "report": run.report.to_json_value()}))
            .collect();
        out = serde_json::to_string_pretty(&all).expect("serializes") + "\n";
    }
    for run in &results {
        let report = &run.report;
        if format != Format::Json && format != Format::Sarif {
            let heading = format!("== demo scenario `{}`: {} ==\n", run.name, run.title);
            out.push_str(&if format == Format::Markdown { format!("## {}\n\n", heading.trim_matches(['=', ' ', '\n'])) } else { heading });
            out.push_str(&report.render(format, color));
            out.push('\n');
        }
        code = code.max(report.exit_code(false));
    }
    if format == Format::Text {
        out.push_str("The demo ran on fixtures built into billguard. Try `billguard check access --fixtures DIR` on your own data,\n`billguard check webhook` before a PR that touches a webhook handler, `billguard check keys` before a deploy,\nand `billguard rules ACC001` for what a rule means.\n");
    }
    print_stdout(&out);
    ExitCode::from(code as u8)
}

fn show_rules(code: Option<&str>) -> ExitCode {
    match code {
        None => {
            print_stdout(&rules::render_catalog());
            ExitCode::SUCCESS
        }
        Some(code) => match rules::get(code) {
            Some(rule) => {
                print_stdout(&rules::render_rule(rule));
                ExitCode::SUCCESS
            }
            None => {
                let codes: Vec<String> = rules::all().map(|r| r.code.to_string()).collect();
                let hint = crate::config::closest(code, &codes).map(|c| format!(" Did you mean {c}?")).unwrap_or_default();
                eprintln!("billguard: usage error: no rule {code}.{hint} `billguard rules` lists them all.");
                ExitCode::from(2)
            }
        },
    }
}

/// Renders a report, writes the report file if asked, and picks the exit code.
fn emit<S: ScopeView>(mut report: Report<S>, common: &CommonArgs) -> ExitCode {
    if let Some(path) = &common.report_file {
        let written = std::fs::File::create(path).and_then(|mut file| report.write_json(&mut file));
        if let Err(e) = written {
            eprintln!("billguard: input error: cannot write --report-file {}: {e}", path.display());
            return ExitCode::from(2);
        }
    }
    if let Some(max) = common.max_findings {
        match &common.report_file {
            Some(path) => {
                if report.bound(max) > 0 {
                    report.report_file = Some(path.display().to_string());
                }
            }
            None => crate::report::bounded::bound_and_save(&common.repo, &mut report, max),
        }
    }
    let code = report.exit_code(common.strict);
    let started = std::time::Instant::now();
    if common.format == Format::Json {
        // Streamed: a large report is never held as one text.
        let mut out = std::io::stdout().lock();
        let _ = report.write_json(&mut out).and_then(|()| out.flush());
    } else {
        print_stdout(&report.render(common.format, stdout_color()));
    }
    tracing::debug!(ms = started.elapsed().as_millis() as u64, "rendered the report");
    // The process ends next: freeing a large report finding by finding would
    // only delay the exit.
    std::mem::forget(report);
    ExitCode::from(code as u8)
}

/// [`emit`] for `check all`: each section is cut to its share of --max-findings.
fn emit_all(mut report: AllReport, common: &CommonArgs) -> ExitCode {
    if let Some(path) = &common.report_file {
        if let Err(e) = std::fs::write(path, report.to_json_text()) {
            eprintln!("billguard: input error: cannot write --report-file {}: {e}", path.display());
            return ExitCode::from(2);
        }
    }
    if let Some(max) = common.max_findings {
        let repo = &common.repo;
        let kept = common.report_file.as_ref().map(|p| p.display().to_string());
        report.bound(max, &mut |tool: &str, full: &str| match &kept {
            // The combined full report already holds every section.
            Some(path) => Ok(path.clone()),
            None => crate::paths::save_report(repo, tool, full).map_err(|e| format!("cannot write under .billguard/reports/: {e}")),
        });
    }
    let code = report.exit_code(common.strict);
    print_stdout(&report.render(common.format, stdout_color()));
    ExitCode::from(code as u8)
}

fn fail(e: &CheckError) -> ExitCode {
    eprintln!("billguard: {}: {}", e.kind(), secrets::redact(&e.to_string()));
    ExitCode::from(2)
}

fn stdout_color() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

/// Writes to stdout; a closed pipe (`billguard demo | head`) is not an error.
fn print_stdout(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|_| out.flush());
}

/// Logs go to stderr only: stdout belongs to reports and to the MCP protocol.
pub fn init_logging(serving: bool) {
    let default = if serving { "billguard=info" } else { "billguard=warn" };
    let filter = tracing_subscriber::EnvFilter::try_from_env("BILLGUARD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(crate::log_writer::RedactedStderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}

