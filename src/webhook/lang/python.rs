//! Python (tree-sitter) lowered into [`syntax`].

use tree_sitter::Node;

use super::syntax::{Arg, Call, Case, Expr, Func, Pair, Stmt};
use super::{Src, named};

pub fn lower_program(root: Node, src: &Src) -> Vec<Stmt> {
    block(root, src)
}

fn block(node: Node, src: &Src) -> Vec<Stmt> {
    let mut out = Vec::new();
    for c in named(node) {
        stmt(c, src, &mut out);
    }
    out
}

fn stmt(n: Node, src: &Src, out: &mut Vec<Stmt>) {
    let line = src.line(n);
    match n.kind() {
        "expression_statement" => {
            for e in named(n) {
                match e.kind() {
                    "assignment" | "augmented_assignment" => assignment(e, src, out),
                    _ => out.push(Stmt::Expr(expr(e, src), line)),
                }
            }
        }
        "function_definition" => out.push(Stmt::Func(func(n, src, Vec::new()))),
        "decorated_definition" => {
            let decorators: Vec<Expr> =
                named(n).filter(|c| c.kind() == "decorator").filter_map(|d| d.named_child(0)).map(|e| expr(e, src)).collect();
            if let Some(def) = n.child_by_field_name("definition") {
                if def.kind() == "function_definition" {
                    out.push(Stmt::Func(func(def, src, decorators)));
                } else {
                    stmt(def, src, out);
                }
            }
        }
        "class_definition" => {
            if let Some(body) = n.child_by_field_name("body") {
                out.extend(block(body, src));
            }
        }
        "if_statement" => {
            // `if plan := await Plan.by_stripe_id(id):` binds `plan` before the branch reads it.
            if let Some(cond) = n.child_by_field_name("condition") {
                walrus_assignments(cond, src, out);
            }
            out.push(if_chain(n, src))
        }
        "match_statement" => {
            let subject = n.child_by_field_name("subject").map(|s| expr(s, src)).unwrap_or(Expr::Null);
            let mut cases = Vec::new();
            if let Some(body) = n.child_by_field_name("body") {
                for c in named(body).filter(|c| c.kind() == "case_clause") {
                    let mut labels = Vec::new();
                    let mut is_default = false;
                    for p in named(c).filter(|p| p.kind() == "case_pattern") {
                        collect_strings(p, src, &mut labels);
                        if src.text(p).trim() == "_" {
                            is_default = true;
                        }
                    }
                    let body = c.child_by_field_name("consequence").map(|b| block(b, src)).unwrap_or_default();
                    cases.push(Case { labels, is_default, body, line: src.line(c) });
                }
            }
            out.push(Stmt::Switch { subject, cases, line });
        }
        "try_statement" => {
            let mut body = n.child_by_field_name("body").map(|b| block(b, src)).unwrap_or_default();
            let mut catches = Vec::new();
            let mut finally = Vec::new();
            for c in named(n) {
                match c.kind() {
                    "except_clause" | "except_group_clause" => {
                        if let Some(b) = named(c).filter(|b| b.kind() == "block").last() {
                            catches.push((block(b, src), src.line(c)));
                        }
                    }
                    "else_clause" => body.extend(c.child_by_field_name("body").map(|b| block(b, src)).unwrap_or_default()),
                    "finally_clause" => {
                        if let Some(b) = named(c).find(|b| b.kind() == "block") {
                            finally = block(b, src);
                        }
                    }
                    _ => {}
                }
            }
            out.push(Stmt::Try { body, catches, finally, line });
        }
        "with_statement" => {
            let mut head = Vec::new();
            if let Some(clause) = named(n).find(|c| c.kind() == "with_clause") {
                for item in named(clause) {
                    if let Some(v) = item.child_by_field_name("value") {
                        head.push(expr(v, src));
                    }
                }
            }
            let body = n.child_by_field_name("body").map(|b| block(b, src)).unwrap_or_default();
            out.push(Stmt::Block { head, body, line });
        }
        "for_statement" | "while_statement" => {
            let head = ["right", "condition"].iter().filter_map(|f| n.child_by_field_name(f)).map(|c| expr(c, src)).collect();
            let body = n.child_by_field_name("body").map(|b| block(b, src)).unwrap_or_default();
            out.push(Stmt::Block { head, body, line });
        }
        "return_statement" => out.push(Stmt::Return { value: n.named_child(0).map(|c| expr(c, src)), line }),
        "raise_statement" => out.push(Stmt::Throw { value: n.named_child(0).map(|c| expr(c, src)), line }),
        "break_statement" | "continue_statement" => out.push(Stmt::Break),
        "block" => out.extend(block(n, src)),
        "comment" | "pass_statement" | "import_statement" | "import_from_statement" | "future_import_statement"
        | "global_statement" | "nonlocal_statement" => {}
        _ => out.push(Stmt::Expr(expr(n, src), line)),
    }
}

