//! Elixir (tree-sitter) lowered into [`syntax`]: Phoenix controllers, Plugs,
//! stripity_stripe handlers, Ecto.
//!
//! Function heads are dispatch: `def handle_event(%{"type" => "invoice.paid"} = e)`
//! handles `invoice.paid`, and the head's other literal fields guard the body.
//! `case` and `with` become switches, if-chains (map patterns are conditions on
//! the subject's fields) or try statements (`{:ok, _}` / `{:error, _}`
//! arms and `with ... else`). Pipes are calls (`a |> f(b)` is `f(a, b)`);
//! atoms are strings; keyword lists are objects.

use tree_sitter::Node;

use super::syntax::{Arg, Call, Case, Expr, Func, Pair, Stmt};
use super::{Src, interpolated, member_of, named, pairs, qualified};

pub fn lower_program(root: Node, src: &Src) -> Vec<Stmt> {
    let mut out = Vec::new();
    for c in named(root) {
        stmt(c, src, None, &mut out);
    }
    out
}

fn target_name<'a>(n: Node, src: &'a Src) -> &'a str {
    n.child_by_field_name("target").map(|t| if t.kind() == "identifier" { src.text(t) } else { "" }).unwrap_or("")
}

fn call_args(n: Node) -> Vec<Node> {
    named(n).find(|c| c.kind() == "arguments").map(|a| named(a).filter(|c| c.kind() != "comment").collect()).unwrap_or_default()
}

fn do_block(n: Node) -> Option<Node> {
    named(n).find(|c| c.kind() == "do_block")
}

/// The `do:` / `else:` values of a one-line form (`if c, do: a, else: b`).
fn keyword_value<'t>(args: &[Node<'t>], key: &str, src: &Src) -> Option<Node<'t>> {
    let kw = args.iter().rev().find(|a| a.kind() == "keywords")?;
    named(*kw).find(|p| p.child_by_field_name("key").is_some_and(|k| src.text(k).trim().trim_end_matches(':').trim() == key))?.child_by_field_name("value")
}

/// The statements of a `do` block (up to its `else`/`rescue`/... clauses), or of a keyword body.
fn body_of(n: Node, src: &Src, owner: Option<&str>) -> Vec<Stmt> {
    let mut out = Vec::new();
    if let Some(b) = do_block(n) {
        for c in named(b) {
            if matches!(c.kind(), "else_block" | "rescue_block" | "catch_block" | "after_block" | "stab_clause") {
                continue;
            }
            stmt(c, src, owner, &mut out);
        }
    } else if let Some(v) = keyword_value(&call_args(n), "do", src) {
        stmt(v, src, owner, &mut out);
    }
    out
}

/// `try do ... rescue ... catch ... after ... end`, or a `def` whose body has those clauses.
fn try_stmt(n: Node, src: &Src, owner: Option<&str>) -> Stmt {
    let mut body = body_of(n, src, owner);
    let mut catches = Vec::new();
    for kind in ["rescue_block", "catch_block"] {
        if let Some(b) = clause_block(n, kind) {
            for c in named(b).filter(|c| c.kind() == "stab_clause") {
                catches.push((stmts_of(c.child_by_field_name("right"), src, owner), src.line(c)));
            }
        }
    }
    let mut finally = Vec::new();
    if let Some(b) = clause_block(n, "after_block") {
        for c in named(b) {
            stmt(c, src, owner, &mut finally);
        }
    }
    if let Some(b) = clause_block(n, "else_block") {
        for c in named(b).filter(|c| c.kind() == "stab_clause") {
            body.extend(stmts_of(c.child_by_field_name("right"), src, owner));
        }
    }
    Stmt::Try { body, catches, finally, line: src.line(n) }
}

fn clause_block<'t>(n: Node<'t>, kind: &str) -> Option<Node<'t>> {
    do_block(n).and_then(|b| named(b).find(|c| c.kind() == kind))
}

fn stmts_of(body: Option<Node>, src: &Src, owner: Option<&str>) -> Vec<Stmt> {
    let mut out = Vec::new();
    if let Some(b) = body {
        if b.kind() == "body" {
            for c in named(b) {
                stmt(c, src, owner, &mut out);
            }
        } else {
            stmt(b, src, owner, &mut out);
        }
    }
    out
}

