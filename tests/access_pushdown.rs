//! The pushed-down access contract against the in-process reference, on every
//! scenario under `fixtures/access/`: each scenario's subscriptions and users are
//! loaded into the test's PostgreSQL server (a Stripe-sync-engine-shaped table and
//! a users table, rows stored in reverse order), then checked three ways:
//! from the fixture files, from the database compared in process
//! (`[billing.database] pushdown = false`), and pushed down. Pushed down must give
//! exactly the in-process findings (rule, entity, message, fix, evidence) and notes,
//! and the fixture files' rule/entity pairs.

mod support;

use std::path::{Path, PathBuf};

use billguard::access::db::pushdown_sql;
use billguard::access::fixtures::{self, FixtureDir};
use billguard::access::model::Observations;
use billguard::access::{self, AccessRequest, AccessScope};
use billguard::config::Config;
use billguard::report::Report;
use support::postgres::PgServer;

fn crate_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn scenarios() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(crate_root().join("fixtures/access"))
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("db/users.json").is_file())
        .collect();
    dirs.sort();
    dirs
}

fn lit(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_else(|| "NULL".into())
}

/// The scenario's rows as SQL, newest first, so that nothing relies on storage order.
fn load_sql(obs: &Observations) -> String {
    let mut sql = String::from(
        "CREATE SCHEMA stripe;
         CREATE TABLE stripe.subscriptions (id text, customer text, status text, items jsonb, cancel_at_period_end boolean,
             current_period_start bigint, current_period_end bigint, updated_at timestamptz NOT NULL DEFAULT now());
         CREATE TABLE users (id text, customer text, access boolean, plan text);\n",
    );
    for s in obs.subscriptions.iter().rev() {
        let items = if s.prices.is_empty() {
            "NULL".to_string()
        } else {
            // The sync engine's shape, the one the pushed-down scan reads without the exact reader.
            let data: Vec<_> = s.prices.iter().map(|p| serde_json::json!({"object": "subscription_item", "price": {"id": obs.str(*p), "object": "price"}})).collect();
            lit(&serde_json::json!({"object": "list", "data": data}).to_string())
        };
        sql.push_str(&format!(
            "INSERT INTO stripe.subscriptions (id, customer, status, items, cancel_at_period_end, current_period_start, current_period_end) VALUES ({}, {}, {}, {items}, {}, {}, {});\n",
            lit(obs.str(s.id)),
            lit(obs.str(s.customer)),
            lit(s.status.as_str(&obs.strings)),
            s.cancel_at_period_end,
            opt(s.period_start.get()),
            opt(s.period_end.get()),
        ));
    }
    for u in obs.users.iter().rev() {
        sql.push_str(&format!(
            "INSERT INTO users VALUES ({}, {}, {}, {});\n",
            lit(obs.str(u.id)),
            opt(u.customer.map(|c| lit(obs.str(c)))),
            u.access,
            opt(u.plan.map(|p| lit(obs.str(p)))),
        ));
    }
    sql
}

/// The scenario's billguard.toml, reading the database instead of the files.
fn database_config(dir: &Path, url_env: &str, plan_tracked: bool, pushdown: bool) -> String {
    let text = std::fs::read_to_string(dir.join("billguard.toml")).unwrap_or_default();
    let mut t: toml::Table = text.parse().unwrap();
    let billing = t.entry("billing").or_insert_with(|| toml::Table::new().into()).as_table_mut().unwrap();
    billing.insert("source".into(), "database".into());
    let mut db = toml::Table::new();
    db.insert("pushdown".into(), pushdown.into());
    db.insert("pushdown_min_rows".into(), 0.into());
    billing.insert("database".into(), db.into());
    let mut columns = toml::Table::new();
    columns.insert("id".into(), "id".into());
    columns.insert("customer_id".into(), "customer".into());
    columns.insert("access".into(), "access".into());
    // Without plans in the scenario the column is absent, and both ways say so.
    columns.insert("plan".into(), if plan_tracked { "plan" } else { "no_plan_column" }.into());
    let mut database = toml::Table::new();
    database.insert("url_env".into(), url_env.into());
    database.insert("table".into(), "users".into());
    database.insert("columns".into(), columns.into());
    t.insert("database".into(), database.into());
    toml::to_string(&t).unwrap()
}

fn check(repo: &Path, fixtures: Option<PathBuf>, now: i64) -> Report<AccessScope> {
    let req = AccessRequest { repo: repo.to_path_buf(), fixtures_dir: fixtures, config: None, now, map_files: false, no_baseline: true };
    access::check_blocking(&req).unwrap_or_else(|e| panic!("{}: {e}", repo.display()))
}

fn pairs(r: &Report<AccessScope>) -> Vec<(String, String)> {
    let mut p: Vec<_> = r.findings.iter().map(|f| (f.rule.to_string(), f.entity.clone())).collect();
    p.sort();
    p
}

