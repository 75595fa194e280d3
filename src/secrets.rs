//! Billing secrets: what a string is (provider, kind, mode), how it is shown
//! (redacted), and the guard that keeps secret values out of tool arguments.
//!
//! Nothing here performs I/O. Every string the report layer emits passes
//! through [`redact`], so a key read from an env file, a database URL or an
//! API error message can never reach stdout, an MCP result or a report file.

use std::sync::{OnceLock, RwLock};

use regex::Regex;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    Stripe,
    Paddle,
    LemonSqueezy,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyKind {
    Secret,
    Restricted,
    Publishable,
    WebhookSecret,
    OrganizationKey,
    PaddleApiKey,
    PaddleClientToken,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Test,
    Live,
    /// The string itself does not say (`sk_org_`, `whsec_`, pre-2025 Paddle keys).
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct KeyClass {
    pub provider: Provider,
    pub kind: KeyKind,
    pub mode: Mode,
}

impl KeyClass {
    /// Kinds that must never be shown or shipped to a browser.
    pub fn is_secret(&self) -> bool {
        !matches!(self.kind, KeyKind::Publishable | KeyKind::PaddleClientToken)
    }
}

/// Prefix table for keys whose prefix alone identifies them. Longest prefixes
/// first so that `sk_org_` wins over a generic `sk_` reading.
const PREFIXES: &[(&str, Provider, KeyKind, Mode)] = &[
    ("pdl_live_apikey_", Provider::Paddle, KeyKind::PaddleApiKey, Mode::Live),
    ("pdl_sdbx_apikey_", Provider::Paddle, KeyKind::PaddleApiKey, Mode::Test),
    ("pdl_ntfset_", Provider::Paddle, KeyKind::WebhookSecret, Mode::Unknown),
    ("sk_test_", Provider::Stripe, KeyKind::Secret, Mode::Test),
    ("sk_live_", Provider::Stripe, KeyKind::Secret, Mode::Live),
    ("sk_org_", Provider::Stripe, KeyKind::OrganizationKey, Mode::Unknown),
    ("rk_test_", Provider::Stripe, KeyKind::Restricted, Mode::Test),
    ("rk_live_", Provider::Stripe, KeyKind::Restricted, Mode::Live),
    ("pk_test_", Provider::Stripe, KeyKind::Publishable, Mode::Test),
    ("pk_live_", Provider::Stripe, KeyKind::Publishable, Mode::Live),
    ("whsec_", Provider::Stripe, KeyKind::WebhookSecret, Mode::Unknown),
];

/// Classifies a value by its shape alone.
///
/// Values whose shape is ambiguous without context (a pre-2025 Paddle API key
/// is 50 plain characters; a Paddle client token is `test_…`/`live_…`; a
/// Lemon Squeezy key is a JWT) need the variable name: see [`classify_named`].
pub fn classify(value: &str) -> Option<KeyClass> {
    let value = value.trim();
    PREFIXES.iter().find_map(|(prefix, provider, kind, mode)| {
        let body = value.strip_prefix(prefix)?;
        (!body.is_empty()).then_some(KeyClass { provider: *provider, kind: *kind, mode: *mode })
    })
}

/// Classifies a value using the name of the variable that holds it as a hint.
pub fn classify_named(var_name: &str, value: &str) -> Option<KeyClass> {
    if let Some(class) = classify(value) {
        return Some(class);
    }
    let name = var_name.to_ascii_uppercase();
    let value = value.trim();
    let plain = |v: &str| v.chars().all(|c| c.is_ascii_alphanumeric());
    if name.contains("PADDLE") {
        if let Some(rest) = value.strip_prefix("test_").filter(|r| plain(r) && r.len() >= 16) {
            let _ = rest;
            return Some(KeyClass { provider: Provider::Paddle, kind: KeyKind::PaddleClientToken, mode: Mode::Test });
        }
        if let Some(rest) = value.strip_prefix("live_").filter(|r| plain(r) && r.len() >= 16) {
            let _ = rest;
            return Some(KeyClass { provider: Provider::Paddle, kind: KeyKind::PaddleClientToken, mode: Mode::Live });
        }
        // Paddle API keys issued before 2025-05-06: 50 characters, no mode marker.
        if value.len() == 50 && plain(value) {
            return Some(KeyClass { provider: Provider::Paddle, kind: KeyKind::PaddleApiKey, mode: Mode::Unknown });
        }
    }
    if name.contains("LEMON") && value.starts_with("eyJ") && value.matches('.').count() == 2 {
        return Some(KeyClass { provider: Provider::LemonSqueezy, kind: KeyKind::Secret, mode: Mode::Unknown });
    }
    None
}

fn key_pattern() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(concat!(
            r"(?:pdl_(?:live|sdbx)_apikey_|pdl_ntfset_|sk_org_|(?:sk|rk|pk)_(?:test|live|prod)_|whsec_)",
            r"[A-Za-z0-9_\-+/=]*[A-Za-z0-9]",
        ))
        .expect("static regex")
    })
}

