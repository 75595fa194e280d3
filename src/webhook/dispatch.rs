//! Where events are told apart: switch/match cases, if/elif chains (and an
//! early return on any other type), handler maps keyed by event type, and
//! decorators naming event types. Each handled event gets the statements or
//! function that handle it.

use std::collections::BTreeSet;

use super::effects::{Body, block_answer};
use super::index::Index;
use super::lang::syntax::{Call, Expr, Pair, Stmt, squash};
use super::vocab;
use super::model::Answer;
use super::vocab::is_event_type;

pub use super::vocab::event_label;

pub struct Dispatch<'a> {
    pub event: String,
    pub line: u32,
    pub body: Body<'a>,
}

#[derive(Default)]
pub struct Found<'a> {
    pub dispatches: Vec<Dispatch<'a>>,
    /// Lines of the statements that dispatch (switch, if chain, map lookup).
    pub sites: BTreeSet<u32>,
    /// Variables holding handler maps: a statement using one dispatches.
    pub map_vars: BTreeSet<String>,
    /// Lines of the dispatches a handler map makes (its entries).
    pub map_lines: BTreeSet<u32>,
    pub unhandled: Option<Answer>,
    /// Read async-stripe's `EventObject::Subscription(..)` arms as the events of that object:
    /// only when nothing names an event type (an `EventType` match around them says more).
    by_object: bool,
}

pub fn discover<'a>(stmts: &'a [Stmt], idx: &Index<'a>) -> Found<'a> {
    let mut found = Found::default();
    scan(stmts, idx, &mut found);
    for f in &idx.all {
        for d in &f.decorators {
            for s in d.strings() {
                if is_event_type(s) {
                    found.dispatches.push(Dispatch { event: s.to_string(), line: f.line, body: Body::Func(f) });
                }
            }
            // A Django signal named for a Paddle Classic alert: `@receiver(subscription_cancelled)`.
            if let Expr::Call(c) = d {
                if let (Some(Expr::Ident(signal)), "receiver") = (c.args.first().map(|a| &a.value), c.callee.last_name()) {
                    if let Some(ev) = vocab::SNAKE_EVENTS.iter().find(|e| **e == signal) {
                        found.dispatches.push(Dispatch { event: ev.to_string(), line: f.line, body: Body::Func(f) });
                    }
                }
            }
        }
        // Framework dispatch by convention: function heads, Cashier method names.
        for ev in f.handles.iter().flat_map(|h| handled_events(h, idx)) {
            found.dispatches.push(Dispatch { event: ev, line: f.line, body: Body::Func(f) });
        }
        scan(&f.body, idx, &mut found);
    }
    if found.dispatches.is_empty() {
        let mut by_object = Found { by_object: true, ..Found::default() };
        scan(stmts, idx, &mut by_object);
        for f in &idx.all {
            scan(&f.body, idx, &mut by_object);
        }
        if !by_object.dispatches.is_empty() {
            found = by_object;
        }
    }
    // Dispatch delegated to a function of another file (`await applyStripeEvent(db, event)`):
    // the events are told apart there, and each is handled from the delegating call.
    if found.dispatches.is_empty() {
        for (f, line) in delegated(stmts, idx) {
            let mut there = Found::default();
            scan(&f.body, idx, &mut there);
            // The delegating call is where the events are handled: a catch around it is a processing error's.
            if !there.dispatches.is_empty() {
                found.sites.insert(line);
            }
            found.dispatches.extend(there.dispatches.into_iter().map(|d| Dispatch { line, ..d }));
            found.unhandled = found.unhandled.or(there.unhandled);
        }
    }
    // A framework base class handles some events itself unless a subclass overrides them.
    for class in &idx.classes {
        let Some(base) = class.framework else { continue };
        for (event, _) in base.builtin {
            if !found.dispatches.iter().any(|d| d.event == *event) {
                found.dispatches.push(Dispatch { event: event.to_string(), line: class.line, body: Body::Inherited(base, class.line) });
            }
        }
    }
    found
}

