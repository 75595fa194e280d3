//! Rust (tree-sitter) lowered into [`syntax`]: axum and actix handlers,
//! async-stripe, sqlx.
//!
//! A `match` on a `Result` (`Ok(e) => .., Err(_) => ..`) and `if let Err(e) =
//! f()` are try statements; `let _ = f()` and `f().ok()` swallow the error
//! (a try with an empty catch). Tail expressions are returns. `EventType::X`
//! match arms become event types; `matches!(x, A | B)` and
//! `[A, B].contains(&x)` are `x in [A, B]`; a sqlx builder chain
//! (`query(SQL).bind(a).execute(db)`) is one call with the SQL and its
//! parameters in order. Macro arguments are parsed as expressions.

use tree_sitter::{Node, Parser};

use super::syntax::{Arg, Call, Case, Expr, Func, Pair, Stmt};
use super::{Src, member_of, named, qualified};

pub fn lower_program(root: Node, src: &Src) -> Vec<Stmt> {
    let mut out = Vec::new();
    items(root, src, None, &mut out);
    out
}

fn items(n: Node, src: &Src, owner: Option<&str>, out: &mut Vec<Stmt>) {
    let mut attrs: Vec<Expr> = Vec::new();
    for c in named(n) {
        match c.kind() {
            "attribute_item" => {
                if let Some(a) = c.named_child(0) {
                    attrs.push(attribute(a, src));
                }
                continue;
            }
            "function_item" => {
                let mut f = func(c, src, owner);
                f.decorators = std::mem::take(&mut attrs);
                out.push(Stmt::Func(f));
            }
            "impl_item" => {
                let ty = c.child_by_field_name("type").map(|t| type_name(t, src)).unwrap_or_default();
                let parents = c.child_by_field_name("trait").map(|t| vec![Expr::Ident(type_name(t, src))]).unwrap_or_default();
                out.push(Stmt::Class { name: ty.clone(), parents, line: src.line(c) });
                if let Some(b) = c.child_by_field_name("body") {
                    items(b, src, Some(&ty), out);
                }
            }
            "mod_item" => {
                if let Some(b) = c.child_by_field_name("body") {
                    items(b, src, owner, out);
                }
            }
            "const_item" | "static_item" => {
                if let (Some(name), Some(value)) = (c.child_by_field_name("name"), c.child_by_field_name("value")) {
                    out.push(Stmt::Assign { target: Expr::Ident(src.text(name).to_string()), value: expr(value, src), line: src.line(c) });
                }
            }
            "expression_statement" | "let_declaration" | "macro_invocation" => stmt(c, src, false, out),
            _ => {}
        }
        attrs.clear();
    }
}

fn attribute(a: Node, src: &Src) -> Expr {
    // `#[post("/webhook")]`: a call, like a decorator.
    let name = named(a).next().map(|p| src.text(p).to_string()).unwrap_or_default();
    let args = a.child_by_field_name("arguments").map(|t| macro_args(t, src)).unwrap_or_default();
    Expr::Call(Box::new(Call { callee: Expr::Ident(name), args, line: src.line(a) }))
}

/// `StripeEvent`, `FromRequest<S>`, `&str` -> the name without generics or references.
fn type_name(t: Node, src: &Src) -> String {
    let text = src.text(t).trim_start_matches('&').trim_start_matches("mut ").trim_start_matches('[').trim_end_matches(']');
    text.split('<').next().unwrap_or(text).rsplit("::").next().unwrap_or(text).trim().to_string()
}

