//! `billguard check access` reading billing live from an in-test emulator of
//! Stripe's and Paddle's list APIs (tests/support/billing_emulator.rs):
//! pagination and concurrent `created` windows, test clocks, every fault the
//! HTTP layer handles, key and permission errors, and ACC010 from live data.
//! Users come from a fixtures `db/users.json`; the key from an environment
//! variable, a random string of the right shape.

#![recursion_limit = "256"]

#[path = "support/billing_emulator.rs"]
mod billing_emulator;
mod support;

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use billing_emulator::{Emulator, Fault, PaddleSub, paddle_subs, stripe_subs, users_for};
use serde_json::{Value, json};

const KEY_ENV: &str = "BG_TEST_BILLING_KEY";
const NEWEST: i64 = 1_767_000_000;
const TWO_YEARS: i64 = 2 * 365 * 86_400;

/// A key of the right shape that no provider ever issued.
fn random_key(prefix: &str) -> String {
    let body: String = std::iter::repeat_with(fastrand::alphanumeric).take(60).collect();
    format!("{prefix}{body}")
}

/// A repo with `fx/db/users.json` and `fx/billguard.toml`: billing is read live.
/// A repository whose fixtures directory holds `config`. A repository's config may not
/// name where keys are sent, so an `api_base` line is taken out of it and given to
/// billguard the way an operator would, in BILLGUARD_API_BASE (see [`check`]).
fn repo(config: &str, users: &[Value]) -> tempfile::TempDir {
    let repo = tempfile::tempdir().unwrap();
    let fx = repo.path().join("fx");
    std::fs::create_dir_all(fx.join("db")).unwrap();
    std::fs::write(fx.join("db/users.json"), serde_json::to_string(users).unwrap()).unwrap();
    let (base, rest): (Vec<&str>, Vec<&str>) = config.lines().partition(|l| l.starts_with("api_base = "));
    std::fs::write(fx.join("billguard.toml"), rest.join("\n")).unwrap();
    if let Some(line) = base.first() {
        std::fs::write(repo.path().join(OPERATOR_API_BASE), line.trim_start_matches("api_base = ").trim_matches('"')).unwrap();
    }
    repo
}

/// Where [`repo`] leaves the emulator's address for [`check`].
const OPERATOR_API_BASE: &str = "operator-api-base.txt";

/// `[billing]` for the emulator; `extra` lines add keys or override the defaults here.
fn stripe_config(emu: &Emulator, extra: &str) -> String {
    let defaults = [("rate_limit", "200"), ("request_timeout_secs", "5"), ("max_retries", "2")];
    let overridden = |k: &str| extra.lines().any(|l| l.split('=').next().map(str::trim) == Some(k));
    let kept: String = defaults.iter().filter(|(k, _)| !overridden(k)).map(|(k, v)| format!("{k} = {v}\n")).collect();
    format!(
        "[billing]\nprovider = \"stripe\"\nsecret_env = \"{KEY_ENV}\"\napi_base = \"{}\"\n{kept}{extra}\n\
         [access.plans]\nprice_pro = \"pro\"\nprice_team = \"team\"\n",
        emu.base
    )
}

fn check(repo: &Path, key: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_billguard"));
    cmd.current_dir(repo).args(["check", "access", "--fixtures", "fx", "--format", "json"]).env("BILLGUARD_LOG", "warn");
    match std::fs::read_to_string(repo.join(OPERATOR_API_BASE)) {
        Ok(base) => cmd.env("BILLGUARD_API_BASE", base),
        Err(_) => cmd.env_remove("BILLGUARD_API_BASE"),
    };
    match key {
        Some(k) => cmd.env(KEY_ENV, k),
        None => cmd.env_remove(KEY_ENV),
    };
    cmd.output().unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn report(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: exit {:?}\nstdout={}\nstderr={}", out.status.code(), String::from_utf8_lossy(&out.stdout), stderr(out))
    })
}

fn expect(list: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut v: Vec<_> = list.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
    v.sort();
    v
}

