//! KEY012's question: does an enabled webhook endpoint in the key's mode point
//! at the environment's URL and receive the events access depends on?

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::secrets::Mode;

/// Lifecycle events that move access (DESIGN.md WH006). `invoice.paid` is also
/// satisfied by `invoice.payment_succeeded`.
pub const LIFECYCLE_EVENTS: &[&str] = &[
    "checkout.session.completed",
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "invoice.paid",
    "invoice.payment_failed",
];

/// A webhook endpoint as `GET /v1/webhook_endpoints` describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Endpoint {
    pub id: String,
    pub url: String,
    /// `enabled` or `disabled`.
    pub status: String,
    pub enabled_events: Vec<String>,
    pub livemode: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Covered,
    NoEndpoint(String),
    MissingEvents { endpoint: String, url: String, missing: Vec<String> },
}

fn host(url: &str) -> Option<String> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let host = rest.split(['/', '?', '#']).next()?.rsplit('@').next()?.split(':').next()?.to_ascii_lowercase();
    (!host.is_empty()).then(|| host.trim_start_matches("www.").to_string())
}

fn receives(endpoint: &Endpoint, event: &str) -> bool {
    let has = |e: &str| endpoint.enabled_events.iter().any(|x| x == "*" || x == e);
    has(event) || (event == "invoice.paid" && has("invoice.payment_succeeded"))
}

/// Judges the endpoints of one account for one environment.
pub fn judge(endpoints: &[Endpoint], env_url: Option<&str>, mode: Mode, required: &[String]) -> Verdict {
    let want_host = env_url.and_then(host);
    let in_mode = |e: &&Endpoint| match (e.livemode, mode) {
        (Some(l), Mode::Live) => l,
        (Some(l), Mode::Test) => !l,
        _ => true,
    };
    let candidates: Vec<&Endpoint> = endpoints
        .iter()
        .filter(|e| e.status.eq_ignore_ascii_case("enabled"))
        .filter(in_mode)
        .filter(|e| want_host.is_none() || host(&e.url) == want_host)
        .collect();
    let Some(best) = candidates.iter().max_by_key(|e| (required.iter().filter(|r| receives(e, r)).count(), std::cmp::Reverse(e.id.clone()))) else {
        let target = match env_url {
            Some(u) => format!("points at {u}"),
            None => "exists".to_string(),
        };
        let disabled = endpoints.iter().filter(|e| !e.status.eq_ignore_ascii_case("enabled")).count();
        let extra = if disabled > 0 { format!(" ({disabled} disabled endpoint(s) ignored)") } else { String::new() };
        return Verdict::NoEndpoint(format!(
            "no enabled webhook endpoint in {} mode {target}{extra}",
            super::values::mode_name(mode)
        ));
    };
    let missing: Vec<String> = required.iter().filter(|r| !receives(best, r)).cloned().collect();
    if missing.is_empty() {
        Verdict::Covered
    } else {
        Verdict::MissingEvents { endpoint: best.id.clone(), url: best.url.clone(), missing }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep(id: &str, url: &str, status: &str, events: &[&str], live: bool) -> Endpoint {
        Endpoint { id: id.into(), url: url.into(), status: status.into(), enabled_events: events.iter().map(|s| s.to_string()).collect(), livemode: Some(live) }
    }

    fn req() -> Vec<String> {
        LIFECYCLE_EVENTS.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn an_enabled_endpoint_with_every_event_covers() {
        let all = ep("we_1", "https://www.example.com/api/webhooks", "enabled", &["*"], true);
        assert_eq!(judge(std::slice::from_ref(&all), Some("https://example.com"), Mode::Live, &req()), Verdict::Covered);
        let mut events: Vec<&str> = LIFECYCLE_EVENTS.to_vec();
        events.retain(|e| *e != "invoice.paid");
        events.push("invoice.payment_succeeded");
        let alt = ep("we_2", "https://example.com/hooks", "enabled", &events, true);
        assert_eq!(judge(&[alt], Some("https://example.com/"), Mode::Live, &req()), Verdict::Covered);
    }

    #[test]
    fn gaps_are_found() {
        let test_mode = ep("we_1", "https://example.com/hooks", "enabled", &["*"], false);
        let disabled = ep("we_2", "https://example.com/hooks", "disabled", &["*"], true);
        let other_host = ep("we_3", "https://staging.example.com/hooks", "enabled", &["*"], true);
        match judge(&[test_mode, disabled, other_host], Some("https://example.com"), Mode::Live, &req()) {
            Verdict::NoEndpoint(why) => assert!(why.contains("live mode") && why.contains("1 disabled"), "{why}"),
            v => panic!("{v:?}"),
        }
        let partial = ep("we_4", "https://example.com/hooks", "enabled", &["checkout.session.completed"], true);
        match judge(&[partial], Some("https://example.com"), Mode::Live, &req()) {
            Verdict::MissingEvents { endpoint, missing, .. } => {
                assert_eq!(endpoint, "we_4");
                assert!(missing.contains(&"customer.subscription.deleted".to_string()));
                assert!(!missing.contains(&"checkout.session.completed".to_string()));
            }
            v => panic!("{v:?}"),
        }
    }
}
