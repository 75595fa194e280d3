//! Reads the app's users from Postgres, MySQL or SQLite through sqlx.
//!
//! Read-only by construction: Postgres and MySQL read inside a READ ONLY
//! transaction with a statement timeout, SQLite is opened read-only. The URL
//! comes only from the environment variable `[database] url_env` names and is
//! registered as a secret, so it never reaches output; host, port and
//! database name may appear, user and password never.
//!
//! Rows are streamed: each becomes a compact [`UserRow`] as it arrives.

pub mod billing_table;
pub mod errors;
pub mod guard;
pub mod pushdown;
pub mod pushdown_sql;
mod pushdown_pass;
mod pushdown_side;
pub mod sql;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use futures_util::TryStreamExt;
use sqlx::{AssertSqlSafe, Column, SqlSafeStr, Statement, ColumnIndex, Connection, Database, Decode, Executor, Row, Type, ValueRef};

use super::model::{Observations, UserRow};
use crate::config::{DatabaseConfig, closest};
use crate::error::CheckError;
use crate::secrets;
use errors::Target;
use sql::Dialect;

const CONNECT_TIMEOUT_SECS: u64 = 10;

/// What was read, for the report's scope and notes.
#[derive(Debug, Clone)]
pub struct UsersRead {
    /// e.g. "postgres:127.0.0.1:5432/app (table users)".
    pub source: String,
    pub rows: usize,
}

/// Reads users as `[database]` says. `repo` anchors relative SQLite paths.
pub async fn read_users(cfg: &DatabaseConfig, repo: &Path, obs: &mut Observations) -> Result<UsersRead, CheckError> {
    let url = users_url(cfg)?;
    let scheme = url.split(':').next().unwrap_or("").to_ascii_lowercase();
    match scheme.as_str() {
        "postgres" | "postgresql" => postgres(&url, cfg, obs).await,
        "mysql" | "mariadb" => mysql(&url, cfg, obs).await,
        "sqlite" => sqlite(&url, cfg, repo, obs).await,
        _ => Err(CheckError::Usage(format!(
            "{} must be a postgres://, mysql:// or sqlite:// URL; it starts with `{}:`",
            cfg.url_env,
            secrets::redact(&scheme)
        ))),
    }
}

/// A statement timeout of 0 means "no limit" to Postgres; billguard refuses it so that no
/// configuration can make a check run forever. `section` names the table it was read from.
pub(super) fn positive_timeout(section: &str, secs: u64) -> Result<(), CheckError> {
    if secs == 0 {
        return Err(CheckError::Usage(format!(
            "{section} statement_timeout_secs = 0 would let a query run without limit; give a positive number of seconds (default 60)"
        )));
    }
    Ok(())
}

/// The users' URL, once the configuration is checked: a positive timeout, a custom query
/// that is one SELECT calling nothing that reaches past the transaction. The URL is
/// registered as a secret.
pub(super) fn users_url(cfg: &DatabaseConfig) -> Result<String, CheckError> {
    positive_timeout("[database]", cfg.statement_timeout_secs)?;
    if let Some(call) = cfg.query.as_deref().and_then(guard::refused_call) {
        return Err(CheckError::Usage(format!(
            "[database] query calls {call}, which can open another connection, run SQL given as text, read the server's files or load code \
             (a read-only transaction does not stop that); billguard refuses such queries: select from the tables directly"
        )));
    }
    let url = std::env::var(&cfg.url_env).ok().filter(|u| !u.trim().is_empty()).ok_or_else(|| {
        CheckError::Usage(format!(
            "no users to compare: the environment variable {} ([database] url_env) is not set, and no fixtures db/users.json was given. \
             Export {} with a postgres://, mysql:// or sqlite:// URL, or pass a fixtures directory holding db/users.json",
            cfg.url_env, cfg.url_env
        ))
    })?;
    secrets::register_secret(&url);
    if let Some(query) = &cfg.query {
        sql::validate_custom_query(query).map_err(CheckError::Usage)?;
    }
    Ok(url)
}

