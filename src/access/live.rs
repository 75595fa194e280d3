//! The live billing source: reads every subscription from the provider's API
//! with the read-only key that `[billing] secret_env` names, and describes
//! what it read for the report's scope.
//!
//! What both providers share lives here: the key (read from the environment
//! only, registered as a secret, shown only as a fingerprint), the request
//! policy, the page collector (each page goes through the same streaming
//! parser as the fixtures, deduplicated by subscription id) and progress.
//! The provider modules know their endpoints, pagination and error wording.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;


use super::http::{Failure, FailureKind, Page, Policy};
use super::model::Observations;
use super::{strings, subscriptions_json};
use super::{paddle, stripe};
use crate::config::{BillingConfig, BillingProvider};
use crate::error::CheckError;
use crate::secrets::{self, KeyClass, KeyKind, Mode, Provider};

/// How far a live fetch has come, reported after every page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    /// "Stripe" or "Paddle".
    pub provider: &'static str,
    pub pages: usize,
    pub subscriptions: usize,
    /// The provider's estimate of the total, when it gives one (Paddle).
    pub estimated_total: Option<u64>,
}

impl Progress {
    pub fn message(&self) -> String {
        let total = self.estimated_total.map(|t| format!(" of about {t}")).unwrap_or_default();
        format!("read {} subscriptions{total} from {} ({} pages)", self.subscriptions, self.provider, self.pages)
    }
}

pub type ProgressFn = Arc<dyn Fn(&Progress) + Send + Sync>;

/// What a caller can observe of a running check.
#[derive(Clone, Default)]
pub struct Hooks {
    pub progress: Option<ProgressFn>,
}

/// What the live source read, for the report's scope and notes.
#[derive(Debug, Clone)]
pub struct LiveRead {
    /// "stripe-live" or "paddle-live".
    pub source: String,
    /// e.g. "stripe-api:https://api.stripe.com (STRIPE_SECRET_KEY rk_test_…a1b2)".
    pub billing_source: String,
    /// "test", "live" or "unknown".
    pub key_mode: String,
    /// Stripe test mode: whether test-clock subscriptions were read.
    pub test_clocks: Option<String>,
    pub notes: Vec<String>,
}

/// The billing key, as read from its environment variable. Debug never shows the value.
pub struct Key {
    /// The variable it came from.
    pub env: String,
    value: String,
    pub class: Option<KeyClass>,
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Key({} {})", self.env, self.fingerprint())
    }
}

impl Key {
    /// Reads `[billing] secret_env` and checks that it holds a key `provider` can use.
    /// `looked` says where billing fixtures were looked for, for the message when the variable is unset.
    pub fn from_env(cfg: &BillingConfig, looked: &str) -> Result<Key, CheckError> {
        Key::from_value(cfg, std::env::var(&cfg.secret_env).ok(), looked)
    }

    /// [`Key::from_env`] given the variable's value.
    fn from_value(cfg: &BillingConfig, value: Option<String>, looked: &str) -> Result<Key, CheckError> {
        let env = cfg.secret_env.clone();
        let value = value.map(|v| v.trim().to_string()).filter(|v| !v.is_empty()).ok_or_else(|| {
            CheckError::Usage(format!(
                "no billing data to compare: {looked}, and the environment variable {env} ([billing] secret_env) is not set. \
                 Export {env} with a read-only {} key to read the API (see the README, \"Live billing sources\"), or pass a \
                 fixtures directory holding stripe/subscriptions.json or paddle/subscriptions.json (`--fixtures DIR` on the CLI, \
                 `fixtures_dir` over MCP)",
                match cfg.provider {
                    BillingProvider::Stripe => "Stripe restricted (rk_…)",
                    BillingProvider::Paddle => "Paddle API (pdl_…)",
                }
            ))
        })?;
        secrets::register_secret(&value);
        let class = secrets::classify_named(&env, &value);
        let key = Key { env, value, class };
        key.check_provider(cfg.provider)?;
        Ok(key)
    }

