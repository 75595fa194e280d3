//! `[billing] source = "database"`: the subscriptions read from a synced copy in
//! the test's PostgreSQL server (the Stripe sync engine's `stripe.subscriptions`
//! shape, and a hand-made table), compared with the app's users in the same
//! database, with the same findings as the same subscriptions given as fixtures.

mod support;

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;
use support::postgres::PgServer;

const RO_USER: &str = "app_ro";
const RO_PASSWORD: &str = "ro-Pw-4kTq8Zr1";
const PLANS: &str = "[access.plans]\nprice_pro = \"pro\"\nprice_team = \"team\"\n";

/// Users: 2 kept access after canceling, 3 pays without access, 4 has the wrong plan,
/// 6 canceled at period end with the period still running (entitled).
const USERS: &str = "CREATE TABLE users (id INTEGER PRIMARY KEY, stripe_customer_id TEXT, has_paid_access BOOLEAN NOT NULL, plan TEXT);
    INSERT INTO users VALUES (1, 'cus_a', true, 'pro'), (2, 'cus_b', true, 'pro'), (3, 'cus_c', false, 'free'),
                             (4, 'cus_d', true, 'team'), (5, NULL, false, 'free'), (6, 'cus_f', true, 'pro');";

/// The sync engine's table: an enum status, Stripe's items list as jsonb, epoch integers.
fn sync_engine_sql(synced_hours_ago: i64) -> String {
    format!(
        "CREATE SCHEMA stripe;
         CREATE TYPE stripe.subscription_status AS ENUM ('trialing', 'active', 'canceled', 'incomplete', 'incomplete_expired', 'past_due', 'unpaid');
         CREATE TABLE stripe.subscriptions (id text PRIMARY KEY, customer text, status stripe.subscription_status, items jsonb,
             cancel_at_period_end boolean, current_period_start integer, current_period_end integer,
             updated_at timestamptz NOT NULL DEFAULT now() - interval '{synced_hours_ago} hours');
         INSERT INTO stripe.subscriptions (id, customer, status, items, cancel_at_period_end, current_period_start, current_period_end) VALUES
           ('sub_a', 'cus_a', 'active', '{{\"object\":\"list\",\"data\":[{{\"id\":\"si_a\",\"price\":{{\"id\":\"price_pro\"}}}}]}}', false, 1, 2000000000),
           ('sub_b', 'cus_b', 'canceled', '{{\"object\":\"list\",\"data\":[{{\"price\":{{\"id\":\"price_pro\"}}}}]}}', false, 1, 2),
           ('sub_c', 'cus_c', 'active', '{{\"object\":\"list\",\"data\":[{{\"price\":{{\"id\":\"price_team\"}}}}]}}', false, 1, 2000000000),
           ('sub_d', 'cus_d', 'active', '{{\"object\":\"list\",\"data\":[{{\"price\":{{\"id\":\"price_pro\"}}}}]}}', false, 1, 2000000000),
           ('sub_f', 'cus_f', 'active', '{{\"object\":\"list\",\"data\":[{{\"price\":{{\"id\":\"price_pro\"}}}}]}}', true, 1, 2000000000);"
    )
}

/// The same subscriptions as a fixtures file, the in-process reference.
const FIXTURE_SUBSCRIPTIONS: &str = r#"{"object":"list","has_more":false,"data":[
 {"id":"sub_a","customer":"cus_a","status":"active","current_period_start":1,"current_period_end":2000000000,"items":{"data":[{"price":{"id":"price_pro"}}]}},
 {"id":"sub_b","customer":"cus_b","status":"canceled","current_period_start":1,"current_period_end":2,"items":{"data":[{"price":{"id":"price_pro"}}]}},
 {"id":"sub_c","customer":"cus_c","status":"active","current_period_start":1,"current_period_end":2000000000,"items":{"data":[{"price":{"id":"price_team"}}]}},
 {"id":"sub_d","customer":"cus_d","status":"active","current_period_start":1,"current_period_end":2000000000,"items":{"data":[{"price":{"id":"price_pro"}}]}},
 {"id":"sub_f","customer":"cus_f","status":"active","cancel_at_period_end":true,"current_period_start":1,"current_period_end":2000000000,"items":{"data":[{"price":{"id":"price_pro"}}]}}
]}"#;