/// The events one `handles` entry of a function names: an event itself, or a collection of
/// them (a module attribute's list, or the keys of its map).
fn handled_events<'a>(h: &'a Expr, idx: &Index<'a>) -> Vec<String> {
    if let Some(ev) = event_label(h) {
        return vec![ev];
    }
    match unfrozen(idx.value_of(h)) {
        Expr::Object(pairs) => pairs.iter().filter_map(|p| event_label(&p.key)).collect(),
        _ => event_list(h, idx),
    }
}

fn scan<'a>(stmts: &'a [Stmt], idx: &Index<'a>, found: &mut Found<'a>) {
    for (i, s) in stmts.iter().enumerate() {
        match s {
            Stmt::Switch { cases, line, .. } => {
                let mut pending: Vec<(String, u32)> = Vec::new();
                let mut any = false;
                for c in cases {
                    for l in &c.labels {
                        // A literal type, or a pattern (`when /^customer\.subscription\./`) for every type it matches.
                        // A list of types (`when *SUBSCRIPTION_EVENTS`, `case in EVENTS`): each of them.
                        let evs: Vec<String> = event_label(l).map_or_else(
                            || Some(super::vocab::events_matching(l)).filter(|e| !e.is_empty()).unwrap_or_else(|| event_list(l, idx)),
                            |e| vec![e],
                        );
                        let evs = if evs.is_empty() && found.by_object { super::vocab::events_of_object(l) } else { evs };
                        for ev in evs {
                            pending.push((ev, c.line));
                            any = true;
                        }
                    }
                    if c.is_default && any {
                        found.unhandled = block_answer(&c.body).or(found.unhandled);
                    }
                    if !c.body.is_empty() || c.is_default {
                        let handler = returned_handler(&c.body, idx);
                        for (ev, l) in pending.drain(..) {
                            let body = handler.map_or(Body::Stmts(&c.body), Body::Func);
                            found.dispatches.push(Dispatch { event: ev, line: l, body });
                        }
                    }
                    scan(&c.body, idx, found);
                }
                if any {
                    found.sites.insert(*line);
                }
            }
            Stmt::If { cond, then, els, line } => {
                let cond = predicate_test(cond, idx).unwrap_or(cond);
                let (mut pos, mut neg) = (Vec::new(), Vec::new());
                cond_events(cond, idx, false, &mut pos, &mut neg);
                let also = other_conjuncts(cond, idx);
                for ev in &pos {
                    let body = if also.is_empty() { Body::Stmts(then) } else { Body::Guarded(also.clone(), then) };
                    found.dispatches.push(Dispatch { event: ev.clone(), line: *line, body });
                }
                if !neg.is_empty() && pos.is_empty() && super::lang::syntax::ends(then) {
                    // `if (event.type !== 'checkout.session.completed') return ...`: the rest handles it.
                    for ev in &neg {
                        found.dispatches.push(Dispatch { event: ev.clone(), line: *line, body: Body::Stmts(&stmts[i + 1..]) });
                    }
                    found.sites.insert(*line);
                }
                if !pos.is_empty() {
                    found.sites.insert(*line);
                    let chain_continues = matches!(els.as_slice(), [Stmt::If { cond, .. }] if has_events(cond, idx));
                    if !els.is_empty() && !chain_continues {
                        found.unhandled = block_answer(els).or(found.unhandled);
                    }
                }
                missing_handler_answer(cond, then, found);
                scan(then, idx, found);
                scan(els, idx, found);
            }
            Stmt::Try { body, catches, finally, .. } => {
                scan(body, idx, found);
                for (c, _) in catches {
                    scan(c, idx, found);
                }
                scan(finally, idx, found);
            }
            Stmt::Block { body, .. } => scan(body, idx, found),
            Stmt::Assign { target, value, line } => {
                if handler_map(value, idx, found) || imported_map_lookup(value, *line, idx, found) {
                    match target {
                        Expr::Ident(n) => {
                            found.map_vars.insert(n.clone());
                        }
                        _ => {
                            found.sites.insert(*line);
                        }
                    }
                } else if named_method_dispatch(value, *line, idx, found) {
                    // `handler = globals().get(name)`: calling the variable dispatches.
                    if let Expr::Ident(n) = target {
                        found.map_vars.insert(n.clone());
                    }
                    found.sites.insert(*line);
                }
            }
            Stmt::Expr(e, line) | Stmt::Return { value: Some(e), line } => {
                if handler_map(e, idx, found) || subscriptions(e, idx, found) || event_modules(e, idx, found) || named_method_dispatch(e, *line, idx, found) {
                    found.sites.insert(*line);
                }
            }
            _ => {}
        }
    }
}

