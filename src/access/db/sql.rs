//! The SQL billguard sends: built from `[database]`, validated before it runs.
//! Pure functions; the dialect only changes quoting and casts.

use crate::config::DatabaseConfig;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Postgres,
    MySql,
    Sqlite,
}

impl Dialect {
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Postgres => "Postgres",
            Dialect::MySql => "MySQL",
            Dialect::Sqlite => "SQLite",
        }
    }

    pub fn quote(self, ident: &str) -> String {
        match self {
            Dialect::MySql => format!("`{}`", ident.replace('`', "``")),
            _ => format!("\"{}\"", ident.replace('"', "\"\"")),
        }
    }

    /// A cast to text, so ids of any type (uuid, bigint, varchar) read alike.
    fn text(self, expr: &str) -> String {
        match self {
            Dialect::MySql => format!("CAST({expr} AS CHAR)"),
            _ => format!("CAST({expr} AS TEXT)"),
        }
    }
}

/// A plain identifier (a column name), as opposed to an SQL expression.
pub fn is_plain_name(s: &str) -> bool {
    let mut chars = s.trim().chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_') && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A configured column: quoted when it is a plain name, verbatim when it is an expression.
fn column(dialect: Dialect, configured: &str) -> String {
    let c = configured.trim();
    if is_plain_name(c) { dialect.quote(c) } else { format!("({c})") }
}

/// `schema.table` or `table`, each part quoted.
pub fn table_ref(dialect: Dialect, table: &str) -> String {
    table.split('.').map(|part| dialect.quote(part.trim())).collect::<Vec<_>>().join(".")
}

/// The query for `table` + `columns`. `with_plan` is false when the plan column is absent.
pub fn table_query(dialect: Dialect, cfg: &DatabaseConfig, with_plan: bool) -> String {
    let c = &cfg.columns;
    let plan = match (&c.plan, with_plan) {
        (Some(p), true) => format!(", {} AS plan", dialect.text(&column(dialect, p))),
        _ => String::new(),
    };
    format!(
        "SELECT {} AS id, {} AS customer_id, {} AS access{plan} FROM {}",
        dialect.text(&column(dialect, &c.id)),
        dialect.text(&column(dialect, &c.customer_id)),
        column(dialect, &c.access),
        table_ref(dialect, &cfg.table)
    )
}

/// Wraps a custom query so that its columns read alike in every dialect.
pub fn wrapped_query(dialect: Dialect, query: &str, with_plan: bool) -> String {
    let plan = if with_plan { format!(", {} AS plan", dialect.text("billguard_rows.plan")) } else { String::new() };
    format!(
        "SELECT {} AS id, {} AS customer_id, billguard_rows.access AS access{plan} FROM ({}) AS billguard_rows",
        dialect.text("billguard_rows.id"),
        dialect.text("billguard_rows.customer_id"),
        query.trim().trim_end_matches(';').trim()
    )
}

/// A custom query must be one SELECT (or WITH ... SELECT): no second statement,
/// nothing that is not a read. The read-only transaction is the real guard;
/// this check gives the clear message first.
pub fn validate_custom_query(query: &str) -> Result<(), String> {
    let code = strip_comments_and_literals(query);
    let trimmed = code.trim().trim_end_matches(';').trim_end();
    if trimmed.contains(';') {
        return Err("[database] query must be a single statement; it contains `;` between statements".into());
    }
    let first = trimmed.trim_start_matches('(').split_whitespace().next().unwrap_or("").to_ascii_uppercase();
    if first != "SELECT" && first != "WITH" {
        return Err(format!(
            "[database] query must be a SELECT (or WITH ... SELECT); it starts with `{}`",
            if first.is_empty() { "nothing" } else { &first }
        ));
    }
    Ok(())
}

/// Replaces string literals, quoted identifiers and comments with spaces, so
/// that a `;` inside them is not mistaken for a statement separator.
fn strip_comments_and_literals(sql: &str) -> String {
    let b = sql.as_bytes();
    let mut out = String::with_capacity(sql.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\'' | b'"' | b'`' => {
                let q = b[i];
                i += 1;
                while i < b.len() {
                    if b[i] == q {
                        if i + 1 < b.len() && b[i + 1] == q {
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    i += 1;
                }
                i += 1;
                out.push(' ');
            }
            b'-' if b.get(i + 1) == Some(&b'-') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                out.push(' ');
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                    i += 1;
                }
                i += 2;
                out.push(' ');
            }
            c => {
                out.push(c as char);
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ColumnsConfig;

    fn cfg(access: &str, plan: Option<&str>) -> DatabaseConfig {
        DatabaseConfig {
            table: "public.users".into(),
            columns: ColumnsConfig {
                id: "id".into(),
                customer_id: "stripe_customer_id".into(),
                access: access.into(),
                plan: plan.map(str::to_string),
            },
            ..DatabaseConfig::default()
        }
    }

    #[test]
    fn builds_table_queries_per_dialect() {
        let q = table_query(Dialect::Postgres, &cfg("has_paid_access", Some("plan")), true);
        assert_eq!(
            q,
            "SELECT CAST(\"id\" AS TEXT) AS id, CAST(\"stripe_customer_id\" AS TEXT) AS customer_id, \"has_paid_access\" AS access, CAST(\"plan\" AS TEXT) AS plan FROM \"public\".\"users\""
        );
        let q = table_query(Dialect::MySql, &cfg("plan <> 'free'", Some("plan")), false);
        assert_eq!(
            q,
            "SELECT CAST(`id` AS CHAR) AS id, CAST(`stripe_customer_id` AS CHAR) AS customer_id, (plan <> 'free') AS access FROM `public`.`users`"
        );
    }

    #[test]
    fn wraps_custom_queries() {
        let q = wrapped_query(Dialect::Sqlite, "SELECT u.id, s.cus AS customer_id, 1 AS access FROM u JOIN s ON 1;", false);
        assert!(q.ends_with("FROM (SELECT u.id, s.cus AS customer_id, 1 AS access FROM u JOIN s ON 1) AS billguard_rows"), "{q}");
    }

    #[test]
    fn custom_query_must_be_one_select() {
        assert!(validate_custom_query("SELECT id, customer_id, true AS access FROM users").is_ok());
        assert!(validate_custom_query("  with s as (select 1) select * from s;").is_ok());
        assert!(validate_custom_query("SELECT ';' AS x -- ; drop\n FROM t /* ; */").is_ok());
        assert!(validate_custom_query("(SELECT 1)").is_ok());
        let err = validate_custom_query("SELECT 1; DELETE FROM users").unwrap_err();
        assert!(err.contains("single statement"), "{err}");
        let err = validate_custom_query("UPDATE users SET has_paid_access = true").unwrap_err();
        assert!(err.contains("starts with `UPDATE`"), "{err}");
        assert!(validate_custom_query("").is_err());
    }

    #[test]
    fn plain_names_and_expressions() {
        assert!(is_plain_name("has_paid_access"));
        assert!(!is_plain_name("plan <> 'free'"));
        assert!(!is_plain_name("pro_until > now()"));
        assert!(!is_plain_name("1abc"));
    }
}
