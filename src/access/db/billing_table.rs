//! Subscriptions from a synced copy in Postgres (`[billing] source = "database"`):
//! the Stripe sync engine's `stripe.subscriptions`, or any table mapped in
//! `[billing.database.columns]`. Read exactly as the app's users are: a READ ONLY
//! transaction, a statement timeout, one SELECT of named columns (no expressions:
//! the mapping comes from a repository file).

use futures_util::TryStreamExt;
use sqlx::{AssertSqlSafe, Connection, Row};

use super::errors::{self, Target};
use super::sql::{Dialect, is_plain_name, table_ref};
use crate::access::model::{Observations, Status, Subscription};
use crate::config::{BillingDatabaseConfig, closest};
use crate::error::CheckError;
use crate::secrets;

/// What was read, for the report's scope and notes.
#[derive(Debug, Clone)]
pub struct SubscriptionsRead {
    /// e.g. "postgres:127.0.0.1:5432/app (table stripe.subscriptions)".
    pub source: String,
    pub rows: usize,
    pub notes: Vec<String>,
}

/// Reads every row of the mapped table into `obs`. `default_url_env` is `[database] url_env`.
pub async fn read_subscriptions(cfg: &BillingDatabaseConfig, default_url_env: &str, now: i64, obs: &mut Observations) -> Result<SubscriptionsRead, CheckError> {
    let url_env = cfg.url_env.clone().unwrap_or_else(|| default_url_env.to_string());
    super::positive_timeout("[billing.database]", cfg.statement_timeout_secs)?;
    Mapping::of(cfg)?;
    let url = std::env::var(&url_env).ok().filter(|u| !u.trim().is_empty()).ok_or_else(|| {
        CheckError::Usage(format!(
            "[billing] source = \"database\" reads the subscriptions from the Postgres database that {url_env} names, and {url_env} is not set. \
             Export it (a postgres:// URL, ideally of a read-only role), or set [billing.database] url_env"
        ))
    })?;
    secrets::register_secret(&url);
    let scheme = url.split(':').next().unwrap_or("").to_ascii_lowercase();
    if !matches!(scheme.as_str(), "postgres" | "postgresql") {
        return Err(CheckError::Usage(format!(
            "{url_env} must be a postgres:// URL for [billing] source = \"database\" (the Stripe sync engine's tables live in Postgres); it starts with `{}:`",
            secrets::redact(&scheme)
        )));
    }
    let (mut conn, target) = super::postgres_read_only(&url, &url_env, cfg.statement_timeout_secs).await?;
    let read = read_rows(&mut conn, &target, cfg, now, obs).await;
    let _ = sqlx::raw_sql("ROLLBACK").execute(&mut conn).await;
    let _ = conn.close().await;
    read
}

/// The configured columns, checked to be plain names.
struct Mapping<'a> {
    schema: Option<&'a str>,
    table: &'a str,
    required: Vec<(&'static str, &'a str)>,
    /// (key, column): read when present, noted when absent.
    optional: Vec<(&'static str, &'a str)>,
}