fn stmt(n: Node, src: &Src, owner: Option<&str>, out: &mut Vec<Stmt>) {
    let line = src.line(n);
    match n.kind() {
        "comment" => {}
        "call" => call_stmt(n, src, owner, out),
        "binary_operator" => {
            let op = n.child_by_field_name("operator").map(|o| src.text(o)).unwrap_or("");
            let (Some(l), Some(r)) = (n.child_by_field_name("left"), n.child_by_field_name("right")) else { return };
            // `conn |> compute_signature() |> case do {:ok, sig} -> ... end`: a case on the piped value.
            if op == "|>" && r.kind() == "call" && target_name(r, src) == "case" {
                let clauses: Vec<Node> = do_block(r).map(|b| named(b).filter(|c| c.kind() == "stab_clause").collect()).unwrap_or_default();
                out.push(case_stmt(&expr(l, src), &clauses, src, owner, line));
                return;
            }
            if op == "=" {
                // `event = if ..., do: ..., else: ...`: the control flow, then the binding.
                if r.kind() == "call" && matches!(target_name(r, src), "if" | "unless" | "case" | "cond" | "with" | "try") {
                    call_stmt(r, src, owner, out);
                    if let Some(name) = bound_name(l, src) {
                        out.push(Stmt::Assign { target: Expr::Ident(name), value: Expr::Other(src.short(r)), line });
                    }
                    return;
                }
                // `event = ...`, `{:ok, event} = ...`, `%{"type" => t} = payload`
                let value = expr(r, src);
                let mut conds = Vec::new();
                let mut binds = Vec::new();
                pattern(l, &value, src, &mut conds, &mut binds);
                if binds.is_empty() && conds.is_empty() {
                    out.push(Stmt::Expr(value, line));
                }
                for (name, v) in binds {
                    out.push(Stmt::Assign { target: Expr::Ident(name), value: v, line });
                }
            } else {
                out.push(Stmt::Expr(expr(n, src), line));
            }
        }
        "unary_operator" if src.text(n).starts_with('@') => {
            // `@plans %{...}`: a module attribute.
            if let Some(c) = n.child_by_field_name("operand").filter(|c| c.kind() == "call") {
                let name = format!("@{}", target_name(c, src));
                if let Some(v) = call_args(c).first() {
                    out.push(Stmt::Assign { target: Expr::Ident(name), value: expr(*v, src), line });
                }
            }
        }
        "block" => {
            for c in named(n) {
                stmt(c, src, owner, out);
            }
        }
        _ => out.push(Stmt::Expr(expr(n, src), line)),
    }
}

fn call_stmt(n: Node, src: &Src, owner: Option<&str>, out: &mut Vec<Stmt>) {
    let line = src.line(n);
    let args = call_args(n);
    match target_name(n, src) {
        "defmodule" => {
            let name = args.first().map(|a| src.text(*a).to_string()).unwrap_or_default();
            out.push(Stmt::Class { name: name.clone(), parents: Vec::new(), line });
            out.extend(body_of(n, src, Some(&name)));
        }
        "def" | "defp" | "defmacro" => {
            if let Some(f) = def(n, src, owner) {
                out.push(Stmt::Func(f));
            }
        }
        "alias" | "import" | "require" | "defstruct" | "moduledoc" | "doc" => {}
        "use" => {
            let parents: Vec<Expr> = args.iter().take(1).map(|a| expr(*a, src)).collect();
            out.push(Stmt::Class { name: owner.unwrap_or_default().to_string(), parents, line });
        }
        "if" | "unless" => {
            let cond = args.first().map(|c| expr(*c, src)).unwrap_or(Expr::Null);
            let cond = if target_name(n, src) == "unless" { Expr::Unary("!".into(), Box::new(cond)) } else { cond };
            let then = body_of(n, src, owner);
            let els = match clause_block(n, "else_block") {
                Some(e) => named(e).flat_map(|c| {
                    let mut v = Vec::new();
                    stmt(c, src, owner, &mut v);
                    v
                }).collect(),
                None => stmts_of(keyword_value(&args, "else", src), src, owner),
            };
            out.push(Stmt::If { cond, then, els, line });
        }
        "cond" => {
            let clauses: Vec<Node> = do_block(n).map(|b| named(b).filter(|c| c.kind() == "stab_clause").collect()).unwrap_or_default();
            let arms: Vec<Arm> = clauses
                .iter()
                .map(|c| {
                    let cond = c.child_by_field_name("left").and_then(|l| l.named_child(0)).map(|x| expr(x, src)).unwrap_or(Expr::Bool(true));
                    let cond = if matches!(cond, Expr::Bool(true)) { None } else { Some(cond) };
                    Arm { cond, binds: Vec::new(), body: stmts_of(c.child_by_field_name("right"), src, owner), line: src.line(*c), labels: Vec::new() }
                })
                .collect();
            out.extend(if_chain(arms));
        }
        "case" => {
            let subject = args.first().map(|a| expr(*a, src)).unwrap_or(Expr::Null);
            let clauses: Vec<Node> = do_block(n).map(|b| named(b).filter(|c| c.kind() == "stab_clause").collect()).unwrap_or_default();
            out.push(case_stmt(&subject, &clauses, src, owner, line));
        }
        "with" => out.push(with_stmt(n, &args, src, owner)),
        "try" => out.push(try_stmt(n, src, owner)),
        "raise" | "reraise" | "throw" | "exit" => out.push(Stmt::Throw { value: args.first().map(|a| expr(*a, src)), line }),
        "for" => {
            let head = args.iter().map(|a| expr(*a, src)).collect();
            out.push(Stmt::Block { head, body: body_of(n, src, owner), line });
        }
        "pipeline" | "scope" if do_block(n).is_some() => {
            // Router blocks: keep the call (its block holds plugs and routes).
            out.push(Stmt::Expr(expr(n, src), line));
        }
        // A macro wrapping definitions (`Keila.if_cloud do defmodule ... end`,
        // `if_enabled :billing do def ... end`): the definitions are the file's.
        _ if wraps_definitions(n, src) => out.extend(body_of(n, src, owner)),
        _ => out.push(Stmt::Expr(expr(n, src), line)),
    }
}

