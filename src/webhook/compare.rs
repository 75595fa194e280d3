//! The pure comparison: the model of a handler before and after a change ->
//! findings. Problems that one model shows on its own (no verification, a
//! swallowed error...) are regressions when only the new version has them and
//! are reported once, as low, when the base had them too. Problems that only
//! a comparison shows (a grant removed, an event dropped) are regressions.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::model::{AccessWrite, EventModel, HandlerModel, KeyedOn, OpaqueKind, StatusGate, Tolerance, ValueKind};
use super::timing::WriteShape;
use super::vocab::{self, UNPAID_STATUSES};
use crate::report::{Finding, Severity};
use crate::rules;

/// What the comparison knows beyond the two models.
pub struct Context<'a> {
    /// Repo-relative path of the new version.
    pub path: &'a str,
    /// Variable names declared by env files and examples.
    pub declared_env: &'a BTreeSet<String>,
    /// Plan names used outside this handler (other files, billguard.toml).
    pub plans_elsewhere: &'a BTreeSet<String>,
    /// Events handled by other handler files after the change.
    pub events_elsewhere: &'a BTreeSet<String>,
    /// Both versions were reconstructed from diff hunks: absences are not evidence.
    pub partial: bool,
    /// Where verification mounted from another file was removed (or stopped
    /// verifying), in the new tree: the location of a WH001 it causes.
    pub verification_removed_at: Option<(&'a str, u32)>,
    /// Fields the change takes out of the app's schema (squashed, see
    /// [`crate::app_schema`]): a write of one going away is not a lost grant.
    pub dropped_fields: &'a BTreeSet<String>,
    /// The base version already looked like a webhook handler (event types, a billing
    /// SDK, a signature header), whether or not its dispatch was read: a verification
    /// it lacked too is not this change's doing.
    pub before_was_handler: bool,
    /// The base versions of the change's other handler files: a new file's problem that one
    /// of them had on the same event moved with the code (a handler split into a queued job).
    pub before_elsewhere: &'a [&'a HandlerModel],
}

/// One problem a model shows, before it becomes a finding.
struct Problem {
    rule: &'static str,
    /// `""` for the handler, else the event type.
    event: String,
    line: u32,
    /// Another file than the handler, when the problem was caused there.
    path: Option<String>,
    /// The fact, as a clause: "events are processed without signature verification".
    what: String,
    evidence: BTreeMap<&'static str, Value>,
    /// Below the rule's own severity when what the claim rests on was not fully seen.
    severity: Option<Severity>,
}

impl Problem {
    fn new(rule: &'static str, event: &str, line: u32, what: String) -> Self {
        Problem { rule, event: event.to_string(), line, path: None, what, evidence: BTreeMap::new(), severity: None }
    }
    /// The new version writes attributes whose fields were not read: a field that seems
    /// gone may still be written there, so the loss is a medium for a person to check.
    /// Only a builder new to the event counts: one the base wrote through as well hid
    /// nothing the base showed.
    fn unless_untraced(mut self, before: &EventModel, after: &EventModel) -> Self {
        if let Some(builder) = after.untraced_attributes.difference(&before.untraced_attributes).next() {
            self.what = format!("{}; but the attributes are now built by `{builder}`, whose result billguard does not read: check that it still sets them", self.what);
            self.severity = Some(Severity::Medium);
            self = self.with("untraced_attributes", builder.clone());
        }
        self
    }
    fn with(mut self, k: &'static str, v: impl Into<Value>) -> Self {
        self.evidence.insert(k, v.into());
        self
    }
}

