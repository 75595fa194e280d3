//! The timing rules read from changed lines alone, for a change seen only as
//! hunks: a write moved into a hand-off that runs after the answer (WH019), an
//! upsert turned into an update-only write, or a sleep added to order events
//! (WH020), a hand-written verifier's replay window switched off or widened
//! (WH015). Each result is (rule, index of the line in the hunk, message).

use super::Hunk;
use super::hunks::{answers_error, is_comment, is_logging, writes};

/// Text marks (lowercase, spaces removed) of a hand-off that runs after the answer.
const HAND_OFFS: &[(&str, &str)] = &[
    ("setimmediate(", "setImmediate"),
    ("process.nexttick(", "process.nextTick"),
    ("queuemicrotask(", "queueMicrotask"),
    ("waituntil(", "waitUntil"),
    ("threading.thread(", "a thread (threading.Thread)"),
    ("thread(target=", "a thread (Thread(target=...))"),
    ("create_task(", "an asyncio task (create_task)"),
    ("ensure_future(", "an asyncio task (ensure_future)"),
    ("add_task(", "a background task (add_task)"),
    ("run_in_executor(", "an executor (run_in_executor)"),
    ("thread.new", "a thread (Thread.new)"),
    ("tokio::spawn(", "a spawned task (tokio::spawn)"),
    ("thread::spawn(", "a spawned thread (thread::spawn)"),
    ("task::spawn(", "a spawned task (task::spawn)"),
    ("task.start(", "an unsupervised task (Task.start)"),
    ("spawn(fn", "a spawned process (spawn)"),
    ("afterresponse(", "after the response (afterResponse)"),
    ("defer(function", "after the response (defer)"),
    ("defer(fn", "after the response (defer)"),
];

/// Marks of a write that creates the row when it is missing.
const UPSERTS: &[&str] = &["upsert", "updateorcreate", "update_or_create", "firstorcreate", "findorcreate", "find_or_create", "getorcreate", "get_or_create", "onconflict", "on_conflict", "on conflict", "on duplicate key"];
/// Marks of a write that changes the row only when it exists.
const UPDATES: &[&str] = &[".update(", "update ", ".updates(", "update_all", "updatemany(", "updateone(", "repo.update", ".update!("];

pub fn review(h: &Hunk, fields: &[String]) -> Vec<(&'static str, usize, String)> {
    let mut out = Vec::new();
    if let Some((at, how, write)) = moved_into_hand_off(h, fields).filter(|_| !failure_only_logged_before(h)) {
        out.push(("WH019", at, format!("the write `{write}` now runs in {how}, after the handler has answered: a crash or restart loses the event and the provider never retries")));
    }
    let has = |tag: char, marks: &[&str]| h.lines.iter().position(|(t, l)| *t == tag && !is_comment(l) && marks.iter().any(|m| l.to_ascii_lowercase().contains(m)));
    if let (Some(_), None, Some(at)) = (has('-', UPSERTS), has('+', UPSERTS), has('+', UPDATES)) {
        let shown: String = h.lines[at].1.trim().chars().take(120).collect();
        out.push(("WH020", at, format!("an upsert became the update-only `{shown}`: an event that arrives before the row exists changes nothing and is lost")));
    }
    if let Some((at, name, now)) = tolerance_widened(h) {
        out.push(("WH015", at, format!("the signature's timestamp window `{name}` is now {now}: old events (replays) are accepted")));
    } else if let Some(at) = age_check_removed(h) {
        let shown: String = h.lines[at].1.trim().chars().take(120).collect();
        out.push(("WH015", at, format!("the signature's timestamp age check `{shown}` is removed from the verifier: old events (replays) are accepted")));
    }
    if let (Some(at), None) = (sleep_at(h, '+'), sleep_at(h, '-')) {
        let shown: String = h.lines[at].1.trim().chars().take(120).collect();
        out.push(("WH020", at, format!("`{shown}` waits to order events: a pause does not order concurrent deliveries or retries")));
    }
    out
}

/// The old lines only logged a failure of the work (`if let Err(e) = write { tracing::error!(..) }`)
/// and answered no error: the provider never retried a failed write before the move either.
fn failure_only_logged_before(h: &Hunk) -> bool {
    let removed = || h.lines.iter().filter(|(t, l)| *t == '-' && !is_comment(l)).map(|(_, l)| l.as_str());
    removed().any(|l| is_logging(l) && l.to_ascii_lowercase().contains("error")) && !removed().any(answers_error)
}

/// A line as compared across the move: spacing, `await` and the error handling that
/// differs once the call runs detached (`.await?` became `.await.ok()`) left out.
fn squashed(l: &str) -> String {
    let s = l.to_ascii_lowercase().replace(char::is_whitespace, "").replace(".await", "").replace("await", "");
    let s = s.trim_end_matches([';', ',']);
    let s = s.strip_suffix(".ok()").or_else(|| s.strip_suffix(".unwrap()")).or_else(|| s.strip_suffix('?')).unwrap_or(s);
    s.to_string()
}

