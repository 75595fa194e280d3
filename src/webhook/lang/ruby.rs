//! Ruby (tree-sitter) lowered into [`syntax`]: Rails controllers, Sinatra
//! routes, stripe_event `subscribe` blocks, ActiveRecord calls.
//!
//! Method calls without arguments (`event.data.object`) are member reads;
//! symbols are strings;
//! trailing `key: value` arguments are named arguments; `rescue`/`else`/
//! `ensure` in a method body make it a try statement; `list.include?(x)` is
//! `x in list`; `unless` is a negated `if`.

use tree_sitter::Node;

use super::syntax::{Arg, Call, Case, Expr, Func, Pair, Stmt};
use super::{Src, interpolated, member_of, named, pairs, qualified};

pub fn lower_program(root: Node, src: &Src) -> Vec<Stmt> {
    let mut out = Vec::new();
    body(root, src, None, &mut out);
    out
}

/// The statements of a body that may carry `rescue` / `else` / `ensure` clauses.
fn body(n: Node, src: &Src, owner: Option<&str>, out: &mut Vec<Stmt>) {
    let kids: Vec<Node> = named(n).collect();
    if !kids.iter().any(|k| matches!(k.kind(), "rescue" | "ensure")) {
        for k in kids {
            stmt(k, src, owner, out);
        }
        return;
    }
    let mut main = Vec::new();
    let mut catches = Vec::new();
    let mut finally = Vec::new();
    let mut tail = Vec::new();
    for k in kids {
        match k.kind() {
            "rescue" => {
                let mut c = Vec::new();
                if let Some(b) = k.child_by_field_name("body") {
                    body(b, src, owner, &mut c);
                }
                catches.push((c, src.line(k)));
            }
            "else" => body(k, src, owner, &mut tail),
            "ensure" => body(k, src, owner, &mut finally),
            _ if catches.is_empty() => stmt(k, src, owner, &mut main),
            _ => stmt(k, src, owner, &mut tail),
        }
    }
    // `else` runs when nothing was raised: it continues the protected body.
    main.extend(tail);
    out.push(Stmt::Try { body: main, catches, finally, line: src.line(n) });
}

fn block(n: Option<Node>, src: &Src, owner: Option<&str>) -> Vec<Stmt> {
    let mut out = Vec::new();
    if let Some(n) = n {
        body(n, src, owner, &mut out);
    }
    out
}

