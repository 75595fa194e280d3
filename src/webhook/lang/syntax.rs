//! A small language-neutral syntax tree. Each grammar (tree-sitter) is lowered
//! into it by its own module; the handler model is built from it once, for
//! every language. It keeps what the model needs (calls, conditions, writes,
//! returns, dispatch) and renders the rest as text.

/// A function, method or lambda.
#[derive(Debug, Clone, Default)]
pub struct Func {
    pub name: String,
    pub params: Vec<String>,
    pub body: Vec<Stmt>,
    /// Python decorators (`@receiver("customer.subscription.deleted")`).
    pub decorators: Vec<Expr>,
    pub line: u32,
    /// The class or module the function is defined in, when the language has them.
    pub owner: Option<String>,
    /// Event types a framework dispatches to this function by convention, as
    /// written: Elixir function-head patterns (`%{"type" => "invoice.paid"}`),
    /// Laravel Cashier method names (`handleInvoicePaid` gives `InvoicePaid`).
    pub handles: Vec<Expr>,
    /// Parameter defaults and extractor types: FastAPI `Depends(verify)`, axum
    /// and actix extractors (`StripeEvent(event): StripeEvent`).
    pub param_hints: Vec<Expr>,
}

#[derive(Debug, Clone)]
pub struct Case {
    pub labels: Vec<Expr>,
    pub is_default: bool,
    pub body: Vec<Stmt>,
    pub line: u32,
}

#[derive(Debug, Clone)]
pub enum Stmt {
    Expr(Expr, u32),
    /// Declarations, assignments and augmented assignments alike.
    Assign { target: Expr, value: Expr, line: u32 },
    /// `elif` / `else if` chains nest in `els`.
    If { cond: Expr, then: Vec<Stmt>, els: Vec<Stmt>, line: u32 },
    /// `switch` and Python's `match`.
    Switch { subject: Expr, cases: Vec<Case>, line: u32 },
    Try { body: Vec<Stmt>, catches: Vec<(Vec<Stmt>, u32)>, finally: Vec<Stmt>, line: u32 },
    Return { value: Option<Expr>, line: u32 },
    Throw { value: Option<Expr>, line: u32 },
    /// `break` / `continue`: the path ends here.
    Break,
    /// Loops and `with` blocks: the head expressions, then the body.
    Block { head: Vec<Expr>, body: Vec<Stmt>, line: u32 },
    Func(Func),
    /// A class or module heading: its name and what it extends, includes or
    /// uses. Its class-level statements follow it as ordinary statements, its
    /// methods as [`Stmt::Func`]s whose `owner` is `name`.
    Class { name: String, parents: Vec<Expr>, line: u32 },
}

#[derive(Debug, Clone)]
pub struct Arg {
    /// Python keyword arguments.
    pub name: Option<String>,
    pub value: Expr,
}

#[derive(Debug, Clone)]
pub struct Call {
    pub callee: Expr,
    pub args: Vec<Arg>,
    pub line: u32,
}

#[derive(Debug, Clone)]
pub struct Pair {
    pub key: Expr,
    pub value: Expr,
    pub line: u32,
}

#[derive(Debug, Clone)]
pub enum Expr {
    Ident(String),
    Str(String),
    Num(String),
    Bool(bool),
    Null,
    Member(Box<Expr>, String),
    Index(Box<Expr>, Box<Expr>),
    Call(Box<Call>),
    /// Operators are normalised: `===` is `==`, `and` is `&&`, `is not` is `!=`.
    Binary(String, Box<Expr>, Box<Expr>),
    Unary(String, Box<Expr>),
    Object(Vec<Pair>),
    Array(Vec<Expr>),
    Cond(Box<Expr>, Box<Expr>, Box<Expr>),
    Lambda(Box<Func>),
    Other(String),
}

impl Expr {
    /// `a.b.c` for identifier/member/string-index chains; None otherwise.
    pub fn dotted(&self) -> Option<String> {
        match self {
            Expr::Ident(s) => Some(s.clone()),
            Expr::Member(o, p) => o.dotted().map(|o| format!("{o}.{p}")),
            Expr::Index(o, i) => match &**i {
                Expr::Str(s) => o.dotted().map(|o| format!("{o}.{s}")),
                _ => None,
            },
            _ => None,
        }
    }