fn wraps_definitions(n: Node, src: &Src) -> bool {
    do_block(n).is_some_and(|b| named(b).any(|c| c.kind() == "call" && matches!(target_name(c, src), "defmodule" | "def" | "defp")))
}

/// One arm of a case/cond/with-else, as a condition with bindings.
struct Arm {
    cond: Option<Expr>,
    binds: Vec<(String, Expr)>,
    body: Vec<Stmt>,
    line: u32,
    /// The literals the arm matches (strings and atoms), for a switch.
    labels: Vec<Expr>,
}

fn if_chain(arms: Vec<Arm>) -> Vec<Stmt> {
    let mut els: Vec<Stmt> = Vec::new();
    for arm in arms.into_iter().rev() {
        let mut body: Vec<Stmt> = arm.binds.into_iter().map(|(n, v)| Stmt::Assign { target: Expr::Ident(n), value: v, line: arm.line }).collect();
        body.extend(arm.body);
        els = match arm.cond {
            Some(cond) => vec![Stmt::If { cond, then: body, els, line: arm.line }],
            None => body,
        };
    }
    els
}

fn case_stmt(subject: &Expr, clauses: &[Node], src: &Src, owner: Option<&str>, line: u32) -> Stmt {
    let mut arms = Vec::new();
    let mut result_like = false;
    let mut has_error_arm = false;
    for c in clauses {
        let (pat, guard) = arm_head(*c, src);
        let mut conds = Vec::new();
        let mut binds = Vec::new();
        let mut labels = Vec::new();
        let mut body = Vec::new();
        let listed = pat.zip(guard).and_then(|(p, g)| listed_values(p, g, src));
        if let Some((name, values)) = listed {
            // `type when type in ["a", "b"] ->`: an arm for each value, the name bound in it.
            labels = values;
            body.push(Stmt::Assign { target: Expr::Ident(name), value: subject.clone(), line: src.line(*c) });
        } else if let Some(p) = pat {
            if let Some(tag) = result_tag(p, src) {
                result_like = true;
                has_error_arm |= tag == "error";
            }
            // `{:ok, _} -> ...; other -> ...`: the catch-all after an `:ok` arm takes the failures.
            has_error_arm |= result_like && p.kind() == "identifier";
            match p.kind() {
                "string" | "atom" | "quoted_atom" | "integer" => labels.push(expr(p, src)),
                _ => pattern(p, subject, src, &mut conds, &mut binds),
            }
            if let Some(g) = guard {
                conds.push(expr(g, src));
            }
        }
        let cond = conds.into_iter().reduce(|a, b| Expr::Binary("&&".into(), Box::new(a), Box::new(b)));
        body.extend(stmts_of(c.child_by_field_name("right"), src, owner));
        arms.push(Arm { cond, binds, body, line: src.line(*c), labels });
    }
    if result_like && has_error_arm {
        // `case verify(...) do {:ok, event} -> ...; {:error, _} -> ... end`
        let mut body = Vec::new();
        let mut catches = Vec::new();
        for (arm, c) in arms.into_iter().zip(clauses) {
            let tag = arm_head(*c, src).0.and_then(|p| result_tag(p, src));
            if tag.as_deref() == Some("ok") {
                body.extend(arm.binds.into_iter().map(|(n, v)| Stmt::Assign { target: Expr::Ident(n), value: v, line: arm.line }));
                body.extend(arm.body);
            } else {
                catches.push((arm.body, arm.line));
            }
        }
        if body.is_empty() {
            body.push(Stmt::Expr(subject.clone(), line));
        } else {
            body.insert(0, Stmt::Expr(subject.clone(), line));
        }
        return Stmt::Try { body, catches, finally: Vec::new(), line };
    }
    if arms.iter().all(|a| a.cond.is_none() && a.binds.is_empty()) {
        let cases = arms
            .into_iter()
            .map(|a| Case { is_default: a.labels.is_empty(), labels: a.labels, body: a.body, line: a.line })
            .collect();
        return Stmt::Switch { subject: subject.clone(), cases, line };
    }
    let arms = arms
        .into_iter()
        .map(|mut a| {
            let eqs = std::mem::take(&mut a.labels).into_iter().map(|l| Expr::Binary("==".into(), Box::new(subject.clone()), Box::new(l)));
            if let Some(eq) = eqs.reduce(|x, y| Expr::Binary("||".into(), Box::new(x), Box::new(y))) {
                a.cond = Some(match a.cond.take() {
                    Some(c) => Expr::Binary("&&".into(), Box::new(eq), Box::new(c)),
                    None => eq,
                });
            }
            a
        })
        .collect();
    let mut chain = if_chain(arms);
    if chain.len() == 1 {
        chain.remove(0)
    } else {
        Stmt::Block { head: Vec::new(), body: chain, line }
    }
}