/// An added hand-off (or an un-awaited promise) after which a removed write
/// comes back: the write moved into work that runs after the answer.
fn moved_into_hand_off(h: &Hunk, fields: &[String]) -> Option<(usize, String, String)> {
    for (m, (tag, line)) in h.lines.iter().enumerate() {
        if *tag != '+' || is_comment(line) {
            continue;
        }
        let Some(how) = hand_off(line) else { continue };
        for (t, removed) in &h.lines {
            if *t != '-' || is_comment(removed) || !is_write(removed, fields) {
                continue;
            }
            let w = squashed(removed);
            if w.len() > 8 && h.lines[m..].iter().any(|(t, l)| *t == '+' && squashed(l).contains(w.as_str())) {
                return Some((m, how, removed.trim().chars().take(120).collect()));
            }
        }
    }
    None
}

fn hand_off(line: &str) -> Option<String> {
    let t = line.trim_start();
    let s = t.to_ascii_lowercase().replace(char::is_whitespace, "");
    if let Some((_, how)) = HAND_OFFS.iter().find(|(m, _)| s.contains(m)) {
        return Some(how.to_string());
    }
    // Go: `go func() {`, `go process(evt)`.
    if t.starts_with("go ") && t.contains('(') {
        return Some("a goroutine (go)".into());
    }
    // JS: `void process(event)`, `process(event).catch(log)` with nothing awaiting it.
    let unawaited = !s.contains("await") && !s.starts_with("return") && (s.contains(").catch(") || s.contains(").then("));
    if t.starts_with("void ") || unawaited {
        return Some("an un-awaited promise".into());
    }
    None
}

fn is_write(line: &str, fields: &[String]) -> bool {
    let s = line.to_ascii_lowercase().replace(char::is_whitespace, "");
    // A call whose name says it changes state (`ProcessWebhook(...)`, `sync_subscription(...)`).
    let state_call = line
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| w.len() > 3 && line.contains(&format!("{w}(")))
        .any(|w| super::vocab::opaque_kind(w).is_some());
    // A refresh or sync of the subscription's records (`sub_refresh_job::refresh(&global, id)`).
    let refreshes = (s.contains("refresh") || s.contains("sync")) && ["sub", "entitle", "billing", "plan"].iter().any(|k| s.contains(k));
    !writes(line, fields).is_empty() || state_call || refreshes || [".update(", ".upsert(", ".insert(", ".create(", ".save(", ".exec(", ".execute(", "update_all(", "update!("].iter().any(|v| s.contains(v))
}

/// `maximumVariance = 5` became `= null` (or 0, or over 600 seconds): the timestamp
/// check of a hand-written verifier no longer bounds an event's age.
fn tolerance_widened(h: &Hunk) -> Option<(usize, String, String)> {
    let window = |line: &str| -> Option<(String, String)> {
        let (lhs, rhs) = line.split_once('=')?;
        if rhs.starts_with('=') || lhs.ends_with(['!', '<', '>', '=']) {
            return None;
        }
        let name = lhs.split_whitespace().last()?.trim_start_matches(['$', '@']).trim_start_matches("this.").trim_start_matches("self.").to_string();
        let squashed = name.to_ascii_lowercase().replace('_', "");
        let is_window = ["tolerance", "variance", "maxage", "timestampwindow", "replaywindow", "maxskew"].iter().any(|w| squashed.contains(w));
        let value = rhs.trim().trim_end_matches([';', ',']).trim().to_string();
        is_window.then_some((name, value))
    };
    let off = |v: &str| matches!(v.to_ascii_lowercase().as_str(), "null" | "none" | "nil" | "0" | "false" | "-1") || v.parse::<f64>().is_ok_and(|n| n > 600.0);
    for (t, old) in &h.lines {
        let Some((name, was)) = (*t == '-').then(|| window(old)).flatten() else { continue };
        if off(&was) {
            continue;
        }
        let now = h.lines.iter().position(|(t, l)| *t == '+' && window(l).is_some_and(|(n, v)| n == name && off(&v)));
        if let Some(at) = now {
            let (_, v) = window(&h.lines[at].1)?;
            return Some((at, name, v));
        }
    }
    None
}

