//! KEY007's question: is a name the environment sets a near miss for one the
//! code reads? Edit distance catches typos (STRIPE_SECERT_KEY); shared name
//! parts catch renames (STRIPE_SECRET_KEY for STRIPE_RESTRICTED_KEY); a
//! browser prefix on one side only is a near miss too.

use crate::secrets::KeyClass;

use super::model::strip_browser_prefix;
use super::values::{Expected, expected_kind};

fn parts(name: &str) -> Vec<String> {
    name.to_ascii_uppercase().split('_').filter(|p| !p.is_empty()).map(str::to_string).collect()
}

/// How close `set` is to `wanted`: lower is closer; None when not a near miss.
pub fn distance(wanted: &str, set: &str) -> Option<usize> {
    let (w, wb) = strip_browser_prefix(wanted);
    let (s, sb) = strip_browser_prefix(set);
    let (w, s) = (w.to_ascii_uppercase(), s.to_ascii_uppercase());
    if w == s && wb != sb {
        return Some(0);
    }
    let edit = strsim::damerau_levenshtein(&w, &s);
    if edit <= (w.len().max(s.len()) / 6).clamp(1, 3) {
        return Some(edit);
    }
    let (pw, ps) = (parts(&w), parts(&s));
    let shared = pw.iter().filter(|p| ps.contains(p)).count();
    let union = pw.len() + ps.len() - shared;
    // Same provider word first, same last word (KEY/SECRET/ID), half the parts shared.
    let same_ends = pw.first() == ps.first() && pw.last() == ps.last();
    if same_ends && shared >= 2 && shared * 2 >= union {
        return Some(10 + union - shared);
    }
    // One name is the other with a part left off or added (STRIPE_SECRET for STRIPE_SECRET_KEY,
    // STRIPE_WEBHOOK_SIGNING_SECRET for STRIPE_WEBHOOK_SECRET): same provider word, the shorter's parts all in the longer.
    let (short, long) = if pw.len() <= ps.len() { (&pw, &ps) } else { (&ps, &pw) };
    if pw.first() == ps.first() && short.len() >= 2 && short.iter().all(|p| long.contains(p)) && long.len() - short.len() <= 1 {
        return Some(20 + union - shared);
    }
    None
}

/// Whether a value of this class could be what `wanted` asks for.
fn compatible(wanted: &str, class: Option<KeyClass>) -> bool {
    let (Some(class), Some(expected)) = (class, expected_kind(wanted)) else { return true };
    let is_webhook = class.kind == crate::secrets::KeyKind::WebhookSecret;
    match expected {
        Expected::WebhookSecret => is_webhook,
        Expected::Publishable => !class.is_secret(),
        Expected::Secret => class.is_secret() && !is_webhook,
    }
}

/// The best near miss among `candidates` for `wanted`; `class` tells what a candidate holds.
pub fn best<'a>(wanted: &str, candidates: &[&'a str], class: impl Fn(&str) -> Option<KeyClass>) -> Option<&'a str> {
    candidates
        .iter()
        .filter(|c| compatible(wanted, class(c)))
        .filter_map(|c| distance(wanted, c).map(|d| (d, *c)))
        .min()
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::classify;

    #[test]
    fn near_misses() {
        assert!(distance("STRIPE_RESTRICTED_KEY", "STRIPE_SECRET_KEY").is_some());
        assert!(distance("STRIPE_SECRET_KEY", "STRIPE_SECERT_KEY").is_some());
        assert_eq!(distance("NEXT_PUBLIC_STRIPE_PUBLISHABLE_KEY", "STRIPE_PUBLISHABLE_KEY"), Some(0));
        assert!(distance("STRIPE_SECRET_KEY", "PADDLE_API_KEY").is_none());
        assert!(distance("STRIPE_PRICE_PRO", "STRIPE_WEBHOOK_SECRET").is_none());
        assert!(distance("STRIPE_PRICE_PRO_MONTHLY", "STRIPE_PRICE_TEAM_YEARLY").is_none());
    }

    #[test]
    fn the_value_must_fit_the_wanted_name() {
        let fake = crate::keys::evaluate_tests::fake_key;
        let sk = classify(&fake("sk_live_"));
        let wh = classify(&fake("whsec_"));
        let cands = ["STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SIGNING_SECRET"];
        let class = |n: &str| if n == "STRIPE_SECRET_KEY" { sk } else { wh };
        assert_eq!(best("STRIPE_RESTRICTED_KEY", &cands, class), Some("STRIPE_SECRET_KEY"));
        assert_eq!(best("STRIPE_WEBHOOK_SECRET", &cands, class), Some("STRIPE_WEBHOOK_SIGNING_SECRET"));
        assert_eq!(best("STRIPE_WEBHOOK_SECRET", &["STRIPE_SECRET_KEY"], class), None, "a secret key is no webhook secret");
    }
}