fn func(n: Node, src: &Src, owner: Option<&str>) -> Func {
    let name = n.child_by_field_name("name").map(|c| src.text(c).to_string()).unwrap_or_default();
    let mut params = Vec::new();
    let mut param_hints = Vec::new();
    if let Some(p) = n.child_by_field_name("parameters") {
        for c in named(p) {
            match c.kind() {
                "self_parameter" => {
                    params.push("self".to_string());
                    param_hints.push(Expr::Null);
                }
                "parameter" => {
                    let pat = c.child_by_field_name("pattern");
                    params.push(pat.map(|x| pattern_binding(x, src)).unwrap_or_default());
                    param_hints.push(c.child_by_field_name("type").map(|t| Expr::Ident(type_name(t, src))).unwrap_or(Expr::Null));
                }
                _ => {}
            }
        }
    }
    let body = match n.child_by_field_name("body") {
        Some(b) if b.kind() == "block" => block(b, src, true),
        Some(b) => vec![Stmt::Return { value: Some(expr(b, src)), line: src.line(b) }],
        None => Vec::new(),
    };
    let handles = n.child_by_field_name("parameters").map(|p| payload_events(src.text(p))).unwrap_or_default();
    Func { name, params, body, line: src.line(n), owner: owner.map(String::from), param_hints, handles, ..Func::default() }
}

/// A route per event, told by the payload type it extracts (`Json(payload): Json<SubscriptionCanceledPayload>`):
/// the event, when the parameters name exactly one.
fn payload_events(params: &str) -> Vec<Expr> {
    let events: std::collections::BTreeSet<&str> = crate::webhook::detect::payload_type_events(params).collect();
    if events.len() == 1 { events.into_iter().map(|e| Expr::Str(e.to_string())).collect() } else { Vec::new() }
}

/// The variable a pattern binds: `event` in `Json(event)`, `State(state)`, `event`.
fn pattern_binding(p: Node, src: &Src) -> String {
    match p.kind() {
        "identifier" => src.text(p).to_string(),
        "mut_pattern" | "ref_pattern" => p.named_child(0).map(|c| pattern_binding(c, src)).unwrap_or_default(),
        "tuple_struct_pattern" | "tuple_pattern" | "struct_pattern" => {
            named(p).filter(|c| Some(*c) != p.child_by_field_name("type")).last().map(|c| pattern_binding(c, src)).unwrap_or_default()
        }
        _ => src.text(p).to_string(),
    }
}

/// Statements of a block; `tail` = the block's value is the function's result.
fn block(n: Node, src: &Src, tail: bool) -> Vec<Stmt> {
    let mut out = Vec::new();
    let kids: Vec<Node> = named(n).filter(|c| c.kind() != "comment").collect();
    for (i, c) in kids.iter().enumerate() {
        let last = i + 1 == kids.len();
        // The last expression without a semicolon is the block's value.
        let is_value = last && !matches!(c.kind(), "expression_statement" | "let_declaration" | "empty_statement") && !c.kind().ends_with("_item");
        // A trailing `match`/`if` without a semicolon is parsed as a statement, yet it is the value.
        let block_value = last && c.kind() == "expression_statement" && !src.text(*c).trim_end().ends_with(';');
        if is_value {
            value_stmt(*c, src, tail, &mut out);
        } else if let Some(e) = c.named_child(0).filter(|_| block_value) {
            value_stmt(e, src, tail, &mut out);
        } else {
            stmt(*c, src, false, &mut out);
        }
    }
    out
}

/// An expression in value position: returned when `tail`.
fn value_stmt(e: Node, src: &Src, tail: bool, out: &mut Vec<Stmt>) {
    match e.kind() {
        "if_expression" | "match_expression" | "block" | "unsafe_block" | "async_block" | "return_expression" | "for_expression"
        | "while_expression" | "loop_expression" | "macro_invocation" => stmt_expr(e, src, tail, out),
        _ if tail => out.push(Stmt::Return { value: Some(expr(e, src)), line: src.line(e) }),
        _ => stmt_expr(e, src, false, out),
    }
}