    fn check_provider(&self, provider: BillingProvider) -> Result<(), CheckError> {
        let Some(class) = self.class else { return Ok(()) };
        let (env, fp) = (&self.env, self.fingerprint());
        let wrong = match (provider, class.provider, class.kind) {
            (_, _, KeyKind::Publishable) => Some(format!(
                "{env} holds a publishable key ({fp}), which cannot list subscriptions. Use a restricted key (rk_…) with Subscriptions: Read"
            )),
            (_, _, KeyKind::WebhookSecret) => Some(format!(
                "{env} holds a webhook signing secret ({fp}), not an API key. Point [billing] secret_env at a variable holding a restricted key (rk_…)"
            )),
            (_, _, KeyKind::PaddleClientToken) => Some(format!(
                "{env} holds a Paddle client-side token ({fp}), which cannot list subscriptions. Use a Paddle API key (pdl_…) with subscription.read"
            )),
            (BillingProvider::Stripe, Provider::Paddle, _) => Some(format!(
                "{env} holds a Paddle key ({fp}) but [billing] provider is \"stripe\". Set provider = \"paddle\", or point secret_env at the Stripe key"
            )),
            (BillingProvider::Paddle, Provider::Stripe, _) => Some(format!(
                "{env} holds a Stripe key ({fp}) but [billing] provider is \"paddle\". Set provider = \"stripe\", or point secret_env at the Paddle key"
            )),
            (_, Provider::LemonSqueezy, _) => Some(format!("{env} holds a Lemon Squeezy key ({fp}); billguard reads Stripe and Paddle")),
            _ => None,
        };
        match wrong {
            Some(message) => Err(CheckError::Usage(message)),
            None => Ok(()),
        }
    }

    #[cfg(test)]
    pub(crate) fn for_test(env: &str, value: &str) -> Key {
        Key { env: env.into(), value: value.into(), class: secrets::classify_named(env, value) }
    }

    pub fn mode(&self) -> Mode {
        self.class.map_or(Mode::Unknown, |c| c.mode)
    }

    pub fn mode_name(&self) -> &'static str {
        match self.mode() {
            Mode::Test => "test",
            Mode::Live => "live",
            Mode::Unknown => "unknown",
        }
    }

    /// `rk_test_…a1b2`: enough to tell keys apart, useless to anyone else.
    pub fn fingerprint(&self) -> String {
        secrets::fingerprint(&self.value)
    }

    /// The `Authorization` header value. Only the HTTP layer calls this.
    pub(crate) fn bearer(&self) -> String {
        format!("Bearer {}", self.value)
    }

    /// "a test-mode key (STRIPE_SECRET_KEY rk_test_…a1b2)": how ACC010 names the key.
    pub fn label(&self) -> String {
        let mode = match self.mode() {
            Mode::Test => "a test-mode key",
            Mode::Live => "a live-mode key",
            Mode::Unknown => "a key whose prefix does not show its mode",
        };
        format!("{mode} ({} {})", self.env, self.fingerprint())
    }

    /// "STRIPE_SECRET_KEY (rk_test_…a1b2)", for messages.
    pub fn shown(&self) -> String {
        format!("{} ({})", self.env, self.fingerprint())
    }
}

/// The request policy from `[billing]`, with the provider's default rate.
pub fn policy(cfg: &BillingConfig, key: &Key) -> Policy {
    let default_rate = match (cfg.provider, key.mode()) {
        (BillingProvider::Stripe, Mode::Live) => 90,
        (BillingProvider::Stripe, _) => 20,
        (BillingProvider::Paddle, _) => 4,
    };
    let timeout = Duration::from_secs(cfg.request_timeout_secs.max(1));
    Policy::new(cfg.rate_limit.unwrap_or(default_rate), timeout, cfg.max_retries)
}

/// Reads every subscription of the configured provider into `obs` with `key`
/// (from [`Key::from_env`]).
pub async fn read(cfg: &BillingConfig, key: &Key, obs: &mut Observations, hooks: &Hooks) -> Result<LiveRead, CheckError> {
    match cfg.provider {
        BillingProvider::Stripe => stripe::read(cfg, key, obs, hooks).await,
        BillingProvider::Paddle => paddle::read(cfg, key, obs, hooks).await,
    }
}

/// Feeds fetched pages to the subscriptions parser, once per subscription id,
/// and reports progress.
/// Pages read at most by default: 100,000 pages of 100 is ten million subscriptions.
pub const DEFAULT_MAX_PAGES: usize = 100_000;

pub struct Collector {
    provider: &'static str,
    /// Every page requested: pagination that comes back to one is a cycle.
    requested: HashSet<String>,
    /// Most pages read before the fetch stops ([billing] max_pages).
    max_pages: usize,
    /// Keys of the subscription ids seen (ids are stored unindexed, so they compare by key).
    seen: HashSet<u128>,
    pub pages: usize,
    pub duplicates: usize,
    pub estimated_total: Option<u64>,
    progress: Option<ProgressFn>,
}

