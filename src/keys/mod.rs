//! Key mode: is every environment wired to the right key mode (test vs live),
//! does it set what the code reads, and does Stripe agree?
//!
//! Sources ([`env_sources`], [`declared`], [`code_refs`], [`git`], the probes)
//! gather [`model::Observations`]; [`evaluate::evaluate`] is a pure function
//! of them; [`check`] wires the two and builds the [`Report`] with its matrix.

pub mod code_refs;
pub mod command_source;
pub mod config_reads;
pub mod declared;
pub mod dotenv;
pub mod env_sources;
pub mod evaluate;
pub mod git;
pub mod matrix;
pub mod model;
pub mod near_miss;
pub mod probe_api;
pub mod probe_checkout;
pub mod read_conditions;
pub mod rules;
pub mod values;
pub mod webhook_gap;

#[cfg(test)]
mod evaluate_tests;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use schemars::JsonSchema;
use serde::Serialize;

use crate::config::Config;
use crate::error::CheckError;
use crate::report::{Report, ScopeView};
use crate::secrets::{self, KeyKind, Provider};
use declared::DeclaredEnv;
use env_sources::{EnvSpec, LoadOptions};
use matrix::Matrix;
use model::{EnvKind, Environment, Observations};
use probe_api::ApiProbe;
use probe_checkout::CheckoutProbe;

pub const TOOL: &str = "check_key_mode";
const DEFAULT_PROBE_TIMEOUT: u64 = 10;
const DEFAULT_COMMAND_TIMEOUT: u64 = 20;
/// What to do about a probe the config asked for and the caller did not allow.
pub const CONFIG_PROBES_OPT_IN: &str = "a repository's config reaches the network only when the person running billguard \
allows it: pass --allow-probes (CLI: check keys / check all; MCP: billguard serve --allow-probes), or ask for the probe \
explicitly (--probe-url / --probe-api, or the tool's probe_url / probe_api arguments)";

/// One request to check key mode.
#[derive(Debug, Clone, Default)]
pub struct KeysRequest {
    pub repo: PathBuf,
    pub config: Option<PathBuf>,
    /// `NAME` or `NAME=FILE`: when given, exactly these environments are judged.
    pub environments: Vec<EnvSpec>,
    /// Overrides `[keys] probe_url`.
    pub probe_url: Option<String>,
    /// Ask the Stripe API (also on with `[keys] probe_api = true`).
    pub probe_api: bool,
    /// Run `command` sources (the CLI does; the MCP server only with --allow-commands).
    pub allow_commands: bool,
    /// Run the probes billguard.toml asks for (`[keys] probe_url`, `probe_api`): the CLI with
    /// --allow-probes, the MCP server when started with --allow-probes.
    pub allow_config_probes: bool,
    pub cancel: Option<Arc<AtomicBool>>,
    /// Show findings recorded in `.billguard/baseline.json` too (`--no-baseline`).
    pub no_baseline: bool,
}

/// A billing variable the code reads.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct VariableRead {
    pub name: String,
    /// How many reads.
    pub reads: usize,
    /// The first reads, `path:line`.
    pub at: Vec<String>,
    /// Switches its reads sit under.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub only_when: Vec<String>,
}

/// What the key-mode check examined, with the matrix.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct KeysScope {
    /// The billguard.toml used, or null for the defaults.
    pub config: Option<String>,
    /// Environments judged (templates not counted).
    pub environments: usize,
    /// Files walked (those git would include).
    pub files_scanned: usize,
    /// Billing variables the code reads.
    pub variables_read: Vec<VariableRead>,
    /// Files in git's index, or null outside a git repository (KEY004 skipped).
    pub tracked_files: Option<usize>,
    /// Environment x billing variable.
    pub matrix: Matrix,
    /// The checkout probe, when one ran.
    pub checkout_probe: Option<CheckoutProbe>,
    /// What the Stripe API said per environment, when probed.
    pub api_probes: Vec<ApiProbe>,
}

impl ScopeView for KeysScope {
    fn text_block(&self) -> String {
        let mut out = format!("scope: {}\n", self.summary_line());
        if !self.matrix.rows.is_empty() {
            out.push_str("matrix:\n");
            out.push_str(&self.matrix.render_text());
        }
        out.push_str(&self.probe_lines());
        out
    }

