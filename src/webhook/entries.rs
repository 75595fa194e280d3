//! The entry points of a handler file that lead to its event dispatch (two
//! routes, a view per account, an HTTP handler per provider), and whether each
//! verifies on its own path. A file-wide search finds verification when one
//! route has it; WH021 needs to know which routes do not.

use std::collections::{BTreeMap, BTreeSet};

use super::flow;
use super::index::Index;
use super::lang::syntax::{Call, Expr, Func, Stmt, each_assign, each_call, each_expr, last_line};
use super::model::{Deferral, Entry};
use super::timing;

/// How deep calls between the file's own functions are followed.
const MAX_HOPS: usize = 4;

/// The entries, when there are at least two; empty otherwise (one entry is
/// the whole file, which the file-wide verification already describes).
pub fn entries(idx: &Index, sites: &BTreeSet<u32>) -> Vec<Entry> {
    let funcs: Vec<(&Func, u32, u32)> = idx.all.iter().map(|f| (*f, f.line, last_line(&f.body).max(f.line))).collect();
    let innermost = |line: u32| funcs.iter().filter(|(_, s, e)| *s <= line && line <= *e).min_by_key(|(_, s, e)| e - s).map(|(f, ..)| *f);
    let dispatchers: Vec<&Func> = sites.iter().filter_map(|l| innermost(*l)).collect();
    if dispatchers.is_empty() {
        return Vec::new();
    }
    let calls: BTreeMap<*const Func, BTreeSet<String>> = funcs.iter().map(|(f, ..)| (*f as *const Func, called_names(&f.body))).collect();
    let reaches = |f: &Func| -> bool {
        let mut frontier = vec![f];
        let mut seen: BTreeSet<*const Func> = BTreeSet::new();
        for _ in 0..=MAX_HOPS {
            let mut next = Vec::new();
            for g in frontier {
                if dispatchers.iter().any(|d| std::ptr::eq(*d, g)) {
                    return true;
                }
                if !seen.insert(g as *const Func) {
                    continue;
                }
                for name in &calls[&(g as *const Func)] {
                    if let Some(h) = idx.funcs.get(name.as_str()) {
                        next.push(*h);
                    }
                }
            }
            frontier = next;
        }
        false
    };
    let candidates: Vec<&(&Func, u32, u32)> = funcs
        .iter()
        .filter(|(f, ..)| !called_locally(idx, f))
        .filter(|(f, ..)| reaches(f))
        .collect();
    // The outermost of them: a lambda inside a route belongs to the route.
    let outer: Vec<&(&Func, u32, u32)> = candidates
        .iter()
        .filter(|(f, s, e)| !candidates.iter().any(|(g, s2, e2)| !std::ptr::eq(*f, *g) && s2 <= s && e <= e2 && (s2, e2) != (s, e)))
        .copied()
        .collect();
    if outer.len() < 2 {
        return Vec::new();
    }
    outer
        .iter()
        .map(|(f, s, _)| Entry {
            name: if f.name.is_empty() { format!("route at line {s}") } else { f.name.clone() },
            line: *s,
            verified_by: verified_on_path(idx, f),
        })
        .collect()
}

/// Line spans of code handed off to run after the answer: the lambda given to
/// `setImmediate`, the body of `go func() {...}()`, the local function given to
/// `threading.Thread(target=...)` or called inside a hand-off, and the file's
/// functions those call in turn (`Task.start(fn -> dispatch(event) end)`). A
/// dispatch inside one runs every event's writes late (WH019).
pub fn deferred_spans(stmts: &[Stmt], idx: &Index) -> Vec<(u32, u32, Deferral)> {
    let mut out = Vec::new();
    let span = |f: &Func| (f.line, last_line(&f.body).max(f.line));
    each_expr(stmts, &mut |e| {
        e.walk(&mut |x| {
            let Some((how, line, parts)) = timing::hand_off(x) else { return };
            let mut late: Vec<&Func> = Vec::new();
            for p in parts {
                let f = match p {
                    Expr::Lambda(f) => Some(&**f),
                    Expr::Call(inner) => match &promise_origin(inner).callee {
                        Expr::Lambda(f) => Some(&**f),
                        callee => idx.funcs.get(callee.last_name()).copied(),
                    },
                    Expr::Ident(n) => idx.funcs.get(n.as_str()).copied(),
                    _ => None,
                };
                late.extend(f);
            }
            for f in reached_locally(idx, late) {
                let (s, e) = span(f);
                out.push((s, e, Deferral { how: how.clone(), line }));
            }
        })
    });
    out
}

