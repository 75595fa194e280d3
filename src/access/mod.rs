//! The access contract: does the billing provider agree with the app's
//! database about who has paid access?
//!
//! Sources gather [`model::Observations`]; [`contract::evaluate`] is a pure
//! function of them; [`check`] wires the two and builds the [`Report`].

pub mod contract;
pub mod db;
pub mod fixtures;
pub mod http;
pub mod json_cursor;
pub mod json_stream;
pub mod link;
pub mod mapped;
pub mod live;
pub mod model;
pub mod paddle;
pub mod strings;
pub mod totals;
pub mod structural;
pub mod rules;
pub mod stripe;
pub mod subscriptions_fast;
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
pub use live::{Hooks, Progress, ProgressFn};
use model::Observations;

pub const TOOL: &str = "check_access_contract";

/// What the access contract examined.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AccessScope {
    /// App user rows read.
    pub users: usize,
    /// Billing subscriptions read (every status).
    pub subscriptions: usize,
    /// Where the data came from overall: billing, then users when they came from elsewhere,
    /// e.g. "fixtures", "fixtures+postgres", "stripe-live+postgres", "paddle-live+fixtures".
    pub source: String,
    /// Where the subscriptions came from, e.g. "fixtures:stripe/subscriptions.json", or
    /// "stripe-api:https://api.stripe.com (STRIPE_SECRET_KEY rk_live_…a1b2)" for a live read.
    pub billing_source: String,
    /// Where the users came from, e.g. "fixtures:db/users.json".
    pub users_source: String,
    /// The billguard.toml used, or null for the defaults.
    pub config: Option<String>,
    /// Live reads: the mode of the key used, "test", "live" or "unknown"; null for fixtures.
    pub key_mode: Option<String>,
    /// Live Stripe reads with a test-mode key: whether subscriptions on test clocks were
    /// read ("included: …") or left out as Stripe's lists do ("excluded: …"); null otherwise.
    pub test_clocks: Option<String>,
    /// "in-process", or "pushed down: …" when Postgres ran the comparison (with why).
    pub evaluated: String,
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
    /// Map large fixture files instead of reading them: faster, but a file
    /// truncated meanwhile ends the process (see [`mapped`]). For one-shot
    /// CLI runs, not for the long-lived server.
    pub map_files: bool,
    /// Show findings recorded in `.billguard/baseline.json` too (`--no-baseline`).
    pub no_baseline: bool,
}

/// Runs the access contract for a request. Each side comes from the fixtures
/// directory when it holds that side's file, else from the configured source.
pub async fn check(req: &AccessRequest) -> Result<Report<AccessScope>, CheckError> {
    check_with(req, &Hooks::default()).await
}