/// Exit 2 with every needle in stderr, and never the key itself.
fn assert_failed(out: &Output, key: &str, needles: &[&str]) -> String {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(2), "expected exit 2: stdout={} stderr={err}", String::from_utf8_lossy(&out.stdout));
    assert!(out.stdout.is_empty(), "no report from a failed fetch: {}", String::from_utf8_lossy(&out.stdout));
    for n in needles {
        assert!(err.contains(n), "missing {n:?} in: {err}");
    }
    assert!(!err.contains(key), "the key leaked: {err}");
    err
}

fn subscription_requests(emu: &Emulator) -> Vec<String> {
    emu.seen().into_iter().map(|s| s.target).filter(|t| t.starts_with("/v1/subscriptions")).collect()
}

/// A small Stripe account (150 subscriptions, two pages) with matching users,
/// served to a random test-mode key.
struct Small {
    key: String,
    emu: Emulator,
    users: Vec<Value>,
}

impl Small {
    fn new() -> Small {
        let key = random_key("rk_test_");
        let subs = stripe_subs(150, NEWEST, TWO_YEARS);
        let users = users_for(&subs);
        Small { emu: Emulator::start(&key, subs, vec![]), key, users }
    }

    /// `check access` with `extra` lines in `[billing]`, and the right key.
    fn check(&self, extra: &str) -> Output {
        self.check_with_key(extra, Some(&self.key))
    }

    fn check_with_key(&self, extra: &str, key: Option<&str>) -> Output {
        check(repo(&stripe_config(&self.emu, extra), &self.users).path(), key)
    }

    fn fails(&self, extra: &str, needles: &[&str]) -> String {
        assert_failed(&self.check(extra), &self.key, needles)
    }
}

#[test]
fn stripe_reads_every_status_through_concurrent_created_windows() {
    let key = random_key("rk_test_");
    let subs = stripe_subs(2_500, NEWEST, TWO_YEARS);
    let mut users = users_for(&subs);
    // Planted: u1 pays (active) without access; u3 kept access after canceling.
    assert_eq!((subs[1].status.as_str(), subs[3].status.as_str()), ("active", "canceled"));
    users[1]["has_paid_access"] = json!(false);
    users[3]["has_paid_access"] = json!(true);
    users[3]["plan"] = json!("pro");
    let emu = Emulator::start(&key, subs, vec![]);
    emu.set_latency(Duration::from_millis(15));
    let repo = repo(&stripe_config(&emu, ""), &users);

    let out = check(repo.path(), Some(&key));
    let r = report(&out);
    assert_eq!(support::rule_entities(&r), expect(&[("ACC001", "user:u1"), ("ACC002", "user:u3")]), "{r:#}");
    assert_eq!(out.status.code(), Some(1));
    let scope = &r["scope"];
    assert_eq!(scope["subscriptions"], 2_500, "canceled ones included: status=all");
    assert_eq!(scope["source"], "stripe-live+fixtures");
    assert_eq!(scope["key_mode"], "test");
    assert!(scope["test_clocks"].as_str().unwrap().starts_with("excluded"), "{scope}");
    let billing = scope["billing_source"].as_str().unwrap();
    assert!(billing.starts_with(&format!("stripe-api:{}", emu.base)) && billing.contains(&format!("{KEY_ENV} rk_test_…")), "{billing}");
    let acc002 = r["findings"].as_array().unwrap().iter().find(|f| f["rule"] == "ACC002").unwrap();
    assert!(acc002.to_string().contains("canceled"), "the canceled subscription is the evidence: {acc002}");

    let requests = subscription_requests(&emu);
    assert!(requests.iter().all(|t| t.starts_with("/v1/subscriptions?status=all&limit=100")), "{requests:?}");
    assert!(requests.iter().any(|t| t.contains("created[gte]=") && t.contains("created[lte]=")), "windows used");
    let cursors = requests.iter().filter(|t| t.contains("starting_after=")).count();
    eprintln!("{} requests, {cursors} with a cursor, {} in flight at most", requests.len(), emu.max_in_flight());
    assert!(cursors >= 1, "cursors used");
    assert!(requests.len() >= 25 && requests.len() <= 80, "25 pages plus a few empty windows: {}", requests.len());
    assert!(emu.max_in_flight() >= 4, "pages fetched concurrently (max in flight {})", emu.max_in_flight());
    assert!(emu.seen().iter().all(|s| s.authorization.as_deref() == Some(&format!("Bearer {key}"))), "key in the header only");
    let all = String::from_utf8_lossy(&out.stdout).into_owned() + &stderr(&out);
    assert!(!all.contains(&key), "the key leaked");
}

