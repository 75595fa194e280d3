//! The access contract: does the billing provider agree with the app's
//! database about who has paid access?
//!
//! Sources gather [`model::Observations`]; [`contract::evaluate`] is a pure
//! function of them; [`check`] wires the two and builds the [`Report`].

pub mod contract;
pub mod db;
pub mod fixtures;
pub mod json_stream;
pub mod model;
pub mod strings;
pub mod rules;
pub mod subscriptions_json;
pub mod users_json;

use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::config::{BillingProvider, Config};
use crate::error::CheckError;
use crate::report::{Report, ScopeView};
use contract::Labels;
use fixtures::FixtureDir;
use model::Observations;

pub const TOOL: &str = "check_access_contract";

/// What the access contract examined.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AccessScope {
    /// App user rows read.
    pub users: usize,
    /// Billing subscriptions read (every status).
    pub subscriptions: usize,
    /// Where the data came from overall, e.g. "fixtures".
    pub source: String,
    /// Where the subscriptions came from, e.g. "fixtures:stripe/subscriptions.json".
    pub billing_source: String,
    /// Where the users came from, e.g. "fixtures:db/users.json".
    pub users_source: String,
    /// The billguard.toml used, or null for the defaults.
    pub config: Option<String>,
}

impl ScopeView for AccessScope {}

/// One request to check the access contract.
#[derive(Debug, Clone)]
pub struct AccessRequest {
    /// Repo root: relative paths resolve here, and report paths are shown relative to it.
    pub repo: PathBuf,
    pub fixtures_dir: Option<PathBuf>,
    pub config: Option<PathBuf>,
    /// Unix seconds; the grace period is measured against it.
    pub now: i64,
}

/// Runs the access contract for a request. Each side comes from the fixtures
/// directory when it holds that side's file, else from the configured source.
pub async fn check(req: &AccessRequest) -> Result<Report<AccessScope>, CheckError> {
    let dir = req.fixtures_dir.as_ref().map(|d| req.repo.join(d));
    // A fixture's own billguard.toml describes that fixture; an explicit config wins.
    let local = dir.as_ref().map(|d| d.join(crate::config::FILE_NAME)).filter(|p| p.is_file());
    let (config, config_path) = match (&req.config, local) {
        (Some(explicit), _) => Config::discover(&req.repo, Some(&req.repo.join(explicit)))?,
        (None, Some(local)) => (Config::load(&local)?, Some(local)),
        (None, None) => Config::discover(&req.repo, None)?,
    };
    let found = dir.as_ref().map(|d| FixtureDir::locate(d, config.billing.provider)).transpose()?;

    let mut obs = Observations::default();
    let Some((subs_path, provider)) = found.as_ref().and_then(|f| f.subscriptions.clone()) else {
        let looked = match &found {
            Some(f) => format!(
                "in {} billguard looked for stripe/subscriptions.json (missing), paddle/subscriptions.json (missing) and db/users.json ({})",
                f.dir.display(),
                if f.users.is_some() { "found" } else { "missing" }
            ),
            None => "no fixtures directory was given".to_string(),
        };
        return Err(CheckError::Usage(format!(
            "no billing data to compare: {looked}. Pass a fixtures directory (`--fixtures DIR` on the CLI, `fixtures_dir` over MCP) \
             holding stripe/subscriptions.json (or paddle/subscriptions.json); reading the Stripe or Paddle API directly is not available in this version"
        )));
    };
    let users_file = found.as_ref().and_then(|f| f.users.clone());
    if users_file.is_none() && std::env::var_os(&config.database.url_env).is_none() {
        let looked = found.as_ref().map(|f| format!("{} has no db/users.json", f.dir.display())).unwrap_or_default();
        return Err(CheckError::Usage(format!(
            "no users to compare: {looked}, and {} ([database] url_env) is not set. Add db/users.json to the fixtures, \
             or export {} with a postgres://, mysql:// or sqlite:// URL",
            config.database.url_env, config.database.url_env
        )));
    }

    let started = std::time::Instant::now();
    obs = read_blocking(obs, subs_path.clone(), |p, o| fixtures::read_subscriptions(p, o).map(|_| ())).await?;
    tracing::debug!(subscriptions = obs.subscriptions.len(), ms = started.elapsed().as_millis() as u64, "read subscriptions");
    let started = std::time::Instant::now();
    let users_source = match &users_file {
        Some(path) => {
            let cfg = config.clone();
            obs = read_blocking(obs, path.clone(), move |p, o| fixtures::read_users(p, &cfg, o).map(|_| ())).await?;
            format!("fixtures:{}", shown(&req.repo, path))
        }
        None => db::read_users(&config.database, &req.repo, &mut obs).await?.source,
    };
    tracing::debug!(users = obs.users.len(), ms = started.elapsed().as_millis() as u64, "read users");
    if let Some(note) = found.and_then(|f| f.note) {
        obs.notes.push(note);
    }
    let source = match &users_file {
        Some(_) => "fixtures".to_string(),
        None => format!("fixtures+{}", users_source.split(':').next().unwrap_or("database")),
    };
    let scope = AccessScope {
        users: obs.users.len(),
        subscriptions: obs.subscriptions.len(),
        source,
        billing_source: format!("fixtures:{}", shown(&req.repo, &subs_path)),
        users_source,
        config: config_path.map(|p| shown(&req.repo, &p)),
    };
    let now = req.now;
    tokio::task::spawn_blocking(move || assemble(obs, &config, provider, scope, now))
        .await
        .map_err(|e| CheckError::Usage(format!("internal error while comparing: {e}")))
}

