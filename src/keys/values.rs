//! What a variable's name and value mean, beyond the key prefix: placeholders,
//! mode switches, safety switches, and the kind of key a name asks for.
//! Pure functions; the rules in [`super::evaluate`] build on them.

use crate::secrets::{self, KeyClass, KeyKind, Mode};

use super::model::strip_browser_prefix;

/// Stripe's public documentation keys: they appear in tutorials and repos,
/// and they are never anyone's real key.
const DOC_KEYS: &[&str] = &[
    "sk_test_4eC39HqLyjWDarjtT1zdp7dc",
    "sk_test_BQokikJOvBiI2HlWgH4olfQ2",
    "pk_test_TYooMQauvdEDq54NiTphI7jx",
    "pk_test_6pRNASCoBOKtIshFeQd4XMUh",
];

/// Words that mark a value as a stand-in (matched inside digit-free words, so
/// that a random key body cannot match by chance).
const PLACEHOLDER_WORDS: &[&str] = &[
    "xxx", "your", "here", "replace", "example", "placeholder", "dummy", "changeme", "todo", "fake", "sample", "insert",
    "redacted", "secret", "key",
];

/// Characters no real key contains.
const PLACEHOLDER_MARKS: &[&str] = &["...", "…", "<", ">", "{{", "***"];

const KEY_PREFIXES: &[&str] = &[
    "sk_test_", "sk_live_", "rk_test_", "rk_live_", "pk_test_", "pk_live_", "whsec_", "sk_org_", "pdl_live_apikey_",
    "pdl_sdbx_apikey_", "pdl_ntfset_", "price_",
];

/// Whether a value is a placeholder or a documentation sample rather than a real key.
pub fn is_placeholder(value: &str) -> bool {
    let v = value.trim();
    if v.is_empty() {
        return false;
    }
    if DOC_KEYS.contains(&v) {
        return true;
    }
    let lower = v.to_ascii_lowercase();
    let (prefix, body) = match KEY_PREFIXES.iter().find(|p| lower.starts_with(*p)) {
        Some(p) => (*p, &lower[p.len()..]),
        None => ("", lower.as_str()),
    };
    if PLACEHOLDER_MARKS.iter().any(|m| body.contains(m)) {
        return true;
    }
    let wordy = body
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.chars().any(|c| c.is_ascii_digit()))
        .any(|w| PLACEHOLDER_WORDS.iter().any(|p| w.contains(p)) || w == "me");
    if wordy && (prefix.is_empty() || body.len() < 40 || body.contains('_') || body.contains('-')) {
        return true;
    }
    let first = body.chars().next();
    if body.len() >= 3 && body.chars().all(|c| Some(c) == first) {
        return true; // sk_test_0000000000, xxxxxxxx
    }
    // Real keys and signing secrets carry 24+ random characters; a short body
    // after a key prefix is a stand-in. Price ids may be short (price_pro).
    !prefix.is_empty() && prefix != "price_" && body.len() < 12
}

/// What a mode switch says: STRIPE_MODE=live, PADDLE_ENVIRONMENT=sandbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SwitchScope {
    Stripe,
    Paddle,
    /// BILLING_MODE and the like: every provider's keys.
    All,
}

/// The scope and mode of a mode-switch variable, if this is one with a known value.
pub fn mode_switch(name: &str, value: &str) -> Option<(SwitchScope, Mode)> {
    let (stripped, _) = strip_browser_prefix(name);
    let scope = match stripped.to_ascii_uppercase().as_str() {
        "STRIPE_MODE" | "STRIPE_ENV" | "STRIPE_ENVIRONMENT" => SwitchScope::Stripe,
        "PADDLE_ENVIRONMENT" | "PADDLE_ENV" | "PADDLE_MODE" => SwitchScope::Paddle,
        "BILLING_MODE" | "BILLING_ENV" | "BILLING_ENVIRONMENT" | "PAYMENT_MODE" | "PAYMENTS_MODE" => SwitchScope::All,
        _ => return None,
    };
    let mode = match value.trim().to_ascii_lowercase().as_str() {
        "live" | "production" | "prod" => Mode::Live,
        "test" | "testing" | "sandbox" | "development" | "dev" => Mode::Test,
        _ => return None,
    };
    Some((scope, mode))
}

impl SwitchScope {
    pub fn covers(self, class: &KeyClass) -> bool {
        match self {
            SwitchScope::Stripe => class.provider == secrets::Provider::Stripe,
            SwitchScope::Paddle => class.provider == secrets::Provider::Paddle,
            SwitchScope::All => true,
        }
    }
}

fn truthy(v: &str) -> bool {
    matches!(v.trim().to_ascii_lowercase().as_str(), "1" | "true" | "yes" | "on" | "y" | "enabled")
}

fn falsy(v: &str) -> bool {
    matches!(v.trim().to_ascii_lowercase().as_str(), "0" | "false" | "no" | "off" | "n" | "disabled")
}