/// `scheme://user:password@` in a URL: the credentials part.
fn url_credentials_pattern() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"([A-Za-z][A-Za-z0-9+.\-]*://)[^/\s@:]*(?::[^/\s@]*)?@").expect("static regex"))
}

/// Secret values learned at run time (a database URL, an old-style Paddle key)
/// that have no recognisable shape. The report layer redacts them too.
fn known_secrets() -> &'static RwLock<Vec<String>> {
    static KNOWN: OnceLock<RwLock<Vec<String>>> = OnceLock::new();
    KNOWN.get_or_init(|| RwLock::new(Vec::new()))
}

/// Registers a value read from a secret source so that it is redacted wherever
/// it later appears. Short values are ignored: redacting "1" everywhere would
/// destroy the report and protects nothing.
pub fn register_secret(value: &str) {
    let value = value.trim();
    if value.len() < 8 {
        return;
    }
    let mut known = known_secrets().write().unwrap_or_else(|e| e.into_inner());
    if !known.iter().any(|k| k == value) {
        known.push(value.to_string());
        // Longest first, so a secret containing another is replaced whole.
        known.sort_by_key(|k| std::cmp::Reverse(k.len()));
    }
}

/// The redacted form of one key: its prefix, an ellipsis, the last four characters.
/// `sk_live_51Hx…a1b2` style fingerprints are enough to tell two keys apart and
/// useless to an attacker. Short bodies lose their tail too.
pub fn fingerprint(key: &str) -> String {
    let prefix = PREFIXES
        .iter()
        .map(|(p, ..)| *p)
        .chain(["sk_prod_", "rk_prod_", "pk_prod_"])
        .find(|p| key.starts_with(p))
        .unwrap_or("");
    let body = &key[prefix.len()..];
    if body.chars().count() >= 12 {
        let tail: String = body.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
        format!("{prefix}…{tail}")
    } else {
        format!("{prefix}…")
    }
}

/// Replaces every secret in `text`: keys by their fingerprint, URL credentials
/// by `…`, and registered secret values by `[redacted]`.
pub fn redact(text: &str) -> String {
    redact_owned(text.to_string())
}

/// [`redact`] for a string the caller gives up: a large report is not copied
/// when it holds nothing to redact.
pub fn redact_owned(mut out: String) -> String {
    {
        let known = known_secrets().read().unwrap_or_else(|e| e.into_inner());
        for secret in known.iter() {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), "[redacted]");
            }
        }
    }
    if key_pattern().is_match(&out) {
        out = key_pattern().replace_all(&out, |c: &regex::Captures| fingerprint(&c[0])).into_owned();
    }
    // Every URL has "://": a plain substring search rules out most texts
    // faster than the pattern, which has no literal to search for.
    if out.contains("://") && url_credentials_pattern().is_match(&out) {
        out = url_credentials_pattern().replace_all(&out, "${1}…@").into_owned();
    }
    out
}

/// Redacts every string (and every object key) inside a JSON value.
pub fn redact_json(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::String(s) => {
            let r = redact(s);
            if r != *s {
                *s = r;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_json),
        Value::Object(map) => {
            let needs_key_change = map.keys().any(|k| redact(k) != *k);
            if needs_key_change {
                let old = std::mem::take(map);
                for (k, mut v) in old {
                    redact_json(&mut v);
                    map.insert(redact(&k), v);
                }
            } else {
                map.values_mut().for_each(redact_json);
            }
        }
        _ => {}
    }
}

