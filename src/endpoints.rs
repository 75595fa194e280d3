//! Where a billing key may be sent.
//!
//! A repository's billguard.toml is untrusted input (it may come from the pull
//! request under review), so it must not be able to choose the host that
//! receives the developer's keys. A key goes only to the provider's official
//! API over HTTPS, or to an emulator on this machine when the person running
//! billguard says so in their own environment ([`API_BASE_ENV`]), never when
//! the repository's config alone asks for it.

use std::net::IpAddr;

use reqwest::Url;

use crate::config::BillingProvider;
use crate::error::CheckError;

/// Environment variable of the person running billguard that points the API
/// readers and probes at an emulator on this machine (loopback only).
pub const API_BASE_ENV: &str = "BILLGUARD_API_BASE";

pub const STRIPE_API: &str = "https://api.stripe.com";
pub const PADDLE_API: &str = "https://api.paddle.com";
pub const PADDLE_SANDBOX_API: &str = "https://sandbox-api.paddle.com";

/// The hosts a key of this provider may be sent to from a repository's config.
fn official_hosts(provider: BillingProvider) -> &'static [&'static str] {
    match provider {
        BillingProvider::Stripe => &["api.stripe.com"],
        BillingProvider::Paddle => &["api.paddle.com", "sandbox-api.paddle.com"],
    }
}

/// The API base to send `provider`'s key to: the operator's [`API_BASE_ENV`]
/// (loopback, or an official host), else the repository's `[billing] api_base`
/// (an official host over HTTPS only), else `default`.
pub fn api_base(provider: BillingProvider, from_config: Option<&str>, default: &str) -> Result<Url, CheckError> {
    let operator = std::env::var(API_BASE_ENV).ok().filter(|v| !v.trim().is_empty());
    resolve(provider, operator.as_deref(), from_config, default)
}

/// [`api_base`] with the operator's override given explicitly (pure, for tests).
pub fn resolve(provider: BillingProvider, operator: Option<&str>, from_config: Option<&str>, default: &str) -> Result<Url, CheckError> {
    if let Some(raw) = operator {
        let url = parse(raw, API_BASE_ENV)?;
        let official = is_official(provider, &url);
        return match url.host_str() {
            _ if official => Ok(url),
            Some(host) if is_loopback(host) && matches!(url.scheme(), "http" | "https") => Ok(url),
            _ => Err(CheckError::Usage(format!(
                "{API_BASE_ENV}=`{raw}` may only name an emulator on this machine (http://127.0.0.1:PORT or \
                 http://localhost:PORT) or the provider's official API ({}), so that billing keys never leave for another host",
                official_list(provider)
            ))),
        };
    }
    let Some(raw) = from_config else { return parse(default, "the default API base") };
    let url = parse(raw, "[billing] api_base")?;
    if is_official(provider, &url) {
        return Ok(url);
    }
    let hint = match url.host_str() {
        Some(host) if is_loopback(host) => format!(
            " To use an emulator on this machine, set {API_BASE_ENV}={} in your own environment (billguard honours it \
             from the person running it, never from the repository)",
            raw.trim()
        ),
        _ => String::new(),
    };
    Err(CheckError::Usage(format!(
        "[billing] api_base = \"{}\" in billguard.toml is refused: a repository's config may only name the provider's \
         official API over https ({}), because the billing key is sent there. Remove api_base.{hint}",
        raw.trim(),
        official_list(provider)
    )))
}

fn parse(raw: &str, what: &str) -> Result<Url, CheckError> {
    let trimmed = raw.trim().trim_end_matches('/');
    let url = Url::parse(trimmed).map_err(|e| CheckError::Usage(format!("{what} `{trimmed}` is not a URL: {e}")))?;
    // A user name or password in the URL would travel with every request.
    if !url.username().is_empty() || url.password().is_some() {
        return Err(CheckError::Usage(format!("{what} must not carry a user name or password")));
    }
    Ok(url)
}

fn is_official(provider: BillingProvider, url: &Url) -> bool {
    url.scheme() == "https"
        && url.port().is_none_or(|p| p == 443)
        && url.host_str().is_some_and(|h| official_hosts(provider).iter().any(|o| h.eq_ignore_ascii_case(o)))
}

fn official_list(provider: BillingProvider) -> String {
    official_hosts(provider).iter().map(|h| format!("https://{h}")).collect::<Vec<_>>().join(" or ")
}

/// `localhost` or a loopback address (`127.0.0.0/8`, `::1`).
pub fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost") || host.trim_matches(['[', ']']).parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    const STRIPE: BillingProvider = BillingProvider::Stripe;

    #[test]
    fn without_overrides_the_official_api_is_used() {
        assert_eq!(resolve(STRIPE, None, None, STRIPE_API).unwrap().as_str(), "https://api.stripe.com/");
    }

    #[test]
    fn the_repository_config_cannot_send_keys_to_another_host() {
        for raw in ["https://evil.example.com", "http://evil.example.com", "https://api.stripe.com.evil.example", "https://api.stripe.com:8443"] {
            let err = resolve(STRIPE, None, Some(raw), STRIPE_API).unwrap_err().to_string();
            assert!(err.contains("refused") && err.contains("https://api.stripe.com"), "{raw}: {err}");
        }
    }

    #[test]
    fn the_repository_config_cannot_pick_loopback_either_but_is_told_how() {
        let err = resolve(STRIPE, None, Some("http://127.0.0.1:12111"), STRIPE_API).unwrap_err().to_string();
        assert!(err.contains("refused") && err.contains("BILLGUARD_API_BASE=http://127.0.0.1:12111"), "{err}");
    }

    #[test]
    fn the_repository_config_may_name_an_official_host() {
        let url = resolve(BillingProvider::Paddle, None, Some("https://sandbox-api.paddle.com/"), PADDLE_API).unwrap();
        assert_eq!(url.host_str(), Some("sandbox-api.paddle.com"));
        assert!(resolve(BillingProvider::Paddle, None, Some("https://api.stripe.com"), PADDLE_API).is_err());
    }

    #[test]
    fn the_operator_may_point_at_loopback_and_wins_over_the_config() {
        let url = resolve(STRIPE, Some("http://127.0.0.1:4242"), Some("https://evil.example.com"), STRIPE_API).unwrap();
        assert_eq!(url.as_str(), "http://127.0.0.1:4242/");
        assert!(resolve(STRIPE, Some("http://[::1]:9"), None, STRIPE_API).is_ok());
        assert!(resolve(STRIPE, Some("http://localhost:9"), None, STRIPE_API).is_ok());
    }

    #[test]
    fn the_operator_cannot_send_keys_to_a_remote_host() {
        for raw in ["https://evil.example.com", "http://10.0.0.1:80", "http://api.stripe.com"] {
            assert!(resolve(STRIPE, Some(raw), None, STRIPE_API).is_err(), "{raw}");
        }
    }

    #[test]
    fn credentials_in_the_url_are_refused() {
        assert!(resolve(STRIPE, Some("http://user:pw@127.0.0.1:1"), None, STRIPE_API).is_err());
    }
}