    /// The last name of a callee or member chain: `json` for `res.status(400).json`.
    pub fn last_name(&self) -> &str {
        match self {
            Expr::Ident(s) | Expr::Member(_, s) => s,
            Expr::Index(_, i) => match &**i {
                Expr::Str(s) => s,
                _ => "",
            },
            _ => "",
        }
    }

    /// Compact source-like text, for evidence and for classifying values.
    pub fn render(&self) -> String {
        let mut out = String::new();
        self.render_into(&mut out);
        if out.len() > 160 {
            let mut cut = 157;
            while !out.is_char_boundary(cut) {
                cut -= 1;
            }
            out.truncate(cut);
            out.push_str("...");
        }
        out
    }

    fn render_into(&self, out: &mut String) {
        if out.len() > 400 {
            return;
        }
        match self {
            Expr::Ident(s) | Expr::Num(s) | Expr::Other(s) => out.push_str(s),
            Expr::Str(s) => {
                out.push('\'');
                out.push_str(s);
                out.push('\'');
            }
            Expr::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Expr::Null => out.push_str("null"),
            Expr::Member(o, p) => {
                o.render_into(out);
                out.push('.');
                out.push_str(p);
            }
            Expr::Index(o, i) => {
                o.render_into(out);
                out.push('[');
                i.render_into(out);
                out.push(']');
            }
            Expr::Call(c) => {
                c.callee.render_into(out);
                out.push('(');
                for (i, a) in c.args.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    if let Some(n) = &a.name {
                        out.push_str(n);
                        out.push('=');
                    }
                    a.value.render_into(out);
                }
                out.push(')');
            }
            Expr::Binary(op, l, r) => {
                l.render_into(out);
                out.push(' ');
                out.push_str(op);
                out.push(' ');
                r.render_into(out);
            }
            Expr::Unary(op, a) => {
                out.push_str(op);
                a.render_into(out);
            }
            Expr::Object(pairs) => {
                out.push('{');
                for (i, p) in pairs.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    p.key.render_into(out);
                    out.push_str(": ");
                    p.value.render_into(out);
                }
                out.push('}');
            }
            Expr::Array(items) => {
                out.push('[');
                for (i, e) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    e.render_into(out);
                }
                out.push(']');
            }
            Expr::Cond(c, a, b) => {
                c.render_into(out);
                out.push_str(" ? ");
                a.render_into(out);
                out.push_str(" : ");
                b.render_into(out);
            }
            Expr::Lambda(_) => out.push_str("<fn>"),
        }
    }

    /// Visits this expression and every sub-expression, not entering lambdas.
    pub fn walk<'a>(&'a self, f: &mut dyn FnMut(&'a Expr)) {
        f(self);
        match self {
            Expr::Member(o, _) => o.walk(f),
            Expr::Index(o, i) => {
                o.walk(f);
                i.walk(f);
            }
            Expr::Call(c) => {
                c.callee.walk(f);
                for a in &c.args {
                    a.value.walk(f);
                }
            }
            Expr::Binary(_, l, r) => {
                l.walk(f);
                r.walk(f);
            }
            Expr::Unary(_, a) => a.walk(f),
            Expr::Object(pairs) => {
                for p in pairs {
                    p.key.walk(f);
                    p.value.walk(f);
                }
            }
            Expr::Array(items) => items.iter().for_each(|e| e.walk(f)),
            Expr::Cond(c, a, b) => {
                c.walk(f);
                a.walk(f);
                b.walk(f);
            }
            _ => {}
        }
    }

    /// Whether any identifier, member name, key or string in the expression
    /// contains `word` (case-insensitive, `_` ignored: `paymentStatus` matches `payment_status`).
    pub fn mentions(&self, word: &str) -> bool {
        let want = squash(word);
        let mut found = false;
        self.walk(&mut |e| {
            if found {
                return;
            }
            let name = match e {
                Expr::Ident(s) | Expr::Member(_, s) | Expr::Str(s) | Expr::Other(s) => s.as_str(),
                _ => return,
            };
            let mut buf = String::with_capacity(name.len());
            squash_into(name, &mut buf);
            if buf.contains(&want) {
                found = true;
            }
        });
        found
    }

    /// String literals anywhere inside.
    pub fn strings(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.walk(&mut |e| {
            if let Expr::Str(s) = e {
                out.push(s.as_str());
            }
        });
        out
    }

    pub fn as_call(&self) -> Option<&Call> {
        match self {
            Expr::Call(c) => Some(c),
            _ => None,
        }
    }
}

