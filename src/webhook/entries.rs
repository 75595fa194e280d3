//! The entry points of a handler file that lead to its event dispatch (two
//! routes, a view per account, an HTTP handler per provider), and whether each
//! verifies on its own path. A file-wide search finds verification when one
//! route has it; WH021 needs to know which routes do not.

use std::collections::{BTreeMap, BTreeSet};

use super::flow;
use super::index::Index;
use super::lang::syntax::{Expr, Func, Stmt, each_call, each_expr};
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
        .filter(|(f, ..)| f.name.is_empty() || !idx.called.contains(f.name.as_str()))
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
/// `threading.Thread(target=...)` or called inside a hand-off. A dispatch inside
/// one runs every event's writes late (WH019).
pub fn deferred_spans(stmts: &[Stmt], idx: &Index) -> Vec<(u32, u32, Deferral)> {
    let mut out = Vec::new();
    let span = |f: &Func| (f.line, last_line(&f.body).max(f.line));
    each_expr(stmts, &mut |e| {
        e.walk(&mut |x| {
            let Some((how, line, parts)) = timing::hand_off(x) else { return };
            for p in parts {
                let f = match p {
                    Expr::Lambda(f) => Some(&**f),
                    Expr::Call(inner) => match &inner.callee {
                        Expr::Lambda(f) => Some(&**f),
                        callee => idx.funcs.get(callee.last_name()).copied(),
                    },
                    Expr::Ident(n) => idx.funcs.get(n.as_str()).copied(),
                    _ => None,
                };
                if let Some(f) = f {
                    let (s, e) = span(f);
                    out.push((s, e, Deferral { how: how.clone(), line }));
                }
            }
        })
    });
    out
}

/// The verifying call on `f`'s own path: in its body or a function of the file it calls.
fn verified_on_path(idx: &Index, f: &Func) -> Option<String> {
    let mut frontier = vec![f];
    let mut seen: BTreeSet<*const Func> = BTreeSet::new();
    for _ in 0..=MAX_HOPS {
        let mut next = Vec::new();
        for g in frontier {
            if !seen.insert(g as *const Func) {
                continue;
            }
            if let Some(v) = flow::verification(&g.body, idx) {
                return Some(v.call);
            }
            for name in called_names(&g.body) {
                if let Some(h) = idx.funcs.get(name.as_str()) {
                    next.push(*h);
                }
            }
        }
        frontier = next;
    }
    None
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

/// The last line a block's statements reach.
fn last_line(stmts: &[Stmt]) -> u32 {
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
