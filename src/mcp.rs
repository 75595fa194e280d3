//! The stdio MCP server: tool arguments in, a check's [`Report`] out.
//! No logic of its own beyond argument hygiene (secret guard, repo-bounded
//! paths), bounding results, and turning failures into `isError` results.
//!
//! stdout belongs to the protocol: everything else goes to stderr via tracing.

use std::path::{Path, PathBuf};

use rmcp::handler::server::router::prompt::PromptRouter;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{
    CallToolResult, ContentBlock, GetPromptResult, Implementation, ListResourceTemplatesResult, ListResourcesResult, PaginatedRequestParams,
    ProgressNotificationParam, PromptMessage, ReadResourceRequestParams, ReadResourceResponse, ReadResourceResult, Resource, ResourceContents,
    ResourceTemplate, Role, ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler, ServiceExt, prompt, prompt_handler, prompt_router, tool, tool_handler, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::access::{self, AccessRequest, AccessScope};
use crate::all::{self, AllReport, AllRequest};
use crate::keys::env_sources::EnvSpec;
use crate::keys::{self, KeysRequest, KeysScope};
use crate::error::CheckError;
pub use crate::tool_args::Args;
use crate::paths;
use crate::report::Report;
use crate::report::bounded::bound_and_save;
use crate::{rules, secrets};
use crate::webhook::{self, WebhookRequest, WebhookScope};

/// MCP results carry at most this many findings unless the caller asks otherwise.
pub const DEFAULT_MAX_FINDINGS: usize = 50;
/// Upper bound on `max_findings`, so that a result stays well under ~20k tokens.
pub const MAX_MAX_FINDINGS: usize = 200;

pub const INSTRUCTIONS: &str = "\
billguard checks billing code and data before a pull request is opened. Nothing it does calls an LLM or writes to \
any system; billing secrets stay in this process and are never accepted as arguments (name environment variables in \
billguard.toml instead).

When to call check_access_contract: after changing anything that decides who has paid access (webhook handlers, \
checkout or subscription code, the users table or its access/plan columns, price ids), and before opening the PR. \
Give fixtures_dir to check recorded billing data (stripe/subscriptions.json or paddle/subscriptions.json, and \
db/users.json) against the app's rows. Without billing fixtures it reads every subscription from the Stripe or Paddle API \
with the read-only key whose environment variable billguard.toml names ([billing] secret_env); that can take seconds \
for large accounts (progress is reported).

How to act on the result: verdict \"fail\" means at least one high finding: fix every high finding before opening \
the PR, then call the tool again until the verdict is not \"fail\". \"warn\" means medium/low findings: fix them or \
say in the PR why they are acceptable. \"incomplete\" means no high finding, but part of what was asked could not be examined (a handler billguard could not model, only a diff's hunks, an environment none of whose sources could be read): the notes starting \"not examined:\" name each and how to get a full review; it is not a pass. Each finding has the rule code, the entity (user:<id>, customer:<id>, \
price:<id>, account), a message, evidence and a concrete fix. When `omitted` > 0 the full list is in report_file. \
`notes` says what was skipped or partial: read it before concluding that all is well. Findings a reviewer accepted \
(a `billguard-ignore` comment, an [[ignore]] entry) or recorded in .billguard/baseline.json are left out and counted in \
summary.suppressed and summary.baselined; never add either to make a verdict pass.

When to call diff_webhook_handler: before opening a PR that touches a billing webhook handler (Stripe or Paddle \
events: checkout, subscription, invoice), and after every edit to one. Without arguments it compares the working \
tree (uncommitted changes included) with the merge-base of the default branch; pass `base` to pick another ref, or \
`diff` (unified diff text) when there is no checkout. It reports what the change does to the billing state machine: \
grants or revocations removed, events dropped, verification weakened, errors swallowed, idempotency that skips \
updates, writes moved after the answer (goroutines, threads, un-awaited promises), ordering weakened. Fix every high finding; findings marked pre_existing were already in the base.

When to call check_key_mode: after changing env files, deployment config (compose, workflows, manifests, fly.toml, \
vercel.json, netlify.toml) or code that reads billing variables, and before a deploy or launch. It reports test keys in \
production, live keys elsewhere or committed to git, mixed modes, variables the code reads that an environment lacks \
or names differently, misfiled keys and disabled safeguards, with a matrix (scope.matrix) of environment x variable. \
probe_url and probe_api reach the network and are opt-in: probe_url POSTs to a checkout endpoint (this creates an \
unpaid session); probe_api makes read-only Stripe API calls with each environment's key.

When to call check_all: once before opening any PR that touches billing, and again after fixing what it found. It runs \
the three checks above with billguard.toml's defaults and returns one verdict (the worst of those that ran) with a \
section per check (sections.access, sections.keys, sections.webhook), each holding that check's report. A section whose \
status is \"skipped\" or \"error\" did not run: its reason and what_to_do say why and how to make it run (for example \
pass fixtures_dir); say so in the PR rather than reading the verdict as covering it. Use the single tools to iterate on \
one area with more options.

The prompt pre_pr_billing_check (argument: base, the ref the PR merges into) walks through the whole pre-PR routine: \
check_all, fix every high finding, re-run until the verdict is pass or warn (incomplete is not a pass), never paste secrets. Each rule's \
documentation (what it finds, why it matters, an example, the fix) is a resource: billguard://rules/{code}, e.g. \
billguard://rules/ACC001; resources/list lists every rule.";

/// The MCP resource template for rule documentation.
pub const RULE_URI_TEMPLATE: &str = "billguard://rules/{code}";
const RULE_URI_PREFIX: &str = "billguard://rules/";

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AccessArgs {
    /// Fixture directory, relative to the repo root, holding stripe/subscriptions.json (or
    /// paddle/subscriptions.json) and db/users.json, and optionally its own billguard.toml.
    /// A side it lacks is read live: subscriptions from the provider's API ([billing] in
    /// billguard.toml), users from the database ([database]).
    #[serde(default)]
    pub fixtures_dir: Option<String>,
    /// billguard.toml to use, relative to the repo root. Default: the fixtures directory's own
    /// billguard.toml, else the repo's, else built-in defaults.
    #[serde(default)]
    pub config: Option<String>,
    /// Most findings to return (default 50, at most 200); all are counted in `summary`, and
    /// the full list goes to `report_file` when some are left out.
    #[serde(default)]
    pub max_findings: Option<u32>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookArgs {
    /// Git ref to compare the working tree (uncommitted changes included) with. Default: the
    /// merge-base with the default branch, else HEAD. Ignored when `diff` is given.
    #[serde(default)]
    pub base: Option<String>,
    /// Unified diff text to review instead of the git working tree (`git diff` output, with or
    /// without git headers). Files are reconstructed from the hunks: the analysis is partial.
    #[serde(default)]
    pub diff: Option<String>,
    /// Handler files or globs to review, relative to the repo root. Default: `[webhook] paths`
    /// from billguard.toml, else files detected as billing webhook handlers.
    #[serde(default)]
    pub paths: Option<Vec<String>>,
    /// Most findings to return (default 50, at most 200); all are counted in `summary`, and
    /// the full list goes to `report_file` when some are left out.
    #[serde(default)]
    pub max_findings: Option<u32>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyModeArgs {
    /// Judge exactly these environments. Each is NAME (a configured or discovered environment,
    /// or `process` for the server's own environment) or NAME=FILE (a dotenv file, relative to
    /// the repo root). Default: [keys.environments] from billguard.toml, else the discovered
    /// .env files and deployment files.
    #[serde(default)]
    pub environments: Option<Vec<String>>,
    /// Production checkout endpoint to POST to (overrides [keys] probe_url). Reaches the network
    /// and creates an unpaid Checkout Session; the response is read for cs_test_/cs_live_ sessions
    /// and payment links.
    #[serde(default)]
    pub probe_url: Option<String>,
    /// Ask the Stripe API (read-only GETs) with each environment's key: its mode, whether the
    /// configured prices exist in that mode, and the webhook endpoints. Default: [keys] probe_api.
    #[serde(default)]
    pub probe_api: Option<bool>,
    /// billguard.toml to use, relative to the repo root. Default: the repo's, else built-in defaults.
    #[serde(default)]
    pub config: Option<String>,
    /// Most findings to return (default 50, at most 200); all are counted in `summary`, and
    /// the full list goes to `report_file` when some are left out.
    #[serde(default)]
    pub max_findings: Option<u32>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AllArgs {
    /// billguard.toml for every check, relative to the repo root. Default: the repo's, else
    /// built-in defaults (the access check also uses the fixtures directory's own).
    #[serde(default)]
    pub config: Option<String>,
    /// Fixture directory for the access check, relative to the repo root, holding
    /// stripe/subscriptions.json (or paddle/subscriptions.json) and db/users.json. Without it the
    /// access check reads live per billguard.toml ([billing], [database]), or is skipped when
    /// those are not set up.
    #[serde(default)]
    pub fixtures_dir: Option<String>,
    /// Git ref the webhook review compares the working tree with (the PR's base, e.g.
    /// origin/main). Default: the merge-base with the default branch, else HEAD.
    #[serde(default)]
    pub base: Option<String>,
    /// Most findings to return across the three checks (default 50, at most 200), shared
    /// between them. Every finding is still counted in `summary`; a section that was cut points
    /// to its full report in `report_file`.
    #[serde(default)]
    pub max_findings: Option<u32>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct PrePrArgs {
    /// Git ref the pull request will merge into, e.g. origin/main. Default: the repository's
    /// default branch (billguard uses the merge-base with origin/HEAD, main or master).
    #[serde(default)]
    pub base: Option<String>,
}

/// What the person starting the server allowed beyond reading files: a
/// repository's config (untrusted input) cannot grant either.
#[derive(Debug, Clone, Copy, Default)]
pub struct Permissions {
    /// Run `command` sources of [keys.environments] (`serve --allow-commands`).
    pub allow_commands: bool,
    /// Reach the network for probes: the config's probe_url / probe_api and the probe_url
    /// argument (`serve --allow-probes`).
    pub allow_probes: bool,
}

/// Tools that can POST (the checkout probe) when probes are allowed.
const PROBING_TOOLS: [&str; 2] = ["check_key_mode", "check_all"];

#[derive(Debug, Clone)]
pub struct BillguardServer {
    repo: PathBuf,
    /// The client's first root, once asked, when the server was started on `.`.
    roots: Arc<tokio::sync::OnceCell<Option<PathBuf>>>,
    allow_commands: bool,
    allow_probes: bool,
    tool_router: ToolRouter<Self>,
    prompt_router: PromptRouter<Self>,
}

#[tool_router]
impl BillguardServer {
    pub fn new(repo: PathBuf) -> Self {
        BillguardServer {
            repo,
            roots: Arc::new(tokio::sync::OnceCell::new()),
            allow_commands: false,
            allow_probes: false,
            tool_router: Self::tool_router(),
            prompt_router: Self::prompt_router(),
        }
    }

    /// This server with the repository the call is about: `--repo` when it names a
    /// directory, else (started on `.`) the client's first `file://` root when the
    /// client offers roots, else `.`. Asked once per session. (The SDK marks roots
    /// deprecated by a later protocol revision; the clients in use still send them.)
    #[allow(deprecated)]
    async fn rooted(&self, ctx: &RequestContext<RoleServer>) -> BillguardServer {
        if self.repo != Path::new(".") {
            return self.clone();
        }
        let peer = ctx.peer.clone();
        let root = self
            .roots
            .get_or_init(|| async move {
                let offers = peer.peer_info().is_some_and(|info| info.capabilities.roots.is_some());
                if !offers {
                    return None;
                }
                let listed = tokio::time::timeout(std::time::Duration::from_secs(5), peer.list_roots()).await.ok()?.ok()?;
                let root = listed.roots.iter().find_map(|r| reqwest::Url::parse(&r.uri).ok().filter(|u| u.scheme() == "file")?.to_file_path().ok().filter(|p| p.is_dir()));
                tracing::info!(root = ?root, "repository from the client's roots");
                root
            })
            .await
            .clone();
        let mut this = self.clone();
        if let Some(root) = root {
            this.repo = root;
        }
        this
    }

    /// Applies what the person starting the server allowed. With probes allowed, the
    /// tools that can POST stop advertising themselves as read-only.
    pub fn with_permissions(mut self, permissions: Permissions) -> Self {
        self.allow_commands = permissions.allow_commands;
        self.allow_probes = permissions.allow_probes;
        if permissions.allow_probes {
            for name in PROBING_TOOLS {
                if let Some(route) = self.tool_router.map.get_mut(name)
                    && let Some(annotations) = route.attr.annotations.as_mut()
                {
                    annotations.read_only_hint = Some(false);
                }
            }
        }
        self
    }

    /// Check key mode and wiring per environment.
    #[tool(
        name = "check_key_mode",
        title = "Check key mode and wiring",
        description = "For every environment (env files, deployment files, configured commands): test keys in \
production, live keys outside production or committed to git, mixed modes, mode switches that contradict the keys, \
billing variables the code reads that an environment lacks or names differently, misfiled keys (a secret key in a \
NEXT_PUBLIC_ variable) and disabled safeguards. Returns a matrix of environment x variable (redacted). Optional \
probes reach the network: probe_url POSTs to the production checkout endpoint (creates an unpaid session) and \
probe_api reads the Stripe API with each environment's key. Fix every high finding (verdict \"fail\") and call again.",
        output_schema = crate::tool_schema::output::<Report<KeysScope>>(),
        annotations(read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = true)
    )]
    async fn check_key_mode(
        &self,
        Parameters(Args(args)): Parameters<Args<KeyModeArgs>>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let this = self.rooted(&ctx).await;
        let mut req = match this.prepare_keys(&args) {
            Ok(req) => req,
            Err(message) => return Ok(tool_error(message)),
        };
        let max = args.max_findings.map_or(DEFAULT_MAX_FINDINGS, |m| (m as usize).min(MAX_MAX_FINDINGS));
        let cancel = Arc::new(AtomicBool::new(false));
        req.cancel = Some(cancel.clone());
        let repo = this.repo.clone();
        let work = tokio::task::spawn_blocking(move || keys::check(&req));
        let outcome = tokio::select! {
            joined = work => joined,
            _ = ctx.ct.cancelled() => {
                cancel.store(true, Ordering::Relaxed);
                return Ok(tool_error("cancelled by the client".into()));
            }
        };
        Ok(finish(&repo, outcome, max))
    }

    fn prepare_keys(&self, args: &KeyModeArgs) -> Result<KeysRequest, String> {
        let envs = args.environments.clone().unwrap_or_default();
        for e in &envs {
            secrets::refuse_secret_argument("environments", e)?;
        }
        for (name, value) in [("probe_url", &args.probe_url), ("config", &args.config)] {
            if let Some(v) = value {
                secrets::refuse_secret_argument(name, v)?;
            }
        }
        let mut specs = Vec::new();
        for e in &envs {
            let spec = EnvSpec::parse(e).map_err(|m| format!("argument `environments`: {m}"))?;
            if let Some(file) = &spec.file {
                paths::within_repo(&self.repo, file, "environments")?;
            }
            specs.push(spec);
        }
        let config = args.config.as_deref().map(|c| paths::within_repo(&self.repo, c, "config")).transpose()?;
        if args.probe_url.is_some() && !self.allow_probes {
            return Err("argument `probe_url`: the checkout probe POSTs to the network and creates a Checkout Session, which \
                        this server does not do unless started with `billguard serve --allow-probes`; run `billguard check keys \
                        --probe-url URL` on the CLI instead, or ask the person who configured the server to allow probes"
                .to_string());
        }
        Ok(KeysRequest {
            repo: self.repo.clone(),
            config,
            environments: specs,
            probe_url: args.probe_url.clone(),
            probe_api: args.probe_api.unwrap_or(false),
            allow_commands: self.allow_commands,
            allow_config_probes: self.allow_probes,
            cancel: None,
            no_baseline: false,
        })
    }

    /// Compare billing state with the app database.
    #[tool(
        name = "check_access_contract",
        title = "Check the access contract",
        description = "Compare billing subscriptions (Stripe or Paddle data) with the app's users and report who pays \
without access (revenue leak), who has access without paying, plan drift, unmapped prices, duplicate or orphan \
customers, expired grace periods and a wrong account or mode. Read-only. Call before opening a PR that touches \
billing or access code; fix every high finding (verdict \"fail\") and call again.",
        output_schema = crate::tool_schema::output::<Report<AccessScope>>(),
        annotations(read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = true)
    )]
    async fn check_access_contract(
        &self,
        Parameters(Args(args)): Parameters<Args<AccessArgs>>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let this = self.rooted(&ctx).await;
        let prepared = this.prepare_access(&args);
        let req = match prepared {
            Ok(req) => req,
            Err(message) => return Ok(tool_error(message)),
        };
        let max = args.max_findings.map_or(DEFAULT_MAX_FINDINGS, |m| (m as usize).min(MAX_MAX_FINDINGS));
        let repo = this.repo.clone();
        let (hooks, forwarder) = progress_forwarder(&ctx);
        let work = tokio::spawn(async move { access::check_with(&req, &hooks).await });
        let abort = work.abort_handle();
        let outcome = tokio::select! {
            joined = work => joined,
            _ = ctx.ct.cancelled() => {
                // Aborting the task drops every API request it has in flight.
                abort.abort();
                return Ok(tool_error("cancelled by the client".into()));
            }
        };
        // Progress notifications end before the result is sent.
        if let Some(forwarder) = forwarder {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(2), forwarder).await;
        }
        Ok(finish(&repo, outcome, max))
    }

    /// Review a webhook handler diff.
    #[tool(
        name = "diff_webhook_handler",
        title = "Review a webhook handler diff",
        description = "Review a change to billing webhook handlers (TypeScript, JavaScript, Python, Ruby, Go, PHP, Rust, Elixir; Stripe or Paddle) by \
what it does to the billing state machine: access grants or revocations removed, lifecycle events no longer handled, \
signature verification removed or weakened, errors answered 2xx, idempotency that skips updates, lookups by email, \
unpaid statuses granting access. Compares the working tree with a base ref, or reviews diff text. Read-only. Call \
before opening a PR that touches a webhook handler; fix every high finding (verdict \"fail\") and call again.",
        output_schema = crate::tool_schema::output::<Report<WebhookScope>>(),
        annotations(read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    async fn diff_webhook_handler(
        &self,
        Parameters(Args(args)): Parameters<Args<WebhookArgs>>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let this = self.rooted(&ctx).await;
        let req = match this.prepare_webhook(args.base, args.diff, args.paths.unwrap_or_default()) {
            Ok(req) => req,
            Err(message) => return Ok(tool_error(message)),
        };
        let max = args.max_findings.map_or(DEFAULT_MAX_FINDINGS, |m| (m as usize).min(MAX_MAX_FINDINGS));
        let repo = this.repo.clone();
        let work = tokio::task::spawn_blocking(move || webhook::check(&req));
        let outcome = tokio::select! {
            joined = work => joined,
            _ = ctx.ct.cancelled() => return Ok(tool_error("cancelled by the client".into())),
        };
        Ok(finish(&repo, outcome, max))
    }

    /// Run every check with the config's defaults.
    #[tool(
        name = "check_all",
        title = "Run every billing check",
        description = "Run the three checks with billguard.toml's defaults and get one verdict: the access contract \
(billing vs app users; from fixtures_dir, else live per config), key mode and wiring per environment, and a review of \
the working tree's webhook handler changes against base. The verdict is the worst of the checks that ran; each check \
has a section (sections.access, sections.keys, sections.webhook) with its status (ran, skipped, error), its report, or \
the reason it did not run and what to do about it. Read-only. Call before opening a PR that touches billing; fix every \
high finding (verdict \"fail\") and call again.",
        output_schema = crate::tool_schema::output::<AllReport>(),
        annotations(read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = true)
    )]
    async fn check_all(
        &self,
        Parameters(Args(args)): Parameters<Args<AllArgs>>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let this = self.rooted(&ctx).await;
        let mut req = match this.prepare_all(&args) {
            Ok(req) => req,
            Err(message) => return Ok(tool_error(message)),
        };
        let max = args.max_findings.map_or(DEFAULT_MAX_FINDINGS, |m| (m as usize).min(MAX_MAX_FINDINGS));
        let cancel = Arc::new(AtomicBool::new(false));
        req.cancel = Some(cancel.clone());
        let (hooks, forwarder) = progress_forwarder(&ctx);
        let work = tokio::spawn(async move { all::run(&req, &hooks).await });
        let abort = work.abort_handle();
        let outcome = tokio::select! {
            joined = work => joined,
            _ = ctx.ct.cancelled() => {
                cancel.store(true, Ordering::Relaxed);
                abort.abort();
                return Ok(tool_error("cancelled by the client".into()));
            }
        };
        if let Some(forwarder) = forwarder {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(2), forwarder).await;
        }
        let mut report = match outcome {
            Ok(report) => report,
            Err(join) => return Ok(crashed(&join)),
        };
        let repo = this.repo.clone();
        report.bound(max, &mut |tool: &str, full: &str| {
            paths::save_report(&repo, tool, full).map_err(|e| format!("writing it under .billguard/reports/ failed: {e}"))
        });
        let full = report.to_json_value().to_string();
        Ok(structured_bounded(&repo, "check_all", report.to_json_value(), Some(full)))
    }

    fn prepare_all(&self, args: &AllArgs) -> Result<AllRequest, String> {
        for (name, value) in [("config", &args.config), ("fixtures_dir", &args.fixtures_dir), ("base", &args.base)] {
            if let Some(v) = value {
                secrets::refuse_secret_argument(name, v)?;
            }
        }
        let within = |value: &Option<String>, name: &str| value.as_deref().map(|v| paths::within_repo(&self.repo, v, name)).transpose();
        Ok(AllRequest {
            repo: self.repo.clone(),
            config: within(&args.config, "config")?,
            fixtures_dir: within(&args.fixtures_dir, "fixtures_dir")?,
            base: args.base.clone(),
            allow_commands: self.allow_commands,
            allow_config_probes: self.allow_probes,
            now: access::now(),
            // A long-lived server reads files: a mapped file truncated meanwhile would end it.
            map_files: false,
            cancel: None,
            no_baseline: false,
        })
    }

    /// The diff is code and is not screened for secrets (the report layer redacts);
    /// refs and paths are.
    fn prepare_webhook(&self, base: Option<String>, diff: Option<String>, paths: Vec<String>) -> Result<WebhookRequest, String> {
        if let Some(b) = &base {
            secrets::refuse_secret_argument("base", b)?;
        }
        if let Some(d) = &diff {
            webhook::unified_diff::check_size(d.len()).map_err(|m| format!("argument `diff`: {m}"))?;
        }
        for p in &paths {
            secrets::refuse_secret_argument("paths", p)?;
            paths::within_repo(&self.repo, p.split('*').next().unwrap_or(p), "paths")?;
        }
        Ok(WebhookRequest { repo: self.repo.clone(), base, diff, paths, config: None, no_baseline: false })
    }

    fn prepare_access(&self, args: &AccessArgs) -> Result<AccessRequest, String> {
        for (name, value) in [("fixtures_dir", &args.fixtures_dir), ("config", &args.config)] {
            if let Some(v) = value {
                secrets::refuse_secret_argument(name, v)?;
            }
        }
        let fixtures_dir = args.fixtures_dir.as_deref().map(|d| paths::within_repo(&self.repo, d, "fixtures_dir")).transpose()?;
        let config = args.config.as_deref().map(|c| paths::within_repo(&self.repo, c, "config")).transpose()?;
        Ok(AccessRequest { repo: self.repo.clone(), fixtures_dir, config, now: access::now(), map_files: false, no_baseline: false })
    }
}

