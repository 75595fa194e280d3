//! The stdio MCP server: tool arguments in, a check's [`Report`] out.
//! No logic of its own beyond argument hygiene (secret guard, repo-bounded
//! paths), bounding results, and turning failures into `isError` results.
//!
//! stdout belongs to the protocol: everything else goes to stderr via tracing.

use std::path::{Path, PathBuf};

use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResult, ContentBlock, Implementation, ProgressNotificationParam, ServerCapabilities, ServerConfig};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler, ServiceExt, tool, tool_handler, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::access::{self, AccessRequest, AccessScope};
use crate::keys::env_sources::EnvSpec;
use crate::keys::{self, KeysRequest, KeysScope};
use crate::error::CheckError;
use crate::paths;
use crate::report::Report;
use crate::secrets;
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
say in the PR why they are acceptable. Each finding has the rule code, the entity (user:<id>, customer:<id>, \
price:<id>, account), a message, evidence and a concrete fix. When `omitted` > 0 the full list is in report_file. \
`notes` says what was skipped or partial: read it before concluding that all is well.

When to call diff_webhook_handler: before opening a PR that touches a billing webhook handler (Stripe or Paddle \
events: checkout, subscription, invoice), and after every edit to one. Without arguments it compares the working \
tree (uncommitted changes included) with the merge-base of the default branch; pass `base` to pick another ref, or \
`diff` (unified diff text) when there is no checkout. It reports what the change does to the billing state machine: \
grants or revocations removed, events dropped, verification weakened, errors swallowed, idempotency that skips \
updates. Fix every high finding; findings marked pre_existing were already in the base.

When to call check_key_mode: after changing env files, deployment config (compose, workflows, manifests, fly.toml, \
vercel.json, netlify.toml) or code that reads billing variables, and before a deploy or launch. It reports test keys in \
production, live keys elsewhere or committed to git, mixed modes, variables the code reads that an environment lacks \
or names differently, misfiled keys and disabled safeguards, with a matrix (scope.matrix) of environment x variable. \
probe_url and probe_api reach the network and are opt-in: probe_url POSTs to a checkout endpoint (this creates an \
unpaid session); probe_api makes read-only Stripe API calls with each environment's key.";

/// Tool arguments whose deserialization errors name the argument at fault
/// (`argument \`fixtures_dir\`: invalid type...`), which plain serde does not.
#[derive(Debug)]
pub struct Args<T>(pub T);

impl<T: JsonSchema> JsonSchema for Args<T> {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        T::schema_name()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        T::json_schema(generator)
    }
}

impl<'de, T: serde::de::DeserializeOwned> Deserialize<'de> for Args<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(d)?;
        serde_path_to_error::deserialize(value).map(Args).map_err(|e| {
            let path = e.path().to_string();
            let at = if path == "." { String::new() } else { format!("argument `{path}`: ") };
            serde::de::Error::custom(format!("{at}{}", e.inner()))
        })
    }
}

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
    /// Most findings to return (default 50, at most 200). Every finding is still counted in
    /// `summary`; the full list is written to `report_file` when some are left out.
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
    /// Most findings to return (default 50, at most 200). Every finding is still counted in
    /// `summary`; the full list is written to `report_file` when some are left out.
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
    /// Most findings to return (default 50, at most 200). Every finding is still counted in
    /// `summary`; the full list is written to `report_file` when some are left out.
    #[serde(default)]
    pub max_findings: Option<u32>,
}

#[derive(Debug, Clone)]
pub struct BillguardServer {
    repo: PathBuf,
    allow_commands: bool,
    tool_router: ToolRouter<Self>,
}

#[tool_router]
impl BillguardServer {
    pub fn new(repo: PathBuf) -> Self {
        BillguardServer { repo, allow_commands: false, tool_router: Self::tool_router() }
    }

