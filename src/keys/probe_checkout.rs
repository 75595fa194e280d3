//! The checkout probe: POST (or GET) the production checkout endpoint, follow
//! redirects by hand, and read the bytes for checkout sessions, checkout URLs
//! and payment links and their mode (KEY009).
//!
//! A POST to a checkout endpoint creates an unpaid Checkout Session in the
//! account: harmless (it expires after 24 hours) but real. Opt-in only.

use std::sync::OnceLock;
use std::time::Duration;

use regex::Regex;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::model::EnvKind;
use crate::secrets;

pub const DEFAULT_BODY: &str = r#"{"plan":"starter","email":"billguard-probe@example.com"}"#;
const MAX_REDIRECTS: usize = 5;
const MAX_BODY: usize = 2 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Post,
    Get,
}

impl Method {
    pub fn parse(s: &str) -> Option<Method> {
        match s.trim().to_ascii_uppercase().as_str() {
            "POST" => Some(Method::Post),
            "GET" => Some(Method::Get),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Post => "POST",
            Method::Get => "GET",
        }
    }
}

/// What to probe, and whose it is.
#[derive(Debug, Clone)]
pub struct CheckoutRequest {
    pub url: String,
    pub method: Method,
    pub body: String,
    pub timeout: Duration,
    pub environment: String,
    pub kind: EnvKind,
}

/// A checkout session, checkout URL or payment link seen in a response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Artefact {
    /// checkout session | checkout URL | payment link | customer portal link
    pub what: String,
    /// test | live
    pub mode: String,
    /// The artefact, shortened.
    pub text: String,
}

/// What the probe saw.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct CheckoutProbe {
    pub url: String,
    pub method: String,
    /// The environment the endpoint belongs to (`probe_env`, default the production one).
    pub environment: String,
    pub kind: EnvKind,
    /// HTTP status of the last response.
    pub status: Option<u16>,
    /// Every Location header followed or seen.
    pub redirects: Vec<String>,
    pub artefacts: Vec<Artefact>,
    /// Why the probe could not answer (refused, timed out, too many redirects).
    pub error: Option<String>,
    /// Something the reader should know about the answer (an HTML page, an error status).
    pub remark: Option<String>,
}

fn patterns() -> &'static [(Regex, &'static str)] {
    static P: OnceLock<Vec<(Regex, &'static str)>> = OnceLock::new();
    P.get_or_init(|| {
        [
            (r"https?://checkout\.stripe\.com/c/pay/cs_(test|live)_[A-Za-z0-9]+", "checkout URL"),
            (r"https?://buy\.stripe\.com/(test_)?[A-Za-z0-9]+", "payment link"),
            (r"https?://billing\.stripe\.com/p/login/(test_)?[A-Za-z0-9]+", "customer portal link"),
            (r"\bcs_(test|live)_[A-Za-z0-9]{8,}", "checkout session"),
        ]
        .into_iter()
        .map(|(re, what)| (Regex::new(re).expect("static regex"), what))
        .collect()
    })
}

fn shorten(s: &str) -> String {
    if s.chars().count() > 60 { format!("{}…", s.chars().take(60).collect::<String>()) } else { s.to_string() }
}

/// Every artefact in a response text (JSON-escaped slashes are undone first).
pub fn find_artefacts(text: &str) -> Vec<Artefact> {
    let text = text.replace("\\/", "/").replace("\\u002F", "/").replace("\\u002f", "/");
    let mut out: Vec<Artefact> = Vec::new();
    let mut covered: Vec<(usize, usize)> = Vec::new();
    for (re, what) in patterns() {
        for m in re.find_iter(&text) {
            if covered.iter().any(|(s, e)| m.start() >= *s && m.end() <= *e) {
                continue; // the session id inside an already-counted URL
            }
            covered.push((m.start(), m.end()));
            let s = m.as_str();
            let test = match *what {
                "payment link" | "customer portal link" => s.rsplit('/').next().is_some_and(|t| t.starts_with("test_")),
                _ => s.contains("cs_test_"),
            };
            let a = Artefact { what: what.to_string(), mode: if test { "test" } else { "live" }.into(), text: shorten(s) };
            if !out.contains(&a) {
                out.push(a);
            }
        }
    }
    out
}

fn is_stripe_host(url: &reqwest::Url) -> bool {
    url.host_str().is_some_and(|h| h == "stripe.com" || h.ends_with(".stripe.com"))
}

/// Runs the probe. Never fails: what went wrong is in `error`.
pub fn probe(req: &CheckoutRequest) -> CheckoutProbe {
    let mut result = CheckoutProbe {
        url: req.url.clone(),
        method: req.method.as_str().into(),
        environment: req.environment.clone(),
        kind: req.kind,
        status: None,
        redirects: Vec::new(),
        artefacts: Vec::new(),
        error: None,
        remark: None,
    };
    if let Err(e) = run(req, &mut result) {
        result.error = Some(secrets::redact(&e));
    }
    result
}

fn run(req: &CheckoutRequest, result: &mut CheckoutProbe) -> Result<(), String> {
    let mut url = reqwest::Url::parse(&req.url).map_err(|e| format!("{} is not a URL: {e}", req.url))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("{} is not an http(s) URL", req.url));
    }
    if req.method == Method::Post && serde_json::from_str::<serde_json::Value>(&req.body).is_err() {
        return Err("probe_body is not valid JSON; nothing was sent".into());
    }
    let client = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(req.timeout)
        .user_agent(concat!("billguard/", env!("CARGO_PKG_VERSION"), " (checkout probe)"))
        .build()
        .map_err(|e| format!("cannot build an HTTP client: {e}"))?;
    let mut method = req.method;
    let mut seen_text = String::new();
    for hop in 0..=MAX_REDIRECTS {
        let builder = match method {
            Method::Post => client.post(url.clone()).header("content-type", "application/json").body(req.body.clone()),
            Method::Get => client.get(url.clone()),
        };
        let response = builder.send().map_err(|e| describe(&e, &url, req.timeout))?;
        let status = response.status();
        result.status = Some(status.as_u16());
        if status.is_redirection() {
            let Some(loc) = response.headers().get("location").and_then(|v| v.to_str().ok()) else {
                return Err(format!("{url} answered HTTP {} without a Location header", status.as_u16()));
            };
            let next = url.join(loc).map_err(|e| format!("{url} redirected to an invalid Location ({e})"))?;
            result.redirects.push(next.to_string());
            seen_text.push_str(next.as_str());
            seen_text.push('\n');
            if is_stripe_host(&next) {
                break; // the Location names the session or link; Stripe's page is not fetched
            }
            if hop == MAX_REDIRECTS {
                return Err(format!("{} redirected more than {MAX_REDIRECTS} times; stopped at {next}", req.url));
            }
            // Browsers turn a POST into a GET on 301/302/303; 307/308 repeat it.
            if matches!(status.as_u16(), 301..=303) {
                method = Method::Get;
            }
            url = next;
            continue;
        }
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        let body = read_bounded(response)?;
        seen_text.push_str(&String::from_utf8_lossy(&body));
        result.artefacts = find_artefacts(&seen_text);
        if !status.is_success() {
            result.remark = Some(format!("{url} answered HTTP {}", status.as_u16()));
        } else if content_type.contains("html") && result.artefacts.is_empty() && req.method == Method::Post {
            result.remark = Some(format!(
                "{url} answered an HTML page, not a checkout response: is this the API endpoint that creates the session? \
                 Pages that embed payment links can be probed with probe_method = \"GET\""
            ));
        }
        return Ok(());
    }
    result.artefacts = find_artefacts(&seen_text);
    Ok(())
}