fn stmt(n: Node, src: &Src, tail: bool, out: &mut Vec<Stmt>) {
    let line = src.line(n);
    match n.kind() {
        "expression_statement" => {
            if let Some(e) = n.named_child(0) {
                stmt_expr(e, src, tail, out);
            }
        }
        "let_declaration" => {
            let pattern = n.child_by_field_name("pattern");
            let Some(value) = n.child_by_field_name("value") else { return };
            let target = pattern.map(|p| Expr::Ident(pattern_binding(p, src))).unwrap_or(Expr::Null);
            let swallow = pattern.is_some_and(|p| src.text(p) == "_");
            if swallow {
                // `let _ = process(&event).await;`: the result, error included, is dropped.
                let body = vec![Stmt::Expr(expr(value, src), line)];
                out.push(Stmt::Try { body, catches: vec![(Vec::new(), line)], finally: Vec::new(), line });
                return;
            }
            match value.kind() {
                "match_expression" => out.push(match_stmt(value, src, Some(target), false)),
                _ => {
                    out.push(Stmt::Assign { target, value: expr(value, src), line });
                    // `let Ok(event) = verify(..) else { return ... };`
                    if let Some(alt) = n.child_by_field_name("alternative") {
                        let els = block(alt, src, false);
                        out.push(Stmt::If { cond: Expr::Unary("!".into(), Box::new(Expr::Ident(pattern_binding(pattern.unwrap_or(value), src)))), then: els, els: Vec::new(), line });
                    }
                }
            }
        }
        "macro_invocation" => stmt_expr(n, src, tail, out),
        "function_item" | "impl_item" | "mod_item" | "const_item" | "static_item" | "attribute_item" => {
            let mut v = Vec::new();
            items_one(n, src, &mut v);
            out.extend(v);
        }
        "empty_statement" | "use_declaration" | "struct_item" | "enum_item" | "type_item" | "line_comment" | "block_comment" => {}
        _ => stmt_expr(n, src, tail, out),
    }
}

fn items_one(n: Node, src: &Src, out: &mut Vec<Stmt>) {
    if n.kind() == "function_item" {
        out.push(Stmt::Func(func(n, src, None)));
    }
}

/// An expression used as a statement.
fn stmt_expr(e: Node, src: &Src, tail: bool, out: &mut Vec<Stmt>) {
    let line = src.line(e);
    match e.kind() {
        "if_expression" => out.push(if_stmt(e, src, tail)),
        "match_expression" => out.push(match_stmt(e, src, None, tail)),
        "block" | "unsafe_block" | "async_block" => {
            let b = e.child_by_field_name("body").filter(|_| e.kind() != "block").unwrap_or(e);
            let b = if b.kind() == "block" { b } else { b.named_child(0).unwrap_or(b) };
            out.extend(block(b, src, tail));
        }
        "return_expression" => out.push(Stmt::Return { value: e.named_child(0).map(|c| expr(c, src)), line }),
        "break_expression" | "continue_expression" => out.push(Stmt::Break),
        "for_expression" | "while_expression" | "loop_expression" => {
            let head = ["value", "condition"].iter().filter_map(|f| e.child_by_field_name(f)).map(|c| expr(c, src)).collect();
            let body = e.child_by_field_name("body").map(|b| block(b, src, false)).unwrap_or_default();
            out.push(Stmt::Block { head, body, line });
        }
        "assignment_expression" | "compound_assignment_expr" => {
            let l = e.child_by_field_name("left").map(|c| expr(c, src)).unwrap_or(Expr::Null);
            let r = e.child_by_field_name("right").map(|c| expr(c, src)).unwrap_or(Expr::Null);
            out.push(Stmt::Assign { target: l, value: r, line });
        }
        "call_expression" if is_ok_call(e, src) => {
            // `process(&event).await.ok();`: the error is dropped.
            let body = vec![Stmt::Expr(expr(e, src), line)];
            out.push(Stmt::Try { body, catches: vec![(Vec::new(), line)], finally: Vec::new(), line });
        }
        _ if tail => out.push(Stmt::Return { value: Some(expr(e, src)), line }),
        _ => out.push(Stmt::Expr(expr(e, src), line)),
    }
}

fn is_ok_call(e: Node, src: &Src) -> bool {
    e.child_by_field_name("function")
        .and_then(|f| f.child_by_field_name("field"))
        .is_some_and(|f| src.text(f) == "ok")
        && e.child_by_field_name("arguments").is_some_and(|a| a.named_child_count() == 0)
}