pub fn compare(before: Option<&HandlerModel>, after: &HandlerModel, ctx: &Context) -> Vec<Finding> {
    let mut out = Vec::new();
    let now = absolute(after);
    match before {
        None => {
            let moved: Vec<Problem> = ctx.before_elsewhere.iter().flat_map(|m| absolute(m)).collect();
            for p in now {
                if !p.event.is_empty() && moved.iter().any(|q| q.rule == p.rule && q.event == p.event) {
                    let sentence = format!("Pre-existing, moved here by this diff from a handler that did the same: {}.", p.what);
                    out.push(finding(ctx, p, sentence, Some(Severity::Low)));
                } else {
                    let sentence = format!("New handler: {}.", p.what);
                    out.push(finding(ctx, p, sentence, None));
                }
            }
        }
        Some(b) => {
            let then = absolute(b);
            // One more catch that acknowledges (`except Exception` now answering 200 beside an
            // `except DoesNotExist` that always did) is a new swallowed error, not the old one.
            let acknowledging = |m: &HandlerModel| m.error_paths.iter().filter(|e| e.status.is_ok()).count();
            // Per-event functions that log their errors and return, as the base's already did,
            // are that policy applied to more events, not a new swallowed error.
            let logged_in_callee = |m: &HandlerModel| m.error_paths.iter().filter(|e| e.status.is_ok()).all(|e| e.logged_in_callee);
            let same_policy = acknowledging(b) > 0 && logged_in_callee(b) && logged_in_callee(after);
            let more_swallowed = acknowledging(after) > acknowledging(b) && !same_policy;
            // An event recorded early did no harm while nothing read the record: a dedup check
            // added in front of it now skips the retry of an event that failed mid-way.
            let newly_checked = after.idempotency.check.is_some() && b.idempotency.check.is_none();
            for p in now {
                match then.iter().find(|q| {
                    q.rule == p.rule && q.event == p.event && !(p.rule == "WH010" && more_swallowed) && !(p.rule == "WH007" && newly_checked) && covers(q, &p)
                }) {
                    Some(_) if ctx.partial => {}
                    // Hunks that show no verification in either version say nothing about it:
                    // it is out of view, not gone.
                    None if ctx.partial && p.rule == "WH001" && b.verification.is_none() => {}
                    // A handler that verified nothing before either (its dispatch may only now be
                    // read): the missing verification is the base's, not this change's.
                    None if p.rule == "WH001" && ctx.before_was_handler && b.verification.is_none() && b.external.is_none() => {
                        let sentence = format!("Pre-existing, unchanged by this diff: {} (the base version verified nothing either).", p.what);
                        out.push(finding(ctx, p, sentence, Some(Severity::Low)));
                    }
                    // A gate added where the base wrote the same field whatever the status
                    // (`if status === 'incomplete_expired' return` above the upsert) narrows the grant.
                    None if p.rule == "WH011" && written_whatever_status(b, after, &p) => {
                        let sentence = format!("Pre-existing, unchanged by this diff: {} (the base wrote it whatever the status).", p.what);
                        out.push(finding(ctx, p, sentence, Some(Severity::Low)));
                    }
                    Some(_) => {
                        let sentence = format!("Pre-existing, unchanged by this diff: {}.", p.what);
                        out.push(finding(ctx, p, sentence, Some(Severity::Low)));
                    }
                    None => {
                        let was = was(p.rule, b, &p.event);
                        let mut p = p.with("before", was.clone());
                        let mut sentence = format!("Before: {was}; after: {}.", p.what);
                        if let (None, Some((path, line))) = (&after.external, ctx.verification_removed_at) {
                            if p.rule == "WH001" {
                                // The handler may be unchanged: point at the removal.
                                sentence = format!("{sentence} The verification that lived outside the handler was removed, unmounted or switched off at {path}:{line}.");
                                p = p.with("removed_at", format!("{path}:{line}"));
                                if let Some(e) = &b.external {
                                    p = p.with("verified_by_before", e.describe());
                                }
                                p.path = Some(path.to_string());
                                p.line = line;
                            }
                        }
                        out.push(finding(ctx, p, sentence, None));
                    }
                }
            }
            for p in relational(b, after, ctx) {
                let sentence = p.what.clone();
                let severity = p.severity;
                let mut f = finding(ctx, p, sentence, None);
                f.severity = severity.unwrap_or(f.severity);
                out.push(f);
            }
        }
    }
    out
}

/// A base problem that already says all `p` says: for WH011, every unpaid status `p`
/// grants was granted before (`past_due` then, `unpaid` added now, is a new widening).
fn covers(q: &Problem, p: &Problem) -> bool {
    let granted = |x: &Problem| x.evidence.get("unpaid_statuses_granted").and_then(Value::as_array).cloned().unwrap_or_default();
    p.rule != "WH011" || granted(p).iter().all(|s| granted(q).contains(s))
}

/// Whether the base made the same write (field and value) that `p` names, in the same
/// event, with no status gate and no condition at all: every status, unpaid ones
/// included, got that write then. A value that changed (a status now mapped to
/// `'active'`) is judged as new.
fn written_whatever_status(b: &HandlerModel, a: &HandlerModel, p: &Problem) -> bool {
    let Some(field) = p.evidence.get("field").and_then(Value::as_str) else { return false };
    let values = |m: &HandlerModel| -> BTreeSet<String> {
        m.events.get(&p.event).map(|ev| ev.access_writes.iter().filter(|w| w.field == field).map(|w| w.value_text.clone()).collect()).unwrap_or_default()
    };
    values(a).is_subset(&values(b))
        && b.events.get(&p.event).is_some_and(|ev| {
            ev.access_writes.iter().any(|w| w.field == field && w.value != ValueKind::Revoke && w.gate == StatusGate::None && !w.guarded)
        })
}

