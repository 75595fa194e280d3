//! Conditions around a write: event-type tests, ordering guards, missing-row checks and
//! the subscription statuses a condition allows or denies.

use super::*;

/// Whether a condition tests the event type, and if so whether `event` passes:
/// `type === 'invoice.paid'`, `a || b`, `!(...)`, `!=`.
pub(super) fn event_test(cond: &Expr, event: &str) -> Option<bool> {
    match cond {
        Expr::Binary(op, l, r) if op == "==" || op == "!=" => {
            let label = vocab::event_label(r).or_else(|| vocab::event_label(l))?;
            let other = if vocab::event_label(r).is_some() { l } else { r };
            if !(other.mentions("type") || other.mentions("event") || other.mentions("alert")) {
                return None;
            }
            Some((label == event) == (op == "=="))
        }
        Expr::Binary(op, l, r) if op == "||" => match (event_test(l, event), event_test(r, event)) {
            (Some(a), Some(b)) => Some(a || b),
            _ => None,
        },
        Expr::Unary(op, inner) if op == "!" => event_test(inner, event).map(|b| !b),
        _ => None,
    }
}

/// Is this the event payload (`event.data.object.x = ...`), not app state?
pub(super) fn is_payload(target: &Expr) -> bool {
    let root = vocab::receiver_root(target).unwrap_or_default();
    ["event", "evt", "payload", "req", "request", "body", "data"].contains(&root.as_str())
}

pub(super) fn mentions_prop(e: &Expr, prop: &str) -> bool {
    let mut found = false;
    e.walk(&mut |x| {
        if let Expr::Member(_, p) = x {
            found |= p == prop;
        }
    });
    found
}

/// `event.created > user.lastEventAt`: an ordering guard.
pub(super) fn ordering_guard(e: &Expr) -> bool {
    let mut found = false;
    e.walk(&mut |x| {
        if let Expr::Binary(op, l, r) = x {
            if matches!(op.as_str(), "<" | ">" | "<=" | ">=") && (l.mentions("created") || r.mentions("created")) {
                found = true;
            }
        }
    });
    found
}

/// `!user`, `user is None`, `user == null`: the row was not found.
pub(super) fn missing_row_check(cond: &Expr) -> bool {
    match cond {
        Expr::Unary(op, a) => op == "!" && matches!(&**a, Expr::Ident(_) | Expr::Member(..)),
        Expr::Binary(op, l, r) => op == "==" && matches!(&**r, Expr::Null) && matches!(&**l, Expr::Ident(_)),
        _ => false,
    }
}

/// Does `word` appear with positive polarity (not under a negation)?
pub(super) fn positive_mention(e: &Expr, word: &str, negated: bool) -> bool {
    match e {
        Expr::Unary(op, a) if op == "!" => positive_mention(a, word, !negated),
        Expr::Binary(op, l, r) if op == "&&" || op == "||" => positive_mention(l, word, negated) || positive_mention(r, word, negated),
        Expr::Binary(op, l, r) if op == "==" || op == "!=" => {
            let flips = matches!(&**r, Expr::Bool(false) | Expr::Null) ^ (op == "!=");
            positive_mention(l, word, negated ^ flips)
        }
        Expr::Cond(c, ..) => positive_mention(c, word, negated),
        other => !negated && other.mentions(word),
    }
}

/// Collects subscription statuses a condition allows or denies.
pub(super) fn status_atoms(e: &Expr, idx: &Index, negated: bool, allow: &mut BTreeSet<String>, deny: &mut BTreeSet<String>) {
    status_atoms_at(e, idx, negated, allow, deny, 0)
}

pub(super) fn status_atoms_at(e: &Expr, idx: &Index, negated: bool, allow: &mut BTreeSet<String>, deny: &mut BTreeSet<String>, depth: u8) {
    if depth > 4 {
        return;
    }
    let status_atoms = |e: &Expr, idx: &Index, negated: bool, allow: &mut BTreeSet<String>, deny: &mut BTreeSet<String>| {
        status_atoms_at(e, idx, negated, allow, deny, depth + 1)
    };
    // A predicate method (`subscription_reactivated?`): the test it returns.
    if let Some(test) = idx.predicate_body(e) {
        return status_atoms(test, idx, negated, allow, deny);
    }
    if let Expr::Ident(_) = e {
        let v = idx.value_of(e);
        if !std::ptr::eq(v, e) {
            status_atoms(v, idx, negated, allow, deny);
        }
        return;
    }
    let mut put = |statuses: Vec<String>, positive: bool| {
        for s in statuses {
            if positive != negated {
                allow.insert(s);
            } else {
                deny.insert(s);
            }
        }
    };
    match e {
        Expr::Unary(op, a) if op == "!" => status_atoms(a, idx, !negated, allow, deny),
        Expr::Binary(op, l, r) if op == "&&" || op == "||" => {
            status_atoms(l, idx, negated, allow, deny);
            status_atoms(r, idx, negated, allow, deny);
        }
        Expr::Cond(c, ..) => status_atoms(c, idx, negated, allow, deny),
        Expr::Binary(op, l, r) if op == "==" || op == "!=" => {
            let (subject, lit) = match (status_literal(r), status_literal(l)) {
                (Some(v), _) => (&**l, v),
                (None, Some(v)) => (&**r, v),
                _ => return,
            };
            // `previous_attributes.status == 'unpaid'` is what the status was, not what it is.
            let previous = subject.mentions("previous_attributes") || subject.mentions("previousattributes");
            if subject.mentions("status") && !previous {
                put(vec![lit], op == "==");
            }
        }
        Expr::Binary(op, l, r) if op == "in" || op == "not in" => {
            if l.mentions("status") {
                put(status_list(r, idx), op == "in");
            }
        }
        Expr::Call(c) if matches!(c.callee.last_name(), "includes" | "has" | "__contains__") => {
            if let (Expr::Member(o, _), Some(a)) = (&c.callee, c.args.first()) {
                if a.value.mentions("status") {
                    put(status_list(o, idx), true);
                }
            }
        }
        _ => {}
    }
}

/// A subscription status written as a string (`'past_due'`) or as an enum constant
/// (`SubscriptionStatus.past_due`, `Status.PAST_DUE`, `SubscriptionStatus::PastDue`).
fn status_literal(e: &Expr) -> Option<String> {
    let named = |n: &str| SUBSCRIPTION_STATUSES.iter().find(|s| squash(s) == squash(n)).map(|s| s.to_string());
    match e {
        Expr::Str(v) => named(v).filter(|s| *s == v_lower(v)),
        Expr::Member(o, n) if squash(o.last_name()).contains("status") => named(n),
        _ => None,
    }
}

pub(super) fn v_lower(s: &str) -> String {
    s.to_ascii_lowercase()
}

pub(super) fn status_list(e: &Expr, idx: &Index) -> Vec<String> {
    let v = idx.value_of(e);
    let v = match v {
        Expr::Call(c) => c.args.first().map(|a| idx.value_of(&a.value)).unwrap_or(v),
        other => other,
    };
    let mut out: Vec<String> = v.strings().into_iter().map(v_lower).filter(|s| SUBSCRIPTION_STATUSES.contains(&s.as_str())).collect();
    // A tuple of enum constants: `(SubscriptionStatus.active, SubscriptionStatus.trialing)`.
    if let Expr::Array(items) = v {
        out.extend(items.iter().filter(|i| !matches!(i, Expr::Str(_))).filter_map(status_literal));
    }
    out
}