/// A hand-written verifier (the hunk computes or compares an HMAC) that no longer
/// compares the signed timestamp's age with a limit: `abs(time.time() - int(ts)) > MAX_SKEW`,
/// `if (now - ts).abs() > MAX_AGE_SECS`, Elixir's `true <- abs(now - ts) <= @max_age`.
/// A check rewritten on an added line is no removal.
fn age_check_removed(h: &Hunk) -> Option<usize> {
    const VERIFIER: &[&str] = &["hmac", "secure_compare", "compare_digest", "securecompare", "crypto.mac", "constant_time", "timingsafeequal", "hash_equals"];
    let verifier = h.lines.iter().any(|(_, l)| {
        let l = l.to_ascii_lowercase();
        VERIFIER.iter().any(|m| l.contains(m))
    });
    if !verifier {
        return None;
    }
    let age_check = |l: &str| {
        if is_comment(l) {
            return false;
        }
        let s = squashed(l);
        // Arrows are not comparisons: `->`, `=>`, `<-`, `<>`, shifts.
        let bare = ["->", "=>", "<-", "<>", "<<", ">>"].iter().fold(s.clone(), |acc, a| acc.replace(a, " "));
        let compares = bare.contains('<') || bare.contains('>');
        let limit = ["maxage", "max_age", "maxskew", "max_skew", "tolerance", "maxdelay", "max_delay", "timestamp_window", "replay"].iter().any(|w| s.contains(w));
        let clock = ["time.time()", "time.now", "time()", "systemtime::now", "system_time(", "system.os_time", "date.now()", "time.now()", "now-", "now()-", "-now"].iter().any(|w| s.contains(w));
        let stamp = s.contains("ts") || s.contains("timestamp");
        compares && stamp && (limit || clock)
    };
    if h.lines.iter().any(|(t, l)| *t == '+' && age_check(l)) {
        return None;
    }
    h.lines.iter().position(|(t, l)| *t == '-' && age_check(l))
}