    fn markdown_block(&self) -> String {
        let mut out = format!("Scope: {}\n", self.summary_line());
        if !self.matrix.rows.is_empty() {
            out.push('\n');
            out.push_str(&self.matrix.render_markdown());
        }
        let probes = self.probe_lines();
        if !probes.is_empty() {
            out.push('\n');
            for l in probes.lines() {
                let _ = writeln!(out, "- {}", l.trim_start_matches("probe ").trim());
            }
        }
        out
    }
}

impl KeysScope {
    fn summary_line(&self) -> String {
        let git = match self.tracked_files {
            Some(n) => format!("{n} tracked by git"),
            None => "not a git repository".into(),
        };
        format!(
            "{} environment(s), {} file(s) scanned ({git}), {} billing variable(s) read by the code{}",
            self.environments,
            self.files_scanned,
            self.variables_read.len(),
            self.config.as_ref().map(|c| format!(", config {c}")).unwrap_or_default()
        )
    }

    fn probe_lines(&self) -> String {
        let mut out = String::new();
        if let Some(p) = &self.checkout_probe {
            let what = match (&p.error, p.artefacts.is_empty()) {
                (Some(e), _) => format!("failed: {e}"),
                (None, true) => format!("HTTP {}: no checkout session or link found", p.status.unwrap_or(0)),
                (None, false) => p.artefacts.iter().map(|a| format!("{} {} ({})", a.mode, a.what, a.text)).collect::<Vec<_>>().join(", "),
            };
            let _ = writeln!(out, "probe {} {} [{}]: {what}", p.method, p.url, p.environment);
        }
        for p in &self.api_probes {
            let mode = match p.livemode {
                Some(true) => "live",
                Some(false) => "test",
                None => "unknown",
            };
            let hooks = p.endpoints.as_ref().map_or("not listed".to_string(), |e| format!("{} webhook endpoint(s)", e.len()));
            let _ = writeln!(out, "probe api [{}] {} {}: Stripe says {mode} mode, {} price(s) checked, {hooks}", p.environment, p.variable, p.key, p.prices.len());
        }
        out
    }
}

fn shown(repo: &Path, path: &Path) -> String {
    path.strip_prefix(repo).unwrap_or(path).display().to_string()
}

