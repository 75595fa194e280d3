//! PHP (tree-sitter) lowered into [`syntax`]: plain PHP with
//! `\Stripe\Webhook::constructEvent`, Laravel controllers, Eloquent, and
//! Laravel Cashier webhook controllers.
//!
//! Variables lose their `$`; `use` imports become assignments of the full
//! name, so a class's parent resolves to what it names; `match` at statement
//! level (or assigned or returned) is a switch; `in_array($x, $list)` is
//! `x in list`; `exit` ends the path. In a class that extends a framework's
//! webhook controller (Cashier), `handle{EventName}` methods handle that event.

use std::collections::HashMap;

use tree_sitter::Node;

use super::syntax::{Arg, Call, Case, Expr, Func, Pair, Stmt};
use super::{Src, interpolated, member_of, named, qualified};
use crate::webhook::vocab;

struct Cx<'a, 's> {
    src: &'a Src<'s>,
    /// `use A\B\C as D;`: D -> A\B\C.
    imports: HashMap<String, String>,
}

pub fn lower_program(root: Node, src: &Src) -> Vec<Stmt> {
    let mut imports = HashMap::new();
    collect_imports(root, src, &mut imports);
    let cx = Cx { src, imports };
    let mut out = Vec::new();
    for c in named(root) {
        stmt(c, &cx, None, &mut out);
    }
    out
}

fn collect_imports(n: Node, src: &Src, out: &mut HashMap<String, String>) {
    for c in named(n) {
        match c.kind() {
            "namespace_use_declaration" => {
                for clause in named(c).filter(|k| k.kind() == "namespace_use_clause") {
                    let Some(full) = named(clause).find(|k| matches!(k.kind(), "qualified_name" | "name")) else { continue };
                    let full = src.text(full).trim_start_matches('\\').to_string();
                    let alias = clause
                        .child_by_field_name("alias")
                        .map(|a| src.text(a).to_string())
                        .unwrap_or_else(|| full.rsplit('\\').next().unwrap_or(&full).to_string());
                    out.insert(alias, full);
                }
            }
            "namespace_definition" | "compound_statement" => collect_imports(c, src, out),
            _ => {}
        }
    }
}

fn block(n: Option<Node>, cx: &Cx, owner: Option<&str>) -> Vec<Stmt> {
    let mut out = Vec::new();
    if let Some(n) = n {
        if matches!(n.kind(), "compound_statement" | "declaration_list" | "colon_block") {
            for c in named(n) {
                stmt(c, cx, owner, &mut out);
            }
        } else {
            stmt(n, cx, owner, &mut out);
        }
    }
    out
}