#[test]
fn overlapping_windows_count_each_subscription_once() {
    let key = random_key("rk_live_");
    let subs = stripe_subs(450, NEWEST, TWO_YEARS);
    let users = users_for(&subs);
    let emu = Emulator::start(&key, subs, vec![]);
    // Every window sees the whole list: only deduplication keeps the count right.
    emu.ignore_created_filters();
    let out = check(repo(&stripe_config(&emu, ""), &users).path(), Some(&key));
    let r = report(&out);
    assert_eq!(r["scope"]["subscriptions"], 450, "{r:#}");
    assert_eq!(support::rule_entities(&r), expect(&[]));
    assert_eq!(r["scope"]["key_mode"], "live");
    assert_eq!(r["scope"]["test_clocks"], Value::Null, "test clocks exist only in test mode");
    let notes = r["notes"].to_string();
    assert!(notes.contains("more than one Stripe list page") && notes.contains("no longer split"), "{notes}");
    assert!(emu.seen().len() < 200, "bounded: {} requests", emu.seen().len());
}

#[test]
fn test_clock_subscriptions_are_left_out_unless_asked() {
    let key = random_key("sk_test_");
    let mut subs = stripe_subs(120, NEWEST, TWO_YEARS);
    for (i, clock) in [(5, "clock_A"), (6, "clock_A"), (7, "clock_B")] {
        subs[i].test_clock = Some(clock.into());
    }
    let users = users_for(&subs);
    let emu = Emulator::start(&key, subs, vec![]);

    let out = check(repo(&stripe_config(&emu, ""), &users).path(), Some(&key));
    let r = report(&out);
    assert_eq!(r["scope"]["subscriptions"], 117, "Stripe leaves clock subscriptions out of the list");
    assert!(r["scope"]["test_clocks"].as_str().unwrap().contains("include_test_clocks = true"), "{}", r["scope"]);
    // u5 and u6 are active on a clock: they look unsubscribed (ACC002) when clocks are left out.
    assert!(support::rule_entities(&r).contains(&("ACC002".into(), "user:u5".into())), "{:?}", support::rule_entities(&r));

    let out = check(repo(&stripe_config(&emu, "include_test_clocks = true"), &users).path(), Some(&key));
    let r = report(&out);
    assert_eq!(r["scope"]["subscriptions"], 120, "{r:#}");
    assert_eq!(support::rule_entities(&r), expect(&[]));
    assert!(r["scope"]["test_clocks"].as_str().unwrap().starts_with("included: subscriptions on 2 test clocks"), "{}", r["scope"]);
    let seen: Vec<_> = emu.seen().into_iter().map(|s| s.target).collect();
    assert!(seen.iter().any(|t| t.starts_with("/v1/test_helpers/test_clocks?limit=100")), "{seen:?}");
    assert!(seen.iter().any(|t| t.ends_with("test_clock=clock_B")), "{seen:?}");
}

#[test]
fn rate_limited_requests_wait_for_retry_after() {
    let s = Small::new();
    s.emu.inject("/v1/subscriptions?status=all&limit=100", Fault::too_many_requests("1"), 2);
    let started = Instant::now();
    let r = report(&s.check(""));
    assert_eq!(r["scope"]["subscriptions"], 150);
    assert!(started.elapsed() >= Duration::from_secs(2), "waited Retry-After twice: {:?}", started.elapsed());
    let first = subscription_requests(&s.emu).iter().filter(|t| t.as_str() == "/v1/subscriptions?status=all&limit=100").count();
    assert_eq!(first, 3, "two 429s, then the answer");
}