fn stmt(n: Node, src: &Src, owner: Option<&str>, out: &mut Vec<Stmt>) {
    let line = src.line(n);
    match n.kind() {
        "comment" | "empty_statement" | "heredoc_body" => {}
        "class" | "module" | "singleton_class" => {
            let name = n.child_by_field_name("name").map(|c| src.text(c).to_string()).unwrap_or_default();
            let full = match owner {
                Some(o) if !o.is_empty() && !name.contains("::") => format!("{o}::{name}"),
                _ => name.clone(),
            };
            let parents = n
                .child_by_field_name("superclass")
                .and_then(|s| s.named_child(0))
                .map(|p| vec![expr(p, src)])
                .unwrap_or_default();
            out.push(Stmt::Class { name: full.clone(), parents, line });
            if let Some(b) = n.child_by_field_name("body") {
                body(b, src, Some(&full), out);
            }
        }
        "method" | "singleton_method" => out.push(Stmt::Func(method(n, src, owner))),
        // `private def build_event(request) ... end`: the method, whatever its visibility.
        "call" if matches!(call_name(n, src), "private" | "protected" | "public" | "private_class_method" | "module_function")
            && n.child_by_field_name("receiver").is_none()
            && n.child_by_field_name("arguments").is_some_and(|a| named(a).any(|m| matches!(m.kind(), "method" | "singleton_method"))) =>
        {
            if let Some(args) = n.child_by_field_name("arguments") {
                for m in named(args).filter(|m| matches!(m.kind(), "method" | "singleton_method")) {
                    out.push(Stmt::Func(method(m, src, owner)));
                }
            }
        }
        "assignment" | "operator_assignment" => {
            if let (Some(l), Some(r)) = (n.child_by_field_name("left"), n.child_by_field_name("right")) {
                let value = expr(r, src);
                if l.kind() == "left_assignment_list" {
                    for t in named(l) {
                        out.push(Stmt::Assign { target: expr(t, src), value: value.clone(), line });
                    }
                } else {
                    out.push(Stmt::Assign { target: expr(l, src), value, line });
                }
            }
        }
        "if" | "unless" | "elsif" => out.push(if_stmt(n, src, owner)),
        "if_modifier" | "unless_modifier" => {
            let cond = n.child_by_field_name("condition").map(|c| expr(c, src)).unwrap_or(Expr::Null);
            let cond = if n.kind() == "unless_modifier" { Expr::Unary("!".into(), Box::new(cond)) } else { cond };
            let mut then = Vec::new();
            if let Some(b) = n.child_by_field_name("body") {
                stmt(b, src, owner, &mut then);
            }
            out.push(Stmt::If { cond, then, els: Vec::new(), line });
        }
        "while_modifier" | "until_modifier" | "while" | "until" | "for" => {
            let head = ["condition", "value"].iter().filter_map(|f| n.child_by_field_name(f)).map(|c| expr(c, src)).collect();
            let mut b = Vec::new();
            if let Some(x) = n.child_by_field_name("body") {
                if x.kind() == "do" { body(x, src, owner, &mut b) } else { stmt(x, src, owner, &mut b) }
            }
            out.push(Stmt::Block { head, body: b, line });
        }
        "rescue_modifier" => {
            let mut b = Vec::new();
            if let Some(x) = n.child_by_field_name("body") {
                stmt(x, src, owner, &mut b);
            }
            let mut c = Vec::new();
            if let Some(x) = n.child_by_field_name("handler") {
                stmt(x, src, owner, &mut c);
            }
            out.push(Stmt::Try { body: b, catches: vec![(c, line)], finally: Vec::new(), line });
        }
        "case" | "case_match" => {
            let subject = n.child_by_field_name("value").map(|v| expr(v, src)).unwrap_or(Expr::Null);
            let mut cases = Vec::new();
            for c in named(n) {
                match c.kind() {
                    "when" | "in_clause" => {
                        let mut labels = Vec::new();
                        let mut cursor = c.walk();
                        for p in c.children_by_field_name("pattern", &mut cursor) {
                            let p = p.named_child(0).unwrap_or(p);
                            // `when *SUBSCRIPTION_EVENTS`: the list's types.
                            let p = if p.kind() == "splat_argument" { p.named_child(0).unwrap_or(p) } else { p };
                            labels.push(expr(p, src));
                        }
                        let mut b = block(c.child_by_field_name("body"), src, owner);
                        // `when` does not fall through: an empty one handles its types by doing nothing.
                        if b.is_empty() {
                            b.push(Stmt::Break);
                        }
                        cases.push(Case { labels, is_default: false, body: b, line: src.line(c) });
                    }
                    "else" => {
                        let b = block(Some(c), src, owner);
                        cases.push(Case { labels: Vec::new(), is_default: true, body: b, line: src.line(c) });
                    }
                    _ => {}
                }
            }
            out.push(Stmt::Switch { subject, cases, line });
        }
        "begin" => out.extend(block(Some(n), src, owner)),
        "return" => out.push(Stmt::Return { value: n.named_child(0).and_then(|a| a.named_child(0).or(Some(a))).map(|c| expr(c, src)), line }),
        "break" | "next" | "redo" | "retry" => out.push(Stmt::Break),
        "identifier" if src.text(n) == "raise" => out.push(Stmt::Throw { value: None, line }),
        "call" if call_name(n, src) == "raise" && n.child_by_field_name("receiver").is_none() => {
            let value = n.child_by_field_name("arguments").and_then(|a| a.named_child(0)).map(|c| expr(c, src));
            out.push(Stmt::Throw { value, line });
        }
        "parenthesized_statements" | "then" | "else" | "do" | "body_statement" => out.extend(block(Some(n), src, owner)),
        _ => out.push(Stmt::Expr(expr(n, src), line)),
    }
}

fn if_stmt(n: Node, src: &Src, owner: Option<&str>) -> Stmt {
    let cond = n.child_by_field_name("condition").map(|c| expr(c, src)).unwrap_or(Expr::Null);
    let cond = if n.kind() == "unless" { Expr::Unary("!".into(), Box::new(cond)) } else { cond };
    let then = block(n.child_by_field_name("consequence"), src, owner);
    let els = match n.child_by_field_name("alternative") {
        Some(a) if a.kind() == "elsif" => vec![if_stmt(a, src, owner)],
        Some(a) => block(Some(a), src, owner),
        None => Vec::new(),
    };
    Stmt::If { cond, then, els, line: src.line(n) }
}