fn stmt(n: Node, cx: &Cx, owner: Option<&str>, out: &mut Vec<Stmt>) {
    let src = cx.src;
    let line = src.line(n);
    match n.kind() {
        "php_tag" | "text_interpolation" | "comment" | "namespace_use_declaration" | "empty_statement" | "declare_statement"
        | "interface_declaration" | "enum_declaration" | "property_declaration" | "use_declaration" => {}
        "const_declaration" => {
            for el in named(n).filter(|c| c.kind() == "const_element") {
                let kids: Vec<Node> = named(el).collect();
                if let [name, value, ..] = kids.as_slice() {
                    out.push(Stmt::Assign { target: Expr::Ident(src.text(*name).to_string()), value: expr(*value, cx), line: src.line(el) });
                }
            }
        }
        "namespace_definition" => {
            if let Some(b) = n.child_by_field_name("body") {
                out.extend(block(Some(b), cx, owner));
            }
        }
        "class_declaration" | "trait_declaration" => {
            let name = n.child_by_field_name("name").map(|c| src.text(c).to_string()).unwrap_or_default();
            let parents: Vec<Expr> = named(n)
                .filter(|c| matches!(c.kind(), "base_clause" | "class_interface_clause"))
                .flat_map(named)
                .map(|p| class_ref(src.text(p), cx))
                .collect();
            let base = parents.first().and_then(Expr::dotted).and_then(|d| vocab::framework_base(&d));
            out.push(Stmt::Class { name: name.clone(), parents, line });
            if let Some(body) = n.child_by_field_name("body") {
                for m in named(body) {
                    match m.kind() {
                        "method_declaration" => {
                            let mut f = func(m, cx, Some(&name));
                            if let (Some(_), Some(rest)) = (base, f.name.strip_prefix("handle")) {
                                if rest.starts_with(|c: char| c.is_ascii_uppercase()) && rest != "Webhook" {
                                    f.handles.push(Expr::Ident(rest.to_string()));
                                }
                            }
                            out.push(Stmt::Func(f));
                        }
                        "use_declaration" => {
                            // `use VerifiesSignatures;` (a trait) is what the class includes.
                            for t in named(m) {
                                let callee = Expr::Ident("include".into());
                                let arg = Arg { name: None, value: class_ref(src.text(t), cx) };
                                out.push(Stmt::Expr(Expr::Call(Box::new(Call { callee, args: vec![arg], line: src.line(m) })), src.line(m)));
                            }
                        }
                        _ => stmt(m, cx, Some(&name), out),
                    }
                }
            }
        }
        "function_definition" | "method_declaration" => out.push(Stmt::Func(func(n, cx, owner))),
        "expression_statement" => {
            if let Some(e) = n.named_child(0) {
                expr_stmt(e, cx, line, out);
            }
        }
        "if_statement" => out.push(if_stmt(n, cx, owner)),
        "switch_statement" => {
            let subject = n.child_by_field_name("condition").map(|c| expr(c, cx)).unwrap_or(Expr::Null);
            let mut cases = Vec::new();
            if let Some(body) = n.child_by_field_name("body") {
                for c in named(body) {
                    let is_default = c.kind() == "default_statement";
                    if !is_default && c.kind() != "case_statement" {
                        continue;
                    }
                    let value = c.child_by_field_name("value");
                    let labels = value.map(|v| vec![expr(v, cx)]).unwrap_or_default();
                    let mut body = Vec::new();
                    for s in named(c).filter(|s| Some(*s) != value) {
                        stmt(s, cx, owner, &mut body);
                    }
                    cases.push(Case { labels, is_default, body, line: src.line(c) });
                }
            }
            out.push(Stmt::Switch { subject, cases, line });
        }
        "try_statement" => {
            let body = block(n.child_by_field_name("body"), cx, owner);
            let mut catches = Vec::new();
            let mut finally = Vec::new();
            for c in named(n) {
                match c.kind() {
                    "catch_clause" => catches.push((block(c.child_by_field_name("body"), cx, owner), src.line(c))),
                    "finally_clause" => finally = block(c.child_by_field_name("body"), cx, owner),
                    _ => {}
                }
            }
            out.push(Stmt::Try { body, catches, finally, line });
        }
        "return_statement" => {
            let value = n.named_child(0);
            match value {
                Some(v) if v.kind() == "match_expression" => out.push(match_stmt(v, cx, MatchUse::Return)),
                _ => out.push(Stmt::Return { value: value.map(|c| expr(c, cx)), line }),
            }
        }
        "exit_statement" => out.push(Stmt::Return { value: n.named_child(0).map(|c| expr(c, cx)), line }),
        "break_statement" | "continue_statement" | "goto_statement" => out.push(Stmt::Break),
        "compound_statement" => out.extend(block(Some(n), cx, owner)),
        "foreach_statement" | "for_statement" | "while_statement" | "do_statement" => {
            let body_node = n.child_by_field_name("body");
            let head = named(n).filter(|c| Some(*c) != body_node).map(|c| expr(c, cx)).collect();
            out.push(Stmt::Block { head, body: block(body_node, cx, owner), line });
        }
        "echo_statement" => out.push(Stmt::Expr(Expr::Call(Box::new(Call { callee: Expr::Ident("echo".into()), args: Vec::new(), line })), line)),
        _ => expr_stmt(n, cx, line, out),
    }
}

fn expr_stmt(e: Node, cx: &Cx, line: u32, out: &mut Vec<Stmt>) {
    match e.kind() {
        "assignment_expression" | "augmented_assignment_expression" | "reference_assignment_expression" => {
            let (Some(l), Some(r)) = (e.child_by_field_name("left"), e.child_by_field_name("right")) else { return };
            if r.kind() == "match_expression" {
                let target = expr(l, cx);
                match match_as_value(r, cx) {
                    Some(value) => out.push(Stmt::Assign { target, value, line }),
                    None => out.push(match_stmt(r, cx, MatchUse::Assign(target))),
                }
            } else {
                out.push(Stmt::Assign { target: expr(l, cx), value: expr(r, cx), line });
            }
        }
        "throw_expression" => out.push(Stmt::Throw { value: e.named_child(0).map(|c| expr(c, cx)), line }),
        "match_expression" => out.push(match_stmt(e, cx, MatchUse::Expr)),
        "exit_statement" => out.push(Stmt::Return { value: e.named_child(0).map(|c| expr(c, cx)), line }),
        _ => out.push(Stmt::Expr(expr(e, cx), line)),
    }
}