/// `const handle = subscriptionEventHandlers[event.type]` where the map is another module's
/// (`import { subscriptionEventHandlers } from "@/utils/stripe_webhooks.ts"`): its entries.
/// A map of this file is found where it is defined.
/// Its entries are placed at the lookup: their own lines are in the other file.
fn imported_map_lookup<'a>(e: &'a Expr, line: u32, idx: &Index<'a>, found: &mut Found<'a>) -> bool {
    let Expr::Index(map, key) = e else { return false };
    let Expr::Ident(name) = map.as_ref() else { return false };
    if idx.values.contains_key(name.as_str()) || !(key.mentions("type") || key.mentions("event")) {
        return false;
    }
    let value = idx.value_of(map);
    if std::ptr::eq(value, map.as_ref()) {
        return false;
    }
    let (before, lines_before) = (found.dispatches.len(), found.map_lines.clone());
    if !handler_map(value, idx, found) {
        return false;
    }
    for d in &mut found.dispatches[before..] {
        d.line = line;
    }
    found.map_lines = lines_before;
    found.map_lines.insert(line);
    true
}

/// A case that hands back the function handling its event (`case 'invoice.paid':
/// return onInvoicePaid;` in a `getEventHandler(type)` the route then calls): that function.
fn returned_handler<'a>(body: &'a [Stmt], idx: &Index<'a>) -> Option<&'a super::lang::syntax::Func> {
    match body {
        [Stmt::Return { value: Some(e @ (Expr::Ident(_) | Expr::Member(..))), .. }] => idx.resolve_call(e),
        _ => None,
    }
}

/// Functions of other files the event is handed to, with the line of the call (at most
/// three): `applyStripeEvent(db, event)`, or a lookup by its type (`getEventHandler(event.type)`).
fn delegated<'a>(stmts: &'a [Stmt], idx: &Index<'a>) -> Vec<(&'a super::lang::syntax::Func, u32)> {
    let mut out: Vec<(&'a super::lang::syntax::Func, u32)> = Vec::new();
    let is_event = |e: &Expr| matches!(e, Expr::Ident(n) if vocab::is_event_var(n));
    super::lang::syntax::each_call(stmts, &mut |c| {
        let passes_event = c.args.iter().any(|a| match &a.value {
            Expr::Member(o, p) => is_event(o) && matches!(p.as_str(), "type" | "event_type" | "eventType"),
            e => is_event(e),
        }) || matches!(&c.callee, Expr::Member(o, _) if is_event(o)); // `stripe_event.update_records!`: a method of the event's own model
        // `await stripeService.webhook(request)`: the whole request handed on, to a function
        // that itself tells the events apart (and verifies them).
        // Or the payload (`process_webhook(payload)`), to a function that parses and dispatches it.
        let passes_request = c.args.iter().any(|a| matches!(&a.value, Expr::Ident(n) if matches!(n.as_str(), "request" | "req" | "ctx" | "context" | "payload" | "webhook_body" | "webhookBody")));
        if !(passes_event || passes_request) || out.len() >= 3 {
            return;
        }
        let dispatches = |f: &super::lang::syntax::Func| {
            let mut there = Found::default();
            scan(&f.body, idx, &mut there);
            !there.dispatches.is_empty()
        };
        if let Some(f) = idx.resolve_call(&c.callee).filter(|f| idx.is_external(f) && (passes_event || dispatches(f))) {
            if !out.iter().any(|(g, _)| std::ptr::eq(*g, f)) {
                out.push((f, c.line));
            }
        }
    });
    out
}

/// `const handler = handlers[event.type]; if (!handler) return 400`: what an unknown type answers.
fn missing_handler_answer(cond: &Expr, then: &[Stmt], found: &mut Found) {
    if let Expr::Unary(op, inner) = cond {
        if op == "!" && matches!(&**inner, Expr::Ident(_)) && found.map_vars.iter().any(|m| inner.mentions(m)) {
            found.unhandled = block_answer(then).or(found.unhandled);
        }
    }
}

/// The parts of an `a && b && ...` condition that test something other than the event type.
fn other_conjuncts<'a>(cond: &'a Expr, idx: &Index) -> Vec<&'a Expr> {
    match cond {
        Expr::Binary(op, l, r) if matches!(op.as_str(), "&&" | "and") => {
            let mut out = other_conjuncts(l, idx);
            out.extend(other_conjuncts(r, idx));
            out
        }
        other if has_events(other, idx) => Vec::new(),
        other => vec![other],
    }
}

