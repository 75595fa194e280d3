//! The line review of a change: every changed line read on its own (see
//! [`super::hunks`]), for handlers and the billing code they call, added to what the
//! handler models found.

use std::collections::BTreeSet;

use super::analyzed::Analyzed;
use super::*;

/// The changed lines read one by one (see [`hunks`]), for handlers and for billing code
/// they may call. From diff text it is the review of what the hunks show; with both
/// versions known (git mode, or diff text the checkout completed) the hunks are rebuilt
/// with wide context and add what the handler model did not report for that file.
pub(super) fn line_review(changes: &[FileChange], analyzed: &[Analyzed], model_findings: &[Finding], fields: &[String], dropped: &BTreeSet<String>, unexamined: &mut Vec<String>) -> Vec<Finding> {
    let per_file: Vec<(&FileChange, &str, Vec<Hunk>, BTreeSet<String>)> = changes
        .iter()
        .filter_map(|c| {
            let path = c.new_path.as_deref().or(c.old_path.as_deref())?;
            if c.partial {
                // Only the hunks are known: the aliases they show (removed lines included).
                let shown: Vec<&str> = c.hunks.iter().flat_map(|h| h.lines.iter().map(|(_, l)| l.as_str())).collect();
                return Some((c, path, c.hunks.clone(), vocab::provider_aliases(&shown.join("\n"))));
            }
            // An added or deleted file is all added or all removed lines (moves land there).
            fn text(v: &Option<Vec<u8>>) -> Option<&str> {
                v.as_deref().map_or(Some(""), |b| std::str::from_utf8(b).ok())
            }
            let (Some(b), Some(a)) = (text(&c.before), text(&c.after)) else { return None };
            Language::of_path(path)?;
            // Replaced by a re-export of another module: its code moved there, and the model
            // (built from that module) judges what it does now.
            if resolve::reexport_spec(a).is_some() && !b.is_empty() {
                return None;
            }
            Some((c, path, hunks::of_texts(b, a, 25), vocab::provider_aliases(b)))
        })
        .collect();
    let mut added = hunks::Added::of(per_file.iter().flat_map(|(_, _, h, _)| h), fields);
    added.dropped = dropped.clone();
    added.writes_no_access = analyzed.iter().filter_map(|a| a.before.as_ref()).flat_map(|m| m.events.values()).flat_map(|e| e.writes_no_access.iter().cloned()).collect();
    // Handlers whose models see the same effects on every event in both versions, and the
    // files they reach (that no handler with changed effects also reaches): a removed call
    // of a helper the model followed and saw writing access (a service renamed, moved to
    // another file) lost no grant or revocation. Other removed lines are still judged: the
    // model may not have seen the write they made.
    let (same, changed): (Vec<&Analyzed>, Vec<&Analyzed>) =
        analyzed.iter().partition(|a| matches!((&a.before, &a.after), (Some(b), Some(m)) if b.same_effects(m)));
    let files_of = |a: &&Analyzed| std::iter::once(a.path.clone()).chain(a.old_path.clone()).chain(a.helpers.iter().cloned()).collect::<Vec<_>>();
    let changed_effects: BTreeSet<String> = changed.iter().flat_map(files_of).collect();
    let moved_only: BTreeSet<String> = same.iter().flat_map(files_of).filter(|p| !changed_effects.contains(p)).collect();
    let followed: BTreeSet<String> = same
        .iter()
        .filter_map(|a| a.before.as_ref())
        .flat_map(|m| m.events.values().flat_map(|e| e.writes_access.iter().cloned()))
        .collect();
    let removed_line = |f: &Finding| f.evidence.get("removed_line").and_then(|v| v.as_str()).map(str::to_string);
    let calls_followed = |f: &Finding| {
        let removed = removed_line(f).map(|l| crate::webhook::lang::syntax::squash(&l)).unwrap_or_default();
        followed.iter().any(|n| n.len() >= 6 && removed.contains(n.as_str()))
    };
    let mut out = Vec::new();
    for (c, path, file_hunks, provider_aliases) in &per_file {
        let handler = analyzed.iter().any(|a| a.path == *path);
        let billing_code = (detect::billing_path(path) || hunks::mention_billing(file_hunks)) && !crate::paths::is_test_path(path) && Language::of_path(path).is_some();
        if !handler && !billing_code {
            continue;
        }
        // With both versions known, billing code no handler reaches (a query, a seed
        // script, an admin table) moves no access on its own: an access write there
        // counts only under an event label in view.
        let reached = analyzed.iter().any(|a| a.helpers.contains(*path));
        let off_path = !c.partial && !handler && !reached;
        let found: Vec<Finding> = hunks::review(path, file_hunks, &added, fields)
            .into_iter()
            // Nor does its answer reach the provider: a UI controller's error redirect is no WH010.
            .filter(|f| !(off_path && matches!(&*f.rule, "WH004" | "WH005" | "WH010") && f.evidence.get("event").is_none()))
            .filter(|f| !(moved_only.contains(*path) && matches!(&*f.rule, "WH004" | "WH005") && calls_followed(f)))
            // A call of the provider's SDK (`Stripe.Subscription.update`, an alias of one) writes
            // no app state: removing it loses no grant or revocation of the app's.
            .filter(|f| !(matches!(&*f.rule, "WH004" | "WH005") && removed_line(f).is_some_and(|l| vocab::calls_provider_sdk(&l, provider_aliases))))
            // Nor does a call of a product-analytics client, or a line of its module.
            .filter(|f| !(matches!(&*f.rule, "WH004" | "WH005") && (vocab::is_analytics(file_stem(path)) || removed_line(f).is_some_and(|l| vocab::is_analytics(call_head(&l))))))
            // The model read this event in the base version and saw it move no access: its
            // registration going away is no lost lifecycle event (the model says WH006 itself
            // for an event that did move access).
            .filter(|f| !(f.rule == "WH006" && event_of(f).is_some_and(|e| moved_no_access(analyzed, path, e))))
            // Nor is a removed write on such an event's path a lost grant or revocation when
            // the model saw that event's writes and none of them was access.
            .filter(|f| !(matches!(&*f.rule, "WH004" | "WH005") && event_of(f).is_some_and(|e| wrote_only_other_state(analyzed, path, e))))
            // Nor is a removed line that looked like a check a lost verification when the
            // handler, modelled in full, still verifies.
            .filter(|f| !(f.rule == "WH001" && still_verifies(analyzed, path)))
            .filter(|f| {
                // The model already said it about this file (on its handler, or located here).
                !model_findings.iter().any(|o| {
                    o.rule == f.rule && (o.entity.starts_with(&format!("handler:{path}")) || o.location.as_ref().is_some_and(|l| l.path == *path))
                })
            })
            .collect();
        if c.partial && !handler && found.is_empty() && hunks::touches_billing_state(file_hunks, fields) {
            unexamined.push(format!(
                "{path}: changes billing state and was seen only through the diff's hunks; a webhook handler may call it: review the change in the checkout (`--base REF`) to follow it"
            ));
        } else if c.partial && !handler && found.is_empty() && detect::billing_path(path) && changes_code(file_hunks) && !unexamined.iter().any(|u| u.starts_with(&format!("{path}:"))) {
            // A billing file (`stripe_handler.ex`) whose hunks show no handler and no write:
            // the lines around them, which would say what the removed call did, are not known.
            unexamined.push(format!(
                "{path}: billing code seen only through the diff's hunks, in which no handler or write was recognised; review the change in the checkout (`--base REF`) to read what it calls"
            ));
        }
        out.extend(found);
    }
    out
}