/// A Postgres connection inside a READ ONLY transaction whose statements time out
/// after `timeout_secs`: the app's users and a synced billing table are read alike.
pub(super) async fn postgres_read_only(url: &str, url_env: &str, timeout_secs: u64) -> Result<(sqlx::PgConnection, Target), CheckError> {
    use sqlx::postgres::{PgConnectOptions, PgConnection};
    let opts = PgConnectOptions::from_str(url).map_err(|e| bad_url(url_env, &e))?;
    register_password(url);
    let target = Target {
        dialect: Dialect::Postgres,
        place: format!("{}:{}", opts.get_host(), opts.get_port()),
        database: opts.get_database().map(str::to_string),
        url_env: url_env.to_string(),
    };
    let mut conn = connect(&target, PgConnection::connect_with(&opts)).await?;
    begin_read_only(&mut conn, &target, timeout_secs).await?;
    Ok((conn, target))
}

/// Starts the READ ONLY transaction every Postgres read runs in, with its statement timeout.
pub(super) async fn begin_read_only(conn: &mut sqlx::PgConnection, target: &Target, timeout_secs: u64) -> Result<(), CheckError> {
    let setup = ["BEGIN READ ONLY".to_string(), format!("SET LOCAL statement_timeout = {}", timeout_secs.saturating_mul(1000))];
    for stmt in setup {
        sqlx::raw_sql(AssertSqlSafe(stmt)).execute(&mut *conn).await.map_err(|e| errors::query_error(target, &e, timeout_secs))?;
    }
    Ok(())
}

async fn postgres(url: &str, cfg: &DatabaseConfig, obs: &mut Observations) -> Result<UsersRead, CheckError> {
    let (mut conn, target) = postgres_read_only(url, &cfg.url_env, cfg.statement_timeout_secs).await?;
    if let Some(note) = writable_role_note(&mut conn, cfg, target.database.as_deref()).await {
        obs.notes.push(note);
    }
    let read = read_with::<sqlx::Postgres>(&mut conn, &target, cfg, &POSTGRES_CATALOG, obs).await;
    let _ = sqlx::raw_sql("ROLLBACK").execute(&mut conn).await;
    let _ = conn.close().await;
    read
}

const POSTGRES_CATALOG: Catalog = Catalog {
    columns_sql: "SELECT column_name::text FROM information_schema.columns \
                  WHERE table_name = $1 AND table_schema = COALESCE($2, current_schema()) ORDER BY ordinal_position",
    tables_sql: "SELECT table_name::text FROM information_schema.tables \
                 WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY table_name",
};

/// The users' SELECT, checked against the Postgres catalog as a read checks it
/// (notes on a writable role or a missing plan column go to `obs`).
pub(super) async fn postgres_users_select(conn: &mut sqlx::PgConnection, target: &Target, cfg: &DatabaseConfig, obs: &mut Observations) -> Result<UsersSelect, CheckError> {
    if let Some(note) = writable_role_note(conn, cfg, target.database.as_deref()).await {
        obs.notes.push(note);
    }
    users_select::<sqlx::Postgres>(conn, target, cfg, &POSTGRES_CATALOG, obs).await
}

/// The SELECT that yields id, customer_id, access (and plan when `with_plan`).
pub(super) struct UsersSelect {
    pub sql: String,
    pub with_plan: bool,
    /// "table users" or "custom query", for the report's source.
    pub what: String,
}