/// The test a predicate method of the file makes (`if charge_succeeded?` where
/// `def charge_succeeded? = "charge.succeeded" == event_type`), when it tests the
/// event type. One level only: a predicate calling another is not followed.
fn predicate_test<'a>(cond: &'a Expr, idx: &Index<'a>) -> Option<&'a Expr> {
    let test = idx.predicate_body(cond)?;
    let (mut pos, mut neg) = (Vec::new(), Vec::new());
    cond_events(test, idx, false, &mut pos, &mut neg);
    (!pos.is_empty() || !neg.is_empty()).then_some(test)
}

fn has_events(cond: &Expr, idx: &Index) -> bool {
    let (mut pos, mut neg) = (Vec::new(), Vec::new());
    cond_events(cond, idx, false, &mut pos, &mut neg);
    !pos.is_empty()
}

/// Event types a condition selects (`pos`) or excludes (`neg`).
fn cond_events(e: &Expr, idx: &Index, negated: bool, pos: &mut Vec<String>, neg: &mut Vec<String>) {
    let mut push = |evs: Vec<String>, positive: bool| {
        if positive != negated { pos.extend(evs) } else { neg.extend(evs) }
    };
    match e {
        Expr::Unary(op, a) if op == "!" || op == "not" => cond_events(a, idx, !negated, pos, neg),
        Expr::Binary(op, l, r) if op == "&&" || op == "||" => {
            cond_events(l, idx, negated, pos, neg);
            cond_events(r, idx, negated, pos, neg);
        }
        Expr::Binary(op, l, r) if op == "==" || op == "!=" => {
            for side in [l, r] {
                if let Some(ev) = event_label(side).filter(|_| matches!(&**side, Expr::Str(_))) {
                    push(vec![ev], op == "==");
                }
            }
        }
        Expr::Binary(op, _, r) if op == "in" || op == "not in" => push(event_list(r, idx), op == "in"),
        // `let lifecycle = matches!(...); if lifecycle { ... }` (lowered to `in [...]`) or
        // `is_paid = event.type == "invoice.paid"`: the test the variable holds.
        Expr::Ident(_) if matches!(idx.value_of(e), Expr::Binary(op, ..) if op == "in" || op == "==") => cond_events(idx.value_of(e), idx, negated, pos, neg),
        Expr::Call(c) if matches!(c.callee.last_name(), "includes" | "has" | "__contains__") => {
            if let Expr::Member(o, _) = &c.callee {
                push(event_list(o, idx), true);
            }
        }
        // `type.startsWith('customer.subscription.')`, `strings.HasPrefix(t, "invoice.")`,
        // `str_starts_with($type, ...)`, `start_with?`: every known type with the prefix.
        Expr::Call(c) if matches!(squash(c.callee.last_name()).as_str(), "startswith" | "hasprefix" | "strstartswith") => {
            let prefix = c.args.iter().find_map(|a| match &a.value {
                Expr::Str(s) => Some(s.clone()),
                _ => None,
            });
            if let Some(p) = prefix {
                push(super::vocab::events_with_prefix(&p), true);
            }
        }
        // A regex test: `/^customer\.subscription\./.test(type)`, `type.match?(/.../)`, `type =~ /.../`.
        Expr::Call(c) if matches!(squash(c.callee.last_name()).as_str(), "test" | "match" | "matches") => {
            let recv = match &c.callee {
                Expr::Member(o, _) => Some(&**o),
                _ => None,
            };
            // Against the type itself (`name.match(/checkout/)`), a plain word is a pattern too.
            let on_type = recv.is_some_and(|r| ["type", "name", "event"].iter().any(|w| squash(&r.render()).ends_with(w)));
            let matching = if on_type { super::vocab::events_matching_type } else { super::vocab::events_matching };
            let mut evs: Vec<String> = recv.into_iter().chain(c.args.iter().map(|a| &a.value)).flat_map(matching).collect();
            // A file that lists the types it takes (`KNOWN_EVENTS = %w[...]`) receives only those.
            if on_type && evs.iter().any(|e| idx.mentioned.contains(e.as_str())) {
                evs.retain(|e| idx.mentioned.contains(e.as_str()));
            }
            push(evs, true);
        }
        Expr::Binary(op, l, r) if op == "=~" => push([l, r].into_iter().flat_map(|x| super::vocab::events_matching(x)).collect(), true),
        _ => {}
    }
}

