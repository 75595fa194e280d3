//! The per-file index, the step after lowering: every function and lambda,
//! the values assigned to each name, what is called and mentioned, classes
//! and their framework bases. Effects, dispatch and flow read it; it reads
//! none of them.

use std::collections::{BTreeSet, HashMap};

use super::callees::Callees;
use super::lang::syntax::{Expr, Func, Stmt, squash};
use super::vocab;

/// Functions by name and the values assigned to each name, file-wide.
pub struct Index<'a> {
    pub funcs: HashMap<&'a str, &'a Func>,
    pub values: HashMap<&'a str, Vec<&'a Expr>>,
    /// Names called somewhere in the file: a function nobody calls is an entry point.
    pub called: BTreeSet<String>,
    /// Every function and lambda, in source order.
    pub all: Vec<&'a Func>,
    pub access_fields: &'a [String],
    /// The request body is parsed as JSON before the handler (express.json()).
    pub json_middleware: bool,
    /// The raw body is kept (express.raw(), bodyParser: false).
    pub raw_middleware: bool,
    /// Classes and modules, with the framework webhook base they extend.
    pub classes: Vec<ClassInfo<'a>>,
    /// Parameter name -> its extractor type or default (axum `Json<T>`, FastAPI `Depends(...)`).
    pub param_types: HashMap<&'a str, &'a Expr>,
    /// Names used anywhere in expressions (identifiers, members, short strings and symbols).
    pub mentioned: BTreeSet<&'a str>,
    /// Functions of other files the handler reaches (empty without a repository).
    pub callees: Callees<'a>,
}

pub struct ClassInfo<'a> {
    pub name: &'a str,
    pub parents: &'a [Expr],
    pub line: u32,
    pub framework: Option<&'static vocab::FrameworkBase>,
}

impl<'a> Index<'a> {
    pub fn new(stmts: &'a [Stmt], access_fields: &'a [String]) -> Self {
        let mut idx = Index {
            funcs: HashMap::new(),
            values: HashMap::new(),
            called: BTreeSet::new(),
            all: Vec::new(),
            access_fields,
            json_middleware: false,
            raw_middleware: false,
            classes: Vec::new(),
            param_types: HashMap::new(),
            mentioned: BTreeSet::new(),
            callees: Callees::default(),
        };
        idx.stmts(stmts);
        idx
    }

    fn stmts(&mut self, stmts: &'a [Stmt]) {
        for s in stmts {
            match s {
                Stmt::Func(f) => self.func(f),
                Stmt::Assign { target, value, .. } => {
                    if let Some(name) = target_name(target) {
                        self.values.entry(name).or_default().push(value);
                        if let Expr::Lambda(f) = value {
                            self.funcs.entry(name).or_insert(f);
                        }
                    }
                    self.expr(target);
                    self.expr(value);
                }
                Stmt::Expr(e, _) => self.expr(e),
                Stmt::Return { value: Some(e), .. } | Stmt::Throw { value: Some(e), .. } => self.expr(e),
                Stmt::If { cond, then, els, .. } => {
                    self.expr(cond);
                    self.stmts(then);
                    self.stmts(els);
                }
                Stmt::Switch { subject, cases, .. } => {
                    self.expr(subject);
                    for c in cases {
                        self.stmts(&c.body);
                    }
                }
                Stmt::Try { body, catches, finally, .. } => {
                    self.stmts(body);
                    for (c, _) in catches {
                        self.stmts(c);
                    }
                    self.stmts(finally);
                }
                Stmt::Block { head, body, .. } => {
                    head.iter().for_each(|h| self.expr(h));
                    self.stmts(body);
                }
                Stmt::Return { value: None, .. } | Stmt::Throw { value: None, .. } | Stmt::Break => {}
                Stmt::Class { name, parents, line } => {
                    parents.iter().for_each(|p| self.expr(p));
                    let framework = parents.iter().filter_map(Expr::dotted).find_map(|d| vocab::framework_base(&d));
                    self.classes.push(ClassInfo { name, parents, line: *line, framework });
                }
            }
        }
    }

    fn func(&mut self, f: &'a Func) {
        if !f.name.is_empty() {
            self.funcs.entry(f.name.as_str()).or_insert(f);
        }
        self.all.push(f);
        f.decorators.iter().for_each(|d| self.expr(d));
        f.param_hints.iter().for_each(|d| self.expr(d));
        for (p, h) in f.params.iter().zip(&f.param_hints) {
            if !matches!(h, Expr::Null) {
                self.param_types.entry(p.as_str()).or_insert(h);
            }
        }
        self.stmts(&f.body);
    }