/// Lowercase with `_` and `-` removed, so that naming styles compare equal;
/// Ruby and Elixir `!`/`?` suffixes are dropped too (`update!` is `update`).
pub fn squash(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    squash_into(s, &mut out);
    out
}

fn squash_into(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '_' | '-' | '!' | '?' => {}
            c if c.is_ascii() => out.push(c.to_ascii_lowercase()),
            c => out.extend(c.to_lowercase()),
        }
    }
}

impl Stmt {
    pub fn line(&self) -> u32 {
        match self {
            Stmt::Expr(_, line)
            | Stmt::Assign { line, .. }
            | Stmt::If { line, .. }
            | Stmt::Switch { line, .. }
            | Stmt::Try { line, .. }
            | Stmt::Return { line, .. }
            | Stmt::Throw { line, .. }
            | Stmt::Block { line, .. } => *line,
            Stmt::Func(f) => f.line,
            Stmt::Class { line, .. } => *line,
            Stmt::Break => 0,
        }
    }

    /// Whether control never continues past this statement.
    pub fn terminates(&self) -> bool {
        match self {
            Stmt::Return { .. } | Stmt::Throw { .. } | Stmt::Break => true,
            Stmt::If { then, els, .. } => ends(then) && ends(els),
            _ => false,
        }
    }
}

/// Whether a block always ends in return/throw/break.
pub fn ends(block: &[Stmt]) -> bool {
    block.last().is_some_and(Stmt::terminates)
}

/// Visits every call in statements, nested calls and lambdas included.
pub fn each_call<'a>(stmts: &'a [Stmt], f: &mut dyn FnMut(&'a Call)) {
    each_expr(stmts, &mut |top| {
        top.walk(&mut |x| {
            if let Expr::Call(c) = x {
                f(c);
            }
        })
    });
}

/// The last line a block's statements reach.
pub fn last_line(stmts: &[Stmt]) -> u32 {
    let mut max = 0;
    for s in stmts {
        let (line, inner): (u32, Vec<&[Stmt]>) = match s {
            Stmt::Expr(_, l) | Stmt::Assign { line: l, .. } | Stmt::Return { line: l, .. } | Stmt::Throw { line: l, .. } => (*l, vec![]),
            Stmt::If { then, els, line, .. } => (*line, vec![then, els]),
            Stmt::Switch { cases, line, .. } => (*line, cases.iter().map(|c| c.body.as_slice()).collect()),
            Stmt::Try { body, catches, finally, line } => {
                let mut v: Vec<&[Stmt]> = vec![body, finally];
                v.extend(catches.iter().map(|(c, _)| c.as_slice()));
                (*line, v)
            }
            Stmt::Block { body, line, .. } => (*line, vec![body]),
            Stmt::Func(f) => (f.line, vec![&f.body]),
            Stmt::Class { line, .. } => (*line, vec![]),
            Stmt::Break => (0, vec![]),
        };
        max = max.max(line);
        for b in inner {
            max = max.max(last_line(b));
        }
    }
    max
}

