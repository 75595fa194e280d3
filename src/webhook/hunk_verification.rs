//! Verification rules read from changed lines alone: a webhook route's
//! verifying middleware taken off (WH001) and a failed verification that now
//! falls back to the unverified payload (WH003). Each result is (rule, index
//! of the line in the hunk, message).

use super::Hunk;
use super::hunks::is_comment;

/// How many lines above an added line are read for the `except`/`catch` it sits in.
const CATCH_REACH: usize = 4;

pub fn review(h: &Hunk) -> Vec<(&'static str, usize, String)> {
    let mut out = Vec::new();
    if let Some((at, route)) = route_lost_verifier(h) {
        out.push(("WH001", at, format!("the route `{route}` no longer mounts its signature-verifying middleware: events posted to it are processed unverified")));
    }
    if let Some(at) = falls_back_to_payload(h) {
        let shown: String = h.lines[at].1.trim().chars().take(100).collect();
        out.push(("WH003", at, format!("a failed signature check now goes on with the payload (`{shown}`): forged events are accepted")));
    }
    out
}

fn lower(l: &str) -> String {
    l.to_ascii_lowercase()
}

/// A removed route line naming a webhook path and a verifying middleware
/// (`->middleware('paddle-webhook-signature')`, `verifyStripe,`), whose
/// added version (the same path) names none.
fn route_lost_verifier(h: &Hunk) -> Option<(usize, String)> {
    let verifying = |l: &str| ["signature", "verif", "hmac"].iter().any(|w| lower(l).contains(w));
    let route_of = |l: &str| -> Option<String> {
        let q = l.find(['\'', '"'])?;
        let quote = l[q..].chars().next()?;
        let rest = &l[q + 1..];
        let path = &rest[..rest.find(quote)?];
        // A URL path (`/stripe/webhook`, `paddle/webhook`), or a bare name on a route
        // registration; not a config key (`services.paddle.webhook_secret`).
        let registers = ["post", "route", "match"].iter().any(|w| lower(l).contains(w));
        let url = path.contains('/') || (registers && !path.contains('.'));
        (url && lower(path).contains("webhook")).then(|| path.to_string())
    };
    for (t, removed) in &h.lines {
        if *t != '-' || is_comment(removed) || !verifying(removed) {
            continue;
        }
        let Some(route) = route_of(removed) else { continue };
        let now = h.lines.iter().position(|(t, l)| *t == '+' && route_of(l).as_deref() == Some(route.as_str()));
        if let Some(at) = now.filter(|at| !verifying(&h.lines[*at].1)) {
            return Some((at, route));
        }
    }
    None
}

/// An added line that builds the event from the raw payload inside the branch
/// that handles a failed signature check.
fn falls_back_to_payload(h: &Hunk) -> Option<usize> {
    let parses = |l: &str| {
        let s = lower(l).replace(' ', "");
        ["json.loads(", "json.parse(", "construct_from(", "json_decode(", "jason.decode", "serde_json::from_", "json.unmarshal("].iter().any(|p| s.contains(p))
    };
    let failed_check = |l: &str| {
        let s = lower(l).replace(' ', "");
        (s.contains("signatureverificationerror") || s.contains("invalidsignature") || s.contains("signatureerror"))
            && ["except", "catch", "rescue", "err(", "{:error"].iter().any(|k| s.contains(k))
    };
    (0..h.lines.len()).find(|&at| {
        let (t, l) = &h.lines[at];
        *t == '+' && !is_comment(l) && parses(l) && h.lines[at.saturating_sub(CATCH_REACH)..at].iter().any(|(t, l)| *t != '-' && failed_check(l))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hunk(lines: &[(char, &str)]) -> Hunk {
        Hunk { new_start: 1, section: String::new(), lines: lines.iter().map(|(t, l)| (*t, l.to_string())).collect() }
    }

    #[test]
    fn a_config_key_naming_the_webhook_secret_is_no_route() {
        let h = hunk(&[
            ('-', "        if (! (new Verifier())->verify($request, new Secret(config('services.paddle.webhook_secret')))) {"),
            ('+', "        $secret = new Secret(config('services.paddle.webhook_secret'));"),
            ('+', "        if (! (new Verifier())->verify($request, $secret)) {"),
        ]);
        assert!(review(&h).is_empty(), "{:?}", review(&h));
    }

    #[test]
    fn a_route_that_loses_its_verifying_middleware_is_wh001() {
        let laravel = hunk(&[
            ('-', "Route::post('webhook/paddle', 'PaddleWebhook@handler')->middleware('paddle-webhook-signature');"),
            ('+', "Route::post('webhook/paddle', 'PaddleWebhook@handler');"),
        ]);
        assert_eq!(review(&laravel).iter().map(|r| r.0).collect::<Vec<_>>(), ["WH001"]);
        let express = hunk(&[('-', "router.post('/webhooks/stripe', verifyStripeSignature, handler);"), ('+', "router.post('/webhooks/stripe', rateLimit, verifyStripeSignature, handler);")]);
        assert!(review(&express).is_empty(), "still mounted");
        let other = hunk(&[('-', "Route::post('login', 'Auth@login')->middleware('verified');"), ('+', "Route::post('login', 'Auth@login');")]);
        assert!(review(&other).is_empty(), "not a webhook route");
    }

    #[test]
    fn a_failed_signature_check_that_falls_back_to_the_payload_is_wh003() {
        let py = hunk(&[
            (' ', "    except stripe.SignatureVerificationError:"),
            (' ', "        logger.exception(\"Invalid signature\")"),
            ('-', "        return \"invalid_signature\""),
            ('+', "        return stripe.Event.construct_from("),
            ('+', "            json.loads(payload), endpoint_secret"),
        ]);
        assert_eq!(review(&py).iter().map(|r| r.0).collect::<Vec<_>>(), ["WH003"]);
        let elsewhere = hunk(&[(' ', "    data = request.get_data()"), ('+', "    meta = json.loads(data)")]);
        assert!(review(&elsewhere).is_empty());
    }
}
