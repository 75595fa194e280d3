//! Vocabulary of when a handler's work happens: hand-offs that run after the
//! answer (WH019) and the shapes of a write that decide whether events
//! arriving out of order are lost (WH020). Pure functions of a call.

use super::lang::syntax::{Call, Expr, squash};

/// A call that hands work to something running after the handler answers:
/// returns how, e.g. `setImmediate` or `threading.Thread`. Durable queues
/// (Sidekiq, ActiveJob, Celery, Laravel queues) are not hand-offs: the job is
/// stored before the answer.
pub fn deferral(c: &Call) -> Option<String> {
    let dotted = c.callee.dotted().unwrap_or_default();
    let last = c.callee.last_name();
    let name = squash(last);
    let root = dotted.split(['.', ':']).next().unwrap_or("").to_ascii_lowercase();
    let how = match (root.as_str(), name.as_str()) {
        // Front ends name these: Go's `go` statement, a JS promise nobody awaits.
        (_, "go") if dotted == "go" => "a goroutine (`go`)",
        (_, "void") if dotted == "void" => "an un-awaited promise",
        (_, "setimmediate" | "settimeout" | "queuemicrotask" | "nexttick") => return Some(format!("`{dotted}`")),
        // Vercel/Cloudflare `waitUntil`, Next.js `after()`: run once the response is sent.
        (_, "waituntil") => return Some(format!("`{dotted}`")),
        (_, "after") if dotted == "after" => "`after()`",
        // Python threads, asyncio tasks, Starlette background tasks, executors.
        (_, "thread") if last == "Thread" => "a thread (`threading.Thread`)",
        (_, "startnewthread") => "a thread (`_thread.start_new_thread`)",
        (_, "createtask" | "ensurefuture") => return Some(format!("an asyncio task (`{dotted}`)")),
        (_, "runinexecutor") => "an executor (`run_in_executor`)",
        (_, "addtask") => "a background task (`add_task`)",
        (r, "submit") if r.contains("executor") || r.contains("pool") => "an executor (`submit`)",
        // Ruby threads and concurrent-ruby futures.
        ("thread", "new" | "start" | "fork") => "a thread (`Thread.new`)",
        ("concurrent", "execute" | "future") => "a concurrent-ruby future",
        // Rust and Elixir tasks.
        (_, "spawn" | "spawnblocking" | "spawnlocal") => return Some(format!("a spawned task (`{dotted}`)")),
        ("task", "start" | "startchild") => "an unsupervised task (`Task.start`)",
        // Laravel: work after the response is sent.
        (_, "dispatchafterresponse" | "afterresponse" | "terminating") => return Some(format!("after the response (`{last}`)")),
        (_, "defer") if dotted == "defer" => "after the response (`defer()`)",
        _ => return None,
    };
    Some(how.to_string())
}

/// An expression that hands work off to run after the answer: `void p()`, or a
/// [`deferral`] call. Returns how, its line, and the parts that run late: the
/// call's arguments, and a call it is chained on (`dispatch(fn () => ...)->afterResponse()`).
pub fn hand_off(e: &Expr) -> Option<(String, u32, Vec<&Expr>)> {
    match e {
        Expr::Unary(op, inner) if op == "void" => match &**inner {
            Expr::Call(c) => Some(("an un-awaited promise".into(), c.line, vec![&**inner])),
            _ => None,
        },
        Expr::Call(c) if !is_sleep(c) => {
            let how = deferral(c)?;
            let mut parts: Vec<&Expr> = c.args.iter().map(|a| &a.value).collect();
            if let Expr::Member(o, _) = &c.callee
                && matches!(&**o, Expr::Call(_))
            {
                parts.push(o);
            }
            Some((how, c.line, parts))
        }
        _ => None,
    }
}

/// An in-memory hand-off of the event itself: an EventEmitter, a channel send,
/// an asyncio queue. The work happens elsewhere in the process, after the answer.
pub fn in_memory_handoff(c: &Call) -> Option<String> {
    let dotted = c.callee.dotted().unwrap_or_default();
    if dotted == "<-" {
        // Front ends name a Go channel send `<-`.
        return Some("a channel send".into());
    }
    match squash(c.callee.last_name()).as_str() {
        "emit" => Some(format!("an in-process event (`{dotted}`)")),
        "putnowait" => Some(format!("an in-memory queue (`{dotted}`)")),
        _ => None,
    }
}

/// What a database write does to a row that does not exist yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WriteShape {
    /// Creates it or updates it: order of arrival does not matter.
    Upsert,
    /// Changes it only if it exists: an event before the row's creation is lost.
    UpdateOnly,
    /// Creates it.
    Insert,
}

