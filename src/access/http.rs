//! The HTTP side of the live billing sources: one client per check, a shared
//! rate limiter, retries with exponential backoff and jitter, and failures
//! classified so that each provider can explain them.
//!
//! Politeness rules, for every request:
//! - wait for the rate limiter (a token bucket, `governor`) and for any pause a
//!   `429 Retry-After` imposed on all requests;
//! - time out after `Policy::timeout` (connect, headers and body together);
//! - retry 429, 5xx, timeouts and dropped connections, at most `max_retries`
//!   times, after `Retry-After` when the server gives one, else after an
//!   exponential backoff with jitter; `Stripe-Should-Retry` overrides the
//!   status either way.
//!
//! The key travels only in the `Authorization` header, marked sensitive; URLs
//! and messages never carry it.

use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::Duration;

use bytes::Bytes;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde::de::DeserializeOwned;
use tokio::time::Instant;

/// How requests are paced and retried.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Requests per second, across all concurrent requests.
    pub rate_per_sec: u32,
    /// Requests that may be outstanding at once.
    pub max_in_flight: usize,
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// Whole-request timeout (connect, headers, body).
    pub timeout: Duration,
    /// First backoff; doubles on each retry up to `backoff_max`. Jitter picks a
    /// wait between half and all of it.
    pub backoff_initial: Duration,
    pub backoff_max: Duration,
    /// A `Retry-After` longer than this ends the fetch instead of stalling it.
    pub retry_after_max: Duration,
}

impl Policy {
    pub fn new(rate_per_sec: u32, timeout: Duration, max_retries: u32) -> Policy {
        let rate_per_sec = rate_per_sec.max(1);
        Policy {
            rate_per_sec,
            // Enough to keep the limiter busy at ~300 ms per page, bounded so that a
            // generous rate limit does not open a hundred connections.
            max_in_flight: (rate_per_sec as usize).clamp(1, 32),
            max_retries,
            timeout,
            backoff_initial: Duration::from_millis(500),
            backoff_max: Duration::from_secs(20),
            retry_after_max: Duration::from_secs(120),
        }
    }

    /// The wait before retry number `retry` (1-based): exponential, capped, with jitter.
    pub fn backoff(&self, retry: u32) -> Duration {
        let exp = self.backoff_initial.saturating_mul(1u32 << retry.saturating_sub(1).min(16));
        let full = exp.min(self.backoff_max);
        let half = full / 2;
        half + full.saturating_sub(half).mul_f64(fastrand::f64())
    }
}

/// Why a request did not yield a usable body.
#[derive(Debug, Clone, PartialEq)]
pub enum FailureKind {
    /// The server answered with an error status (after retries, if it was retryable).
    Status { status: u16, body: String },
    /// No complete answer within the timeout.
    Timeout { secs: f64 },
    /// Connect refused, connection reset, or the body cut off mid-way.
    Connection(String),
    /// `429` with a `Retry-After` longer than billguard waits.
    RetryAfterTooLong { secs: u64 },
    /// A complete answer that is not the JSON expected (truncated, HTML, another shape).
    Body(String),
}

impl FailureKind {
    /// A short label without any response text, for logs (which the report's redaction does not see).
    pub fn summary(&self) -> String {
        match self {
            FailureKind::Status { status, .. } => format!("HTTP {status}"),
            FailureKind::Timeout { .. } => "timeout".into(),
            FailureKind::Connection(_) => "connection".into(),
            FailureKind::RetryAfterTooLong { secs } => format!("retry-after {secs} s"),
            FailureKind::Body(_) => "body".into(),
        }
    }
}

/// A failed request: which one, how many attempts, and why.
#[derive(Debug, Clone)]
pub struct Failure {
    /// `GET <url>`: the request as sent, without headers.
    pub request: String,
    pub attempts: u32,
    pub kind: FailureKind,
}