fn finding(ctx: &Context, p: Problem, message: String, severity: Option<Severity>) -> Finding {
    let rule = rules::get(p.rule).expect("WH rules are in the catalog");
    let entity = if p.event.is_empty() { format!("handler:{}", ctx.path) } else { format!("handler:{}#{}", ctx.path, p.event) };
    let mut f = Finding::new(rule, entity, message).at(p.path.as_deref().unwrap_or(ctx.path), p.line.max(1));
    if let Some(s) = severity {
        f.severity = s;
        f = f.evidence("pre_existing", true);
    }
    if !p.event.is_empty() {
        f = f.evidence("event", p.event.clone());
    }
    for (k, v) in p.evidence {
        f = f.evidence(k, v);
    }
    f
}

fn is_grant_event(e: &str) -> bool {
    matches!(e, "checkout.session.completed" | "customer.subscription.created" | "subscription.created" | "transaction.completed")
}

/// Events sent on any change of a subscription, whatever its status.
fn carries_any_status(e: &str) -> bool {
    matches!(e, "customer.subscription.updated" | "subscription.updated" | "subscription_updated")
}

/// Problems a single model shows.
fn absolute(m: &HandlerModel) -> Vec<Problem> {
    let mut out = Vec::new();
    let handles = !m.events.is_empty();
    match &m.verification {
        None if handles && m.external.is_none() => {
            out.push(Problem::new("WH001", "", m.entry_line, "events are processed without any signature verification".into()))
        }
        None => {}
        Some(v) => {
            if v.body == super::model::BodyKind::Parsed {
                out.push(
                    Problem::new("WH002", "", v.line, format!("`{}` checks the signature over a parsed body (`{}`)", v.call, v.body_text))
                        .with("body", v.body_text.clone()),
                );
            }
            if let Some(source) = &v.secret_from_request {
                out.push(
                    Problem::new("WH001", "", v.line, format!("`{}` takes its signing secret from the request (`{source}`): a sender signs with a secret of its choosing, so events are not verified", v.call))
                        .with("secret_from", source.clone()),
                );
            }
            if let Some(reason) = &v.fail_open {
                out.push(Problem::new("WH003", "", v.line, reason.clone()).with("verification", v.call.clone()));
            }
            match &v.tolerance {
                Some(Tolerance::Disabled) => {
                    out.push(Problem::new("WH015", "", v.line, format!("`{}` runs with the timestamp tolerance disabled", v.call)))
                }
                Some(Tolerance::Seconds(s)) if *s > 600.0 => out.push(
                    Problem::new("WH015", "", v.line, format!("`{}` accepts events up to {} seconds old (default 300)", v.call, s))
                        .with("tolerance_seconds", *s),
                ),
                _ => {}
            }
        }
    }
    let idem = &m.idempotency;
    if idem.mark_before_writes {
        let line = idem.mark.unwrap_or(m.entry_line);
        out.push(Problem::new("WH007", "", line, format!("the event is marked processed (line {line}) before the state writes, outside a transaction with them")));
    } else if let Some((KeyedOn::ObjectId, line)) = idem.check {
        out.push(Problem::new("WH007", "", line, format!("the dedup check at line {line} is keyed on the object id, not the event id, so later events for the same object are skipped")));
    }
    // The last such catch: a catch-all (`except Exception`) follows the specific ones.
    if let Some(e) = m.error_paths.iter().filter(|e| e.status.is_ok()).last() {
        out.push(
            Problem::new("WH010", "", e.line, format!("a processing error caught at line {} answers {}, so the provider never retries", e.line, e.status.describe()))
                .with("status", e.status.describe()),
        );
    }
    if let Some(a) = m.unhandled.filter(|a| a.status.is_error()) {
        out.push(Problem::new("WH018", "", a.line, format!("event types without a branch answer {}", a.status.describe())));
    }
    for (name, ev) in &m.events {
        if let Some(a) = ev.missing_row.filter(|a| a.status.is_error()) {
            out.push(Problem::new("WH018", name, a.line, format!("{name}: a missing user row answers {}", a.status.describe())));
        }
        let grants: Vec<_> = ev.access_writes.iter().filter(|w| w.value != ValueKind::Revoke).collect();
        if is_grant_event(name) {
            // A stored subscription object carries its own status: access is read from it.
            if let Some(w) = grants.iter().find(|w| !w.payment_checked && !vocab::holds_subscription_object(&w.field)) {
                out.push(
                    Problem::new("WH016", name, w.line, format!("{name} grants `{}` = {} without checking payment_status or the subscription status", w.field, w.value_text))
                        .with("field", w.field.clone()),
                );
            }
        }
        for w in &grants {
            let widened: Vec<&str> = match &w.gate {
                // An allow-list naming past_due grants it past any grace (the line review's
                // `'past_due'` token says the same); a deny-list is judged by the plainly unpaid.
                StatusGate::Allow(s) => UNPAID_STATUSES.iter().copied().chain(["past_due"]).filter(|u| s.contains(*u)).collect(),
                StatusGate::Deny(s) => UNPAID_STATUSES.iter().copied().filter(|u| !s.contains(*u)).collect(),
                StatusGate::None => Vec::new(),
            };
            if !widened.is_empty() {
                out.push(
                    Problem::new("WH011", name, w.line, format!("{name} grants `{}` for unpaid statuses ({})", w.field, widened.join(", ")))
                        .with("field", w.field.clone())
                        .with("unpaid_statuses_granted", widened),
                );
                break;
            }
            // An update carries whatever status the subscription now has: a fixed paying value
            // written with no status looked at records past_due and unpaid as paying.
            if carries_any_status(name) && w.value == ValueKind::Grant && w.gate == StatusGate::None && !w.guarded && !w.payment_checked {
                out.push(
                    Problem::new("WH011", name, w.line, format!("{name} writes `{}` = {} whatever the subscription's status (past_due, unpaid and paused included)", w.field, w.value_text))
                        .with("field", w.field.clone())
                        .with("unpaid_statuses_granted", UNPAID_STATUSES.to_vec()),
                );
                break;
            }
        }
        if let Some(w) = ev.access_writes.iter().find(|w| w.early_revoke.is_some()) {
            let why = w.early_revoke.clone().unwrap_or_default();
            out.push(Problem::new("WH017", name, w.line, format!("{name} revokes `{}` when {why}", w.field)).with("field", w.field.clone()));
        }
        if ev.all_writes_deferred() {
            let d = ev.deferral.clone().unwrap_or(super::model::Deferral { how: String::new(), line: ev.line });
            out.push(
                Problem::new("WH019", name, d.line, format!("{name}: every write runs in {} after the handler has answered, so a crash or restart loses the event and the provider never retries", d.how))
                    .with("handed_off_by", d.how),
            );
        }
        let ids = ev.lookups.keys().any(|k| *k != super::model::LookupKey::Email);
        if let (Some(line), false) = (ev.lookups.get(&super::model::LookupKey::Email), ids) {
            out.push(Problem::new("WH009", name, *line, format!("{name} finds the user by email")));
        }
    }
    out
}