impl<'a> Mapping<'a> {
    fn of(cfg: &'a BillingDatabaseConfig) -> Result<Mapping<'a>, CheckError> {
        let (schema, table) = match cfg.table.trim().split_once('.') {
            Some((s, t)) => (Some(s.trim()), t.trim()),
            None => (None, cfg.table.trim()),
        };
        let c = &cfg.columns;
        let prices = match (&c.price, &c.items) {
            (Some(p), _) => ("price", p.as_str()),
            (None, Some(i)) => ("items", i.as_str()),
            (None, None) => return Err(CheckError::Usage("[billing.database.columns] needs items (JSON items) or price (one price id per row)".into())),
        };
        let required = vec![("id", c.id.as_str()), ("customer", c.customer.as_str()), ("status", c.status.as_str()), prices];
        let optional: Vec<(&'static str, &str)> = [
            ("cancel_at_period_end", &c.cancel_at_period_end),
            ("current_period_start", &c.current_period_start),
            ("current_period_end", &c.current_period_end),
            ("synced_at", &c.synced_at),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.as_deref().map(|v| (k, v)))
        .collect();
        for (key, name) in std::iter::once(("table", table)).chain(schema.map(|s| ("table", s))).chain(required.iter().copied()).chain(optional.iter().copied()) {
            if !is_plain_name(name) {
                return Err(CheckError::Usage(format!(
                    "[billing.database] {key} = `{name}` is not a plain name: a synced table is read by column name only (letters, digits, _)"
                )));
            }
        }
        Ok(Mapping { schema, table, required, optional })
    }

    fn shown_table(&self) -> String {
        match self.schema {
            Some(s) => format!("{s}.{}", self.table),
            None => self.table.to_string(),
        }
    }
}

/// Seconds since the epoch from a column that holds either (the sync engine stores
/// Stripe's integers; hand-made tables use timestamps).
fn epoch(column: &str, data_type: &str) -> String {
    let q = Dialect::Postgres.quote(column);
    if data_type.contains("timestamp") || data_type == "date" { format!("EXTRACT(EPOCH FROM {q})::bigint") } else { format!("{q}::bigint") }
}

/// The mapped table as the catalog describes it: every required column checked.
pub(super) struct Table<'a> {
    mapping: Mapping<'a>,
    /// (column, data type) in table order.
    columns: Vec<(String, String)>,
    /// Optional columns the table lacks, and what that means.
    pub notes: Vec<String>,
}

impl Table<'_> {
    fn type_of(&self, name: &str) -> Option<&str> {
        self.columns.iter().find(|(c, _)| c.eq_ignore_ascii_case(name)).map(|(_, t)| t.as_str())
    }

    fn present(&self, key: &str) -> Option<(&str, &str)> {
        self.mapping.optional.iter().find(|(k, _)| *k == key).and_then(|(_, c)| self.type_of(c).map(|t| (*c, t)))
    }

    fn required(&self, key: &str) -> &str {
        self.mapping.required.iter().find(|(k, _)| *k == key).map(|(_, c)| *c).expect("required column")
    }

    /// Whether the table holds one price per row rather than JSON items.
    pub fn price_per_row(&self) -> bool {
        self.mapping.required[3].0 == "price"
    }

    pub fn shown(&self) -> String {
        self.mapping.shown_table()
    }

    /// `schema.table`, quoted.
    pub fn from(&self) -> String {
        table_ref(Dialect::Postgres, &self.mapping.shown_table())
    }

    /// id, customer, status (text), the items or price, cancel_at_period_end (boolean), period
    /// start and end (epoch seconds); absent optional columns read as NULL. The items come as
    /// text, or as jsonb for SQL that looks inside them.
    pub fn select(&self, items_as_jsonb: bool) -> Vec<String> {
        let q = |name: &str| Dialect::Postgres.quote(name);
        let prices = if self.price_per_row() || !items_as_jsonb { "text" } else { "jsonb" };
        vec![
            format!("{}::text", q(self.required("id"))),
            format!("{}::text", q(self.required("customer"))),
            format!("{}::text", q(self.required("status"))),
            format!("{}::{prices}", q(self.mapping.required[3].1)),
            self.present("cancel_at_period_end").map_or("NULL::boolean".into(), |(c, _)| format!("{}::boolean", q(c))),
            self.present("current_period_start").map_or("NULL::bigint".into(), |(c, t)| epoch(c, t)),
            self.present("current_period_end").map_or("NULL::bigint".into(), |(c, t)| epoch(c, t)),
        ]
    }
}

