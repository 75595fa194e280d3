//! The access contract against `localstripe` (PyPI), an independent Stripe
//! implementation, started for the test on a loopback port: customers, plans
//! and subscriptions are created through its API, some are canceled, and
//! `billguard check access` reads them live and compares them with a seeded
//! SQLite database. `tools/test` installs localstripe into `.venv`.
//!
//! localstripe knows legacy plans, not prices, and has no trialing status:
//! billguard reads the item's `plan` where `price` is missing.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const KEY_ENV: &str = "BG_LOCALSTRIPE_KEY";

/// A localstripe server on 127.0.0.1, its state in a private temporary
/// directory; killed when dropped.
struct LocalStripe {
    child: Child,
    base: String,
    _state: tempfile::TempDir,
}

fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("BILLGUARD_LOCALSTRIPE_PYTHON") {
        return PathBuf::from(p);
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python");
    assert!(venv.is_file(), "{} is missing: run tools/test, which creates .venv with localstripe", venv.display());
    venv
}

impl LocalStripe {
    fn start() -> LocalStripe {
        let state = tempfile::Builder::new().prefix("billguard-localstripe-").tempdir().unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/localstripe_server.py");
        // Its log goes to a file: a pipe nobody reads could fill up and stall it.
        let log = state.path().join("localstripe.log");
        let mut child = Command::new(python())
            .arg(&script)
            .env("TMPDIR", state.path())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("start localstripe");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let Ok(port) = line.trim().parse::<u16>() else {
            let _ = child.kill();
            let _ = child.wait();
            panic!("localstripe did not start: {}", std::fs::read_to_string(&log).unwrap_or_default())
        };
        let server = LocalStripe { child, base: format!("http://127.0.0.1:{port}"), _state: state };
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "localstripe is not listening on {port}");
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }
}

impl Drop for LocalStripe {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Form-encodes `fields` (ids and plain words only: no escaping needed here).
fn form(fields: &[(&str, &str)]) -> String {
    fields.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&")
}

struct Seeder<'a> {
    client: reqwest::Client,
    base: &'a str,
    key: &'a str,
}

impl Seeder<'_> {
    async fn send(&self, method: reqwest::Method, path: &str, fields: &[(&str, &str)]) -> Value {
        let response = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(self.key)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(fields))
            .send()
            .await
            .unwrap();
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        assert!(status.is_success(), "{path}: {status} {body}");
        body
    }

    async fn post(&self, path: &str, fields: &[(&str, &str)]) -> String {
        self.send(reqwest::Method::POST, path, fields).await["id"].as_str().unwrap().to_string()
    }

    /// A customer with a card on file, subscribed to `plan`; returns (customer, subscription).
    async fn subscriber(&self, email: &str, plan: &str) -> (String, String) {
        let card = [("type", "card"), ("card[number]", "4242424242424242"), ("card[exp_month]", "12"), ("card[exp_year]", "2034"), ("card[cvc]", "123")];
        let pm = self.post("/v1/payment_methods", &card).await;
        let customer = self
            .post("/v1/customers", &[("email", email), ("payment_method", &pm), ("invoice_settings[default_payment_method]", &pm)])
            .await;
        let sub = self.post("/v1/subscriptions", &[("customer", &customer), ("items[0][plan]", plan)]).await;
        (customer, sub)
    }
}

#[test]
fn live_localstripe_against_a_seeded_database() {
    let server = LocalStripe::start();
    let body: String = std::iter::repeat_with(fastrand::alphanumeric).take(60).collect();
    let key = format!("sk_test_{body}");

    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let customers = rt.block_on(async {
        let s = Seeder { client: reqwest::Client::new(), base: &server.base, key: &key };
        for (id, amount) in [("pro-monthly", "2000"), ("team-monthly", "9000")] {
            s.post("/v1/plans", &[("id", id), ("amount", amount), ("currency", "usd"), ("interval", "month"), ("product[name]", id)]).await;
        }
        let a = s.subscriber("a@example.com", "pro-monthly").await;
        let b = s.subscriber("b@example.com", "pro-monthly").await;
        let c = s.subscriber("c@example.com", "pro-monthly").await;
        let d = s.subscriber("d@example.com", "team-monthly").await;
        let e = s.subscriber("e@example.com", "pro-monthly").await;
        // b and e churned; b kept access.
        for (_, sub) in [&b, &e] {
            let deleted = s.send(reqwest::Method::DELETE, &format!("/v1/subscriptions/{sub}"), &[]).await;
            assert_eq!(deleted["status"], "canceled");
        }
        [a.0, b.0, c.0, d.0, e.0]
    });
    drop(rt);

    let repo = tempfile::tempdir().unwrap();
    let db = repo.path().join("app.db");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        use sqlx::Connection;
        let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}?mode=rwc", db.display())).await.unwrap();
        let [a, b, c, d, e] = &customers;
        let seed = format!(
            "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT, stripe_customer_id TEXT, has_paid_access BOOLEAN NOT NULL, plan TEXT);
             INSERT INTO users VALUES (1, 'a@example.com', '{a}', 1, 'pro'), (2, 'b@example.com', '{b}', 1, 'pro'),
                                      (3, 'c@example.com', '{c}', 0, 'free'), (4, 'd@example.com', '{d}', 1, 'pro'),
                                      (5, 'e@example.com', '{e}', 0, 'free'), (6, 'f@example.com', NULL, 0, 'free');"
        );
        sqlx::raw_sql(sqlx::AssertSqlSafe(seed)).execute(&mut conn).await.unwrap();
        conn.close().await.unwrap();
    });
    std::fs::write(
        repo.path().join("billguard.toml"),
        format!(
            "[billing]\nsecret_env = \"{KEY_ENV}\"\n[database]\ntable = \"users\"\n\
             [access.plans]\n\"pro-monthly\" = \"pro\"\n\"team-monthly\" = \"team\"\n"
        ),
    )
    .unwrap();

    let out = Command::new(env!("CARGO_BIN_EXE_billguard"))
        .current_dir(repo.path())
        .args(["check", "access", "--format", "json"])
        .env(KEY_ENV, &key)
        .env("BILLGUARD_API_BASE", &server.base)
        .env("DATABASE_URL", "sqlite://app.db")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: stdout={} stderr={stderr}", String::from_utf8_lossy(&out.stdout)));
    let mut pairs: Vec<(String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["rule"].as_str().unwrap().into(), f["entity"].as_str().unwrap().into()))
        .collect();
    pairs.sort();
    let expected: Vec<(String, String)> =
        [("ACC001", "user:3"), ("ACC002", "user:2"), ("ACC003", "user:4")].iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
    assert_eq!(pairs, expected, "{report:#}");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(report["scope"]["subscriptions"], 5, "the two canceled subscriptions are read too (status=all)");
    assert_eq!(report["scope"]["source"], "stripe-live+sqlite");
    assert_eq!(report["scope"]["key_mode"], "test");
    let acc002 = report["findings"].as_array().unwrap().iter().find(|f| f["rule"] == "ACC002").unwrap();
    assert!(acc002.to_string().contains("canceled"), "user 2 is judged on the canceled subscription: {acc002}");
    let acc003 = report["findings"].as_array().unwrap().iter().find(|f| f["rule"] == "ACC003").unwrap();
    assert!(acc003.to_string().contains("team"), "the legacy plan id maps to the plan: {acc003}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains(&key) && !stderr.contains(&key), "the key leaked");
}