/// [`check`] with progress reporting. Dropping the future stops every request in flight.
pub async fn check_with(req: &AccessRequest, hooks: &Hooks) -> Result<Report<AccessScope>, CheckError> {
    let dir = req.fixtures_dir.as_ref().map(|d| req.repo.join(d));
    // A fixture's own billguard.toml describes that fixture; an explicit config wins.
    let local = dir.as_ref().map(|d| d.join(crate::config::FILE_NAME)).filter(|p| p.is_file());
    let (config, config_path) = match (&req.config, local) {
        (Some(explicit), _) => Config::discover(&req.repo, Some(&req.repo.join(explicit)))?,
        (None, Some(local)) if !crate::paths::resolves_inside(dir.as_deref().unwrap_or(&req.repo), &local) => {
            return Err(CheckError::Config(crate::config::ConfigError::outside(&local)));
        }
        (None, Some(local)) => (Config::load(&local)?, Some(local)),
        (None, None) => Config::discover(&req.repo, None)?,
    };
    let found = dir.as_ref().map(|d| FixtureDir::locate(d, config.billing.provider)).transpose()?;

    let mut obs = Observations::default();
    // Billing from the fixtures when they hold subscriptions, else live from [billing].
    let fixture_billing = found.as_ref().and_then(|f| f.subscriptions.clone());
    let from_database = fixture_billing.is_none() && config.billing.source == crate::config::BillingSource::Database;
    let live_key = match &fixture_billing {
        Some(_) => None,
        // A synced copy in Postgres needs no provider key at all.
        None if from_database => None,
        None => {
            let looked = match &found {
                Some(f) => format!(
                    "in {} billguard looked for stripe/subscriptions.json (missing), paddle/subscriptions.json (missing) and db/users.json ({})",
                    f.dir.display(),
                    if f.users.is_some() { "found" } else { "missing" }
                ),
                None => "no fixtures directory was given".to_string(),
            };
            Some(live::Key::from_env(&config.billing, &looked)?)
        }
    };
    let users_file = found.as_ref().and_then(|f| f.users.clone());
    let evaluated = if from_database && users_file.is_none() && std::env::var_os(&config.database.url_env).is_some() {
        match db::pushdown::plan(&config, req.now).await? {
            db::pushdown::Plan::Pushed(pushed) => return Ok(finish_pushed(*pushed, config, config_path, req)),
            db::pushdown::Plan::InProcess(why) => why,
        }
    } else {
        "in-process".to_string()
    };
    if users_file.is_none() && std::env::var_os(&config.database.url_env).is_none() {
        let looked = found.as_ref().map(|f| format!("{} has no db/users.json", f.dir.display())).unwrap_or_default();
        return Err(CheckError::Usage(format!(
            "no users to compare: {looked}, and {} ([database] url_env) is not set. Add db/users.json to the fixtures, \
             or export {} with a postgres://, mysql:// or sqlite:// URL",
            config.database.url_env, config.database.url_env
        )));
    }

    // The users (a fixture file or the database) are read into their own
    // observations while the subscriptions file is read: each read is held
    // back by one thread (splitting, or the database connection). Both run in
    // this future, so dropping it drops both.
    let map = req.map_files;
    let users_read = async {
        match &users_file {
            Some(path) => {
                let cfg = config.clone();
                let users = read_blocking(Observations::default(), path.clone(), move |p, o| fixtures::read_users(p, &cfg, map, o).map(|_| ())).await?;
                Ok((users, format!("fixtures:{}", shown(&req.repo, path))))
            }
            None => {
                let mut users = Observations::default();
                let source = db::read_users(&config.database, &req.repo, &mut users).await?.source;
                Ok::<_, CheckError>((users, source))
            }
        }
    };
    let subs_read = async {
        match &fixture_billing {
            Some((path, _)) => read_blocking(obs, path.clone(), move |p, o| fixtures::read_subscriptions(p, map, o).map(|_| ())).await,
            None => Ok(obs),
        }
    };
    let (subs, users) = tokio::join!(subs_read, users_read);
    // The subscriptions' error first when both fail, as when they were read one after the other.
    obs = subs?;
    let (users, users_source) = users?;
    obs.absorb(users);
    release_freed_memory();
    // Users first: a database error surfaces before a long billing fetch.
    let mut database_billing = false;
    let (provider, billing_source, live_read) = match &fixture_billing {
        Some((path, provider)) => (*provider, format!("fixtures:{}", shown(&req.repo, path)), None),
        None if from_database => {
            let read = db::billing_table::read_subscriptions(&config.billing.database, &config.database.url_env, req.now, &mut obs).await?;
            obs.notes.extend(read.notes);
            database_billing = true;
            (config.billing.provider, read.source, None)
        }
        None => {
            let key = live_key.as_ref().expect("live billing has a key");
            // One deadline for the whole read, however the time is spent (slow pages, retries, waits).
            let deadline = std::time::Duration::from_secs(config.billing.deadline_secs.max(1));
            let read = match tokio::time::timeout(deadline, live::read(&config.billing, key, &mut obs, hooks)).await {
                Ok(read) => read?,
                Err(_) => {
                    return Err(CheckError::Billing(format!(
                        "reading the subscriptions did not finish within {} s ([billing] deadline_secs), after {} subscriptions; \
                         no finding was computed from the incomplete list. Raise deadline_secs for a large account or a slow network, \
                         or check the connection to the provider",
                        deadline.as_secs(),
                        obs.subscriptions.len()
                    )));
                }
            };
            (config.billing.provider, read.billing_source.clone(), Some(read))
        }
    };
    if let Some(note) = found.and_then(|f| f.note).filter(|_| live_read.is_none()) {
        obs.notes.push(note);
    }
    let billing_kind = match &live_read {
        Some(r) => r.source.as_str(),
        None if database_billing => "postgres",
        None => "fixtures",
    };
    let users_kind = match &users_file {
        Some(_) => "fixtures",
        None => users_source.split(':').next().unwrap_or("database"),
    };
    let source = if billing_kind == users_kind { billing_kind.to_string() } else { format!("{billing_kind}+{users_kind}") };
    let (key_mode, test_clocks) = match live_read {
        Some(read) => {
            obs.notes.extend(read.notes);
            (Some(read.key_mode), read.test_clocks)
        }
        None => (None, None),
    };
    let scope = AccessScope {
        users: obs.users.len(),
        subscriptions: obs.subscriptions.len(),
        source,
        billing_source,
        users_source,
        config: config_path.map(|p| shown(&req.repo, &p)),
        key_mode,
        test_clocks,
        evaluated,
    };
    let now = req.now;
    let key_label = live_key.map(|k| k.label());
    let ignore = config.ignore.clone();
    let mut report = tokio::task::spawn_blocking(move || assemble(obs, &config, provider, scope, key_label, now, None))
        .await
        .map_err(|e| CheckError::Usage(format!("internal error while comparing: {e}")))?;
    finish(&mut report, req, &ignore);
    Ok(report)
}

