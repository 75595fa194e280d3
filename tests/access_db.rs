//! The access contract against real databases: a PostgreSQL server started
//! for the test, and SQLite files, each seeded in three schema styles
//! (a boolean flag column; a plan column with an access expression; access
//! derived from a separate table through a custom query). Fixture
//! subscriptions supply the billing side.

mod support;

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;
use support::postgres::PgServer;

const RO_USER: &str = "app_ro";
const RO_PASSWORD: &str = "ro-Pw-9xLm2Qv7";

/// Subscriptions shared by every style: see `expected()` for what they imply.
const SUBSCRIPTIONS: &str = r#"{"object":"list","has_more":false,"data":[
 {"id":"sub_a","object":"subscription","customer":"cus_a","status":"active","items":{"object":"list","data":[{"price":{"id":"price_pro"}}]}},
 {"id":"sub_b","object":"subscription","customer":"cus_b","status":"canceled","items":{"object":"list","data":[{"price":{"id":"price_pro"}}]}},
 {"id":"sub_c","object":"subscription","customer":"cus_c","status":"active","items":{"object":"list","data":[{"price":{"id":"price_team"}}]}},
 {"id":"sub_d","object":"subscription","customer":"cus_d","status":"active","items":{"object":"list","data":[{"price":{"id":"price_pro"}}]}}
]}"#;

const PLANS: &str = "[access.plans]\nprice_pro = \"pro\"\nprice_team = \"team\"\n";

/// User 2 kept access after canceling, user 3 pays without access, user 4 has the wrong plan.
fn expected() -> Vec<(String, String)> {
    vec![("ACC001".into(), "user:3".into()), ("ACC002".into(), "user:2".into()), ("ACC003".into(), "user:4".into())]
}

/// The three styles' `[database]` sections (the URL always comes from DATABASE_URL).
fn style_config(style: &str) -> String {
    match style {
        "flag" => "[database]\ntable = \"users\"\n".into(),
        "expression" => "[database]\ntable = \"accounts\"\n[database.columns]\nid = \"id\"\ncustomer_id = \"customer\"\naccess = \"plan <> 'free'\"\nplan = \"plan\"\n".into(),
        "query" => "[database]\nquery = \"\"\"\nSELECT m.id, b.stripe_customer_id AS customer_id,\n       (b.status IN ('active', 'trialing')) AS access, m.plan\nFROM members m LEFT JOIN billing b ON b.member_id = m.id\n\"\"\"\n".into(),
        other => panic!("{other}"),
    }
}

/// The same rows in each style. `bool` is how the dialect writes true/false.
fn seed_sql(t: &str, f: &str) -> String {
    format!(
        "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT, stripe_customer_id TEXT, has_paid_access BOOLEAN NOT NULL, plan TEXT, pro_until TIMESTAMP);
         INSERT INTO users VALUES (1, 'a@example.com', 'cus_a', {t}, 'pro', NULL), (2, 'b@example.com', 'cus_b', {t}, 'pro', NULL),
                                  (3, 'c@example.com', 'cus_c', {f}, 'free', NULL), (4, 'd@example.com', 'cus_d', {t}, 'team', NULL),
                                  (5, 'e@example.com', NULL, {f}, 'free', NULL);
         CREATE TABLE accounts (id INTEGER PRIMARY KEY, customer TEXT, plan TEXT NOT NULL);
         INSERT INTO accounts VALUES (1, 'cus_a', 'pro'), (2, 'cus_b', 'pro'), (3, 'cus_c', 'free'), (4, 'cus_d', 'team'), (5, NULL, 'free');
         CREATE TABLE members (id INTEGER PRIMARY KEY, email TEXT, plan TEXT);
         INSERT INTO members VALUES (1, 'a@example.com', 'pro'), (2, 'b@example.com', 'pro'), (3, 'c@example.com', 'free'),
                                    (4, 'd@example.com', 'team'), (5, 'e@example.com', NULL);
         CREATE TABLE billing (member_id INTEGER, stripe_customer_id TEXT, status TEXT);
         INSERT INTO billing VALUES (1, 'cus_a', 'active'), (2, 'cus_b', 'active'), (3, 'cus_c', 'canceled'), (4, 'cus_d', 'active');
         CREATE TABLE audit_log (id INTEGER);"
    )
}

/// A repo with a fixtures dir holding only subscriptions: users come from the database.
fn repo_with(config: &str) -> tempfile::TempDir {
    let repo = tempfile::tempdir().unwrap();
    let fx = repo.path().join("fx");
    std::fs::create_dir_all(fx.join("stripe")).unwrap();
    std::fs::write(fx.join("stripe/subscriptions.json"), SUBSCRIPTIONS).unwrap();
    std::fs::write(fx.join("billguard.toml"), format!("{config}\n{PLANS}")).unwrap();
    repo
}