/// Refuses a tool argument that carries a secret value instead of naming where
/// the secret lives. Returns the message for the caller.
pub fn refuse_secret_argument(argument: &str, value: &str) -> Result<(), String> {
    if key_pattern().is_match(value) {
        return Err(format!(
            "argument `{argument}` looks like a billing key; billguard never takes secret values as arguments. \
             Put the key in an environment variable and name that variable in billguard.toml \
             (for example `[billing] secret_env = \"STRIPE_SECRET_KEY\"`)."
        ));
    }
    let password_url = url_credentials_pattern()
        .captures_iter(value)
        .any(|c| c[0][c[1].len()..].contains(':'));
    if password_url {
        return Err(format!(
            "argument `{argument}` contains a URL with a password; billguard never takes credentials as arguments. \
             Put the URL in an environment variable and name it in billguard.toml \
             (for example `[database] url_env = \"DATABASE_URL\"`)."
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(prefix: &str) -> String {
        format!("{prefix}4fQ9zXv2Lm8Rt1Yp6Wc3Nb7Ka1b2")
    }

    #[test]
    fn classifies_stripe_keys_by_prefix() {
        let cases = [
            ("sk_test_", KeyKind::Secret, Mode::Test),
            ("sk_live_", KeyKind::Secret, Mode::Live),
            ("rk_test_", KeyKind::Restricted, Mode::Test),
            ("rk_live_", KeyKind::Restricted, Mode::Live),
            ("pk_test_", KeyKind::Publishable, Mode::Test),
            ("pk_live_", KeyKind::Publishable, Mode::Live),
            ("sk_org_", KeyKind::OrganizationKey, Mode::Unknown),
            ("whsec_", KeyKind::WebhookSecret, Mode::Unknown),
        ];
        for (prefix, kind, mode) in cases {
            let c = classify(&k(prefix)).unwrap_or_else(|| panic!("{prefix} unclassified"));
            assert_eq!((c.provider, c.kind, c.mode), (Provider::Stripe, kind, mode), "{prefix}");
        }
        assert!(!classify(&k("pk_live_")).unwrap().is_secret());
        assert!(classify(&k("rk_live_")).unwrap().is_secret());
    }

    #[test]
    fn classifies_paddle_and_lemonsqueezy() {
        let live = classify(&k("pdl_live_apikey_01")).unwrap();
        assert_eq!((live.provider, live.kind, live.mode), (Provider::Paddle, KeyKind::PaddleApiKey, Mode::Live));
        let sandbox = classify(&k("pdl_sdbx_apikey_01")).unwrap();
        assert_eq!(sandbox.mode, Mode::Test);
        let ntf = classify(&k("pdl_ntfset_01")).unwrap();
        assert_eq!((ntf.kind, ntf.mode), (KeyKind::WebhookSecret, Mode::Unknown));
        let old = "a".repeat(25) + &"7".repeat(25);
        assert_eq!(classify(&old), None, "a plain string is not a key without context");
        let old = classify_named("PADDLE_API_KEY", &old).unwrap();
        assert_eq!((old.kind, old.mode), (KeyKind::PaddleApiKey, Mode::Unknown));
        let token = classify_named("NEXT_PUBLIC_PADDLE_CLIENT_TOKEN", "test_9d1c5a7e33b0f2e8c4a6d1b").unwrap();
        assert_eq!((token.kind, token.mode), (KeyKind::PaddleClientToken, Mode::Test));
        assert!(classify_named("TEST_NAME", "test_9d1c5a7e33b0f2e8c4a6d1b").is_none());
        let lemon = classify_named("LEMONSQUEEZY_API_KEY", "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl").unwrap();
        assert_eq!((lemon.provider, lemon.mode), (Provider::LemonSqueezy, Mode::Unknown));
    }

    #[test]
    fn non_keys_are_not_classified() {
        for v in ["", "sk_test_", "task_live_thing", "cus_123", "price_1Pro", "hello"] {
            assert_eq!(classify(v), None, "{v}");
        }
    }

    #[test]
    fn redacts_keys_anywhere_in_text() {
        let key = k("sk_live_");
        let text = format!("key={key}; other=\"{}\"", k("whsec_"));
        let out = redact(&text);
        assert!(!out.contains(&key), "{out}");
        assert!(out.contains("sk_live_…a1b2"), "{out}");
        assert!(out.contains("whsec_…a1b2"), "{out}");
        assert_eq!(redact("sk_test_abc"), "sk_test_…");
        assert_eq!(redact("no secrets here: cus_123 sub_9"), "no secrets here: cus_123 sub_9");
    }

    #[test]
    fn redacts_url_credentials_and_registered_values() {
        assert_eq!(redact("postgres://app:hunter22@db.internal:5432/prod"), "postgres://…@db.internal:5432/prod");
        register_secret("OldPaddleKeyWithoutAnyPrefix0123456789");
        assert_eq!(redact("auth OldPaddleKeyWithoutAnyPrefix0123456789 failed"), "auth [redacted] failed");
    }

    #[test]
    fn redacts_json_strings_and_keys() {
        let key = k("rk_live_");
        let mut v = serde_json::json!({"a": [key.clone()], key.clone(): {"b": format!("x {key}")}});
        redact_json(&mut v);
        let s = v.to_string();
        assert!(!s.contains(&key), "{s}");
        assert!(s.contains("rk_live_…a1b2"));
    }

    #[test]
    fn guard_refuses_secret_arguments() {
        assert!(refuse_secret_argument("config", &k("sk_live_")).is_err());
        assert!(refuse_secret_argument("config", &k("whsec_")).is_err());
        assert!(refuse_secret_argument("config", &k("pdl_live_apikey_")).is_err());
        let err = refuse_secret_argument("fixtures_dir", "postgres://u:p@localhost/db").unwrap_err();
        assert!(err.contains("environment variable"), "{err}");
        assert!(refuse_secret_argument("fixtures_dir", "fixtures/access/leak").is_ok());
        assert!(refuse_secret_argument("config", "https://example.com/billing").is_ok());
        assert!(refuse_secret_argument("config", "postgres://localhost/db").is_ok());
    }
}
