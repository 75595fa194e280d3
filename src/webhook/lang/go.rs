//! Go (tree-sitter) lowered into [`syntax`]: net/http, gin, chi and echo
//! handlers, stripe-go and paddle-go, database/sql.
//!
//! `v, err := f(); if err != nil { ... }` (and `if err := f(); err != nil`)
//! is a try statement whose catch is the `if` body: that is what the error
//! check means. A method's receiver is `self`, so `h.revoke(...)` resolves to
//! the method. SDK constants (`stripe.EventTypeInvoicePaid`) become the
//! strings they stand for; `time.Hour` and friends become seconds;
//! `slices.Contains(list, x)` is `x in list`.

use tree_sitter::Node;

use super::syntax::{Arg, Call, Case, Expr, Func, Pair, Stmt};
use super::{Src, member_of, named, qualified};

struct Cx<'a, 's> {
    src: &'a Src<'s>,
    /// The receiver variable of the method being lowered.
    recv: Option<String>,
}

pub fn lower_program(root: Node, src: &Src) -> Vec<Stmt> {
    let cx = Cx { src, recv: None };
    let mut out = Vec::new();
    for c in named(root) {
        top(c, &cx, &mut out);
    }
    out
}

fn top(n: Node, cx: &Cx, out: &mut Vec<Stmt>) {
    let src = cx.src;
    match n.kind() {
        "function_declaration" => out.push(Stmt::Func(func(n, cx, None))),
        "method_declaration" => {
            let recv = n.child_by_field_name("receiver").and_then(|r| named(r).next());
            let recv_name = recv.and_then(|p| p.child_by_field_name("name")).map(|x| src.text(x).to_string());
            let owner = recv.and_then(|p| p.child_by_field_name("type")).map(|t| src.text(t).trim_start_matches('*').to_string());
            let inner = Cx { src, recv: recv_name };
            let mut f = func(n, &inner, owner);
            f.owner = f.owner.filter(|o| !o.is_empty());
            out.push(Stmt::Func(f));
        }
        "var_declaration" | "const_declaration" => {
            for spec in named(n) {
                let specs: Vec<Node> = if spec.kind().ends_with("_spec_list") { named(spec).collect() } else { vec![spec] };
                for s in specs {
                    spec_assign(s, cx, out);
                }
            }
        }
        "package_clause" | "import_declaration" | "type_declaration" | "comment" => {}
        _ => stmt(n, cx, out),
    }
}

fn spec_assign(s: Node, cx: &Cx, out: &mut Vec<Stmt>) {
    let mut cursor = s.walk();
    let names: Vec<Node> = s.children_by_field_name("name", &mut cursor).collect();
    let values: Vec<Node> = s.child_by_field_name("value").map(|v| named(v).collect()).unwrap_or_default();
    for (n, v) in names.iter().zip(values.iter()) {
        out.push(Stmt::Assign { target: Expr::Ident(cx.src.text(*n).to_string()), value: expr(*v, cx), line: cx.src.line(s) });
    }
}

fn func(n: Node, cx: &Cx, owner: Option<String>) -> Func {
    let src = cx.src;
    let name = n.child_by_field_name("name").map(|c| src.text(c).to_string()).unwrap_or_default();
    let mut params = Vec::new();
    if let Some(p) = n.child_by_field_name("parameters") {
        for d in named(p) {
            let mut cursor = d.walk();
            for id in d.children_by_field_name("name", &mut cursor) {
                params.push(src.text(id).to_string());
            }
        }
    }
    let body = n.child_by_field_name("body").map(|b| block(b, cx)).unwrap_or_default();
    let handles = n.child_by_field_name("body").map(|b| decoded_events(b, src)).unwrap_or_default();
    Func { name, params, body, line: src.line(n), owner, handles, ..Func::default() }
}

