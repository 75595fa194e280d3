//! Functions of other files that a handler's calls can reach: the
//! [`super::resolve`] output, indexed by name so that the per-file
//! [`super::index::Index`] can resolve `upsertSubscription(...)`,
//! `billing.activate(...)`, `BillingService::activate(...)`,
//! `store.SetUserPlan(...)` or `this.subscriptions.markCanceled(...)` to a body.

use std::collections::{HashMap, HashSet};

use super::lang::syntax::{Expr, Func, Stmt};
use super::resolve::{Imports, Reach};

/// One function of another file.
#[derive(Clone, Copy)]
pub struct Callee<'a> {
    pub func: &'a Func,
    pub path: &'a str,
    /// The class, module or object it belongs to, when it has one.
    pub owner: Option<&'a str>,
}

/// Method names too common to link an instance call to a repository function
/// by name alone: ORM, SDK and collection verbs.
const GENERIC: &[&str] = &[
    "update", "save", "create", "delete", "destroy", "find", "get", "set", "insert", "upsert", "select", "where", "first", "all", "call",
    "run", "execute", "exec", "query", "send", "emit", "log", "push", "add", "remove", "then", "catch", "json", "status", "retrieve", "list",
    "fetch", "handle", "process", "perform", "from", "to", "map", "filter", "each", "new", "init", "build", "apply", "invoke", "with",
    "findone", "findmany", "findunique", "findfirst", "updatemany", "deletemany", "createmany", "count", "exists", "load", "store", "put",
    "post", "patch", "write", "read", "close", "open", "parse", "validate", "verify", "dispatch", "notify", "error", "info", "warn", "debug",
];

#[derive(Default)]
pub struct Callees<'a> {
    by_name: HashMap<&'a str, Vec<Callee<'a>>>,
    /// Values assigned to each name in the reached files (`const active = status === 'active'`),
    /// so that a helper's locals read as they do in its own file.
    values: HashMap<&'a str, Vec<&'a Expr>>,
    imports: Option<&'a Imports>,
    pointers: HashSet<*const Func>,
}

impl<'a> Callees<'a> {
    pub fn new(reach: &'a Reach) -> Self {
        let mut out = Callees { imports: Some(&reach.imports), ..Callees::default() };
        for file in &reach.files {
            out.collect(&file.parsed.stmts, &file.path, None);
            out.assignments(&file.parsed.stmts);
        }
        out
    }

    fn assignments(&mut self, stmts: &'a [Stmt]) {
        for s in stmts {
            match s {
                Stmt::Assign { target, value, .. } => {
                    if let Expr::Ident(n) = target {
                        self.values.entry(n.as_str()).or_default().push(value);
                    }
                    // `const helper = async (...) => { ... }`: the helper's own locals.
                    if let Expr::Lambda(f) = value {
                        self.assignments(&f.body);
                    }
                }
                Stmt::If { then, els, .. } => {
                    self.assignments(then);
                    self.assignments(els);
                }
                Stmt::Switch { cases, .. } => cases.iter().for_each(|c| self.assignments(&c.body)),
                Stmt::Try { body, catches, finally, .. } => {
                    self.assignments(body);
                    catches.iter().for_each(|(c, _)| self.assignments(c));
                    self.assignments(finally);
                }
                Stmt::Block { body, .. } => self.assignments(body),
                Stmt::Func(f) => self.assignments(&f.body),
                _ => {}
            }
        }
    }