/// [`check`] for callers without a runtime (tests, scripts).
pub fn check_blocking(req: &AccessRequest) -> Result<Report<AccessScope>, CheckError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CheckError::Usage(format!("cannot start the async runtime: {e}")))?
        .block_on(check(req))
}

/// Runs a file reader off the async threads; the observations travel with it.
async fn read_blocking(
    mut obs: Observations,
    path: PathBuf,
    read: impl FnOnce(&Path, &mut Observations) -> Result<(), CheckError> + Send + 'static,
) -> Result<Observations, CheckError> {
    tokio::task::spawn_blocking(move || read(&path, &mut obs).map(|()| obs))
        .await
        .map_err(|e| CheckError::Usage(format!("internal error while reading fixtures: {e}")))?
}

/// Evaluates in-memory fixture files (the demo's, compiled into the binary).
pub fn check_embedded(
    name: &str,
    subscriptions: &[u8],
    users: &[u8],
    config_text: Option<&str>,
    now: i64,
) -> Result<Report<AccessScope>, CheckError> {
    let path = |file: &str| PathBuf::from(format!("{name}/{file}"));
    let config = match config_text {
        Some(text) => Config::parse(text, &path("billguard.toml"))?,
        None => Config::default(),
    };
    let mut obs = Observations::default();
    subscriptions_json::read_subscriptions_slice(subscriptions, &mut obs)
        .map_err(|e| CheckError::stream(&path("stripe/subscriptions.json"), &e, subscriptions))?;
    let keys = users_json::UserKeys::from_columns(&config.database.columns);
    users_json::read_users_slice(users, &keys, &mut obs).map_err(|e| CheckError::stream(&path("db/users.json"), &e, users))?;
    let scope = AccessScope {
        users: obs.users.len(),
        subscriptions: obs.subscriptions.len(),
        source: "fixtures".into(),
        billing_source: format!("built-in:{name}/stripe/subscriptions.json"),
        users_source: format!("built-in:{name}/db/users.json"),
        config: config_text.map(|_| format!("built-in:{name}/billguard.toml")),
    };
    Ok(assemble(obs, &config, BillingProvider::Stripe, scope, now))
}

fn assemble(obs: Observations, config: &Config, provider: BillingProvider, scope: AccessScope, now: i64) -> Report<AccessScope> {
    let columns = &config.database.columns;
    let labels = Labels {
        provider: match provider {
            BillingProvider::Stripe => "Stripe".into(),
            BillingProvider::Paddle => "Paddle".into(),
        },
        access_field: columns.access.clone(),
        plan_field: columns.plan.clone().unwrap_or_else(|| "plan".into()),
        key_mode: None,
    };
    let started = std::time::Instant::now();
    let outcome = contract::evaluate(&obs, &config.access, &labels, now);
    tracing::debug!(findings = outcome.findings.len(), ms = started.elapsed().as_millis() as u64, "evaluated the contract");
    let mut notes = obs.notes;
    notes.extend(outcome.notes);
    if !obs.plan_tracked && !config.access.plans.is_empty() {
        notes.push(format!("the users carry no `{}` value: plan drift (ACC003) was not checked", labels.plan_field));
    }
    Report::new(TOOL, scope, outcome.findings, notes)
}

/// A path relative to the repo when it lies inside it.
fn shown(repo: &Path, path: &Path) -> String {
    path.strip_prefix(repo).unwrap_or(path).display().to_string()
}

/// Unix seconds now.
pub fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}