    /// Lets check_key_mode run `command` sources (`billguard serve --allow-commands`).
    pub fn allow_commands(mut self, allow: bool) -> Self {
        self.allow_commands = allow;
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
        output_schema = rmcp::handler::server::tool::schema_for_output::<Report<KeysScope>>(),
        annotations(read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = true)
    )]
    async fn check_key_mode(
        &self,
        Parameters(Args(args)): Parameters<Args<KeyModeArgs>>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let mut req = match self.prepare_keys(&args) {
            Ok(req) => req,
            Err(message) => return Ok(tool_error(message)),
        };
        let max = args.max_findings.map_or(DEFAULT_MAX_FINDINGS, |m| (m as usize).min(MAX_MAX_FINDINGS));
        let cancel = Arc::new(AtomicBool::new(false));
        req.cancel = Some(cancel.clone());
        let repo = self.repo.clone();
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
        Ok(KeysRequest {
            repo: self.repo.clone(),
            config,
            environments: specs,
            probe_url: args.probe_url.clone(),
            probe_api: args.probe_api.unwrap_or(false),
            allow_commands: self.allow_commands,
            cancel: None,
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
        output_schema = rmcp::handler::server::tool::schema_for_output::<Report<AccessScope>>(),
        annotations(read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = true)
    )]
    async fn check_access_contract(
        &self,
        Parameters(Args(args)): Parameters<Args<AccessArgs>>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let prepared = self.prepare_access(&args);
        let req = match prepared {
            Ok(req) => req,
            Err(message) => return Ok(tool_error(message)),
        };
        let max = args.max_findings.map_or(DEFAULT_MAX_FINDINGS, |m| (m as usize).min(MAX_MAX_FINDINGS));
        let repo = self.repo.clone();
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
        description = "Review a change to billing webhook handlers (TypeScript/JavaScript/Python; Stripe or Paddle) by \
what it does to the billing state machine: access grants or revocations removed, lifecycle events no longer handled, \
signature verification removed or weakened, errors answered 2xx, idempotency that skips updates, lookups by email, \
unpaid statuses granting access. Compares the working tree with a base ref, or reviews diff text. Read-only. Call \
before opening a PR that touches a webhook handler; fix every high finding (verdict \"fail\") and call again.",
        output_schema = rmcp::handler::server::tool::schema_for_output::<Report<WebhookScope>>(),
        annotations(read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    async fn diff_webhook_handler(
        &self,
        Parameters(Args(args)): Parameters<Args<WebhookArgs>>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let req = match self.prepare_webhook(args.base, args.diff, args.paths.unwrap_or_default()) {
            Ok(req) => req,
            Err(message) => return Ok(tool_error(message)),
        };
        let max = args.max_findings.map_or(DEFAULT_MAX_FINDINGS, |m| (m as usize).min(MAX_MAX_FINDINGS));
        let repo = self.repo.clone();
        let work = tokio::task::spawn_blocking(move || webhook::check(&req));
        let outcome = tokio::select! {
            joined = work => joined,
            _ = ctx.ct.cancelled() => return Ok(tool_error("cancelled by the client".into())),
        };
        Ok(finish(&repo, outcome, max))
    }

    /// The diff is code and is not screened for secrets (the report layer redacts);
    /// refs and paths are.
    fn prepare_webhook(&self, base: Option<String>, diff: Option<String>, paths: Vec<String>) -> Result<WebhookRequest, String> {
        if let Some(b) = &base {
            secrets::refuse_secret_argument("base", b)?;
        }
        for p in &paths {
            secrets::refuse_secret_argument("paths", p)?;
            paths::within_repo(&self.repo, p.split('*').next().unwrap_or(p), "paths")?;
        }
        Ok(WebhookRequest { repo: self.repo.clone(), base, diff, paths, config: None })
    }

    fn prepare_access(&self, args: &AccessArgs) -> Result<AccessRequest, String> {
        for (name, value) in [("fixtures_dir", &args.fixtures_dir), ("config", &args.config)] {
            if let Some(v) = value {
                secrets::refuse_secret_argument(name, v)?;
            }
        }
        let fixtures_dir = args.fixtures_dir.as_deref().map(|d| paths::within_repo(&self.repo, d, "fixtures_dir")).transpose()?;
        let config = args.config.as_deref().map(|c| paths::within_repo(&self.repo, c, "config")).transpose()?;
        Ok(AccessRequest { repo: self.repo.clone(), fixtures_dir, config, now: access::now() })
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
            CallToolResult::structured(report.to_json_value())
        }
        Ok(Err(err)) => tool_error(format!("{}: {err}", err.kind())),
        Err(join) => {
            tracing::error!("check panicked: {join}");
            tool_error(format!(
                "internal error: the check crashed ({}). This is a billguard bug; the server keeps running. \
                 Re-run `billguard check` on the CLI with the same inputs to reproduce it.",
                if join.is_panic() { "panic" } else { "aborted" }
            ))
        }
    }
}

/// Cuts the findings to `max`; when anything is cut, writes the full report
/// under `.billguard/reports/` and points to it.
pub fn bound_and_save<S: Serialize>(repo: &Path, report: &mut Report<S>, max: usize) {
    if report.findings.len() <= max {
        return;
    }
    let full = report.to_json_text();
    match paths::save_report(repo, &report.tool, &full) {
        Ok(rel) => report.report_file = Some(rel),
        Err(e) => report.notes.push(format!("the full report could not be written under .billguard/reports/: {e}")),
    }
    report.bound(max);
}

fn tool_error(message: String) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(secrets::redact(&message))])
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for BillguardServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(
                Implementation::new("billguard", env!("CARGO_PKG_VERSION"))
                    .with_title("billguard")
                    .with_description("Pre-PR checks that billing and app access agree"),
            )
            .with_instructions(INSTRUCTIONS.to_string())
    }
}

/// Serves MCP on stdin/stdout until the client closes stdin.
pub async fn serve(repo: PathBuf, allow_commands: bool) -> anyhow::Result<()> {
    tracing::info!(repo = %repo.display(), allow_commands, "billguard MCP server starting on stdio");
    let service = BillguardServer::new(repo).allow_commands(allow_commands).serve(rmcp::transport::stdio()).await?;
    service.waiting().await?;
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
        assert!(err.to_string().starts_with("argument `max_findings`:"), "{err}");
        let err = serde_json::from_value::<Args<AccessArgs>>(serde_json::json!({"fixture_dir": "x"})).unwrap_err();
        assert!(err.to_string().contains("unknown field `fixture_dir`"), "{err}");
    }
}