/// When the client gave a progress token: hooks that forward a live fetch's
/// progress as MCP progress notifications, and the forwarding task, which ends
/// once the hooks are dropped. Updates coalesce, so a slow client gets the
/// latest count rather than a backlog.
fn progress_forwarder(ctx: &RequestContext<RoleServer>) -> (access::Hooks, Option<tokio::task::JoinHandle<()>>) {
    let Some(token) = ctx.meta.get_progress_token() else { return (access::Hooks::default(), None) };
    let peer = ctx.peer.clone();
    let (tx, mut rx) = tokio::sync::watch::channel::<Option<access::Progress>>(None);
    let forwarder = tokio::spawn(async move {
        let mut sent = 0;
        while rx.changed().await.is_ok() {
            let Some(progress) = rx.borrow_and_update().clone() else { continue };
            if progress.subscriptions <= sent && sent > 0 {
                continue;
            }
            sent = progress.subscriptions;
            let mut param = ProgressNotificationParam::new(token.clone(), progress.subscriptions as f64).with_message(progress.message());
            if let Some(total) = progress.estimated_total {
                param = param.with_total(total as f64);
            }
            if peer.notify_progress(param).await.is_err() {
                break;
            }
        }
    });
    let report: access::ProgressFn = std::sync::Arc::new(move |p: &access::Progress| {
        let _ = tx.send(Some(p.clone()));
    });
    (access::Hooks { progress: Some(report) }, Some(forwarder))
}

