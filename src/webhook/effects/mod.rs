//! What handling one event does: follows its statements (and the local
//! functions they call) and records access writes with the conditions that
//! guard them, other state writes, user lookups, refetches and what a
//! missing row answers.

mod access;
mod conditions;
mod lookups;
mod rows;

use std::collections::BTreeSet;

use super::index::Index;
use super::lang::syntax::{Arg, Call, Case, Expr, Func, Pair, Stmt, ends, squash};
use super::timing;
use super::model::{AccessWrite, Answer, Deferral, EventModel, RowWrite, LookupKey, Opaque, OpaqueKind, Status, StatusGate, ValueKind};
use super::vocab::{self, FrameworkBase, SUBSCRIPTION_STATUSES};
use self::access::*;
use self::conditions::*;
use self::lookups::*;

const MAX_DEPTH: usize = 6;

/// What handles one event.
pub enum Body<'a> {
    Stmts(&'a [Stmt]),
    /// The branch of an `if` whose condition tests the event type together with other
    /// conditions (`type == 'checkout.session.completed' && payment_status == 'paid'`):
    /// those other conditions guard every write of the branch.
    Guarded(Vec<&'a Expr>, &'a [Stmt]),
    Func(&'a Func),
    /// A function billguard cannot see (imported from another file).
    Opaque(String, u32),
    /// A framework base class's own handler (Cashier), not overridden here.
    Inherited(&'static FrameworkBase, u32),
}

pub fn walk<'a>(idx: &Index<'a>, event: &str, body: &Body<'a>, out: &mut EventModel) {
    let mut w = Walker { idx, event, out, guards: Vec::new(), stack: Vec::new(), bindings: Vec::new(), locals: Vec::new(), setter_depth: 0, untraced_values: false, sql_binds: Vec::new() };
    match body {
        Body::Stmts(s) => w.block(s),
        Body::Guarded(conds, s) => {
            w.guards.extend(conds.iter().map(|c| ((*c).clone(), false)));
            w.block(s);
        }
        Body::Func(f) => {
            w.func(f);
            // A handler of another file (a subscriber object's `call`): named as a followed helper.
            if idx.is_external(f) && !w.out.access_writes.is_empty() {
                w.out.writes_access.extend([Some(&f.name), f.owner.as_ref()].into_iter().flatten().map(|n| squash(n)));
            }
        }
        Body::Opaque(name, line) => {
            let kind = vocab::opaque_kind(name).unwrap_or(OpaqueKind::Write);
            w.out.opaque.push(Opaque { name: name.clone(), kind, line: *line });
        }
        Body::Inherited(base, line) => w.framework_write(base, event, *line),
    }
}

struct Walker<'a, 'w> {
    idx: &'w Index<'a>,
    event: &'w str,
    out: &'w mut EventModel,
    /// Conditions that hold where we are; `true` = negated (an early exit's condition).
    guards: Vec<(Expr, bool)>,
    stack: Vec<&'a Func>,
    /// Parameters of the followed local functions, bound to the caller's arguments.
    bindings: Vec<Vec<(&'a str, &'a Expr)>>,
    /// Locals assigned so far, with the depth of `bindings` they belong to.
    locals: Vec<(usize, &'a str, &'a Expr)>,
    /// How deep [`Walker::nested`] has gone into the values of one write.
    setter_depth: usize,
    /// Writing fields a changeset casts from attributes built elsewhere: what the
    /// values hold, and whether a status decided them, is not seen (no WH016 claim).
    untraced_values: bool,
    /// The values a query call's chain binds to its placeholders, in order:
    /// `sqlx::query(sql).bind(a).bind(b)` (sqlx, and Diesel's `sql_query`).
    sql_binds: Vec<(*const Call, Vec<&'a Expr>)>,
}

impl<'a> Walker<'a, '_> {
    fn func(&mut self, f: &'a Func) {
        if self.stack.len() >= MAX_DEPTH || self.stack.iter().any(|g| std::ptr::eq(*g, f)) {
            return;
        }
        self.stack.push(f);
        self.block(&f.body);
        self.stack.pop();
    }

    fn block(&mut self, stmts: &'a [Stmt]) {
        let base = self.guards.len();
        for s in stmts {
            match s {
                Stmt::If { cond, then, els, line } => {
                    self.expr(cond);
                    if ordering_guard(cond) {
                        self.out.ordering_guard = Some(*line);
                    }
                    if missing_row_check(cond) {
                        if let Some(a) = block_answer(then).filter(|a| a.status.is_error()) {
                            self.out.missing_row.get_or_insert(a);
                        }
                    }
                    // A test of the event type: only the branch this event takes.
                    let takes = event_test(cond, self.event);
                    self.guards.push((cond.clone(), false));
                    if takes != Some(false) {
                        self.block(then);
                    }
                    self.guards.pop();
                    self.guards.push((cond.clone(), true));
                    if takes != Some(true) {
                        self.block(els);
                    }
                    self.guards.pop();
                    if ends(then) && els.is_empty() {
                        self.guards.push((cond.clone(), true));
                    }
                }
                Stmt::Switch { subject, cases, .. } => {
                    self.expr(subject);
                    for c in self.cases_for_event(cases) {
                        let n = self.guards.len();
                        for l in &c.labels {
                            self.guards.push((Expr::Binary("==".into(), Box::new(subject.clone()), Box::new(l.clone())), false));
                        }
                        self.block(&c.body);
                        self.guards.truncate(n);
                    }
                }
                Stmt::Try { body, catches, finally, .. } => {
                    self.block(body);
                    for (c, _) in catches {
                        self.block(c);
                    }
                    self.block(finally);
                }
                Stmt::Block { head, body, .. } => {
                    head.iter().for_each(|h| self.expr(h));
                    self.block(body);
                }
                Stmt::Assign { target, value, line } => {
                    self.expr(value);
                    // A local's latest value, in the frame of the function being walked.
                    if let Expr::Ident(name) = target {
                        self.locals.push((self.bindings.len(), name.as_str(), value));
                    }
                    let field = match target {
                        Expr::Member(_, f) => Some(f.as_str()),
                        Expr::Index(_, i) => match &**i {
                            Expr::Str(f) => Some(f.as_str()),
                            _ => None,
                        },
                        _ => None,
                    };
                    if let Some(f) = field {
                        if self.decides_access(f, value) && !is_payload(target) {
                            self.access(f, value, *line);
                            self.out.state_writes.push(*line);
                        }
                    }
                }
                Stmt::Expr(e, line) => {
                    self.expr(e);
                    // Ruby calls a method without parentheses: `customer_subscription_deleted` and
                    // `Service.new(x).call` are a name and a member read standing as statements.
                    if let Expr::Member(..) | Expr::Ident(_) = e {
                        if let Some(f) = self.idx.resolve_call(e) {
                            self.follow(&[], f);
                        } else if let Some(row) = self.row_removed_by(e) {
                            self.out.state_writes.push(*line);
                            let gate = self.gate(None);
                            self.push_write(format!("{row} row"), ValueKind::Revoke, e.render(), *line, gate, None);
                        }
                    }
                }
                Stmt::Return { value, .. } | Stmt::Throw { value, .. } => {
                    if let Some(v) = value {
                        self.expr(v);
                    }
                }
                Stmt::Break | Stmt::Func(_) | Stmt::Class { .. } => {}
            }
        }
        self.guards.truncate(base);
    }

    /// The cases this event runs when a switch is on the event type (its case
    /// and those it falls through to, else the default); every case otherwise.
    fn cases_for_event(&self, cases: &'a [Case]) -> Vec<&'a Case> {
        let on_events = cases.iter().any(|c| c.labels.iter().any(|l| vocab::event_label(l).is_some()));
        if !on_events {
            return cases.iter().collect();
        }
        let start = cases
            .iter()
            .position(|c| c.labels.iter().any(|l| vocab::event_label(l).as_deref() == Some(self.event)))
            .or_else(|| cases.iter().position(|c| c.is_default));
        let Some(start) = start else { return Vec::new() };
        let mut out = Vec::new();
        for c in &cases[start..] {
            out.push(c);
            if !c.body.is_empty() && ends(&c.body) {
                break;
            }
            if !c.body.is_empty() && !c.body.iter().any(|s| matches!(s, Stmt::Break)) {
                // No explicit end: languages without fall-through (Ruby `when`, Python `case`).
                break;
            }
        }
        out
    }

    fn expr(&mut self, e: &'a Expr) {
        let mut found = Found::default();
        collect(e, &mut found);
        self.sql_binds.extend(std::mem::take(&mut found.binds));
        for (c, conds) in found.calls {
            // A call in a ternary's branch is guarded by its condition, as in an if.
            let n = self.guards.len();
            self.guards.extend(conds.into_iter().map(|(cond, negated)| (cond.clone(), negated)));
            self.call(c);
            self.guards.truncate(n);
        }
        for f in found.lambdas {
            self.func(f);
        }
        for (how, line, parts) in found.deferred {
            self.deferred(how, line, parts);
        }
    }

    /// Work handed to something that runs after the answer: walked as usual, and
    /// the writes it makes are counted as deferred (WH019).
    fn deferred(&mut self, how: String, line: u32, parts: Vec<&'a Expr>) {
        let before = self.out.write_count();
        for p in parts {
            match p {
                Expr::Lambda(f) => self.func(f),
                // `threading.Thread(target=process_event)`, `add_task(process_event, event)`.
                Expr::Ident(_) | Expr::Member(..) => match self.idx.resolve_call(p) {
                    Some(f) => self.follow(&[], f),
                    None => self.expr(p),
                },
                other => self.expr(other),
            }
        }
        let added = self.out.write_count().saturating_sub(before);
        if added > 0 {
            self.out.deferred_writes += added;
            self.out.deferral.get_or_insert(Deferral { how, line });
        }
    }

    /// The framework base class's own handling of the event (Cashier syncs its
    /// subscriptions table, which is what `subscribed()` reads).
    fn framework_write(&mut self, base: &vocab::FrameworkBase, event: &str, line: u32) {
        let Some((_, value)) = base.builtin.iter().find(|(e, _)| *e == event) else {
            self.out.opaque.push(Opaque { name: format!("{} built-in {event} handler", base.name), kind: OpaqueKind::Write, line });
            return;
        };
        self.out.state_writes.push(line);
        self.out.access_writes.push(AccessWrite {
            field: base.state.to_string(),
            value: *value,
            value_text: format!("{} built-in {event} handler", base.name),
            line,
            gate: StatusGate::None,
            payment_checked: true,
            early_revoke: None,
            guarded: false,
        });
    }

    fn call(&mut self, c: &'a Call) {
        if timing::is_sleep(c) {
            self.out.sleep.get_or_insert(c.line);
        }
        if let Some(how) = timing::in_memory_handoff(c) {
            // The event goes to a consumer elsewhere in the process: nothing here writes.
            self.out.deferral.get_or_insert(Deferral { how, line: c.line });
        }
        // `parent::handleCustomerSubscriptionDeleted($payload)` in a Cashier controller.
        if let (Expr::Member(o, m), Some(base)) = (&c.callee, self.idx.framework()) {
            if matches!(&**o, Expr::Ident(p) if p == "parent" || p == "super") {
                if let Some(ev) = m.strip_prefix("handle").and_then(vocab::event_from_name) {
                    self.framework_write(base, ev, c.line);
                    return;
                }
            }
        }
        if matches!(vocab::opaque_kind(c.callee.last_name()), Some(OpaqueKind::Grant | OpaqueKind::Revoke)) {
            self.access_by_argument(c);
        }
        // A job queued for this event does its work: `SyncJob.perform_later(event)`,
        // `%{} |> MembershipSyncer.new() |> Oban.insert()`.
        if let Some((job, args)) = self.queued_job(c) {
            self.follow(args, job);
            return;
        }
        if let Some(f) = self.idx.resolve_call(&c.callee) {
            let seen = self.recognised();
            self.follow(&c.args, f);
            let now = self.recognised();
            // A name that says grant or revoke (`removeRole`) is believed over the rows seen
            // (a role row is access though no column says so); a neutral one is not.
            let says = vocab::opaque_kind(c.callee.last_name());
            let neutral = !matches!(says, Some(OpaqueKind::Grant | OpaqueKind::Revoke));
            if neutral && self.idx.is_external(f) && now.0 == seen.0 && now.1 > seen.1 && now.2 == seen.2 {
                self.out.writes_no_access.insert(squash(c.callee.last_name()));
            }
            if self.idx.is_external(f) && now.0 > seen.0 {
                self.out.writes_access.insert(squash(c.callee.last_name()));
            }
            // `s.Auth.BlockUser(ctx, id)` followed into calls that change state by name only
            // (`userLimits.Set(..)` on a cache), with no access column among them: the helper's
            // name says what they mean for access. Rows written without an access field (an
            // ORM flush after a removed setter) say nothing, so the name is not believed then.
            if let Some(kind @ (OpaqueKind::Grant | OpaqueKind::Revoke)) = says {
                if now.0 == seen.0 && now.2 > seen.2 && now.1 == seen.1 {
                    self.out.opaque.push(Opaque { name: c.callee.last_name().to_string(), kind, line: c.line });
                }
            }
            // A helper of another file in which billguard recognises nothing (no write,
            // lookup or refetch) although it calls things is still judged by its name, as
            // when it could not be seen; an empty helper, or one that only reads rows
            // (`from(m in Membership, ...) |> Repo.all()`), is judged by what it does.
            if seen != self.recognised() || !self.idx.is_external(f) || !makes_calls(&f.body) || only_reads(&f.body) {
                return;
            }
        }
        self.unresolved_call(c);
    }

    /// `UnblockUserIfNeeded(ctx, id, limit, isActive)` with `isActive := sub.Status != "canceled"`:
    /// a call named for granting or revoking, told by an argument computed from the
    /// subscription's status whether it should. That argument decides access: a write
    /// named after the call, gated by the statuses it lets through.
    fn access_by_argument(&mut self, c: &'a Call) {
        for a in c.args.iter().filter(|a| a.name.is_none()) {
            let resolved = self.returned(self.idx.value_of(self.bound(&a.value)));
            let computed = matches!(resolved, Expr::Binary(..) | Expr::Unary(..) | Expr::Call(_));
            if computed && vocab::is_subscription_status_value(resolved) {
                let gate = self.gate(Some(resolved));
                self.push_write(c.callee.last_name().to_string(), ValueKind::Derived, resolved.render(), c.line, gate, Some(resolved));
                return;
            }
        }
    }

    /// How much the walk has recognised so far: writes, opaque calls, lookups, refetches.
    fn recognised(&self) -> (usize, usize, usize, usize, bool) {
        (self.out.access_writes.len(), self.out.state_writes.len(), self.out.opaque.len(), self.out.lookups.len(), self.out.refetch.is_some())
    }

    fn follow(&mut self, args: &'a [Arg], f: &'a Func) {
        let params: Vec<&'a String> = f.params.iter().filter(|p| *p != "self" && *p != "cls" && *p != "$this").collect();
        let positional = args.iter().filter(|a| a.name.is_none());
        let mut bound: Vec<(&'a str, &'a Expr)> = Vec::new();
        for (p, a) in params.iter().zip(positional) {
            let value = self.bound(&a.value);
            if p.trim_start().starts_with('{') {
                // `({ status, plan: planId }: Args)` called with `{ status: 'active', plan }`.
                if let Expr::Object(pairs) = self.idx.value_of(value) {
                    bound.extend(destructured(p, pairs));
                }
                continue;
            }
            bound.push((param_name(p), value));
        }
        // Keyword arguments (`f(status="active")`) bind by name.
        for a in args {
            if let Some(name) = &a.name
                && let Some(p) = params.iter().find(|p| param_name(p) == name.as_str())
            {
                bound.push((param_name(p), self.bound(&a.value)));
            }
        }
        self.bindings.push(bound);
        self.func(f);
        self.bindings.pop();
        let depth = self.bindings.len();
        self.locals.retain(|(d, ..)| *d <= depth);
    }

    /// The `perform` of the job a call queues, with the arguments it is handed (none through
    /// Oban, whose args are a map the job decodes). ActiveJob/Sidekiq `perform_later` and
    /// friends; Oban's `Worker.new(args) |> Oban.insert()` (bare `new()` inside the worker).
    fn queued_job(&self, c: &'a Call) -> Option<(&'a Func, &'a [Arg])> {
        let Expr::Member(recv, m) = &c.callee else { return None };
        match m.as_str() {
            "perform_later" | "perform_async" | "perform_now" => Some((self.idx.callees.member(recv, "perform")?, &c.args)),
            "perform_in" | "perform_at" | "set" => Some((self.idx.callees.member(recv, "perform")?, &[])),
            "insert" | "insert!" if matches!(&**recv, Expr::Ident(o) if o == "Oban") => {
                let Expr::Call(built) = &c.args.first()?.value else { return None };
                let worker = match &built.callee {
                    Expr::Member(o, n) if n == "new" => (**o).clone(),
                    Expr::Ident(n) if n == "new" => {
                        let owner = self.stack.last()?.owner.as_deref()?;
                        Expr::Ident(owner.rsplit('.').next()?.to_string())
                    }
                    _ => return None,
                };
                let job = self.idx.callees.member(&worker, "perform").or_else(|| self.stack.last().and_then(|f| self.idx.funcs.get("perform").copied().filter(|p| p.owner == f.owner)))?;
                Some((job, &[]))
            }
            _ => None,
        }
    }

    /// A call billguard cannot follow: judged by what it is (a DB write or read,
    /// a refetch, a finder that raises) or by its name.
    fn unresolved_call(&mut self, c: &'a Call) {
        if vocab::is_logging(c) {
            return;
        }
        if vocab::is_refetch(c) {
            self.out.refetch.get_or_insert(c.line);
        }
        if let Some((kind, group)) = vocab::membership_change(c) {
            self.out.state_writes.push(c.line);
            let gate = self.gate(None);
            self.push_write(format!("{group} membership"), kind, c.callee.render(), c.line, gate, None);
            return;
        }
        let name = squash(c.callee.last_name());
        // Finders that raise when the row is missing: `findOrFail`, `find_by!`, `Repo.get_by!`.
        let raising_finder = c.callee.last_name().ends_with('!') && vocab::is_db_read(c) && !vocab::is_db_write(c);
        if name.ends_with("orthrow") || name.ends_with("orfail") || name == "getobjector404" || raising_finder {
            let status = if name == "getobjector404" { Status::Error(404) } else { Status::Raises };
            self.out.missing_row.get_or_insert(Answer { status, line: c.line });
        }
        if let Some(row) = self.row_removed(c) {
            // Deleting the member's or the subscription's row takes access away.
            self.out.state_writes.push(c.line);
            let gate = self.gate(None);
            self.push_write(format!("{row} row"), ValueKind::Revoke, c.callee.render(), c.line, gate, None);
            return;
        }
        let write = vocab::is_db_write(c);
        if write {
            if let Some(shape) = timing::write_shape(c) {
                self.out.row_writes.push(RowWrite { target: timing::write_target(c), shape, line: c.line });
            }
            self.out.state_writes.push(c.line);
            self.access_args(c);
        }
        if vocab::is_db_read(c) || write {
            self.lookups(c, write);
        } else if !vocab::is_provider_api(c) && matches!(c.callee, Expr::Ident(_) | Expr::Member(..)) && !vocab::is_response(c) {
            let raw = c.callee.last_name();
            if let Some(mut kind) = vocab::opaque_kind(raw) {
                if kind == OpaqueKind::Write {
                    // `setPro(user, false)`, `updateAccess(id, true)`: the flag says which.
                    let s = squash(raw);
                    if ["access", "pro", "plus", "premium", "plan"].iter().any(|w| s.contains(w)) {
                        match c.args.iter().find_map(|a| if let Expr::Bool(b) = a.value { Some(b) } else { None }) {
                            Some(true) => kind = OpaqueKind::Grant,
                            Some(false) => kind = OpaqueKind::Revoke,
                            None => {}
                        }
                    }
                }
                // `$subscription->cancel()`: the app's own record ending revokes.
                if kind == OpaqueKind::Write && matches!(c.callee, Expr::Member(..)) && vocab::receiver_root(&c.callee).is_some_and(|r| vocab::ends_own_record(raw, &r)) {
                    kind = OpaqueKind::Revoke;
                }
                self.out.opaque.push(Opaque { name: raw.to_string(), kind, line: c.line });
            } else if let Some(key) = by_key(raw) {
                self.out.lookups.entry(key).or_insert(c.line);
            } else if hands_over_subscription(c) {
                // `memberRepository.linkSubscription({ id, subscription })`: a call of code not
                // seen that is handed the whole subscription keeps the app's copy of it.
                self.out.opaque.push(Opaque { name: raw.to_string(), kind: OpaqueKind::Write, line: c.line });
            }
        }
    }

    /// Runs `read` one level deeper into the values of one write, unless already
    /// [`MAX_DEPTH`] deep: a local rebound from itself (`changeset = change(changeset, ...)`,
    /// `attrs = %{attrs | plan: "pro"}`) would otherwise loop.
    fn nested(&mut self, read: impl FnOnce(&mut Self)) {
        if self.setter_depth >= MAX_DEPTH {
            return;
        }
        self.setter_depth += 1;
        read(self);
        self.setter_depth -= 1;
    }

}

/// `repository.linkSubscription({ id, subscription })`: a method of some object handed the
/// subscription, other than one that reads, decodes, formats or logs it.
fn hands_over_subscription(c: &Call) -> bool {
    const READS: &[&str] = &["parse", "decode", "unmarshal", "marshal", "json", "log", "print", "format", "string", "get", "find", "fetch", "retrieve", "load", "read", "serialize", "validate", "map", "convert", "to"];
    let name = squash(c.callee.last_name());
    matches!(c.callee, Expr::Member(..)) && !vocab::is_body_parse(c) && !READS.iter().any(|r| name.starts_with(r)) && c.args.iter().any(|a| carries_subscription(&a.value))
}

/// Whether an argument is the subscription object itself (`subscription`, `stripeSubscription`,
/// `sub`) or an object literal carrying it (`{ id, subscription }`).
fn carries_subscription(e: &Expr) -> bool {
    match e {
        Expr::Ident(n) | Expr::Member(_, n) => {
            let s = squash(n);
            s == "sub" || s.ends_with("subscription")
        }
        Expr::Object(pairs) => pairs.iter().any(|p| matches!(&p.value, Expr::Ident(_) | Expr::Member(..)) && carries_subscription(&p.value)),
        _ => false,
    }
}

/// A parameter's name without its type, default or optional mark.
fn param_name(p: &str) -> &str {
    p.split([':', '=', '?']).next().unwrap_or(p).trim()
}

/// The names an object-destructuring parameter binds, each to the matching
/// property of the object passed: `{ a, b: local = 1 }` binds `a` and `local`.
fn destructured<'a>(pattern: &'a str, pairs: &'a [Pair]) -> Vec<(&'a str, &'a Expr)> {
    let inner = pattern.trim_start().trim_start_matches('{');
    let inner = inner.rsplit_once('}').map_or(inner, |(body, _)| body);
    inner
        .split(',')
        .filter_map(|part| {
            let part = part.split('=').next().unwrap_or(part).trim();
            let (key, local) = part.split_once(':').map_or((part, part), |(k, l)| (k.trim(), l.trim()));
            let pair = pairs.iter().find(|p| matches!(&p.key, Expr::Str(k) | Expr::Ident(k) if k == key))?;
            (!local.is_empty()).then_some((local, &pair.value))
        })
        .collect()
}

/// Whether every call in a function body builds or runs a read query (or logs).
fn only_reads(stmts: &[Stmt]) -> bool {
    const READS: &[&str] = &[
        "from", "where", "select", "orderby", "preload", "limit", "join", "all", "one", "get", "getby", "exists", "aggregate", "filter",
        "find", "findby", "first", "count", "pluck", "fetchall", "fetchone",
    ];
    let mut reads = true;
    let mut any = false;
    super::lang::syntax::each_call(stmts, &mut |c| {
        if vocab::is_logging(c) {
            return;
        }
        any = true;
        reads &= READS.contains(&squash(c.callee.last_name()).as_str());
    });
    any && reads
}

/// Whether a block calls anything (outside logging).
fn makes_calls(stmts: &[Stmt]) -> bool {
    let mut found = false;
    let mut visit = |e: &Expr| {
        e.walk(&mut |x| {
            if let Expr::Call(c) = x {
                found |= !vocab::is_logging(c);
            }
        })
    };
    fn each<'s>(stmts: &'s [Stmt], visit: &mut dyn FnMut(&'s Expr)) {
        for s in stmts {
            match s {
                Stmt::Expr(e, _) => visit(e),
                Stmt::Assign { target, value, .. } => {
                    visit(target);
                    visit(value);
                }
                Stmt::Return { value: Some(e), .. } | Stmt::Throw { value: Some(e), .. } => visit(e),
                Stmt::If { cond, then, els, .. } => {
                    visit(cond);
                    each(then, visit);
                    each(els, visit);
                }
                Stmt::Switch { subject, cases, .. } => {
                    visit(subject);
                    cases.iter().for_each(|c| each(&c.body, visit));
                }
                Stmt::Try { body, catches, finally, .. } => {
                    each(body, visit);
                    catches.iter().for_each(|(c, _)| each(c, visit));
                    each(finally, visit);
                }
                Stmt::Block { head, body, .. } => {
                    head.iter().for_each(|h| visit(h));
                    each(body, visit);
                }
                _ => {}
            }
        }
    }
    each(stmts, &mut visit);
    found
}

/// What a block answers when it ends: its return, throw or response call.
pub fn block_answer(stmts: &[Stmt]) -> Option<Answer> {
    let mut candidate = None;
    for s in stmts {
        match s {
            Stmt::Return { value, line } => {
                let status = vocab::status_of_return(value.as_ref());
                return match (status, candidate) {
                    (Status::Unknown, Some(c)) => Some(c),
                    _ => Some(Answer { status, line: *line }),
                };
            }
            Stmt::Throw { value, line } => return Some(Answer { status: vocab::status_of_throw(value.as_ref()), line: *line }),
            Stmt::Expr(Expr::Call(c), line) if vocab::is_response(c) || halted_response(c).is_some() => {
                // `send_resp(conn, 400, "") |> halt()`: the response piped into `halt`.
                let c = halted_response(c).unwrap_or(c);
                let status = vocab::status_of_return(Some(&Expr::Call(Box::new(c.clone()))));
                if vocab::response_ends_handler(c) {
                    return Some(Answer { status, line: *line });
                }
                candidate = Some(Answer { status, line: *line });
            }
            _ => {}
        }
    }
    candidate
}

/// Plug's `halt(send_resp(conn, 400, ""))`: the response inside.
fn halted_response(c: &Call) -> Option<&Call> {
    match (c.callee.last_name(), c.args.first().map(|a| &a.value)) {
        ("halt", Some(Expr::Call(inner))) if vocab::is_response(inner) => Some(inner),
        _ => None,
    }
}

/// What an expression does, in the order the walker takes it: calls made now,
/// lambdas passed to them, and parts handed off to run after the answer.
#[derive(Default)]
struct Found<'a> {
    /// Each call with the ternary conditions around it (and whether it is in the else branch).
    calls: Vec<(&'a Call, Vec<(&'a Expr, bool)>)>,
    /// The ternary conditions the walk is inside.
    conds: Vec<(&'a Expr, bool)>,
    /// Query calls with the values their `.bind(...)` chain gives them.
    binds: Vec<(*const Call, Vec<&'a Expr>)>,
    lambdas: Vec<&'a Func>,
    deferred: Vec<(String, u32, Vec<&'a Expr>)>,
}

/// Like [`Expr::walk`], but a hand-off (`setImmediate(fn)`, `go f()`, `void p()`)
/// keeps its parts apart, and an immediately invoked lambda (`func(){...}()`) is walked.
fn collect<'a>(e: &'a Expr, out: &mut Found<'a>) {
    if let Some(handed) = timing::hand_off(e) {
        out.deferred.push(handed);
        // `threading.Thread(target=f).start()`: the receiver chain is not handed off.
        return;
    }
    match e {
        Expr::Call(c) => {
            out.calls.push((c, out.conds.clone()));
            if let Some((query, values)) = bind_chain(c) {
                if !out.binds.iter().any(|(q, _)| *q == query) {
                    out.binds.push((query, values));
                }
            }
            match &c.callee {
                Expr::Lambda(f) => out.lambdas.push(f),
                callee => collect(callee, out),
            }
            for a in &c.args {
                if let Expr::Lambda(f) = &a.value {
                    out.lambdas.push(f);
                }
                collect(&a.value, out);
            }
        }
        Expr::Member(o, _) | Expr::Unary(_, o) => collect(o, out),
        Expr::Index(o, i) | Expr::Binary(_, o, i) => {
            collect(o, out);
            collect(i, out);
        }
        Expr::Object(pairs) => pairs.iter().for_each(|p| {
            collect(&p.key, out);
            collect(&p.value, out);
        }),
        Expr::Array(items) => items.iter().for_each(|x| collect(x, out)),
        Expr::Cond(c, a, b) => {
            collect(c, out);
            out.conds.push((c, false));
            collect(a, out);
            out.conds.pop();
            out.conds.push((c, true));
            collect(b, out);
            out.conds.pop();
        }
        _ => {}
    }
}