#[test]
fn a_429_asking_for_a_long_wait_ends_the_fetch() {
    let s = Small::new();
    s.emu.inject("/v1/subscriptions", Fault::too_many_requests("3600"), 1);
    s.fails("", &["asks to wait 3600 s", "no finding was computed"]);
}

#[test]
fn stripe_should_retry_false_is_not_retried() {
    let s = Small::new();
    s.emu.inject("/v1/subscriptions", Fault::server_error_no_retry(), 1);
    let request = format!("GET {}/v1/subscriptions?status=all&limit=100", s.emu.base);
    s.fails("", &["billing API error", &request, "HTTP 500", "no finding was computed", "after 0 subscriptions"]);
    assert_eq!(subscription_requests(&s.emu).len(), 1, "Stripe-Should-Retry: false is final");
}

#[test]
fn a_server_error_is_retried_then_succeeds() {
    let s = Small::new();
    s.emu.inject("starting_after=", Fault::server_error(500), 1);
    let out = s.check("");
    let r = report(&out);
    assert_eq!((r["scope"]["subscriptions"].as_u64(), out.status.code()), (Some(150), Some(0)), "{}", stderr(&out));
    let retried = subscription_requests(&s.emu);
    let cursor: Vec<_> = retried.iter().filter(|t| t.contains("starting_after=")).collect();
    assert_eq!(cursor.len(), 2, "the failed page was asked for again: {retried:?}");
    assert_eq!(cursor[0], cursor[1]);
}

#[test]
fn persistent_server_errors_fail_after_the_retries() {
    let s = Small::new();
    s.emu.inject("starting_after=", Fault::server_error(503), 100);
    let err = s.fails("", &["HTTP 503", "(after 3 attempts)", "starting_after=", "The fetch stopped after"]);
    assert!(err.contains("no finding was computed from the incomplete list"), "{err}");
}

#[test]
fn slow_responses_time_out_and_are_retried() {
    let s = Small::new();
    s.emu.inject("/v1/subscriptions", Fault::Delay(Duration::from_secs(4)), 1);
    let started = Instant::now();
    let r = report(&s.check("request_timeout_secs = 1"));
    assert_eq!(r["scope"]["subscriptions"], 150);
    let took = started.elapsed();
    assert!(took >= Duration::from_secs(1) && took < Duration::from_secs(4), "timed out after 1 s, then retried: {took:?}");

    s.emu.inject("/v1/subscriptions", Fault::Delay(Duration::from_secs(4)), 100);
    s.fails("request_timeout_secs = 1\nmax_retries = 1", &["no complete response within 1 s", "(after 2 attempts)", "/v1/subscriptions?status=all"]);
}

#[test]
fn a_truncated_body_is_an_error_naming_the_request() {
    let s = Small::new();
    s.emu.inject("starting_after=", Fault::Truncated, 1);
    s.fails("", &["truncated JSON", "starting_after=", "no finding was computed"]);
}

#[test]
fn a_body_that_is_not_json_is_an_error_naming_the_request() {
    let s = Small::new();
    let html = Fault::Status { status: 200, headers: vec![], body: "<html><body>Welcome to the captive portal</body></html>".into() };
    s.emu.inject("/v1/subscriptions", html, 1);
    s.fails("", &["not JSON", "<html>", &format!("GET {}/v1/subscriptions?status=all&limit=100", s.emu.base)]);
}

#[test]
fn a_dropped_connection_is_retried() {
    let s = Small::new();
    s.emu.inject("starting_after=", Fault::Drop, 1);
    let out = s.check("");
    assert_eq!(report(&out)["scope"]["subscriptions"], 150, "{}", stderr(&out));
    assert_eq!(subscription_requests(&s.emu).iter().filter(|t| t.contains("starting_after=")).count(), 2);
}