/// Turns a check's outcome (or its panic) into a tool result.
fn finish<S: Serialize>(
    repo: &Path,
    outcome: Result<Result<Report<S>, CheckError>, tokio::task::JoinError>,
    max: usize,
) -> CallToolResult {
    match outcome {
        Ok(Ok(mut report)) => {
            bound_and_save(repo, &mut report, max);
            let full = report.report_file.is_none().then(|| report.to_json_text());
            let tool = report.tool.clone();
            structured_bounded(repo, &tool, report.to_json_value(), full)
        }
        Ok(Err(err)) => tool_error(format!("{}: {err}", err.kind())),
        Err(join) => crashed(&join),
    }
}

/// The result as structured content, with every part that grows with the
/// repository bounded (DESIGN: a result stays under ~20k tokens). When
/// something is cut, `full` (the unbounded report) is written under
/// `.billguard/reports/` unless the report already points to its file.
fn structured_bounded(repo: &Path, tool: &str, mut value: serde_json::Value, full: Option<String>) -> CallToolResult {
    let cut = crate::report::bounded::bound_json(&mut value);
    if !cut.is_empty() {
        let mut note = format!("result bounded for the client: {}", cut.join("; "));
        // check_all has no report_file of its own: the note names the file.
        let has_field = value.get("report_file").is_some();
        if value.get("report_file").is_none_or(|f| f.is_null())
            && let Some(full) = full
        {
            match paths::save_report(repo, tool, &full) {
                Ok(rel) => {
                    note.push_str(&format!("; everything is in {rel}"));
                    if has_field {
                        value["report_file"] = serde_json::Value::String(rel);
                    }
                }
                Err(e) => note.push_str(&format!("; the full report could not be written: {e}")),
            }
        }
        if let Some(notes) = value.get_mut("notes").and_then(|n| n.as_array_mut()) {
            notes.push(serde_json::Value::String(note));
        }
    }
    CallToolResult::structured(value)
}