enum MatchUse {
    Expr,
    Return,
    Assign(Expr),
}

/// `match ($event->type) { 'a' => f(), default => g() }` as a switch.
fn match_stmt(n: Node, cx: &Cx, usage: MatchUse) -> Stmt {
    let src = cx.src;
    let subject = n.child_by_field_name("condition").map(|c| expr(c, cx)).unwrap_or(Expr::Null);
    let mut cases = Vec::new();
    if let Some(body) = n.child_by_field_name("body") {
        for arm in named(body) {
            let is_default = arm.kind() == "match_default_expression";
            if !is_default && arm.kind() != "match_conditional_expression" {
                continue;
            }
            let labels = arm.child_by_field_name("conditional_expressions").map(|l| named(l).map(|x| expr(x, cx)).collect()).unwrap_or_default();
            let line = src.line(arm);
            let value = arm.child_by_field_name("return_expression");
            let body = match (value, &usage) {
                (Some(v), _) if v.kind() == "throw_expression" => vec![Stmt::Throw { value: v.named_child(0).map(|c| expr(c, cx)), line }],
                (Some(v), MatchUse::Return) => vec![Stmt::Return { value: Some(expr(v, cx)), line }],
                (Some(v), MatchUse::Assign(t)) => vec![Stmt::Assign { target: t.clone(), value: expr(v, cx), line }],
                (Some(v), MatchUse::Expr) => vec![Stmt::Expr(expr(v, cx), line)],
                (None, _) => Vec::new(),
            };
            cases.push(Case { labels, is_default, body, line });
        }
    }
    Stmt::Switch { subject, cases, line: src.line(n) }
}

/// `match ($x) { 'a' => true, default => false }` with plain arm values, as one value.
fn match_as_value(n: Node, cx: &Cx) -> Option<Expr> {
    let subject = expr(n.child_by_field_name("condition")?, cx);
    let mut arms = Vec::new();
    let mut default = None;
    for arm in named(n.child_by_field_name("body")?) {
        let value = expr(arm.child_by_field_name("return_expression")?, cx);
        match arm.kind() {
            "match_default_expression" => default = Some(value),
            "match_conditional_expression" => {
                let labels = named(arm.child_by_field_name("conditional_expressions")?).map(|x| expr(x, cx)).collect();
                arms.push((labels, value));
            }
            _ => {}
        }
    }
    super::match_value(&subject, arms, default)
}

fn if_stmt(n: Node, cx: &Cx, owner: Option<&str>) -> Stmt {
    let cond = n.child_by_field_name("condition").map(|c| expr(c, cx)).unwrap_or(Expr::Null);
    let then = block(n.child_by_field_name("body"), cx, owner);
    let mut cursor = n.walk();
    let alts: Vec<Node> = n.children_by_field_name("alternative", &mut cursor).collect();
    let els = chain(&alts, cx, owner);
    Stmt::If { cond, then, els, line: cx.src.line(n) }
}

fn chain(alts: &[Node], cx: &Cx, owner: Option<&str>) -> Vec<Stmt> {
    let Some((first, rest)) = alts.split_first() else { return Vec::new() };
    match first.kind() {
        "else_if_clause" => {
            let cond = first.child_by_field_name("condition").map(|c| expr(c, cx)).unwrap_or(Expr::Null);
            let then = block(first.child_by_field_name("body"), cx, owner);
            vec![Stmt::If { cond, then, els: chain(rest, cx, owner), line: cx.src.line(*first) }]
        }
        _ => block(first.child_by_field_name("body"), cx, owner),
    }
}

fn func(n: Node, cx: &Cx, owner: Option<&str>) -> Func {
    let src = cx.src;
    let name = n.child_by_field_name("name").map(|c| src.text(c).to_string()).unwrap_or_default();
    let mut params = Vec::new();
    let mut param_hints = Vec::new();
    if let Some(p) = n.child_by_field_name("parameters") {
        for c in named(p) {
            if let Some(v) = c.child_by_field_name("name") {
                params.push(src.text(v).trim_start_matches('$').to_string());
                param_hints.push(c.child_by_field_name("type").map(|t| class_ref(src.text(t), cx)).unwrap_or(Expr::Null));
            }
        }
    }
    let body = match n.child_by_field_name("body") {
        Some(b) if b.kind() == "compound_statement" => block(Some(b), cx, owner),
        Some(b) => vec![Stmt::Return { value: Some(expr(b, cx)), line: src.line(b) }],
        None => Vec::new(),
    };
    // A Cashier event listener, `handle(SubscriptionCreated $event)`: the event class it
    // takes names the webhook event the framework hands it.
    let handles = match param_hints.first().and_then(Expr::dotted) {
        Some(d) if name == "handle" && vocab::is_cashier_event_class(&d) => {
            // Cashier Paddle fires Paddle Classic alerts: `SubscriptionCreated` is `subscription_created`.
            d.rsplit('.').next().map(|class| vec![Expr::Ident(crate::webhook::resolve::snake_case(class))]).unwrap_or_default()
        }
        _ => Vec::new(),
    };
    Func { name, params, body, line: src.line(n), owner: owner.map(String::from), param_hints, handles, ..Func::default() }
}