#[test]
fn a_repository_config_cannot_send_the_key_to_the_host_it_names() {
    // The emulator stands in for an attacker's server named by a pull request's billguard.toml.
    let s = Small::new();
    let repo = tempfile::tempdir().unwrap();
    let fx = repo.path().join("fx");
    std::fs::create_dir_all(fx.join("db")).unwrap();
    std::fs::write(fx.join("db/users.json"), serde_json::to_string(&s.users).unwrap()).unwrap();
    std::fs::write(fx.join("billguard.toml"), format!("[billing]\nsecret_env = \"{KEY_ENV}\"\napi_base = \"{}\"\n", s.emu.base)).unwrap();
    let out = check(repo.path(), Some(&s.key));
    let err = assert_failed(&out, &s.key, &["api_base", "refused", "BILLGUARD_API_BASE"]);
    assert!(s.emu.seen().is_empty(), "no request may reach the host the repository named: {err}");
}

#[test]
fn a_refused_connection_fails_after_the_retries() {
    let key = random_key("rk_test_");
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let config = format!("[billing]\nsecret_env = \"{KEY_ENV}\"\napi_base = \"http://127.0.0.1:{closed}\"\nmax_retries = 1\n");
    let out = check(repo(&config, &[]).path(), Some(&key));
    assert_failed(&out, &key, &["connection failed (after 2 attempts)", &format!("127.0.0.1:{closed}")]);
}

#[test]
fn an_invalid_key_is_a_redacted_401() {
    let s = Small::new();
    let wrong = random_key("rk_live_");
    let tail = &wrong[wrong.len() - 4..];
    let out = s.check_with_key("", Some(&wrong));
    assert_failed(&out, &wrong, &["rejected the key", "as invalid", "HTTP 401", KEY_ENV, &format!("rk_live_…{tail}")]);
    assert_eq!(s.emu.seen().len(), 1, "a 401 is not retried");
}

#[test]
fn a_missing_permission_is_named_with_how_to_grant_it() {
    let s = Small::new();
    s.emu.deny("rak_subscription_read");
    s.fails("", &["lacks the permission `rak_subscription_read`", "HTTP 403", "Billing > Subscriptions", "Read"]);
    // The emulator names the permission it was told to deny; Stripe names the endpoint's.
    s.fails("include_test_clocks = true", &["HTTP 403", "/v1/test_helpers/test_clocks"]);
}

#[test]
fn test_clock_permission_is_named_when_stripe_does_not_say() {
    let s = Small::new();
    let bare_403 = Fault::Status { status: 403, headers: vec![], body: "{}".into() };
    s.emu.inject("/v1/test_helpers/test_clocks", bare_403, 1);
    s.fails("include_test_clocks = true", &["`rak_billing_clock_read`", "Billing > Test clocks"]);
}

#[test]
fn unknown_customers_are_acc010_naming_the_key_mode() {
    let key = random_key("rk_test_");
    let subs = stripe_subs(2, NEWEST, TWO_YEARS);
    let mut users = users_for(&subs);
    let emu = Emulator::start(&key, subs, vec![]);
    // Most of the app's rows hold customer ids of another account (or the other mode).
    users.extend((0..6).map(|i| {
        json!({"id": format!("x{i}"), "stripe_customer_id": format!("cus_LiveOnly{i}"), "has_paid_access": true, "plan": "pro"})
    }));
    let out = check(repo(&stripe_config(&emu, ""), &users).path(), Some(&key));
    let r = report(&out);
    assert_eq!(support::rule_entities(&r), expect(&[("ACC010", "account")]), "{r:#}");
    let f = &r["findings"][0];
    let message = f["message"].as_str().unwrap();
    assert!(message.contains("6 of 8") && message.contains("a test-mode key") && message.contains(KEY_ENV), "{message}");
    assert!(f["evidence"]["key_mode"].as_str().unwrap().contains("rk_test_…"), "{f}");
    assert!(!r.to_string().contains(&key));
}