fn method(n: Node, src: &Src, owner: Option<&str>) -> Func {
    let name = n.child_by_field_name("name").map(|c| src.text(c).to_string()).unwrap_or_default();
    let params = n.child_by_field_name("parameters").map(|p| params(p, src)).unwrap_or_default();
    let mut b = Vec::new();
    if let Some(x) = n.child_by_field_name("body") {
        if x.kind() == "body_statement" {
            body(x, src, owner, &mut b);
        } else {
            // `def x = expr`
            b.push(Stmt::Return { value: Some(expr(x, src)), line: src.line(x) });
        }
    }
    Func { name, params, body: b, line: src.line(n), owner: owner.map(String::from), ..Func::default() }
}

fn params(p: Node, src: &Src) -> Vec<String> {
    named(p)
        .map(|c| match c.child_by_field_name("name") {
            Some(n) => src.text(n).to_string(),
            None => src.text(c).trim_start_matches(['*', '&']).to_string(),
        })
        .collect()
}

fn call_name<'a>(n: Node, src: &'a Src) -> &'a str {
    n.child_by_field_name("method").map(|m| src.text(m)).unwrap_or("")
}

fn string_value(n: Node, src: &Src) -> String {
    named(n).filter(|c| c.kind() == "string_content").map(|c| src.text(c)).collect::<Vec<_>>().join("")
}

fn symbol(n: Node, src: &Src) -> String {
    let t = src.text(n);
    t.trim_start_matches(':').trim_end_matches(':').trim_matches('"').to_string()
}

/// A block (`do |event| ... end`, `{ |x| ... }`) or lambda as a function.
fn block_func(b: Node, src: &Src) -> Func {
    let params = b.child_by_field_name("parameters").map(|p| params(p, src)).unwrap_or_default();
    let mut stmts = Vec::new();
    if let Some(x) = b.child_by_field_name("body") {
        body(x, src, None, &mut stmts);
    }
    Func { params, body: stmts, line: src.line(b), ..Func::default() }
}

fn args(a: Node, src: &Src) -> Vec<Arg> {
    let mut out = Vec::new();
    for c in named(a) {
        match c.kind() {
            "pair" => {
                let key = c.child_by_field_name("key").map(|k| key_text(k, src)).unwrap_or_default();
                let value = c.child_by_field_name("value").map(|v| expr(v, src)).unwrap_or(Expr::Null);
                out.push(Arg { name: Some(key), value });
            }
            "comment" | "block_argument" => {}
            "splat_argument" | "hash_splat_argument" => {
                if let Some(v) = c.named_child(0) {
                    out.push(Arg { name: None, value: expr(v, src) });
                }
            }
            _ => out.push(Arg { name: None, value: expr(c, src) }),
        }
    }
    out
}

fn key_text(k: Node, src: &Src) -> String {
    match k.kind() {
        "string" => string_value(k, src),
        "hash_key_symbol" | "simple_symbol" | "delimited_symbol" => symbol(k, src),
        _ => src.text(k).to_string(),
    }
}

fn call(n: Node, src: &Src) -> Expr {
    let method = call_name(n, src).to_string();
    let receiver = n.child_by_field_name("receiver").map(|r| expr(r, src));
    let mut a = n.child_by_field_name("arguments").map(|a| args(a, src)).unwrap_or_default();
    let blk = n.child_by_field_name("block");
    if let Some(b) = blk {
        a.push(Arg { name: None, value: Expr::Lambda(Box::new(block_func(b, src))) });
    }
    let has_args = n.child_by_field_name("arguments").is_some() || blk.is_some();
    match receiver {
        // `%w[active trialing].include?(sub.status)` is `sub.status in [...]`.
        Some(r) if method == "include?" && a.len() == 1 && a[0].name.is_none() => member_of(a.remove(0).value, r),
        // Strong parameters (`params.permit(:status, :plan_id)`): the attributes a write given
        // them sets, each from the request's field of its name.
        Some(r) if method == "permit" && !a.is_empty() && r.mentions("params") && a.iter().all(|x| x.name.is_none() && matches!(x.value, Expr::Str(_))) => {
            let line = src.line(n);
            Expr::Object(a.into_iter().map(|x| Pair { key: x.value.clone(), value: Expr::Index(Box::new(r.clone()), Box::new(x.value)), line }).collect())
        }
        Some(r) if method == "new" && !has_args => Expr::Call(Box::new(Call { callee: r, args: Vec::new(), line: src.line(n) })),
        // `Foo.call(x)`, and its shorthand `Foo.(x)` (no method name).
        Some(r) if (method == "call" || method.is_empty()) && has_args => Expr::Call(Box::new(Call { callee: r, args: a, line: src.line(n) })),
        // `a.b` reads an attribute or calls a method alike; a bang method (`update_records!`,
        // `save!`) is always a call.
        Some(r) if !has_args && !method.ends_with('!') => Expr::Member(Box::new(r), method),
        Some(r) => Expr::Call(Box::new(Call { callee: Expr::Member(Box::new(r), method), args: a, line: src.line(n) })),
        None => Expr::Call(Box::new(Call { callee: Expr::Ident(method), args: a, line: src.line(n) })),
    }
}