/// What the base version did, for the rule a new problem belongs to.
fn was(rule: &str, b: &HandlerModel, event: &str) -> String {
    let v = b.verification.as_ref();
    let ev = b.events.get(event);
    match rule {
        "WH001" => match (v, &b.external) {
            (Some(v), _) => format!("events were verified with `{}` at line {}", v.call, v.line),
            (None, Some(e)) => format!("events were verified outside the handler by {}", e.describe()),
            (None, None) => "no verification either".into(),
        },
        "WH002" => v.map_or("no verification".into(), |v| format!("the signature was checked over `{}`", v.body_text)),
        "WH003" => v.map_or("no verification".into(), |_| "a failed verification stopped processing".into()),
        "WH015" => match v.and_then(|v| v.tolerance.clone()) {
            Some(Tolerance::Seconds(s)) => format!("the tolerance was {s} seconds"),
            _ => "the SDK's default 300-second tolerance applied".into(),
        },
        "WH007" => match (b.idempotency.check, b.idempotency.mark) {
            (None, Some(line)) if b.idempotency.mark_before_writes => format!("the event was recorded at line {line}, but no dedup check read the record"),
            (Some((KeyedOn::EventId, _)), _) | (_, Some(_)) => "events were deduplicated on event.id and marked processed after the writes".into(),
            _ => "no dedup step could skip an update".into(),
        },
        "WH010" => match b.error_paths.first() {
            Some(e) => format!("a processing error answered {}", e.status.describe()),
            None => "processing errors reached the framework, which answers 5xx".into(),
        },
        "WH018" => "unknown events and missing rows were acknowledged".into(),
        "WH016" => match ev {
            Some(e) if e.access_writes.iter().any(|w| w.value != ValueKind::Revoke) => "the grant was checked against the payment or subscription status".into(),
            Some(_) => "this event granted nothing".into(),
            None => "this event was not handled".into(),
        },
        "WH011" => match ev.and_then(|e| e.access_writes.iter().find(|w| w.value != ValueKind::Revoke)) {
            Some(w) => match &w.gate {
                StatusGate::Allow(s) => format!("access was granted only for {}", s.iter().cloned().collect::<Vec<_>>().join(", ")),
                _ => "no unpaid status granted access".into(),
            },
            None => "no unpaid status granted access".into(),
        },
        "WH017" => "access was revoked only when the subscription ended".into(),
        "WH019" => match ev {
            Some(e) if e.writes_anything() => "the writes were made before the handler answered".into(),
            _ => "this event wrote nothing".into(),
        },
        "WH009" => match ev {
            Some(e) if !e.lookups.is_empty() => {
                format!("the user was found by {}", e.lookups.keys().map(|k| k.as_str()).collect::<Vec<_>>().join(" / "))
            }
            _ => "the user was not looked up by email".into(),
        },
        _ => "not so".into(),
    }
}