/// Suppressions and the baseline, alike for every way the comparison ran.
fn finish(report: &mut Report<AccessScope>, req: &AccessRequest, ignore: &[crate::suppress::IgnoreEntry]) {
    crate::suppress::in_report(report, &req.repo, ignore);
    if !req.no_baseline {
        // The whole billing state was compared: a recorded finding that is gone is fixed.
        crate::baseline::apply(report, &req.repo, &|_| true);
    }
}

/// The report of a comparison Postgres ran: the rows it returned evaluated with its counts.
fn finish_pushed(pushed: db::pushdown::Pushed, config: Config, config_path: Option<PathBuf>, req: &AccessRequest) -> Report<AccessScope> {
    let scope = AccessScope {
        users: pushed.users,
        subscriptions: pushed.subscriptions,
        source: "postgres".into(),
        billing_source: pushed.billing_source,
        users_source: pushed.users_source,
        config: config_path.map(|p| shown(&req.repo, &p)),
        key_mode: None,
        test_clocks: None,
        evaluated: pushed.evaluated,
    };
    let mut report = assemble(pushed.obs, &config, config.billing.provider, scope, None, req.now, Some(pushed.totals));
    finish(&mut report, req, &config.ignore);
    report
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
        key_mode: None,
        test_clocks: None,
        evaluated: "in-process".into(),
    };
    Ok(assemble(obs, &config, BillingProvider::Stripe, scope, None, now, None))
}

/// `key_label` names the key of a live read for ACC010 ("a test-mode key (…)"); `totals`
/// are the whole-table counts when `obs` holds only the rows Postgres selected.
fn assemble(
    mut obs: Observations,
    config: &Config,
    provider: BillingProvider,
    scope: AccessScope,
    key_label: Option<String>,
    now: i64,
    totals: Option<totals::Totals>,
) -> Report<AccessScope> {
    let columns = &config.database.columns;
    let labels = Labels {
        provider: match provider {
            BillingProvider::Stripe => "Stripe".into(),
            BillingProvider::Paddle => "Paddle".into(),
        },
        // A custom query names its own columns: speak of them, not of the table's defaults.
        access_field: if config.database.query.is_some() { "the query's access column".into() } else { columns.access.clone() },
        plan_field: match (&config.database.query, &columns.plan) {
            (Some(_), _) => "the query's plan column".into(),
            (None, Some(p)) => p.clone(),
            (None, None) => "plan".into(),
        },
        key_mode: key_label,
    };
    let started = std::time::Instant::now();
    obs.link_customers();
    tracing::debug!(ms = started.elapsed().as_millis() as u64, "linked customer ids");
    let outcome = match &totals {
        Some(totals) => contract::evaluate_with_totals(&obs, &config.access, &labels, now, totals),
        None => contract::evaluate(&obs, &config.access, &labels, now),
    };
    tracing::debug!(findings = outcome.findings.len(), ms = started.elapsed().as_millis() as u64, "evaluated the contract");
    let plan_tracked = obs.plan_tracked;
    let mut notes = std::mem::take(&mut obs.notes);
    // The observations are done with: free them (on another thread, as
    // returning a few hundred megabytes to the system takes a while) before
    // the report is sorted.
    std::thread::spawn(move || drop(obs));
    notes.extend(outcome.notes);
    if !plan_tracked && !config.access.plans.is_empty() {
        notes.push(format!("the users carry no `{}` value: plan drift (ACC003) was not checked", labels.plan_field));
    }
    let started = std::time::Instant::now();
    let report = Report::new(TOOL, scope, outcome.findings, notes);
    tracing::debug!(ms = started.elapsed().as_millis() as u64, "sorted the findings");
    report
}

/// Hands memory freed by the readers (their multi-megabyte blocks) back to
/// the system before the evaluation's own peak: glibc keeps freed blocks of
/// that size in its heap otherwise.
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let started = std::time::Instant::now();
        // SAFETY: malloc_trim only returns free heap pages to the kernel.
        unsafe {
            libc::malloc_trim(0);
        }
        tracing::debug!(ms = started.elapsed().as_millis() as u64, "returned freed memory");
    }
}

/// A path relative to the repo when it lies inside it.
fn shown(repo: &Path, path: &Path) -> String {
    path.strip_prefix(repo).unwrap_or(path).display().to_string()
}

/// Unix seconds now.
pub fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}