fn event_list(e: &Expr, idx: &Index) -> Vec<String> {
    event_list_at(e, idx, 0)
}

/// Bounded: `events = Set.new(events)` makes the values a cycle.
fn event_list_at(e: &Expr, idx: &Index, depth: u8) -> Vec<String> {
    if depth > 4 {
        return Vec::new();
    }
    match unfrozen(idx.value_of(e)) {
        Expr::Array(items) => items
            .iter()
            .filter_map(|i| match i {
                Expr::Str(s) if is_event_type(s) => Some(s.clone()),
                _ => None,
            })
            .collect(),
        Expr::Call(c) => c.args.first().map(|a| event_list_at(&a.value, idx, depth + 1)).unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// Ruby's `[...].freeze` / `{...}.freeze`: the literal inside.
fn unfrozen(e: &Expr) -> &Expr {
    match e {
        Expr::Member(inner, m) if m == "freeze" => inner,
        other => other,
    }
}

/// Records the entries of an object or dict keyed by event types. True when there were any.
fn handler_map<'a>(e: &'a Expr, idx: &Index<'a>, found: &mut Found<'a>) -> bool {
    handler_map_at(e, idx, found, false)
}

fn handler_map_at<'a>(e: &'a Expr, idx: &Index<'a>, found: &mut Found<'a>, nested: bool) -> bool {
    let Expr::Object(pairs) = unfrozen(e) else { return false };
    if is_value_table(pairs, idx) {
        return false;
    }
    let mut any = false;
    for p in pairs {
        // `"invoice.paid": ...`, or a computed key naming the event (`[stripeEvents.invoicePaid]:`).
        let ev = match &p.key {
            Expr::Str(ev) if is_event_type(ev) => ev.clone(),
            // A map per provider (`{"stripe": {"invoice.paid": handle_invoice_paid}, "pretix": ..}`).
            Expr::Str(k) if matches!(&p.value, Expr::Object(_)) && !nested && !k.starts_with('$') => {
                any |= handler_map_at(&p.value, idx, found, true);
                continue;
            }
            Expr::Str(_) => continue,
            key => match event_label(idx.value_of(key)).or_else(|| event_label(key)) {
                Some(ev) => ev,
                None => continue,
            },
        };
        let body = match &p.value {
            Expr::Lambda(f) => Body::Func(f),
            // `"invoice.paid": require("./events/invoice.paid")`: what the module exports.
            Expr::Call(c) if loaded_module(c).is_some() => module_body(loaded_module(c).unwrap_or_default(), p.line, idx),
            // `"invoice.paid" => :handle_invoice_paid` (Ruby symbols, PHP method names).
            Expr::Str(name) if idx.funcs.contains_key(name.as_str()) => Body::Func(idx.funcs[name.as_str()]),
            // `"subscription.created" => :on_create_subscription` applied to a module of
            // another file (`apply(Billing, Map.fetch!(@handlers, type), [params])`).
            Expr::Str(name) if name.len() >= 6 && name.chars().all(|c| c.is_alphanumeric() || c == '_') && idx.callees.ident(name).is_some() => {
                Body::Func(idx.callees.ident(name).expect("checked above"))
            }
            callee => match idx.resolve_call(callee).or_else(|| idx.funcs.get(callee.last_name()).copied()) {
                Some(f) => Body::Func(f),
                None => Body::Opaque(callee.last_name().to_string(), p.line),
            },
        };
        found.dispatches.push(Dispatch { event: ev, line: p.line, body });
        found.map_lines.insert(p.line);
        any = true;
    }
    any
}

