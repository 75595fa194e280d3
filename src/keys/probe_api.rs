//! The API probe: with an environment's key, ask Stripe (read-only GETs) what
//! mode the key is in (`GET /v1/balance`), whether the configured prices exist
//! in that mode (`GET /v1/prices/{id}`), and which webhook endpoints are
//! configured (`GET /v1/webhook_endpoints`). Opt-in only.

use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::model::EnvKind;
use super::webhook_gap::Endpoint;
use crate::secrets::{self, Mode};

pub const DEFAULT_API_BASE: &str = crate::endpoints::STRIPE_API;
const MAX_PAGES: usize = 10;

/// What to probe with which key.
#[derive(Debug, Clone)]
pub struct ApiRequest {
    pub api_base: String,
    pub environment: String,
    pub kind: EnvKind,
    pub variable: String,
    /// The key itself: used for the requests only, never shown.
    pub key: String,
    /// Price ids to look up, each with where it came from.
    pub prices: Vec<(String, String)>,
    pub url: Option<String>,
    pub timeout: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum PriceOutcome {
    Found { livemode: bool },
    /// 404 saying that a similar object exists in the other mode.
    OtherMode { exists_in: String },
    NotFound,
    Error { message: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PriceCheck {
    pub id: String,
    /// `[access.plans]` or the variable that holds the id.
    pub source: String,
    #[serde(flatten)]
    pub outcome: PriceOutcome,
}

/// What Stripe said about one environment's key.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct ApiProbe {
    pub environment: String,
    pub kind: EnvKind,
    /// The variable whose key was used.
    pub variable: String,
    /// The key, redacted.
    pub key: String,
    #[serde(skip)]
    pub key_mode: Mode,
    /// `livemode` of `GET /v1/balance`; null when it could not be read.
    pub livemode: Option<bool>,
    pub prices: Vec<PriceCheck>,
    /// Webhook endpoints; null when they could not be listed.
    pub endpoints: Option<Vec<Endpoint>>,
    /// The environment's URL the endpoints are matched against.
    pub url: Option<String>,
    pub errors: Vec<String>,
}

enum Answer {
    Ok(Value),
    Status(u16, Value),
}

struct Client {
    http: reqwest::blocking::Client,
    base: String,
    key: String,
    timeout: Duration,
}

impl Client {
    fn get(&self, path: &str) -> Result<Answer, String> {
        let url = format!("{}{path}", self.base.trim_end_matches('/'));
        let resp = self.http.get(&url).bearer_auth(&self.key).send().map_err(|e| {
            if e.is_timeout() {
                format!("no answer from {url} within {} s", self.timeout.as_secs())
            } else if e.is_connect() {
                format!("cannot connect to {}", self.base)
            } else {
                format!("GET {url} failed: {e}")
            }
        })?;
        let status = resp.status().as_u16();
        // At most one byte past the cap: an endless answer stops here.
        let cap = crate::access::http::MAX_BODY_BYTES;
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut std::io::Read::take(resp, cap as u64 + 1), &mut bytes).map_err(|e| format!("GET {url}: reading the answer failed: {e}"))?;
        if bytes.len() > cap {
            return Err(format!("GET {url}: the answer is larger than {} MB; not read", cap >> 20));
        }
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let value: Value = serde_json::from_str(&text)
            .map_err(|_| format!("GET {url} answered HTTP {status} with a body that is not JSON ({} bytes)", text.len()))?;
        Ok(if (200..300).contains(&status) { Answer::Ok(value) } else { Answer::Status(status, value) })
    }
}

fn error_message(v: &Value) -> String {
    v["error"]["message"].as_str().unwrap_or("no error message").to_string()
}

/// Explains a non-2xx answer: bad key, missing permission, other.
fn explain(path: &str, status: u16, v: &Value, permission: &str) -> String {
    let msg = secrets::redact(&error_message(v));
    match status {
        401 => format!("GET {path}: the key was rejected (401: {msg})"),
        403 => format!("GET {path}: the key lacks a permission (a restricted key needs {permission}): {msg}"),
        429 => format!("GET {path}: rate limited (429)"),
        _ => format!("GET {path}: HTTP {status}: {msg}"),
    }
}

/// Asks Stripe. Never fails: what went wrong is in `errors`.
pub fn probe(req: &ApiRequest) -> ApiProbe {
    let class = secrets::classify(&req.key);
    let mut out = ApiProbe {
        environment: req.environment.clone(),
        kind: req.kind,
        variable: req.variable.clone(),
        key: secrets::fingerprint(&req.key),
        key_mode: class.map_or(Mode::Unknown, |c| c.mode),
        livemode: None,
        prices: Vec::new(),
        endpoints: None,
        url: req.url.clone(),
        errors: Vec::new(),
    };
    let http = match reqwest::blocking::Client::builder()
        .timeout(req.timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("billguard/", env!("CARGO_PKG_VERSION")))
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            out.errors.push(format!("cannot build an HTTP client: {e}"));
            return out;
        }
    };
    let client = Client { http, base: req.api_base.clone(), key: req.key.clone(), timeout: req.timeout };
    match client.get("/v1/balance") {
        Ok(Answer::Ok(v)) => out.livemode = v["livemode"].as_bool(),
        Ok(Answer::Status(s, v)) => out.errors.push(explain("/v1/balance", s, &v, "rak_balance_read")),
        Err(e) => {
            // Unreachable: the other requests would fail the same way.
            out.errors.push(secrets::redact(&e));
            return out;
        }
    }
    for (id, source) in &req.prices {
        let path = format!("/v1/prices/{id}");
        let outcome = match client.get(&path) {
            Ok(Answer::Ok(v)) => PriceOutcome::Found { livemode: v["livemode"].as_bool().unwrap_or(false) },
            Ok(Answer::Status(404, v)) => {
                let msg = error_message(&v);
                if msg.contains("exists in live mode") {
                    PriceOutcome::OtherMode { exists_in: "live".into() }
                } else if msg.contains("exists in test mode") {
                    PriceOutcome::OtherMode { exists_in: "test".into() }
                } else {
                    PriceOutcome::NotFound
                }
            }
            Ok(Answer::Status(s, v)) => PriceOutcome::Error { message: explain(&path, s, &v, "rak_plan_read") },
            Err(e) => PriceOutcome::Error { message: secrets::redact(&e) },
        };
        out.prices.push(PriceCheck { id: id.clone(), source: source.clone(), outcome });
    }
    match list_endpoints(&client) {
        Ok(list) => out.endpoints = Some(list),
        Err(e) => out.errors.push(e),
    }
    out
}