fn read_bounded(response: reqwest::blocking::Response) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let mut body = Vec::new();
    response.take(MAX_BODY as u64).read_to_end(&mut body).map_err(|e| format!("reading the response failed: {e}"))?;
    Ok(body)
}

fn describe(e: &reqwest::Error, url: &reqwest::Url, timeout: Duration) -> String {
    if e.is_timeout() {
        format!("no answer from {url} within {} s", timeout.as_secs())
    } else if e.is_connect() {
        format!("connection refused or unreachable at {url}")
    } else {
        format!("request to {url} failed: {e}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_sessions_urls_and_links_with_their_mode() {
        let body = r#"{"id":"cs_test_a1B2c3D4e5F6g7H8","url":"https:\/\/checkout.stripe.com\/c\/pay\/cs_test_a1B2c3D4e5F6g7H8#fid"}"#;
        let found = find_artefacts(body);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found.iter().all(|a| a.mode == "test"));
        assert!(found.iter().any(|a| a.what == "checkout URL"));
        let live = find_artefacts(r#"<a href="https://buy.stripe.com/5kA3fG9hJ">Buy</a> cs_live_Zz9Yy8Xx7Ww6"#);
        assert_eq!(live.iter().map(|a| (a.what.as_str(), a.mode.as_str())).collect::<Vec<_>>(), [("payment link", "live"), ("checkout session", "live")]);
        let test_link = find_artefacts("https://buy.stripe.com/test_5kA3fG9hJ");
        assert_eq!(test_link[0].mode, "test");
        assert!(find_artefacts("<html>no checkout here</html>").is_empty());
    }

    #[test]
    fn bad_urls_and_bodies_are_errors_not_panics() {
        let req = |url: &str, body: &str| CheckoutRequest {
            url: url.into(),
            method: Method::Post,
            body: body.into(),
            timeout: Duration::from_secs(1),
            environment: "production".into(),
            kind: EnvKind::Production,
        };
        assert!(probe(&req("not a url", "{}")).error.unwrap().contains("not a URL"));
        assert!(probe(&req("ftp://example.com/x", "{}")).error.unwrap().contains("http(s)"));
        assert!(probe(&req("http://127.0.0.1:9/x", "{oops")).error.unwrap().contains("not valid JSON"));
    }
}