/// Runs the key-mode check for a request.
pub fn check(req: &KeysRequest) -> Result<Report<KeysScope>, CheckError> {
    if !req.repo.is_dir() {
        return Err(CheckError::Usage(format!("the repository {} is not a directory; pass --repo DIR", req.repo.display())));
    }
    let explicit = req.config.as_ref().map(|c| req.repo.join(c));
    let (config, config_path) = Config::discover(&req.repo, explicit.as_deref())?;
    let keys = &config.keys;
    let mut obs = Observations { extra_variables: keys.variables.clone(), ..Default::default() };

    // The code: one walk for variable reads, live keys, event names and files of interest.
    let mut scan = code_refs::scan_repo(&req.repo, &keys.variables);
    if scan.skipped_large > 0 {
        obs.notes.push(format!("{} file(s) over 1 MiB were not scanned", scan.skipped_large));
    }
    if let Some(at) = &scan.credentials {
        obs.notes.push(format!(
            "billing keys come from Rails' encrypted credentials ({at}), which billguard cannot read: their modes are not judged. Variables the deployment sets as well are judged when listed in [keys] variables"
        ));
    }
    if scan.refs.is_empty() && scan.credentials.is_none() {
        if let Some(path) = &scan.billing_code {
            // Keys read some other way (a typed env schema, a config file, encrypted credentials)
            // leave nothing to judge: say so rather than pass silently.
            obs.notes.push(format!(
                "no read of a billing variable found, but {path} uses a billing SDK: its keys come from somewhere billguard does not read (a typed env schema, a config file, encrypted credentials); list the variables in [keys] variables so that each environment is judged"
            ));
        }
    }
    let mut dotenv: BTreeSet<String> = scan.dotenv_files.iter().cloned().collect();
    let dirs: BTreeSet<String> =
        std::iter::once(String::new()).chain(scan.dotenv_files.iter().filter_map(|f| f.rsplit_once('/').map(|(d, _)| d.to_string()))).collect();
    for dir in dirs {
        dotenv.extend(code_refs::dotenv_files_in(&req.repo, &dir));
    }
    let dotenv: Vec<String> = dotenv.into_iter().collect();

    // The environments.
    // A file the caller named must exist: judging an absent file would be a pass on nothing.
    for spec in &req.environments {
        if let Some(file) = &spec.file {
            if std::fs::symlink_metadata(req.repo.join(file)).is_err() {
                return Err(CheckError::Usage(format!(
                    "environment `{}`: the file `{file}` does not exist in the repository; name an existing dotenv file (paths are relative to the repo root)",
                    spec.name
                )));
            }
        }
    }
    let (plans, plan_notes) = env_sources::plan(keys, &req.environments, &dotenv).map_err(CheckError::Usage)?;
    obs.notes.extend(plan_notes);
    let opts = LoadOptions {
        allow_commands: req.allow_commands,
        command_timeout: Duration::from_secs(keys.command_timeout_secs.unwrap_or(DEFAULT_COMMAND_TIMEOUT)),
        cancel: req.cancel.clone(),
    };
    let mut envs: Vec<Environment> = plans.iter().map(|p| env_sources::load(p, &req.repo, &opts, &mut obs.notes)).collect();
    let restricted = !keys.environments.is_empty() || !req.environments.is_empty();
    let mut unmatched = Vec::new();
    for (rel, kind) in &scan.declared_files {
        match declared::read(&req.repo, rel, *kind) {
            Ok(parts) => {
                for d in parts {
                    merge_declared(&mut envs, d, restricted, &mut unmatched);
                }
            }
            Err(e) => obs.notes.push(format!("{rel}: {e}; skipped")),
        }
    }
    if !unmatched.is_empty() {
        obs.notes.push(format!("declared but not judged (no matching environment): {}", unmatched.join(", ")));
    }
    for env in envs.iter().filter(|e| !e.complete && e.kind != EnvKind::Template && e.failed.is_empty()) {
        obs.notes.push(format!(
            "{}: only deployment files describe it ({}); what they set is judged, what they lack is not",
            env.name,
            env.sources.join(", ")
        ));
    }
    if envs.iter().all(|e| e.kind == EnvKind::Template) {
        obs.notes.push(
            "no environment to judge: no .env files, no [keys.environments] in billguard.toml and no deployment files; \
             pass --env NAME=FILE (or `environments` over MCP) or configure [keys.environments.NAME]"
                .into(),
        );
    }
    protect(&envs);
    obs.environments = envs;

    // Git's index, for KEY004.
    match git::tracked_files(&req.repo) {
        Ok(tracked) => {
            let unwalked: Vec<&String> = tracked.iter().filter(|t| !scan.walked.contains(*t)).collect();
            code_refs::scan_files(&req.repo, &unwalked, &mut scan);
            obs.tracked = Some(tracked);
        }
        Err(e) => tracing::debug!("git ls-files: {e}"),
    }
    obs.files_scanned = scan.files;
    obs.code_refs = std::mem::take(&mut scan.refs);
    obs.live_keys_in_files = std::mem::take(&mut scan.live_keys);
    obs.handled_events = std::mem::take(&mut scan.events);

    // Probes, only when asked: by the caller, or by billguard.toml when the caller allows
    // the config's probes (a repository's config must not reach the network unasked).
    let probe_timeout = Duration::from_secs(keys.probe_timeout_secs.unwrap_or(DEFAULT_PROBE_TIMEOUT));
    let config_probe_url = keys.probe_url.clone().filter(|_| req.allow_config_probes);
    let config_probe_api = keys.probe_api && req.allow_config_probes;
    if !req.allow_config_probes && req.probe_url.is_none() && keys.probe_url.is_some() {
        obs.notes.push(format!("[keys] probe_url in billguard.toml was not probed: {CONFIG_PROBES_OPT_IN}"));
    }
    if !req.allow_config_probes && !req.probe_api && keys.probe_api {
        obs.notes.push(format!("[keys] probe_api in billguard.toml was not run: {CONFIG_PROBES_OPT_IN}"));
    }
    if let Some(url) = req.probe_url.clone().or(config_probe_url) {
        let method = match &keys.probe_method {
            Some(m) => probe_checkout::Method::parse(m)
                .ok_or_else(|| CheckError::Usage(format!("[keys] probe_method = \"{m}\" is not POST or GET")))?,
            None => probe_checkout::Method::Post,
        };
        let (environment, kind) = probe_owner(&obs.environments, keys.probe_env.as_deref());
        obs.checkout_probes.push(probe_checkout::probe(&probe_checkout::CheckoutRequest {
            url,
            method,
            body: keys.probe_body.clone().unwrap_or_else(|| probe_checkout::DEFAULT_BODY.to_string()),
            timeout: probe_timeout,
            environment,
            kind,
        }));
    }
    if req.probe_api || config_probe_api {
        obs.api_probes = api_probes(&obs.environments, &config, probe_timeout, &mut obs.notes);
    }

    let settings = evaluate::Settings {
        lifecycle_events: if keys.webhook_events.is_empty() {
            evaluate::Settings::default().lifecycle_events
        } else {
            keys.webhook_events.clone()
        },
    };
    let outcome = evaluate::evaluate(&obs, &settings);
    let mut notes = obs.notes.clone();
    notes.extend(outcome.notes);
    let scope = KeysScope {
        config: config_path.map(|p| shown(&req.repo, &p)),
        environments: obs.environments.iter().filter(|e| e.kind != EnvKind::Template).count(),
        files_scanned: obs.files_scanned,
        variables_read: variables_read(&obs),
        tracked_files: obs.tracked.as_ref().map(|t| t.len()),
        matrix: matrix::build(&obs),
        checkout_probe: obs.checkout_probes.first().cloned(),
        api_probes: obs.api_probes.clone(),
    };
    let unexamined: Vec<String> = obs
        .environments
        .iter()
        .filter(|e| e.kind != EnvKind::Template && e.unexamined())
        .map(|e| format!("{}: none of its sources could be read ({}); its keys were not judged (see the notes for why)", e.label(), e.failed.join(", ")))
        .collect();
    let mut report = Report::new(TOOL, scope, outcome.findings, notes);
    crate::suppress::in_report(&mut report, &req.repo, &config.ignore);
    if !req.no_baseline {
        crate::baseline::apply(&mut report, &req.repo, &|_| true);
    }
    report.not_examined(&unexamined);
    Ok(report)
}