impl Failure {
    /// Human-readable cause, without the request (the provider adds context).
    pub fn cause(&self) -> String {
        let tries = if self.attempts > 1 { format!(" (after {} attempts)", self.attempts) } else { String::new() };
        match &self.kind {
            FailureKind::Status { status, body } => {
                let reason = StatusCode::from_u16(*status).ok().and_then(|s| s.canonical_reason()).unwrap_or("");
                let detail = if body.is_empty() { String::new() } else { format!(": {body}") };
                format!("HTTP {status} {reason}{tries}{detail}")
            }
            FailureKind::Timeout { secs } => format!("no complete response within {secs} s{tries}"),
            FailureKind::Connection(e) => format!("connection failed{tries}: {e}"),
            FailureKind::RetryAfterTooLong { secs } => {
                format!("rate limited, and the server asks to wait {secs} s before retrying, longer than billguard waits{tries}")
            }
            FailureKind::Body(e) => format!("the response is not the JSON expected: {e}"),
        }
    }

    pub fn status(&self) -> Option<u16> {
        match &self.kind {
            FailureKind::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// A successful response body and the request it answered.
#[derive(Debug)]
pub struct Page {
    pub request: String,
    pub body: Bytes,
}

impl Page {
    /// Deserializes the body; a truncated or non-JSON body is a [`Failure`] naming the request.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, Failure> {
        serde_json::from_slice(&self.body).map_err(|e| Failure {
            request: self.request.clone(),
            attempts: 1,
            kind: FailureKind::Body(describe_json_error(&e, &self.body)),
        })
    }
}

/// "EOF while parsing a list at byte 4096 of 4096 (truncated?)", or the first bytes of an HTML page.
pub fn describe_json_error(e: &serde_json::Error, body: &[u8]) -> String {
    let start = String::from_utf8_lossy(&body[..body.len().min(60)]).replace(['\n', '\r'], " ");
    match e.classify() {
        serde_json::error::Category::Eof => format!("the body ends early ({} bytes): truncated JSON", body.len()),
        _ if !body.trim_ascii_start().starts_with(b"{") => format!("the body is not JSON ({} bytes, starting `{start}`)", body.len()),
        _ => format!("{e} ({} bytes)", body.len()),
    }
}

/// Results of a request attempt before classification.
enum Attempt {
    Done(Bytes),
    Retry { kind: FailureKind, after: Option<Duration> },
    Fail(FailureKind),
}

/// A rate-limited, retrying HTTP client for one provider.
pub struct Api {
    client: reqwest::Client,
    headers: HeaderMap,
    limiter: DefaultDirectRateLimiter,
    /// Set by a `429 Retry-After`: no request starts before it.
    paused_until: Mutex<Option<Instant>>,
    pub policy: Policy,
}

impl Api {
    /// `authorization` is the full header value (`Bearer …`); it is marked sensitive.
    pub fn new(authorization: &str, extra: &[(&'static str, &str)], policy: Policy) -> Result<Api, String> {
        let mut headers = HeaderMap::new();
        let mut auth = HeaderValue::from_str(authorization)
            .map_err(|_| "the key contains characters that cannot be sent in an HTTP header (a stray newline or quote?)".to_string())?;
        auth.set_sensitive(true);
        headers.insert(reqwest::header::AUTHORIZATION, auth);
        for (name, value) in extra {
            headers.insert(HeaderName::from_static(name), HeaderValue::from_str(value).map_err(|e| format!("header {name}: {e}"))?);
        }
        let client = reqwest::Client::builder()
            .user_agent(concat!("billguard/", env!("CARGO_PKG_VERSION")))
            .timeout(policy.timeout)
            .connect_timeout(policy.timeout.min(Duration::from_secs(10)))
            .pool_max_idle_per_host(policy.max_in_flight)
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        let rate = NonZeroU32::new(policy.rate_per_sec.max(1)).expect("max(1)");
        // A small burst: a fresh start does not fire a second's worth at once.
        let burst = NonZeroU32::new((policy.rate_per_sec / 5).max(1)).expect("max(1)");
        let limiter = RateLimiter::direct(Quota::per_second(rate).allow_burst(burst));
        Ok(Api { client, headers, limiter, paused_until: Mutex::new(None), policy })
    }

    /// GETs `url`, retrying as the policy says. The body is complete when this returns.
    pub async fn get(&self, url: &reqwest::Url) -> Result<Page, Failure> {
        let request = format!("GET {url}");
        let mut attempt = 0;
        loop {
            attempt += 1;
            self.wait_turn().await;
            let outcome = self.attempt(url).await;
            let (kind, after) = match outcome {
                Attempt::Done(body) => return Ok(Page { request, body }),
                Attempt::Fail(kind) => return Err(Failure { request, attempts: attempt, kind }),
                Attempt::Retry { kind, after } => (kind, after),
            };
            if attempt > self.policy.max_retries {
                return Err(Failure { request, attempts: attempt, kind });
            }
            let wait = after.unwrap_or_else(|| self.policy.backoff(attempt));
            if let Some(after) = after {
                // Everyone waits: the limit is the account's, not this request's.
                let until = Instant::now() + after;
                let mut paused = self.paused_until.lock().unwrap_or_else(|e| e.into_inner());
                *paused = Some(paused.map_or(until, |p| p.max(until)));
            }
            tracing::debug!(%request, attempt, wait_ms = wait.as_millis() as u64, cause = kind.summary(), "retrying");
            tokio::time::sleep(wait).await;
        }
    }

    async fn wait_turn(&self) {
        let paused = *self.paused_until.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(until) = paused {
            tokio::time::sleep_until(until).await;
        }
        self.limiter.until_ready().await;
    }

    async fn attempt(&self, url: &reqwest::Url) -> Attempt {
        let timeout_secs = self.policy.timeout.as_secs_f64();
        let transport = |e: reqwest::Error| {
            if e.is_timeout() {
                Attempt::Retry { kind: FailureKind::Timeout { secs: timeout_secs }, after: None }
            } else {
                Attempt::Retry { kind: FailureKind::Connection(error_chain(&e)), after: None }
            }
        };
        let response = match self.client.get(url.clone()).headers(self.headers.clone()).send().await {
            Ok(r) => r,
            Err(e) => return transport(e),
        };
        let status = response.status();
        let headers = response.headers().clone();
        // Read the body piece by piece, never holding more than a page can be.
        if response.content_length().is_some_and(|n| n > MAX_BODY_BYTES as u64) {
            return Attempt::Fail(FailureKind::Body(format!("the response is larger than {} MB, more than any page of subscriptions", MAX_BODY_BYTES >> 20)));
        }
        let mut response = response;
        let mut collected = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(piece)) => {
                    if collected.len() + piece.len() > MAX_BODY_BYTES {
                        return Attempt::Fail(FailureKind::Body(format!(
                            "the response went on past {} MB, more than any page of subscriptions; billguard stopped reading it",
                            MAX_BODY_BYTES >> 20
                        )));
                    }
                    collected.extend_from_slice(&piece);
                }
                Ok(None) => break,
                Err(e) => return transport(e),
            }
        }
        let body = bytes::Bytes::from(collected);
        if status.is_success() {
            return Attempt::Done(body);
        }
        let kind = FailureKind::Status { status: status.as_u16(), body: short_body(&body) };
        match should_retry(status, &headers) {
            false => Attempt::Fail(kind),
            true => match retry_after(&headers) {
                Some(after) if after > self.policy.retry_after_max => {
                    Attempt::Fail(FailureKind::RetryAfterTooLong { secs: after.as_secs() })
                }
                after => Attempt::Retry { kind, after },
            },
        }
    }
}

/// `Stripe-Should-Retry` decides when present; else 429 and 5xx are retried.
/// Largest response body read: a page of 100 subscriptions is well under a
/// megabyte, even with items expanded.
pub const MAX_BODY_BYTES: usize = 32 << 20;

pub fn should_retry(status: StatusCode, headers: &HeaderMap) -> bool {
    match headers.get("stripe-should-retry").and_then(|v| v.to_str().ok()).map(str::trim) {
        Some("true") => true,
        Some("false") => false,
        _ => status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error(),
    }
}

/// `Retry-After` in seconds (possibly fractional) or as an HTTP date.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let raw = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = raw.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs));
    }
    let date = chrono::DateTime::parse_from_rfc2822(raw).ok()?;
    let secs = date.timestamp() - chrono::Utc::now().timestamp();
    Some(Duration::from_secs(secs.max(0) as u64))
}