/// The shape of a database write call (already known to be a write).
pub fn write_shape(c: &Call) -> Option<WriteShape> {
    let name = squash(c.callee.last_name());
    let sql: Vec<String> = c.args.iter().flat_map(|a| a.value.strings()).map(|s| s.to_ascii_uppercase()).collect();
    if sql.iter().any(|s| s.contains("ON CONFLICT") || s.contains("ON DUPLICATE KEY") || s.contains("MERGE INTO") || s.contains("INSERT OR REPLACE") || s.contains("REPLACE INTO")) {
        return Some(WriteShape::Upsert);
    }
    // Ecto `Repo.insert(cs, on_conflict: ...)`, GORM `.Clauses(clause.OnConflict{...})`.
    if c.args.iter().any(|a| a.name.as_deref().is_some_and(|n| n.starts_with("on_conflict") || n == "conflict_target")) || on_conflict_clause(&c.callee) {
        return Some(WriteShape::Upsert);
    }
    if name.contains("upsert") || ["updateorcreate", "firstorcreate", "getorcreate", "findorcreate", "createorupdate", "insertorupdate", "updateorinsert", "createorfirst", "findoneandupdate", "findbyidandupdate", "merge", "replace"].contains(&name.as_str()) {
        // Mongoose `findOneAndUpdate` creates only with `{ upsert: true }`.
        if name.starts_with("find") && !has_upsert_option(c) {
            return Some(WriteShape::UpdateOnly);
        }
        return Some(WriteShape::Upsert);
    }
    if sql.iter().any(|s| s.trim_start().starts_with("UPDATE ")) {
        return Some(WriteShape::UpdateOnly);
    }
    if sql.iter().any(|s| s.contains("INSERT INTO")) {
        return Some(WriteShape::Insert);
    }
    match name.as_str() {
        "update" | "updatemany" | "updateone" | "updateall" | "updates" | "updatecolumn" | "updatecolumns" | "updateattribute" | "updateattributes" => {
            if has_upsert_option(c) { Some(WriteShape::Upsert) } else { Some(WriteShape::UpdateOnly) }
        }
        "insert" | "create" | "createmany" | "insertall" | "insertone" | "insertmany" | "bulkcreate" => Some(WriteShape::Insert),
        _ => None,
    }
}

/// The table or model a write targets, lowercase and singular: the SQL table,
/// the `from('subscriptions')` / `Table("subscriptions")` argument, else the
/// receiver before the method (`prisma.subscription`, `Subscription.objects`).
pub fn write_target(c: &Call) -> String {
    let singular = |t: &str| {
        let t = squash(t.trim_matches(|ch: char| ch == '"' || ch == '`' || ch == '\''));
        t.strip_suffix('s').map(str::to_string).unwrap_or(t)
    };
    for s in c.args.iter().flat_map(|a| a.value.strings()) {
        let u = s.to_ascii_uppercase();
        for kw in ["INSERT INTO ", "UPDATE ", "MERGE INTO ", "REPLACE INTO "] {
            if let Some(i) = u.find(kw) {
                if let Some(table) = s[i + kw.len()..].split_whitespace().next() {
                    return singular(table.rsplit('.').next().unwrap_or(table));
                }
            }
        }
    }
    let mut found: Option<String> = None;
    c.callee.walk(&mut |x| {
        if let Expr::Call(inner) = x {
            if found.is_none() && matches!(squash(inner.callee.last_name()).as_str(), "from" | "table" | "model" | "into") {
                if let Some(Expr::Str(t)) = inner.args.first().map(|a| &a.value) {
                    found = Some(t.clone());
                }
            }
        }
    });
    if let Some(t) = found {
        return singular(&t);
    }
    // The nearest plain name before the method, skipping ORM plumbing.
    let mut names: Vec<String> = Vec::new();
    let mut e = &c.callee;
    loop {
        match e {
            Expr::Member(o, m) => {
                names.push(m.clone());
                e = o;
            }
            Expr::Call(inner) => e = &inner.callee,
            Expr::Ident(n) => {
                names.push(n.clone());
                break;
            }
            _ => break,
        }
    }
    names
        .iter()
        .skip(1)
        .find(|n| !matches!(squash(n).as_str(), "objects" | "where" | "filter" | "query" | "db" | "prisma" | "self" | "this" | "repo" | "model" | "find" | "findby" | "get"))
        .map(|n| singular(n))
        .unwrap_or_default()
}

/// `{ upsert: true }` among the arguments (MongoDB, Mongoose).
fn has_upsert_option(c: &Call) -> bool {
    let mut found = false;
    for a in &c.args {
        a.value.walk(&mut |x| {
            if let Expr::Object(pairs) = x {
                found |= pairs.iter().any(|p| matches!(&p.key, Expr::Str(k) | Expr::Ident(k) if k == "upsert") && matches!(p.value, Expr::Bool(true)));
            }
        });
    }
    found
}

/// A GORM chain with `Clauses(clause.OnConflict{...})` before the write.
fn on_conflict_clause(callee: &Expr) -> bool {
    let mut found = false;
    callee.walk(&mut |x| {
        if let Expr::Call(inner) = x {
            found |= squash(inner.callee.last_name()) == "clauses" && inner.args.iter().any(|a| a.value.render().contains("OnConflict"));
        }
    });
    found
}