/// Visits every if statement (its condition, then branch and line), nested blocks and functions included.
pub fn each_if<'a>(stmts: &'a [Stmt], f: &mut dyn FnMut(&'a Expr, &'a [Stmt], u32)) {
    for s in stmts {
        match s {
            Stmt::If { cond, then, els, line } => {
                f(cond, then, *line);
                each_if(then, f);
                each_if(els, f);
            }
            Stmt::Switch { cases, .. } => cases.iter().for_each(|c| each_if(&c.body, f)),
            Stmt::Try { body, catches, finally, .. } => {
                each_if(body, f);
                catches.iter().for_each(|(c, _)| each_if(c, f));
                each_if(finally, f);
            }
            Stmt::Block { body, .. } => each_if(body, f),
            Stmt::Func(g) => each_if(&g.body, f),
            _ => {}
        }
    }
}

/// Visits every `return` value of a function's own statements (not of the functions it defines).
pub fn each_return<'a>(stmts: &'a [Stmt], f: &mut dyn FnMut(&'a Expr)) {
    for s in stmts {
        match s {
            Stmt::Return { value: Some(v), .. } => f(v),
            Stmt::If { then, els, .. } => {
                each_return(then, f);
                each_return(els, f);
            }
            Stmt::Switch { cases, .. } => cases.iter().for_each(|c| each_return(&c.body, f)),
            Stmt::Try { body, catches, finally, .. } => {
                each_return(body, f);
                catches.iter().for_each(|(c, _)| each_return(c, f));
                each_return(finally, f);
            }
            Stmt::Block { body, .. } => each_return(body, f),
            _ => {}
        }
    }
}

/// Visits every assignment in statements, nested blocks and functions included.
pub fn each_assign<'a>(stmts: &'a [Stmt], f: &mut dyn FnMut(&'a Expr, &'a Expr)) {
    for s in stmts {
        match s {
            Stmt::Assign { target, value, .. } => f(target, value),
            Stmt::If { then, els, .. } => {
                each_assign(then, f);
                each_assign(els, f);
            }
            Stmt::Switch { cases, .. } => cases.iter().for_each(|c| each_assign(&c.body, f)),
            Stmt::Try { body, catches, finally, .. } => {
                each_assign(body, f);
                catches.iter().for_each(|(c, _)| each_assign(c, f));
                each_assign(finally, f);
            }
            Stmt::Block { body, .. } => each_assign(body, f),
            Stmt::Func(g) => each_assign(&g.body, f),
            _ => {}
        }
    }
}

/// Visits every expression in statements, functions and lambdas included.
pub fn each_expr<'a>(stmts: &'a [Stmt], f: &mut dyn FnMut(&'a Expr)) {
    fn lambdas<'a>(e: &'a Expr, f: &mut dyn FnMut(&'a Expr)) {
        f(e);
        let mut inner: Vec<&'a Func> = Vec::new();
        e.walk(&mut |x| {
            if let Expr::Lambda(l) = x {
                inner.push(l);
            }
            if let Expr::Call(c) = x {
                for a in &c.args {
                    if let Expr::Lambda(l) = &a.value {
                        inner.push(l);
                    }
                }
            }
        });
        for l in inner {
            each_expr(&l.body, f);
        }
    }
    for s in stmts {
        match s {
            Stmt::Expr(e, _) | Stmt::Return { value: Some(e), .. } | Stmt::Throw { value: Some(e), .. } => lambdas(e, f),
            Stmt::Assign { target, value, .. } => {
                lambdas(target, f);
                lambdas(value, f);
            }
            Stmt::If { cond, then, els, .. } => {
                lambdas(cond, f);
                each_expr(then, f);
                each_expr(els, f);
            }
            Stmt::Switch { subject, cases, .. } => {
                lambdas(subject, f);
                for c in cases {
                    c.labels.iter().for_each(|l| lambdas(l, f));
                    each_expr(&c.body, f);
                }
            }
            Stmt::Try { body, catches, finally, .. } => {
                each_expr(body, f);
                catches.iter().for_each(|(c, _)| each_expr(c, f));
                each_expr(finally, f);
            }
            Stmt::Block { head, body, .. } => {
                head.iter().for_each(|h| lambdas(h, f));
                each_expr(body, f);
            }
            Stmt::Func(g) => each_expr(&g.body, f),
            _ => {}
        }
    }
}