fn if_stmt(n: Node, src: &Src, tail: bool) -> Stmt {
    let line = src.line(n);
    let cond_node = n.child_by_field_name("condition");
    let mut then = n.child_by_field_name("consequence").map(|b| block(b, src, tail)).unwrap_or_default();
    let els = match n.child_by_field_name("alternative").and_then(|a| a.named_child(0)) {
        Some(a) if a.kind() == "if_expression" => vec![if_stmt(a, src, tail)],
        Some(a) => block(a, src, tail),
        None => Vec::new(),
    };
    if let Some(c) = cond_node.filter(|c| c.kind() == "let_condition") {
        let pattern = c.child_by_field_name("pattern");
        let value = c.child_by_field_name("value").map(|v| expr(v, src)).unwrap_or(Expr::Null);
        let ctor = pattern.and_then(|p| p.child_by_field_name("type")).map(|t| src.text(t).to_string()).unwrap_or_default();
        if ctor == "Err" {
            // `if let Err(e) = process(&event).await { ... }`
            let mut body = vec![Stmt::Expr(value, line)];
            body.extend(els);
            return Stmt::Try { body, catches: vec![(then, line)], finally: Vec::new(), line };
        }
        if let Some(p) = pattern {
            then.insert(0, Stmt::Assign { target: Expr::Ident(pattern_binding(p, src)), value: value.clone(), line });
        }
        return Stmt::If { cond: value, then, els, line };
    }
    let cond = cond_node.map(|c| expr(c, src)).unwrap_or(Expr::Null);
    Stmt::If { cond, then, els, line }
}

/// The constructor a match pattern names: `Ok`, `Err`, `EventType::InvoicePaid`.
fn pattern_ctor(p: Node, src: &Src) -> String {
    let inner = if p.kind() == "match_pattern" { p.named_child(0).unwrap_or(p) } else { p };
    match inner.kind() {
        "tuple_struct_pattern" | "struct_pattern" => inner.child_by_field_name("type").map(|t| src.text(t).to_string()).unwrap_or_default(),
        _ => src.text(inner).to_string(),
    }
}

fn match_stmt(n: Node, src: &Src, target: Option<Expr>, tail: bool) -> Stmt {
    let line = src.line(n);
    let subject_node = n.child_by_field_name("value");
    let subject = subject_node.map(|v| expr(v, src)).unwrap_or(Expr::Null);
    let arms: Vec<Node> = n.child_by_field_name("body").map(|b| named(b).filter(|a| a.kind() == "match_arm").collect()).unwrap_or_default();
    let arm_body = |arm: Node, bind: Option<&Expr>| -> Vec<Stmt> {
        let Some(v) = arm.child_by_field_name("value") else { return Vec::new() };
        let mut out = Vec::new();
        match (&target, v.kind()) {
            (_, "block") => out.extend(block(v, src, tail)),
            (_, "return_expression" | "break_expression" | "continue_expression" | "macro_invocation" | "if_expression" | "match_expression") => {
                stmt_expr(v, src, tail, &mut out)
            }
            (Some(t), _) => out.push(Stmt::Assign { target: t.clone(), value: expr(v, src), line: src.line(v) }),
            (None, _) => value_stmt(v, src, tail, &mut out),
        }
        if let (Some(b), Some(Stmt::Assign { value, .. })) = (bind, out.first_mut()) {
            // `Ok(e) => e`: the bound value is the subject's success value.
            if matches!(value, Expr::Ident(_)) {
                *value = b.clone();
            }
        }
        out
    };
    let ctors: Vec<String> = arms.iter().map(|a| a.child_by_field_name("pattern").map(|p| pattern_ctor(p, src)).unwrap_or_default()).collect();
    if ctors.iter().any(|c| c == "Err") && ctors.iter().all(|c| c == "Ok" || c == "Err" || c == "_") {
        let mut body = Vec::new();
        let mut catches = Vec::new();
        for (arm, ctor) in arms.iter().zip(&ctors) {
            if ctor == "Ok" {
                let pattern = arm.child_by_field_name("pattern").and_then(|p| p.named_child(0));
                if let Some(p) = pattern {
                    body.push(Stmt::Assign { target: Expr::Ident(pattern_binding(p, src)), value: subject.clone(), line });
                }
                body.extend(arm_body(*arm, Some(&subject)));
            } else {
                catches.push((arm_body(*arm, None), src.line(*arm)));
            }
        }
        return Stmt::Try { body, catches, finally: Vec::new(), line };
    }
    let mut cases = Vec::new();
    for arm in arms {
        let pattern = arm.child_by_field_name("pattern");
        let is_default = pattern.is_some_and(|p| matches!(src.text(p).trim(), "_" | "other" | "_other"));
        let mut labels = Vec::new();
        if let Some(p) = pattern {
            labels_of(p.named_child(0).unwrap_or(p), src, &mut labels);
        }
        let mut body = arm_body(arm, None);
        if body.is_empty() {
            body.push(Stmt::Break);
        }
        cases.push(Case { labels, is_default, body, line: src.line(arm) });
    }
    Stmt::Switch { subject, cases, line }
}