fn crashed(join: &tokio::task::JoinError) -> CallToolResult {
    tracing::error!("check panicked: {join}");
    tool_error(format!(
        "internal error: the check crashed ({}). This is a billguard bug; the server keeps running. \
         Re-run `billguard check` on the CLI with the same inputs to reproduce it.",
        if join.is_panic() { "panic" } else { "aborted" }
    ))
}

fn tool_error(message: String) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(secrets::redact(&message))])
}

#[prompt_router]
impl BillguardServer {
    /// The pre-PR routine for an agent.
    #[prompt(
        name = "pre_pr_billing_check",
        title = "Pre-PR billing check",
        description = "Check billing code before opening a pull request: run check_all against the PR's base, read the \
verdict, fix every high finding, re-run until the verdict is pass or warn, and never paste secrets."
    )]
    async fn pre_pr_billing_check(&self, Parameters(args): Parameters<PrePrArgs>) -> Result<GetPromptResult, ErrorData> {
        if let Some(base) = &args.base {
            secrets::refuse_secret_argument("base", base).map_err(|m| ErrorData::invalid_params(m, None))?;
        }
        Ok(GetPromptResult::new(vec![PromptMessage::new_text(Role::User, pre_pr_steps(args.base.as_deref()))])
            .with_description("Pre-PR billing check with billguard"))
    }
}

