//! Handler files as analysed in both versions, and how the files of one change
//! are paired before they are compared: a handler moved to another file, a file
//! that only hands its events to another (a delegate), verification done by the caller.

use std::collections::BTreeSet;

use super::lang::Language;
use super::model::{ExternalVerification, HandlerModel};

pub(super) struct Analyzed {
    pub(super) path: String,
    pub(super) old_path: Option<String>,
    pub(super) change: &'static str,
    pub(super) lang: Language,
    pub(super) before: Option<HandlerModel>,
    pub(super) after: Option<HandlerModel>,
    pub(super) partial: bool,
    /// Where verification mounted from outside the file was removed, in the new tree.
    pub(super) removed_at: Option<(String, u32)>,
    /// Repository files whose functions the handler's calls reach (either version).
    pub(super) helpers: BTreeSet<String>,
    /// The file quotes event types (`'invoice.paid'`): when no event is modelled, its
    /// dispatch is a shape the engine does not read.
    pub(super) quotes_events: bool,
    /// Files the handler's calls reach (either version) that were not followed: too many
    /// were reached. No finding about what they do proves nothing.
    pub(super) not_followed: BTreeSet<String>,
    /// The base version already looked like a webhook handler.
    pub(super) before_handler: bool,
}

/// A file that tells events apart but verifies nothing, reached from a handler
/// that verifies and hands it the event (`await applyStripeEvent(db, event)`):
/// it is that handler's dispatch, reviewed through it, not an unverified handler.
pub(super) fn drop_delegates(analyzed: &mut Vec<Analyzed>) {
    let verified = |m: &Option<HandlerModel>| m.as_ref().is_some_and(|m| m.verification.is_some() && !m.events.is_empty());
    let delegates: BTreeSet<String> = analyzed
        .iter()
        .filter(|x| x.after.as_ref().is_some_and(|m| m.verification.is_none()) && x.before.as_ref().is_none_or(|m| m.verification.is_none()))
        .filter(|x| analyzed.iter().any(|h| h.path != x.path && verified(&h.after) && h.helpers.contains(&x.path)))
        .map(|x| x.path.clone())
        .collect();
    analyzed.retain(|a| !delegates.contains(&a.path));
}

/// A file that tells events apart but verifies nothing, reached only from a handler
/// that verifies and tells no event apart itself: the handler hands it the verified
/// event whole (a queued job, `ProcessJob::dispatch($event)`, `perform_later(event)`).
/// Its events are verified there, before they are handed on: the verification is
/// recorded as the file's outside verification (per version) instead of a WH001.
pub(super) fn verified_by_caller(analyzed: &mut [Analyzed]) {
    let mut marks: Vec<(usize, bool, ExternalVerification)> = Vec::new();
    for (i, x) in analyzed.iter().enumerate() {
        for (before, m) in [(true, &x.before), (false, &x.after)] {
            let Some(m) = m else { continue };
            if m.verification.is_some() || m.external.is_some() || m.events.is_empty() {
                continue;
            }
            let caller = analyzed.iter().find_map(|h| {
                let hm = if before { h.before.as_ref() } else { h.after.as_ref() }?;
                let v = hm.verification.as_ref().filter(|v| v.fail_open.is_none())?;
                (h.path != x.path && hm.events.is_empty() && h.helpers.contains(&x.path)).then(|| (h.path.clone(), v.call.clone(), v.line))
            });
            if let Some((path, call, line)) = caller {
                marks.push((
                    i,
                    before,
                    ExternalVerification {
                        verifier: format!("{call} in {path}, which hands it the verified event"),
                        verifier_name: call,
                        verifier_path: path.clone(),
                        verifier_line: line,
                        mount_path: path,
                        mount_line: line,
                        mount: "the verifying handler hands it the event".into(),
                    },
                ));
            }
        }
    }
    for (i, before, ext) in marks {
        let m = if before { analyzed[i].before.as_mut() } else { analyzed[i].after.as_mut() };
        if let Some(m) = m {
            m.external = Some(ext);
        }
    }
}

/// A handler file deleted and another added that handles some of the same
/// events (`views.py` split into `views/payment.py`, too changed for git to
/// call it a rename): the new file is the old one moved, compared with it
/// rather than reviewed as new code. The same holds between two kept files when
/// the handler leaves one and lands in the other (`users/views.py` to `api/v1/views.py`).
pub(super) fn pair_moves(analyzed: &mut Vec<Analyzed>) {
    let events = |m: &Option<HandlerModel>| m.as_ref().map(|m| m.events.keys().cloned().collect::<BTreeSet<String>>()).unwrap_or_default();
    let mut i = 0;
    while i < analyzed.len() {
        let handled = events(&analyzed[i].after);
        let gained = !handled.is_empty() && events(&analyzed[i].before).is_empty() && matches!(analyzed[i].change, "added" | "modified");
        // A file that now hands its events to the other (a queued job) delegates; it did not move.
        // It still verifies what it hands on; one whose verification left with the events moved
        // (whatever a glob import lets it reach: `use crate::prelude::*`).
        let still_verifies = |d: &Analyzed| d.after.as_ref().is_some_and(|m| m.verification.is_some());
        let lost = |d: &Analyzed| {
            events(&d.after).is_empty()
                && d.lang == analyzed[i].lang
                && !events(&d.before).is_disjoint(&handled)
                && !(d.helpers.contains(&analyzed[i].path) && still_verifies(d))
        };
        let from = gained.then(|| analyzed.iter().enumerate().position(|(j, d)| j != i && matches!(d.change, "deleted" | "modified") && lost(d))).flatten();
        let Some(j) = from else {
            i += 1;
            continue;
        };
        if analyzed[j].change == "modified" {
            // The old file stays (with its other code); its handler is now compared here.
            let before = analyzed[j].before.take();
            let from_path = analyzed[j].path.clone();
            let a = &mut analyzed[i];
            a.before = before;
            a.old_path = Some(from_path);
            a.before_handler = true;
            i += 1;
            continue;
        }
        let gone = analyzed.remove(j);
        let mut i2 = if j < i { i - 1 } else { i };
        let mut before = gone.before;
        let mut helpers = gone.helpers;
        // Routes of one event each (`subscription_canceled.rs`, `payment_failed.rs`) merged
        // into one dispatcher: every deleted file whose events it now handles moved there.
        while let Some(k) = analyzed.iter().position(|d| {
            d.change == "deleted" && d.lang == analyzed[i2].lang && !events(&d.before).is_disjoint(&handled) && events(&d.before).is_disjoint(&events(&before))
        }) {
            let more = analyzed.remove(k);
            if k < i2 {
                i2 -= 1;
            }
            if let (Some(b), Some(m)) = (before.as_mut(), more.before) {
                b.events.extend(m.events);
                b.verification = b.verification.take().or(m.verification);
            }
            helpers.extend(more.helpers);
        }
        let a = &mut analyzed[i2];
        a.before = before;
        a.old_path = Some(gone.path);
        a.change = "renamed";
        a.helpers.extend(helpers);
        a.before_handler = gone.before_handler;
        i = i2 + 1;
    }
}
