//! Paddle Billing: every subscription, through `GET /subscriptions`.
//!
//! `per_page=200` (the maximum), following `meta.pagination.next` verbatim
//! while `has_more` says so; Paddle's list holds every status by default.
//! The environment comes from the key (`pdl_sdbx_apikey_` = sandbox,
//! `pdl_live_apikey_` = production) or, for keys issued before 2025-05 that
//! carry no marker, from `[billing] paddle_environment`. Statuses (active,
//! trialing, past_due, paused, canceled) map onto the same [`Status`] values
//! as Stripe's, and `scheduled_change.action = cancel` is read as
//! cancel-at-period-end.
//!
//! Paddle's cursor pagination has no filter to split the list by, and its
//! limit is 240 requests a minute per IP, so pages are read one after the
//! other under the same limiter, retries and timeouts as Stripe's.
//!
//! [`Status`]: super::model::Status

use reqwest::Url;
use serde::Deserialize;

use super::http::{Api, Failure};
use super::live::{self, Collector, Hooks, Key, LiveRead};
use super::model::Observations;
use crate::config::{BillingConfig, PaddleEnvironment};
use crate::error::CheckError;
use crate::secrets::Mode;

pub const SANDBOX_BASE: &str = crate::endpoints::PADDLE_SANDBOX_API;
pub const PRODUCTION_BASE: &str = crate::endpoints::PADDLE_API;
const PAGE_SIZE: u32 = 200;

#[derive(Debug, Deserialize)]
struct ListPage {
    #[serde(default)]
    meta: Meta,
}

#[derive(Debug, Default, Deserialize)]
struct Meta {
    #[serde(default)]
    pagination: Pagination,
}

#[derive(Debug, Default, Deserialize)]
struct Pagination {
    #[serde(default)]
    next: Option<String>,
    #[serde(default)]
    has_more: bool,
    #[serde(default)]
    estimated_total: Option<i64>,
}

/// Sandbox or production, from the key's prefix or the configuration.
pub fn environment(cfg: &BillingConfig, key: &Key) -> Result<PaddleEnvironment, CheckError> {
    match (key.mode(), cfg.paddle_environment) {
        (Mode::Test, Some(PaddleEnvironment::Production)) | (Mode::Live, Some(PaddleEnvironment::Sandbox)) => {
            Err(CheckError::Usage(format!(
                "{} is a {} key but [billing] paddle_environment says {:?}; Paddle keys work only in their own environment. \
                 Remove paddle_environment (the key's prefix decides) or use the other key",
                key.shown(),
                if key.mode() == Mode::Test { "sandbox" } else { "live" },
                cfg.paddle_environment.expect("matched Some")
            )))
        }
        (Mode::Test, _) => Ok(PaddleEnvironment::Sandbox),
        (Mode::Live, _) => Ok(PaddleEnvironment::Production),
        (Mode::Unknown, Some(env)) => Ok(env),
        (Mode::Unknown, None) => Err(CheckError::Usage(format!(
            "{} holds a Paddle API key without an environment marker (keys issued before May 2025 have none): set \
             [billing] paddle_environment = \"sandbox\" or \"production\", or create a new key (pdl_sdbx_apikey_… / pdl_live_apikey_…)",
            key.shown()
        ))),
    }
}

/// Reads every subscription.
pub async fn read(cfg: &BillingConfig, key: &Key, obs: &mut Observations, hooks: &Hooks) -> Result<LiveRead, CheckError> {
    let env = environment(cfg, key)?;
    let default_base = match env {
        PaddleEnvironment::Sandbox => SANDBOX_BASE,
        PaddleEnvironment::Production => PRODUCTION_BASE,
    };
    let base = crate::endpoints::api_base(cfg.provider, cfg.api_base.as_deref(), default_base)?;
    let api = Api::new(&key.bearer(), &[("paddle-version", "1")], live::policy(cfg, key)).map_err(CheckError::Usage)?;
    let mut collector = Collector::new("Paddle", hooks).with_max_pages(cfg.max_pages);

    let mut url = Url::parse(&format!("{}/subscriptions?per_page={PAGE_SIZE}", base.as_str().trim_end_matches('/')))
        .map_err(|e| CheckError::Usage(format!("[billing] api_base: {e}")))?;
    loop {
        let page = api.get(&url).await.map_err(|f| explain(&f, key, &collector, obs))?;
        let list: ListPage = page.json().map_err(|f| explain(&f, key, &collector, obs))?;
        let pagination = list.meta.pagination;
        collector.estimated_total = pagination.estimated_total.and_then(|t| u64::try_from(t).ok());
        collector.add(&page, obs)?;
        if !pagination.has_more {
            break;
        }
        let next = pagination.next.as_deref().unwrap_or("");
        url = next_url(&base, next).map_err(|why| collector.incomplete(&page.request, &why, obs.subscriptions.len()))?;
    }
    let mut notes = collector.notes();
    if cfg.include_test_clocks {
        notes.push("include_test_clocks applies to Stripe only; Paddle has no test clocks".into());
    }
    Ok(LiveRead {
        source: "paddle-live".into(),
        billing_source: format!("paddle-api:{} ({} {})", base.as_str().trim_end_matches('/'), key.env, key.fingerprint()),
        key_mode: key.mode_name().into(),
        test_clocks: None,
        notes,
    })
}

