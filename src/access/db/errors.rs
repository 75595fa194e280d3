//! Database failures in words a person can act on. The URL's user and
//! password never appear: only the dialect, host, port and database name.

use std::io::ErrorKind;

use super::sql::Dialect;
use crate::error::CheckError;
use crate::secrets;

/// Where billguard tried to read users, as far as it may be shown.
#[derive(Debug, Clone)]
pub struct Target {
    pub dialect: Dialect,
    /// `host:port` for servers, the file path for SQLite.
    pub place: String,
    pub database: Option<String>,
    /// The variable that holds the URL, named in every hint.
    pub url_env: String,
}

impl Target {
    pub fn describe(&self) -> String {
        match self.dialect {
            Dialect::Sqlite => format!("SQLite file {}", self.place),
            d => match &self.database {
                Some(db) => format!("{} at {}/{db}", d.name(), self.place),
                None => format!("{} at {}", d.name(), self.place),
            },
        }
    }

    fn err(&self, message: String) -> CheckError {
        CheckError::Database(secrets::redact(&message))
    }
}

/// A failure while opening the connection.
pub fn connect_error(t: &Target, e: &sqlx::Error) -> CheckError {
    let env = &t.url_env;
    if let Some(code) = db_code(e) {
        match (t.dialect, code.as_str()) {
            (Dialect::Postgres, "28P01" | "28000") | (Dialect::MySql, "1045" | "28000") => {
                return t.err(format!(
                    "authentication failed on {}: check the user and password in {env} (billguard never shows them)",
                    t.describe()
                ));
            }
            (Dialect::Postgres, "3D000") | (Dialect::MySql, "1049" | "42000") => {
                return t.err(format!(
                    "database `{}` does not exist on {} {}: check the database name at the end of {env}",
                    t.database.as_deref().unwrap_or("?"),
                    t.dialect.name(),
                    t.place
                ));
            }
            _ => {}
        }
    }
    match e {
        sqlx::Error::Io(io) => {
            let why = match io.kind() {
                ErrorKind::ConnectionRefused => "connection refused".to_string(),
                ErrorKind::TimedOut => "timed out".to_string(),
                _ => io.to_string(),
            };
            t.err(format!(
                "cannot connect to {}: {why}. Is the server running, and are the host and port in {env} right?",
                t.describe()
            ))
        }
        sqlx::Error::Configuration(c) => {
            t.err(format!("{env} is not a usable database URL ({c}); expected postgres://, mysql:// or sqlite://"))
        }
        sqlx::Error::Database(d) if t.dialect == Dialect::Sqlite => {
            t.err(format!("cannot open {}: {} (the file must exist; billguard opens it read-only)", t.describe(), d.message()))
        }
        other => t.err(format!("cannot connect to {}: {other}", t.describe())),
    }
}

/// A connection that took too long to open.
pub fn connect_timeout(t: &Target, secs: u64) -> CheckError {
    t.err(format!(
        "cannot connect to {}: timed out after {secs} s. Check the host and port in {} and any firewall between",
        t.describe(),
        t.url_env
    ))
}

/// A failure while reading users.
pub fn query_error(t: &Target, e: &sqlx::Error, timeout_secs: u64) -> CheckError {
    let code = db_code(e).unwrap_or_default();
    let message = match e {
        sqlx::Error::Database(d) => d.message().to_string(),
        other => other.to_string(),
    };
    let readonly = matches!((t.dialect, code.as_str()), (Dialect::Postgres, "25006") | (Dialect::MySql, "1792" | "25006"))
        || (t.dialect == Dialect::Sqlite && message.contains("readonly"));
    if readonly {
        return t.err(format!(
            "the query tried to write, and billguard's read-only connection refused it ({message}); [database] query must only read"
        ));
    }
    // SQLite's progress handler interrupts the statement at the deadline (SQLITE_INTERRUPT, 9).
    let timed_out = matches!((t.dialect, code.as_str()), (Dialect::Postgres, "57014") | (Dialect::MySql, "3024" | "1969") | (Dialect::Sqlite, "9"))
        || (t.dialect == Dialect::Sqlite && message.contains("interrupted"));
    if timed_out {
        return t.err(format!(
            "reading users from {} took longer than the statement timeout ({timeout_secs} s); raise [database] statement_timeout_secs or make the query cheaper",
            t.describe()
        ));
    }
    if let sqlx::Error::Io(_) = e {
        return t.err(format!("the connection to {} broke while reading users: {message}", t.describe()));
    }
    t.err(format!("reading users from {} failed: {message}", t.describe()))
}

fn db_code(e: &sqlx::Error) -> Option<String> {
    match e {
        sqlx::Error::Database(d) => d.code().map(|c| c.into_owned()),
        _ => None,
    }
}