#[test]
fn every_scenario_gives_the_same_findings_pushed_down_as_in_process() {
    let now = access::now();
    let pg = PgServer::start();
    let dirs = scenarios();
    assert!(dirs.len() >= 20, "expected the access scenarios, found {}", dirs.len());
    // All variables are set before anything else runs in this process (the only test here).
    let envs: Vec<String> = (0..=dirs.len()).map(|i| format!("BILLGUARD_PUSHDOWN_TEST_URL_{i}")).collect();
    for (i, env) in envs.iter().enumerate() {
        pg.sql("postgres", &format!("CREATE DATABASE scenario_{i}"));
        // One, two or three parts of the pass (see [`parts_of`]), on as many connections.
        pg.sql("postgres", &format!("ALTER DATABASE scenario_{i} SET max_parallel_workers_per_gather = {}", [0, 2, 3][i % 3]));
        // SAFETY: single-threaded at this point: no other thread reads the environment.
        unsafe { std::env::set_var(env, pg.admin_url(&format!("scenario_{i}"))) };
    }
    let mut problems = Vec::new();
    let mut rules_seen = std::collections::BTreeSet::new();
    for (i, dir) in dirs.iter().enumerate() {
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        let config = Config::load(&dir.join("billguard.toml")).unwrap_or_default();
        let found = FixtureDir::locate(dir, config.billing.provider).unwrap();
        let mut obs = Observations::default();
        fixtures::read_subscriptions(&found.subscriptions.as_ref().unwrap().0, false, &mut obs).unwrap();
        fixtures::read_users(found.users.as_ref().unwrap(), &config, false, &mut obs).unwrap();
        pg.sql(&format!("scenario_{i}"), &load_sql(&obs));

        let reference = check(&crate_root(), Some(dir.strip_prefix(crate_root()).unwrap().to_path_buf()), now);
        let run = |pushdown: bool| {
            let repo = tempfile::tempdir().unwrap();
            std::fs::write(repo.path().join("billguard.toml"), database_config(dir, &envs[i], obs.plan_tracked, pushdown)).unwrap();
            check(repo.path(), None, now)
        };
        let (in_process, pushed) = (run(false), run(true));
        let parts = parts_of(i);
        let said = pushed.scope.evaluated.contains(&format!("({parts} parts side by side, one snapshot)"));
        if !pushed.scope.evaluated.starts_with("pushed down") || !in_process.scope.evaluated.contains("pushdown = false") || said != (parts > 1) {
            problems.push(format!("{name}: evaluated as {:?} and {:?}", in_process.scope.evaluated, pushed.scope.evaluated));
        }
        let full = |r: &Report<AccessScope>| serde_json::to_value(&r.findings).unwrap();
        if full(&in_process) != full(&pushed) {
            problems.push(format!("{name}: findings differ\n  in process: {:#}\n  pushed down: {:#}", full(&in_process), full(&pushed)));
        }
        let notes = |r: &Report<AccessScope>| {
            let mut n = r.notes.clone();
            n.sort();
            n
        };
        if notes(&in_process) != notes(&pushed) {
            problems.push(format!("{name}: notes differ\n  in process: {:?}\n  pushed down: {:?}", notes(&in_process), notes(&pushed)));
        }
        if (in_process.scope.users, in_process.scope.subscriptions) != (pushed.scope.users, pushed.scope.subscriptions) {
            problems.push(format!("{name}: scope counts differ"));
        }
        if pairs(&reference) != pairs(&pushed) {
            problems.push(format!("{name}: the fixture files give {:?}, the database pushed down {:?}", pairs(&reference), pairs(&pushed)));
        }
        rules_seen.extend(pushed.findings.iter().map(|f| f.rule.to_string()));
    }
    problems.extend(odd_rows(&pg, dirs.len(), &envs[dirs.len()], now));
    assert!(problems.is_empty(), "{} problem(s):\n{}", problems.len(), problems.join("\n"));
    let all: Vec<String> = (1..=10).map(|n| format!("ACC{n:03}")).collect();
    let missing: Vec<&String> = all.iter().filter(|r| !rules_seen.contains(*r)).collect();
    assert!(missing.is_empty(), "every rule fires pushed down in some scenario; these never did: {missing:?}");
}

/// How many parts scenario `i`'s pass runs in (its database's `max_parallel_workers_per_gather`).
fn parts_of(i: usize) -> usize {
    [1, 2, 3][i % 3]
}