/// The steps of the pre_pr_billing_check prompt.
pub fn pre_pr_steps(base: Option<&str>) -> String {
    let (against, call) = match base {
        Some(b) => (format!("`{b}`"), format!("`check_all` with `{{\"base\": \"{b}\"}}`")),
        None => ("the default branch".to_string(), "`check_all` with no arguments (it compares with the merge-base of the default branch)".to_string()),
    };
    format!(
        "Before opening this pull request, check its billing code with billguard against {against}.\n\n\
1. Call {call}. Add `fixtures_dir` when the repository has billing fixtures (stripe/subscriptions.json and \
db/users.json). If check_all is not available, call check_access_contract, check_key_mode and diff_webhook_handler \
(with the same base) instead.\n\
2. Read `verdict` first: fail means at least one high finding, warn only medium or low ones, pass none; incomplete \
means no high finding but something was not examined (a section that did not run, or notes starting `not examined:`), \
so it is not a pass. Then read every section's `status`: a section that is `skipped` or `error` did not run. Do what its `what_to_do` says if you can and \
call again; otherwise say in the PR description which check did not run and why. Read `notes` too.\n\
3. Fix every finding whose severity is high: each gives the rule, the entity, a message, evidence, a location and a \
fix. Change the code, configuration or data it points at; do not silence billguard, edit its config to hide a finding, \
or delete the check. For what a rule means, read the resource billguard://rules/{{code}} (e.g. billguard://rules/WH004).\n\
4. Call check_all again after your fixes. Repeat steps 3 and 4 until the verdict is pass or warn. For warn, fix the \
medium and low findings too, or explain in the PR description why each one is acceptable.\n\
5. Never paste secrets: no API keys (sk_, rk_, pk_, whsec_, pdl_ values), webhook secrets, database URLs with \
passwords or env file contents in the chat, the PR, commit messages, code comments or tool arguments. Name \
environment variables instead. billguard shows keys redacted (sk_live_…a1b2); keep them that way.\n\
6. When a section's `omitted` is above 0, its full report is the `report_file` under .billguard/reports/; read it \
there and do not commit it.\n\n\
Finish with a short summary for the PR: the final verdict, what you fixed, and anything that was skipped, not examined \
or accepted."
    )
}