    /// The values assigned to `name` in the reached files.
    pub fn values_of(&self, name: &str) -> Option<&Vec<&'a Expr>> {
        self.values.get(name)
    }

    fn add(&mut self, name: &'a str, func: &'a Func, path: &'a str, owner: Option<&'a str>) {
        if name.is_empty() {
            return;
        }
        self.pointers.insert(func as *const Func);
        self.by_name.entry(name).or_default().push(Callee { func, path, owner });
    }

    fn collect(&mut self, stmts: &'a [Stmt], path: &'a str, owner: Option<&'a str>) {
        for s in stmts {
            match s {
                Stmt::Func(f) => self.add(&f.name, f, path, f.owner.as_deref().or(owner)),
                Stmt::Assign { target, value, .. } => {
                    match value {
                        Expr::Lambda(f) => {
                            if let Expr::Ident(n) = target {
                                self.add(n, f, path, owner);
                            } else if let Expr::Member(_, n) = target {
                                self.add(n, f, path, owner);
                            }
                        }
                        // `export const billing = { async activate() {...} }`, `module.exports = {...}`.
                        Expr::Object(pairs) => {
                            let holder_name = match target {
                                Expr::Ident(n) | Expr::Member(_, n) => Some(n.as_str()),
                                _ => None,
                            };
                            for p in pairs {
                                if let (Expr::Str(k) | Expr::Ident(k), Expr::Lambda(f)) = (&p.key, &p.value) {
                                    self.add(k, f, path, holder_name.or(owner));
                                }
                            }
                        }
                        _ => {}
                    }
                }
                Stmt::Block { body, .. } => self.collect(body, path, owner),
                _ => {}
            }
        }
    }

    pub fn contains(&self, f: &Func) -> bool {
        self.pointers.contains(&(f as *const Func))
    }

    fn named(&self, name: &str) -> &[Callee<'a>] {
        self.by_name.get(name).map_or(&[], Vec::as_slice)
    }

    fn in_files(&self, name: &str, files: &[String]) -> Option<&'a Func> {
        self.named(name).iter().find(|c| files.iter().any(|f| f == c.path)).map(|c| c.func)
    }

    /// A plain call `f(...)`: an imported name, else a top-level function of a
    /// reached file (the same Go package, the helper's own file).
    pub fn ident(&self, name: &str) -> Option<&'a Func> {
        if let Some((original, files)) = self.imports.and_then(|i| i.names.get(name)) {
            let wanted = if original == "default" { name } else { original.as_str() };
            if let Some(f) = self.in_files(wanted, files) {
                return Some(f);
            }
            // `const setPlus = require('./setPlus')` of `module.exports = async (...) => ...`.
            if original == "default" {
                if let Some(f) = self.exported_in(files) {
                    return Some(f);
                }
            }
        }
        self.named(name).iter().find(|c| c.owner.is_none()).or_else(|| self.named(name).first()).map(|c| c.func)
    }

    /// The function a module exports as a whole (`module.exports = fn`, `export default fn`),
    /// by the specifier that loads it.
    pub fn default_export(&self, spec: &str) -> Option<&'a Func> {
        self.exported_in(self.imports?.specs.get(spec)?)
    }

    /// `export default fn` or `module.exports = fn` in one of `files`.
    fn exported_in(&self, files: &[String]) -> Option<&'a Func> {
        self.in_files("default", files).or_else(|| self.in_files("exports", files))
    }

    /// `this.f()` inside a reached class: a method of that name.
    pub fn own_method(&self, name: &str) -> Option<&'a Func> {
        self.named(name).iter().find(|c| c.owner.is_some()).map(|c| c.func)
    }

    /// `recv.m(...)`: through an imported module or class, a class or module
    /// named like the receiver, or, for an instance, the only repository
    /// function of that name when the name is specific enough.
    pub fn member(&self, receiver: &Expr, name: &str) -> Option<&'a Func> {
        // `Billing::Activate.call(x)` reaches here as a call of the class itself: its `call` method.
        if name.chars().next().is_some_and(char::is_uppercase) {
            let owned_by = |c: &&Callee<'a>| c.owner.is_some_and(|o| o.rsplit(['.', ':', '\\']).next() == Some(name));
            if let Some(c) = self.named("call").iter().find(owned_by) {
                return Some(c.func);
            }
        }
        let root = receiver_name(receiver);
        if let Some(root) = root {
            if let Some(files) = self.imports.and_then(|i| i.modules.get(root)) {
                if let Some(f) = self.in_files(name, files) {
                    return Some(f);
                }
            }
            if root.chars().next().is_some_and(char::is_uppercase) {
                if let Some(c) = self.named(name).iter().find(|c| c.owner.is_some_and(|o| o.rsplit(['.', ':', '\\']).next() == Some(root))) {
                    return Some(c.func);
                }
            }
        }
        // An instance named after a class that defines the method: `$subscription->sync(..)`
        // is `Subscription`'s, `stripe_subscription.update_from_stripe!` `StripeSubscription`'s,
        // whatever other classes define a method of that name.
        let named_after = root.map(super::lang::syntax::squash).and_then(|root| {
            let owned: Vec<&Callee<'a>> =
                self.named(name).iter().filter(|c| c.owner.is_some_and(|o| super::lang::syntax::squash(o.rsplit(['.', ':', '\\']).next().unwrap_or(o)) == root)).collect();
            match owned.as_slice() {
                [only] => Some(only.func),
                _ => None,
            }
        });
        if named_after.is_some() {
            return named_after;
        }
        let squashed = super::lang::syntax::squash(name);
        if squashed.len() < 6 || GENERIC.contains(&squashed.as_str()) {
            return None;
        }
        match self.named(name) {
            [only] => Some(only.func),
            _ => None,
        }
    }
}

/// The name a receiver goes by: `billing` in `billing.activate`, `Billing` in
/// `Billing::Sync.new(x).call` (its last constant), `store` in `s.store.Set`.
fn receiver_name(receiver: &Expr) -> Option<&str> {
    match receiver {
        Expr::Ident(n) => Some(n),
        Expr::Member(o, n) => match &**o {
            Expr::Ident(s) if s == "this" || s == "self" || s == "$this" => Some(n),
            _ if n.chars().next().is_some_and(char::is_uppercase) => Some(n),
            _ => receiver_name(o).filter(|r| r.chars().next().is_some_and(char::is_uppercase)),
        },
        // Laravel's container: `app(CreateLicenceKey::class)`, `resolve(..)`, `App::make(..)`: the class.
        Expr::Call(c) if matches!(c.callee.last_name(), "app" | "resolve" | "make") && c.args.len() == 1 => receiver_name(&c.args[0].value),
        // `X.new(...)` / `X::new(...)`: the class.
        Expr::Call(c) if matches!(c.callee.last_name(), "new" | "call" | "instance" | "getInstance") => match &c.callee {
            Expr::Member(o, _) => receiver_name(o),
            _ => None,
        },
        _ => None,
    }
}
