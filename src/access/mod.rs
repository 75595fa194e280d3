//! The access contract: does the billing provider agree with the app's
//! database about who has paid access?
//!
//! Sources gather [`model::Observations`]; [`contract::evaluate`] is a pure
//! function of them; [`check`] wires the two and builds the [`Report`].

pub mod contract;
pub mod fixtures;
pub mod model;
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

/// Runs the access contract for a request.
pub fn check(req: &AccessRequest) -> Result<Report<AccessScope>, CheckError> {
    let Some(dir) = &req.fixtures_dir else {
        return Err(CheckError::Usage(
            "no billing data to compare: pass a fixtures directory (`--fixtures DIR` on the CLI, `fixtures_dir` over MCP) \
             holding stripe/subscriptions.json (or paddle/subscriptions.json) and db/users.json"
                .into(),
        ));
    };
    let dir = req.repo.join(dir);
    // A fixture's own billguard.toml describes that fixture; an explicit config wins.
    let (config, config_path) = match &req.config {
        Some(explicit) => Config::discover(&req.repo, Some(&req.repo.join(explicit)))?,
        None => {
            let local = dir.join(crate::config::FILE_NAME);
            if local.is_file() { (Config::load(&local)?, Some(local)) } else { Config::discover(&req.repo, None)? }
        }
    };
    let found = FixtureDir::locate(&dir, config.billing.provider)?;
    found.require_complete()?;
    let (subs_path, provider) = found.subscriptions.clone().expect("checked complete");
    let users_path = found.users.clone().expect("checked complete");

    let mut obs = Observations::default();
    fixtures::read_subscriptions(&subs_path, &mut obs)?;
    fixtures::read_users(&users_path, &config, &mut obs)?;
    if let Some(note) = found.note {
        obs.notes.push(note);
    }
    let scope = AccessScope {
        users: obs.users.len(),
        subscriptions: obs.subscriptions.len(),
        source: "fixtures".into(),
        billing_source: format!("fixtures:{}", shown(&req.repo, &subs_path)),
        users_source: format!("fixtures:{}", shown(&req.repo, &users_path)),
        config: config_path.map(|p| shown(&req.repo, &p)),
    };
    Ok(assemble(obs, &config, provider, scope, req.now))
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
        .map_err(|e| CheckError::json(&path("stripe/subscriptions.json"), &e))?;
    let keys = users_json::UserKeys::from_columns(&config.database.columns);
    users_json::read_users_slice(users, &keys, &mut obs).map_err(|e| CheckError::json(&path("db/users.json"), &e))?;
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
    let outcome = contract::evaluate(&obs, &config.access, &labels, now);
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