const NEGATIONS: &[&str] = &["DISABLE", "DISABLED", "SKIP", "BYPASS", "IGNORE", "INSECURE", "NO", "UNSAFE", "DANGEROUSLY", "OFF", "ALLOW"];
const SAFEGUARDS: &[&str] = &[
    "AUTH", "AUTHENTICATION", "AUTHORIZATION", "VERIFY", "VERIFICATION", "SIGNATURE", "SIGNATURES", "WEBHOOK", "CSRF",
    "SSL", "TLS", "PAYWALL", "BILLING", "PAYMENT", "PAYMENTS", "SECURITY", "LOGIN", "ACCESS", "UNSIGNED", "RATE", "LIMIT",
];

/// Whether `NAME=value` switches a safeguard off: DISABLE_AUTH=true,
/// SKIP_WEBHOOK_VERIFICATION=1, VERIFY_WEBHOOK_SIGNATURE=false,
/// NODE_TLS_REJECT_UNAUTHORIZED=0.
pub fn disables_safeguard(name: &str, value: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    if upper == "NODE_TLS_REJECT_UNAUTHORIZED" {
        return value.trim() == "0";
    }
    let words: Vec<&str> = upper.split('_').filter(|w| !w.is_empty()).collect();
    let guarded = words.iter().any(|w| SAFEGUARDS.contains(w));
    if !guarded {
        return false;
    }
    let negated = words.iter().any(|w| NEGATIONS.contains(w));
    if negated {
        return truthy(value);
    }
    // A positive switch (VERIFY_WEBHOOK_SIGNATURE, AUTH_ENABLED, REQUIRE_AUTH) turned off.
    let positive = words.iter().any(|w| matches!(*w, "VERIFY" | "ENABLED" | "ENABLE" | "REQUIRE" | "REQUIRED" | "ENFORCE"));
    positive && falsy(value)
}

/// The kind of key a variable's name asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected {
    Secret,
    Publishable,
    WebhookSecret,
}

/// What the name says the variable holds (browser prefix aside).
pub fn expected_kind(name: &str) -> Option<Expected> {
    let (stripped, _) = strip_browser_prefix(name);
    let upper = stripped.to_ascii_uppercase();
    // Plurals and run-together spellings name the same thing: WEBHOOKS, KEYS, SECRETS, WEBHOOKSECRET.
    let words: Vec<&str> = upper
        .split('_')
        .flat_map(|w| match w {
            "WEBHOOKSECRET" | "WEBHOOKSSECRET" => vec!["WEBHOOK", "SECRET"],
            "SECRETKEY" => vec!["SECRET", "KEY"],
            "PUBLISHABLEKEY" | "PUBKEY" => vec!["PUBLISHABLE", "KEY"],
            "APIKEY" => vec!["API", "KEY"],
            _ => vec![w.strip_suffix('S').filter(|s| ["WEBHOOK", "KEY", "SECRET", "TOKEN", "ENDPOINT"].contains(s)).unwrap_or(w)],
        })
        .collect();
    let has = |w: &str| words.contains(&w);
    if has("WEBHOOK") || has("WH") || has("WHSEC") || has("SIGNING") || ((has("ENDPOINT") || has("SIGN")) && has("SECRET")) {
        return Some(Expected::WebhookSecret);
    }
    if has("PUBLISHABLE") || has("PK") || (has("PUBLIC") && has("KEY")) || (has("CLIENT") && has("TOKEN")) {
        return Some(Expected::Publishable);
    }
    if has("SECRET") || has("RESTRICTED") || has("SK") || has("RK") || has("PRIVATE") || (has("API") && has("KEY")) {
        return Some(Expected::Secret);
    }
    None
}

/// Why a value of this class does not belong in this variable, if it does not.
pub fn misfiled(name: &str, class: &KeyClass) -> Option<String> {
    let (_, browser) = strip_browser_prefix(name);
    let what = kind_label(class.kind);
    if browser && class.is_secret() {
        return Some(format!(
            "{name} is exposed to the browser (its prefix makes the bundler inline it) but holds a {what}"
        ));
    }
    match expected_kind(name)? {
        Expected::WebhookSecret if class.kind != KeyKind::WebhookSecret => {
            Some(format!("{name} names a webhook signing secret but holds a {what}"))
        }
        Expected::Publishable if class.is_secret() => Some(format!("{name} names a publishable key but holds a {what}")),
        Expected::Secret if matches!(class.kind, KeyKind::Publishable | KeyKind::PaddleClientToken | KeyKind::WebhookSecret) => {
            Some(format!("{name} names a secret API key but holds a {what}"))
        }
        _ => None,
    }
}

pub fn kind_label(kind: KeyKind) -> &'static str {
    match kind {
        KeyKind::Secret => "secret key",
        KeyKind::Restricted => "restricted key",
        KeyKind::Publishable => "publishable key",
        KeyKind::WebhookSecret => "webhook signing secret",
        KeyKind::OrganizationKey => "organization key",
        KeyKind::PaddleApiKey => "Paddle API key",
        KeyKind::PaddleClientToken => "Paddle client-side token",
    }
}