/// When the role billguard connects as may write the users table: a note that
/// says so and how to make a read-only role (no names or passwords in it).
async fn writable_role_note(conn: &mut sqlx::PgConnection, cfg: &DatabaseConfig, database: Option<&str>) -> Option<String> {
    // A savepoint keeps the transaction usable when the name is not a table (the read says so later).
    sqlx::raw_sql("SAVEPOINT billguard_privileges").execute(&mut *conn).await.ok()?;
    let writable: Result<bool, _> = sqlx::query_scalar(
        "SELECT COALESCE(has_table_privilege(current_user, to_regclass($1), 'INSERT, UPDATE, DELETE, TRUNCATE'), false)",
    )
    .bind(&cfg.table)
    .fetch_one(&mut *conn)
    .await;
    let undo = if writable.is_ok() { "RELEASE SAVEPOINT billguard_privileges" } else { "ROLLBACK TO SAVEPOINT billguard_privileges" };
    sqlx::raw_sql(undo).execute(&mut *conn).await.ok()?;
    let writable = writable.ok()?;
    writable.then(|| {
        format!(
            "the database role in {} may write to {}: billguard only reads, inside a READ ONLY transaction, but a role that cannot \
             write is the safer setup for a URL kept in CI. As the table's owner: CREATE ROLE billguard_ro LOGIN; \
             GRANT CONNECT ON DATABASE {} TO billguard_ro; GRANT USAGE ON SCHEMA public TO billguard_ro; GRANT SELECT ON {} TO billguard_ro; \
             then set its password and put its URL in {}",
            cfg.url_env,
            cfg.table,
            database.unwrap_or("<database>"),
            cfg.table,
            cfg.url_env
        )
    })
}

async fn mysql(url: &str, cfg: &DatabaseConfig, obs: &mut Observations) -> Result<UsersRead, CheckError> {
    use sqlx::mysql::{MySqlConnectOptions, MySqlConnection};
    let opts = MySqlConnectOptions::from_str(url).map_err(|e| bad_url(&cfg.url_env, &e))?;
    register_password(url);
    let target = Target {
        dialect: Dialect::MySql,
        place: format!("{}:{}", opts.get_host(), opts.get_port()),
        database: opts.get_database().map(str::to_string),
        url_env: cfg.url_env.clone(),
    };
    let mut conn = connect(&target, MySqlConnection::connect_with(&opts)).await?;
    // MySQL names the limit max_execution_time (ms), MariaDB max_statement_time (s):
    // set whichever exists; the other statement fails harmlessly.
    let secs = cfg.statement_timeout_secs;
    let _ = sqlx::raw_sql(AssertSqlSafe(format!("SET SESSION max_execution_time = {}", secs * 1000))).execute(&mut conn).await;
    let _ = sqlx::raw_sql(AssertSqlSafe(format!("SET SESSION max_statement_time = {secs}"))).execute(&mut conn).await;
    sqlx::raw_sql("START TRANSACTION READ ONLY").execute(&mut conn).await.map_err(|e| errors::query_error(&target, &e, secs))?;
    let catalog = Catalog {
        columns_sql: "SELECT CAST(column_name AS CHAR) FROM information_schema.columns \
                      WHERE table_name = ? AND table_schema = COALESCE(?, DATABASE()) ORDER BY ordinal_position",
        tables_sql: "SELECT CAST(table_name AS CHAR) FROM information_schema.tables WHERE table_schema = DATABASE() ORDER BY table_name",
    };
    let read = read_with::<sqlx::MySql>(&mut conn, &target, cfg, &catalog, obs).await;
    let _ = sqlx::raw_sql("ROLLBACK").execute(&mut conn).await;
    let _ = conn.close().await;
    read
}

async fn sqlite(url: &str, cfg: &DatabaseConfig, repo: &Path, obs: &mut Observations) -> Result<UsersRead, CheckError> {
    let (mut conn, target) = open_sqlite(url, cfg, repo).await?;
    // SQLite has no statement timeout: a progress handler ends the statement at the
    // deadline, or as soon as this read is dropped (a cancelled tool call), since the
    // statement runs on sqlx's worker thread and would otherwise go on.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let _stop_on_drop = StopOnDrop(stop.clone());
    let deadline = std::time::Instant::now() + Duration::from_secs(cfg.statement_timeout_secs);
    match conn.lock_handle().await {
        Ok(mut handle) => {
            let stop = stop.clone();
            handle.set_progress_handler(10_000, move || !stop.load(std::sync::atomic::Ordering::Relaxed) && std::time::Instant::now() < deadline);
        }
        Err(e) => return Err(errors::query_error(&target, &e, cfg.statement_timeout_secs)),
    }
    let catalog = Catalog {
        columns_sql: "SELECT name FROM pragma_table_info(?1) WHERE ?2 IS NULL OR ?2 = 'main'",
        tables_sql: "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%' ORDER BY name",
    };
    let read = read_with::<sqlx::Sqlite>(&mut conn, &target, cfg, &catalog, obs).await;
    let _ = conn.close().await;
    read
}