impl Collector {
    pub fn new(provider: &'static str, hooks: &Hooks) -> Collector {
        Collector {
            provider,
            requested: HashSet::new(),
            max_pages: DEFAULT_MAX_PAGES,
            seen: HashSet::new(),
            pages: 0,
            duplicates: 0,
            estimated_total: None,
            progress: hooks.progress.clone(),
        }
    }

    /// Caps the pages read (from `[billing] max_pages`).
    pub fn with_max_pages(mut self, max: Option<usize>) -> Self {
        self.max_pages = max.unwrap_or(DEFAULT_MAX_PAGES).max(1);
        self
    }

    /// Parses one page into `obs`; a subscription already seen (on another page) is dropped.
    pub fn add(&mut self, page: &Page, obs: &mut Observations) -> Result<(), CheckError> {
        // Endless pagination (`has_more` forever, cursors that cycle, a `next` that repeats)
        // stops with an error, never with a partial list.
        if !self.requested.insert(page.request.clone()) {
            return Err(self.incomplete(
                &page.request,
                "the provider's pagination came back to a page already read (a cycle); billguard stopped instead of looping",
                obs.subscriptions.len(),
            ));
        }
        if self.requested.len() > self.max_pages {
            let why = format!(
                "more than {} pages (the [billing] max_pages limit{}) and the provider still says there are more",
                self.max_pages,
                self.estimated_total.map(|t| format!("; the account estimates {t} subscriptions")).unwrap_or_default()
            );
            return Err(self.stopped(&page.request, &why, obs.subscriptions.len(), "If the account really is that large, raise [billing] max_pages"));
        }
        let start = obs.subscriptions.len();
        if let Err(e) = subscriptions_json::read_subscriptions_slice(&page.body, obs) {
            obs.subscriptions.truncate(start);
            return Err(self.incomplete(
                &page.request,
                &format!("a subscription in the page could not be read: {e}"),
                obs.subscriptions.len(),
            ));
        }
        let parsed = obs.subscriptions.len() - start;
        let fresh: Vec<_> = obs.subscriptions.drain(start..).collect();
        let fresh: Vec<_> = fresh.into_iter().filter(|s| self.seen.insert(strings::key(obs.str(s.id)))).collect();
        self.duplicates += parsed - fresh.len();
        obs.subscriptions.extend(fresh);
        self.pages += 1;
        if let Some(report) = &self.progress {
            report(&Progress {
                provider: self.provider,
                pages: self.pages,
                subscriptions: obs.subscriptions.len(),
                estimated_total: self.estimated_total,
            });
        }
        Ok(())
    }

    /// The error for a fetch that stopped: where, why, how far it got, and that nothing was concluded.
    pub fn incomplete(&self, request: &str, why: &str, read: usize) -> CheckError {
        self.stopped(request, why, read, "Run the check again; if the list keeps coming back malformed, report it with the request above")
    }

    /// [`Collector::incomplete`] for a failed request, with what to do about its kind of failure.
    pub fn failed(&self, failure: &Failure, obs: &Observations) -> CheckError {
        let hint = match &failure.kind {
            FailureKind::Status { status, .. } if *status == 429 || *status >= 500 => {
                "The provider kept failing or rate limiting: run the check again later, or lower [billing] rate_limit"
            }
            FailureKind::Status { .. } => "The provider refused the request: check [billing] api_base and the key's account",
            FailureKind::RetryAfterTooLong { .. } => "The account is rate limited: run the check again after the wait, or lower [billing] rate_limit",
            FailureKind::Timeout { .. } => "Raise [billing] request_timeout_secs if the provider is slow, or run the check again",
            FailureKind::Connection(_) => "Check the network (a proxy or firewall?) and [billing] api_base, then run the check again",
            FailureKind::Body(_) => "Something between billguard and the provider (a proxy, a captive portal) may be altering responses",
        };
        self.stopped(&failure.request, &failure.cause(), obs.subscriptions.len(), hint)
    }

    fn stopped(&self, request: &str, why: &str, read: usize, hint: &str) -> CheckError {
        CheckError::Billing(secrets::redact(&format!(
            "reading {} subscriptions failed at `{request}`: {why}. The fetch stopped after {read} subscriptions in {} pages; \
             no finding was computed from the incomplete list. {hint}",
            self.provider, self.pages
        )))
    }

    /// A note when the same subscription came back on two pages.
    pub fn notes(&self) -> Vec<String> {
        if self.duplicates == 0 {
            return Vec::new();
        }
        vec![format!(
            "{} subscriptions came back on more than one {} list page (the list changed while it was read); each was counted once",
            self.duplicates, self.provider
        )]
    }
}