fn sleep_at(h: &Hunk, tag: char) -> Option<usize> {
    h.lines.iter().position(|(t, l)| {
        let s = l.to_ascii_lowercase().replace(char::is_whitespace, "");
        *t == tag && !is_comment(l) && (s.contains("sleep(") || s.contains("settimeout(resolve") || s.contains("settimeout(r,"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hunk(lines: &[(char, &str)]) -> Hunk {
        Hunk { new_start: 1, section: String::new(), lines: lines.iter().map(|(t, l)| (*t, l.to_string())).collect() }
    }

    #[test]
    fn a_write_moved_into_a_goroutine_or_setimmediate_is_wh019_and_new_background_work_is_not() {
        let go = hunk(&[
            (' ', "\tcase \"customer.subscription.deleted\":"),
            ('-', "\t\tdb.Exec(\"UPDATE users SET has_paid_access = false WHERE id = $1\", id)"),
            ('+', "\t\tgo func() {"),
            ('+', "\t\t\tdb.Exec(\"UPDATE users SET has_paid_access = false WHERE id = $1\", id)"),
            ('+', "\t\t}()"),
        ]);
        assert_eq!(review(&go, &[]).iter().map(|r| r.0).collect::<Vec<_>>(), ["WH019"]);
        let ts = hunk(&[
            ('-', "      await prisma.user.update({ where: { id }, data: { hasPaidAccess: true } });"),
            ('+', "      prisma.user.update({ where: { id }, data: { hasPaidAccess: true } }).catch(console.error);"),
        ]);
        assert_eq!(review(&ts, &[]).iter().map(|r| r.0).collect::<Vec<_>>(), ["WH019"]);
        let email = hunk(&[
            (' ', "      await prisma.user.update({ where: { id }, data: { hasPaidAccess: true } });"),
            ('+', "      setImmediate(() => sendWelcomeEmail(user.email));"),
        ]);
        assert!(review(&email, &[]).is_empty());
    }

    #[test]
    fn a_subscription_refresh_moved_into_a_spawned_task_is_wh019_unless_its_failure_was_only_logged() {
        let rs = hunk(&[
            ('-', "\t\t\tfor sub_id in sub_ids {"),
            ('-', "\t\t\t\tsub_refresh_job::refresh(&global, sub_id).await?;"),
            ('-', "\t\t\t}"),
            ('+', "\t\t\ttokio::spawn(async move {"),
            ('+', "\t\t\t\tfor sub_id in sub_ids {"),
            ('+', "\t\t\t\t\tsub_refresh_job::refresh(&global, sub_id).await.ok();"),
            ('+', "\t\t\t\t}"),
            ('+', "\t\t\t});"),
        ]);
        assert_eq!(review(&rs, &[]).iter().map(|r| r.0).collect::<Vec<_>>(), ["WH019"]);
        // The write's failure was only logged before the move: no retry is lost to it.
        let logged = hunk(&[
            ('-', "\t\t\tif let Err(e) = sub_refresh_job::refresh(&global, sub_id).await {"),
            ('-', "\t\t\t\ttracing::error!(\"refresh failed: {:?}\", e);"),
            ('-', "\t\t\t}"),
            ('+', "\t\t\ttokio::spawn(async move {"),
            ('+', "\t\t\t\tif let Err(e) = sub_refresh_job::refresh(&global, sub_id).await {"),
            ('+', "\t\t\t\t\ttracing::error!(\"refresh failed: {:?}\", e);"),
            ('+', "\t\t\t\t}"),
            ('+', "\t\t\t});"),
        ]);
        assert!(review(&logged, &[]).is_empty());
        // Metrics flushed in the background are no write of the subscription's.
        let metrics = hunk(&[('-', "\t\tmetrics::flush(&global).await?;"), ('+', "\t\ttokio::spawn(async move { metrics::flush(&global).await.ok(); });")]);
        assert!(review(&metrics, &[]).is_empty());
    }

    #[test]
    fn an_upsert_turned_into_an_update_and_an_added_sleep_are_wh020() {
        let py = hunk(&[
            ('-', "        Subscription.objects.update_or_create(stripe_id=sub[\"id\"], defaults={\"status\": sub[\"status\"]})"),
            ('+', "        Subscription.objects.filter(stripe_id=sub[\"id\"]).update(status=sub[\"status\"])"),
        ]);
        assert_eq!(review(&py, &[]).iter().map(|r| r.0).collect::<Vec<_>>(), ["WH020"]);
        let kept = hunk(&[
            ('-', "  await prisma.subscription.upsert({ where: { id }, create, update })"),
            ('+', "  await prisma.subscription.upsert({ where: { id: sub.id }, create, update })"),
        ]);
        assert!(review(&kept, &[]).is_empty());
        let sleep = hunk(&[(' ', "    if event.type == \"customer.subscription.updated\":"), ('+', "        time.sleep(3)")]);
        assert_eq!(review(&sleep, &[]).iter().map(|r| r.0).collect::<Vec<_>>(), ["WH020"]);
    }

    #[test]
    fn a_replay_window_switched_off_or_widened_is_wh015_and_narrowed_is_not() {
        let php = hunk(&[('-', "    protected ?int $maximumVariance = 5;"), ('+', "    protected ?int $maximumVariance = null;")]);
        assert_eq!(review(&php, &[]).iter().map(|r| r.0).collect::<Vec<_>>(), ["WH015"]);
        let py = hunk(&[('-', "TOLERANCE_SECONDS = 300"), ('+', "TOLERANCE_SECONDS = 86400")]);
        assert_eq!(review(&py, &[]).iter().map(|r| r.0).collect::<Vec<_>>(), ["WH015"]);
        let narrowed = hunk(&[('-', "TOLERANCE_SECONDS = 300"), ('+', "TOLERANCE_SECONDS = 120")]);
        assert!(review(&narrowed, &[]).is_empty());
        let compared = hunk(&[('-', "    if ($this->maximumVariance > 0 && time() > $ts + $this->maximumVariance) {"), ('+', "    if ($this->maximumVariance !== null && time() > $ts + $this->maximumVariance) {")]);
        assert!(review(&compared, &[]).is_empty());
    }

    #[test]
    fn an_age_check_removed_from_a_hand_written_verifier_is_wh015() {
        let rs = hunk(&[
            (' ', "    let (Some(ts), Some(h1)) = (ts, h1) else { return false };"),
            ('-', "    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64;"),
            ('-', "    if (now - ts).abs() > MAX_AGE_SECS {"),
            ('-', "        return false;"),
            ('-', "    }"),
            (' ', "    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();"),
        ]);
        assert_eq!(review(&rs, &[]).iter().map(|r| (r.0, r.1)).collect::<Vec<_>>(), [("WH015", 2)]);
        let ex = hunk(&[
            (' ', "    with %{\"ts\" => ts, \"h1\" => h1} <- parse(header),"),
            ('-', "         {ts_int, \"\"} <- Integer.parse(ts),"),
            ('-', "         true <- abs(System.system_time(:second) - ts_int) <= @max_age do"),
            ('+', "         {_ts_int, \"\"} <- Integer.parse(ts) do"),
            (' ', "      expected = :crypto.mac(:hmac, :sha256, secret, ts <> \":\" <> raw_body) |> Base.encode16(case: :lower)"),
        ]);
        assert_eq!(review(&ex, &[]).iter().map(|r| r.0).collect::<Vec<_>>(), ["WH015"]);
        // Rewritten, not removed; and an expiry check outside a verifier is not this rule's.
        let rewritten = hunk(&[
            ('-', "    if abs(time.time() - int(ts)) > MAX_SKEW_SECONDS:"),
            ('+', "    if abs(time.time() - int(ts)) > settings.MAX_SKEW_SECONDS:"),
            (' ', "    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()"),
        ]);
        assert!(review(&rewritten, &[]).is_empty());
        let expiry = hunk(&[('-', "    if user.trial_ends_at < Time.now && ts > 0"), (' ', "      user.update!(active: false)")]);
        assert!(review(&expiry, &[]).is_empty());
    }
}