fn file_stem(path: &str) -> &str {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.split('.').next().unwrap_or(name)
}

/// The callee part of a line: what comes before its first `(`.
fn call_head(line: &str) -> &str {
    line.split('(').next().unwrap_or(line)
}

fn event_of(f: &Finding) -> Option<&str> {
    f.evidence.get("event").and_then(|v| v.as_str())
}

/// Whether the handler at `path`, modelled in full, handled `event` in the base version
/// without granting or revoking access (directly or through a helper it followed) and
/// without a call of code it could not see that changes state.
fn moved_no_access(analyzed: &[Analyzed], path: &str, event: &str) -> bool {
    analyzed
        .iter()
        .any(|a| a.path == path && !a.partial && a.before.as_ref().and_then(|m| m.events.get(event)).is_some_and(|e| !e.moves_access() && e.opaque.is_empty()))
}

/// Whether the handler at `path`, modelled in full, saw `event` write rows in the base version,
/// none of them access (`UpdateSubscriptionCancellationStatus` setting a flag in a JSON column).
fn wrote_only_other_state(analyzed: &[Analyzed], path: &str, event: &str) -> bool {
    analyzed.iter().any(|a| {
        a.path == path
            && !a.partial
            && a.before.as_ref().and_then(|m| m.events.get(event)).is_some_and(|e| !e.moves_access() && e.opaque.is_empty() && !e.writes_no_access.is_empty())
    })
}

/// Whether the handler at `path`, modelled in full, verifies events in the new version.
fn still_verifies(analyzed: &[Analyzed], path: &str) -> bool {
    analyzed.iter().any(|a| a.path == path && !a.partial && a.after.as_ref().is_some_and(|m| m.verification.is_some() || m.external.is_some()))
}

/// Whether hunks add or remove a line of code (not only blank lines or comments).
fn changes_code(hunks: &[Hunk]) -> bool {
    hunks.iter().flat_map(|h| &h.lines).any(|(t, l)| *t != ' ' && !l.trim().is_empty() && !hunks::is_comment(l))
}
