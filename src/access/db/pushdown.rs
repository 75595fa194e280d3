//! The access contract pushed down to Postgres, when the app's users and the
//! synced subscriptions live in the same database: Postgres joins and counts
//! every row ([`super::pushdown_sql`]); only the rows that can make a finding,
//! the subscriptions of their customers and the whole-table counts come back,
//! and the in-process engine (the reference) evaluates them with those counts.
//!
//! Read-only as every read: a READ ONLY transaction (REPEATABLE READ, so the two
//! statements see one snapshot), a statement timeout, SELECTs only.

use futures_util::TryStreamExt;
use sqlx::{AssertSqlSafe, Column, Connection, Executor, Row, SqlSafeStr, Statement, TypeInfo};

use super::billing_table;
use super::errors::{self, Target};
use super::pushdown_pass::{MainPass, PassRow, RARE_CUSTOMERS_LISTED, UNKNOWN_KEPT};
use super::pushdown_sql;
use super::pushdown_side;
use crate::access::model::{Observations, Status, UserRow};
use crate::access::totals::{Tally, Totals};
use crate::config::{BillingSource, Config};
use crate::error::CheckError;

/// What the database returned, ready for [`crate::access::contract::evaluate_with_totals`].
pub struct Pushed {
    /// The users that can make a finding, every user of a customer that can, and every
    /// subscription of their customers.
    pub obs: Observations,
    pub totals: Totals,
    /// Rows in the whole tables, for the report's scope.
    pub users: usize,
    pub subscriptions: usize,
    pub users_source: String,
    pub billing_source: String,
    /// How the evaluation ran, for the scope.
    pub evaluated: String,
}

/// Pushed down, or why not (said in the scope).
pub enum Plan {
    Pushed(Box<Pushed>),
    InProcess(String),
}

/// Pushes the contract down when `[billing] source = "database"` and the users are read
/// from the same Postgres database; otherwise says why it runs in process.
pub async fn plan(config: &Config, now: i64) -> Result<Plan, CheckError> {
    let billing = &config.billing.database;
    if config.billing.source != BillingSource::Database {
        return Ok(Plan::InProcess("in-process".into()));
    }
    if !billing.pushdown {
        return Ok(Plan::InProcess("in-process: [billing.database] pushdown = false".into()));
    }
    let users_env = &config.database.url_env;
    let billing_env = billing.url_env.as_deref().unwrap_or(users_env);
    let value = |env: &str| std::env::var(env).ok().filter(|v| !v.trim().is_empty());
    if billing_env != users_env && value(billing_env) != value(users_env) {
        return Ok(Plan::InProcess(format!(
            "in-process: the users ({users_env}) and the synced subscriptions ({billing_env}) are in different databases, so they are joined here"
        )));
    }
    let url = super::users_url(&config.database)?;
    let scheme = url.split(':').next().unwrap_or("").to_ascii_lowercase();
    if !matches!(scheme.as_str(), "postgres" | "postgresql") {
        // The in-process read gives the error for a billing table outside Postgres.
        return Ok(Plan::InProcess("in-process: the users are not in Postgres".into()));
    }
    super::positive_timeout("[billing.database]", billing.statement_timeout_secs)?;
    // One statement does the work of both reads: it may take the longer of their limits.
    let timeout = billing.statement_timeout_secs.max(config.database.statement_timeout_secs);
    let (mut conn, target) = super::postgres_read_only(&url, users_env, timeout).await?;
    let result = push_down(&mut conn, &target, config, (&url, users_env), timeout, now).await;
    let _ = sqlx::raw_sql("ROLLBACK").execute(&mut conn).await;
    let _ = conn.close().await;
    result
}