fn labels_of(p: Node, src: &Src, out: &mut Vec<Expr>) {
    match p.kind() {
        "or_pattern" => named(p).for_each(|c| labels_of(c, src, out)),
        "string_literal" | "scoped_identifier" | "identifier" | "integer_literal" => out.push(expr(p, src)),
        "tuple_struct_pattern" | "struct_pattern" => {
            if let Some(t) = p.child_by_field_name("type") {
                out.push(expr(t, src));
            }
            // `Some(("h1", v))`: literals inside the pattern.
            named(p).filter(|c| Some(*c) != p.child_by_field_name("type")).for_each(|c| labels_of(c, src, out));
        }
        "tuple_pattern" => named(p).for_each(|c| labels_of(c, src, out)),
        _ => {}
    }
}

fn string_value(n: Node, src: &Src) -> String {
    let parts: Vec<&str> = named(n).filter(|c| matches!(c.kind(), "string_content" | "escape_sequence")).map(|c| src.text(c)).collect();
    if parts.is_empty() && n.kind() == "raw_string_literal" {
        let t = src.text(n);
        return t.trim_start_matches('r').trim_matches('#').trim_matches('"').to_string();
    }
    parts.join("")
}

fn args(n: Option<Node>, src: &Src) -> Vec<Arg> {
    n.map(|a| named(a).filter(|c| !c.kind().ends_with("comment") && c.kind() != "attribute_item").map(|c| Arg { name: None, value: expr(c, src) }).collect())
        .unwrap_or_default()
}

/// A macro's arguments, parsed as the arguments of a call.
fn macro_args(tt: Node, src: &Src) -> Vec<Arg> {
    let text = src.text(tt);
    let inner = text.get(1..text.len().saturating_sub(1)).unwrap_or("");
    args_of_text(inner, src.line(tt))
}

/// A document macro (`doc! { "$set": doc! { "subscription.status": s } }`, `bson!`,
/// `json!`): its `"key": value` pairs as an object, values re-parsed as Rust.
fn document(tt: Node, src: &Src) -> Expr {
    let text = src.text(tt);
    let inner = text.get(1..text.len().saturating_sub(1)).unwrap_or("");
    let line = src.line(tt);
    let mut pairs = Vec::new();
    for piece in split_top(inner, ',') {
        let piece = piece.trim();
        let Some(rest) = piece.strip_prefix('"') else { continue };
        let Some((key, value)) = rest.split_once('"') else { continue };
        let Some(value) = value.trim_start().strip_prefix(':') else { continue };
        let value = args_of_text(value, line).into_iter().next().map(|a| a.value).unwrap_or(Expr::Null);
        pairs.push(Pair { key: Expr::Str(key.to_string()), value, line });
    }
    Expr::Object(pairs)
}

