//! `billguard.toml`: every key optional, every mistake explained.
//!
//! Unknown keys are errors, not silently ignored settings: a misspelled
//! `[acess]` table would otherwise turn a grace period off without a word.
//! The error names the key, its file and line, and the closest valid key.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Deserializer};

pub const FILE_NAME: &str = "billguard.toml";

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub billing: BillingConfig,
    pub database: DatabaseConfig,
    pub access: AccessConfig,
    pub keys: KeysConfig,
    pub webhook: WebhookConfig,
    /// `[[ignore]]` entries: accepted findings, each with a reason (see `suppress`).
    pub ignore: Vec<crate::suppress::IgnoreEntry>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BillingProvider {
    #[default]
    Stripe,
    Paddle,
}

impl BillingProvider {
    pub fn as_str(self) -> &'static str {
        match self {
            BillingProvider::Stripe => "stripe",
            BillingProvider::Paddle => "paddle",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BillingConfig {
    pub provider: BillingProvider,
    /// Name of the environment variable holding a read-only key.
    pub secret_env: String,
    /// Emulators and tests only.
    pub api_base: Option<String>,
    /// Requests per second to the provider's API. Default: Stripe 90 with a live key,
    /// 20 with a test key (under Stripe's 100 and 25); Paddle 4 (its 240 a minute).
    pub rate_limit: Option<u32>,
    /// Stripe test mode: also read subscriptions attached to test clocks, which
    /// Stripe leaves out of lists unless asked for clock by clock.
    pub include_test_clocks: bool,
    /// Paddle keys issued before 2025-05 carry no mode: `sandbox` or `production`.
    pub paddle_environment: Option<PaddleEnvironment>,
    /// Timeout of each API request, seconds.
    pub request_timeout_secs: u64,
    /// Retries of one request after a 429, a 5xx, a timeout or a dropped connection.
    pub max_retries: u32,
    /// Most list pages read before the fetch stops with an error (default 100,000).
    pub max_pages: Option<usize>,
    /// Seconds the whole live read may take before the check stops with an error.
    pub deadline_secs: u64,
    /// Where subscriptions are read: the provider's API (default) or a synced copy
    /// in Postgres (`[billing.database]`), e.g. the Stripe sync engine's tables.
    pub source: BillingSource,
    pub database: BillingDatabaseConfig,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BillingSource {
    #[default]
    Api,
    Database,
}

/// A synced copy of the provider's subscriptions in Postgres. Defaults follow the
/// Stripe sync engine's `stripe.subscriptions` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BillingDatabaseConfig {
    /// The variable holding the URL; default: `[database] url_env`.
    pub url_env: Option<String>,
    /// `schema.table` or `table`.
    pub table: String,
    pub columns: SubscriptionColumns,
    pub statement_timeout_secs: u64,
    /// A newest `synced_at` older than this many hours is noted: the copy may be behind.
    pub stale_after_hours: u64,
    /// With the users in the same Postgres database, let Postgres run the comparison
    /// (only rows that can make a finding leave it). false: read every row and compare here.
    pub pushdown: bool,
    /// Pushed down only from this many rows in the larger table (the catalog's estimate):
    /// below it, reading every row here is faster and its memory (about 240 MB per million
    /// rows) is small; above it, the database's time buys a flat memory. 0: always.
    pub pushdown_min_rows: u64,
}

impl Default for BillingDatabaseConfig {
    fn default() -> Self {
        BillingDatabaseConfig {
            url_env: None,
            table: "stripe.subscriptions".into(),
            columns: SubscriptionColumns::default(),
            statement_timeout_secs: 60,
            stale_after_hours: 48,
            pushdown: true,
            pushdown_min_rows: 2_000_000,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SubscriptionColumns {
    pub id: String,
    pub customer: String,
    pub status: String,
    /// JSON items (`{"data":[{"price":{"id":…}}]}` or an array of items); or name `price`.
    pub items: Option<String>,
    /// A column holding one price id, for hand-made tables without items.
    pub price: Option<String>,
    pub cancel_at_period_end: Option<String>,
    pub current_period_start: Option<String>,
    pub current_period_end: Option<String>,
    /// When the row was last synced, for the staleness note.
    pub synced_at: Option<String>,
}

impl Default for SubscriptionColumns {
    fn default() -> Self {
        SubscriptionColumns {
            id: "id".into(),
            customer: "customer".into(),
            status: "status".into(),
            items: Some("items".into()),
            price: None,
            cancel_at_period_end: Some("cancel_at_period_end".into()),
            current_period_start: Some("current_period_start".into()),
            current_period_end: Some("current_period_end".into()),
            synced_at: Some("updated_at".into()),
        }
    }
}

impl Default for BillingConfig {
    fn default() -> Self {
        BillingConfig {
            provider: BillingProvider::Stripe,
            secret_env: "STRIPE_SECRET_KEY".into(),
            api_base: None,
            rate_limit: None,
            include_test_clocks: false,
            paddle_environment: None,
            request_timeout_secs: 30,
            max_retries: 5,
            max_pages: None,
            deadline_secs: 600,
            source: BillingSource::Api,
            database: BillingDatabaseConfig::default(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PaddleEnvironment {
    Sandbox,
    Production,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    pub url_env: String,
    pub table: String,
    pub columns: ColumnsConfig,
    /// Alternative to table/columns: must yield id, customer_id, access[, plan].
    pub query: Option<String>,
    pub statement_timeout_secs: u64,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig {
            url_env: "DATABASE_URL".into(),
            table: "users".into(),
            columns: ColumnsConfig::default(),
            query: None,
            statement_timeout_secs: 60,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ColumnsConfig {
    pub id: String,
    pub customer_id: String,
    /// A column name or an SQL expression (`plan <> 'free'`).
    pub access: String,
    /// A column name or an SQL expression; optional: without it plan checks are skipped.
    pub plan: Option<String>,
}

impl Default for ColumnsConfig {
    fn default() -> Self {
        ColumnsConfig {
            id: "id".into(),
            customer_id: "stripe_customer_id".into(),
            access: "has_paid_access".into(),
            plan: Some("plan".into()),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AccessConfig {
    /// Statuses that grant access; compared case-insensitively.
    pub granting_statuses: Vec<String>,
    /// >0: past_due grants access for this many days after the current period started.
    pub past_due_grace_days: u32,
    /// App user ids that have access without billing, on purpose.
    #[serde(deserialize_with = "ids_as_strings")]
    pub comped_users: Vec<String>,
    /// Price id -> plan name in the app.
    pub plans: BTreeMap<String, String>,
    /// Plan names, highest first: picks the expected plan among several entitling subscriptions.
    pub plan_rank: Vec<String>,
}

impl Default for AccessConfig {
    fn default() -> Self {
        AccessConfig {
            granting_statuses: vec!["active".into(), "trialing".into()],
            past_due_grace_days: 0,
            comped_users: Vec::new(),
            plans: BTreeMap::new(),
            plan_rank: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KeysConfig {
    /// Extra billing variable names beyond the STRIPE/PADDLE/... naming convention.
    pub variables: Vec<String>,
    pub probe_api: bool,
    pub probe_env: Option<String>,
    /// The production checkout endpoint to probe (opt-in: a POST creates an unpaid session).
    pub probe_url: Option<String>,
    /// POST (default) or GET (for pages that embed payment links).
    pub probe_method: Option<String>,
    /// JSON body of the checkout probe's POST.
    pub probe_body: Option<String>,
    /// Seconds per probe request (default 10).
    pub probe_timeout_secs: Option<u64>,
    /// Seconds a `command` source may run before it is killed (default 20).
    pub command_timeout_secs: Option<u64>,
    /// Events a webhook endpoint must receive (default: the subscription lifecycle).
    pub webhook_events: Vec<String>,
    pub environments: BTreeMap<String, EnvironmentConfig>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EnvironmentConfig {
    pub files: Vec<String>,
    pub command: Option<String>,
    /// `"process"`: billguard's own process environment, e.g. CI secrets a workflow
    /// exposes as env (`env: STRIPE_SECRET_KEY: ${{ secrets.STRIPE_SECRET_KEY }}`).
    pub from: Option<String>,
    /// production | staging | development | test; inferred from the name when absent.
    pub kind: Option<String>,
    /// The environment's public URL; webhook endpoints must point at it.
    pub url: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebhookConfig {
    pub paths: Vec<String>,
    /// Access columns beyond the built-in names; `!name` takes access away when set.
    pub access_fields: Vec<String>,
}

/// User ids may be written as numbers or strings; they compare as strings.
fn ids_as_strings<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Id {
        S(String),
        I(i64),
    }
    Ok(Vec::<Id>::deserialize(d)?
        .into_iter()
        .map(|id| match id {
            Id::S(s) => s,
            Id::I(i) => i.to_string(),
        })
        .collect())
}

/// A configuration problem, located in its file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub path: PathBuf,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
}

impl ConfigError {
    /// A billguard.toml that is a symbolic link out of its repository or fixtures directory.
    pub fn outside(path: &Path) -> ConfigError {
        ConfigError {
            path: path.to_path_buf(),
            line: None,
            column: None,
            message: "a symbolic link to a file outside the repository; billguard reads only a billguard.toml inside it (pass --config to use another file)".into(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let (Some(l), Some(c)) = (self.line, self.column) {
            write!(f, ":{l}:{c}")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    /// Parses config text; `path` is only used to locate errors.
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let mut config: Config = toml::from_str(text).map_err(|e| locate(text, path, &e))?;
        for s in &mut config.access.granting_statuses {
            *s = s.trim().to_ascii_lowercase();
        }
        Ok(config)
    }

    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            path: path.to_path_buf(),
            line: None,
            column: None,
            message: format!("cannot read the config file: {e}"),
        })?;
        Config::parse(&text, path)
    }

    /// The explicit file if given (it must exist), else `billguard.toml` in
    /// `dir` if present, else the defaults. Returns the file used, if any.
    pub fn discover(dir: &Path, explicit: Option<&Path>) -> Result<(Config, Option<PathBuf>), ConfigError> {
        if let Some(path) = explicit {
            return Ok((Config::load(path)?, Some(path.to_path_buf())));
        }
        let candidate = dir.join(FILE_NAME);
        if candidate.is_file() {
            if !crate::paths::resolves_inside(dir, &candidate) {
                return Err(ConfigError::outside(&candidate));
            }
            return Ok((Config::load(&candidate)?, Some(candidate)));
        }
        Ok((Config::default(), None))
    }
}

/// 1-based line and column of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// Turns a toml/serde error into one that names the file, line, column and,
/// for an unknown key, its table and the closest valid key.
fn locate(text: &str, path: &Path, err: &toml::de::Error) -> ConfigError {
    let (line, column) = match err.span() {
        Some(span) => {
            let (l, c) = line_col(text, span.start);
            (Some(l), Some(c))
        }
        None => (None, None),
    };
    let raw = err.message().trim().to_string();
    let message = match parse_unknown_field(&raw) {
        Some((unknown, expected)) => {
            let table = line.and_then(|l| enclosing_table(text, l));
            let place = table.map(|t| format!(" in [{t}]")).unwrap_or_default();
            let hint = closest(&unknown, &expected)
                .map(|c| format!("; did you mean `{c}`?"))
                .unwrap_or_else(|| format!("; valid keys here: {}", expected.join(", ")));
            format!("unknown key `{unknown}`{place}{hint}")
        }
        None => raw,
    };
    ConfigError { path: path.to_path_buf(), line, column, message }
}

/// serde's stable wording: "unknown field `x`, expected one of `a`, `b`"
/// (or "expected `a`", or "there are no fields").
fn parse_unknown_field(message: &str) -> Option<(String, Vec<String>)> {
    let rest = message.strip_prefix("unknown field `")?;
    let (unknown, tail) = rest.split_once('`')?;
    let expected = tail.split('`').skip(1).step_by(2).map(str::to_string).collect();
    Some((unknown.to_string(), expected))
}

/// The nearest `[table]` header at or above a line.
fn enclosing_table(text: &str, line: usize) -> Option<String> {
    text.lines().take(line).collect::<Vec<_>>().into_iter().rev().find_map(|l| {
        let l = l.trim();
        let inner = l.strip_prefix('[')?.split(']').next()?;
        Some(inner.trim_matches('[').trim().to_string())
    })
}

/// The closest candidate: one that contains the word (`paid` -> `has_paid_access`)
/// wins, else the nearest by edit distance if it is close enough to be a typo.
pub fn closest<'a>(word: &str, candidates: &'a [String]) -> Option<&'a str> {
    let w = word.to_lowercase();
    if w.len() >= 3
        && let Some(c) = candidates.iter().filter(|c| c.to_lowercase().contains(&w)).min_by_key(|c| c.len())
    {
        return Some(c.as_str());
    }
    candidates
        .iter()
        .map(|c| (strsim::damerau_levenshtein(&w, &c.to_lowercase()), c))
        .filter(|(d, c)| *d <= (c.len().max(word.len()) / 2).max(2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, Path::new("billguard.toml"))
    }

    #[test]
    fn defaults_match_design() {
        let c = parse("").unwrap();
        assert_eq!(c.billing.secret_env, "STRIPE_SECRET_KEY");
        assert_eq!(c.database.columns.customer_id, "stripe_customer_id");
        assert_eq!(c.access.granting_statuses, ["active", "trialing"]);
        assert_eq!(c.access.past_due_grace_days, 0);
    }

    #[test]
    fn full_design_example_parses() {
        let c = parse(
            r#"
[billing]
provider = "stripe"
secret_env = "STRIPE_SECRET_KEY"
[database]
url_env = "DATABASE_URL"
table = "users"
[database.columns]
id = "id"
customer_id = "stripe_customer_id"
access = "has_paid_access"
plan = "plan"
[access]
granting_statuses = ["Active", "trialing"]
past_due_grace_days = 3
comped_users = ["usr_1", 42]
[access.plans]
"price_1ProMonthly" = "pro"
[keys.environments.production]
files = [".env.production"]
[keys.environments.staging]
files = [".env.staging"]
[keys.environments.heroku]
command = "heroku config --shell -a myapp"
kind = "production"
url = "https://example.com"
[webhook]
"#,
        )
        .unwrap();
        assert_eq!(c.keys.environments["heroku"].url.as_deref(), Some("https://example.com"));
        assert_eq!(c.access.granting_statuses, ["active", "trialing"]);
        assert_eq!(c.access.comped_users, ["usr_1", "42"]);
        assert_eq!(c.access.plans["price_1ProMonthly"], "pro");
        assert_eq!(c.keys.environments["staging"].files, [".env.staging"]);
    }

    #[test]
    fn unknown_key_names_line_table_and_suggestion() {
        let err = parse("[billing]\nprovider = \"stripe\"\n\n[database.columns]\nid = \"id\"\ncustomer = \"x\"\n").unwrap_err();
        assert_eq!(err.line, Some(6));
        assert!(err.message.contains("unknown key `customer`"), "{}", err.message);
        assert!(err.message.contains("[database.columns]"), "{}", err.message);
        assert!(err.message.contains("did you mean `customer_id`"), "{}", err.message);
        assert!(err.to_string().starts_with("billguard.toml:6:"), "{err}");

        let err = parse("[acess]\npast_due_grace_days = 3\n").unwrap_err();
        assert!(err.message.contains("did you mean `access`"), "{}", err.message);
        assert_eq!(err.line, Some(1));
    }

    #[test]
    fn keys_probe_settings_parse_and_typos_are_caught() {
        let c = parse("[keys]\nprobe_url = \"https://example.com/api/checkout\"\nprobe_method = \"GET\"\nprobe_timeout_secs = 3\ncommand_timeout_secs = 5\nwebhook_events = [\"invoice.paid\"]\n").unwrap();
        assert_eq!(c.keys.probe_url.as_deref(), Some("https://example.com/api/checkout"));
        assert_eq!((c.keys.probe_timeout_secs, c.keys.command_timeout_secs), (Some(3), Some(5)));
        let err = parse("[keys]\nprobe_ur = \"x\"\n").unwrap_err();
        assert!(err.message.contains("did you mean `probe_url`"), "{}", err.message);
        let err = parse("[keys.environments.production]\nfile = [\".env\"]\n").unwrap_err();
        assert!(err.message.contains("did you mean `files`"), "{}", err.message);
    }

    #[test]
    fn live_billing_keys_parse_with_defaults() {
        let c = parse("").unwrap();
        assert_eq!((c.billing.rate_limit, c.billing.include_test_clocks, c.billing.request_timeout_secs, c.billing.max_retries), (None, false, 30, 5));
        let c = parse(
            "[billing]\nprovider = \"paddle\"\nsecret_env = \"PADDLE_API_KEY\"\nrate_limit = 3\npaddle_environment = \"sandbox\"\n\
             include_test_clocks = true\nrequest_timeout_secs = 5\nmax_retries = 1\n",
        )
        .unwrap();
        assert_eq!(c.billing.paddle_environment, Some(PaddleEnvironment::Sandbox));
        assert_eq!((c.billing.rate_limit, c.billing.include_test_clocks, c.billing.request_timeout_secs), (Some(3), true, 5));
        let err = parse("[billing]\npaddle_environment = \"live\"\n").unwrap_err();
        assert!(err.message.contains("sandbox") && err.message.contains("production"), "{}", err.message);
        let err = parse("[billing]\nrate_limits = 3\n").unwrap_err();
        assert!(err.message.contains("did you mean `rate_limit`"), "{}", err.message);
    }

    #[test]
    fn syntax_and_type_errors_are_located() {
        let err = parse("[access]\npast_due_grace_days = \"three\"\n").unwrap_err();
        assert_eq!(err.line, Some(2));
        let err = parse("[billing\n").unwrap_err();
        assert_eq!(err.line, Some(1));
        let err = parse("[billing]\nprovider = \"braintree\"\n").unwrap_err();
        assert!(err.message.contains("stripe") && err.message.contains("paddle"), "{}", err.message);
    }

    #[test]
    fn closest_prefers_containing_names_then_typos() {
        let cols: Vec<String> = ["id", "email", "has_paid_access", "stripe_customer_id"].map(String::from).to_vec();
        assert_eq!(closest("paid", &cols), Some("has_paid_access"));
        assert_eq!(closest("emial", &cols), Some("email"));
        assert_eq!(closest("stripe_customer", &cols), Some("stripe_customer_id"));
        assert_eq!(closest("zzzzzz", &cols), None);
    }

    #[test]
    fn discover_prefers_explicit_then_repo_file() {
        let dir = tempfile::tempdir().unwrap();
        let (c, used) = Config::discover(dir.path(), None).unwrap();
        assert!(used.is_none());
        assert_eq!(c.access.past_due_grace_days, 0);
        std::fs::write(dir.path().join(FILE_NAME), "[access]\npast_due_grace_days = 5\n").unwrap();
        let (c, used) = Config::discover(dir.path(), None).unwrap();
        assert_eq!((c.access.past_due_grace_days, used.is_some()), (5, true));
        let missing = dir.path().join("nope.toml");
        let err = Config::discover(dir.path(), Some(&missing)).unwrap_err();
        assert!(err.message.contains("cannot read"));
    }
}