/// Problems only a comparison shows.
fn relational(b: &HandlerModel, a: &HandlerModel, ctx: &Context) -> Vec<Problem> {
    let mut out = Vec::new();
    for (name, eb) in &b.events {
        let Some(ea) = a.events.get(name) else {
            if eb.moves_access() && !ctx.events_elsewhere.contains(name) {
                out.push(
                    Problem::new("WH006", name, a.entry_line, format!("{name} moved access before (line {} of the base) and is no longer handled", eb.line))
                        .with("fields_before", fields(eb, None)),
                );
            }
            continue;
        };
        if eb.writes_anything() && !ea.writes_anything() {
            if let Some(d) = ea.deferral.as_ref().filter(|_| eb.deferral.is_none()) {
                // The event is handed to a consumer in the same process: not silence, a lost retry.
                out.push(
                    Problem::new("WH019", name, d.line, format!("{name} wrote state before answering (line {} of the base); now it is handed to {} and acknowledged at once, so a crash or restart before the consumer writes loses it for good", eb.line, d.how))
                        .with("handed_off_by", d.how.clone())
                        .with("fields_before", fields(eb, None)),
                );
                continue;
            }
            out.push(
                Problem::new("WH008", name, ea.line, format!("{name} wrote state before (line {} of the base); now it is acknowledged without any write", eb.line))
                    .with("fields_before", fields(eb, None)),
            );
            // What that silence costs: the grant or the revocation it no longer makes.
            grant_and_revoke(name, eb, ea, ctx.dropped_fields, &mut out);
            continue;
        }
        grant_and_revoke(name, eb, ea, ctx.dropped_fields, &mut out);
        ordering(name, eb, ea, &mut out);
        if let (Some(l), None) = (eb.refetch, ea.refetch) {
            out.push(Problem::new("WH014", name, ea.line, format!("{name} refetched the object from the billing API before (line {l} of the base); now it writes the event's possibly stale snapshot")));
        } else if let (Some(l), None) = (eb.ordering_guard, ea.ordering_guard) {
            out.push(Problem::new("WH014", name, ea.line, format!("{name} had an event-ordering guard (line {l} of the base); now an older event can overwrite newer state")));
        }
    }
    unverified_entry(b, a, &mut out);
    let new_vars: Vec<&String> = a.secret_vars.difference(&b.secret_vars).filter(|v| !ctx.declared_env.contains(*v)).collect();
    if !b.secret_vars.is_empty() && !new_vars.is_empty() && a.secret_vars.is_disjoint(&b.secret_vars) {
        let line = a.verification.as_ref().map_or(a.entry_line, |v| v.line);
        out.push(
            Problem::new("WH012", "", line, format!(
                "The webhook secret came from {} before; now it comes from {}, which no env file or example declares",
                join(&b.secret_vars), new_vars.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
            ))
            .with("before", join(&b.secret_vars))
            .with("after", join(&a.secret_vars)),
        );
    }
    plan_drift(b, a, ctx, &mut out);
    for p in out.iter_mut().filter(|p| matches!(p.rule, "WH004" | "WH005" | "WH008")) {
        if let Some(now) = follows_subscription_status(&p.event, p.rule, b, a) {
            p.what = format!("{}; but access now follows the subscription's status: {now}. Check that every case the old event covered still reaches it", p.what);
            p.severity = Some(Severity::Medium);
        }
    }
    out
}