pub fn kind_name(kind: KeyKind) -> &'static str {
    match kind {
        KeyKind::Secret => "secret",
        KeyKind::Restricted => "restricted",
        KeyKind::Publishable => "publishable",
        KeyKind::WebhookSecret => "webhook_secret",
        KeyKind::OrganizationKey => "organization_key",
        KeyKind::PaddleApiKey => "paddle_api_key",
        KeyKind::PaddleClientToken => "paddle_client_token",
    }
}

pub fn mode_name(mode: Mode) -> &'static str {
    match mode {
        Mode::Test => "test",
        Mode::Live => "live",
        Mode::Unknown => "unknown",
    }
}

/// Live secret = `sk_live_`, `rk_live_`, `pdl_live_apikey_` (KEY003, KEY004).
pub fn is_live_secret(class: &KeyClass) -> bool {
    class.mode == Mode::Live && matches!(class.kind, KeyKind::Secret | KeyKind::Restricted | KeyKind::PaddleApiKey)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_and_doc_keys() {
        for v in [
            "sk_test_xxx",
            "sk_live_XXXXXXXXXXXXXXXXXXXXXXXX",
            "sk_test_your_key_here",
            "pk_test_...",
            "sk_test_123",
            "whsec_replace_me",
            "changeme",
            "<your-stripe-key>",
            "sk_test_4eC39HqLyjWDarjtT1zdp7dc",
            "pk_test_TYooMQauvdEDq54NiTphI7jx",
            "price_xxx",
            "sk_test_0000000000000000000000",
        ] {
            assert!(is_placeholder(v), "{v}");
        }
        for v in ["sk_test_51Hq2dLm8Rt1Yp6Wc3Nb7Ka9Zx0Vb4Nm", "whsec_9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c", "price_1ProMonthly", "live", ""] {
            assert!(!is_placeholder(v), "{v}");
        }
    }

    #[test]
    fn mode_switches() {
        assert_eq!(mode_switch("STRIPE_MODE", "Live"), Some((SwitchScope::Stripe, Mode::Live)));
        assert_eq!(mode_switch("NEXT_PUBLIC_PADDLE_ENVIRONMENT", "sandbox"), Some((SwitchScope::Paddle, Mode::Test)));
        assert_eq!(mode_switch("BILLING_MODE", "production"), Some((SwitchScope::All, Mode::Live)));
        assert_eq!(mode_switch("STRIPE_MODE", "banana"), None);
        assert_eq!(mode_switch("NODE_ENV", "production"), None);
    }

    #[test]
    fn safety_switches() {
        for (n, v) in [
            ("DISABLE_AUTH", "true"),
            ("SKIP_AUTH", "1"),
            ("AUTH_DISABLED", "yes"),
            ("SKIP_WEBHOOK_VERIFICATION", "true"),
            ("STRIPE_SKIP_SIGNATURE_CHECK", "on"),
            ("VERIFY_WEBHOOK_SIGNATURE", "false"),
            ("AUTH_ENABLED", "0"),
            ("NODE_TLS_REJECT_UNAUTHORIZED", "0"),
            ("BYPASS_PAYWALL", "true"),
        ] {
            assert!(disables_safeguard(n, v), "{n}={v}");
        }
        for (n, v) in [
            ("DISABLE_AUTH", "false"),
            ("SKIP_AUTH", "0"),
            ("VERIFY_WEBHOOK_SIGNATURE", "true"),
            ("DISABLE_ANALYTICS", "true"),
            ("NODE_TLS_REJECT_UNAUTHORIZED", "1"),
            ("AUTH_SECRET", "true"),
        ] {
            assert!(!disables_safeguard(n, v), "{n}={v}");
        }
    }

    #[test]
    fn misfiled_keys() {
        let c = |v: &str| secrets::classify(v).unwrap();
        let fake = crate::keys::evaluate_tests::fake_key;
        let sk = c(&fake("sk_live_"));
        let pk = c(&fake("pk_live_"));
        let wh = c(&fake("whsec_"));
        assert!(misfiled("NEXT_PUBLIC_STRIPE_KEY", &sk).unwrap().contains("browser"));
        assert!(misfiled("VITE_STRIPE_SECRET_KEY", &sk).is_some());
        assert!(misfiled("STRIPE_WEBHOOK_SECRET", &sk).unwrap().contains("webhook"));
        assert!(misfiled("STRIPE_SECRET_KEY", &pk).unwrap().contains("secret API key"));
        assert!(misfiled("STRIPE_SECRET_KEY", &wh).is_some());
        assert!(misfiled("STRIPE_PUBLISHABLE_KEY", &sk).is_some());
        assert_eq!(misfiled("NEXT_PUBLIC_STRIPE_PUBLISHABLE_KEY", &pk), None);
        assert_eq!(misfiled("STRIPE_SECRET_KEY", &sk), None);
        assert_eq!(misfiled("STRIPE_WEBHOOK_SECRET", &wh), None);
        assert_eq!(misfiled("STRIPE_KEY", &sk), None, "a vague name is not judged");
    }
}