async fn push_down(
    conn: &mut sqlx::PgConnection,
    target: &Target,
    config: &Config,
    (url, url_env): (&str, &str),
    timeout: u64,
    now: i64,
) -> Result<Plan, CheckError> {
    let fail = |e: sqlx::Error| errors::query_error(target, &e, timeout);
    let repeatable = || sqlx::raw_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ");
    repeatable().execute(&mut *conn).await.map_err(fail)?;
    // The pass runs in parts on connections sharing this transaction's snapshot, exported
    // before anything is read; where that is refused, in a new transaction on this one alone.
    let wanted_parts = pushdown_side::parts(conn).await;
    let snapshot = if wanted_parts > 1 { pushdown_side::export(conn).await } else { None };
    if wanted_parts > 1 && snapshot.is_none() {
        sqlx::raw_sql("ROLLBACK").execute(&mut *conn).await.map_err(fail)?;
        super::begin_read_only(conn, target, timeout).await?;
        repeatable().execute(&mut *conn).await.map_err(fail)?;
    }
    let mut obs = Observations::default();
    let users = super::postgres_users_select(conn, target, &config.database, &mut obs).await?;
    let probe = format!("SELECT access FROM ({}) AS q", users.sql);
    let access_type = conn.prepare(AssertSqlSafe(probe).into_sql_str()).await.map_err(fail)?.columns()[0].type_info().name().to_string();
    if access_type != "BOOL" {
        return Ok(Plan::InProcess(format!(
            "in-process: the access value is of type {access_type}, which only the in-process reader turns into yes or no; make it a boolean expression to push the check down"
        )));
    }
    let table = billing_table::describe(conn, target, &config.billing.database).await?;
    let min_rows = config.billing.database.pushdown_min_rows;
    if min_rows > 0 {
        // The catalog's estimate (kept by ANALYZE and autovacuum): no count of a huge table.
        let estimate: Option<f32> = sqlx::query_scalar("SELECT max(reltuples) FROM pg_class WHERE oid IN (to_regclass($1), to_regclass($2))")
            .bind(table.shown())
            .bind(config.database.query.is_none().then(|| config.database.table.clone()))
            .fetch_one(&mut *conn)
            .await
            .map_err(fail)?;
        let rows = estimate.unwrap_or(-1.0);
        if rows < min_rows as f32 {
            let shown = if rows < 0.0 { "an unknown number of rows (the tables were never analyzed)".to_string() } else { format!("about {} rows", rows as u64) };
            return Ok(Plan::InProcess(format!(
                "in-process: {shown}, below [billing.database] pushdown_min_rows = {min_rows}; reading every row and comparing here is faster, and fits in memory at this size"
            )));
        }
    }
    let u = pushdown_sql::Users { sql: &users.sql, with_plan: users.with_plan };
    let columns = table.select(true);
    let from = table.from();
    let subs = pushdown_sql::Subs { columns: &columns, from: &from, price_per_row: table.price_per_row() };
    let access = &config.access;
    let granting: Vec<String> = access
        .granting_statuses
        .iter()
        .map(|s| {
            let lower = s.trim().to_ascii_lowercase();
            Status::known(&lower).map(|k| k.as_str(&obs.strings).to_string()).unwrap_or(lower)
        })
        .collect();
    let (prices, plans): (Vec<String>, Vec<String>) = access.plans.iter().map(|(k, v)| (k.clone(), v.clone())).unzip();
    let comped: Vec<String> = access.comped_users.iter().map(|id| id.trim().to_string()).collect();
    let grace = i64::from(access.past_due_grace_days) * 86_400;

    // 1. Users and subscriptions meet by customer: the counts, and the customers a rule may
    // fire for, in parts side by side on connections sharing the snapshot.
    let params = Params { granting: &granting, grace, now, prices: &prices, plans: &plans };
    let mut side = match &snapshot {
        Some(snapshot) => pushdown_side::open(url, url_env, timeout, snapshot, wanted_parts - 1).await,
        None => Vec::new(),
    };
    let parts = 1 + side.len();
    let pass = main_pass(conn, &mut side, &u, &subs, &params, &fail).await;
    pushdown_side::close(side).await;
    let pass = pass?;
    let mut totals = Totals {
        linked_with_access: pass.linked_with_access,
        unknown_customers: Tally { count: pass.unknown, examples: pass.unknown_examples() },
        any_priced: pass.any_priced,
        ..Totals::default()
    };
    let (user_rows, sub_rows, rare_customers) = (pass.users, pass.subscriptions, pass.rare_customers);
    let mut null_access = 0;
    if pass.null_access || pass.no_id {
        // Said only whether there are any: count them.
        let sql = pushdown_sql::user_counts(&u);
        let (nulls, no_ids): (i64, i64) = sqlx::query_as(AssertSqlSafe(sql)).fetch_one(&mut *conn).await.map_err(fail)?;
        null_access = nulls.max(0) as usize;
        if no_ids > 0 {
            return Err(CheckError::Database(format!("{no_ids} user row(s) from {} have a null or empty id", target.describe())));
        }
    }

    // 2. The rare subscriptions in detail, when there are any: those of the customers
    // named, or every subscription's when they are many (past the list's limit, or a
    // quarter of the table: then reading all costs about what filtering does).
    if rare_customers > 0 {
        let listed = pass.rare_listed().filter(|_| rare_customers * 4 <= sub_rows);
        read_rare(conn, &subs, &params, listed, &table, &fail, &mut totals).await?;
    }
    totals.unknown_statuses.sort_by(|a, b| a.0.cmp(&b.0));
    totals.unmapped_prices.sort_by(|a, b| a.0.cmp(&b.0));
    let unknown_again = if pass.unknown_incomplete() {
        // More unknown customers than were kept, and each is a finding: all of them.
        let sql = pushdown_sql::unknown_customers(&u, &subs);
        Some(sqlx::query_scalar::<_, String>(AssertSqlSafe(sql)).fetch_all(&mut *conn).await.map_err(fail)?)
    } else {
        None
    };
    let customers = pass.customers(unknown_again);

    // 3. User ids on several rows, unless a unique index on an integer or uuid id rules them out.
    if !unique_ids(conn, config).await {
        let sql = pushdown_sql::duplicate_ids(&u);
        let ids: Vec<Option<String>> = sqlx::query_scalar(AssertSqlSafe(sql)).fetch_all(&mut *conn).await.map_err(fail)?;
        totals.duplicate_user_ids.extend(ids.into_iter().flatten());
    }

    // 4. Every user of those customers, and the users with access and no customer.
    let sql = pushdown_sql::users_of(&u);
    let mut rows = sqlx::query(AssertSqlSafe(sql)).bind(&customers).bind(&comped).fetch(&mut *conn);
    while let Some(row) = rows.try_next().await.map_err(fail)? {
        let read = Read(&row, &fail);
        let Some(id) = read.text(0)? else { continue };
        // Linked to the subscriptions' customer ids by Observations::link_customers.
        let customer = read.text(1)?.map(|c| obs.strings.push_unindexed(&c));
        let plan = read.text(2)?.map(|p| obs.strings.get_or_intern(&p));
        obs.users.push(UserRow { id: obs.strings.push_unindexed(&id), customer, access: read.flag(3)?, plan });
    }
    drop(rows);
    obs.plan_tracked = users.with_plan;

    // 5. Every subscription of those customers, as the in-process read orders them.
    let fetched = if customers.is_empty() { 0 } else { billing_table::stream_rows(conn, target, &table, timeout, Some(&customers), &mut obs).await? };

    let mut notes = std::mem::take(&mut obs.notes);
    notes.extend(table.notes.iter().cloned());
    notes.extend(billing_table::stale_note(conn, target, &table, &config.billing.database, now).await?);
    if sub_rows == 0 {
        notes.push(format!("table `{}` holds no subscriptions: is the sync running?", table.shown()));
    }
    if null_access > 0 {
        notes.push(format!("{null_access} user row(s) have a NULL access value: read as no access"));
    }
    obs.notes = notes;
    let evaluated = format!(
        "pushed down: Postgres compared all {user_rows} users with all {sub_rows} subscriptions in one pass by customer{}, since both are in {}; \
         only what can make a finding came back ({} user rows, {fetched} subscriptions of their customers, and counts) and was evaluated here",
        if parts > 1 { format!(" ({parts} parts side by side, one snapshot)") } else { String::new() },
        target.describe(),
        obs.users.len(),
    );
    Ok(Plan::Pushed(Box::new(Pushed {
        obs,
        totals,
        users: user_rows,
        subscriptions: sub_rows,
        users_source: format!("postgres:{} ({})", target.place_and_db(), users.what),
        billing_source: format!("postgres:{} (table {})", target.place_and_db(), table.shown()),
        evaluated,
    })))
}