/// A grant or revocation lost on a payment event (`charge.succeeded`, `invoice.payment_failed`)
/// while the change makes a subscription update grant or revoke by the subscription's status:
/// access moved from payments to the subscription's state, which is how the provider
/// recommends keeping it. Describes the new write.
fn follows_subscription_status(event: &str, rule: &str, b: &HandlerModel, a: &HandlerModel) -> Option<String> {
    let success = matches!(event, "charge.succeeded" | "invoice.paid" | "invoice.payment_succeeded" | "payment_intent.succeeded");
    let failure = matches!(event, "charge.failed" | "invoice.payment_failed" | "payment_intent.payment_failed");
    let want = match rule {
        "WH004" if success => ValueKind::Grant,
        "WH005" if failure => ValueKind::Revoke,
        "WH008" if success => ValueKind::Grant,
        "WH008" if failure => ValueKind::Revoke,
        _ => return None,
    };
    let by_status = |w: &AccessWrite| w.value == want && matches!(&w.gate, StatusGate::Allow(s) if !s.is_empty());
    a.events.iter().filter(|(n, _)| carries_any_status(n)).find_map(|(n, ea)| {
        let w = ea.access_writes.iter().find(|w| by_status(w))?;
        let before = b.events.get(n).is_some_and(|eb| eb.access_writes.iter().any(|v| v.field == w.field && by_status(v)));
        let StatusGate::Allow(s) = &w.gate else { return None };
        let verb = if want == ValueKind::Grant { "grants" } else { "revokes" };
        (!before).then(|| format!("{n} {verb} `{}` when the status is {}", w.field, s.iter().cloned().collect::<Vec<_>>().join(" or ")))
    })
}

/// WH020: the write no longer survives events arriving out of order, or the
/// handler now waits instead of ordering.
fn ordering(name: &str, eb: &EventModel, ea: &EventModel, out: &mut Vec<Problem>) {
    let shaped = |e: &EventModel, target: &str, shape: WriteShape| e.row_writes.iter().find(|w| w.target == target && w.shape == shape).map(|w| w.line);
    // A row upserted before that is now only updated (not upserted or inserted any more).
    let weakened = eb.row_writes.iter().filter(|w| w.shape == WriteShape::Upsert).find_map(|w| {
        let now = shaped(ea, &w.target, WriteShape::UpdateOnly)?;
        let still = shaped(ea, &w.target, WriteShape::Upsert).or(shaped(ea, &w.target, WriteShape::Insert));
        still.is_none().then_some((w, now))
    });
    if let Some((was, now)) = weakened {
        let target = if was.target.is_empty() { "the row".to_string() } else { format!("the {} row", was.target) };
        out.push(
            Problem::new("WH020", name, now, format!("{name} upserted {target} before (line {} of the base); now it only updates it (line {now}), so an event that arrives before the row exists changes nothing and is lost", was.line))
                .with("before", "upsert")
                .with("after", "update")
                .with("target", was.target.clone()),
        );
    } else if let (None, Some(line)) = (eb.sleep, ea.sleep) {
        out.push(
            Problem::new("WH020", name, line, format!("{name} now sleeps (line {line}) to order events; a pause does not order concurrent deliveries or retries and holds the request open toward the provider's timeout"))
                .with("after", "sleep"),
        );
    }
}

/// WH021: every entry point verified before; now one reaches the dispatch
/// without verification while another still verifies.
fn unverified_entry(b: &HandlerModel, a: &HandlerModel, out: &mut Vec<Problem>) {
    let all_verified_before = b.entries.iter().all(|e| e.verified_by.is_some());
    let Some(verifier) = a.entries.iter().find_map(|e| e.verified_by.clone()) else { return };
    if !all_verified_before || b.verification.is_none() {
        return;
    }
    for e in a.entries.iter().filter(|e| e.verified_by.is_none()) {
        let before = b.entries.iter().find(|x| x.name == e.name).map_or("did not exist".to_string(), |_| "verified".to_string());
        let others: Vec<&str> = a.entries.iter().filter(|x| x.verified_by.is_some()).map(|x| x.name.as_str()).collect();
        out.push(
            Problem::new("WH021", "", e.line, format!(
                "`{}` (line {}) processes events without signature verification, while {} verifies with `{verifier}`; before, this entry {before}",
                e.name, e.line, others.join(", ")
            ))
            .with("entry", e.name.clone())
            .with("verified_entries", others.iter().map(|s| s.to_string()).collect::<Vec<_>>()),
        );
    }
}

fn join(s: &BTreeSet<String>) -> String {
    s.iter().cloned().collect::<Vec<_>>().join(", ")
}