/// Checks the mapped table and its columns against the catalog.
pub(super) async fn describe<'a>(conn: &mut sqlx::PgConnection, target: &Target, cfg: &'a BillingDatabaseConfig) -> Result<Table<'a>, CheckError> {
    let timeout = cfg.statement_timeout_secs;
    let m = Mapping::of(cfg)?;
    let columns: Vec<(String, String)> = sqlx::query_as(
        "SELECT column_name::text, data_type::text FROM information_schema.columns \
         WHERE table_name = $1 AND table_schema = COALESCE($2, current_schema()) ORDER BY ordinal_position",
    )
    .bind(m.table)
    .bind(m.schema)
    .fetch_all(&mut *conn)
    .await
    .map_err(|e| errors::query_error(target, &e, timeout))?;
    if columns.is_empty() {
        let tables: Vec<(String,)> = sqlx::query_as(
            "SELECT table_schema::text || '.' || table_name::text FROM information_schema.tables \
             WHERE table_schema NOT IN ('pg_catalog', 'information_schema') AND table_name ILIKE '%subscription%' ORDER BY 1 LIMIT 20",
        )
        .fetch_all(&mut *conn)
        .await
        .map_err(|e| errors::query_error(target, &e, timeout))?;
        let found: Vec<String> = tables.into_iter().map(|t| t.0).collect();
        return Err(CheckError::Database(format!(
            "table `{}` ([billing.database] table) does not exist in {} (or this role cannot see it); {}. Run the sync (the Stripe sync engine creates stripe.subscriptions) or map your own table",
            m.shown_table(),
            target.describe(),
            if found.is_empty() { "no table named like *subscription* is visible".to_string() } else { format!("tables named like it: {}", found.join(", ")) }
        )));
    }
    let table = Table { mapping: m, columns, notes: Vec::new() };
    let names: Vec<String> = table.columns.iter().map(|(c, _)| c.clone()).collect();
    for (key, name) in &table.mapping.required {
        if table.type_of(name).is_none() {
            let hint = closest(name, &names).map(|s| format!("; did you mean `{s}`?")).unwrap_or_default();
            return Err(CheckError::Database(format!(
                "column `{name}` ([billing.database.columns] {key}) does not exist in table `{}` of {}: its columns are {}{hint}",
                table.shown(),
                target.describe(),
                names.join(", ")
            )));
        }
    }
    let mut notes = Vec::new();
    for (key, name) in &table.mapping.optional {
        if table.type_of(name).is_none() {
            let effect = match *key {
                "cancel_at_period_end" => "scheduled cancellations are read as none",
                "current_period_start" => "past_due grace is measured from nothing (no grace)",
                "current_period_end" => "a scheduled cancellation's end is unknown",
                _ => "how old the copy is was not checked",
            };
            notes.push(format!("table `{}` has no column `{name}` ([billing.database.columns] {key}): {effect}", table.shown()));
        }
    }
    Ok(Table { notes, ..table })
}

async fn read_rows(
    conn: &mut sqlx::PgConnection,
    target: &Target,
    cfg: &BillingDatabaseConfig,
    now: i64,
    obs: &mut Observations,
) -> Result<SubscriptionsRead, CheckError> {
    let table = describe(conn, target, cfg).await?;
    let n = stream_rows(conn, target, &table, cfg.statement_timeout_secs, None, obs).await?;
    let mut notes = table.notes.clone();
    notes.extend(stale_note(conn, target, &table, cfg, now).await?);
    if n == 0 {
        notes.push(format!("table `{}` holds no subscriptions: is the sync running?", table.shown()));
    }
    Ok(SubscriptionsRead { source: format!("postgres:{} (table {})", target.place_and_db(), table.shown()), rows: n, notes })
}