/// The main statement ([`pushdown_sql::main`]), one part on each connection, read as the
/// rows arrive from any of them.
async fn main_pass<F: Fn(sqlx::Error) -> CheckError>(
    conn: &mut sqlx::PgConnection,
    side: &mut [sqlx::PgConnection],
    u: &pushdown_sql::Users<'_>,
    subs: &pushdown_sql::Subs<'_>,
    params: &Params<'_>,
    fail: &F,
) -> Result<MainPass, CheckError> {
    let parts = 1 + side.len() as u32;
    // A plan this large costs seconds to compile and gains little from it. Postgres cannot
    // estimate how many customers there are (it guesses 200) and would hash them: sorting
    // them is what keeps a few million customers in bounded memory.
    let mut settings = vec!["SET LOCAL jit = off", "SET LOCAL work_mem = '64MB'", "SET LOCAL enable_hashagg = off"];
    if parts > 1 {
        // Each part is one process: Postgres's workers would only contend with the other parts.
        settings.push("SET LOCAL max_parallel_workers_per_gather = 0");
    }
    for c in std::iter::once(&mut *conn).chain(side.iter_mut()) {
        for set in &settings {
            sqlx::raw_sql(*set).execute(&mut *c).await.map_err(fail)?;
        }
    }
    let mut pass = MainPass::new(RARE_CUSTOMERS_LISTED, UNKNOWN_KEPT);
    {
        let streams = std::iter::once(&mut *conn).chain(side.iter_mut()).enumerate().map(|(p, c)| {
            let sql = pushdown_sql::main(u, subs, parts, p as u32);
            tracing::debug!(%sql, part = p, "the pushed-down statement");
            params.bind(sqlx::query(AssertSqlSafe(sql))).fetch(c)
        });
        let mut rows = futures_util::stream::select_all(streams);
        while let Some(row) = rows.try_next().await.map_err(fail)? {
            pass.add(pass_row(&Read(&row, fail))?);
        }
    }
    if parts > 1 {
        sqlx::raw_sql("SET LOCAL max_parallel_workers_per_gather TO DEFAULT").execute(&mut *conn).await.map_err(fail)?;
    }
    Ok(pass)
}