/// A function per event, told by the SDK type it decodes the body into
/// (`evt := &paddlenotification.SubscriptionCanceled{}`, `var e paddlenotification.TransactionCompleted`):
/// the event it handles, when there is exactly one.
fn decoded_events(body: Node, src: &Src) -> Vec<Expr> {
    fn visit(n: Node, src: &Src, out: &mut std::collections::BTreeSet<&'static str>) {
        if matches!(n.kind(), "composite_literal" | "var_spec") {
            if let Some(t) = n.child_by_field_name("type").filter(|t| t.kind() == "qualified_type") {
                let pkg = t.child_by_field_name("package").map_or("", |p| src.text(p));
                let name = t.child_by_field_name("name").map_or("", |p| src.text(p));
                if pkg == "paddle" || pkg.ends_with("notification") || pkg.ends_with("webhook") || pkg.ends_with("events") {
                    // `paddle.SubscriptionCreatedEvent` (older SDKs) names it too.
                    out.extend(crate::webhook::vocab::event_from_name(name.strip_suffix("Event").unwrap_or(name)));
                }
            }
        }
        if n.kind() != "func_literal" {
            for c in named(n) {
                visit(c, src, out);
            }
        }
    }
    let mut events = std::collections::BTreeSet::new();
    visit(body, src, &mut events);
    if events.len() == 1 { events.into_iter().map(|e| Expr::Str(e.to_string())).collect() } else { Vec::new() }
}

fn block(n: Node, cx: &Cx) -> Vec<Stmt> {
    let list: Vec<Node> = match n.kind() {
        "block" => named(n).flat_map(|c| if c.kind() == "statement_list" { named(c).collect::<Vec<_>>() } else { vec![c] }).collect(),
        "statement_list" => named(n).collect(),
        _ => vec![n],
    };
    stmts(&list, cx)
}

fn stmts(list: &[Node], cx: &Cx) -> Vec<Stmt> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < list.len() {
        let n = list[i];
        // `v, err := f()` (or a switch whose cases set `err`) followed by `if err != nil { ... }`,
        // perhaps with log lines between (`fmt.Println("invoice paid")`).
        let mut j = i + 1;
        while j < list.len() && is_log_line(list[j], cx) {
            j += 1;
        }
        let err = error_target(n, cx).or_else(|| list.get(j).and_then(|next| checked_var(*next, cx)).filter(|v| assigns(n, v, cx)));
        if let (Some(err), Some(next)) = (err, list.get(j)) {
            if next.kind() == "if_statement" && next.child_by_field_name("initializer").is_none() && checks_error(*next, &err, cx) {
                let mut body = Vec::new();
                for m in &list[i..j] {
                    stmt(*m, cx, &mut body);
                }
                out.push(try_of(body, *next, cx));
                i = j + 1;
                continue;
            }
        }
        stmt(n, cx, &mut out);
        i += 1;
    }
    out
}

/// A statement that only prints or logs: `fmt.Println(..)`, `log.Printf(..)`.
fn is_log_line(n: Node, cx: &Cx) -> bool {
    let t = cx.src.text(n).trim_start();
    n.kind() == "expression_statement" && ["fmt.Print", "fmt.Fprint", "log.", "logger.", "slog.", "s.logger.", "h.logger.", "s.log."].iter().any(|p| t.starts_with(p))
}

/// The try statement an error check makes: the checked statements, the `if` body
/// as the catch, and an `else` as the continuation.
fn try_of(mut body: Vec<Stmt>, check: Node, cx: &Cx) -> Stmt {
    let catch = check.child_by_field_name("consequence").map(|b| block(b, cx)).unwrap_or_default();
    if let Some(alt) = check.child_by_field_name("alternative") {
        body.extend(block(alt, cx));
    }
    Stmt::Try { body, catches: vec![(catch, cx.src.line(check))], finally: Vec::new(), line: cx.src.line(check) }
}

/// The error variable an assignment from a call sets: `err` in `v, err := f()`.
fn error_target(n: Node, cx: &Cx) -> Option<String> {
    if !matches!(n.kind(), "short_var_declaration" | "assignment_statement") {
        return None;
    }
    let left = n.child_by_field_name("left")?;
    let right = n.child_by_field_name("right")?;
    let last = named(left).last()?;
    let name = cx.src.text(last);
    let call = named(right).any(|r| r.kind() == "call_expression");
    (call && last.kind() == "identifier" && name != "_").then(|| name.to_string())
}

/// The variable an `if v != nil` checks.
fn checked_var(ifn: Node, cx: &Cx) -> Option<String> {
    if ifn.kind() != "if_statement" || ifn.child_by_field_name("initializer").is_some() {
        return None;
    }
    let t = cx.src.text(ifn.child_by_field_name("condition")?).replace(' ', "");
    t.strip_suffix("!=nil").filter(|v| v.chars().all(|c| c.is_alphanumeric() || c == '_')).map(String::from)
}