/// `name when name in ["a", "b"]`: the name and the literals it may be.
fn listed_values(p: Node, guard: Node, src: &Src) -> Option<(String, Vec<Expr>)> {
    if p.kind() != "identifier" || guard.kind() != "binary_operator" || guard.child_by_field_name("operator").map(|o| src.text(o)) != Some("in") {
        return None;
    }
    let name = src.text(p);
    let (l, r) = (guard.child_by_field_name("left")?, guard.child_by_field_name("right")?);
    if src.text(l) != name || r.kind() != "list" {
        return None;
    }
    let values: Vec<Expr> = named(r).filter(|v| matches!(v.kind(), "string" | "atom" | "quoted_atom")).map(|v| expr(v, src)).collect();
    (!values.is_empty() && values.len() == named(r).count()).then(|| (name.to_string(), values))
}

/// `{:ok, ...}` / `{:error, ...}` / `:error`: the result tag a pattern matches.
fn result_tag(p: Node, src: &Src) -> Option<String> {
    let first = match p.kind() {
        "tuple" => p.named_child(0)?,
        "atom" => p,
        _ => return None,
    };
    let t = src.text(first).trim_start_matches(':');
    matches!(t, "ok" | "error").then(|| t.to_string())
}

/// A `case` arm's pattern and guard: `pattern when guard ->` parses as a `when` operator
/// over the arguments, not as arguments holding one.
fn arm_head<'t>(c: Node<'t>, src: &Src) -> (Option<Node<'t>>, Option<Node<'t>>) {
    let Some(l) = c.child_by_field_name("left") else { return (None, None) };
    let first = |n: Node<'t>| if n.kind() == "arguments" { n.named_child(0) } else { Some(n) };
    match split_guard(Some(l), src) {
        (Some(args), Some(g)) => (first(args), Some(g)),
        _ => split_guard(first(l), src),
    }
}