/// One row of the main statement.
fn pass_row<F: Fn(sqlx::Error) -> CheckError>(read: &Read<'_, F>) -> Result<PassRow, CheckError> {
    let part = usize::try_from(read.0.try_get::<i32, _>(1).map_err(read.1)?).ok();
    Ok(match (read.text(0)?.unwrap_or_default().as_str(), part) {
        ("totals" | "none", _) => PassRow::Totals {
            part,
            users: read.count(4)?,
            null_access: read.count(5)? > 0,
            no_id: read.count(6)? > 0,
            linked: read.count(7)?,
            unknown: read.count(8)?,
            subs: read.count(9)?,
            rare: read.count(10)?,
            priced: read.flag(3)?,
        },
        ("customer", Some(part)) => PassRow::Customer {
            part,
            customer: read.text(2)?.unwrap_or_default(),
            wanted: read.flag(3)?,
            unknown: read.count(8)? > 0,
            rare: read.count(10)? > 0,
        },
        (other, _) => return Err(CheckError::Database(format!("the pushed-down query returned a row of unknown kind `{other}`"))),
    })
}

/// The bound values shared by the main and the rare statements ([`pushdown_sql::PARAMETERS`]).
struct Params<'a> {
    granting: &'a [String],
    grace: i64,
    now: i64,
    prices: &'a [String],
    plans: &'a [String],
}