/// Whether a statement (a switch, an if) assigns `var` somewhere inside.
fn assigns(n: Node, var: &str, cx: &Cx) -> bool {
    if matches!(n.kind(), "short_var_declaration" | "assignment_statement") {
        if let Some(l) = n.child_by_field_name("left") {
            if named(l).any(|t| cx.src.text(t) == var) {
                return true;
            }
        }
    }
    n.kind() != "func_literal" && named(n).any(|c| assigns(c, var, cx))
}

/// `if err != nil` (or `if !ok` / `if !valid` for a boolean result).
fn checks_error(ifn: Node, err: &str, cx: &Cx) -> bool {
    let Some(c) = ifn.child_by_field_name("condition") else { return false };
    let t = cx.src.text(c).replace(' ', "");
    t == format!("{err}!=nil") || t == format!("!{err}")
}

fn stmt(n: Node, cx: &Cx, out: &mut Vec<Stmt>) {
    let src = cx.src;
    let line = src.line(n);
    match n.kind() {
        "expression_statement" => {
            if let Some(e) = n.named_child(0) {
                out.push(Stmt::Expr(expr(e, cx), line));
            }
        }
        "defer_statement" => {
            if let Some(e) = n.named_child(0) {
                out.push(Stmt::Expr(expr(e, cx), line));
            }
        }
        // `go process(evt)`: the call runs after the handler may have answered.
        "go_statement" => {
            if let Some(e) = n.named_child(0) {
                let go = Call { callee: Expr::Ident("go".into()), args: vec![Arg { name: None, value: expr(e, cx) }], line };
                out.push(Stmt::Expr(Expr::Call(Box::new(go)), line));
            }
        }
        // `events <- evt`: handed to whatever reads the channel.
        "send_statement" => {
            let (Some(ch), Some(v)) = (n.child_by_field_name("channel"), n.child_by_field_name("value")) else { return };
            let args = vec![Arg { name: None, value: expr(ch, cx) }, Arg { name: None, value: expr(v, cx) }];
            out.push(Stmt::Expr(Expr::Call(Box::new(Call { callee: Expr::Ident("<-".into()), args, line })), line));
        }
        "short_var_declaration" | "assignment_statement" => {
            let (Some(l), Some(r)) = (n.child_by_field_name("left"), n.child_by_field_name("right")) else { return };
            let targets: Vec<Node> = named(l).collect();
            let values: Vec<Node> = named(r).collect();
            if values.len() == 1 {
                let value = expr(values[0], cx);
                match targets.iter().find(|t| src.text(**t) != "_") {
                    Some(t) => out.push(Stmt::Assign { target: expr(*t, cx), value, line }),
                    None => out.push(Stmt::Expr(value, line)),
                }
            } else {
                for (t, v) in targets.iter().zip(values.iter()) {
                    out.push(Stmt::Assign { target: expr(*t, cx), value: expr(*v, cx), line });
                }
            }
        }
        "var_declaration" | "const_declaration" => top(n, cx, out),
        "if_statement" => {
            let cond_node = n.child_by_field_name("condition");
            if let Some(init) = n.child_by_field_name("initializer") {
                let mut body = Vec::new();
                stmt(init, cx, &mut body);
                if error_target(init, cx).is_some_and(|e| checks_error(n, &e, cx)) {
                    out.push(try_of(body, n, cx));
                    return;
                }
                out.extend(body);
            }
            let cond = cond_node.map(|c| expr(c, cx)).unwrap_or(Expr::Null);
            let then = n.child_by_field_name("consequence").map(|b| block(b, cx)).unwrap_or_default();
            let els = n.child_by_field_name("alternative").map(|b| block(b, cx)).unwrap_or_default();
            out.push(Stmt::If { cond, then, els, line });
        }
        "expression_switch_statement" => {
            if let Some(init) = n.child_by_field_name("initializer") {
                stmt(init, cx, out);
            }
            let subject = n.child_by_field_name("value").map(|v| expr(v, cx)).unwrap_or(Expr::Bool(true));
            let mut cases = Vec::new();
            for c in named(n) {
                let is_default = c.kind() == "default_case";
                if !is_default && c.kind() != "expression_case" {
                    continue;
                }
                let labels = c.child_by_field_name("value").map(|v| named(v).map(|x| expr(x, cx)).collect()).unwrap_or_default();
                let body_nodes: Vec<Node> = named(c)
                    .filter(|x| Some(*x) != c.child_by_field_name("value"))
                    .flat_map(|x| if x.kind() == "statement_list" { named(x).collect::<Vec<_>>() } else { vec![x] })
                    .collect();
                let mut body = stmts(&body_nodes, cx);
                // Go cases do not fall through: an empty case handles its labels by doing nothing.
                if body.is_empty() {
                    body.push(Stmt::Break);
                }
                cases.push(Case { labels, is_default, body, line: src.line(c) });
            }
            out.push(Stmt::Switch { subject, cases, line });
        }
        "type_switch_statement" | "select_statement" => {
            let mut body = Vec::new();
            for c in named(n) {
                if matches!(c.kind(), "type_case" | "default_case" | "communication_case") {
                    let nodes: Vec<Node> = named(c).filter(|x| x.kind() == "statement_list").flat_map(|x| named(x).collect::<Vec<_>>()).collect();
                    body.extend(stmts(&nodes, cx));
                }
            }
            out.push(Stmt::Block { head: Vec::new(), body, line });
        }
        "for_statement" => {
            let mut head = Vec::new();
            for c in named(n) {
                match c.kind() {
                    "range_clause" => head.extend(c.child_by_field_name("right").map(|r| expr(r, cx))),
                    "for_clause" => head.extend(c.child_by_field_name("condition").map(|r| expr(r, cx))),
                    "block" => {}
                    _ => head.push(expr(c, cx)),
                }
            }
            let body = n.child_by_field_name("body").map(|b| block(b, cx)).unwrap_or_default();
            out.push(Stmt::Block { head, body, line });
        }
        "return_statement" => {
            let values: Vec<Expr> = n.named_child(0).map(|l| named(l).map(|x| expr(x, cx)).collect()).unwrap_or_default();
            let value = match values.len() {
                0 => None,
                1 => values.into_iter().next(),
                _ => Some(Expr::Array(values)),
            };
            out.push(Stmt::Return { value, line });
        }
        "break_statement" | "continue_statement" | "goto_statement" => out.push(Stmt::Break),
        "block" => out.extend(block(n, cx)),
        "labeled_statement" => {
            for c in named(n).skip(1) {
                stmt(c, cx, out);
            }
        }
        "comment" | "empty_statement" | "inc_statement" | "dec_statement" | "type_declaration" | "fallthrough_statement" => {}
        _ => out.push(Stmt::Expr(expr(n, cx), line)),
    }
}