fn split_guard<'t>(left: Option<Node<'t>>, src: &Src) -> (Option<Node<'t>>, Option<Node<'t>>) {
    match left {
        Some(l) if l.kind() == "binary_operator" && l.child_by_field_name("operator").is_some_and(|o| src.text(o) == "when") => {
            (l.child_by_field_name("left"), l.child_by_field_name("right"))
        }
        other => (other, None),
    }
}

/// What matching `value` against pattern `p` requires (`conds`) and binds.
fn pattern(p: Node, value: &Expr, src: &Src, conds: &mut Vec<Expr>, binds: &mut Vec<(String, Expr)>) {
    match p.kind() {
        "identifier" => {
            let name = src.text(p);
            if !name.starts_with('_') {
                binds.push((name.to_string(), value.clone()));
            }
        }
        "binary_operator" => {
            let op = p.child_by_field_name("operator").map(|o| src.text(o)).unwrap_or("");
            if op == "=" {
                for side in [p.child_by_field_name("left"), p.child_by_field_name("right")].into_iter().flatten() {
                    pattern(side, value, src, conds, binds);
                }
            }
        }
        "map" => {
            for (key, vnode) in map_entries(p, src) {
                let field = Expr::Member(Box::new(value.clone()), key);
                match vnode.kind() {
                    "string" | "atom" | "integer" | "boolean" | "nil" | "quoted_atom" => {
                        conds.push(Expr::Binary("==".into(), Box::new(field), Box::new(expr(vnode, src))));
                    }
                    _ => pattern(vnode, &field, src, conds, binds),
                }
            }
        }
        "tuple" | "list" => {
            for (i, c) in named(p).enumerate() {
                if c.kind() == "atom" {
                    continue;
                }
                let elem = if named(p).count() == 2 { value.clone() } else { Expr::Index(Box::new(value.clone()), Box::new(Expr::Num(i.to_string()))) };
                pattern(c, &elem, src, conds, binds);
            }
        }
        "string" | "atom" | "integer" => conds.push(Expr::Binary("==".into(), Box::new(value.clone()), Box::new(expr(p, src)))),
        _ => {}
    }
}

/// `%{"type" => t, data: d}` / `%Stripe.Event{type: "x"}`: key name -> value node.
fn map_entries<'t>(m: Node<'t>, src: &Src) -> Vec<(String, Node<'t>)> {
    let mut out = Vec::new();
    let Some(content) = named(m).find(|c| c.kind() == "map_content") else { return out };
    for c in named(content) {
        match c.kind() {
            "binary_operator" => {
                if let (Some(k), Some(v)) = (c.child_by_field_name("left"), c.child_by_field_name("right")) {
                    out.push((key_text(k, src), v));
                }
            }
            "keywords" => {
                for p in named(c).filter(|p| p.kind() == "pair") {
                    if let (Some(k), Some(v)) = (p.child_by_field_name("key"), p.child_by_field_name("value")) {
                        out.push((key_text(k, src), v));
                    }
                }
            }
            _ => {}
        }
    }
    out
}

fn key_text(k: Node, src: &Src) -> String {
    match k.kind() {
        "string" => string_value(k, src),
        _ => src.text(k).trim().trim_end_matches(':').trim_start_matches(':').trim_matches('"').to_string(),
    }
}

/// `def name(pattern) when guard do ... end`: a function clause.
fn def(n: Node, src: &Src, owner: Option<&str>) -> Option<Func> {
    let args = call_args(n);
    let head = *args.first()?;
    let (head, guard) = split_guard(Some(head), src);
    let head = head?;
    let (name, params_nodes): (String, Vec<Node>) = match head.kind() {
        "call" => (target_name(head, src).to_string(), call_args(head)),
        "identifier" => (src.text(head).to_string(), Vec::new()),
        _ => return None,
    };
    let mut params = Vec::new();
    let mut conds = Vec::new();
    let mut binds = Vec::new();
    let mut handles = Vec::new();
    for (i, p) in params_nodes.iter().enumerate() {
        let pname = bound_name(*p, src).unwrap_or_else(|| format!("arg{i}"));
        params.push(pname.clone());
        let base = Expr::Ident(pname);
        let mut pc = Vec::new();
        pattern(*p, &base, src, &mut pc, &mut binds);
        for c in pc {
            // The event type in the head is dispatch; other literal fields guard the body.
            match &c {
                Expr::Binary(op, l, r) if op == "==" && matches!(&**l, Expr::Member(_, k) if k == "type" || k == "event_type") => {
                    handles.push((**r).clone());
                }
                _ => conds.push(c),
            }
        }
    }
    if let Some(g) = guard {
        let g = expr(g, src);
        handles.extend(guarded_types(&g, &binds));
        conds.push(g);
    }
    let mut body: Vec<Stmt> = binds
        .into_iter()
        .filter(|(n, v)| !matches!(v, Expr::Ident(x) if x == n))
        .map(|(n, v)| Stmt::Assign { target: Expr::Ident(n), value: v, line: src.line(head) })
        .collect();
    // `def f(..) do ... catch kind, value -> ... end`: the whole body is a try.
    let rescues = clause_block(n, "rescue_block").or_else(|| clause_block(n, "catch_block")).is_some();
    let inner = if rescues { vec![try_stmt(n, src, owner)] } else { body_of(n, src, owner) };
    match conds.into_iter().reduce(|a, b| Expr::Binary("&&".into(), Box::new(a), Box::new(b))) {
        Some(cond) => body.push(Stmt::If { cond, then: inner, els: Vec::new(), line: src.line(head) }),
        None => body.extend(inner),
    }
    Some(Func { name, params, body, line: src.line(n), owner: owner.map(String::from), handles, ..Func::default() })
}