/// Reads the rows into `obs`, ordered by id (byte order) so that a report names the same
/// examples whatever order the table stores its rows in; with `customers`, only the rows of
/// those customer ids (trimmed). Returns how many rows were read.
pub(super) async fn stream_rows(
    conn: &mut sqlx::PgConnection,
    target: &Target,
    table: &Table<'_>,
    timeout: u64,
    customers: Option<&[String]>,
    obs: &mut Observations,
) -> Result<usize, CheckError> {
    let q = |name: &str| Dialect::Postgres.quote(name);
    let filter = match customers {
        Some(_) => format!(" WHERE COALESCE({}, '') = ANY($1)", super::pushdown_sql::trimmed(&format!("{}::text", q(table.required("customer"))))),
        None => String::new(),
    };
    let select = table.select(false);
    // `ORDER BY 1 COLLATE` would sort by the constant 1: name the expression.
    let sql = format!("SELECT {} FROM {}{filter} ORDER BY {} COLLATE \"C\"", select.join(", "), table.from(), select[0]);
    let mut query = sqlx::query(AssertSqlSafe(sql));
    if let Some(customers) = customers {
        query = query.bind(customers);
    }
    let mut rows = query.fetch(&mut *conn);
    let mut n = 0usize;
    while let Some(row) = rows.try_next().await.map_err(|e| errors::query_error(target, &e, timeout))? {
        n += 1;
        let get = |i: usize| -> Result<Option<String>, CheckError> { row.try_get::<Option<String>, _>(i).map_err(|e| errors::query_error(target, &e, timeout)) };
        let Some(id) = get(0)?.filter(|s| !s.trim().is_empty()) else {
            return Err(CheckError::Database(format!("a row of `{}` has a null or empty id", table.shown())));
        };
        let customer = get(1)?.unwrap_or_default();
        let status = get(2)?.unwrap_or_default();
        let (prices, item_period) = match (table.price_per_row(), get(3)?) {
            (true, Some(p)) => (vec![p], (None, None)),
            (_, None) => (Vec::new(), (None, None)),
            (false, Some(items)) => items_of(&items).map_err(|why| odd_items(&id, &table.shown(), &why))?,
        };
        let cancel: Option<bool> = row.try_get(4).map_err(|e| errors::query_error(target, &e, timeout))?;
        // Stripe API versions from 2025 keep the period on each item, not on the subscription.
        let start: Option<i64> = row.try_get::<Option<i64>, _>(5).map_err(|e| errors::query_error(target, &e, timeout))?.or(item_period.0);
        let end: Option<i64> = row.try_get::<Option<i64>, _>(6).map_err(|e| errors::query_error(target, &e, timeout))?.or(item_period.1);
        let sub = Subscription {
            id: obs.strings.push_unindexed(id.trim()),
            // Linked to the users' customer ids later, by Observations::link_customers.
            customer: obs.strings.push_unindexed(customer.trim()),
            status: Status::parse(&status, &mut obs.strings),
            prices: prices.iter().map(|p| obs.strings.get_or_intern(p.trim())).collect(),
            cancel_at_period_end: cancel.unwrap_or(false),
            period_start: start.into(),
            period_end: end.into(),
        };
        obs.subscriptions.push(sub);
    }
    Ok(n)
}

/// Characters `str::trim` removes that SQL must remove alike (btrim's second argument).
pub(super) const WHITESPACE: &str = "E' \\t\\n\\r\\f\\x0B'";

/// The error for an items value of a shape billguard does not read.
pub(super) fn odd_items(id: &str, table: &str, why: &str) -> CheckError {
    CheckError::Database(format!(
        "subscription {id} in `{table}`: [billing.database.columns] items is {why}; expected Stripe's items list ({{\"data\":[{{\"price\":{{\"id\":…}}}}]}}) or an array of items"
    ))
}

/// A note when the newest synced row is older than `stale_after_hours`.
pub(super) async fn stale_note(conn: &mut sqlx::PgConnection, target: &Target, table: &Table<'_>, cfg: &BillingDatabaseConfig, now: i64) -> Result<Option<String>, CheckError> {
    let Some((c, t)) = table.present("synced_at") else { return Ok(None) };
    // The newest value first, then its epoch: no conversion per row.
    let q = Dialect::Postgres.quote(c);
    let sql = format!("SELECT {} FROM (SELECT max({q}) AS {q} FROM {}) AS newest", epoch(c, t), table.from());
    let newest: Option<i64> = sqlx::query_scalar(AssertSqlSafe(sql)).fetch_one(&mut *conn).await.map_err(|e| errors::query_error(target, &e, cfg.statement_timeout_secs))?;
    let Some(newest) = newest else { return Ok(None) };
    let hours = (now - newest + 1800) / 3600; // rounded: the two clocks differ by seconds
    Ok((hours >= cfg.stale_after_hours as i64).then(|| {
        format!(
            "the newest row of `{}` was synced {hours} h ago (`{c}`), more than [billing.database] stale_after_hours = {}: the copy may be behind the provider, and findings may be about changes it has not seen",
            table.shown(),
            cfg.stale_after_hours
        )
    }))
}