/// Rows as real tables hold them and the fixtures do not: padded ids, statuses in other
/// cases and spellings, items as lists, arrays and legacy plans, several prices, empty
/// customers, a user id on two rows.
fn odd_rows(pg: &PgServer, i: usize, env: &str, now: i64) -> Vec<String> {
    pg.sql(
        &format!("scenario_{i}"),
        r#"CREATE SCHEMA stripe;
        CREATE TABLE stripe.subscriptions (id text, customer text, status text, items json, cancel_at_period_end boolean,
            current_period_start bigint, current_period_end bigint);
        INSERT INTO stripe.subscriptions VALUES
          ('  sub_1 ', ' cus_a ', 'Active ', '{"object":"list","data":[{"price":{"id":"price_pro"},"current_period_start":1,"current_period_end":2000000000},{"price":"price_new"}]}', false, NULL, NULL),
          ('sub_2', 'cus_b', 'CANCELLED', '[{"plan":{"id":"price_pro"}}]', false, 1, 2),
          ('sub_3', 'cus_c', 'on_trial', '{"data":[{"price":{"id":"price_team"}}]}', NULL, NULL, NULL),
          ('sub_4', 'cus_d', 'weird', NULL, false, NULL, NULL),
          ('sub_5', 'cus_d', 'past_due', '[{"price":"price_pro"}]', false, NULL, NULL),
          ('sub_6', 'cus_e', 'active', '[{"price":"price_pro"}]', true, 1, 5),
          ('sub_7', '', 'active', '[{"price":"price_pro"}]', false, 1, 2000000000),
          ('sub_8', 'cus_f', 'active', '[{"price":"price_team"},{"price":"price_pro"}]', false, 1, 2000000000),
          ('sub_9', 'cus_f', 'active', '[{"price":"price_pro"}]', false, 1, 2000000000),
          ('sub_10', NULL, 'past_due', '[{"price":"price_new"}]', false, 1, 2000000000),
          ('sub_11', 'cus_g', 'Weird', '[]', false, 1, 2000000000);
        CREATE TABLE users (id text, customer text, access boolean, plan text);
        INSERT INTO users VALUES (' 1', 'cus_a ', true, 'pro'), ('2', 'cus_b', true, 'pro'), ('3', 'cus_c', false, NULL),
          ('4', 'cus_d', true, 'free'), ('5', '  ', true, NULL), ('6', 'cus_e', true, 'pro'), ('7', 'cus_f', true, 'pro '),
          ('8', 'cus_zz', true, 'pro'), ('8', 'cus_zz', true, 'pro'), ('9', 'cus_a', false, 'pro'), ('10', 'cus_g', NULL, NULL);"#,
    );
    let config = |pushdown: bool| {
        format!(
            "[billing]\nsource = \"database\"\n[billing.database]\npushdown = {pushdown}\npushdown_min_rows = 0\nstale_after_hours = 1\n[database]\nurl_env = \"{env}\"\ntable = \"users\"\n\
             [database.columns]\nid = \"id\"\ncustomer_id = \"customer\"\naccess = \"access\"\nplan = \"plan\"\n\
             [access]\npast_due_grace_days = 3\ncomped_users = [\"5\"]\nplan_rank = [\"team\", \"pro\"]\ngranting_statuses = [\"active\", \"trialing\", \"weird\"]\n\
             [access.plans]\nprice_pro = \"pro\"\nprice_team = \"team\"\n"
        )
    };
    let run = |pushdown: bool| {
        let repo = tempfile::tempdir().unwrap();
        std::fs::write(repo.path().join("billguard.toml"), config(pushdown)).unwrap();
        check(repo.path(), None, now)
    };
    let (in_process, pushed) = (run(false), run(true));
    let mut problems = Vec::new();
    // The statement that lists the unknown customers again when more came back than are
    // kept (over 200,000: no fixture reaches it), on the same rows.
    let columns: Vec<String> = ["\"id\"::text", "\"customer\"::text", "\"status\"::text", "\"items\"::jsonb", "NULL::boolean", "NULL::bigint", "NULL::bigint"]
        .map(str::to_string)
        .to_vec();
    let subs = pushdown_sql::Subs { columns: &columns, from: "\"stripe\".\"subscriptions\"", price_per_row: false };
    let users = pushdown_sql::Users { sql: "SELECT id, customer AS customer_id, access, plan FROM users", with_plan: true };
    let url = std::env::var(env).unwrap();
    let out = std::process::Command::new("psql").args([url.as_str(), "-At", "-v", "ON_ERROR_STOP=1", "-c", &pushdown_sql::unknown_customers(&users, &subs)]).output().unwrap();
    let listed = String::from_utf8_lossy(&out.stdout).to_string();
    if !out.status.success() || listed.lines().collect::<Vec<_>>() != ["cus_zz"] {
        problems.push(format!("unknown customers listed again: {listed:?} {}", String::from_utf8_lossy(&out.stderr)));
    }
    let shown = |r: &Report<AccessScope>| {
        let mut notes = r.notes.clone();
        notes.sort();
        serde_json::json!({"findings": r.findings, "notes": notes, "users": r.scope.users, "subscriptions": r.scope.subscriptions})
    };
    if shown(&in_process) != shown(&pushed) {
        problems.push(format!("odd rows differ\n  in process: {:#}\n  pushed down: {:#}", shown(&in_process), shown(&pushed)));
    }
    if pushed.findings.len() < 8 {
        problems.push(format!("odd rows: expected a finding for most rows, got {:?}", pairs(&pushed)));
    }
    problems
}
