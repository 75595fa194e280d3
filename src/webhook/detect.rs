//! Which changed files are webhook handlers: configured paths (globs), or
//! files that carry a handler's marks (billing SDK import, signature header,
//! event type strings, a webhook route).

use super::vocab::is_event_type;

/// Whether `path` matches a glob with `**` (any directories), `*` and `?`.
pub fn glob_match(pattern: &str, path: &str) -> bool {
    fn rec(p: &[u8], s: &[u8]) -> bool {
        match p.first() {
            None => s.is_empty(),
            Some(b'*') if p.get(1) == Some(&b'*') => {
                let rest = if p.get(2) == Some(&b'/') { &p[3..] } else { &p[2..] };
                if rest.is_empty() {
                    return true;
                }
                (0..=s.len()).any(|i| (i == 0 || s[i - 1] == b'/') && rec(rest, &s[i..])) || rec(rest, s)
            }
            Some(b'*') => (0..=s.len()).take_while(|&i| i == 0 || s[i - 1] != b'/').any(|i| rec(&p[1..], &s[i..])),
            Some(b'?') => !s.is_empty() && s[0] != b'/' && rec(&p[1..], &s[1..]),
            Some(c) => s.first() == Some(c) && rec(&p[1..], &s[1..]),
        }
    }
    let pattern = pattern.trim_start_matches("./");
    rec(pattern.as_bytes(), path.as_bytes()) || (!pattern.contains('*') && path.starts_with(pattern.trim_end_matches('/')))
}

/// Quoted event-type strings in the text (`'customer.subscription.deleted'`).
pub fn event_strings(text: &str) -> usize {
    quoted_events(text).count()
}

fn quoted_events(text: &str) -> impl Iterator<Item = &str> {
    ['\'', '"', '`'].into_iter().flat_map(move |quote| {
        text.split(quote).enumerate().filter(|(i, piece)| i % 2 == 1 && piece.len() < 80 && is_event_type(piece)).map(|(_, piece)| piece)
    })
}

/// The distinct event types the text quotes.
pub fn named_events(text: &str) -> std::collections::BTreeSet<&str> {
    quoted_events(text).collect()
}

/// Events named by payload types a route extracts (`Json<SubscriptionCanceledPayload>`,
/// `web::Json<InvoicePaidEvent>`): one route per event, its type saying which.
pub fn payload_type_events(text: &str) -> impl Iterator<Item = &'static str> + '_ {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).filter_map(|w| {
        let stem = ["Payload", "Notification", "Event"].iter().find_map(|s| w.strip_suffix(s))?;
        (stem.len() > 6 && stem.starts_with(|c: char| c.is_ascii_uppercase())).then(|| super::vocab::event_from_name(stem)).flatten()
    })
}

/// Does this file look like a billing webhook handler?
pub fn looks_like_handler(path: &str, text: &str) -> bool {
    if crate::paths::is_own_output(path) || crate::paths::is_test_path(path) {
        return false;
    }
    let lower_path = path.to_ascii_lowercase();
    let in_webhook_path = ["webhook", "stripe", "billing", "paddle", "lemonsqueezy", "payments/"].iter().any(|w| lower_path.contains(w));
    let sdk = crate::billing_sdk::uses_billing_sdk(text);
    let lower = text.to_ascii_lowercase();
    // `alert_name` and `p_signature`: Paddle Classic's event field and form-field signature.
    let signature = ["stripe-signature", "stripe_signature", "paddle-signature", "x-signature", "constructevent", "construct_event", "webhook", "p_signature", "alert_name"]
        .iter()
        .any(|m| lower.contains(m));
    // SDK constants (`stripe.EventTypeInvoicePaid`, `EventType::InvoicePaid`) and Cashier methods count as event types.
    // Paddle's Go SDK types name the event a body is decoded into (`paddlenotification.SubscriptionCanceled`).
    let events = event_strings(text)
        + text.matches("EventType").count()
        + usize::from(text.contains("function handleCustomerSubscription"))
        + usize::from(text.contains("paddlenotification."))
        // Django signal receivers named for Paddle Classic alerts (`@receiver(subscription_cancelled)`).
        + super::vocab::SNAKE_EVENTS.iter().filter(|e| text.contains(&format!("@receiver({e})"))).count()
        + usize::from(text.contains("Json<") && payload_type_events(text).next().is_some());
    // A Cashier event listener: `handle(SubscriptionCreated $event)` with the class from Cashier's events.
    let cashier_listener = (text.contains("Laravel\\Paddle\\Events\\") || text.contains("Laravel\\Cashier\\Events\\")) && text.contains("function handle(");
    // Paddle Classic names its event `alert_name` (`getattr(signals, payload['alert_name'])`).
    let names_events = lower.contains("event") || lower.contains("alert_name");
    (events > 0 && (sdk || signature || in_webhook_path)) || (signature && (sdk || in_webhook_path) && names_events) || cashier_listener
}

