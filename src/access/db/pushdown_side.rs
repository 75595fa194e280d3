//! Side connections for the pushed-down pass: the pass is split into parts by customer
//! (see [`super::pushdown_sql::main`]), and each part runs on its own connection, all in
//! one snapshot exported by the first. Postgres's own parallel plan for a single grouping
//! merges every worker's groups in one process; parts on connections of their own never
//! merge, and the database runs them on as many cores as the parts.
//!
//! Each side connection is read-only as the first is: a READ ONLY transaction with the
//! same statement timeout, in REPEATABLE READ on the exported snapshot, so every part sees
//! the same rows.

use sqlx::{AssertSqlSafe, Connection};

use super::errors::Target;

/// How many parts the pass is split into: `max_parallel_workers_per_gather` (the processes
/// the database's owner lets one statement add for itself), at least one, at most eight.
pub async fn parts(conn: &mut sqlx::PgConnection) -> u32 {
    let workers: Option<String> = sqlx::query_scalar("SELECT current_setting('max_parallel_workers_per_gather')").fetch_one(&mut *conn).await.ok();
    workers.and_then(|w| w.trim().parse::<u32>().ok()).unwrap_or(1).clamp(1, 8)
}

/// Exports the snapshot of `first`, which must be in a REPEATABLE READ transaction that has
/// read nothing yet. A refusal (a server or pooler that does not allow it) aborts that
/// transaction, and no savepoint can guard it (Postgres does not export from one): the
/// caller then starts a new transaction and runs the parts on `first` alone.
pub async fn export(first: &mut sqlx::PgConnection) -> Option<String> {
    let snapshot = sqlx::query_scalar::<_, String>("SELECT pg_export_snapshot()").fetch_one(&mut *first).await.ok()?;
    // The id is the server's; it goes into a statement only if it is the shape Postgres gives.
    (!snapshot.is_empty() && snapshot.len() <= 64 && snapshot.chars().all(|c| c.is_ascii_hexdigit() || c == '-')).then_some(snapshot)
}

/// Up to `wanted` connections in `snapshot`; fewer if the server refuses more (no free
/// connection slot): the parts then share the connections there are.
pub async fn open(url: &str, url_env: &str, timeout: u64, snapshot: &str, wanted: u32) -> Vec<sqlx::PgConnection> {
    let mut out = Vec::new();
    for _ in 0..wanted {
        match join(url, url_env, timeout, snapshot).await {
            Some(conn) => out.push(conn),
            None => break,
        }
    }
    out
}

async fn join(url: &str, url_env: &str, timeout: u64, snapshot: &str) -> Option<sqlx::PgConnection> {
    let (mut conn, _): (sqlx::PgConnection, Target) = super::postgres_read_only(url, url_env, timeout).await.ok()?;
    for stmt in ["SET TRANSACTION ISOLATION LEVEL REPEATABLE READ".to_string(), format!("SET TRANSACTION SNAPSHOT '{snapshot}'")] {
        if sqlx::raw_sql(AssertSqlSafe(stmt)).execute(&mut conn).await.is_err() {
            let _ = conn.close().await;
            return None;
        }
    }
    Some(conn)
}

/// Ends the side transactions (they only read) and closes the connections.
pub async fn close(conns: Vec<sqlx::PgConnection>) {
    for mut conn in conns {
        let _ = sqlx::raw_sql("ROLLBACK").execute(&mut conn).await;
        let _ = conn.close().await;
    }
}
