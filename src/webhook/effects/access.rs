//! Access writes: the fields and values a call, an object literal, a changeset or an
//! SQL statement sets, with the status gate that decides them.

use super::*;

impl<'a> Walker<'a, '_> {
    pub(super) fn access_args(&mut self, c: &'a Call) {
        self.nested(|w| w.access_args_at(c));
    }

    pub(super) fn access_args_at(&mut self, c: &'a Call) {
        // Parameters follow the SQL text: `db.ExecContext(ctx, sql, a, b)`, `pool.query(sql, [a, b])`.
        let sql_at = c.args.iter().position(|a| matches!(self.idx.value_of(&a.value), Expr::Str(s) if vocab::is_write_sql(s))).unwrap_or(0);
        let mut params: Vec<&'a Expr> = c.args.iter().skip(sql_at + 1).flat_map(|a| spread(&a.value)).collect();
        if params.is_empty() {
            if let Some((_, bound)) = self.sql_binds.iter().find(|(q, _)| std::ptr::eq(*q, c)) {
                params = bound.clone();
            }
        }
        if c.callee.last_name() == "set" && self.diesel_set(c) {
            return;
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
                // Ruby's paren-less call of a method of the controller (`update(cancellation_params)`).
                Expr::Ident(n) => {
                    if let Some(pairs) = self.idx.funcs.get(n.as_str()).filter(|f| f.params.is_empty()).and_then(|f| returned_object(f)) {
                        self.access_object(pairs);
                    }
                }
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

    /// Diesel's `.set(users::plan.eq(value))` or `.set((users::plan.eq(a), users::active.eq(b)))`:
    /// each column compared with `eq` is written that value.
    fn diesel_set(&mut self, set: &'a Call) -> bool {
        let mut columns = false;
        for item in set.args.iter().flat_map(|a| spread(&a.value)) {
            let Expr::Call(eq) = item else { continue };
            let (Expr::Member(column, m), [Arg { name: None, value }]) = (&eq.callee, eq.args.as_slice()) else { continue };
            if m != "eq" {
                continue;
            }
            columns = true;
            let name = column.last_name();
            if self.decides_access(name, value) {
                self.access(name, value, eq.line);
            }
        }
        columns
    }

    /// The attributes map a function of the app returns (its last expression), read
    /// as written with the function's parameters bound to `c`'s arguments.
    pub(super) fn built_attributes(&mut self, c: &'a Call) {
        let Some(f) = self.idx.resolve_call(&c.callee) else { return };
        let Some(pairs) = returned_object(f) else {
            self.out.untraced_attributes.insert(c.callee.render());
            return;
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
    pub(super) fn changeset_body(&mut self, c: &'a Call) {
        let Some(f) = self.idx.resolve_call(&c.callee) else { return };
        if self.stack.iter().any(|g| std::ptr::eq(*g, f)) || self.stack.len() > 6 {
            return;
        }
        self.stack.push(f);
        let mut casts: Vec<&'a Call> = Vec::new();
        crate::webhook::lang::syntax::each_call(&f.body, &mut |k| {
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
            // Attributes the caller passed as a literal (`update_subscription(sub, %{is_active:
            // false})`) were written key by key where the changeset was built (`access_args`):
            // the permitted fields it does not name are not written.
            if self.given_as_literal(f, c, values) {
                continue;
            }
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

    /// Whether `values`, an expression of the changeset function `f` called by `c`,
    /// is a map literal once `f`'s parameters are bound to `c`'s arguments.
    fn given_as_literal(&mut self, f: &'a Func, c: &'a Call, values: &'a Expr) -> bool {
        let bound: Vec<(&'a str, &'a Expr)> =
            f.params.iter().zip(c.args.iter().filter(|a| a.name.is_none())).map(|(p, a)| (param_name(p), self.bound(&a.value))).collect();
        self.bindings.push(bound);
        let literal = matches!(self.idx.value_of(self.bound(values)), Expr::Object(_));
        self.bindings.pop();
        literal
    }

    pub(super) fn access_object(&mut self, pairs: &'a [Pair]) {
        self.nested(|w| w.access_object_at(pairs));
    }

    pub(super) fn access_object_at(&mut self, pairs: &'a [Pair]) {
        for p in pairs {
            let key = match &p.key {
                Expr::Str(k) => k.as_str(),
                _ => continue,
            };
            if ["where", "filter", "select", "include", "orderBy", "_where", "returning"].contains(&key) {
                continue;
            }
            // A document path (`"subscription.status": "Free"` in a Firestore or MongoDB
            // update) writes its last segment.
            let key = match key.rsplit_once('.') {
                Some((_, last)) if key.split('.').all(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')) => last,
                _ => key,
            };
            if self.decides_access(key, &p.value) {
                // `subscription: { status: 'Pro', ... }`: the fields of the nested document say
                // what is granted; the key alone only when they say nothing.
                if let Expr::Object(inner) = self.idx.value_of(self.bound(&p.value)) {
                    let before = self.out.access_writes.len();
                    self.access_object(inner);
                    if self.out.access_writes.len() > before {
                        continue;
                    }
                }
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
    pub(super) fn access_sql(&mut self, sql: &str, params: &[&'a Expr], line: u32) {
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
    pub(super) fn bound(&self, e: &'a Expr) -> &'a Expr {
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

    /// The value a map keyed by event type gives this event (`Map.fetch!(@statuses, type)`,
    /// `STATUS_BY_EVENT[event.type]`), else the expression itself.
    pub(super) fn for_this_event(&self, e: &'a Expr) -> &'a Expr {
        let (map, key) = match e {
            Expr::Call(c) if matches!(c.callee.last_name(), "fetch!" | "fetch" | "get") && c.args.len() >= 2 => (&c.args[0].value, &c.args[1].value),
            Expr::Index(m, k) => (&**m, &**k),
            _ => return e,
        };
        if !self.bound(key).mentions("type") && !key.mentions("type") {
            return e;
        }
        let Expr::Object(pairs) = self.idx.value_of(self.bound(map)) else { return e };
        pairs.iter().find(|p| vocab::event_label(&p.key).as_deref() == Some(self.event)).map(|p| &p.value).unwrap_or(e)
    }

    /// A value as far as the walk can settle it: a parameter's argument, a constant's value,
    /// this event's entry of a map keyed by event type.
    fn settled(&self, value: &'a Expr) -> &'a Expr {
        self.idx.value_of(self.for_this_event(self.idx.value_of(self.bound(value))))
    }

    /// Whether writing `value` to `field` moves access: an access column, or a
    /// status column given a subscription's status.
    pub(super) fn decides_access(&self, field: &str, value: &'a Expr) -> bool {
        vocab::is_access_field(field, self.idx.access_fields)
            || vocab::is_inverted(field, self.idx.access_fields)
            || (vocab::is_status_field(field) && vocab::is_subscription_status_value(self.settled(value)))
            || (vocab::is_status_field(field) && matches!(self.settled(value), Expr::Str(s) if vocab::is_tier_status(s)))
            // A bare `active` says little alone; computed from the subscription's status
            // (`active: isSubscriptionActive(sub)`) it is the access flag.
            || (squash(field) == "active" && self.returned(self.settled(value)).mentions("status"))
    }

    pub(super) fn access(&mut self, field: &str, value: &'a Expr, line: u32) {
        let resolved = self.returned(self.settled(value));
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
        // A parameter given a literal (`set_user_tier(id, "storyteller")`) writes that literal:
        // shown as it is, so a downgrade to a named plan reads as one.
        let text = match (value, resolved) {
            (Expr::Ident(_), Expr::Str(_)) => resolved.render(),
            _ => value.render(),
        };
        self.push_write(field.to_string(), kind, text, line, gate, derived);
        // `status: effectiveStatus(sub)` whose helper answers `"active"` for some statuses
        // (`if (s.status === "past_due") return "active"`): a grant for those statuses.
        for (statuses, paying) in self.remapped_to_paying(self.idx.value_of(self.bound(value))) {
            self.push_write(field.to_string(), ValueKind::Grant, format!("'{paying}' (from {})", value.render()), line, StatusGate::Allow(statuses), None);
        }
    }

    /// The statuses a helper the walk can see maps to a paying status, by its early returns
    /// (`if (cond on status) return "active"`), with the status it answers.
    fn remapped_to_paying(&self, e: &'a Expr) -> Vec<(BTreeSet<String>, String)> {
        let Expr::Call(c) = e else { return Vec::new() };
        let Some(f) = self.idx.resolve_call(&c.callee) else { return Vec::new() };
        let mut out = Vec::new();
        for s in &f.body {
            let Stmt::If { cond, then, .. } = s else { continue };
            let [Stmt::Return { value: Some(Expr::Str(lit)), .. }] = then.as_slice() else { continue };
            if !matches!(lit.as_str(), "active" | "trialing") {
                continue;
            }
            let (mut allow, mut deny) = (BTreeSet::new(), BTreeSet::new());
            status_atoms(cond, self.idx, false, &mut allow, &mut deny);
            if !allow.is_empty() {
                out.push((allow, lit.clone()));
            }
        }
        out
    }

    /// A call to a helper the walk can see that just returns an expression
    /// (`isSubscriptionActive(sub)` returning `sub.Status == "active"`): that
    /// expression, so a check moved into a helper is still a check.
    pub(super) fn returned(&self, e: &'a Expr) -> &'a Expr {
        let Expr::Call(c) = e else { return e };
        let Some(f) = self.idx.resolve_call(&c.callee) else { return e };
        let mut returns = 0;
        super::super::lang::syntax::each_return(&f.body, &mut |_| returns += 1);
        let v = match f.body.as_slice() {
            [.., Stmt::Return { value: Some(v), .. }] if returns == 1 => v,
            _ => return plan_answered(f).unwrap_or(e),
        };
        // A conversion (`toDateTime(sub.current_period_end)`) says less than its call: keep the call.
        let decides = matches!(v, Expr::Bool(_) | Expr::Null | Expr::Str(_)) || v.mentions("status") || v.mentions("paid") || v.mentions("period_end");
        if decides { v } else { e }
    }

    pub(super) fn push_write(&mut self, field: String, value: ValueKind, value_text: String, line: u32, gate: StatusGate, derived: Option<&Expr>) {
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
    pub(super) fn gate(&self, derived: Option<&Expr>) -> StatusGate {
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

    pub(super) fn early_revoke(&self, value: ValueKind, gate: &StatusGate, derived: Option<&Expr>) -> Option<String> {
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

}

/// The items of a list argument (`[a, b]`, a Rust tuple), or the argument itself.
fn spread(e: &Expr) -> Vec<&Expr> {
    match e {
        Expr::Array(items) => items.iter().collect(),
        v => vec![v],
    }
}

/// The attributes map a function ends with (returned, or its last expression).
fn returned_object(f: &Func) -> Option<&[Pair]> {
    match f.body.last() {
        Some(Stmt::Return { value: Some(Expr::Object(pairs)), .. } | Stmt::Expr(Expr::Object(pairs), _)) => Some(pairs),
        _ => None,
    }
}

/// A helper that answers one plan name or nothing (`planForPriceId(id)` returning
/// `'basic'`, `'pro'` or `null`): the paying name it answers, standing for them all.
fn plan_answered(f: &Func) -> Option<&Expr> {
    let mut values = Vec::new();
    super::super::lang::syntax::each_return(&f.body, &mut |v| values.push(v));
    let names: Vec<&Expr> = values.iter().copied().filter(|v| matches!(v, Expr::Str(_))).collect();
    if names.len() < 2 || !values.iter().all(|v| matches!(v, Expr::Str(_) | Expr::Null)) {
        return None;
    }
    names.iter().copied().find(|v| matches!(v, Expr::Str(s) if !vocab::is_revoking_literal(s)))
}

pub(super) fn sql_literal_kind(val: &str) -> ValueKind {
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
pub(super) fn value_kind(field: &str, e: &Expr) -> ValueKind {
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
        // The plan kept for non-payers (`defaultPlan.ID`, `FREE_PLAN_ID`, `db.DefaultPlan()`): a downgrade.
        _ if vocab::is_plan_field(field) && names_free_plan(e) => ValueKind::Revoke,
        Expr::Call(c) if until && c.args.is_empty() => {
            let n = squash(c.callee.last_name());
            if ["date", "now", "utcnow"].contains(&n.as_str()) { ValueKind::Revoke } else { ValueKind::Derived }
        }
        _ => ValueKind::Derived,
    }
}


fn names_free_plan(e: &Expr) -> bool {
    if !matches!(e, Expr::Ident(_) | Expr::Member(..) | Expr::Call(_)) {
        return false;
    }
    let t = squash(&e.render());
    ["defaultplan", "freeplan", "freetier", "defaulttier"].iter().any(|k| t.contains(k))
}

/// The comma-separated items of a parenthesised SQL list, up to its closing
/// parenthesis: `$1, 'a,b', to_timestamp($4))` gives `$1`, `'a,b'`, `to_timestamp($4)`.
pub(super) fn top_level_items(text: &str) -> Vec<&str> {
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
pub(super) fn bind_chain(c: &Call) -> Option<(*const Call, Vec<&Expr>)> {
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