    fn expr(&mut self, e: &'a Expr) {
        let mut lambdas = Vec::new();
        e.walk(&mut |x| match x {
            Expr::Ident(n) | Expr::Member(_, n) => {
                self.mentioned.insert(n.as_str());
            }
            Expr::Str(n) if n.len() < 80 => {
                self.mentioned.insert(n.as_str());
            }
            Expr::Call(c) => {
                if let Expr::Ident(n) = &c.callee {
                    self.called.insert(n.clone());
                } else if let Expr::Member(o, n) = &c.callee {
                    if matches!(&**o, Expr::Ident(s) if s == "this" || s == "self" || s == "cls") {
                        self.called.insert(n.clone());
                    }
                }
                match c.callee.dotted().as_deref() {
                    Some("express.json" | "bodyParser.json" | "bodyparser.json") => self.json_middleware = true,
                    Some("express.raw" | "bodyParser.raw" | "bodyparser.raw" | "express.text") => self.raw_middleware = true,
                    _ => {}
                }
                for a in &c.args {
                    if let Expr::Lambda(f) = &a.value {
                        lambdas.push(&**f);
                    }
                }
            }
            Expr::Object(pairs) => {
                for p in pairs {
                    if matches!(&p.key, Expr::Str(k) if squash(k) == "bodyparser") && matches!(p.value, Expr::Bool(false)) {
                        self.raw_middleware = true;
                    }
                    if let Expr::Lambda(f) = &p.value {
                        lambdas.push(&**f);
                    }
                }
            }
            Expr::Lambda(f) => lambdas.push(&**f),
            _ => {}
        });
        lambdas.sort_by_key(|f| f.line);
        lambdas.dedup_by_key(|f| *f as *const Func);
        for f in lambdas {
            if !self.all.iter().any(|g| std::ptr::eq(*g, f)) {
                self.func(f);
            }
        }
    }

    /// The framework base class the file's handler class extends, if any.
    pub fn framework(&self) -> Option<&'static vocab::FrameworkBase> {
        self.classes.iter().find_map(|c| c.framework)
    }

    /// The function a call's callee names: `f()`, `this.f()`, `self.f()` in
    /// this file first, then in the files the handler reaches.
    pub fn resolve_call(&self, callee: &Expr) -> Option<&'a Func> {
        match callee {
            Expr::Ident(n) => self.funcs.get(n.as_str()).copied().or_else(|| self.callees.ident(n)),
            Expr::Member(o, n) if matches!(&**o, Expr::Ident(s) if s == "this" || s == "self" || s == "cls") => {
                self.funcs.get(n.as_str()).copied().or_else(|| self.callees.own_method(n))
            }
            Expr::Member(o, n) => self.callees.member(o, n),
            _ => None,
        }
    }

    /// Whether `f` belongs to another file.
    pub fn is_external(&self, f: &Func) -> bool {
        self.callees.contains(f)
    }

    /// An identifier's assigned value when there is exactly one (constants, `const x = ...`).
    /// The expression a predicate method of the file returns, for a bare call of it
    /// (`charge_succeeded?` where `def charge_succeeded? = "charge.succeeded" == event_type`).
    pub fn predicate_body(&self, e: &Expr) -> Option<&'a Expr> {
        let name = match e {
            // Bare, only Ruby's `charge_succeeded?`: elsewhere a bare name is a variable.
            Expr::Ident(n) if n.ends_with('?') => n,
            Expr::Call(c) if c.args.is_empty() => match &c.callee {
                Expr::Ident(n) => n,
                _ => return None,
            },
            _ => return None,
        };
        // A predicate of the model the handler delegates to (`checkout?` in `StripeEvent`).
        let f = self.funcs.get(name.as_str()).copied().or_else(|| self.callees.ident(name))?;
        match f.body.as_slice() {
            [Stmt::Return { value: Some(v), .. }] | [Stmt::Expr(v, _)] if f.params.is_empty() => Some(v),
            _ => None,
        }
    }

    pub fn value_of(&self, e: &'a Expr) -> &'a Expr {
        let mut cur = e;
        for _ in 0..3 {
            match cur {
                Expr::Ident(n) => match self.values.get(n.as_str()).or_else(|| self.callees.values_of(n)).map(Vec::as_slice) {
                    Some([only]) => cur = only,
                    Some([first, ..]) if !matches!(first, Expr::Null) => cur = first,
                    Some([_, second, ..]) => cur = second,
                    _ => break,
                },
                _ => break,
            }
        }
        cur
    }
}

fn target_name(t: &Expr) -> Option<&str> {
    match t {
        Expr::Ident(n) => Some(n.as_str()),
        _ => None,
    }
}

