//! The per-handler model: builds a [`HandlerModel`] from a parsed file's
//! [`Index`], finds the event dispatch ([`dispatch`]), asks [`effects`] what
//! each event does and [`flow`] how the handler verifies, deduplicates and
//! answers.

use std::collections::BTreeMap;

use super::dispatch;
use super::entries;
use super::effects;
use super::flow;
use super::callees::Callees;
use super::index::Index;
use super::resolve::Reach;
use super::lang::Parsed;
use super::lang::syntax::{Expr, Stmt};
use super::model::{BodyKind, EventModel, HandlerModel};

/// The model of one file.
pub fn build(parsed: &Parsed, access_fields: &[String]) -> HandlerModel {
    build_with(parsed, access_fields, None)
}

/// The model of one file whose calls into the files of `reach` are followed.
pub fn build_with(parsed: &Parsed, access_fields: &[String], reach: Option<&Reach>) -> HandlerModel {
    let mut idx = Index::new(&parsed.stmts, access_fields);
    if let Some(reach) = reach {
        idx.callees = Callees::new(reach);
    }
    let found = dispatch::discover(&parsed.stmts, &idx);
    let mut model = HandlerModel { parse_error_line: parsed.error_line, not_analysed: parsed.not_analysed.clone(), ..HandlerModel::default() };
    let late = entries::deferred_spans(&parsed.stmts, &idx);
    let map_late = entries::map_handed_off(&parsed.stmts, &found.map_vars);
    for d in &found.dispatches {
        let ev = model.events.entry(d.event.clone()).or_insert_with(|| EventModel { line: d.line, ..EventModel::default() });
        effects::walk(&idx, &d.event, &d.body, ev);
        // The dispatch itself runs in a hand-off: every write of the event is late.
        let map_entry = map_late.as_ref().filter(|_| found.map_lines.contains(&d.line));
        if let Some(how) = late.iter().find(|(s, e, _)| *s <= d.line && d.line <= *e).map(|(.., how)| how).or(map_entry) {
            ev.deferral.get_or_insert(how.clone());
            ev.deferred_writes = ev.write_count();
        }
    }
    model.unhandled = found.unhandled;
    model.verification = flow::verification(&parsed.stmts, &idx);
    if let Some(v) = model.verification.as_mut().filter(|v| v.body == BodyKind::Parsed) {
        if paddle_classic(&parsed.stmts) {
            v.body = BodyKind::FormFields;
        }
    }
    let handler = flow::handler_flow(&parsed.stmts, &idx, &found);
    model.idempotency = handler.idempotency;
    model.error_paths = handler.errors;
    model.plan_map = plan_map(&idx);
    model.secret_vars = flow::secret_vars(&idx, &parsed.stmts);
    if model.verification.is_some() {
        model.entries = entries::entries(&idx, &found.sites);
    }
    model.entry_line = found
        .sites
        .iter()
        .min()
        .copied()
        .or(model.verification.as_ref().map(|v| v.line))
        .unwrap_or(1);
    model
}

/// A Paddle Classic handler: it reads `alert_name` or `p_signature` (Paddle Billing and
/// Stripe name neither).
fn paddle_classic(stmts: &[Stmt]) -> bool {
    let mut found = false;
    super::lang::syntax::each_expr(stmts, &mut |e| {
        e.walk(&mut |x| found |= matches!(x, Expr::Str(s) | Expr::Member(_, s) if s == "alert_name" || s == "p_signature"));
    });
    found
}

/// Price id -> plan maps: object or dict literals keyed by price ids (or
/// PRICE environment variables) with plan names as values.
fn plan_map(idx: &Index) -> BTreeMap<String, (String, u32)> {
    let mut out = BTreeMap::new();
    let mut visit = |e: &Expr| {
        e.walk(&mut |x| {
            // `[("price_1Pro", "pro"), ...]`: a list of (price, plan) pairs.
            if let Expr::Array(items) = x {
                for item in items {
                    if let Expr::Array(pair) = item {
                        if let [Expr::Str(k), Expr::Str(plan)] = pair.as_slice() {
                            if k.starts_with("price_") || k.starts_with("pri_") || k.starts_with("plan_") {
                                out.insert(k.clone(), (plan.clone(), 0));
                            }
                        }
                    }
                }
                return;
            }
            let Expr::Object(pairs) = x else { return };
            for p in pairs {
                let Expr::Str(plan) = &p.value else { continue };
                let key = match &p.key {
                    Expr::Str(k) if k.starts_with("price_") || k.starts_with("pri_") || k.starts_with("plan_") => k.clone(),
                    other => match flow::env_names(other).into_iter().find(|n| n.contains("PRICE")) {
                        Some(n) => n,
                        None => continue,
                    },
                };
                out.insert(key, (plan.clone(), p.line));
            }
        });
    };
    for vals in idx.values.values() {
        for v in vals {
            visit(v);
        }
    }
    out
}