/// Whether the file's own code calls `f`, by its name or by the name it is bound
/// to (`const processAlert = async (req) => {...}` is called as `processAlert(req)`).
fn called_locally(idx: &Index, f: &Func) -> bool {
    if !f.name.is_empty() {
        return idx.called.contains(f.name.as_str());
    }
    idx.funcs.iter().any(|(name, g)| std::ptr::eq(*g, f) && idx.called.contains(*name))
}

/// The call a promise chain starts from: `processAlert(req)` in
/// `processAlert(req).then(log).catch(report)`.
fn promise_origin(c: &Call) -> &Call {
    match &c.callee {
        Expr::Member(o, m) if matches!(m.as_str(), "then" | "catch" | "finally") => match &**o {
            Expr::Call(inner) => promise_origin(inner),
            _ => c,
        },
        _ => c,
    }
}

/// `from` and the file's functions they call, transitively (bounded).
fn reached_locally<'a>(idx: &Index<'a>, from: Vec<&'a Func>) -> Vec<&'a Func> {
    let mut seen: BTreeSet<*const Func> = BTreeSet::new();
    let mut out = Vec::new();
    let mut frontier = from;
    for _ in 0..=MAX_HOPS {
        let mut next = Vec::new();
        for f in frontier {
            if !seen.insert(f as *const Func) {
                continue;
            }
            out.push(f);
            next.extend(called_names(&f.body).iter().filter_map(|n| idx.funcs.get(n.as_str()).copied()));
        }
        frontier = next;
    }
    out
}

/// A handler map's lookup handed off to run after the answer:
/// `background.add_task(run_handler, handler, db, obj)` where `handler =
/// HANDLERS.get(event["type"])`, or `setImmediate(() => handlers[event.type](event))`.
/// Every event the map dispatches is then handled late (WH019).
pub fn map_handed_off(stmts: &[Stmt], map_vars: &BTreeSet<String>) -> Option<Deferral> {
    if map_vars.is_empty() {
        return None;
    }
    // Locals holding what a map lookup returned.
    let mut holders: BTreeSet<String> = map_vars.clone();
    each_assign(stmts, &mut |target, value| {
        if let Expr::Ident(n) = target {
            if map_vars.iter().any(|m| value.mentions(m)) {
                holders.insert(n.clone());
            }
        }
    });
    let mut found = None;
    each_expr(stmts, &mut |e| {
        e.walk(&mut |x| {
            let Some((how, line, parts)) = timing::hand_off(x) else { return };
            let holds = |p: &Expr| match p {
                Expr::Lambda(f) => {
                    let mut hit = false;
                    each_expr(&f.body, &mut |b| hit |= holders.iter().any(|h| b.mentions(h)));
                    hit
                }
                other => holders.iter().any(|h| other.mentions(h)),
            };
            if found.is_none() && parts.into_iter().any(holds) {
                found = Some(Deferral { how, line });
            }
        })
    });
    found
}

/// The verifying call on `f`'s own path: in its body or a function of the file it calls.
fn verified_on_path(idx: &Index, f: &Func) -> Option<String> {
    reached_locally(idx, vec![f]).into_iter().find_map(|g| flow::verification(&g.body, idx).map(|v| v.call))
}

/// Names of the functions a body calls (the last segment: `self.handle` is `handle`).
fn called_names(stmts: &[Stmt]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    each_call(stmts, &mut |c| {
        out.insert(c.callee.last_name().to_string());
        // `add_task(process, event)`, `router.post('/x', handler)`: functions passed along.
        for a in &c.args {
            if let Expr::Ident(n) = &a.value {
                out.insert(n.clone());
            }
        }
    });
    out
}
