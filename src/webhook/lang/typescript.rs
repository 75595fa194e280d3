//! TypeScript, TSX and JavaScript (tree-sitter) lowered into [`syntax`].

use tree_sitter::Node;

use super::syntax::{Arg, Call, Case, Expr, Func, Pair, Stmt};
use super::{Src, named};

pub fn lower_program(root: Node, src: &Src) -> Vec<Stmt> {
    block(root, src)
}

fn block(node: Node, src: &Src) -> Vec<Stmt> {
    let mut out = Vec::new();
    if node.kind() == "statement_block" || node.kind() == "program" || node.kind() == "class_body" {
        for c in named(node) {
            stmt(c, src, &mut out);
        }
    } else {
        stmt(node, src, &mut out);
    }
    out
}

/// `x.then(...)`, `x.catch(...)`, `x.finally(...)`: a promise chain.
fn unawaited_chain(call: Node, src: &Src) -> bool {
    call.child_by_field_name("function")
        .filter(|f| f.kind() == "member_expression")
        .and_then(|f| f.child_by_field_name("property"))
        .is_some_and(|p| matches!(src.text(p), "then" | "catch" | "finally"))
}

fn stmt(n: Node, src: &Src, out: &mut Vec<Stmt>) {
    let line = src.line(n);
    match n.kind() {
        "expression_statement" => {
            if let Some(e) = n.named_child(0) {
                match e.kind() {
                    "assignment_expression" | "augmented_assignment_expression" => {
                        if let (Some(l), Some(r)) = (e.child_by_field_name("left"), e.child_by_field_name("right")) {
                            // `module.exports = class StripeWebhookService { ... }`: its methods.
                            if r.kind() == "class" {
                                class_members(r, src, out);
                            }
                            out.push(Stmt::Assign { target: expr(l, src), value: expr(r, src), line });
                        }
                    }
                    "sequence_expression" => {
                        for c in named(e) {
                            out.push(Stmt::Expr(expr(c, src), src.line(c)));
                        }
                    }
                    // `process(event).catch(log)` as a statement: a promise nobody awaits
                    // (an awaited one is an await_expression). Named `void` like `void process(event)`.
                    "call_expression" if unawaited_chain(e, src) => out.push(Stmt::Expr(Expr::Unary("void".into(), Box::new(expr(e, src))), line)),
                    _ => out.push(Stmt::Expr(expr(e, src), line)),
                }
            }
        }
        "lexical_declaration" | "variable_declaration" => {
            for d in named(n).filter(|d| d.kind() == "variable_declarator") {
                declarator(d, src, out);
            }
        }
        "function_declaration" | "generator_function_declaration" => out.push(Stmt::Func(func(n, src))),
        "class_declaration" | "abstract_class_declaration" => class_members(n, src, out),
        "export_statement" => {
            if let Some(d) = n.child_by_field_name("declaration") {
                stmt(d, src, out);
            } else if let Some(v) = n.child_by_field_name("value") {
                let value = expr(v, src);
                out.push(Stmt::Assign { target: Expr::Ident("default".into()), value, line });
            }
        }
        "if_statement" => {
            let cond = n.child_by_field_name("condition").map(|c| expr(c, src)).unwrap_or(Expr::Other(String::new()));
            let then = n.child_by_field_name("consequence").map(|c| block(c, src)).unwrap_or_default();
            let els = n
                .child_by_field_name("alternative")
                .and_then(|e| e.named_child(0))
                .map(|c| block(c, src))
                .unwrap_or_default();
            out.push(Stmt::If { cond, then, els, line });
        }
        "switch_statement" => {
            let subject = n.child_by_field_name("value").map(|c| expr(c, src)).unwrap_or(Expr::Other(String::new()));
            let mut cases = Vec::new();
            if let Some(body) = n.child_by_field_name("body") {
                for c in named(body) {
                    let is_default = c.kind() == "switch_default";
                    if !is_default && c.kind() != "switch_case" {
                        continue;
                    }
                    let labels = c.child_by_field_name("value").map(|v| vec![expr(v, src)]).unwrap_or_default();
                    let mut body = Vec::new();
                    let mut cursor = c.walk();
                    for s in c.children_by_field_name("body", &mut cursor) {
                        stmt(s, src, &mut body);
                    }
                    cases.push(Case { labels, is_default, body, line: src.line(c) });
                }
            }
            out.push(Stmt::Switch { subject, cases, line });
        }
        "try_statement" => {
            let body = n.child_by_field_name("body").map(|b| block(b, src)).unwrap_or_default();
            let catches = n
                .child_by_field_name("handler")
                .and_then(|h| h.child_by_field_name("body").map(|b| (block(b, src), src.line(h))))
                .into_iter()
                .collect();
            let finally = n
                .child_by_field_name("finalizer")
                .and_then(|f| f.child_by_field_name("body").or_else(|| f.named_child(0)))
                .map(|b| block(b, src))
                .unwrap_or_default();
            out.push(Stmt::Try { body, catches, finally, line });
        }
        "return_statement" => out.push(Stmt::Return { value: n.named_child(0).map(|c| expr(c, src)), line }),
        "throw_statement" => out.push(Stmt::Throw { value: n.named_child(0).map(|c| expr(c, src)), line }),
        "break_statement" | "continue_statement" => out.push(Stmt::Break),
        "statement_block" => out.extend(block(n, src)),
        "for_statement" | "for_in_statement" | "while_statement" | "do_statement" => {
            let mut head = Vec::new();
            for f in ["initializer", "condition", "right", "value"] {
                if let Some(c) = n.child_by_field_name(f) {
                    head.push(expr(c, src));
                }
            }
            let body = n.child_by_field_name("body").map(|b| block(b, src)).unwrap_or_default();
            out.push(Stmt::Block { head, body, line });
        }
        "labeled_statement" => {
            if let Some(b) = n.child_by_field_name("body") {
                stmt(b, src, out);
            }
        }
        "comment" | "empty_statement" | "import_statement" | "debugger_statement" | "type_alias_declaration"
        | "interface_declaration" | "enum_declaration" | "ambient_declaration" => {}
        _ => out.push(Stmt::Expr(expr(n, src), line)),
    }
}