/// `def handle(%{type: type} = e) when is_map_key(@statuses, type)` (or `type in @types`,
/// `Map.has_key?(...)`): the clause handles each event of that collection, which dispatch
/// reads from the attribute's value.
fn guarded_types(guard: &Expr, binds: &[(String, Expr)]) -> Vec<Expr> {
    let is_type_var = |e: &Expr| match e {
        Expr::Ident(v) => binds.iter().any(|(n, val)| n == v && matches!(val, Expr::Member(_, k) if k == "type" || k == "event_type")),
        _ => false,
    };
    let mut out = Vec::new();
    guard.walk(&mut |e| match e {
        Expr::Call(c) if matches!(c.callee.last_name(), "is_map_key" | "has_key?") && c.args.len() == 2 && is_type_var(&c.args[1].value) => {
            out.push(c.args[0].value.clone());
        }
        Expr::Binary(op, l, r) if op == "in" && is_type_var(l) => out.push((**r).clone()),
        _ => {}
    });
    out
}

/// The variable a parameter pattern binds as a whole (`event` in `%{...} = event`).
fn bound_name(p: Node, src: &Src) -> Option<String> {
    match p.kind() {
        "identifier" => Some(src.text(p).to_string()),
        "binary_operator" if p.child_by_field_name("operator").is_some_and(|o| src.text(o) == "=") => {
            let r = p.child_by_field_name("right")?;
            let l = p.child_by_field_name("left")?;
            if r.kind() == "identifier" { Some(src.text(r).to_string()) } else if l.kind() == "identifier" { Some(src.text(l).to_string()) } else { None }
        }
        _ => None,
    }
}

/// `with p <- e, ... do body else clauses end`: a try when it has an else.
fn with_stmt(n: Node, args: &[Node], src: &Src, owner: Option<&str>) -> Stmt {
    let line = src.line(n);
    let mut body = Vec::new();
    for a in args {
        match a.kind() {
            "binary_operator" if a.child_by_field_name("operator").is_some_and(|o| matches!(src.text(o), "<-" | "=")) => {
                let (Some(l), Some(r)) = (a.child_by_field_name("left"), a.child_by_field_name("right")) else { continue };
                let value = expr(r, src);
                let mut conds = Vec::new();
                let mut binds = Vec::new();
                pattern(l, &value, src, &mut conds, &mut binds);
                if binds.is_empty() {
                    body.push(Stmt::Expr(value, src.line(*a)));
                }
                for (name, v) in binds {
                    body.push(Stmt::Assign { target: Expr::Ident(name), value: v, line: src.line(*a) });
                }
            }
            "keywords" => {}
            _ => body.push(Stmt::Expr(expr(*a, src), src.line(*a))),
        }
    }
    body.extend(body_of(n, src, owner));
    let catches: Vec<(Vec<Stmt>, u32)> = clause_block(n, "else_block")
        .map(|b| named(b).filter(|c| c.kind() == "stab_clause").map(|c| (stmts_of(c.child_by_field_name("right"), src, owner), src.line(c))).collect())
        .unwrap_or_default();
    if catches.is_empty() {
        return Stmt::Block { head: Vec::new(), body, line };
    }
    Stmt::Try { body, catches, finally: Vec::new(), line }
}