fn string_value(n: Node, src: &Src) -> String {
    named(n)
        .filter(|c| matches!(c.kind(), "interpreted_string_literal_content" | "raw_string_literal_content" | "escape_sequence"))
        .map(|c| src.text(c))
        .collect::<Vec<_>>()
        .join("")
}

fn expr(n: Node, cx: &Cx) -> Expr {
    let src = cx.src;
    match n.kind() {
        "identifier" | "field_identifier" | "package_identifier" | "type_identifier" => {
            let t = src.text(n);
            if cx.recv.as_deref() == Some(t) { Expr::Ident("self".into()) } else { Expr::Ident(t.to_string()) }
        }
        "interpreted_string_literal" | "raw_string_literal" => Expr::Str(string_value(n, src)),
        "int_literal" | "float_literal" => Expr::Num(src.text(n).replace('_', "")),
        "true" => Expr::Bool(true),
        "false" => Expr::Bool(false),
        "nil" => Expr::Null,
        "selector_expression" | "qualified_type" => {
            let operand = n.child_by_field_name("operand").or_else(|| n.child_by_field_name("package"));
            let field = n.child_by_field_name("field").or_else(|| n.child_by_field_name("name")).map(|f| src.text(f).to_string()).unwrap_or_default();
            match operand {
                Some(o) if o.kind() == "identifier" || o.kind() == "package_identifier" => {
                    let pkg = src.text(o);
                    if cx.recv.as_deref() == Some(pkg) {
                        return Expr::Member(Box::new(Expr::Ident("self".into())), field);
                    }
                    match (pkg, field.as_str()) {
                        ("time", "Hour") => Expr::Num("3600".into()),
                        ("time", "Minute") => Expr::Num("60".into()),
                        ("time", "Second") => Expr::Num("1".into()),
                        _ => qualified(&[pkg, &field]),
                    }
                }
                Some(o) => Expr::Member(Box::new(expr(o, cx)), field),
                None => Expr::Ident(field),
            }
        }
        "call_expression" => {
            let callee = n.child_by_field_name("function").map(|f| expr(f, cx)).unwrap_or(Expr::Null);
            let mut args: Vec<Arg> = n
                .child_by_field_name("arguments")
                .map(|a| named(a).filter(|c| c.kind() != "comment").map(|c| Arg { name: None, value: expr(c, cx) }).collect())
                .unwrap_or_default();
            if matches!(callee.dotted().as_deref(), Some("slices.Contains")) && args.len() == 2 {
                let item = args.pop().map(|a| a.value).unwrap_or(Expr::Null);
                let list = args.pop().map(|a| a.value).unwrap_or(Expr::Null);
                return member_of(item, list);
            }
            Expr::Call(Box::new(Call { callee, args, line: src.line(n) }))
        }
        "index_expression" => {
            let o = n.child_by_field_name("operand").map(|c| expr(c, cx)).unwrap_or(Expr::Null);
            let i = n.child_by_field_name("index").map(|c| expr(c, cx)).unwrap_or(Expr::Null);
            Expr::Index(Box::new(o), Box::new(i))
        }
        "composite_literal" => n.child_by_field_name("body").map(|b| literal(b, cx)).unwrap_or(Expr::Null),
        "literal_value" => literal(n, cx),
        "literal_element" => n.named_child(0).map(|c| expr(c, cx)).unwrap_or(Expr::Null),
        "binary_expression" => {
            let l = n.child_by_field_name("left").map(|c| expr(c, cx)).unwrap_or(Expr::Null);
            let r = n.child_by_field_name("right").map(|c| expr(c, cx)).unwrap_or(Expr::Null);
            let op = n.child_by_field_name("operator").map(|o| src.text(o)).unwrap_or("?");
            Expr::Binary(op.to_string(), Box::new(l), Box::new(r))
        }
        "unary_expression" => {
            let a = n.child_by_field_name("operand").map(|c| expr(c, cx)).unwrap_or(Expr::Null);
            match n.child_by_field_name("operator").map(|o| src.text(o)).unwrap_or("") {
                "&" | "*" | "<-" => a,
                op => Expr::Unary(op.to_string(), Box::new(a)),
            }
        }
        "parenthesized_expression" | "type_assertion_expression" | "type_conversion_expression" => {
            n.child_by_field_name("operand").or_else(|| n.named_child(0)).map(|c| expr(c, cx)).unwrap_or(Expr::Null)
        }
        "func_literal" => Expr::Lambda(Box::new(func(n, cx, None))),
        "expression_list" => {
            let items: Vec<Expr> = named(n).map(|c| expr(c, cx)).collect();
            if items.len() == 1 { items.into_iter().next().unwrap_or(Expr::Null) } else { Expr::Array(items) }
        }
        _ => Expr::Other(src.short(n)),
    }
}

/// `{Plan: "pro"}`, `map[string]any{"plan": "pro"}` (keyed) or `[]string{"a", "b"}`.
fn literal(n: Node, cx: &Cx) -> Expr {
    let items: Vec<Node> = named(n).filter(|c| c.kind() != "comment").collect();
    if items.iter().any(|c| c.kind() == "keyed_element") {
        let pairs = items
            .iter()
            .filter(|c| c.kind() == "keyed_element")
            .map(|c| {
                let key = c.child_by_field_name("key").or_else(|| c.named_child(0));
                let value = c.child_by_field_name("value").or_else(|| c.named_child(1));
                let key = match key.map(|k| expr(k, cx)) {
                    Some(Expr::Ident(k)) => Expr::Str(k),
                    Some(other) => other,
                    None => Expr::Null,
                };
                Pair { key, value: value.map(|v| expr(v, cx)).unwrap_or(Expr::Null), line: cx.src.line(*c) }
            })
            .collect();
        Expr::Object(pairs)
    } else {
        Expr::Array(items.iter().map(|c| expr(*c, cx)).collect())
    }
}