#[test]
fn a_missing_key_variable_is_a_usage_error_naming_it() {
    let s = Small::new();
    let out = s.check_with_key("", None);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("usage error") && err.contains(&format!("{KEY_ENV} ([billing] secret_env) is not set")), "{err}");
    assert!(s.emu.seen().is_empty(), "no request without a key");
}

// ---- Paddle ----------------------------------------------------------------

fn paddle_config(emu: &Emulator, extra: &str) -> String {
    format!(
        "[billing]\nprovider = \"paddle\"\nsecret_env = \"{KEY_ENV}\"\napi_base = \"{}\"\nrate_limit = 50\nmax_retries = 2\n{extra}\n\
         [database.columns]\ncustomer_id = \"paddle_customer_id\"\n[access.plans]\npri_01pro = \"pro\"\n",
        emu.base
    )
}

fn paddle_users(subs: &[PaddleSub]) -> Vec<Value> {
    subs.iter()
        .enumerate()
        .map(|(i, s)| {
            let access = matches!(s.status.as_str(), "active" | "trialing");
            json!({"id": format!("p{i}"), "paddle_customer_id": s.customer, "has_paid_access": access, "plan": if access { "pro" } else { "free" }})
        })
        .collect()
}

/// `n` Paddle subscriptions on the emulator, with matching users, for a random sandbox key.
fn paddle_account(n: usize) -> (String, Emulator, Vec<Value>) {
    let key = paddle_key();
    let subs = paddle_subs(n);
    let users = paddle_users(&subs);
    (key.clone(), Emulator::start(&key, vec![], subs), users)
}

fn paddle_key() -> String {
    let body: String = std::iter::repeat_with(fastrand::alphanumeric).take(50).collect();
    format!("{}{}_{}", "pdl_sdbx_apikey_", body[..20].to_lowercase(), &body[20..])
}

#[test]
fn paddle_follows_next_through_every_page_and_maps_statuses() {
    let key = paddle_key();
    let subs = paddle_subs(450);
    let mut users = paddle_users(&subs);
    // Planted: a paused and a past_due subscriber kept access; a trialing one has none.
    assert_eq!((subs[5].status.as_str(), subs[4].status.as_str(), subs[3].status.as_str()), ("paused", "past_due", "trialing"));
    users[5]["has_paid_access"] = json!(true);
    users[5]["plan"] = json!("pro");
    users[4]["has_paid_access"] = json!(true);
    users[4]["plan"] = json!("pro");
    users[3]["has_paid_access"] = json!(false);
    let emu = Emulator::start(&key, vec![], subs);
    emu.set_latency(Duration::from_millis(5));
    let out = check(repo(&paddle_config(&emu, ""), &users).path(), Some(&key));
    let r = report(&out);
    assert_eq!(support::rule_entities(&r), expect(&[("ACC001", "user:p3"), ("ACC002", "user:p4"), ("ACC002", "user:p5")]), "{r:#}");
    assert_eq!(r["scope"]["subscriptions"], 450);
    assert_eq!(r["scope"]["source"], "paddle-live+fixtures");
    assert_eq!(r["scope"]["key_mode"], "test");
    let seen = emu.seen();
    let targets: Vec<_> = seen.iter().map(|s| s.target.as_str()).collect();
    assert_eq!(
        targets,
        ["/subscriptions?per_page=200", "/subscriptions?after=sub_01h00000199&per_page=200", "/subscriptions?after=sub_01h00000399&per_page=200"],
        "next followed verbatim"
    );
    assert!(seen.iter().all(|s| s.paddle_version.as_deref() == Some("1")));
    assert!(!(String::from_utf8_lossy(&out.stdout).into_owned() + &stderr(&out)).contains(&key));
}

#[test]
fn paddle_keys_without_a_marker_need_paddle_environment() {
    let key: String = std::iter::repeat_with(fastrand::alphanumeric).take(50).collect();
    let subs = paddle_subs(10);
    let users = paddle_users(&subs);
    let emu = Emulator::start(&key, vec![], subs);
    let out = check(repo(&paddle_config(&emu, ""), &users).path(), Some(&key));
    assert_failed(&out, &key, &["paddle_environment", "sandbox", "production"]);
    let out = check(repo(&paddle_config(&emu, "paddle_environment = \"production\""), &users).path(), Some(&key));
    let r = report(&out);
    assert_eq!((r["scope"]["subscriptions"].as_u64(), r["scope"]["key_mode"].as_str()), (Some(10), Some("unknown")));
}