/// The price ids of a JSON items value, and the first item's current period
/// (`current_period_start`, `current_period_end`) when items carry it. Parsed into
/// borrowed fields only: a million rows of Stripe's item objects are read without
/// building their other fields.
pub fn items_of(items: &str) -> Result<(Vec<String>, (Option<i64>, Option<i64>)), String> {
    let shown = || format!("JSON of another shape (`{}`)", secrets::redact(&items.chars().take(60).collect::<String>()));
    let rows: Vec<ItemRow<'_>> = match items.trim_start().as_bytes().first() {
        Some(b'{') => serde_json::from_str::<ItemList<'_>>(items).map_err(|_| shown())?.data.ok_or_else(shown)?,
        Some(b'[') => serde_json::from_str(items).map_err(|_| shown())?,
        _ if items.trim() == "null" => return Ok((Vec::new(), (None, None))),
        _ => return Err(shown()),
    };
    let period = rows.first().map_or((None, None), |r| (r.current_period_start, r.current_period_end));
    let prices = rows.into_iter().filter_map(|r| r.price.map(|p| p.0).or(r.plan.map(|p| p.0)).map(|p| p.into_owned())).collect();
    Ok((prices, period))
}

#[derive(serde::Deserialize)]
struct ItemList<'a> {
    #[serde(borrow)]
    data: Option<Vec<ItemRow<'a>>>,
}

#[derive(serde::Deserialize)]
struct ItemRow<'a> {
    #[serde(borrow, default)]
    price: Option<IdRef<'a>>,
    #[serde(borrow, default)]
    plan: Option<IdRef<'a>>,
    #[serde(default)]
    current_period_start: Option<i64>,
    #[serde(default)]
    current_period_end: Option<i64>,
}

/// An id given as a string, or as an object's `id` (its other fields skipped unbuilt).
struct IdRef<'a>(std::borrow::Cow<'a, str>);

impl<'de: 'a, 'a> serde::Deserialize<'de> for IdRef<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = IdRef<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an id or an object with an id")
            }
            fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(IdRef(std::borrow::Cow::Borrowed(v)))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(IdRef(std::borrow::Cow::Owned(v.to_string())))
            }
            fn visit_map<M: serde::de::MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
                let mut id = None;
                while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    if key == "id" && id.is_none() {
                        id = Some(map.next_value::<std::borrow::Cow<'de, str>>()?);
                    } else {
                        map.next_value::<serde::de::IgnoredAny>()?;
                    }
                }
                id.map(IdRef).ok_or_else(|| serde::de::Error::missing_field("id"))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prices_of(items: &str) -> Result<Vec<String>, String> {
        items_of(items).map(|(prices, _)| prices)
    }

    #[test]
    fn items_in_every_stored_shape() {
        assert_eq!(prices_of(r#"{"object":"list","data":[{"id":"si_1","price":{"id":"price_pro"}}]}"#).unwrap(), ["price_pro"]);
        assert_eq!(prices_of(r#"[{"price":"price_a"},{"price":{"id":"price_b"}},{"plan":{"id":"plan_c"}}]"#).unwrap(), ["price_a", "price_b", "plan_c"]);
        assert_eq!(prices_of("null").unwrap(), Vec::<String>::new());
        assert!(prices_of(r#""price_x""#).unwrap_err().contains("another shape"));
        assert!(prices_of(r#"{"items":[]}"#).unwrap_err().contains("another shape"));
        assert!(prices_of("not json").is_err());
        let (prices, period) = items_of(r#"{"data":[{"price":{"id":"price_pro"},"current_period_start":10,"current_period_end":20}]}"#).unwrap();
        assert_eq!((prices, period), (vec!["price_pro".to_string()], (Some(10), Some(20))));
    }

    #[test]
    fn the_mapping_takes_plain_names_only() {
        let mut cfg = BillingDatabaseConfig::default();
        assert!(Mapping::of(&cfg).is_ok());
        cfg.columns.status = "status; DROP TABLE users".into();
        assert!(matches!(Mapping::of(&cfg), Err(CheckError::Usage(m)) if m.contains("not a plain name")));
        let mut cfg = BillingDatabaseConfig::default();
        cfg.table = "stripe.subscriptions, pg_shadow".into();
        assert!(Mapping::of(&cfg).is_err());
        let mut cfg = BillingDatabaseConfig::default();
        cfg.columns.items = None;
        assert!(Mapping::of(&cfg).is_err(), "items or price is needed");
        cfg.columns.price = Some("price_id".into());
        assert_eq!(Mapping::of(&cfg).unwrap().required[3], ("price", "price_id"));
    }
}