fn list_endpoints(client: &Client) -> Result<Vec<Endpoint>, String> {
    let mut all = Vec::new();
    let mut after: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let path = match &after {
            Some(id) => format!("/v1/webhook_endpoints?limit=100&starting_after={id}"),
            None => "/v1/webhook_endpoints?limit=100".to_string(),
        };
        let v = match client.get(&path).map_err(|e| secrets::redact(&e))? {
            Answer::Ok(v) => v,
            Answer::Status(s, v) => return Err(explain("/v1/webhook_endpoints", s, &v, "rak_webhook_read")),
        };
        let data = v["data"].as_array().ok_or("GET /v1/webhook_endpoints: the answer has no `data` list")?;
        for e in data {
            all.push(Endpoint {
                id: e["id"].as_str().unwrap_or("").to_string(),
                url: e["url"].as_str().unwrap_or("").to_string(),
                status: e["status"].as_str().unwrap_or("enabled").to_string(),
                enabled_events: e["enabled_events"]
                    .as_array()
                    .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect())
                    .unwrap_or_default(),
                livemode: e["livemode"].as_bool(),
            });
        }
        if v["has_more"].as_bool() != Some(true) || data.is_empty() {
            return Ok(all);
        }
        after = data.last().and_then(|e| e["id"].as_str()).map(str::to_string);
    }
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_price_outcome_serializes() {
        for outcome in [
            PriceOutcome::Found { livemode: true },
            PriceOutcome::OtherMode { exists_in: "test".into() },
            PriceOutcome::NotFound,
            PriceOutcome::Error { message: "HTTP 500".into() },
        ] {
            let check = PriceCheck { id: "price_1".into(), source: "[access.plans]".into(), outcome };
            let v = serde_json::to_value(&check).unwrap();
            assert_eq!(v["id"], "price_1");
            assert!(v["outcome"].is_string(), "{v}");
        }
    }
}