fn assignment(e: Node, src: &Src, out: &mut Vec<Stmt>) {
    let line = src.line(e);
    let (Some(l), Some(r)) = (e.child_by_field_name("left"), e.child_by_field_name("right")) else {
        return;
    };
    // `a = b = value`: every target gets the final value.
    let mut targets = vec![l];
    let mut right = r;
    while right.kind() == "assignment" {
        match (right.child_by_field_name("left"), right.child_by_field_name("right")) {
            (Some(l2), Some(r2)) => {
                targets.push(l2);
                right = r2;
            }
            _ => break,
        }
    }
    let value = expr(right, src);
    for t in targets {
        out.push(Stmt::Assign { target: expr(t, src), value: value.clone(), line });
    }
}

/// The `name := value` bindings inside a condition, as assignments.
fn walrus_assignments(n: Node, src: &Src, out: &mut Vec<Stmt>) {
    if n.kind() == "named_expression" {
        if let (Some(name), Some(value)) = (n.child_by_field_name("name"), n.child_by_field_name("value")) {
            out.push(Stmt::Assign { target: expr(name, src), value: expr(value, src), line: src.line(n) });
        }
        return;
    }
    for c in named(n) {
        walrus_assignments(c, src, out);
    }
}

fn if_chain(n: Node, src: &Src) -> Stmt {
    let cond = n.child_by_field_name("condition").map(|c| expr(c, src)).unwrap_or(Expr::Null);
    let then = n.child_by_field_name("consequence").map(|b| block(b, src)).unwrap_or_default();
    let mut cursor = n.walk();
    let alternatives: Vec<Node> = n.children_by_field_name("alternative", &mut cursor).collect();
    let els = chain_rest(&alternatives, src);
    Stmt::If { cond, then, els, line: src.line(n) }
}

/// `elif` clauses become nested ifs in the else branch.
fn chain_rest(alts: &[Node], src: &Src) -> Vec<Stmt> {
    let Some((first, rest)) = alts.split_first() else {
        return Vec::new();
    };
    match first.kind() {
        "elif_clause" => {
            let cond = first.child_by_field_name("condition").map(|c| expr(c, src)).unwrap_or(Expr::Null);
            let then = first.child_by_field_name("consequence").map(|b| block(b, src)).unwrap_or_default();
            vec![Stmt::If { cond, then, els: chain_rest(rest, src), line: src.line(*first) }]
        }
        _ => first.child_by_field_name("body").map(|b| block(b, src)).unwrap_or_default(),
    }
}

fn func(n: Node, src: &Src, decorators: Vec<Expr>) -> Func {
    let name = n.child_by_field_name("name").map(|c| src.text(c).to_string()).unwrap_or_default();
    let params = n
        .child_by_field_name("parameters")
        .map(|p| named(p).map(|c| src.text(c.child_by_field_name("name").unwrap_or(c)).to_string()).collect())
        .unwrap_or_default();
    // FastAPI dependencies live in parameter defaults: `event = Depends(verified_event)`.
    let param_hints = n
        .child_by_field_name("parameters")
        .map(|p| named(p).map(|c| c.child_by_field_name("value").map(|v| expr(v, src)).unwrap_or(Expr::Null)).collect())
        .unwrap_or_default();
    let body = n.child_by_field_name("body").map(|b| block(b, src)).unwrap_or_default();
    Func { name, params, body, decorators, line: src.line(n), param_hints, ..Func::default() }
}

fn collect_strings(n: Node, src: &Src, out: &mut Vec<Expr>) {
    if n.kind() == "string" {
        out.push(Expr::Str(string_value(n, src)));
        return;
    }
    for c in named(n) {
        collect_strings(c, src, out);
    }
}

fn string_value(n: Node, src: &Src) -> String {
    named(n).filter(|c| c.kind() == "string_content").map(|c| src.text(c)).collect::<Vec<_>>().join("")
}

fn binary(op: &str, l: Expr, r: Expr) -> Expr {
    Expr::Binary(op.to_string(), Box::new(l), Box::new(r))
}