/// Every rule of the catalog as a concrete resource.
fn rule_resources() -> Vec<Resource> {
    rules::all()
        .map(|r| {
            Resource::new(format!("{RULE_URI_PREFIX}{}", r.code), r.code)
                .with_title(format!("{} {}", r.code, r.name))
                .with_description(format!("{} ({}): {}", r.name, r.severity.as_str(), r.finds))
                .with_mime_type("text/markdown")
        })
        .collect()
}

/// A rule's documentation, or a resource-not-found error that names valid codes.
pub fn read_rule(uri: &str) -> Result<ReadResourceResult, ErrorData> {
    let code = uri.strip_prefix(RULE_URI_PREFIX);
    match code.and_then(rules::get) {
        Some(rule) => Ok(ReadResourceResult::new(vec![
            ResourceContents::text(rules::render_rule_markdown(rule), uri).with_mime_type("text/markdown"),
        ])),
        None => {
            let codes: Vec<String> = rules::all().map(|r| r.code.to_string()).collect();
            let hint = code.and_then(|c| crate::config::closest(c, &codes)).map(|c| format!(" Did you mean {RULE_URI_PREFIX}{c}?")).unwrap_or_default();
            let what = match code {
                Some(c) => format!("no billguard rule `{c}`"),
                None => format!("`{uri}` is not a billguard rule URI ({RULE_URI_TEMPLATE})"),
            };
            Err(ErrorData::resource_not_found(
                format!(
                    "{what}.{hint} Rule URIs look like {RULE_URI_PREFIX}ACC001, {RULE_URI_PREFIX}KEY001 or {RULE_URI_PREFIX}WH004; \
                     resources/list lists all {}.",
                    codes.len()
                ),
                Some(serde_json::json!({"uri": uri, "examples": ["billguard://rules/ACC001", "billguard://rules/KEY001", "billguard://rules/WH004"]})),
            ))
        }
    }
}