fn check(repo: &Path, url: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_billguard"))
        .current_dir(repo)
        .args(["check", "access", "--fixtures", "fx", "--format", "json"])
        .env("DATABASE_URL", url)
        .output()
        .unwrap()
}

fn findings(out: &Output) -> (Value, Vec<(String, String)>) {
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: stdout={} stderr={}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)));
    let pairs = support::rule_entities(&report);
    (report, pairs)
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn assert_error(out: &Output, needles: &[&str]) {
    assert_eq!(out.status.code(), Some(2), "expected exit 2; stdout={}", String::from_utf8_lossy(&out.stdout));
    let err = stderr(out);
    for n in needles {
        assert!(err.contains(n), "missing {n:?} in: {err}");
    }
    assert!(!err.contains(RO_PASSWORD) && !err.contains(RO_USER), "credentials leaked: {err}");
}

fn start_seeded_postgres() -> PgServer {
    let pg = PgServer::start();
    pg.sql("postgres", &format!("CREATE ROLE {RO_USER} LOGIN PASSWORD '{RO_PASSWORD}'"));
    pg.sql("postgres", &format!("CREATE DATABASE app OWNER {RO_USER}"));
    let seed = seed_sql("true", "false").replace("INTEGER PRIMARY KEY", "INTEGER PRIMARY KEY").replace("TIMESTAMP", "TIMESTAMPTZ");
    pg.sql("app", &seed);
    pg.sql("app", &format!("ALTER TABLE users OWNER TO {RO_USER}; GRANT SELECT ON ALL TABLES IN SCHEMA public TO {RO_USER}"));
    pg
}

#[test]
fn postgres_three_schema_styles() {
    let pg = start_seeded_postgres();
    let url = pg.url(RO_USER, RO_PASSWORD, "app");
    for style in ["flag", "expression", "query"] {
        let repo = repo_with(&style_config(style));
        let out = check(repo.path(), &url);
        let (report, pairs) = findings(&out);
        assert_eq!(pairs, expected(), "style {style}: {report:#}");
        assert_eq!(out.status.code(), Some(1), "style {style}");
        assert_eq!(report["scope"]["source"], "fixtures+postgres", "{style}");
        assert_eq!(report["scope"]["users"], 5, "{style}");
        let users_source = report["scope"]["users_source"].as_str().unwrap();
        assert!(users_source.starts_with(&format!("postgres:127.0.0.1:{}/app", pg.port)), "{users_source}");
        let all = String::from_utf8_lossy(&out.stdout).into_owned() + &stderr(&out);
        assert!(!all.contains(RO_PASSWORD) && !all.contains(RO_USER), "credentials leaked in {style}: {all}");
    }
}

#[test]
fn postgres_connection_is_read_only() {
    let pg = start_seeded_postgres();
    let url = pg.url(RO_USER, RO_PASSWORD, "app");
    // A SELECT that writes through a function: it passes the single-SELECT
    // check, so only the read-only transaction stands between it and the
    // table (app_ro owns the table and may write it otherwise).
    pg.sql("app", &format!(
        "CREATE FUNCTION grant_everyone() RETURNS int LANGUAGE sql AS $$ UPDATE users SET has_paid_access = true; SELECT 1 $$;
         ALTER FUNCTION grant_everyone() OWNER TO {RO_USER}"
    ));
    let sneaky = "[database]\nquery = \"SELECT id, stripe_customer_id AS customer_id, has_paid_access AS access FROM users WHERE grant_everyone() = 1\"\n";
    let out = check(repo_with(sneaky).path(), &url);
    assert_error(&out, &["tried to write", "read-only"]);
    // Nothing was written: the same findings as before.
    let out = check(repo_with(&style_config("flag")).path(), &url);
    assert_eq!(findings(&out).1, expected());

    let two = "[database]\nquery = \"SELECT id, stripe_customer_id AS customer_id, has_paid_access AS access FROM users; DELETE FROM users\"\n";
    assert_error(&check(repo_with(two).path(), &url), &["single statement"]);
}