/// `meta.pagination.next`, used verbatim, but only towards the same server:
/// the key is never sent where the configured base does not point.
fn next_url(base: &Url, next: &str) -> Result<Url, String> {
    let url = Url::parse(next).map_err(|e| format!("the page says has_more but `meta.pagination.next` is not a URL ({e})"))?;
    let same = url.scheme() == base.scheme() && url.host_str() == base.host_str() && url.port_or_known_default() == base.port_or_known_default();
    if !same {
        return Err(format!(
            "`meta.pagination.next` points at another server ({}), where billguard will not send the key",
            url.origin().ascii_serialization()
        ));
    }
    Ok(url)
}

/// A failed request, in Paddle's terms.
fn explain(failure: &Failure, key: &Key, collector: &Collector, obs: &Observations) -> CheckError {
    let body = match &failure.kind {
        super::http::FailureKind::Status { body, .. } => body.as_str(),
        _ => "",
    };
    let (code, detail) = live::error_message(body).map_or((None, None), |(c, d)| (c, Some(d)));
    let said = match (&detail, &code) {
        (Some(d), Some(c)) => format!(" Paddle says: \"{d}\" ({c})"),
        (Some(d), None) => format!(" Paddle says: \"{d}\""),
        _ => String::new(),
    };
    let invalid = matches!(code.as_deref(), Some("invalid_token" | "authentication_missing" | "authentication_malformed"));
    let message = match failure.status() {
        Some(401) | Some(403) if invalid || failure.status() == Some(401) => format!(
            "Paddle rejected the key in {} as invalid (HTTP {} on `{}`).{said} Check that the key exists and is not revoked or \
             expired (Paddle > Developer tools > Authentication), and that it belongs to this environment (sandbox keys work \
             only on the sandbox API)",
            key.shown(),
            failure.status().unwrap_or(401),
            failure.request
        ),
        Some(403) => format!(
            "the key in {} lacks the permission `subscription.read` (HTTP 403 on `{}`).{said} Grant it: Paddle > Developer \
             tools > Authentication > the API key > Edit, and tick Subscriptions: Read",
            key.shown(),
            failure.request
        ),
        _ => return collector.failed(failure, obs),
    };
    CheckError::Billing(crate::secrets::redact(&message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_comes_from_the_key_prefix_or_the_config() {
        let cfg = |env: Option<PaddleEnvironment>| BillingConfig { paddle_environment: env, ..BillingConfig::default() };
        // Built at run time so that no key-shaped literal sits in the source.
        let body = "01hv8x_Zq81xkL0p2Wm9Vb4Nc7Rt5Ys3Ha1b2";
        let sandbox = Key::for_test("PADDLE_API_KEY", &format!("pdl_sdbx_apikey_{body}"));
        let live = Key::for_test("PADDLE_API_KEY", &format!("pdl_live_apikey_{body}"));
        let old = Key::for_test("PADDLE_API_KEY", &"a7".repeat(25));
        assert_eq!(environment(&cfg(None), &sandbox).unwrap(), PaddleEnvironment::Sandbox);
        assert_eq!(environment(&cfg(None), &live).unwrap(), PaddleEnvironment::Production);
        assert_eq!(environment(&cfg(Some(PaddleEnvironment::Sandbox)), &old).unwrap(), PaddleEnvironment::Sandbox);
        let err = environment(&cfg(None), &old).unwrap_err().to_string();
        assert!(err.contains("paddle_environment") && !err.contains(&"a7".repeat(25)), "{err}");
        let err = environment(&cfg(Some(PaddleEnvironment::Production)), &sandbox).unwrap_err().to_string();
        assert!(err.contains("sandbox key"), "{err}");
    }

    #[test]
    fn next_must_stay_on_the_configured_server() {
        let base = Url::parse("https://api.paddle.com").unwrap();
        assert!(next_url(&base, "https://api.paddle.com/subscriptions?after=sub_01h&per_page=200").is_ok());
        let err = next_url(&base, "https://evil.example/subscriptions?after=x").unwrap_err();
        assert!(err.contains("another server"), "{err}");
        assert!(next_url(&base, "/relative").is_err());
        let local = Url::parse("http://127.0.0.1:4000").unwrap();
        assert!(next_url(&local, "http://127.0.0.1:4001/subscriptions").is_err());
    }
}