/// The JSON error body's message: Stripe `error.message`, Paddle `error.detail` (+ `code`).
pub fn error_message(body: &str) -> Option<(Option<String>, String)> {
    let v: serde_json::Value = serde_json::from_str(body).ok()?;
    let err = v.get("error")?;
    let message = err.get("message").or_else(|| err.get("detail"))?.as_str()?.to_string();
    let code = err.get("code").and_then(|c| c.as_str()).map(str::to_string);
    Some((code, message))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(provider: BillingProvider, env: &str) -> BillingConfig {
        BillingConfig { provider, secret_env: env.into(), ..BillingConfig::default() }
    }

    /// A key-shaped test value, built at run time so that no key-shaped literal sits in the source.
    fn k(prefix: &str) -> String {
        format!("{prefix}Zq81xkL0p2Wm9Vb4Nc7Rt5Ys3Ha1b2")
    }

    #[test]
    fn key_comes_from_the_named_variable_and_is_never_shown() {
        let env = "BILLGUARD_TEST_KEY_FROM_ENV";
        let value = &k("rk_test_");
        let key = Key::from_value(&cfg(BillingProvider::Stripe, env), Some(format!(" {value}\n")), "").unwrap();
        assert_eq!(key.mode_name(), "test");
        assert_eq!(key.shown(), format!("{env} (rk_test_…a1b2)"));
        assert_eq!(key.label(), format!("a test-mode key ({env} rk_test_…a1b2)"));
        assert!(!format!("{key:?}").contains(value));
        assert_eq!(secrets::redact(&format!("x {value} y")), "x [redacted] y");
        let err = Key::from_value(&cfg(BillingProvider::Stripe, env), Some("  ".into()), "no fixtures directory was given").unwrap_err();
        assert!(matches!(&err, CheckError::Usage(m) if m.contains(env)), "{err}");
        let err = Key::from_env(&cfg(BillingProvider::Stripe, "BILLGUARD_TEST_KEY_NEVER_SET"), "no fixtures directory was given").unwrap_err();
        assert!(matches!(&err, CheckError::Usage(m) if m.contains("BILLGUARD_TEST_KEY_NEVER_SET") && m.contains("fixtures_dir")), "{err}");
    }

    #[test]
    fn keys_of_the_wrong_kind_or_provider_are_refused() {
        for (env, value, provider, needle) in [
            ("BILLGUARD_TEST_KEY_PK", k("pk_live_"), BillingProvider::Stripe, "publishable"),
            ("BILLGUARD_TEST_KEY_WH", k("whsec_"), BillingProvider::Stripe, "webhook signing secret"),
            ("BILLGUARD_TEST_KEY_PD", k("pdl_live_apikey_"), BillingProvider::Stripe, "provider = \"paddle\""),
            ("BILLGUARD_TEST_KEY_ST", k("sk_live_"), BillingProvider::Paddle, "provider = \"stripe\""),
        ] {
            let err = Key::from_value(&cfg(provider, env), Some(value.clone()), "").unwrap_err().to_string();
            assert!(err.contains(needle), "{env}: {err}");
            assert!(!err.contains(&value), "{err}");
        }
    }

    #[test]
    fn default_rates_follow_the_provider_and_mode() {
        let key = |v: &str| Key { env: "K".into(), value: v.into(), class: secrets::classify(v) };
        let stripe = cfg(BillingProvider::Stripe, "K");
        assert_eq!(policy(&stripe, &key(&k("rk_live_"))).rate_per_sec, 90);
        assert_eq!(policy(&stripe, &key(&k("rk_test_"))).rate_per_sec, 20);
        assert_eq!(policy(&cfg(BillingProvider::Paddle, "K"), &key(&k("pdl_live_apikey_"))).rate_per_sec, 4);
        let custom = BillingConfig { rate_limit: Some(50), ..stripe };
        assert_eq!(policy(&custom, &key(&k("rk_test_"))).rate_per_sec, 50);
    }

    #[test]
    fn error_bodies_of_both_providers() {
        let stripe = r#"{"error":{"message":"Invalid API Key provided: rk_test_****a1b2","type":"invalid_request_error"}}"#;
        assert_eq!(error_message(stripe), Some((None, "Invalid API Key provided: rk_test_****a1b2".into())));
        let paddle = r#"{"error":{"type":"request_error","code":"forbidden","detail":"You aren't permitted to perform this request."}}"#;
        assert_eq!(error_message(paddle).unwrap().0.as_deref(), Some("forbidden"));
        assert_eq!(error_message("<html>"), None);
    }
}