/// The methods and fields of a class, declared (`class X {}`) or as a value (`module.exports = class {}`).
fn class_members(n: Node, src: &Src, out: &mut Vec<Stmt>) {
    let Some(body) = n.child_by_field_name("body") else { return };
    for m in named(body) {
        match m.kind() {
            "method_definition" => out.push(Stmt::Func(func(m, src))),
            "public_field_definition" | "field_definition" => {
                let name = m.child_by_field_name("name").or_else(|| m.child_by_field_name("property"));
                if let (Some(k), Some(v)) = (name, m.child_by_field_name("value")) {
                    out.push(Stmt::Assign { target: Expr::Ident(src.text(k).into()), value: expr(v, src), line: src.line(m) });
                }
            }
            _ => {}
        }
    }
}

fn declarator(d: Node, src: &Src, out: &mut Vec<Stmt>) {
    let line = src.line(d);
    let (Some(name), Some(value)) = (d.child_by_field_name("name"), d.child_by_field_name("value")) else {
        return;
    };
    if value.kind() == "class" {
        class_members(value, src, out);
    }
    let value = expr(value, src);
    if name.kind() == "object_pattern" {
        // `const { customer, metadata: meta } = session` binds each name to a member.
        for p in named(name) {
            match p.kind() {
                "shorthand_property_identifier_pattern" => {
                    let n = src.text(p).to_string();
                    out.push(Stmt::Assign { target: Expr::Ident(n.clone()), value: Expr::Member(Box::new(value.clone()), n), line });
                }
                "pair_pattern" => {
                    if let (Some(k), Some(v)) = (p.child_by_field_name("key"), p.child_by_field_name("value")) {
                        let key = src.text(k).trim_matches(['"', '\'']).to_string();
                        out.push(Stmt::Assign { target: expr(v, src), value: Expr::Member(Box::new(value.clone()), key), line });
                    }
                }
                _ => {}
            }
        }
    } else {
        out.push(Stmt::Assign { target: expr(name, src), value, line });
    }
}

fn func(n: Node, src: &Src) -> Func {
    let name = n.child_by_field_name("name").map(|c| src.text(c).trim_matches(['"', '\'']).to_string()).unwrap_or_default();
    let mut params = Vec::new();
    if let Some(p) = n.child_by_field_name("parameters") {
        for c in named(p) {
            let id = c.child_by_field_name("pattern").unwrap_or(c);
            params.push(src.text(id).to_string());
        }
    } else if let Some(p) = n.child_by_field_name("parameter") {
        params.push(src.text(p).to_string());
    }
    let body = match n.child_by_field_name("body") {
        Some(b) if b.kind() == "statement_block" => block(b, src),
        Some(b) => vec![Stmt::Return { value: Some(expr(b, src)), line: src.line(b) }],
        None => Vec::new(),
    };
    Func { name, params, body, line: src.line(n), ..Func::default() }
}

fn op(n: Node, src: &Src) -> String {
    let raw = n.child_by_field_name("operator").map(|o| src.text(o)).unwrap_or("");
    match raw {
        "===" => "==".into(),
        "!==" => "!=".into(),
        other => other.into(),
    }
}

fn string_value(n: Node, src: &Src) -> String {
    let t = src.text(n);
    if t.len() >= 2 { t[1..t.len() - 1].to_string() } else { String::new() }
}