#[test]
fn paddle_key_and_permission_errors() {
    let (key, emu, users) = paddle_account(10);
    let wrong = paddle_key();
    let out = check(repo(&paddle_config(&emu, ""), &users).path(), Some(&wrong));
    assert_failed(&out, &wrong, &["Paddle rejected the key", "invalid_token", "Invalid or revoked API key", "pdl_sdbx_apikey_…"]);

    emu.deny("subscription.read");
    let out = check(repo(&paddle_config(&emu, ""), &users).path(), Some(&key));
    assert_failed(&out, &key, &["lacks the permission `subscription.read`", "HTTP 403", "Subscriptions: Read"]);
}

#[test]
fn paddle_faults_are_retried_or_reported() {
    let (key, emu, users) = paddle_account(450);
    let paddle_429 = Fault::Status {
        status: 429,
        headers: vec![("retry-after", "0".into())],
        body: r#"{"error":{"type":"api_error","code":"too_many_requests","detail":"IP address exceeded the allowed rate limit."}}"#.into(),
    };
    emu.inject("after=sub_01h00000199", paddle_429, 1);
    emu.inject("after=sub_01h00000399", Fault::Drop, 1);
    emu.inject("/subscriptions?per_page=200", Fault::server_error(502), 1);
    let r = report(&check(repo(&paddle_config(&emu, ""), &users).path(), Some(&key)));
    assert_eq!(r["scope"]["subscriptions"], 450);
    assert_eq!(emu.seen().len(), 6, "three pages, each asked twice");

    emu.inject("after=sub_01h00000399", Fault::Truncated, 1);
    let out = check(repo(&paddle_config(&emu, ""), &users).path(), Some(&key));
    assert_failed(&out, &key, &["reading Paddle subscriptions failed", "after=sub_01h00000399", "truncated JSON", "after 400 subscriptions in 2 pages"]);
}

#[test]
fn endless_pagination_is_an_error_never_a_partial_verdict() {
    // Paddle: a `next` that points back at the page just read.
    let (key, emu, users) = paddle_account(450);
    let loop_page = format!(
        r#"{{"data":[],"meta":{{"request_id":"x","pagination":{{"per_page":200,"next":"{}/subscriptions?after=sub_01h00000199&per_page=200","has_more":true,"estimated_total":450}}}}}}"#,
        emu.base
    );
    emu.inject("after=sub_01h00000199", Fault::Replace(loop_page), 10);
    let out = check(repo(&paddle_config(&emu, ""), &users).path(), Some(&key));
    assert_failed(&out, &key, &["came back to a page already read (a cycle)"]);
    assert!(emu.seen().len() <= 4, "stopped at the cycle: {} requests", emu.seen().len());

    // Stripe: has_more for ever, past [billing] max_pages.
    let s = Small::new();
    let out = s.check("max_pages = 1\n");
    assert_failed(&out, &s.key, &["more than 1 pages", "raise [billing] max_pages"]);
}

#[test]
fn an_endless_body_and_a_stalled_read_stop_with_clear_errors() {
    let s = Small::new();
    s.emu.inject("/v1/subscriptions", Fault::Endless, 100);
    let out = s.check("");
    assert_failed(&out, &s.key, &["past 32 MB"]);

    let s = Small::new();
    s.emu.inject("/v1/subscriptions", Fault::Delay(Duration::from_secs(30)), 100);
    let start = std::time::Instant::now();
    let out = s.check("deadline_secs = 2\nrequest_timeout_secs = 60\n");
    assert_failed(&out, &s.key, &["did not finish within 2 s ([billing] deadline_secs)"]);
    assert!(start.elapsed() < Duration::from_secs(20), "{:?}", start.elapsed());
}