fn fields(e: &EventModel, kind: Option<ValueKind>) -> Vec<String> {
    let mut f: Vec<String> = e.access_writes.iter().filter(|w| kind.is_none_or(|k| w.value == k)).map(|w| w.field.clone()).collect();
    f.sort();
    f.dedup();
    f
}

fn grant_and_revoke(name: &str, eb: &EventModel, ea: &EventModel, dropped: &BTreeSet<String>, out: &mut Vec<Problem>) {
    let kept = |f: &String| !dropped.contains(&crate::app_schema::squash(f));
    let revoking = vocab::is_revoking_event(name);
    // On an event that ends access, a plan set to a fixed name (`account_type = 'basic'`)
    // moves the customer to the plan kept for non-payers: a downgrade, not a grant.
    let downgrade = |w: &AccessWrite| {
        let name = w.value_text.trim().trim_matches(['\'', '"']).to_ascii_lowercase();
        let paying = ["pro", "premium", "plus", "paid", "business", "enterprise", "team", "unlimited"].iter().any(|p| name.starts_with(p));
        revoking && w.value == ValueKind::Grant && vocab::is_plan_field(&w.field) && w.value_text.trim().starts_with(['\'', '"']) && !paying
    };
    let grants = |e: &EventModel| -> BTreeSet<String> {
        e.access_writes.iter().filter(|w| w.value != ValueKind::Revoke && !downgrade(w)).map(|w| w.field.clone()).collect()
    };
    // On an event that ends access, a value that is now a plain revocation was never a grant lost.
    let revoked_now: BTreeSet<String> =
        if revoking { ea.access_writes.iter().filter(|w| w.value == ValueKind::Revoke).map(|w| w.field.clone()).collect() } else { BTreeSet::new() };
    // On an update, a plan computed from the subscription (`plan = planFromPrice(priceId)`)
    // follows the price: a plan change, not a revocation.
    let follows_price = |w: &AccessWrite| name.ends_with(".updated") && vocab::is_plan_field(&w.field);
    let revokes = |e: &EventModel| -> BTreeSet<String> {
        e.access_writes
            .iter()
            // On an event that ends access a computed value revokes, unless it is written only
            // on the paths of paying statuses (`if status === 'active'`).
            .filter(|w| {
                w.value == ValueKind::Revoke
                    || downgrade(w)
                    || (revoking && w.value == ValueKind::Derived && !(w.guarded && only_paying(&w.gate)) && !follows_price(w))
            })
            .map(|w| w.field.clone())
            .collect()
    };
    let opaque = |e: &EventModel, k: OpaqueKind| e.opaque.iter().any(|o| o.kind == k);
    let lost: Vec<String> = grants(eb).difference(&grants(ea)).filter(|f| !revoked_now.contains(*f) && kept(f)).cloned().collect();
    if !lost.is_empty() && !opaque(ea, OpaqueKind::Grant) {
        let now: Vec<String> = ea.access_writes.iter().map(|w| format!("{} = {}", w.field, w.value_text)).collect();
        out.push(
            Problem::new("WH004", name, ea.line, format!(
                "{name} granted access before ({}); now it no longer sets {}{}",
                describe_writes(eb, false), lost.join(", "),
                if now.is_empty() { String::new() } else { format!(" (it writes {})", now.join(", ")) }
            ))
            .with("fields_lost", lost)
            .unless_untraced(eb, ea),
        );
    }
    let still_revokes = !revokes(ea).is_empty();
    // A deleted row replaced by a recorded status (a soft delete) still ends access.
    // A subscription's start that zeroed a field (`serversQuantity: 0`) and no longer does
    // ends no one's access: nothing it revoked was a revocation of an ending.
    let mut lost: Vec<String> = revokes(eb)
        .difference(&revokes(ea))
        .filter(|f| kept(f) && !(still_revokes && f.ends_with(" row")) && !is_grant_event(name))
        .cloned()
        .collect();
    // A revoking call (`remove_role(:pro)`, `deactivate`) that is gone, with nothing in its place.
    if lost.is_empty() && revokes(ea).is_empty() && !opaque(ea, OpaqueKind::Revoke) {
        lost.extend(eb.opaque.iter().filter(|o| o.kind == OpaqueKind::Revoke).map(|o| format!("{}()", o.name)));
        lost.dedup();
    }
    // The revoked column is dropped by the change, and nothing else on this ending event
    // revokes: access now rests on whatever replaced the column (a period end, a status),
    // which the event no longer moves.
    let dropped_alone: Vec<String> = revokes(eb).difference(&revokes(ea)).filter(|f| !kept(f)).cloned().collect();
    if lost.is_empty() && revoking && !dropped_alone.is_empty() && revokes(ea).is_empty() && !opaque(ea, OpaqueKind::Revoke) {
        out.push(
            Problem::new("WH005", name, ea.line, format!(
                "{name} revoked {} before; this change drops the column {} and the event now ends access in no other way: whatever access is read from now (a period end, a status) is not moved when the subscription ends",
                describe_writes(eb, true), dropped_alone.join(", ")
            ))
            .with("fields_no_longer_revoked", dropped_alone)
            .unless_untraced(eb, ea),
        );
        return;
    }
    if !lost.is_empty() && !opaque(ea, OpaqueKind::Revoke) {
        let still: Vec<String> = revokes(ea).into_iter().collect();
        let tail = if still.is_empty() { String::new() } else { format!(" (it still revokes {})", still.join(", ")) };
        out.push(
            Problem::new("WH005", name, ea.line, format!("{name} revoked {} before; now it no longer revokes {}{tail}", describe_writes(eb, true), lost.join(", ")))
                .with("fields_no_longer_revoked", lost)
                .unless_untraced(eb, ea),
        );
    }
}

