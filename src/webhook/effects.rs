//! What handling one event does: follows its statements (and the local
//! functions they call) and records access writes with the conditions that
//! guard them, other state writes, user lookups, refetches and what a
//! missing row answers.

use std::collections::BTreeSet;

use super::index::Index;
use super::lang::syntax::{Arg, Call, Case, Expr, Func, Pair, Stmt, ends, squash};
use super::timing;
use super::model::{AccessWrite, Answer, Deferral, EventModel, RowWrite, LookupKey, Opaque, OpaqueKind, Status, StatusGate, ValueKind};
use super::vocab::{self, FrameworkBase, SUBSCRIPTION_STATUSES};

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

    /// `user.destroy`, `subscription.delete()`, or a bare `destroy` inside a
    /// User-like model: the row that gives access is removed. Names the row.
    fn row_removed(&self, c: &Call) -> Option<String> {
        if vocab::is_provider_api(c) {
            return None;
        }
        self.row_removed_by(&c.callee).or_else(|| removed_through_query(c))
    }

    /// [`Walker::row_removed`] for a callee (also a Ruby call without parentheses).
    fn row_removed_by(&self, callee: &Expr) -> Option<String> {
        let name = squash(callee.last_name());
        if !["destroy", "delete", "destroyall", "deleteall", "softdelete", "forcedelete"].contains(&name.as_str()) {
            return None;
        }
        match callee {
            Expr::Member(o, _) => vocab::receiver_root(o).and_then(|r| holder(&r)).or_else(|| o.dotted().and_then(|d| holder(&d))),
            Expr::Ident(_) => self.stack.last().and_then(|f| f.owner.as_deref()).and_then(holder),
            _ => None,
        }
    }

    /// Walks a called function with its parameters bound to the call's arguments.
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
                self.out.opaque.push(Opaque { name: raw.to_string(), kind, line: c.line });
            } else if let Some(key) = by_key(raw) {
                self.out.lookups.entry(key).or_insert(c.line);
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

    fn access_args(&mut self, c: &'a Call) {
        self.nested(|w| w.access_args_at(c));
    }

    fn access_args_at(&mut self, c: &'a Call) {
        // Parameters follow the SQL text: `db.ExecContext(ctx, sql, a, b)`, `pool.query(sql, [a, b])`.
        let sql_at = c.args.iter().position(|a| matches!(self.idx.value_of(&a.value), Expr::Str(s) if vocab::is_write_sql(s))).unwrap_or(0);
        let mut params: Vec<&'a Expr> = c.args.iter().skip(sql_at + 1).flat_map(|a| match &a.value {
            Expr::Array(items) => items.iter().collect::<Vec<_>>(),
            v => vec![v],
        }).collect();
        if params.is_empty() {
            if let Some((_, bound)) = self.sql_binds.iter().find(|(q, _)| std::ptr::eq(*q, c)) {
                params = bound.clone();
            }
        }
        // Ecto's `put_change(changeset, :plan, "free")` and `Map.put(attrs, :plan, "free")`, piped or not.
        if matches!(c.callee.last_name(), "put_change" | "force_change" | "put") {
            if let [.., Arg { name: None, value: Expr::Str(col) }, Arg { name: None, value }] = c.args.as_slice() {
                if self.decides_access(col, value) {
                    self.access(col, value, c.line);
                }
            }
        }
        // GORM and Eloquent: `.Update("has_paid_access", false)`, `->update('plan', 'free')`.
        if let [Arg { name: None, value: Expr::Str(col) }, Arg { name: None, value }] = c.args.as_slice() {
            if vocab::is_access_field(col, self.idx.access_fields) && !col.contains(' ') {
                self.access(col, value, c.line);
                return;
            }
        }
        for a in &c.args {
            if let Some(name) = &a.name {
                if self.decides_access(name, &a.value) {
                    self.access(name, &a.value, c.line);
                    continue;
                }
            }
            match self.idx.value_of(self.bound(&a.value)) {
                Expr::Object(pairs) => self.access_object(pairs),
                // `.upsert([row])`, `.insert([a, b])`: each row.
                Expr::Array(items) => {
                    for item in items {
                        if let Expr::Object(pairs) = self.idx.value_of(item) {
                            self.access_object(pairs);
                        }
                    }
                }
                Expr::Str(s) if vocab::is_write_sql(s) => self.access_sql(s, &params, c.line),
                // `Repo.update(change(user, has_paid_access: true))`, `User.changeset(user, %{...})`
                Expr::Call(inner) if vocab::is_attribute_setter(inner) => {
                    self.access_args(inner);
                    self.changeset_body(inner);
                }
                // `Subscription.changeset(record, attrs(customer, status))`: a function of the
                // app that builds the attributes; its parameters bound to the call's arguments.
                Expr::Call(inner) => self.built_attributes(inner),
                _ => {}
            }
        }
        // `$user->forceFill([...])->save()`, `user.assign_attributes(...).save!`
        let mut recv = match &c.callee {
            Expr::Member(o, _) => Some(&**o),
            _ => None,
        };
        while let Some(r) = recv {
            match r {
                Expr::Call(inner) => {
                    if vocab::is_attribute_setter(inner) {
                        self.access_args(inner);
                    }
                    recv = match &inner.callee {
                        Expr::Member(o, _) => Some(&**o),
                        _ => None,
                    };
                }
                Expr::Member(o, _) => recv = Some(&**o),
                _ => recv = None,
            }
        }
    }

    /// The attributes map a function of the app returns (its last expression), read
    /// as written with the function's parameters bound to `c`'s arguments.
    fn built_attributes(&mut self, c: &'a Call) {
        let Some(f) = self.idx.resolve_call(&c.callee) else { return };
        let pairs = match f.body.last() {
            Some(Stmt::Return { value: Some(Expr::Object(pairs)), .. } | Stmt::Expr(Expr::Object(pairs), _)) => pairs,
            _ => {
                self.out.untraced_attributes.insert(c.callee.render());
                return;
            }
        };
        let bound: Vec<(&'a str, &'a Expr)> =
            f.params.iter().zip(c.args.iter().filter(|a| a.name.is_none())).map(|(p, a)| (param_name(p), self.bound(&a.value))).collect();
        self.bindings.push(bound);
        self.access_object(pairs);
        self.bindings.pop();
    }

    /// A changeset function of the app (`Organization.plan_changeset(org, attrs)`): the
    /// fields its `cast(attrs, [:plan, :status])` admits are written with values from
    /// the attributes, and its `put_change(:field, value)` calls are writes.
    fn changeset_body(&mut self, c: &'a Call) {
        let Some(f) = self.idx.resolve_call(&c.callee) else { return };
        if self.stack.iter().any(|g| std::ptr::eq(*g, f)) || self.stack.len() > 6 {
            return;
        }
        self.stack.push(f);
        let mut casts: Vec<&'a Call> = Vec::new();
        super::lang::syntax::each_call(&f.body, &mut |k| {
            if matches!(k.callee.last_name(), "cast" | "put_change" | "force_change") {
                casts.push(k);
            }
        });
        for k in casts {
            if k.callee.last_name() != "cast" {
                self.access_args(k);
                continue;
            }
            // `cast(changeset, attrs, permitted)`, piped or not: the attrs are the values.
            let Some(values) = k.args.iter().rev().nth(1).map(|a| &a.value) else { continue };
            // The permitted list is often a local of the same function (`required = [...]`).
            let local = |e: &'a Expr| -> &'a Expr {
                let Expr::Ident(n) = e else { return e };
                f.body.iter().find_map(|s| match s {
                    Stmt::Assign { target: Expr::Ident(t), value, .. } if t == n => Some(value),
                    _ => None,
                }).unwrap_or(e)
            };
            let Some(permitted) = k.args.last().map(|a| self.idx.value_of(local(&a.value))) else { continue };
            let Expr::Array(fields) = permitted else { continue };
            self.untraced_values = true;
            for field in fields {
                if let Expr::Str(name) = field {
                    if vocab::is_access_field(name, self.idx.access_fields) {
                        self.access(name, values, k.line);
                    }
                }
            }
            self.untraced_values = false;
        }
        self.stack.pop();
    }

    fn access_object(&mut self, pairs: &'a [Pair]) {
        self.nested(|w| w.access_object_at(pairs));
    }

    fn access_object_at(&mut self, pairs: &'a [Pair]) {
        for p in pairs {
            let key = match &p.key {
                Expr::Str(k) => k.as_str(),
                _ => continue,
            };
            if ["where", "filter", "select", "include", "orderBy", "_where", "returning"].contains(&key) {
                continue;
            }
            if self.decides_access(key, &p.value) {
                self.access(key, &p.value, p.line);
            } else if let Expr::Object(inner) = self.idx.value_of(self.bound(&p.value)) {
                // A nested object, or a spread (`...subscriptionData`) of one passed in.
                self.access_object(inner);
            } else if let Expr::Call(inner) = self.idx.value_of(self.bound(&p.value)) {
                // `data: subscriptionData(user.id, subscription)`: a function of the app that
                // returns the object literal; its fields are the write's.
                if self.bindings.len() < 6 {
                    self.built_attributes(inner);
                }
            }
        }
    }

    /// `UPDATE users SET has_paid_access = $1, plan = 'free' WHERE ...` with its parameters.
    fn access_sql(&mut self, sql: &str, params: &[&'a Expr], line: u32) {
        let upper = sql.to_ascii_uppercase();
        let mut next_param = 0usize;
        let mut assignments: Vec<(String, String)> = Vec::new();
        // An INSERT's columns and values; its `ON CONFLICT ... SET col = EXCLUDED.col` repeats them.
        let insert = upper.trim_start().starts_with("INSERT");
        if let Some(set_at) = find_word(&upper, "SET").filter(|_| !insert) {
            let rest = &sql[set_at + 3..];
            let end = ["WHERE", "RETURNING", "FROM"].iter().filter_map(|w| find_word(&rest.to_ascii_uppercase(), w)).min().unwrap_or(rest.len());
            for part in rest[..end].split(',') {
                if let Some((col, val)) = part.split_once('=') {
                    assignments.push((col.trim().trim_matches(['"', '`']).to_string(), val.trim().to_string()));
                }
            }
        } else if let (Some(open), Some(values_at)) = (sql.find('('), find_word(&upper, "VALUES")) {
            let cols: Vec<&str> = sql[open + 1..].split(')').next().unwrap_or("").split(',').collect();
            let vals = top_level_items(sql[values_at + 6..].trim().strip_prefix('(').unwrap_or(""));
            for (c, v) in cols.iter().zip(vals.iter()) {
                assignments.push((c.trim().trim_matches(['"', '`']).to_string(), v.trim().to_string()));
            }
        }
        for (col, val) in assignments {
            // `to_timestamp($4)`: the placeholder inside a conversion.
            let numbered = val.strip_prefix('$').or_else(|| val.split_once('$').map(|(_, n)| n.trim_end_matches(')')));
            let param = if let Some(n) = numbered.and_then(|n| n.parse::<usize>().ok()) {
                params.get(n.wrapping_sub(1)).copied()
            } else if val == "?" || val == "%s" || val.starts_with(':') || val.starts_with("%(") {
                next_param += 1;
                params.get(next_param - 1).copied()
            } else {
                None
            };
            let resolved = param.map(|p| self.idx.value_of(self.bound(p)));
            // A status column set from the subscription's status (or to a status) is access, as in an ORM write.
            let status = vocab::is_status_field(&col)
                && (resolved.is_some_and(vocab::is_subscription_status_value) || SUBSCRIPTION_STATUSES.contains(&val.trim_matches('\'').to_ascii_lowercase().as_str()));
            if !vocab::is_access_field(&col, self.idx.access_fields) && !status {
                continue;
            }
            let kind = match resolved {
                Some(p) => value_kind(&col, p),
                None => sql_literal_kind(&val),
            };
            let derived = resolved.filter(|_| kind == ValueKind::Derived);
            let gate = self.gate(derived);
            let text = resolved.map_or(val, |p| p.render());
            self.push_write(col, kind, text, line, gate, derived);
        }
    }

    /// A parameter's argument in the current call chain, else the expression itself.
    fn bound(&self, e: &'a Expr) -> &'a Expr {
        if let Expr::Ident(n) = e {
            // A local of the function being walked (its latest value), then its parameters.
            let depth = self.bindings.len();
            if let Some((.., v)) = self.locals.iter().rev().find(|(d, l, _)| *d == depth && *l == n.as_str()) {
                return v;
            }
            for frame in self.bindings.iter().rev() {
                if let Some((_, v)) = frame.iter().find(|(p, _)| *p == n.as_str()) {
                    return v;
                }
            }
        }
        e
    }

    /// Whether writing `value` to `field` moves access: an access column, or a
    /// status column given a subscription's status.
    fn decides_access(&self, field: &str, value: &'a Expr) -> bool {
        vocab::is_access_field(field, self.idx.access_fields)
            || vocab::is_inverted(field, self.idx.access_fields)
            || (vocab::is_status_field(field) && vocab::is_subscription_status_value(self.idx.value_of(self.bound(value))))
    }

    fn access(&mut self, field: &str, value: &'a Expr, line: u32) {
        let resolved = self.returned(self.idx.value_of(self.bound(value)));
        let kind = match value_kind(field, resolved) {
            // `deactivated_on = today` revokes; `disabled = false` grants.
            k if vocab::is_inverted(field, self.idx.access_fields) => match k {
                ValueKind::Grant => ValueKind::Revoke,
                ValueKind::Revoke => ValueKind::Grant,
                ValueKind::Derived => match resolved {
                    Expr::Call(_) | Expr::Member(..) if !vocab::is_subscription_status_value(resolved) => ValueKind::Revoke,
                    _ => ValueKind::Derived,
                },
            },
            k => k,
        };
        let derived = (kind == ValueKind::Derived).then_some(resolved);
        let gate = self.gate(derived);
        self.push_write(field.to_string(), kind, value.render(), line, gate, derived);
    }

    /// A call to a helper the walk can see that just returns an expression
    /// (`isSubscriptionActive(sub)` returning `sub.Status == "active"`): that
    /// expression, so a check moved into a helper is still a check.
    fn returned(&self, e: &'a Expr) -> &'a Expr {
        let Expr::Call(c) = e else { return e };
        let Some(f) = self.idx.resolve_call(&c.callee) else { return e };
        let v = match f.body.as_slice() {
            [.., Stmt::Return { value: Some(v), .. }] if f.body.iter().filter(|s| matches!(s, Stmt::Return { .. })).count() == 1 => v,
            _ => return e,
        };
        // A conversion (`toDateTime(sub.current_period_end)`) says less than its call: keep the call.
        let decides = matches!(v, Expr::Bool(_) | Expr::Null | Expr::Str(_)) || v.mentions("status") || v.mentions("paid") || v.mentions("period_end");
        if decides { v } else { e }
    }

    fn push_write(&mut self, field: String, value: ValueKind, value_text: String, line: u32, gate: StatusGate, derived: Option<&Expr>) {
        let payment_checked = gate != StatusGate::None
            || self.guards.iter().any(|(g, _)| g.mentions("payment_status") || mentions_prop(g, "paid"))
            || derived.is_some_and(|d| d.mentions("payment_status"))
            // A value computed from the subscription's status, or its own period end, mirrors
            // what the provider says.
            || derived.is_some_and(|d| d.mentions("status") || d.mentions("period_end"))
            || self.untraced_values;
        let early_revoke = self.early_revoke(value, &gate, derived);
        let guarded = self.gate(None) != StatusGate::None;
        self.out.access_writes.push(AccessWrite { field, value, value_text, line, gate, payment_checked, early_revoke, guarded });
    }

    /// The statuses the current guards (and a derived value) let through.
    fn gate(&self, derived: Option<&Expr>) -> StatusGate {
        let (mut allow, mut deny) = (BTreeSet::new(), BTreeSet::new());
        for (g, negated) in &self.guards {
            status_atoms(g, self.idx, *negated, &mut allow, &mut deny);
        }
        if let Some(d) = derived {
            status_atoms(d, self.idx, false, &mut allow, &mut deny);
        }
        if !allow.is_empty() {
            StatusGate::Allow(allow)
        } else if !deny.is_empty() {
            StatusGate::Deny(deny)
        } else {
            StatusGate::None
        }
    }

    fn early_revoke(&self, value: ValueKind, gate: &StatusGate, derived: Option<&Expr>) -> Option<String> {
        // A derived value that depends on cancel_at_period_end at all (`active && !cancel_at_period_end`,
        // `cancel_at_period_end ? false : true`) takes access away as soon as cancellation is scheduled.
        if let Some(d) = derived {
            return d.mentions("cancel_at_period_end").then(|| "cancel_at_period_end".to_string());
        }
        if value != ValueKind::Revoke {
            return None;
        }
        if self.guards.iter().any(|(g, neg)| positive_mention(g, "cancel_at_period_end", *neg)) {
            return Some("cancel_at_period_end is set (the customer has paid until the period ends)".into());
        }
        match gate {
            StatusGate::Allow(s) if s.contains("past_due") => return Some("status past_due (the first failed payment)".into()),
            StatusGate::Deny(s) if !s.contains("past_due") && s.contains("active") => {
                return Some("any status other than active, including past_due and trialing".into());
            }
            _ => {}
        }
        let retries_checked = self.guards.iter().any(|(g, _)| g.mentions("attempt") || g.mentions("status"));
        (self.event == "invoice.payment_failed" && !retries_checked).then(|| "the first failed payment".to_string())
    }

    fn lookups(&mut self, c: &'a Call, write: bool) {
        if let Some(k) = by_key(c.callee.last_name()) {
            self.out.lookups.entry(k).or_insert(c.line);
        }
        for a in &c.args {
            if let Some(n) = &a.name {
                // A write's keyword arguments are the values written, not the lookup.
                if !write && matches!(n.as_str(), "where" | "filter" | "conditions") {
                    self.lookup_members(&a.value, c.line);
                } else if !write {
                    self.lookup_pair(n, &a.value, c.line);
                }
                continue;
            }
            match self.idx.value_of(&a.value) {
                Expr::Object(pairs) => self.lookup_object(pairs, write, c.line),
                Expr::Str(s) => {
                    let upper = s.to_ascii_uppercase();
                    if let Some(at) = find_word(&upper, "WHERE") {
                        for col in s[at + 5..].split(|ch: char| !(ch.is_alphanumeric() || ch == '_')) {
                            if let Some(k) = vocab::lookup_key(col) {
                                self.out.lookups.entry(k).or_insert(c.line);
                            }
                        }
                    }
                }
                // A query built inside a write: `Repo.update_all(from(u in User, where: ...), set: ...)`.
                Expr::Call(inner) if write && (vocab::is_db_read(inner) || matches!(squash(inner.callee.last_name()).as_str(), "from" | "where")) => {
                    self.lookups(inner, false)
                }
                v if !write => {
                    let mut keys = Vec::new();
                    v.walk(&mut |x| match x {
                        Expr::Member(_, p) => keys.extend(vocab::lookup_key(p)),
                        Expr::Index(_, i) => {
                            if let Expr::Str(p) = &**i {
                                keys.extend(vocab::lookup_key(p));
                            }
                        }
                        _ => {}
                    });
                    for k in keys {
                        self.out.lookups.entry(k).or_insert(c.line);
                    }
                }
                _ => {}
            }
        }
        // Laravel, Knex, GORM: `where('email', $email)`, `firstWhere('stripe_id', $id)`,
        // `Where("stripe_customer_id = ?", id)`.
        if squash(c.callee.last_name()).contains("where") {
            if let Some(Expr::Str(cond)) = c.args.first().map(|a| &a.value) {
                for col in cond.split(|ch: char| !(ch.is_alphanumeric() || ch == '_')) {
                    if let Some(k) = vocab::lookup_key(col) {
                        self.out.lookups.entry(k).or_insert(c.line);
                    }
                }
            }
        }
        // Receivers of a chain: `User::where('email', $e)->update([...])`.
        if let Expr::Member(o, _) = &c.callee {
            if let Expr::Call(inner) = &**o {
                if vocab::is_db_read(inner) && !vocab::is_db_write(inner) {
                    self.lookups(inner, false);
                }
            }
        }
    }

    fn lookup_object(&mut self, pairs: &'a [Pair], write: bool, line: u32) {
        for p in pairs {
            let Expr::Str(key) = &p.key else { continue };
            let filter = matches!(key.as_str(), "where" | "filter" | "_where");
            if filter {
                if let Expr::Object(inner) = self.idx.value_of(&p.value) {
                    self.lookup_object(inner, false, line);
                }
            } else if !write {
                self.lookup_pair(key, &p.value, line);
                if matches!(key.as_str(), "lt" | "lte" | "gt" | "gte") && p.value.mentions("created") {
                    self.out.ordering_guard.get_or_insert(line);
                }
            }
        }
    }

    /// Columns a filter expression compares: `u.stripe_customer_id == ^id`.
    fn lookup_members(&mut self, e: &Expr, line: u32) {
        let mut keys = Vec::new();
        e.walk(&mut |x| {
            if let Expr::Member(_, p) = x {
                keys.extend(vocab::lookup_key(p));
            }
        });
        for k in keys {
            self.out.lookups.entry(k).or_insert(line);
        }
    }

    fn lookup_pair(&mut self, key: &str, value: &'a Expr, line: u32) {
        let by_value = {
            let v = self.idx.value_of(value);
            if v.mentions("client_reference_id") {
                Some(LookupKey::ClientReferenceId)
            } else if v.mentions("metadata") {
                Some(LookupKey::Metadata)
            } else {
                None
            }
        };
        if let Some(k) = vocab::lookup_key(key).or(by_value) {
            self.out.lookups.entry(k).or_insert(line);
        }
    }
}

/// `findUserByEmail`, `get_user_by_customer_id`: the key named after "by".
fn by_key(name: &str) -> Option<LookupKey> {
    let s = squash(name);
    let at = s.find("by")?;
    vocab::lookup_key(&s[at + 2..])
}

fn find_word(upper: &str, word: &str) -> Option<usize> {
    upper.match_indices(word).map(|(i, _)| i).find(|&i| {
        let before = upper[..i].chars().next_back().is_none_or(|c| !c.is_alphanumeric() && c != '_');
        let after = upper[i + word.len()..].chars().next().is_none_or(|c| !c.is_alphanumeric() && c != '_');
        before && after
    })
}

fn sql_literal_kind(val: &str) -> ValueKind {
    let v = val.trim().trim_matches('\'').to_ascii_lowercase();
    match v.as_str() {
        "true" | "1" => ValueKind::Grant,
        "false" | "0" | "null" => ValueKind::Revoke,
        _ if val.trim().starts_with('\'') => {
            if vocab::is_revoking_literal(&v) { ValueKind::Revoke } else { ValueKind::Grant }
        }
        "now()" | "current_timestamp" => ValueKind::Revoke,
        _ => ValueKind::Derived,
    }
}

/// What a written value does to access.
fn value_kind(field: &str, e: &Expr) -> ValueKind {
    let until = {
        let f = squash(field);
        f.ends_with("until") || f.contains("expires")
    };
    match e {
        Expr::Bool(true) => ValueKind::Grant,
        Expr::Bool(false) | Expr::Null => ValueKind::Revoke,
        Expr::Num(n) => {
            if n == "0" { ValueKind::Revoke } else { ValueKind::Grant }
        }
        Expr::Str(s) => {
            if vocab::is_revoking_literal(s) { ValueKind::Revoke } else { ValueKind::Grant }
        }
        // An enum constant naming a state: `SubscriptionStatus.Deleted`, `Status::ACTIVE`, `:canceled`.
        Expr::Member(..) | Expr::Ident(_) if vocab::status_constant(e).is_some() => vocab::status_constant(e).unwrap_or(ValueKind::Derived),
        Expr::Call(c) if until && c.args.is_empty() => {
            let n = squash(c.callee.last_name());
            if ["date", "now", "utcnow"].contains(&n.as_str()) { ValueKind::Revoke } else { ValueKind::Derived }
        }
        _ => ValueKind::Derived,
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

/// Whether a condition tests the event type, and if so whether `event` passes:
/// `type === 'invoice.paid'`, `a || b`, `!(...)`, `!=`.
fn event_test(cond: &Expr, event: &str) -> Option<bool> {
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
fn is_payload(target: &Expr) -> bool {
    let root = vocab::receiver_root(target).unwrap_or_default();
    ["event", "evt", "payload", "req", "request", "body", "data"].contains(&root.as_str())
}

fn mentions_prop(e: &Expr, prop: &str) -> bool {
    let mut found = false;
    e.walk(&mut |x| {
        if let Expr::Member(_, p) = x {
            found |= p == prop;
        }
    });
    found
}

/// `event.created > user.lastEventAt`: an ordering guard.
fn ordering_guard(e: &Expr) -> bool {
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
fn missing_row_check(cond: &Expr) -> bool {
    match cond {
        Expr::Unary(op, a) => op == "!" && matches!(&**a, Expr::Ident(_) | Expr::Member(..)),
        Expr::Binary(op, l, r) => op == "==" && matches!(&**r, Expr::Null) && matches!(&**l, Expr::Ident(_)),
        _ => false,
    }
}

/// Does `word` appear with positive polarity (not under a negation)?
fn positive_mention(e: &Expr, word: &str, negated: bool) -> bool {
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
fn status_atoms(e: &Expr, idx: &Index, negated: bool, allow: &mut BTreeSet<String>, deny: &mut BTreeSet<String>) {
    status_atoms_at(e, idx, negated, allow, deny, 0)
}

fn status_atoms_at(e: &Expr, idx: &Index, negated: bool, allow: &mut BTreeSet<String>, deny: &mut BTreeSet<String>, depth: u8) {
    if depth > 4 {
        return;
    }
    let status_atoms = |e: &Expr, idx: &Index, negated: bool, allow: &mut BTreeSet<String>, deny: &mut BTreeSet<String>| {
        status_atoms_at(e, idx, negated, allow, deny, depth + 1)
    };
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
            let (subject, lit) = match (&**l, &**r) {
                (s, Expr::Str(v)) | (Expr::Str(v), s) => (s, v),
                _ => return,
            };
            if subject.mentions("status") && SUBSCRIPTION_STATUSES.contains(&v_lower(lit).as_str()) {
                put(vec![v_lower(lit)], op == "==");
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

fn v_lower(s: &str) -> String {
    s.to_ascii_lowercase()
}

fn status_list(e: &Expr, idx: &Index) -> Vec<String> {
    let v = idx.value_of(e);
    let v = match v {
        Expr::Call(c) => c.args.first().map(|a| idx.value_of(&a.value)).unwrap_or(v),
        other => other,
    };
    v.strings().into_iter().map(v_lower).filter(|s| SUBSCRIPTION_STATUSES.contains(&s.as_str())).collect()
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
            Stmt::Expr(Expr::Call(c), line) if vocab::is_response(c) => {
                let status = vocab::status_of_return(Some(&Expr::Call(c.clone())));
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

/// The comma-separated items of a parenthesised SQL list, up to its closing
/// parenthesis: `$1, 'a,b', to_timestamp($4))` gives `$1`, `'a,b'`, `to_timestamp($4)`.
fn top_level_items(text: &str) -> Vec<&str> {
    let (mut depth, mut quoted, mut start) = (0usize, false, 0usize);
    let mut out = Vec::new();
    for (i, ch) in text.char_indices() {
        match ch {
            '\'' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted && depth == 0 => {
                out.push(&text[start..i]);
                return out;
            }
            ')' if !quoted => depth -= 1,
            ',' if !quoted && depth == 0 => {
                out.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&text[start..]);
    out
}

/// `q.bind(a).bind(b)` down to the call `q` the binds apply to, with the bound values in order.
fn bind_chain(c: &Call) -> Option<(*const Call, Vec<&Expr>)> {
    let mut values = Vec::new();
    let mut cur = c;
    while let Expr::Member(recv, m) = &cur.callee {
        if m != "bind" {
            break;
        }
        values.extend(cur.args.first().map(|a| &a.value));
        match &**recv {
            Expr::Call(inner) => cur = inner,
            _ => return None,
        }
    }
    if values.is_empty() {
        return None;
    }
    values.reverse();
    Some((cur as *const Call, values))
}

/// Rows whose removal takes access away.
const HOLDERS: &[&str] = &["user", "member", "subscription", "account", "team", "membership", "customer", "profile", "organization"];

/// The holder a text names (`subscriptions`, `Subscription`, `org_member`).
fn holder(text: &str) -> Option<String> {
    let t = squash(text);
    HOLDERS.iter().find(|h| t.contains(*h)).map(|h| h.to_string())
}

/// A delete through a query builder names its table in the chain
/// (`knex('subscriptions').where(…).del()`), and one through an Ecto repository
/// names its row in the argument (`Repo.delete_all(from s in Subscription, …)`).
/// A bare store's `del` (`redis.del(key)`) names no table and is no revocation.
fn removed_through_query(c: &Call) -> Option<String> {
    let Expr::Member(receiver, method) = &c.callee else { return None };
    let name = squash(method);
    let repo = receiver.dotted().is_some_and(|d| d == "Repo" || d.ends_with(".Repo"));
    if repo && ["delete", "deleteall"].contains(&name.as_str()) {
        return c.args.iter().find_map(|a| holder(&a.value.render()));
    }
    // The table is a call's argument in the chain: `knex('t')`, `db('t')`, `from('t')`.
    if ["del", "delete", "deleteall"].contains(&name.as_str()) && matches!(&**receiver, Expr::Call(_) | Expr::Member(..)) {
        return table_of_chain(receiver).and_then(|t| holder(&t));
    }
    None
}

/// The first string argument along a call chain: the table of a query builder.
fn table_of_chain(e: &Expr) -> Option<String> {
    match e {
        Expr::Call(c) => table_of_chain(&c.callee).or_else(|| match c.args.first().map(|a| &a.value) {
            Some(Expr::Str(s)) => Some(s.clone()),
            _ => None,
        }),
        Expr::Member(o, _) | Expr::Index(o, _) => table_of_chain(o),
        _ => None,
    }
}