/// Sets its flag when dropped: a dropped read stops its SQLite statement.
struct StopOnDrop(std::sync::Arc<std::sync::atomic::AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Opens the SQLite file read-only, without creating files next to it: a
/// database whose `-wal` and `-shm` files are absent (everything checkpointed)
/// is opened immutable, since a read-only connection to a WAL-mode database
/// would otherwise create them; when they exist, a writer is active and they
/// are used as they are (immutable would miss what is still in the WAL).
async fn open_sqlite(url: &str, cfg: &DatabaseConfig, repo: &Path) -> Result<(sqlx::SqliteConnection, Target), CheckError> {
    use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
    let opts = SqliteConnectOptions::from_str(url).map_err(|e| bad_url(&cfg.url_env, &e))?;
    // A relative file is relative to the repo, not to wherever the server was started.
    let file = opts.get_filename().to_path_buf();
    let file = if file.is_relative() { repo.join(file) } else { file };
    let target = Target { dialect: Dialect::Sqlite, place: file.display().to_string(), database: None, url_env: cfg.url_env.clone() };
    if !file.is_file() {
        return Err(CheckError::Database(format!(
            "{} does not exist: check the path in {} (relative paths resolve against the repo root)",
            target.describe(),
            cfg.url_env
        )));
    }
    let side = |suffix: &str| {
        let mut name = file.clone().into_os_string();
        name.push(suffix);
        std::path::PathBuf::from(name).exists()
    };
    let immutable = !side("-wal") && !side("-shm");
    let opts = opts.filename(&file).read_only(true).create_if_missing(false).immutable(immutable);
    let conn = connect(&target, SqliteConnection::connect_with(&opts)).await?;
    Ok((conn, target))
}

fn bad_url(url_env: &str, e: &sqlx::Error) -> CheckError {
    CheckError::Usage(secrets::redact(&format!("{url_env} is not a usable database URL: {e}")))
}

/// The password inside a URL has no recognisable shape: register it so that
/// a driver error quoting it is still redacted.
fn register_password(url: &str) {
    if let Some(rest) = url.split_once("://").map(|(_, r)| r)
        && let Some((creds, _)) = rest.split_once('@')
        && let Some((_, password)) = creds.split_once(':')
    {
        secrets::register_secret(password);
    }
}

async fn connect<C>(target: &Target, fut: impl Future<Output = Result<C, sqlx::Error>>) -> Result<C, CheckError> {
    match tokio::time::timeout(Duration::from_secs(CONNECT_TIMEOUT_SECS), fut).await {
        Ok(Ok(conn)) => Ok(conn),
        Ok(Err(e)) => Err(errors::connect_error(target, &e)),
        Err(_) => Err(errors::connect_timeout(target, CONNECT_TIMEOUT_SECS)),
    }
}

/// Catalog queries per dialect, for precise messages about tables and columns.
struct Catalog {
    /// Columns of table $1 in schema $2 (NULL: the default schema).
    columns_sql: &'static str,
    tables_sql: &'static str,
}

/// Checks the table and columns (table mode) or the query's columns, then streams the users.
async fn read_with<DB>(
    conn: &mut DB::Connection,
    target: &Target,
    cfg: &DatabaseConfig,
    catalog: &Catalog,
    obs: &mut Observations,
) -> Result<UsersRead, CheckError>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'a> DB::Arguments: sqlx::IntoArguments<DB>,
    for<'r> &'r str: Decode<'r, DB> + Type<DB>,
    for<'r> String: Decode<'r, DB> + Type<DB>,
    for<'q> String: sqlx::Encode<'q, DB>,
    for<'q> Option<String>: sqlx::Encode<'q, DB>,
    for<'r> bool: Decode<'r, DB> + Type<DB>,
    for<'r> i64: Decode<'r, DB> + Type<DB>,
    for<'r> i32: Decode<'r, DB> + Type<DB>,
    for<'r> i16: Decode<'r, DB> + Type<DB>,
    usize: ColumnIndex<DB::Row>,
{
    let timeout = cfg.statement_timeout_secs;
    let UsersSelect { sql, with_plan, what } = users_select::<DB>(conn, target, cfg, catalog, obs).await?;
    let mut rows = sqlx::query::<DB>(AssertSqlSafe(sql)).fetch(&mut *conn);
    let (mut n, mut null_access) = (0usize, 0usize);
    while let Some(row) = rows.try_next().await.map_err(|e| errors::query_error(target, &e, timeout))? {
        n += 1;
        let id: Option<&str> = row.try_get(0).map_err(|e| errors::query_error(target, &e, timeout))?;
        let Some(id) = id.map(str::trim).filter(|s| !s.is_empty()) else {
            return Err(CheckError::Database(format!("row {n} from {} has a null or empty id", target.describe())));
        };
        let customer: Option<&str> = row.try_get(1).map_err(|e| errors::query_error(target, &e, timeout))?;
        let access = access_value(&row)?
            .map(|a| {
                if a.is_none() {
                    null_access += 1;
                }
                a.unwrap_or(false)
            })
            .map_err(|shown: String| {
            CheckError::Database(format!(
                "the access value of user {id} is {shown}, which is not boolean-like. Make [database.columns] access a boolean \
                 expression, e.g. `plan <> 'free'`, `pro_until > now()` or `status IN ('active', 'trialing')`"
            ))
        })?;
        let plan: Option<&str> = if with_plan { row.try_get(3).map_err(|e| errors::query_error(target, &e, timeout))? } else { None };
        // Linked to the subscriptions' customer ids later, by Observations::link_customers.
        let customer = customer.map(str::trim).filter(|c| !c.is_empty()).map(|c| obs.strings.push_unindexed(c));
        let plan = plan.map(|p| obs.strings.get_or_intern(p));
        obs.users.push(UserRow { id: obs.strings.push_unindexed(id), customer, access, plan });
    }
    if with_plan {
        obs.plan_tracked = true;
    }
    if null_access > 0 {
        obs.notes.push(format!("{null_access} user row(s) have a NULL access value: read as no access"));
    }
    let kind = match target.dialect {
        Dialect::Postgres => "postgres",
        Dialect::MySql => "mysql",
        Dialect::Sqlite => "sqlite",
    };
    Ok(UsersRead { source: format!("{kind}:{} ({what})", target.place_and_db()), rows: n })
}

/// Checks the table and columns (table mode) or the query's columns, and builds the SELECT.
async fn users_select<DB>(conn: &mut DB::Connection, target: &Target, cfg: &DatabaseConfig, catalog: &Catalog, obs: &mut Observations) -> Result<UsersSelect, CheckError>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'a> DB::Arguments: sqlx::IntoArguments<DB>,
    for<'r> String: Decode<'r, DB> + Type<DB>,
    for<'q> String: sqlx::Encode<'q, DB>,
    for<'q> Option<String>: sqlx::Encode<'q, DB>,
    usize: ColumnIndex<DB::Row>,
{
    let timeout = cfg.statement_timeout_secs;
    let (sql, with_plan, what) = match &cfg.query {
        Some(query) => {
            let inner = AssertSqlSafe(query.trim().trim_end_matches(';').to_string()).into_sql_str();
            let described = (&mut *conn).prepare(inner).await;
            let names: Vec<String> = match described {
                Ok(d) => d.columns().iter().map(|c| c.name().to_ascii_lowercase()).collect(),
                Err(e) => return Err(errors::query_error(target, &e, timeout)),
            };
            let missing: Vec<&str> = ["id", "customer_id", "access"].into_iter().filter(|n| !names.iter().any(|c| c == n)).collect();
            if !missing.is_empty() {
                return Err(CheckError::Usage(format!(
                    "[database] query must yield the columns id, customer_id, access (and optionally plan); it yields {} and lacks {}. \
                     Alias them, e.g. `SELECT u.id AS id, u.stripe_id AS customer_id, (s.status = 'active') AS access FROM ...`",
                    names.join(", "),
                    missing.join(", ")
                )));
            }
            let with_plan = names.iter().any(|c| c == "plan");
            (sql::wrapped_query(target.dialect, query, with_plan), with_plan, "custom query".to_string())
        }
        None => {
            let columns = table_columns::<DB>(conn, target, cfg, catalog).await?;
            let with_plan = check_columns(target, cfg, &columns, obs)?;
            (sql::table_query(target.dialect, cfg, with_plan), with_plan, format!("table {}", cfg.table))
        }
    };

    Ok(UsersSelect { sql, with_plan, what })
}

/// The access cell as a boolean: Ok(None) for NULL, Err(shown value) when not boolean-like.
fn access_value<R: Row>(row: &R) -> Result<Result<Option<bool>, String>, CheckError>
where
    for<'r> bool: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> i32: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> i16: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> &'r str: Decode<'r, R::Database> + Type<R::Database>,
    usize: ColumnIndex<R>,
{
    let raw = row.try_get_raw(2).map_err(|e| CheckError::Database(e.to_string()))?;
    if raw.is_null() {
        return Ok(Ok(None));
    }
    let type_name = raw.type_info().to_string();
    drop(raw);
    if let Ok(b) = row.try_get::<bool, _>(2) {
        return Ok(Ok(Some(b)));
    }
    let int = row
        .try_get::<i64, _>(2)
        .ok()
        .or_else(|| row.try_get::<i32, _>(2).ok().map(i64::from))
        .or_else(|| row.try_get::<i16, _>(2).ok().map(i64::from));
    if let Some(i) = int {
        return Ok(match i {
            0 => Ok(Some(false)),
            1 => Ok(Some(true)),
            other => Err(other.to_string()),
        });
    }
    if let Ok(s) = row.try_get::<&str, _>(2) {
        return Ok(match s.trim().to_ascii_lowercase().as_str() {
            "t" | "true" | "yes" | "y" | "1" => Ok(Some(true)),
            "f" | "false" | "no" | "n" | "0" | "" => Ok(Some(false)),
            _ => Err(format!("{s:?}")),
        });
    }
    Ok(Err(format!("of type {type_name}")))
}

/// The table's columns, or the error for a missing table listing likely ones.
async fn table_columns<DB>(
    conn: &mut DB::Connection,
    target: &Target,
    cfg: &DatabaseConfig,
    catalog: &Catalog,
) -> Result<Vec<String>, CheckError>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'a> DB::Arguments: sqlx::IntoArguments<DB>,
    for<'r> String: Decode<'r, DB> + Type<DB>,
    for<'q> String: sqlx::Encode<'q, DB>,
    for<'q> Option<String>: sqlx::Encode<'q, DB>,
    usize: ColumnIndex<DB::Row>,
{
    let timeout = cfg.statement_timeout_secs;
    let (schema, table) = match cfg.table.rsplit_once('.') {
        Some((s, t)) => (Some(s.trim().to_string()), t.trim().to_string()),
        None => (None, cfg.table.trim().to_string()),
    };
    let columns: Vec<String> = sqlx::query_scalar::<DB, String>(catalog.columns_sql)
        .bind(table.clone())
        .bind(schema)
        .fetch_all(&mut *conn)
        .await
        .map_err(|e| errors::query_error(target, &e, timeout))?;
    if !columns.is_empty() {
        return Ok(columns);
    }
    let tables: Vec<String> =
        sqlx::query_scalar::<DB, String>(catalog.tables_sql).fetch_all(&mut *conn).await.map_err(|e| errors::query_error(target, &e, timeout))?;
    let likely: Vec<&String> = tables
        .iter()
        .filter(|t| ["user", "account", "customer", "member", "subscri", "profile"].iter().any(|k| t.to_ascii_lowercase().contains(k)))
        .collect();
    let hint = if likely.is_empty() {
        if tables.is_empty() { "it has no tables".to_string() } else { format!("its tables are {}", list(&tables.iter().collect::<Vec<_>>())) }
    } else {
        format!("tables that look like users: {}", list(&likely))
    };
    Err(CheckError::Database(format!(
        "table `{}` does not exist in {}; {hint}. Set [database] table in billguard.toml",
        cfg.table,
        target.describe()
    )))
}

fn list(items: &[&String]) -> String {
    let mut s = items.iter().take(12).map(|t| t.as_str()).collect::<Vec<_>>().join(", ");
    if items.len() > 12 {
        s.push_str(&format!(", … ({} in all)", items.len()));
    }
    s
}

/// Checks that every configured plain-name column exists. Returns whether the
/// plan can be read; a missing plan column is a note, not an error, since plan
/// checks are optional.
fn check_columns(target: &Target, cfg: &DatabaseConfig, columns: &[String], obs: &mut Observations) -> Result<bool, CheckError> {
    let has = |name: &str| columns.iter().any(|c| c.eq_ignore_ascii_case(name));
    let c = &cfg.columns;
    for (key, configured) in [("id", &c.id), ("customer_id", &c.customer_id), ("access", &c.access)] {
        let configured = configured.trim();
        if sql::is_plain_name(configured) && !has(configured) {
            let suggestion = closest(configured, columns).map(|s| format!("; did you mean `{s}`?")).unwrap_or_default();
            return Err(CheckError::Database(format!(
                "column `{configured}` ([database.columns] {key}) does not exist in table `{}` of {}: its columns are {}{suggestion}",
                cfg.table,
                target.describe(),
                columns.join(", ")
            )));
        }
    }
    match &c.plan {
        Some(p) if sql::is_plain_name(p) && !has(p.trim()) => {
            obs.notes.push(format!(
                "table `{}` has no column `{}` ([database.columns] plan): plan drift (ACC003) was not checked",
                cfg.table,
                p.trim()
            ));
            Ok(false)
        }
        Some(_) => Ok(true),
        None => Ok(false),
    }
}

impl Target {
    pub(super) fn place_and_db(&self) -> String {
        match &self.database {
            Some(db) => format!("{}/{db}", self.place),
            None => self.place.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn sqlite_connection_refuses_writes() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("app.db");
        let mut rw = sqlx::SqliteConnection::connect(&format!("sqlite://{}?mode=rwc", file.display())).await.unwrap();
        sqlx::raw_sql("CREATE TABLE users (id INTEGER); INSERT INTO users VALUES (1)").execute(&mut rw).await.unwrap();
        rw.close().await.unwrap();

        let (mut conn, target) = open_sqlite("sqlite://app.db", &DatabaseConfig::default(), dir.path()).await.unwrap();
        let err = sqlx::raw_sql("DELETE FROM users").execute(&mut conn).await.unwrap_err();
        let shown = errors::query_error(&target, &err, 60).to_string();
        assert!(shown.contains("tried to write"), "{shown}");
        let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(&mut conn).await.unwrap();
        assert_eq!(left, 1);
    }

    #[test]
    fn passwords_in_urls_are_registered_as_secrets() {
        register_password("postgres://someone:Zq8-unusual-pw@db:5432/app");
        assert!(!secrets::redact("auth failed for Zq8-unusual-pw").contains("Zq8-unusual-pw"));
    }
}