/// A file that may hand a webhook request to a handler in another file: it names a
/// webhook (`exports.stripeWebhook = onRequest(..)`, `router.post('/webhook', ..)`) and
/// passes a request on (`stripeService.webhook(request)`). Only a first filter: the file
/// is reviewed as a handler when the call, followed, tells events apart.
pub fn may_route_to_handler(path: &str, text: &str) -> bool {
    if crate::paths::is_own_output(path) || crate::paths::is_test_path(path) {
        return false;
    }
    let lower = text.to_ascii_lowercase();
    lower.contains("webhook") && ["(request)", "(req)", "(request,", "(req,", "(ctx)", "(context)"].iter().any(|a| lower.contains(a))
}

/// A changed source file that names billing events (two or more) but carries none of a
/// handler's other marks: it may handle them in a shape billguard does not know, so it is
/// named as not examined rather than passed. The reason, when so.
pub fn unrecognised_billing_file(path: &str, text: &str) -> Option<String> {
    if crate::paths::is_own_output(path) || crate::paths::is_test_path(path) || super::lang::Language::of_path(path).is_none() {
        return None;
    }
    let events = named_events(text);
    if events.len() < 2 {
        return None;
    }
    let shown: Vec<&str> = events.iter().take(3).copied().collect();
    Some(format!(
        "{path}: names billing events ({}{}) but does not look like a webhook handler (no signature check, billing SDK or webhook path), so it was not reviewed as one; if it handles webhooks, set [webhook] paths in billguard.toml",
        shown.join(", "),
        if events.len() > 3 { ", ..." } else { "" }
    ))
}

/// The language of a source file billguard does not parse, when the path is one
/// (a handler there cannot be reviewed and must be named as such).
pub fn foreign_source(path: &str) -> Option<&'static str> {
    let ext = path.rsplit_once('.')?.1.to_ascii_lowercase();
    Some(match ext.as_str() {
        "java" => "Java",
        "kt" | "kts" => "Kotlin",
        "cs" => "C#",
        "scala" => "Scala",
        "swift" => "Swift",
        "dart" => "Dart",
        "groovy" => "Groovy",
        "clj" | "cljs" => "Clojure",
        "cr" => "Crystal",
        "fs" => "F#",
        "vb" => "Visual Basic",
        "lua" => "Lua",
        "pl" | "pm" => "Perl",
        "erl" => "Erlang",
        "gleam" => "Gleam",
        "zig" => "Zig",
        "nim" => "Nim",
        "hs" => "Haskell",
        "svelte" | "vue" | "astro" => "a component file",
        _ => return None,
    })
}


/// Whether a path names billing code (`lib/payments/stripe.ts`, `app/services/billing/…`).
pub fn billing_path(path: &str) -> bool {
    let p = path.to_ascii_lowercase();
    ["stripe", "paddle", "billing", "payment", "subscription", "checkout", "webhook", "lemonsqueezy", "cashier"].iter().any(|w| p.contains(w))
}

/// Whether a path by itself names a billing webhook (`api/webhooks/stripe.ts`,
/// `billing/webhook_controller.rb`): a webhook folder or file and a billing word.
pub fn billing_webhook_path(path: &str) -> bool {
    let p = path.to_ascii_lowercase();
    p.contains("webhook") && ["stripe", "paddle", "billing", "payment", "subscription", "checkout", "lemonsqueezy", "cashier"].iter().any(|w| p.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("app/api/**/webhook/**", "app/api/stripe/webhook/route.ts"));
        assert!(glob_match("app/api/**/webhook/**", "app/api/webhook/route.ts"));
        assert!(glob_match("src/*.py", "src/hooks.py"));
        assert!(!glob_match("src/*.py", "src/a/hooks.py"));
        assert!(glob_match("src/billing", "src/billing/webhooks.py"));
        assert!(!glob_match("src/billing", "lib/billing.py"));
    }

    #[test]
    fn detects_handlers() {
        let ts = "import Stripe from 'stripe';\nswitch (event.type) { case 'checkout.session.completed': break }";
        assert!(looks_like_handler("app/api/pay/route.ts", ts));
        assert!(!looks_like_handler("src/util.ts", "export const add = (a, b) => a + b;"));
        assert!(!looks_like_handler(".billguard/app/api/pay/route.ts", ts), "billguard's own folder holds no handler");
        for test in ["spec/requests/stripe_webhooks_spec.rb", "app/api/pay/route.test.ts", "src/__tests__/route.ts", "billing/test_webhooks.py", "internal/billing/handler_test.go"] {
            assert!(!looks_like_handler(test, ts), "{test} is a test");
        }
        assert!(looks_like_handler("hooks.py", "if event['type'] == 'invoice.paid':\n  pass\nimport stripe"));
        assert!(looks_like_handler("internal/billing/handler.go", "import \"github.com/stripe/stripe-go/v82\"\nswitch event.Type { case stripe.EventTypeInvoicePaid: }"));
        assert!(looks_like_handler("src/routes.rs", "use stripe::{EventType, Webhook};\nmatch event.type_ { EventType::InvoicePaid => {} _ => {} }"));
    }
}