/// A gate that lets only paying statuses through.
fn only_paying(gate: &StatusGate) -> bool {
    matches!(gate, StatusGate::Allow(set) if !set.is_empty() && set.iter().all(|s| ["active", "trialing", "paid"].contains(&s.as_str())))
}

fn describe_writes(e: &EventModel, revoke: bool) -> String {
    let parts: Vec<String> = e
        .access_writes
        .iter()
        .filter(|w| (w.value == ValueKind::Revoke) == revoke || w.value == ValueKind::Derived)
        .map(|w| format!("{} = {}", w.field, w.value_text))
        .collect();
    let mut parts = parts;
    // Calls whose names say what they do (`setPlus(id, false)`, `revokeAccess(user)`).
    let kind = if revoke { OpaqueKind::Revoke } else { OpaqueKind::Grant };
    parts.extend(e.opaque.iter().filter(|o| o.kind == kind).map(|o| format!("{}()", o.name)));
    parts.dedup();
    parts.join(", ")
}

fn plan_names(m: &HandlerModel) -> BTreeSet<String> {
    let mut names: BTreeSet<String> = m.plan_map.values().map(|(p, _)| p.clone()).collect();
    for e in m.events.values() {
        for w in &e.access_writes {
            if vocab::is_plan_field(&w.field) && w.value == ValueKind::Grant {
                names.insert(w.value_text.trim_matches(['\'', '"']).to_string());
            }
        }
    }
    names.retain(|n| !vocab::is_revoking_literal(n));
    names
}

/// Plan names the new version writes that the base did not.
pub fn new_plan_names(b: &HandlerModel, a: &HandlerModel) -> Vec<String> {
    plan_names(a).difference(&plan_names(b)).cloned().collect()
}

fn plan_drift(b: &HandlerModel, a: &HandlerModel, ctx: &Context, out: &mut Vec<Problem>) {
    let (before, after) = (plan_names(b), plan_names(a));
    let added: Vec<&String> = after.difference(&before).filter(|n| !ctx.plans_elsewhere.contains(*n)).collect();
    let removed: Vec<&String> = before.difference(&after).collect();
    let remapped: Vec<String> = b
        .plan_map
        .iter()
        .filter_map(|(price, (plan, _))| {
            a.plan_map.get(price).filter(|(p2, _)| p2 != plan && !ctx.plans_elsewhere.contains(p2)).map(|(p2, _)| format!("{price}: {plan} -> {p2}"))
        })
        .collect();
    if (!added.is_empty() && !removed.is_empty()) || !remapped.is_empty() {
        let line = a.plan_map.values().map(|(_, l)| *l).filter(|l| *l > 0).min().unwrap_or(a.entry_line);
        let what = if remapped.is_empty() {
            format!(
                "The handler wrote plan {} before; now it writes {}, which nothing else in the repo uses",
                removed.iter().map(|s| format!("'{s}'")).collect::<Vec<_>>().join(", "),
                added.iter().map(|s| format!("'{s}'")).collect::<Vec<_>>().join(", ")
            )
        } else {
            format!("The price->plan map changed ({}), and the new plan names are used nowhere else", remapped.join("; "))
        };
        out.push(
            Problem::new("WH013", "", line, what)
                .with("plans_before", json!(before.iter().collect::<Vec<_>>()))
                .with("plans_after", json!(after.iter().collect::<Vec<_>>())),
        );
    }
}