fn start(synced_hours_ago: i64) -> PgServer {
    let pg = PgServer::start();
    pg.sql("postgres", &format!("CREATE ROLE {RO_USER} LOGIN PASSWORD '{RO_PASSWORD}'"));
    pg.sql("postgres", &format!("CREATE DATABASE app OWNER {RO_USER}"));
    pg.sql("app", USERS);
    pg.sql("app", &sync_engine_sql(synced_hours_ago));
    pg.sql("app", &format!("GRANT USAGE ON SCHEMA stripe TO {RO_USER}; GRANT SELECT ON ALL TABLES IN SCHEMA public, stripe TO {RO_USER}"));
    pg
}

fn repo(config: &str) -> tempfile::TempDir {
    let repo = tempfile::tempdir().unwrap();
    std::fs::write(repo.path().join("billguard.toml"), format!("{config}\n{PLANS}")).unwrap();
    repo
}

fn run(repo: &Path, url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_billguard"))
        .current_dir(repo)
        .args(["check", "access", "--format", "json"])
        .args(args)
        .env("DATABASE_URL", url)
        .env_remove("STRIPE_SECRET_KEY")
        .env_remove("BILLGUARD_API_BASE")
        .output()
        .unwrap()
}

fn report(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: stdout={} stderr={}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

fn assert_error(out: &Output, needles: &[&str]) {
    assert_eq!(out.status.code(), Some(2), "stdout={}", String::from_utf8_lossy(&out.stdout));
    let err = String::from_utf8_lossy(&out.stderr);
    for n in needles {
        assert!(err.contains(n), "missing {n:?} in: {err}");
    }
    assert!(!err.contains(RO_PASSWORD), "credentials leaked: {err}");
}

#[test]
fn a_synced_copy_gives_the_same_findings_as_the_same_subscriptions_given_as_fixtures() {
    let pg = start(1);
    let url = pg.url(RO_USER, RO_PASSWORD, "app");
    let config = "[billing]\nsource = \"database\"\n[database]\ntable = \"users\"\n";
    let synced = repo(config);
    let out = run(synced.path(), &url, &[]);
    let v = report(&out);
    let pairs = support::rule_entities(&v);
    assert_eq!(pairs, [("ACC001".to_string(), "user:3".to_string()), ("ACC002".into(), "user:2".into()), ("ACC003".into(), "user:4".into())], "{v:#}");
    assert_eq!(v["scope"]["source"], "postgres");
    assert_eq!(v["scope"]["subscriptions"], 5);
    // A few rows: read and compared here, and the scope says why it was not pushed down.
    let evaluated = v["scope"]["evaluated"].as_str().unwrap();
    assert!(evaluated.starts_with("in-process:") && evaluated.contains("pushdown_min_rows = 2000000"), "{evaluated}");
    let billing = v["scope"]["billing_source"].as_str().unwrap();
    assert!(billing.starts_with(&format!("postgres:127.0.0.1:{}/app (table stripe.subscriptions)", pg.port)), "{billing}");
    assert!(!v["notes"].to_string().contains("synced"), "a fresh copy is not noted: {}", v["notes"]);
    assert!(!String::from_utf8_lossy(&out.stdout).contains(RO_PASSWORD));

    // The reference: the same rows as fixtures, the same users from the database.
    let reference = repo("[database]\ntable = \"users\"\n");
    let fx = reference.path().join("fx");
    std::fs::create_dir_all(fx.join("stripe")).unwrap();
    std::fs::write(fx.join("stripe/subscriptions.json"), FIXTURE_SUBSCRIPTIONS).unwrap();
    let r = report(&run(reference.path(), &url, &["--fixtures", "fx"]));
    let strip = |v: &Value| -> Vec<Value> {
        v["findings"].as_array().unwrap().iter().map(|f| serde_json::json!([f["rule"], f["entity"], f["message"], f["evidence"]])).collect()
    };
    assert_eq!(strip(&v), strip(&r), "the synced copy and the fixtures disagree");
}

#[test]
fn a_stale_copy_is_noted_and_a_hand_made_table_maps_its_columns() {
    let pg = start(72);
    let url = pg.url(RO_USER, RO_PASSWORD, "app");
    let stale = repo("[billing]\nsource = \"database\"\n[database]\ntable = \"users\"\n");
    let v = report(&run(stale.path(), &url, &[]));
    assert!(v["notes"].to_string().contains("was synced 72 h ago (`updated_at`), more than [billing.database] stale_after_hours = 48"), "{}", v["notes"]);

    // An app's own table: one price per row, timestamps, no sync column.
    pg.sql(
        "app",
        &format!(
            "CREATE TABLE billing_subs (stripe_subscription_id text, stripe_customer_id text, subscription_status text, stripe_price_id text, period_end timestamptz);
             INSERT INTO billing_subs VALUES ('sub_a', 'cus_a', 'active', 'price_pro', now() + interval '10 days'),
               ('sub_c', 'cus_c', 'active', 'price_team', now() + interval '10 days'), ('sub_d', 'cus_d', 'active', 'price_pro', now() + interval '10 days'),
               ('sub_f', 'cus_f', 'active', 'price_pro', now() + interval '10 days');
             GRANT SELECT ON billing_subs TO {RO_USER};"
        ),
    );
    let own = repo(
        "[billing]\nsource = \"database\"\n[billing.database]\ntable = \"billing_subs\"\n[billing.database.columns]\nid = \"stripe_subscription_id\"\n\
         customer = \"stripe_customer_id\"\nstatus = \"subscription_status\"\nprice = \"stripe_price_id\"\ncurrent_period_end = \"period_end\"\n\
         cancel_at_period_end = \"cancel_flag\"\ncurrent_period_start = \"period_start\"\nsynced_at = \"synced\"\n[database]\ntable = \"users\"\n",
    );
    let v = report(&run(own.path(), &url, &[]));
    let pairs = support::rule_entities(&v);
    // User 2's subscription is not in this table: access without one; 3 pays without access; 4's plan drifted.
    assert_eq!(pairs, [("ACC001".to_string(), "user:3".to_string()), ("ACC002".into(), "user:2".into()), ("ACC003".into(), "user:4".into())], "{v:#}");
    let notes = v["notes"].to_string();
    assert!(notes.contains("has no column `cancel_flag` ([billing.database.columns] cancel_at_period_end): scheduled cancellations are read as none"), "{notes}");
}

#[test]
fn missing_tables_columns_and_odd_items_are_clear_errors() {
    let pg = start(1);
    let url = pg.url(RO_USER, RO_PASSWORD, "app");
    let missing = repo("[billing]\nsource = \"database\"\n[billing.database]\ntable = \"stripe.subscription\"\n[database]\ntable = \"users\"\n");
    assert_error(&run(missing.path(), &url, &[]), &["table `stripe.subscription` ([billing.database] table) does not exist", "stripe.subscriptions"]);

    let column = repo("[billing]\nsource = \"database\"\n[billing.database.columns]\nstatus = \"state\"\n[database]\ntable = \"users\"\n");
    assert_error(&run(column.path(), &url, &[]), &["column `state` ([billing.database.columns] status) does not exist", "its columns are id, customer, status"]);

    pg.sql("app", "INSERT INTO stripe.subscriptions (id, customer, status, items) VALUES ('sub_x', 'cus_x', 'active', '\"price_pro\"')");
    let odd = repo("[billing]\nsource = \"database\"\n[database]\ntable = \"users\"\n");
    assert_error(&run(odd.path(), &url, &[]), &["subscription sub_x in `stripe.subscriptions`: [billing.database.columns] items is JSON of another shape"]);

    let injected = repo("[billing]\nsource = \"database\"\n[billing.database.columns]\nstatus = \"status::text || pg_sleep(5)\"\n");
    assert_error(&run(injected.path(), &url, &[]), &["is not a plain name"]);

    // The copy may live in another database, named by its own variable; it must be Postgres.
    let elsewhere = repo("[billing]\nsource = \"database\"\n[billing.database]\nurl_env = \"SYNC_DATABASE_URL\"\n[database]\ntable = \"users\"\n");
    assert_error(&run(elsewhere.path(), &url, &[]), &["SYNC_DATABASE_URL names, and SYNC_DATABASE_URL is not set"]);
    let out = Command::new(env!("CARGO_BIN_EXE_billguard"))
        .current_dir(elsewhere.path())
        .args(["check", "access", "--format", "json"])
        .env("DATABASE_URL", &url)
        .env("SYNC_DATABASE_URL", "sqlite://app.db")
        .output()
        .unwrap();
    assert_error(&out, &["SYNC_DATABASE_URL must be a postgres:// URL for [billing] source = \"database\""]);
}