/// `%{"invoice.payment_succeeded" => "paid", "invoice.payment_failed" => "payment_failed"}`:
/// a table of the status each event writes, read by the handler, not a handler per event.
fn is_value_table(pairs: &[Pair], idx: &Index) -> bool {
    let words: Vec<&str> = pairs.iter().filter_map(|p| if let Expr::Str(s) = &p.value { Some(s.as_str()) } else { None }).collect();
    words.len() == pairs.len()
        && !words.iter().any(|w| idx.funcs.contains_key(w) || idx.callees.ident(w).is_some())
        && words.iter().any(|w| vocab::is_subscription_status_value(&Expr::Str(w.to_string())) || vocab::is_tier_status(w) || w.ends_with("failed"))
}

/// A method looked up by a name built from the event type and called:
/// Python `getattr(self, event.type.replace(".", "_"))(obj)`, Ruby
/// `send("handle_#{event.type.tr('.', '_')}", event)`, `globals().get(name)`, PHP
/// `$this->{$method}($payload)`. Each method of the file named after
/// an event (`customer_subscription_deleted`, `handle_invoice_paid`) handles that event.
/// True when there were any.
fn named_method_dispatch<'a>(e: &'a Expr, line: u32, idx: &Index<'a>, found: &mut Found<'a>) -> bool {
    let mut lookup = false;
    e.walk(&mut |x| {
        let Expr::Call(c) = x else { return };
        let name_arg = match (&c.callee, c.args.as_slice()) {
            (Expr::Ident(n), [recv, name, ..]) if n == "getattr" && matches!(&recv.value, Expr::Ident(r) if r == "self" || r == "cls") => Some(&name.value),
            (callee, [name, ..]) if matches!(callee.last_name(), "send" | "public_send" | "__send__") => Some(&name.value),
            _ => None,
        };
        // The name is the event's (`event.type`, Paddle Classic's `alert_name`), directly or through a local.
        let names_event = |a: &Expr| a.mentions("type") || a.mentions("event") || a.mentions("alert");
        lookup |= name_arg.is_some_and(|a| names_event(a) || names_event(idx.value_of(a)));
        // Python `globals().get('handle_%s' % type.replace('.', '_'))`: a module function by name.
        lookup |= matches!(&c.callee, Expr::Member(o, m) if m == "get" && matches!(o.as_ref(), Expr::Call(g) if g.callee.last_name() == "globals"));
        // PHP `$this->{$method}($payload)` after `$method = 'handle'.Str::studly(...)`.
        lookup |= matches!(&c.callee, Expr::Member(recv, m) if m.starts_with(['{', '$']) && matches!(recv.as_ref(), Expr::Ident(r) if r == "this"));
    });
    if !lookup {
        return false;
    }
    let mut any = false;
    // An allow-list at this line (`if HANDLED.include?(alert_name)`) already named the events
    // handled: a method for an event it leaves out is not run.
    let allow_listed = found.dispatches.iter().any(|d| d.line == line);
    for f in &idx.all {
        let squashed = super::lang::syntax::squash(&f.name);
        let bare = ["handle", "on", "process"].iter().find_map(|p| squashed.strip_prefix(p)).unwrap_or(&squashed);
        // The method's own name first: `subscription_updated` is that Paddle Classic alert, not
        // the Paddle Billing event its squashed letters also spell.
        let Some(ev) = vocab::event_from_name(&f.name).or_else(|| vocab::event_from_name(bare)) else { continue };
        // `public_send(alert_name) if HANDLED.include?(alert_name)`: the allow-list named the
        // event at this line already; the method is what it runs.
        if let Some(d) = found.dispatches.iter_mut().find(|d| d.event == ev && d.line == line) {
            d.body = Body::Func(f);
            any = true;
        } else if !allow_listed && !found.dispatches.iter().any(|d| d.event == ev) {
            found.dispatches.push(Dispatch { event: ev.to_string(), line, body: Body::Func(f) });
            any = true;
        }
    }
    any
}