#[tool_handler(router = self.tool_router)]
#[prompt_handler(router = self.prompt_router)]
impl ServerHandler for BillguardServer {
    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        Ok(ListResourcesResult::with_all_items(rule_resources()))
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, ErrorData> {
        let template = ResourceTemplate::new(RULE_URI_TEMPLATE, "rule")
            .with_title("billguard rule documentation")
            .with_description("What a rule finds, why it matters, an example and the fix; {code} is a rule code such as ACC001, KEY001 or WH004.")
            .with_mime_type("text/markdown");
        Ok(ListResourceTemplatesResult::with_all_items(vec![template]))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        read_rule(&request.uri).map(Into::into)
    }

    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().enable_prompts().enable_resources().build())
            .with_server_info(
                Implementation::new("billguard", env!("CARGO_PKG_VERSION"))
                    .with_title("billguard")
                    .with_description("Pre-PR checks that billing and app access agree"),
            )
            .with_instructions(INSTRUCTIONS.to_string())
    }
}

/// Serves MCP on stdin/stdout until the client closes stdin.
pub async fn serve(repo: PathBuf, permissions: Permissions) -> anyhow::Result<()> {
    tracing::info!(repo = %repo.display(), allow_commands = permissions.allow_commands, allow_probes = permissions.allow_probes, "billguard MCP server starting on stdio");
    let (transport, output) = crate::mcp_transport::filtered(tokio::io::stdin(), tokio::io::stdout());
    let service = BillguardServer::new(repo).with_permissions(permissions).serve(transport).await?;
    service.waiting().await?;
    // Answers the SDK wrote just before the session ended are still on their way to stdout.
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), output).await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panicking_check_becomes_an_error_result() {
        let repo = tempfile::tempdir().unwrap();
        let joined = tokio::task::spawn_blocking(|| -> Result<Report<()>, CheckError> { panic!("boom") }).await;
        let result = finish(repo.path(), joined, 50);
        assert_eq!(result.is_error, Some(true));
        let text = result.content[0].as_text().unwrap().text.clone();
        assert!(text.contains("internal error") && text.contains("keeps running"), "{text}");
    }

    #[tokio::test]
    async fn check_errors_become_error_results_with_their_kind() {
        let repo = tempfile::tempdir().unwrap();
        let result = finish::<()>(repo.path(), Ok(Err(CheckError::Usage("pass fixtures_dir".into()))), 50);
        assert_eq!(result.is_error, Some(true));
        assert_eq!(result.content[0].as_text().unwrap().text, "usage error: pass fixtures_dir");
    }

    #[test]
    fn argument_errors_name_the_argument() {
        let err = serde_json::from_value::<Args<AccessArgs>>(serde_json::json!({"max_findings": "ten"})).unwrap_err();
        assert!(err.to_string().starts_with("argument `max_findings`"), "{err}");
        let err = serde_json::from_value::<Args<AccessArgs>>(serde_json::json!({"fixture_dir": "x"})).unwrap_err();
        assert!(err.to_string().contains("unknown argument `fixture_dir`"), "{err}");
    }
}
