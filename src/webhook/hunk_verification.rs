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
    if let Some(at) = verification_made_optional(h) {
        let shown: String = h.lines[at].1.trim().chars().take(100).collect();
        out.push(("WH003", at, format!("the signature is now checked only when a secret or key is configured (`{shown}`): without one, events are processed unverified")));
    }
    if let Some(at) = check_skipped_without_key(h) {
        let shown: String = h.lines[at].1.trim().chars().take(100).collect();
        out.push(("WH003", at, format!("the signature check now returns early, passing the request on, when no key or secret is configured (`{shown}`): without one, events are processed unverified")));
    }
    if let Some(at) = failure_goes_on(h) {
        let shown: String = h.lines[at].1.trim().chars().take(100).collect();
        out.push(("WH003", at, format!("the branch for a failed signature check no longer stops the request (`{shown}`): forged events reach the handler")));
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

/// A signature check that verified unconditionally before (a removed line verifies)
/// and now runs only when a secret or key is set: `if (!empty($secret) &&
/// !$this->isValidSignature(...))`, or `if (!config.publicKey) { warn } else if
/// (!verify(req)) { ... }` whose first branch does not stop.
fn verification_made_optional(h: &Hunk) -> Option<usize> {
    // Where on a (lower-cased) line the verifying call starts, if it has one.
    let verify_at = |s: &str| ["signature(", "signature?(", "signature_is_valid(", "verif", "constructevent", "construct_event", "hmac"].iter().filter_map(|w| s.find(w)).min();
    let verifies = |l: &str| verify_at(&lower(l)).is_some();
    let names_secret = |s: &str| s.contains("secret") || s.contains("key");
    if !h.lines.iter().any(|(t, l)| *t == '-' && !is_comment(l) && verifies(l)) {
        return None;
    }
    for (i, (t, l)) in h.lines.iter().enumerate() {
        if *t != '+' || is_comment(l) {
            continue;
        }
        let s = lower(l.trim());
        let is_if = s.starts_with("if") || s.starts_with("} else if") || s.starts_with("elif") || s.starts_with("unless");
        if !is_if {
            continue;
        }
        // `if (secret && !verify(...))`: the presence test comes first and short-circuits.
        if let Some(at) = verify_at(&s) {
            let before = &s[..at];
            if (before.contains("&&") || before.contains(" and ")) && names_secret(before) {
                return Some(i);
            }
            continue;
        }
        // `if (!key) { warn } else if (!verify(...))`: the branch taken without a key goes on.
        let absent = ["!", "not ", "empty(", "blank", "nil?", "is none", "== null", "=== undefined", "unless "].iter().any(|k| s.contains(k));
        if !(absent && names_secret(&s)) {
            continue;
        }
        let rest: Vec<&str> = h.lines[i + 1..].iter().take_while(|(t, _)| *t != '-').map(|(_, l)| l.trim()).take(6).collect();
        let Some(k) = rest.iter().position(|l| lower(l).contains("else") && verifies(l)) else { continue };
        let stops = rest[..k].iter().any(|l| {
            let l = lower(l);
            ["return", "throw", "raise", "abort", "halt", "exit", "die("].iter().any(|w| l.starts_with(w) || l.contains(&format!(" {w}")))
        });
        if !stops {
            return Some(i);
        }
    }
    None
}

/// An added early return at the top of a verifying filter that passes the request on
/// when no key is configured: Ruby `return if public_key_pem.blank?` in a
/// `before_action :verify_webhook`, Python `if not settings.KEY:` / `return`. The
/// enclosing definition, seen in the hunk, names the check. The index of the return.
fn check_skipped_without_key(h: &Hunk) -> Option<usize> {
    let names_key = |s: &str| s.contains("secret") || s.contains("key");
    let absent = |s: &str| ["blank?", "nil?", "empty?", "!", "not ", "unless ", "empty(", "is none", "== null", "=== undefined", "== nil"].iter().any(|k| s.contains(k));
    // What the return gives back lets the request go on: nothing, `true`, `next()`.
    let passes = |s: &str| {
        let value = s.trim_start_matches("return");
        let value = value.split(" if ").next().unwrap_or(value).split(" unless ").next().unwrap_or(value).trim().trim_end_matches(';');
        matches!(value, "" | "true" | "next()" | "none" | "nil" | "conn" | "null")
    };
    let in_check = |at: usize| {
        h.lines[..at].iter().rev().filter(|(t, _)| *t != '-').find(|(_, l)| super::hunks::defined_name(l).is_some()).is_some_and(|(_, l)| {
            let name = lower(super::hunks::defined_name(l).unwrap_or(""));
            name.contains("verif") || name.contains("signature")
        })
    };
    for (i, (t, l)) in h.lines.iter().enumerate() {
        if *t != '+' || is_comment(l) {
            continue;
        }
        let s = lower(l.trim());
        // `return if key.blank?` (one line), or `if not key:` followed by a bare return.
        let one_line = s.starts_with("return") && (s.contains(" if ") || s.contains(" unless ")) && names_key(&s) && absent(&s) && passes(&s);
        let two_lines = (s.starts_with("if ") || s.starts_with("if(") || s.starts_with("unless ")) && names_key(&s) && absent(&s)
            && h.lines.get(i + 1).is_some_and(|(t, n)| *t == '+' && lower(n.trim()).starts_with("return") && passes(&lower(n.trim())));
        if (one_line || two_lines) && in_check(i) {
            return Some(if two_lines { i + 1 } else { i });
        }
    }
    None
}

/// How many lines above a changed block a verifying call is looked for.
const CHECK_REACH: usize = 12;

/// A block of changes, below a signature check, whose removed lines stopped the
/// request (`halt()`, a 401, a raise) and whose added lines only log and pass it on
/// (`conn`, `next()`, `pass`): the failure branch of a plug or middleware now lets
/// the forged event through. The index of the first added line.
fn failure_goes_on(h: &Hunk) -> Option<usize> {
    let stops = |l: &str| {
        let s = lower(l);
        super::hunks::answers_error(l) || ["halt()", "halt(conn)", "abort(", "send_resp(conn, 4", "unauthorized", "forbidden"].iter().any(|k| s.contains(k))
    };
    let passes_on = |l: &str| {
        let t = l.trim().trim_end_matches([';', ',']);
        super::hunks::is_logging(l)
            || matches!(t, "conn" | "next()" | "return next()" | "pass" | "nil" | ":ok" | "{:ok, conn}" | "return" | "end" | "}" | "")
            || t.ends_with("->")
    };
    let mut i = 0;
    while i < h.lines.len() {
        if h.lines[i].0 == ' ' {
            i += 1;
            continue;
        }
        let change_end = |from: usize| h.lines[from..].iter().position(|(t, _)| *t == ' ').map_or(h.lines.len(), |p| from + p);
        let mut end = change_end(i);
        // Blocks apart by lines that only pass the request on (`conn` kept between a
        // reworded `error ->` and a removed `|> halt()`) are one branch.
        loop {
            let next = h.lines[end..].iter().position(|(t, _)| *t != ' ').map_or(h.lines.len(), |p| end + p);
            if next == h.lines.len() || next == end || !h.lines[end..next].iter().all(|(_, l)| passes_on(l) && !matches!(l.trim(), "end" | "}")) {
                break;
            }
            end = change_end(next);
        }
        let block = &h.lines[i..end];
        let removed_stop = block.iter().any(|(t, l)| *t == '-' && !is_comment(l) && stops(l));
        let added: Vec<usize> = (i..end).filter(|&k| h.lines[k].0 == '+' && !is_comment(&h.lines[k].1)).collect();
        let only_passes = !added.is_empty() && added.iter().all(|&k| passes_on(&h.lines[k].1));
        let checked_above = h.lines[i.saturating_sub(CHECK_REACH)..i].iter().any(|(t, l)| *t != '+' && !is_comment(l) && super::hunks::verifies(l));
        if removed_stop && only_passes && checked_above {
            return added.first().copied();
        }
        i = end;
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
    fn a_verifying_filter_that_returns_early_without_a_key_is_wh003() {
        let rb = hunk(&[
            (' ', "  def verify_webhook"),
            ('+', "    return if public_key_pem.blank?"),
            ('+', ""),
            (' ', "    signature = Base64.decode64(params[\"p_signature\"])"),
        ]);
        assert_eq!(review(&rb).iter().map(|r| r.0).collect::<Vec<_>>(), ["WH003"]);
        let py = hunk(&[
            (' ', "def verify_signature(request):"),
            ('+', "    if not settings.PADDLE_PUBLIC_KEY:"),
            ('+', "        return"),
            (' ', "    signature = request.POST['p_signature']"),
        ]);
        assert_eq!(review(&py).iter().map(|r| r.0).collect::<Vec<_>>(), ["WH003"]);
        // Quiet: the missing key now refuses the request, or the return is in another function.
        let refuses = hunk(&[(' ', "  def verify_webhook"), ('+', "    return head(:forbidden) if public_key_pem.blank?")]);
        assert!(review(&refuses).is_empty());
        let elsewhere = hunk(&[(' ', "  def public_key"), ('+', "    return if public_key_pem.blank?")]);
        assert!(review(&elsewhere).is_empty());
    }

    #[test]
    fn a_plug_whose_failed_check_now_logs_and_passes_the_conn_on_is_wh003() {
        let ex = hunk(&[
            (' ', "    with {:ok, timestamp, signature} <- get_stripe_signature(conn),"),
            (' ', "         {:ok, _} <- verify_signature(raw_body, timestamp, signature) do"),
            (' ', "      conn"),
            (' ', "    else"),
            ('-', "      _ ->"),
            ('+', "      error ->"),
            ('+', "        Logger.warning(\"Stripe webhook signature verification failed: #{inspect(error)}\")"),
            ('+', "        conn"),
            ('-', "        conn"),
            ('-', "        |> put_status(:unauthorized)"),
            ('-', "        |> render(\"401.json\")"),
            ('-', "        |> halt()"),
            (' ', "    end"),
        ]);
        assert_eq!(review(&ex).iter().map(|r| r.0).collect::<Vec<_>>(), ["WH003"]);
        // The kept `conn` splits the change in two blocks.
        let split = hunk(&[
            (' ', "         {:ok, _} <- verify_signature(raw_body, timestamp, signature) do"),
            (' ', "    else"),
            ('-', "      _ ->"),
            ('+', "      error ->"),
            ('+', "        Logger.warning(\"verification failed\")"),
            (' ', "        conn"),
            ('-', "        |> put_status(:unauthorized)"),
            ('-', "        |> halt()"),
            (' ', "    end"),
        ]);
        assert_eq!(review(&split).iter().map(|r| r.0).collect::<Vec<_>>(), ["WH003"]);
        // Quiet: the failure still halts, now with a 400 and a log line.
        let quiet = hunk(&[
            (' ', "         {:ok, _} <- verify_signature(raw_body, timestamp, signature) do"),
            (' ', "    else"),
            ('-', "      _ -> conn |> put_status(:unauthorized) |> halt()"),
            ('+', "      error ->"),
            ('+', "        Logger.warning(\"bad signature\")"),
            ('+', "        conn |> put_status(:bad_request) |> halt()"),
            (' ', "    end"),
        ]);
        assert!(review(&quiet).is_empty());
    }

    #[test]
    fn a_check_now_run_only_when_a_secret_or_key_is_set_is_wh003() {
        let php = hunk(&[
            ('-', "        if (!$this->isValidSignature($request->getContent(), $sig, $this->config('stripe_webhook_secret'))) {"),
            ('+', "        $webhookSecret = $this->config('stripe_webhook_secret');"),
            ('+', "        if (!empty($webhookSecret) && !$this->isValidSignature($request->getContent(), $sig, $webhookSecret)) {"),
            (' ', "            return response()->json(['error' => 'Invalid signature'], 400);"),
        ]);
        assert_eq!(review(&php).iter().map(|r| r.0).collect::<Vec<_>>(), ["WH003"]);
        let js = hunk(&[
            ('-', "  if (!verifyWebhook(request)) {"),
            ('+', "  if (!appConfig.paddlePublicKey) {"),
            ('+', "    logger.warn('PADDLE_PUBLIC_KEY is not set, skipping webhook verification');"),
            ('+', "  } else if (!verifyWebhook(request)) {"),
            (' ', "    return response.sendStatus(401);"),
        ]);
        assert_eq!(review(&js).iter().map(|r| r.0).collect::<Vec<_>>(), ["WH003"]);
        // A missing key that stops the request, and a secret passed to the check, are quiet.
        let stops = hunk(&[
            ('-', "  if (!verifyWebhook(request)) {"),
            ('+', "  if (!appConfig.paddlePublicKey) {"),
            ('+', "    return response.sendStatus(500);"),
            ('+', "  } else if (!verifyWebhook(request)) {"),
        ]);
        assert!(review(&stops).is_empty());
        let passed = hunk(&[
            ('-', "        if (!$this->isValidSignature($body, $sig, $this->config('secret'))) {"),
            ('+', "        if (!$this->isValidSignature($body, $sig, $secret) && !$this->isTestMode()) {"),
        ]);
        assert!(review(&passed).is_empty());
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