/// A class name as written, resolved through the file's `use` imports.
fn class_ref(text: &str, cx: &Cx) -> Expr {
    let t = text.trim().trim_start_matches('?').trim_start_matches('\\');
    let (head, tail) = t.split_once('\\').map_or((t, None), |(h, r)| (h, Some(r)));
    let full = match (cx.imports.get(head), tail) {
        (Some(f), Some(r)) => format!("{f}\\{r}"),
        (Some(f), None) => f.clone(),
        (None, _) => t.to_string(),
    };
    let segments: Vec<&str> = full.split('\\').collect();
    qualified(&segments)
}

fn string_value(n: Node, src: &Src) -> String {
    named(n).filter(|c| matches!(c.kind(), "string_content" | "string_value" | "escape_sequence")).map(|c| src.text(c)).collect::<Vec<_>>().join("")
}

fn args(n: Option<Node>, cx: &Cx) -> Vec<Arg> {
    let Some(n) = n else { return Vec::new() };
    named(n)
        .filter(|c| c.kind() != "comment")
        .map(|c| {
            if c.kind() == "argument" {
                let name = c.child_by_field_name("name").map(|k| cx.src.text(k).to_string());
                let value = named(c).filter(|v| Some(*v) != c.child_by_field_name("name")).last().map(|v| expr(v, cx)).unwrap_or(Expr::Null);
                Arg { name, value }
            } else {
                Arg { name: None, value: expr(c, cx) }
            }
        })
        .collect()
}

fn call(callee: Expr, a: Vec<Arg>, line: u32) -> Expr {
    Expr::Call(Box::new(Call { callee, args: a, line }))
}