impl<'a> Params<'a> {
    fn bind(&self, query: PgQuery<'a>) -> PgQuery<'a> {
        query.bind(self.granting).bind(self.grace).bind(self.now).bind(self.prices).bind(self.plans)
    }
}

type PgQuery<'a> = sqlx::query::Query<'a, sqlx::Postgres, sqlx::postgres::PgArguments>;

/// The rare subscriptions in detail (of the `listed` customers, or all), into `totals`.
async fn read_rare<F: Fn(sqlx::Error) -> CheckError>(
    conn: &mut sqlx::PgConnection,
    subs: &pushdown_sql::Subs<'_>,
    params: &Params<'_>,
    listed: Option<&[String]>,
    table: &billing_table::Table<'_>,
    fail: &F,
    totals: &mut Totals,
) -> Result<(), CheckError> {
    let sql = pushdown_sql::rare(subs, listed.is_some());
    tracing::debug!(%sql, "the rare subscriptions");
    let query = params.bind(sqlx::query(AssertSqlSafe(sql)));
    let query = match listed {
        Some(customers) => query.bind(customers),
        None => query,
    };
    let mut rows = query.fetch(&mut *conn);
    while let Some(row) = rows.try_next().await.map_err(fail)? {
        let read = Read(&row, fail);
        match read.text(0)?.unwrap_or_default().as_str() {
            "subs" => {
                if read.count(3)? > 0 {
                    let id = read.text(1)?.unwrap_or_default();
                    return Err(billing_table::odd_items(&id, &table.shown(), "JSON of another shape"));
                }
                if read.count(4)? > 0 {
                    return Err(CheckError::Database(format!("a row of `{}` has a null or empty id", table.shown())));
                }
                totals.any_priced |= read.flag(2)?;
                totals.ended_cancels = Tally { count: read.count(5)?, examples: read.list(7)? };
                totals.unmeasured_grace = Tally { count: read.count(6)?, examples: read.list(8)? };
            }
            "status" => totals.unknown_statuses.push((read.text(1)?.unwrap_or_default(), Tally { count: read.count(3)?, examples: read.list(7)? })),
            "price" => totals.unmapped_prices.push((read.text(1)?.unwrap_or_default(), Tally { count: read.count(3)?, examples: read.list(7)? })),
            other => return Err(CheckError::Database(format!("the pushed-down query returned a row of unknown kind `{other}`"))),
        }
    }
    Ok(())
}

/// Typed reads of a returned row's columns, each failure a query error.
struct Read<'r, F>(&'r sqlx::postgres::PgRow, &'r F);

impl<F: Fn(sqlx::Error) -> CheckError> Read<'_, F> {
    fn text(&self, i: usize) -> Result<Option<String>, CheckError> {
        self.0.try_get::<Option<String>, _>(i).map_err(self.1)
    }
    fn count(&self, i: usize) -> Result<usize, CheckError> {
        self.0.try_get::<Option<i64>, _>(i).map(|n| n.unwrap_or(0).max(0) as usize).map_err(self.1)
    }
    fn list(&self, i: usize) -> Result<Vec<String>, CheckError> {
        self.0.try_get::<Option<Vec<String>>, _>(i).map(Option::unwrap_or_default).map_err(self.1)
    }
    fn flag(&self, i: usize) -> Result<bool, CheckError> {
        self.0.try_get::<Option<bool>, _>(i).map(|b| b.unwrap_or(false)).map_err(self.1)
    }
}

/// Whether the users' id column carries a unique index of its own and is of a type whose
/// text is canonical (integers, uuid): then no two rows share an id, trimmed or not, and
/// the pass over every user that looks for shared ids is skipped. A custom users query,
/// or any doubt, says no.
async fn unique_ids(conn: &mut sqlx::PgConnection, config: &Config) -> bool {
    if config.database.query.is_some() {
        return false;
    }
    // A savepoint keeps the transaction usable if the name is no table.
    if sqlx::raw_sql("SAVEPOINT billguard_unique").execute(&mut *conn).await.is_err() {
        return false;
    }
    let unique = sqlx::query_scalar::<_, bool>(
        "SELECT EXISTS (SELECT 1 FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
                        WHERE i.indrelid = to_regclass($1) AND i.indisunique AND i.indnatts = 1 AND i.indpred IS NULL
                          AND i.indexprs IS NULL AND a.attname = $2
                          AND a.atttypid IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype, 'uuid'::regtype))",
    )
    .bind(&config.database.table)
    .bind(&config.database.columns.id)
    .fetch_one(&mut *conn)
    .await;
    let undo = if unique.is_ok() { "RELEASE SAVEPOINT billguard_unique" } else { "ROLLBACK TO SAVEPOINT billguard_unique" };
    sqlx::raw_sql(undo).execute(&mut *conn).await.is_ok() && unique.unwrap_or(false)
}