#[test]
fn postgres_errors_are_actionable() {
    let pg = start_seeded_postgres();
    let good = pg.url(RO_USER, RO_PASSWORD, "app");
    let flag = style_config("flag");

    // Nothing listens on this port.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let refused = format!("postgres://{RO_USER}:{RO_PASSWORD}@127.0.0.1:{closed}/app");
    assert_error(&check(repo_with(&flag).path(), &refused), &[&format!("127.0.0.1:{closed}"), "connection refused"]);

    assert_error(&check(repo_with(&flag).path(), &pg.url(RO_USER, "wrong-password", "app")), &["authentication failed", "DATABASE_URL"]);
    assert_error(&check(repo_with(&flag).path(), &pg.url(RO_USER, RO_PASSWORD, "nope")), &["database `nope` does not exist"]);

    let no_table = "[database]\ntable = \"customers_v2\"\n";
    assert_error(&check(repo_with(no_table).path(), &good), &["table `customers_v2` does not exist", "users", "accounts"]);

    let no_column = "[database]\ntable = \"users\"\n[database.columns]\ncustomer_id = \"stripe_customer\"\n";
    assert_error(&check(repo_with(no_column).path(), &good), &["column `stripe_customer`", "did you mean `stripe_customer_id`"]);

    let not_bool = "[database]\ntable = \"users\"\n[database.columns]\naccess = \"plan\"\n";
    assert_error(&check(repo_with(not_bool).path(), &good), &["not boolean-like", "plan <> 'free'"]);

    let wrong_cols = "[database]\nquery = \"SELECT id, email FROM users\"\n";
    assert_error(&check(repo_with(wrong_cols).path(), &good), &["must yield the columns id, customer_id, access", "lacks customer_id, access"]);

    let slow = "[database]\nstatement_timeout_secs = 1\nquery = \"SELECT id, stripe_customer_id AS customer_id, has_paid_access AS access FROM users, pg_sleep(3)\"\n";
    assert_error(&check(repo_with(slow).path(), &good), &["statement timeout (1 s)"]);

    let missing_env = Command::new(env!("CARGO_BIN_EXE_billguard"))
        .current_dir(repo_with(&flag).path())
        .args(["check", "access", "--fixtures", "fx"])
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    assert_error(&missing_env, &["DATABASE_URL", "db/users.json"]);
}

fn sqlite_db(dir: &Path) -> String {
    let file = dir.join("app.db");
    let url = format!("sqlite://{}?mode=rwc", file.display());
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        use sqlx::Connection;
        let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(seed_sql("1", "0"))).execute(&mut conn).await.unwrap();
        conn.close().await.unwrap();
    });
    "sqlite://app.db".into()
}

#[test]
fn sqlite_three_schema_styles_with_a_repo_relative_path() {
    for style in ["flag", "expression", "query"] {
        let repo = repo_with(&style_config(style));
        let url = sqlite_db(repo.path());
        let out = check(repo.path(), &url);
        let (report, pairs) = findings(&out);
        assert_eq!(pairs, expected(), "style {style}: {report:#}");
        assert_eq!(report["scope"]["source"], "fixtures+sqlite");
    }
}

#[test]
fn sqlite_errors_are_actionable() {
    let repo = repo_with(&style_config("flag"));
    assert_error(&check(repo.path(), "sqlite://missing.db"), &["missing.db does not exist"]);
    let url = sqlite_db(repo.path());
    let no_table = repo_with("[database]\ntable = \"people\"\n");
    std::fs::copy(repo.path().join("app.db"), no_table.path().join("app.db")).unwrap();
    assert_error(&check(no_table.path(), &url), &["table `people` does not exist", "users", "accounts"]);
    let no_col = repo_with("[database]\n[database.columns]\naccess = \"paid\"\n");
    std::fs::copy(repo.path().join("app.db"), no_col.path().join("app.db")).unwrap();
    assert_error(&check(no_col.path(), &url), &["column `paid`", "did you mean `has_paid_access`"]);
    assert_error(&check(repo.path(), "redis://localhost"), &["postgres://, mysql:// or sqlite://"]);
}