/// The start of an error body, on one line, for messages.
fn short_body(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(600)]);
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// reqwest's error and its sources, which carry the useful part ("connection refused").
fn error_chain(e: &reqwest::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(HeaderName::from_static(k), HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn retry_decision_honours_stripe_should_retry() {
        let none = HeaderMap::new();
        assert!(should_retry(StatusCode::TOO_MANY_REQUESTS, &none));
        assert!(should_retry(StatusCode::BAD_GATEWAY, &none));
        assert!(!should_retry(StatusCode::FORBIDDEN, &none));
        assert!(!should_retry(StatusCode::INTERNAL_SERVER_ERROR, &headers(&[("stripe-should-retry", "false")])));
        assert!(should_retry(StatusCode::CONFLICT, &headers(&[("stripe-should-retry", "true")])));
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        assert_eq!(retry_after(&headers(&[("retry-after", "2")])), Some(Duration::from_secs(2)));
        assert_eq!(retry_after(&headers(&[("retry-after", "0.25")])), Some(Duration::from_millis(250)));
        assert_eq!(retry_after(&headers(&[("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT")])), Some(Duration::ZERO));
        let later = (chrono::Utc::now() + chrono::Duration::seconds(30)).to_rfc2822();
        let d = retry_after(&headers(&[("retry-after", &later)])).unwrap();
        assert!((28..=30).contains(&d.as_secs()), "{d:?}");
        assert_eq!(retry_after(&headers(&[("retry-after", "soon")])), None);
        assert_eq!(retry_after(&HeaderMap::new()), None);
    }

    #[test]
    fn backoff_grows_exponentially_with_jitter_and_a_cap() {
        let p = Policy::new(20, Duration::from_secs(5), 5);
        for _ in 0..50 {
            let first = p.backoff(1);
            assert!(first >= Duration::from_millis(250) && first <= Duration::from_millis(500), "{first:?}");
            let third = p.backoff(3);
            assert!(third >= Duration::from_secs(1) && third <= Duration::from_secs(2), "{third:?}");
            assert!(p.backoff(30) <= p.backoff_max);
        }
        let samples: std::collections::HashSet<_> = (0..20).map(|_| p.backoff(2)).collect();
        assert!(samples.len() > 1, "jitter varies the wait");
    }

    #[test]
    fn json_errors_say_truncated_or_not_json() {
        let page = |b: &'static [u8]| Page { request: "GET http://x/v1/subscriptions".into(), body: Bytes::from_static(b) };
        let err = page(br#"{"data":[{"id":"sub_1""#).json::<serde_json::Value>().unwrap_err();
        assert_eq!(err.request, "GET http://x/v1/subscriptions");
        assert!(matches!(&err.kind, FailureKind::Body(m) if m.contains("truncated")), "{err:?}");
        let err = page(b"<html><body>Bad gateway</body></html>").json::<serde_json::Value>().unwrap_err();
        assert!(matches!(&err.kind, FailureKind::Body(m) if m.contains("not JSON") && m.contains("<html>")), "{err:?}");
    }

    #[test]
    fn policy_bounds_concurrency() {
        assert_eq!(Policy::new(90, Duration::from_secs(1), 1).max_in_flight, 32);
        assert_eq!(Policy::new(4, Duration::from_secs(1), 1).max_in_flight, 4);
        assert_eq!(Policy::new(0, Duration::from_secs(1), 1).rate_per_sec, 1);
    }
}