/// A module per event type, loaded by name from a list of types:
/// `eventCodes.forEach(code => (events[code] = require(`./events/${code}`)))`.
/// Each listed type is handled by what its module exports. True when there were any.
fn event_modules<'a>(e: &'a Expr, idx: &Index<'a>, found: &mut Found<'a>) -> bool {
    let Expr::Call(c) = e else { return false };
    let Expr::Member(list, method) = &c.callee else { return false };
    if !matches!(method.as_str(), "forEach" | "map") {
        return false;
    }
    let Some(Expr::Lambda(f)) = c.args.first().map(|a| &a.value) else { return false };
    let Some(param) = f.params.first() else { return false };
    let placeholder = format!("${{{param}}}");
    let mut template = None;
    super::lang::syntax::each_call(&f.body, &mut |r| {
        if let Some(t) = loaded_module(r).filter(|t| t.contains(&placeholder)) {
            template = Some(t);
        }
    });
    let Some(template) = template else { return false };
    let events = event_list(list, idx);
    for ev in &events {
        let body = module_body(&template.replace(&placeholder, ev), c.line, idx);
        found.dispatches.push(Dispatch { event: ev.clone(), line: c.line, body });
    }
    !events.is_empty()
}

/// The specifier of `require('x')` / `import('x')`.
fn loaded_module(c: &Call) -> Option<&str> {
    match (c.callee.last_name(), c.args.first().map(|a| &a.value)) {
        ("require" | "import", Some(Expr::Str(spec))) => Some(spec),
        _ => None,
    }
}

/// What a loaded module exports, else the module as an opaque callee.
fn module_body<'a>(spec: &str, line: u32, idx: &Index<'a>) -> Body<'a> {
    match idx.callees.default_export(spec) {
        Some(f) => Body::Func(f),
        None => Body::Opaque(spec.to_string(), line),
    }
}

/// Calls that register a handler for an event type: stripe_event's
/// `events.subscribe "customer.subscription.deleted" do |event| ... end`,
/// `webhooks.on("invoice.paid", handler)`. True when there were any.
fn subscriptions<'a>(e: &'a Expr, idx: &Index<'a>, found: &mut Found<'a>) -> bool {
    let mut any = false;
    let mut calls = Vec::new();
    e.walk(&mut |x| {
        if let Expr::Call(c) = x {
            calls.push(&**c);
        }
    });
    for c in calls {
        let events: Vec<String> = c.args.iter().filter_map(|a| match &a.value {
            Expr::Str(s) => super::vocab::unprefixed_event(s).map(str::to_string),
            _ => None,
        }).collect();
        if events.is_empty() {
            continue;
        }
        let handler = c.args.iter().rev().find_map(|a| match &a.value {
            Expr::Lambda(f) => Some(Body::Func(f)),
            Expr::Ident(_) | Expr::Member(..) => idx.resolve_call(&a.value).or_else(|| idx.funcs.get(a.value.last_name()).copied()).map(Body::Func),
            // `subscribe "x", CancelSubscription.new`: the object's `call` method, in this
            // file or in the class's own file (`Subscribers::SubscriptionChanged.new`).
            Expr::Call(k) if k.args.is_empty() => {
                let class = k.callee.last_name();
                idx.all
                    .iter()
                    .copied()
                    .find(|f| f.owner.as_deref().is_some_and(|o| o == class || o.ends_with(&format!("::{class}"))) && f.name == "call")
                    .or_else(|| idx.callees.member(&a.value, "call"))
                    .or_else(|| idx.callees.member(&k.callee, "call"))
                    .map(Body::Func)
                    .or_else(|| Some(Body::Opaque(class.to_string(), c.line)))
            }
            _ => None,
        });
        let Some(handler) = handler else { continue };
        for ev in events {
            let body = match &handler {
                Body::Func(f) => Body::Func(f),
                Body::Opaque(n, l) => Body::Opaque(n.clone(), *l),
                _ => continue,
            };
            found.dispatches.push(Dispatch { event: ev, line: c.line, body });
            any = true;
        }
    }
    any
}