#[test]
fn mariadb_styles_read_only_and_errors() {
    let db = support::mysql::MariaServer::start();
    let seed = seed_sql("TRUE", "FALSE");
    let mut statements: Vec<String> = vec![
        "CREATE DATABASE app".into(),
        format!("CREATE USER '{RO_USER}'@'%' IDENTIFIED BY '{RO_PASSWORD}'"),
        format!("GRANT ALL PRIVILEGES ON app.* TO '{RO_USER}'@'%'"),
    ];
    statements.extend(seed.split(';').map(str::trim).filter(|s| !s.is_empty()).map(|s| format!("USE app; {s}")));
    statements.push(
        "CREATE FUNCTION app.grant_everyone() RETURNS INT MODIFIES SQL DATA BEGIN UPDATE app.users SET has_paid_access = TRUE; RETURN 1; END"
            .into(),
    );
    let refs: Vec<&str> = statements.iter().map(String::as_str).collect();
    db.sql("mysql", &refs);
    let url = db.url(RO_USER, RO_PASSWORD, "app");

    for style in ["flag", "expression", "query"] {
        let out = check(repo_with(&style_config(style)).path(), &url);
        let (report, pairs) = findings(&out);
        assert_eq!(pairs, expected(), "style {style}: {report:#}");
        assert_eq!(report["scope"]["source"], "fixtures+mysql");
    }

    let sneaky = "[database]\nquery = \"SELECT id, stripe_customer_id AS customer_id, has_paid_access AS access FROM users WHERE grant_everyone() = 1\"\n";
    assert_error(&check(repo_with(sneaky).path(), &url), &["tried to write"]);
    assert_eq!(findings(&check(repo_with(&style_config("flag")).path(), &url)).1, expected(), "nothing was written");

    let flag = style_config("flag");
    assert_error(&check(repo_with(&flag).path(), &db.url(RO_USER, "wrong-password", "app")), &["authentication failed"]);
    assert_error(&check(repo_with(&flag).path(), &db.url(RO_USER, RO_PASSWORD, "nope")), &["database `nope` does not exist"]);
    assert_error(&check(repo_with("[database]\ntable = \"people\"\n").path(), &url), &["table `people` does not exist", "users"]);
    assert_error(
        &check(repo_with("[database]\n[database.columns]\ncustomer_id = \"stripe_customer\"\n").path(), &url),
        &["did you mean `stripe_customer_id`"],
    );
}

#[test]
fn postgres_refuses_calls_past_the_transaction_and_names_a_role_that_can_write() {
    let pg = start_seeded_postgres();
    let url = pg.url(RO_USER, RO_PASSWORD, "app");
    // app_ro owns `users`: it could write; billguard says so and how to make a read-only role.
    let out = check(repo_with(&style_config("flag")).path(), &url);
    let (report, _) = findings(&out);
    let notes = report["notes"].to_string();
    assert!(notes.contains("may write to users") && notes.contains("GRANT SELECT ON users TO billguard_ro"), "{notes}");
    // A role that can only select: no note.
    pg.sql("app", "CREATE ROLE sel_only LOGIN PASSWORD 'sel-Pw-4kQ8'; GRANT SELECT ON users TO sel_only");
    let out = check(repo_with(&style_config("flag")).path(), &pg.url("sel_only", "sel-Pw-4kQ8", "app"));
    let (report, _) = findings(&out);
    assert!(!report["notes"].to_string().contains("may write"), "{}", report["notes"]);
    // dblink_exec would write through a second connection despite READ ONLY: refused before it is sent.
    let query = "[database]\nquery = \"SELECT id, stripe_customer_id AS customer_id, dblink_exec('dbname=app', 'DELETE FROM users') IS NOT NULL AS access FROM users\"\n";
    assert_error(&check(repo_with(query).path(), &url), &["dblink_exec", "refuses"]);
    assert_error(&check(repo_with("[database]\ntable = \"users\"\nstatement_timeout_secs = 0\n").path(), &url), &["statement_timeout_secs = 0"]);
}

#[test]
fn sqlite_reads_stop_at_the_timeout_and_leave_no_files_behind() {
    let repo = repo_with("[database]\nquery = \"\"\"\nWITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT i AS id, 'cus' AS customer_id, 1 AS access FROM n WHERE i < 0\n\"\"\"\nstatement_timeout_secs = 1\n");
    let url = sqlite_db(repo.path());
    let start = std::time::Instant::now();
    assert_error(&check(repo.path(), &url), &["took longer than the statement timeout (1 s)"]);
    assert!(start.elapsed().as_secs() < 20, "the endless query was stopped");

    // A WAL-mode database, checkpointed: reading it creates neither -wal nor -shm.
    let repo = repo_with(&style_config("flag"));
    let url = sqlite_db(repo.path());
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        use sqlx::Connection;
        let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", repo.path().join("app.db").display())).await.unwrap();
        sqlx::raw_sql("PRAGMA journal_mode=WAL").execute(&mut conn).await.unwrap();
        conn.close().await.unwrap();
    });
    let before: Vec<String> = std::fs::read_dir(repo.path()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    assert!(!before.iter().any(|n| n.ends_with("-wal") || n.ends_with("-shm")), "{before:?}");
    let (_, pairs) = findings(&check(repo.path(), &url));
    assert_eq!(pairs, expected());
    let after: Vec<String> = std::fs::read_dir(repo.path()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    assert!(!after.iter().any(|n| n.ends_with("-wal") || n.ends_with("-shm")), "files created: {after:?}");
}