fn string_value(n: Node, src: &Src) -> String {
    named(n).filter(|c| matches!(c.kind(), "quoted_content" | "escape_sequence")).map(|c| src.text(c)).collect::<Vec<_>>().join("")
}

fn dotted_segments(n: Node, src: &Src) -> Vec<String> {
    match n.kind() {
        "alias" => src.text(n).split('.').map(String::from).collect(),
        "identifier" => vec![src.text(n).to_string()],
        "dot" => {
            let mut v = n.child_by_field_name("left").map(|l| dotted_segments(l, src)).unwrap_or_default();
            if let Some(r) = n.child_by_field_name("right") {
                v.push(src.text(r).to_string());
            }
            v
        }
        "call" if call_args(n).is_empty() && do_block(n).is_none() && n.child_by_field_name("target").is_some_and(|t| t.kind() == "dot") => {
            named(n).find(|c| c.kind() == "arguments").map_or_else(|| n.child_by_field_name("target").map(|t| dotted_segments(t, src)).unwrap_or_default(), |_| Vec::new())
        }
        _ => Vec::new(),
    }
}

fn call_expr(n: Node, src: &Src, piped: Option<Expr>) -> Expr {
    let line = src.line(n);
    let target = n.child_by_field_name("target");
    let has_parens = named(n).any(|c| c.kind() == "arguments");
    let arg_nodes = call_args(n);
    let mut args: Vec<Arg> = piped.into_iter().map(|p| Arg { name: None, value: p }).collect();
    for a in &arg_nodes {
        if a.kind() == "keywords" {
            for p in named(*a).filter(|p| p.kind() == "pair") {
                let key = p.child_by_field_name("key").map(|k| key_text(k, src)).unwrap_or_default();
                let value = p.child_by_field_name("value").map(|v| expr(v, src)).unwrap_or(Expr::Null);
                args.push(Arg { name: Some(key), value });
            }
        } else {
            args.push(Arg { name: None, value: expr(*a, src) });
        }
    }
    if let Some(b) = do_block(n) {
        // A block argument (`pipeline :x do ... end`, `scope "/" do ... end`).
        let mut body = Vec::new();
        for c in named(b) {
            stmt(c, src, None, &mut body);
        }
        args.push(Arg { name: None, value: Expr::Lambda(Box::new(Func { body, line: src.line(b), ..Func::default() })) });
    }
    let callee = match target {
        Some(t) if t.kind() == "dot" => {
            let left = t.child_by_field_name("left");
            let right = t.child_by_field_name("right").map(|r| src.text(r).to_string()).unwrap_or_default();
            // `event.data.object` (no parentheses, no arguments) is a field read.
            if !has_parens && args.is_empty() && left.is_some_and(|l| l.kind() != "alias") {
                return Expr::Member(Box::new(left.map(|l| expr(l, src)).unwrap_or(Expr::Null)), right);
            }
            match left {
                Some(l) if l.kind() == "alias" => {
                    let mut segs: Vec<String> = src.text(l).split('.').map(String::from).collect();
                    segs.push(right);
                    let refs: Vec<&str> = segs.iter().map(String::as_str).collect();
                    qualified(&refs)
                }
                Some(l) => Expr::Member(Box::new(expr(l, src)), right),
                None => Expr::Ident(right),
            }
        }
        Some(t) => Expr::Ident(src.text(t).to_string()),
        None => Expr::Null,
    };
    if matches!(callee.dotted().as_deref(), Some("Enum.member?")) && args.len() == 2 {
        let item = args.pop().map(|a| a.value).unwrap_or(Expr::Null);
        let list = args.pop().map(|a| a.value).unwrap_or(Expr::Null);
        return member_of(item, list);
    }
    Expr::Call(Box::new(Call { callee, args, line }))
}