fn variables_read(obs: &Observations) -> Vec<VariableRead> {
    let mut by: BTreeMap<&str, (Vec<String>, Option<std::collections::BTreeSet<String>>)> = BTreeMap::new();
    for r in &obs.code_refs {
        let e = by.entry(&r.name).or_insert_with(|| (Vec::new(), Some(Default::default())));
        e.0.push(format!("{}:{}", r.path, r.line));
        // One unconditional read makes the variable needed everywhere.
        match (&r.only_when, &mut e.1) {
            (Some(c), Some(set)) => {
                set.insert(c.shown());
            }
            _ => e.1 = None,
        }
    }
    by.into_iter()
        .map(|(name, (at, when))| VariableRead {
            name: name.to_string(),
            reads: at.len(),
            at: at.into_iter().take(3).collect(),
            only_when: when.map(|s| s.into_iter().collect()).unwrap_or_default(),
        })
        .collect()
}

/// Adds a declared part to the environment of the same name, else to the only
/// environment of its kind; else creates it (discovery) or lists it as unmatched.
fn merge_declared(envs: &mut Vec<Environment>, d: DeclaredEnv, restricted: bool, unmatched: &mut Vec<String>) {
    let judged = |e: &Environment| e.kind != EnvKind::Template;
    let by_name = envs.iter().position(|e| judged(e) && e.name == d.name);
    let by_kind = || {
        let same: Vec<usize> = envs.iter().enumerate().filter(|(_, e)| judged(e) && e.kind == d.kind && d.kind != EnvKind::Unknown).map(|(i, _)| i).collect();
        (same.len() == 1).then(|| same[0])
    };
    let target = match by_name.or_else(by_kind) {
        Some(i) => i,
        None if restricted => {
            unmatched.push(format!("{} ({})", d.source, d.name));
            return;
        }
        None => {
            envs.push(Environment::new(d.name.clone(), d.kind));
            envs.len() - 1
        }
    };
    let env = &mut envs[target];
    if !env.sources.contains(&d.source) {
        env.sources.push(d.source);
    }
    env.assignments.extend(d.assignments);
}