pub(super) fn expr(n: Node, src: &Src) -> Expr {
    match n.kind() {
        "identifier" | "property_identifier" | "shorthand_property_identifier" | "this" | "private_property_identifier"
        | "type_identifier" | "super" => Expr::Ident(src.text(n).to_string()),
        "string" | "template_string" => Expr::Str(string_value(n, src)),
        "number" => Expr::Num(src.text(n).replace('_', "")),
        "true" => Expr::Bool(true),
        "false" => Expr::Bool(false),
        "null" | "undefined" => Expr::Null,
        "member_expression" => {
            let obj = n.child_by_field_name("object").map(|o| expr(o, src)).unwrap_or(Expr::Other(String::new()));
            let prop = n.child_by_field_name("property").map(|p| src.text(p).to_string()).unwrap_or_default();
            Expr::Member(Box::new(obj), prop)
        }
        "subscript_expression" => {
            let obj = n.child_by_field_name("object").map(|o| expr(o, src)).unwrap_or(Expr::Other(String::new()));
            let idx = n.child_by_field_name("index").map(|o| expr(o, src)).unwrap_or(Expr::Other(String::new()));
            Expr::Index(Box::new(obj), Box::new(idx))
        }
        "call_expression" | "new_expression" => {
            let callee_node = n.child_by_field_name("function").or_else(|| n.child_by_field_name("constructor"));
            let callee = callee_node.map(|c| expr(c, src)).unwrap_or(Expr::Other(String::new()));
            let args = match n.child_by_field_name("arguments") {
                Some(a) if a.kind() == "template_string" => vec![Arg { name: None, value: expr(a, src) }],
                Some(a) => named(a).filter(|c| c.kind() != "comment").map(|c| Arg { name: None, value: expr(c, src) }).collect(),
                None => Vec::new(),
            };
            Expr::Call(Box::new(Call { callee, args, line: src.line(n) }))
        }
        "await_expression" | "parenthesized_expression" | "as_expression" | "non_null_expression" | "satisfies_expression"
        | "type_assertion" | "spread_element" => match named(n).find(|c| !c.kind().contains("type") && c.kind() != "comment") {
            Some(inner) => expr(inner, src),
            None => Expr::Other(src.text(n).into()),
        },
        "binary_expression" => {
            let l = n.child_by_field_name("left").map(|c| expr(c, src)).unwrap_or(Expr::Null);
            let r = n.child_by_field_name("right").map(|c| expr(c, src)).unwrap_or(Expr::Null);
            Expr::Binary(op(n, src), Box::new(l), Box::new(r))
        }
        "unary_expression" => {
            let a = n.child_by_field_name("argument").map(|c| expr(c, src)).unwrap_or(Expr::Null);
            Expr::Unary(op(n, src), Box::new(a))
        }
        "assignment_expression" => {
            let l = n.child_by_field_name("left").map(|c| expr(c, src)).unwrap_or(Expr::Null);
            let r = n.child_by_field_name("right").map(|c| expr(c, src)).unwrap_or(Expr::Null);
            Expr::Binary("=".into(), Box::new(l), Box::new(r))
        }
        "object" => {
            let mut pairs = Vec::new();
            for c in named(n) {
                let line = src.line(c);
                match c.kind() {
                    "pair" => {
                        let key = match c.child_by_field_name("key") {
                            Some(k) if k.kind() == "string" => Expr::Str(string_value(k, src)),
                            Some(k) if k.kind() == "computed_property_name" => k.named_child(0).map(|i| expr(i, src)).unwrap_or(Expr::Null),
                            Some(k) => Expr::Str(src.text(k).to_string()),
                            None => Expr::Null,
                        };
                        let value = c.child_by_field_name("value").map(|v| expr(v, src)).unwrap_or(Expr::Null);
                        pairs.push(Pair { key, value, line });
                    }
                    "shorthand_property_identifier" => {
                        let name = src.text(c).to_string();
                        pairs.push(Pair { key: Expr::Str(name.clone()), value: Expr::Ident(name), line });
                    }
                    "method_definition" => {
                        let f = func(c, src);
                        pairs.push(Pair { key: Expr::Str(f.name.clone()), value: Expr::Lambda(Box::new(f)), line });
                    }
                    "spread_element" => pairs.push(Pair { key: Expr::Str("...".into()), value: expr(c, src), line }),
                    _ => {}
                }
            }
            Expr::Object(pairs)
        }
        "array" => Expr::Array(named(n).filter(|c| c.kind() != "comment").map(|c| expr(c, src)).collect()),
        "arrow_function" | "function_expression" | "function" | "generator_function" => Expr::Lambda(Box::new(func(n, src))),
        "ternary_expression" => {
            let get = |f: &str| n.child_by_field_name(f).map(|c| expr(c, src)).unwrap_or(Expr::Null);
            Expr::Cond(Box::new(get("condition")), Box::new(get("consequence")), Box::new(get("alternative")))
        }
        _ => Expr::Other(src.short(n)),
    }
}