/// Pieces of `text` between top-level `sep`s (outside brackets and strings).
fn split_top(text: &str, sep: char) -> Vec<&str> {
    let (mut depth, mut quoted, mut start) = (0i32, false, 0usize);
    let mut out = Vec::new();
    let mut prev = ' ';
    for (i, c) in text.char_indices() {
        match c {
            '"' if prev != '\\' => quoted = !quoted,
            '(' | '[' | '{' if !quoted => depth += 1,
            ')' | ']' | '}' if !quoted => depth -= 1,
            c if c == sep && !quoted && depth == 0 => {
                out.push(&text[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
        prev = c;
    }
    out.push(&text[start..]);
    out
}

/// Call arguments written as text, parsed as Rust (the inside of a macro's token tree).
fn args_of_text(inner: &str, line: u32) -> Vec<Arg> {
    let snippet = format!("fn __m() {{ __m({inner}); }}");
    let mut parser = Parser::new();
    if parser.set_language(&tree_sitter_rust::LANGUAGE.into()).is_err() {
        return Vec::new();
    }
    let Some(tree) = parser.parse(&snippet, None) else { return Vec::new() };
    let snip = Src { text: &snippet };
    let mut found = None;
    find_kind(tree.root_node(), "arguments", &mut found);
    let mut out = args(found, &snip);
    for a in &mut out {
        reline(&mut a.value, line);
    }
    out
}

fn find_kind<'t>(n: Node<'t>, kind: &str, out: &mut Option<Node<'t>>) {
    if out.is_some() {
        return;
    }
    if n.kind() == kind {
        *out = Some(n);
        return;
    }
    for c in named(n) {
        find_kind(c, kind, out);
    }
}

/// Gives every call in a re-parsed macro argument the macro's line.
fn reline(e: &mut Expr, line: u32) {
    match e {
        Expr::Call(c) => {
            c.line = line;
            reline(&mut c.callee, line);
            c.args.iter_mut().for_each(|a| reline(&mut a.value, line));
        }
        Expr::Member(o, _) | Expr::Unary(_, o) => reline(o, line),
        Expr::Index(a, b) | Expr::Binary(_, a, b) => {
            reline(a, line);
            reline(b, line);
        }
        Expr::Object(pairs) => pairs.iter_mut().for_each(|p| {
            p.line = line;
            reline(&mut p.value, line);
        }),
        Expr::Array(items) => items.iter_mut().for_each(|i| reline(i, line)),
        Expr::Cond(a, b, c) => {
            reline(a, line);
            reline(b, line);
            reline(c, line);
        }
        _ => {}
    }
}

fn macro_call(n: Node, src: &Src) -> Expr {
    let path = n.child_by_field_name("macro").map(|m| src.text(m).to_string()).unwrap_or_default();
    let line = src.line(n);
    let segments: Vec<&str> = path.split("::").collect();
    let callee = qualified(&segments);
    let name = segments.last().copied().unwrap_or("");
    let logging = ["info", "warn", "error", "debug", "trace", "println", "eprintln", "print", "eprint", "dbg", "panic", "assert", "todo"];
    if logging.contains(&name) {
        return Expr::Call(Box::new(Call { callee, args: Vec::new(), line }));
    }
    let tree = n.named_children(&mut n.walk()).find(|c| c.kind() == "token_tree");
    if matches!(name, "doc" | "bson" | "json") {
        if let Some(t) = tree.filter(|t| src.text(*t).trim_start().starts_with('{')) {
            return document(t, src);
        }
    }
    let mut a = tree.map(|t| macro_args(t, src)).unwrap_or_default();
    if name == "format" || name == "write" {
        // `format!("{ts}:{body}")`: inline arguments are read by name.
        let inline: Vec<String> = a.iter().filter_map(|x| if let Expr::Str(s) = &x.value { Some(s.clone()) } else { None }).flat_map(|s| placeholders(&s)).collect();
        a.extend(inline.into_iter().map(|n| Arg { name: None, value: Expr::Ident(n) }));
    }
    if name == "matches" && a.len() == 2 {
        let pattern = a.pop().map(|x| x.value).unwrap_or(Expr::Null);
        let subject = a.pop().map(|x| x.value).unwrap_or(Expr::Null);
        let mut alts = Vec::new();
        flatten_or(pattern, &mut alts);
        return member_of(subject, Expr::Array(alts));
    }
    Expr::Call(Box::new(Call { callee, args: a, line }))
}

/// The names in `{name}` / `{name:?}` placeholders of a format string.
fn placeholders(s: &str) -> Vec<String> {
    s.split('{')
        .skip(1)
        .filter_map(|p| p.split('}').next())
        .map(|p| p.split(':').next().unwrap_or("").trim().to_string())
        .filter(|p| !p.is_empty() && p.chars().all(|c| c.is_alphanumeric() || c == '_') && !p.chars().all(|c| c.is_ascii_digit()))
        .collect()
}

fn flatten_or(e: Expr, out: &mut Vec<Expr>) {
    match e {
        Expr::Binary(op, l, r) if op == "|" => {
            flatten_or(*l, out);
            flatten_or(*r, out);
        }
        other => out.push(other),
    }
}

/// `sqlx::query(SQL).bind(a).bind(b).execute(db)` -> `sqlx.execute(SQL, a, b, db)`.
fn sqlx_chain(method: &str, receiver: &Expr, rest: &[Arg], line: u32) -> Option<Expr> {
    if !matches!(method, "execute" | "fetch_one" | "fetch_optional" | "fetch_all" | "fetch") {
        return None;
    }
    let mut binds = Vec::new();
    let mut cur = receiver;
    loop {
        match cur {
            Expr::Call(c) if c.callee.last_name() == "bind" => {
                binds.extend(c.args.iter().cloned());
                cur = match &c.callee {
                    Expr::Member(o, _) => o,
                    _ => return None,
                };
            }
            Expr::Call(c) if matches!(c.callee.last_name(), "query" | "query_as" | "query_scalar") => {
                let sql = c.args.first()?.clone();
                binds.reverse();
                let mut args = vec![sql];
                args.extend(c.args.iter().skip(1).cloned());
                args.extend(binds);
                args.extend(rest.iter().cloned());
                let callee = Expr::Member(Box::new(Expr::Ident("sqlx".into())), method.to_string());
                return Some(Expr::Call(Box::new(Call { callee, args, line })));
            }
            _ => return None,
        }
    }
}

fn expr(n: Node, src: &Src) -> Expr {
    let line = src.line(n);
    let field = |f: &str| n.child_by_field_name(f).map(|c| expr(c, src)).unwrap_or(Expr::Null);
    match n.kind() {
        "identifier" | "self" | "type_identifier" | "field_identifier" | "shorthand_field_identifier" => match src.text(n) {
            "None" => Expr::Null,
            t => Expr::Ident(t.to_string()),
        },
        "scoped_identifier" | "scoped_type_identifier" => {
            let text = src.text(n);
            let segments: Vec<&str> = text.split("::").map(str::trim).collect();
            qualified(&segments)
        }
        "string_literal" | "raw_string_literal" => Expr::Str(string_value(n, src)),
        "integer_literal" | "float_literal" => Expr::Num(src.text(n).replace('_', "").trim_end_matches(|c: char| c.is_alphabetic()).to_string()),
        "boolean_literal" => Expr::Bool(src.text(n) == "true"),
        "field_expression" => {
            let f = n.child_by_field_name("field").map(|x| src.text(x).to_string()).unwrap_or_default();
            Expr::Member(Box::new(field("value")), f)
        }
        "call_expression" => {
            let callee_node = n.child_by_field_name("function");
            let callee_node = callee_node.map(|c| if c.kind() == "generic_function" { c.child_by_field_name("function").unwrap_or(c) } else { c });
            let callee = callee_node.map(|c| expr(c, src)).unwrap_or(Expr::Null);
            let mut a = args(n.child_by_field_name("arguments"), src);
            if let Expr::Member(recv, m) = &callee {
                if let Some(e) = sqlx_chain(m, recv, &a, line) {
                    return e;
                }
                if m == "contains" && a.len() == 1 {
                    return member_of(a.remove(0).value, (**recv).clone());
                }
            }
            match &callee {
                // `Some(x)`, `Ok(x)` wrap a value; keep `Err(..)` (an error answer).
                Expr::Ident(w) if (w == "Some" || w == "Box") && a.len() == 1 => a.remove(0).value,
                _ => Expr::Call(Box::new(Call { callee, args: a, line })),
            }
        }
        "macro_invocation" => macro_call(n, src),
        "index_expression" => {
            let kids: Vec<Node> = named(n).collect();
            match kids.as_slice() {
                [o, i] => Expr::Index(Box::new(expr(*o, src)), Box::new(expr(*i, src))),
                _ => Expr::Other(src.short(n)),
            }
        }
        "reference_expression" | "await_expression" | "try_expression" | "parenthesized_expression" | "type_cast_expression" => {
            match n.child_by_field_name("value").or_else(|| n.named_child(0)) {
                Some(inner) => expr(inner, src),
                None => Expr::Null,
            }
        }
        "unary_expression" => {
            let inner = n.named_child(0).map(|c| expr(c, src)).unwrap_or(Expr::Null);
            let op = src.text(n).chars().next().unwrap_or('!');
            if op == '!' || op == '-' { Expr::Unary(op.to_string(), Box::new(inner)) } else { inner }
        }
        "binary_expression" => {
            let op = n.child_by_field_name("operator").map(|o| src.text(o)).unwrap_or("?").to_string();
            Expr::Binary(op, Box::new(field("left")), Box::new(field("right")))
        }
        "tuple_expression" | "array_expression" => Expr::Array(named(n).filter(|c| !c.kind().ends_with("comment")).map(|c| expr(c, src)).collect()),
        "struct_expression" => {
            let mut pairs = Vec::new();
            if let Some(body) = n.child_by_field_name("body") {
                for f in named(body) {
                    match f.kind() {
                        "field_initializer" => {
                            let key = f.child_by_field_name("field").map(|k| src.text(k).to_string()).unwrap_or_default();
                            let value = f.child_by_field_name("value").map(|v| expr(v, src)).unwrap_or(Expr::Null);
                            pairs.push(Pair { key: Expr::Str(key), value, line: src.line(f) });
                        }
                        "shorthand_field_initializer" => {
                            let key = src.text(f).to_string();
                            pairs.push(Pair { key: Expr::Str(key.clone()), value: Expr::Ident(key), line: src.line(f) });
                        }
                        _ => {}
                    }
                }
            }
            Expr::Object(pairs)
        }
        // `tokio::spawn(async move { ... })`: a body that runs when polled, like a closure.
        "async_block" => {
            let b = n.named_children(&mut n.walk()).find(|c| c.kind() == "block");
            let body = b.map(|b| block(b, src, true)).unwrap_or_default();
            Expr::Lambda(Box::new(Func { body, line, ..Func::default() }))
        }
        "closure_expression" => {
            let params = n.child_by_field_name("parameters").map(|p| named(p).map(|c| pattern_binding(c, src)).collect()).unwrap_or_default();
            let body = match n.child_by_field_name("body") {
                Some(b) if b.kind() == "block" => block(b, src, true),
                Some(b) => vec![Stmt::Return { value: Some(expr(b, src)), line: src.line(b) }],
                None => Vec::new(),
            };
            Expr::Lambda(Box::new(Func { params, body, line, ..Func::default() }))
        }
        "if_expression" => {
            let cond = field("condition");
            let value = |f: &str| {
                n.child_by_field_name(f)
                    .map(|b| {
                        let b = if b.kind() == "else_clause" { b.named_child(0).unwrap_or(b) } else { b };
                        let last = named(b).filter(|c| !c.kind().ends_with("comment")).last();
                        last.map(|l| expr(l, src)).unwrap_or(Expr::Null)
                    })
                    .unwrap_or(Expr::Null)
            };
            Expr::Cond(Box::new(cond), Box::new(value("consequence")), Box::new(value("alternative")))
        }
        "block" => named(n).filter(|c| !c.kind().ends_with("comment")).last().map(|l| expr(l, src)).unwrap_or(Expr::Null),
        "expression_statement" => n.named_child(0).map(|c| expr(c, src)).unwrap_or(Expr::Null),
        _ => Expr::Other(src.short(n)),
    }
}