fn op(n: Node, src: &Src) -> String {
    match n.child_by_field_name("operator").map(|o| src.text(o)).unwrap_or("") {
        "and" => "&&".into(),
        "or" => "||".into(),
        "not" => "!".into(),
        "===" => "==".into(),
        other => other.into(),
    }
}

fn scoped(n: Node, src: &Src) -> Expr {
    let text = src.text(n).trim_start_matches("::");
    let segments: Vec<&str> = text.split("::").map(str::trim).collect();
    qualified(&segments)
}

fn expr(n: Node, src: &Src) -> Expr {
    match n.kind() {
        "identifier" | "constant" | "instance_variable" | "class_variable" | "global_variable" | "self" | "super" => {
            Expr::Ident(src.text(n).to_string())
        }
        "scope_resolution" => scoped(n, src),
        "string" | "bare_string" => interpolated(n, src, &["string_content", "escape_sequence"], |e| Some(expr(e, src))),
        "simple_symbol" | "delimited_symbol" | "hash_key_symbol" | "bare_symbol" => Expr::Str(symbol(n, src)),
        "integer" | "float" => Expr::Num(src.text(n).replace('_', "")),
        "true" => Expr::Bool(true),
        "false" => Expr::Bool(false),
        "nil" => Expr::Null,
        "call" => call(n, src),
        "element_reference" => {
            let obj = n.child_by_field_name("object").map(|o| expr(o, src)).unwrap_or(Expr::Null);
            let idx = named(n).nth(1).map(|i| expr(i, src)).unwrap_or(Expr::Null);
            Expr::Index(Box::new(obj), Box::new(idx))
        }
        "hash" => Expr::Object(pairs(n, src, |k| Expr::Str(key_text(k, src)), |v| expr(v, src))),
        "array" | "string_array" | "symbol_array" => Expr::Array(named(n).filter(|c| c.kind() != "comment").map(|c| expr(c, src)).collect()),
        "binary" => {
            let l = n.child_by_field_name("left").map(|c| expr(c, src)).unwrap_or(Expr::Null);
            let r = n.child_by_field_name("right").map(|c| expr(c, src)).unwrap_or(Expr::Null);
            Expr::Binary(op(n, src), Box::new(l), Box::new(r))
        }
        "unary" => {
            let a = n.child_by_field_name("operand").map(|c| expr(c, src)).unwrap_or(Expr::Null);
            Expr::Unary(op(n, src), Box::new(a))
        }
        "parenthesized_statements" | "parenthesized_expression" => match named(n).find(|c| c.kind() != "comment") {
            Some(inner) => expr(inner, src),
            None => Expr::Null,
        },
        "conditional" => {
            let get = |f: &str| n.child_by_field_name(f).map(|c| expr(c, src)).unwrap_or(Expr::Null);
            Expr::Cond(Box::new(get("condition")), Box::new(get("consequence")), Box::new(get("alternative")))
        }
        "lambda" => {
            let params = n.child_by_field_name("parameters").map(|p| params(p, src)).unwrap_or_default();
            let body = n.child_by_field_name("body").map(|b| block_func(b, src).body).unwrap_or_default();
            Expr::Lambda(Box::new(Func { params, body, line: src.line(n), ..Func::default() }))
        }
        "block" | "do_block" => Expr::Lambda(Box::new(block_func(n, src))),
        "assignment" | "operator_assignment" => {
            let l = n.child_by_field_name("left").map(|c| expr(c, src)).unwrap_or(Expr::Null);
            let r = n.child_by_field_name("right").map(|c| expr(c, src)).unwrap_or(Expr::Null);
            Expr::Binary("=".into(), Box::new(l), Box::new(r))
        }
        "pair" => {
            let k = n.child_by_field_name("key").map(|k| Expr::Str(key_text(k, src))).unwrap_or(Expr::Null);
            let v = n.child_by_field_name("value").map(|c| expr(c, src)).unwrap_or(Expr::Null);
            Expr::Object(vec![Pair { key: k, value: v, line: src.line(n) }])
        }
        "pattern" | "argument_list" => match n.named_child(0) {
            Some(inner) => expr(inner, src),
            None => Expr::Null,
        },
        _ => Expr::Other(src.short(n)),
    }
}
