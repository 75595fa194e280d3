//! A short notification of a report for a chat webhook: Slack's incoming
//! webhooks, and anything else that takes `{"text": …}` (Mattermost, Discord's
//! Slack-compatible endpoint, a team's own relay). Sent by the CLI when the
//! verdict is not pass, so that a nightly drift check speaks only when it has
//! something to say.
//!
//! The URL is a secret (it lets anyone post to the channel): it is read only from
//! the environment variable the caller names, never from billguard.toml, and is
//! never printed. It must be https, or http to this machine (a local relay).

use std::fmt::Write as _;
use std::time::Duration;

use super::{Report, Verdict};
use crate::secrets;

const TIMEOUT: Duration = Duration::from_secs(10);
/// Findings named in the message; the rest are counted.
const SHOWN: usize = 5;

/// The message: verdict and counts, the first findings, where the full report is.
pub fn message<S>(report: &Report<S>) -> String {
    let s = &report.summary;
    let verdict = match report.verdict {
        Verdict::Fail => "FAIL",
        Verdict::Incomplete => "INCOMPLETE",
        Verdict::Warn => "WARN",
        Verdict::Pass => "PASS",
    };
    let mut out = format!("billguard {}: {verdict} ({} high, {} medium, {} low)", report.tool, s.high, s.medium, s.low);
    for f in report.findings.iter().take(SHOWN) {
        let _ = write!(out, "\n• {} {}: {}", f.rule, f.entity, f.message);
    }
    let total = s.high + s.medium + s.low;
    if total > SHOWN.min(report.findings.len()) {
        let _ = write!(out, "\n… {} more", total - SHOWN.min(report.findings.len()));
    }
    if report.verdict == Verdict::Incomplete {
        for n in report.notes.iter().take(2) {
            let _ = write!(out, "\nnote: {n}");
        }
    }
    if let Some(file) = &report.report_file {
        let _ = write!(out, "\nfull report: {file}");
    }
    secrets::redact(&out)
}

/// Whether a URL may receive the report: https anywhere, http only to loopback.
fn allowed(url: &reqwest::Url) -> bool {
    match url.scheme() {
        "https" => true,
        "http" => url.host_str().is_some_and(|h| {
            h == "localhost" || h.trim_matches(['[', ']']).parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
        }),
        _ => false,
    }
}

/// Posts `text` to the URL in `url_env`. Errors never contain the URL.
pub fn post(url_env: &str, text: &str) -> Result<(), String> {
    let raw = std::env::var(url_env).ok().filter(|u| !u.trim().is_empty()).ok_or_else(|| format!("{url_env} (--notify-url-env) is not set"))?;
    secrets::register_secret(raw.trim());
    let url = reqwest::Url::parse(raw.trim()).map_err(|_| format!("{url_env} does not hold a URL"))?;
    if !allowed(&url) {
        return Err(format!("{url_env} must be an https:// URL (or http:// to this machine): the report is not sent in the clear"));
    }
    let client = reqwest::blocking::Client::builder()
        .timeout(TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| format!("cannot start an HTTP client: {e}"))?;
    let sent = client.post(url).json(&serde_json::json!({ "text": text })).send();
    match sent {
        Ok(r) if r.status().is_success() => Ok(()),
        Ok(r) => Err(format!("the webhook in {url_env} answered {}", r.status())),
        Err(e) if e.is_timeout() => Err(format!("the webhook in {url_env} did not answer within {} s", TIMEOUT.as_secs())),
        Err(_) => Err(format!("the webhook in {url_env} could not be reached")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_or_loopback_http() {
        let ok = |u: &str| allowed(&reqwest::Url::parse(u).unwrap());
        assert!(ok("https://hooks.slack.com/services/T000/B000/XXXX"));
        assert!(ok("http://127.0.0.1:8080/hook") && ok("http://localhost/hook") && ok("http://[::1]:9/x"));
        assert!(!ok("http://hooks.example.com/hook"));
        assert!(!ok("file:///etc/passwd") && !ok("ftp://example.com/x"));
    }
}