/// A pause on the event's path: `time.sleep`, `time.Sleep`, `sleep()`,
/// `Process.sleep`, `tokio::time::sleep`, `setTimeout(resolve, ms)`.
pub fn is_sleep(c: &Call) -> bool {
    let name = squash(c.callee.last_name());
    match name.as_str() {
        "sleep" | "usleep" | "sleepfor" => true,
        "settimeout" => matches!(c.args.first().map(|a| &a.value), Some(Expr::Ident(r)) if r.starts_with("res") || r == "r"),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::webhook::lang::syntax::Arg;

    fn call(callee: &str, args: Vec<Expr>) -> Call {
        let mut e: Option<Expr> = None;
        for part in callee.split('.') {
            e = Some(match e {
                None => Expr::Ident(part.to_string()),
                Some(o) => Expr::Member(Box::new(o), part.to_string()),
            });
        }
        Call { callee: e.unwrap(), args: args.into_iter().map(|value| Arg { name: None, value }).collect(), line: 1 }
    }

    #[test]
    fn hand_offs_after_the_answer_are_named_and_durable_queues_are_not() {
        for (callee, how) in [
            ("setImmediate", "`setImmediate`"),
            ("threading.Thread", "a thread (`threading.Thread`)"),
            ("asyncio.create_task", "an asyncio task (`asyncio.create_task`)"),
            ("background_tasks.add_task", "a background task (`add_task`)"),
            ("Thread.new", "a thread (`Thread.new`)"),
            ("tokio.spawn", "a spawned task (`tokio.spawn`)"),
            ("Task.start", "an unsupervised task (`Task.start`)"),
            ("ctx.waitUntil", "`ctx.waitUntil`"),
        ] {
            assert_eq!(deferral(&call(callee, vec![])).as_deref(), Some(how), "{callee}");
        }
        for durable in ["ProcessEventJob.perform_later", "process_event.delay", "Queue.push", "dispatch", "user.save", "after_commit"] {
            assert_eq!(deferral(&call(durable, vec![])), None, "{durable}");
        }
    }

    #[test]
    fn write_shapes_tell_upserts_from_updates() {
        assert_eq!(write_shape(&call("prisma.subscription.upsert", vec![])), Some(WriteShape::Upsert));
        assert_eq!(write_shape(&call("Subscription.update_or_create", vec![])), Some(WriteShape::Upsert));
        assert_eq!(write_shape(&call("prisma.subscription.update", vec![])), Some(WriteShape::UpdateOnly));
        assert_eq!(write_shape(&call("db.query", vec![Expr::Str("INSERT INTO subs (id) VALUES ($1) ON CONFLICT (id) DO UPDATE SET status = $2".into())])), Some(WriteShape::Upsert));
        assert_eq!(write_shape(&call("db.query", vec![Expr::Str("UPDATE subs SET status = $1 WHERE id = $2".into())])), Some(WriteShape::UpdateOnly));
        assert_eq!(write_shape(&call("Sub.findOneAndUpdate", vec![])), Some(WriteShape::UpdateOnly));
        let upsert_opt = Expr::Object(vec![crate::webhook::lang::syntax::Pair { key: Expr::Ident("upsert".into()), value: Expr::Bool(true), line: 1 }]);
        assert_eq!(write_shape(&call("Sub.findOneAndUpdate", vec![upsert_opt])), Some(WriteShape::Upsert));
        assert_eq!(write_shape(&call("user.save", vec![])), None);
    }

    #[test]
    fn write_targets_name_the_table_or_model() {
        assert_eq!(write_target(&call("prisma.subscription.upsert", vec![])), "subscription");
        assert_eq!(write_target(&call("Subscription.objects.update_or_create", vec![])), "subscription");
        assert_eq!(write_target(&call("db.query", vec![Expr::Str("UPDATE public.subscriptions SET status = $1".into())])), "subscription");
        let from = Call { callee: Expr::Member(Box::new(Expr::Call(Box::new(call("supabase.from", vec![Expr::Str("subscriptions".into())])))), "upsert".into()), args: vec![], line: 1 };
        assert_eq!(write_target(&from), "subscription");
    }

    #[test]
    fn sleeps_are_recognised_and_timers_with_work_are_not_sleeps() {
        assert!(is_sleep(&call("time.Sleep", vec![])));
        assert!(is_sleep(&call("asyncio.sleep", vec![])));
        assert!(is_sleep(&call("setTimeout", vec![Expr::Ident("resolve".into()), Expr::Num("2000".into())])));
        assert!(!is_sleep(&call("setTimeout", vec![Expr::Ident("process".into())])));
        assert!(!is_sleep(&call("sleepy_user.update", vec![])));
    }
}