fn expr(n: Node, src: &Src) -> Expr {
    match n.kind() {
        "identifier" => Expr::Ident(src.text(n).to_string()),
        "alias" => {
            let t = src.text(n);
            let segs: Vec<&str> = t.split('.').collect();
            qualified(&segs)
        }
        "atom" | "quoted_atom" => Expr::Str(src.text(n).trim_start_matches(':').trim_matches('"').to_string()),
        "keyword" => Expr::Str(key_text(n, src)),
        "string" | "charlist" => interpolated(n, src, &["quoted_content", "escape_sequence"], |e| Some(expr(e, src))),
        "sigil" => Expr::Str(named(n).filter(|c| c.kind() == "quoted_content").map(|c| src.text(c)).collect::<Vec<_>>().join("")),
        "integer" | "float" => Expr::Num(src.text(n).replace('_', "")),
        "boolean" => Expr::Bool(src.text(n) == "true"),
        "nil" => Expr::Null,
        "call" => call_expr(n, src, None),
        "dot" => {
            let segs = dotted_segments(n, src);
            let refs: Vec<&str> = segs.iter().map(String::as_str).collect();
            qualified(&refs)
        }
        "access_call" => {
            let t = n.child_by_field_name("target").map(|c| expr(c, src)).unwrap_or(Expr::Null);
            let k = n.child_by_field_name("key").map(|c| expr(c, src)).unwrap_or(Expr::Null);
            Expr::Index(Box::new(t), Box::new(k))
        }
        "binary_operator" => {
            let op = n.child_by_field_name("operator").map(|o| src.text(o)).unwrap_or("");
            let l = n.child_by_field_name("left");
            let r = n.child_by_field_name("right");
            if op == "|>" {
                let piped = l.map(|x| expr(x, src)).unwrap_or(Expr::Null);
                return match r {
                    Some(rc) if rc.kind() == "call" => call_expr(rc, src, Some(piped)),
                    Some(rc) => Expr::Call(Box::new(Call { callee: expr(rc, src), args: vec![Arg { name: None, value: piped }], line: src.line(n) })),
                    None => piped,
                };
            }
            let lv = l.map(|x| expr(x, src)).unwrap_or(Expr::Null);
            let rv = r.map(|x| expr(x, src)).unwrap_or(Expr::Null);
            let op = match op {
                "and" | "&&" => "&&",
                "or" | "||" => "||",
                "===" => "==",
                "!==" => "!=",
                o => o,
            };
            Expr::Binary(op.to_string(), Box::new(lv), Box::new(rv))
        }
        "unary_operator" => {
            let op = n.child_by_field_name("operator").map(|o| src.text(o)).unwrap_or("");
            let operand = n.child_by_field_name("operand");
            match op {
                "not" | "!" => Expr::Unary("!".into(), Box::new(operand.map(|o| expr(o, src)).unwrap_or(Expr::Null))),
                "@" => Expr::Ident(format!("@{}", operand.map(|o| src.text(o)).unwrap_or(""))),
                "&" => operand.map(|o| expr(o, src)).unwrap_or(Expr::Null),
                "^" => operand.map(|o| expr(o, src)).unwrap_or(Expr::Null),
                _ => Expr::Unary(op.to_string(), Box::new(operand.map(|o| expr(o, src)).unwrap_or(Expr::Null))),
            }
        }
        "map" => Expr::Object(
            map_entries(n, src).into_iter().map(|(k, v)| Pair { key: Expr::Str(k), value: expr(v, src), line: src.line(v) }).collect(),
        ),
        "keywords" => Expr::Object(pairs(n, src, |k| Expr::Str(key_text(k, src)), |v| expr(v, src))),
        "list" => {
            let items: Vec<Node> = named(n).filter(|c| c.kind() != "comment").collect();
            match items.as_slice() {
                [only] if only.kind() == "keywords" => expr(*only, src),
                _ => Expr::Array(items.iter().map(|c| expr(*c, src)).collect()),
            }
        }
        "tuple" => Expr::Array(named(n).filter(|c| c.kind() != "comment").map(|c| expr(c, src)).collect()),
        "anonymous_function" => {
            let clause = named(n).find(|c| c.kind() == "stab_clause");
            let params = clause
                .and_then(|c| c.child_by_field_name("left"))
                .map(|l| named(l).filter_map(|p| bound_name(p, src)).collect())
                .unwrap_or_default();
            let body = stmts_of(clause.and_then(|c| c.child_by_field_name("right")), src, None);
            Expr::Lambda(Box::new(Func { params, body, line: src.line(n), ..Func::default() }))
        }
        "block" => named(n).filter(|c| c.kind() != "comment").last().map(|c| expr(c, src)).unwrap_or(Expr::Null),
        _ => Expr::Other(src.short(n)),
    }
}