/// Registers values that look secret but have no recognisable shape, so that
/// they are redacted wherever they might surface.
fn protect(envs: &[Environment]) {
    const SECRET_WORDS: &[&str] = &["SECRET", "KEY", "TOKEN", "PASSWORD", "PASS", "PRIVATE", "DSN", "CREDENTIAL", "AUTH"];
    for a in envs.iter().flat_map(|e| &e.assignments) {
        let Some(v) = a.value.as_deref() else { continue };
        let upper = a.name.to_ascii_uppercase();
        let plain = upper.contains("PRICE") || ["_URL", "_URI", "_HOST", "_PORT", "_MODE", "_ENV"].iter().any(|s| upper.ends_with(s));
        if secrets::classify(v).is_none() && !plain && SECRET_WORDS.iter().any(|w| upper.contains(w)) {
            secrets::register_secret(v);
        }
    }
}

/// The environment a checkout probe is attributed to: `probe_env`, else the
/// production one.
fn probe_owner(envs: &[Environment], probe_env: Option<&str>) -> (String, EnvKind) {
    if let Some(name) = probe_env {
        let kind = envs.iter().find(|e| e.name == name).map_or_else(|| EnvKind::infer(name), |e| e.kind);
        return (name.to_string(), kind);
    }
    envs.iter()
        .find(|e| e.kind == EnvKind::Production)
        .map_or(("production".to_string(), EnvKind::Production), |e| (e.name.clone(), e.kind))
}

/// Variables that may hold an environment's public URL.
const URL_VARIABLES: &[&str] = &[
    "APP_URL", "NEXT_PUBLIC_APP_URL", "NEXT_PUBLIC_SITE_URL", "SITE_URL", "BASE_URL", "PUBLIC_URL", "NEXTAUTH_URL",
    "VITE_APP_URL", "FRONTEND_URL", "URL",
];

fn env_url(env: &Environment) -> Option<String> {
    env.url.clone().or_else(|| {
        URL_VARIABLES.iter().filter_map(|v| env.value(v)).find(|v| v.starts_with("http://") || v.starts_with("https://")).map(str::to_string)
    })
}

/// The Stripe key an environment would use: `[billing] secret_env`, else any
/// Stripe secret, restricted or organization key.
fn stripe_key<'a>(env: &'a Environment, secret_env: &'a str) -> Option<(&'a str, &'a str)> {
    let usable = |name: &str| {
        let v = env.value(name)?.trim();
        let c = secrets::classify(v)?;
        let ok = c.provider == Provider::Stripe && matches!(c.kind, KeyKind::Secret | KeyKind::Restricted | KeyKind::OrganizationKey);
        (ok && !values::is_placeholder(v)).then_some(v)
    };
    if let Some(v) = usable(secret_env) {
        return Some((secret_env, v));
    }
    env.names().into_iter().find_map(|n| usable(n).map(|v| (n, v)))
}

fn api_probes(envs: &[Environment], config: &Config, timeout: Duration, notes: &mut Vec<String>) -> Vec<ApiProbe> {
    // The probe is Stripe's: the key goes to Stripe's API, or to an emulator the operator named.
    let api_base = config.billing.api_base.as_deref().filter(|_| config.billing.provider == crate::config::BillingProvider::Stripe);
    let base = match crate::endpoints::api_base(crate::config::BillingProvider::Stripe, api_base, probe_api::DEFAULT_API_BASE) {
        Ok(url) => url.as_str().trim_end_matches('/').to_string(),
        Err(e) => {
            notes.push(format!("probe_api: not run: {e}"));
            return Vec::new();
        }
    };
    let mut out = Vec::new();
    for env in envs.iter().filter(|e| e.kind != EnvKind::Template) {
        let Some((variable, key)) = stripe_key(env, &config.billing.secret_env) else {
            notes.push(format!("probe_api: {} has no usable Stripe secret or restricted key; not probed", env.name));
            continue;
        };
        let mut prices: Vec<(String, String)> = config.access.plans.keys().map(|p| (p.clone(), "[access.plans]".to_string())).collect();
        for name in env.names() {
            if let Some(v) = env.value(name).map(str::trim) {
                let is_price = name.to_ascii_uppercase().contains("PRICE") && v.starts_with("price_") && !values::is_placeholder(v);
                if is_price && !prices.iter().any(|(p, _)| p == v) {
                    prices.push((v.to_string(), name.to_string()));
                }
            }
        }
        out.push(probe_api::probe(&probe_api::ApiRequest {
            api_base: base.clone(),
            environment: env.name.clone(),
            kind: env.kind,
            variable: variable.to_string(),
            key: key.to_string(),
            prices,
            url: env_url(env),
            timeout,
        }));
    }
    out
}