fn expr(n: Node, cx: &Cx) -> Expr {
    let src = cx.src;
    let line = src.line(n);
    let field = |f: &str| n.child_by_field_name(f).map(|c| expr(c, cx)).unwrap_or(Expr::Null);
    let name_of = |f: &str| n.child_by_field_name(f).map(|c| src.text(c).to_string()).unwrap_or_default();
    match n.kind() {
        "variable_name" => Expr::Ident(src.text(n).trim_start_matches('$').to_string()),
        "name" | "relative_scope" => Expr::Ident(src.text(n).to_string()),
        "qualified_name" | "namespace_name" => class_ref(src.text(n), cx),
        "string" | "nowdoc" => Expr::Str(string_value(n, src)),
        "encapsed_string" | "heredoc" => interpolated(n, src, &["string_content", "string_value", "escape_sequence"], |c| match c.kind() {
            "variable_name" | "member_access_expression" | "subscript_expression" | "dynamic_variable_name" => Some(expr(c, cx)),
            "complex_string_part" | "expression" => c.named_child(0).map(|e| expr(e, cx)),
            _ => None,
        }),
        "integer" | "float" => Expr::Num(src.text(n).replace('_', "")),
        "boolean" => Expr::Bool(src.text(n).eq_ignore_ascii_case("true")),
        "null" => Expr::Null,
        "member_access_expression" | "nullsafe_member_access_expression" => Expr::Member(Box::new(field("object")), name_of("name")),
        "member_call_expression" | "nullsafe_member_call_expression" => {
            let object = field("object");
            let method = name_of("name");
            let mut a = args(n.child_by_field_name("arguments"), cx);
            // PDO: `$pdo->prepare($sql)->execute([$a, $b])` is one statement with its parameters.
            if method == "execute" {
                if let Expr::Call(prep) = &object {
                    if let (Expr::Member(db, m), Some(sql)) = (&prep.callee, prep.args.first()) {
                        if m == "prepare" {
                            a.insert(0, sql.clone());
                            return call(Expr::Member(db.clone(), method), a, line);
                        }
                    }
                }
            }
            call(Expr::Member(Box::new(object), method), a, line)
        }
        "scoped_call_expression" => {
            let scope = n.child_by_field_name("scope").map(|s| expr(s, cx)).unwrap_or(Expr::Null);
            call(Expr::Member(Box::new(scope), name_of("name")), args(n.child_by_field_name("arguments"), cx), line)
        }
        "class_constant_access_expression" | "scoped_property_access_expression" => {
            let parts: Vec<Node> = named(n).collect();
            match parts.as_slice() {
                [scope, name] if src.text(*name) == "class" => class_ref(src.text(*scope), cx),
                // `self::PLANS`, `static::PLANS`: the class constant by name.
                [scope, name] if matches!(src.text(*scope), "self" | "static") => Expr::Ident(src.text(*name).to_string()),
                [scope, name] => {
                    let scope_text = match class_ref(src.text(*scope), cx).dotted() {
                        Some(d) => d,
                        None => src.text(*scope).to_string(),
                    };
                    let mut segments: Vec<&str> = scope_text.split('.').collect();
                    let name_text = src.text(*name).trim_start_matches('$');
                    segments.push(name_text);
                    qualified(&segments)
                }
                _ => Expr::Other(src.short(n)),
            }
        }
        "function_call_expression" => {
            let callee = field("function");
            let mut a = args(n.child_by_field_name("arguments"), cx);
            if matches!(&callee, Expr::Ident(f) if f == "in_array") && a.len() >= 2 {
                let list = a.remove(1).value;
                return member_of(a.remove(0).value, list);
            }
            call(callee, a, line)
        }
        "object_creation_expression" => {
            let class = named(n).find(|c| matches!(c.kind(), "name" | "qualified_name")).map(|c| class_ref(src.text(c), cx)).unwrap_or(Expr::Null);
            call(class, args(named(n).find(|c| c.kind() == "arguments"), cx), line)
        }
        "subscript_expression" => {
            let parts: Vec<Node> = named(n).collect();
            match parts.as_slice() {
                [o, i, ..] => Expr::Index(Box::new(expr(*o, cx)), Box::new(expr(*i, cx))),
                [o] => expr(*o, cx),
                _ => Expr::Null,
            }
        }
        "array_creation_expression" => {
            let elems: Vec<Node> = named(n).filter(|c| c.kind() == "array_element_initializer").collect();
            let keyed = elems.iter().any(|e| e.named_child_count() >= 2);
            if keyed {
                Expr::Object(
                    elems
                        .iter()
                        .filter_map(|e| {
                            let kids: Vec<Node> = named(*e).collect();
                            match kids.as_slice() {
                                [k, v] => Some(Pair { key: expr(*k, cx), value: expr(*v, cx), line: src.line(*e) }),
                                _ => None,
                            }
                        })
                        .collect(),
                )
            } else {
                Expr::Array(elems.iter().filter_map(|e| e.named_child(0)).map(|v| expr(v, cx)).collect())
            }
        }
        "binary_expression" => {
            let op = match n.child_by_field_name("operator").map(|o| src.text(o)).unwrap_or("") {
                "===" => "==".to_string(),
                "!==" | "<>" => "!=".to_string(),
                "and" => "&&".to_string(),
                "or" => "||".to_string(),
                o => o.to_ascii_lowercase(),
            };
            Expr::Binary(op, Box::new(field("left")), Box::new(field("right")))
        }
        "unary_op_expression" => {
            let op = n.child_by_field_name("operator").map(|o| src.text(o)).unwrap_or("!").to_string();
            let a = n.child_by_field_name("argument").or_else(|| n.named_child(0)).map(|c| expr(c, cx)).unwrap_or(Expr::Null);
            Expr::Unary(op, Box::new(a))
        }
        "parenthesized_expression" | "error_suppression_expression" | "cast_expression" | "clone_expression" | "argument" => {
            match named(n).filter(|c| c.kind() != "cast_type").last() {
                Some(inner) => expr(inner, cx),
                None => Expr::Null,
            }
        }
        "conditional_expression" => Expr::Cond(Box::new(field("condition")), Box::new(field("body")), Box::new(field("alternative"))),
        "assignment_expression" | "augmented_assignment_expression" => Expr::Binary("=".into(), Box::new(field("left")), Box::new(field("right"))),
        "anonymous_function" | "arrow_function" | "anonymous_function_creation_expression" => Expr::Lambda(Box::new(func(n, cx, None))),
        "throw_expression" => {
            let value = n.named_child(0).map(|c| expr(c, cx)).unwrap_or(Expr::Null);
            call(Expr::Ident("throw".into()), vec![Arg { name: None, value }], line)
        }
        _ => Expr::Other(src.short(n)),
    }
}