fn expr(n: Node, src: &Src) -> Expr {
    match n.kind() {
        "identifier" | "keyword_identifier" => Expr::Ident(src.text(n).to_string()),
        "string" => Expr::Str(string_value(n, src)),
        "concatenated_string" => Expr::Str(named(n).map(|c| string_value(c, src)).collect::<Vec<_>>().join("")),
        "integer" | "float" => Expr::Num(src.text(n).replace('_', "")),
        "true" => Expr::Bool(true),
        "false" => Expr::Bool(false),
        "none" => Expr::Null,
        "attribute" => {
            let obj = n.child_by_field_name("object").map(|o| expr(o, src)).unwrap_or(Expr::Null);
            let attr = n.child_by_field_name("attribute").map(|a| src.text(a).to_string()).unwrap_or_default();
            Expr::Member(Box::new(obj), attr)
        }
        "subscript" => {
            let obj = n.child_by_field_name("value").map(|o| expr(o, src)).unwrap_or(Expr::Null);
            let idx = n.child_by_field_name("subscript").map(|o| expr(o, src)).unwrap_or(Expr::Null);
            Expr::Index(Box::new(obj), Box::new(idx))
        }
        "call" => {
            let callee = n.child_by_field_name("function").map(|c| expr(c, src)).unwrap_or(Expr::Null);
            let mut args = Vec::new();
            if let Some(a) = n.child_by_field_name("arguments") {
                for c in named(a).filter(|c| c.kind() != "comment") {
                    if c.kind() == "keyword_argument" {
                        let name = c.child_by_field_name("name").map(|k| src.text(k).to_string());
                        let value = c.child_by_field_name("value").map(|v| expr(v, src)).unwrap_or(Expr::Null);
                        args.push(Arg { name, value });
                    } else {
                        args.push(Arg { name: None, value: expr(c, src) });
                    }
                }
            }
            Expr::Call(Box::new(Call { callee, args, line: src.line(n) }))
        }
        "comparison_operator" => {
            let operands: Vec<Node> = named(n).collect();
            let mut cursor = n.walk();
            let op = n
                .children(&mut cursor)
                .find(|c| !c.is_named())
                .map(|o| match src.text(o) {
                    "is" => "==".to_string(),
                    "is not" | "<>" => "!=".to_string(),
                    other => other.split_whitespace().collect::<Vec<_>>().join(" "),
                })
                .unwrap_or_default();
            match operands.as_slice() {
                [l, r, ..] => binary(&op, expr(*l, src), expr(*r, src)),
                _ => Expr::Other(src.short(n)),
            }
        }
        "boolean_operator" => {
            let l = n.child_by_field_name("left").map(|c| expr(c, src)).unwrap_or(Expr::Null);
            let r = n.child_by_field_name("right").map(|c| expr(c, src)).unwrap_or(Expr::Null);
            let op = n.child_by_field_name("operator").map(|o| src.text(o)).unwrap_or("and");
            binary(if op == "or" { "||" } else { "&&" }, l, r)
        }
        "not_operator" => {
            Expr::Unary("!".into(), Box::new(n.child_by_field_name("argument").map(|c| expr(c, src)).unwrap_or(Expr::Null)))
        }
        "binary_operator" => {
            let l = n.child_by_field_name("left").map(|c| expr(c, src)).unwrap_or(Expr::Null);
            let r = n.child_by_field_name("right").map(|c| expr(c, src)).unwrap_or(Expr::Null);
            let op = n.child_by_field_name("operator").map(|o| src.text(o)).unwrap_or("?");
            binary(op, l, r)
        }
        "unary_operator" => {
            let op = n.child_by_field_name("operator").map(|o| src.text(o)).unwrap_or("-").to_string();
            Expr::Unary(op, Box::new(n.child_by_field_name("argument").map(|c| expr(c, src)).unwrap_or(Expr::Null)))
        }
        "parenthesized_expression" | "await" | "expression_list" if n.named_child_count() == 1 => {
            n.named_child(0).map(|c| expr(c, src)).unwrap_or(Expr::Null)
        }
        "dictionary" => Expr::Object(
            named(n)
                .filter(|c| c.kind() == "pair")
                .map(|p| Pair {
                    key: p.child_by_field_name("key").map(|k| expr(k, src)).unwrap_or(Expr::Null),
                    value: p.child_by_field_name("value").map(|v| expr(v, src)).unwrap_or(Expr::Null),
                    line: src.line(p),
                })
                .collect(),
        ),
        "list" | "tuple" | "set" | "expression_list" | "pattern_list" | "tuple_pattern" => {
            Expr::Array(named(n).filter(|c| c.kind() != "comment").map(|c| expr(c, src)).collect())
        }
        "lambda" => {
            let body = n.child_by_field_name("body").map(|b| expr(b, src)).unwrap_or(Expr::Null);
            let line = src.line(n);
            Expr::Lambda(Box::new(Func { body: vec![Stmt::Return { value: Some(body), line }], line, ..Func::default() }))
        }
        "conditional_expression" => {
            let parts: Vec<Expr> = named(n).map(|c| expr(c, src)).collect();
            match <[Expr; 3]>::try_from(parts) {
                Ok([a, c, b]) => Expr::Cond(Box::new(c), Box::new(a), Box::new(b)),
                Err(_) => Expr::Other(src.short(n)),
            }
        }
        _ => Expr::Other(src.short(n)),
    }
}
