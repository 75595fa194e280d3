//! Unit tests of the key-mode rules: every rule firing, and staying quiet
//! where a naive implementation would fire. Keys are random strings of the
//! right shape, never real keys.

use std::collections::HashSet;
use std::hash::{BuildHasher, Hasher};

use super::evaluate::{Settings, evaluate};
use super::model::{Assignment, CodeRef, EnvKind, Environment, KeyInFile, Observations, Origin};
use super::probe_api::{ApiProbe, PriceCheck, PriceOutcome};
use super::probe_checkout::{Artefact, CheckoutProbe};
use super::webhook_gap::Endpoint;
use crate::report::Severity;
use crate::secrets::Mode;

/// A random key body of the right shape: 32 alphanumerics.
pub fn fake_key(prefix: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    let mut out = prefix.to_string();
    for i in 0..32u64 {
        h.write_u64(i);
        out.push(ALPHABET[(h.finish() % 62) as usize] as char);
    }
    // Never a placeholder by accident: end in a digit run.
    out.push_str("7q3");
    out
}

fn env(name: &str, kind: EnvKind, vars: &[(&str, &str)]) -> Environment {
    let mut e = Environment::new(name, kind);
    let file = format!(".env.{name}");
    e.sources.push(file.clone());
    e.complete = true;
    for (i, (k, v)) in vars.iter().enumerate() {
        e.assignments.push(Assignment { name: k.to_string(), value: Some(v.to_string()), origin: Origin::file(&file, i as u32 + 1) });
    }
    e
}

fn reads(names: &[&str]) -> Vec<CodeRef> {
    names.iter().enumerate().map(|(i, n)| CodeRef { name: n.to_string(), path: "src/billing.ts".into(), line: i as u32 + 1, optional: false, only_when: None }).collect()
}

fn obs(envs: Vec<Environment>, code: &[&str]) -> Observations {
    Observations { environments: envs, code_refs: reads(code), ..Default::default() }
}

fn run(o: &Observations) -> Vec<(String, String)> {
    let mut v: Vec<_> = evaluate(o, &Settings::default()).findings.into_iter().map(|f| (f.rule.into_owned(), f.entity)).collect();
    v.sort();
    v
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut v: Vec<_> = items.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
    v.sort();
    v
}

#[test]
fn key001_test_keys_in_production_fire_per_variable_with_location() {
    let o = obs(
        vec![env(
            "production",
            EnvKind::Production,
            &[("STRIPE_SECRET_KEY", &fake_key("sk_test_")), ("STRIPE_PUBLISHABLE_KEY", &fake_key("pk_test_")), ("PADDLE_API_KEY", &fake_key("pdl_sdbx_apikey_01"))],
        )],
        &[],
    );
    let out = evaluate(&o, &Settings::default());
    let got: Vec<_> = out.findings.iter().filter(|f| f.rule == "KEY001").map(|f| f.entity.as_str()).collect();
    assert_eq!(got, ["env:production/STRIPE_SECRET_KEY", "env:production/STRIPE_PUBLISHABLE_KEY", "env:production/PADDLE_API_KEY"]);
    let f = &out.findings[0];
    assert_eq!(f.location.as_ref().map(|l| (l.path.as_str(), l.line)), Some((".env.production", 1)));
    assert!(f.message.contains("sk_test_…"), "{}", f.message);
}

#[test]
fn key001_quiet_for_test_keys_in_development_and_live_keys_in_production() {
    let dev = env("development", EnvKind::Development, &[("STRIPE_SECRET_KEY", &fake_key("sk_test_")), ("STRIPE_PUBLISHABLE_KEY", &fake_key("pk_test_"))]);
    let prod = env("production", EnvKind::Production, &[("STRIPE_SECRET_KEY", &fake_key("sk_live_")), ("STRIPE_PUBLISHABLE_KEY", &fake_key("pk_live_"))]);
    let tpl = env(".env.example", EnvKind::Template, &[("STRIPE_SECRET_KEY", &fake_key("sk_test_"))]);
    assert_eq!(run(&obs(vec![dev, prod, tpl], &["STRIPE_SECRET_KEY", "STRIPE_PUBLISHABLE_KEY"])), vec![]);
}

#[test]
fn key002_mixed_modes_once_per_environment() {
    let prod = env(
        "production",
        EnvKind::Production,
        &[("STRIPE_SECRET_KEY", &fake_key("sk_live_")), ("STRIPE_RESTRICTED_KEY", &fake_key("rk_live_")), ("STRIPE_PUBLISHABLE_KEY", &fake_key("pk_test_"))],
    );
    let stg = env("staging", EnvKind::Staging, &[("STRIPE_SECRET_KEY", &fake_key("sk_test_")), ("STRIPE_PUBLISHABLE_KEY", &fake_key("pk_live_"))]);
    let o = obs(vec![prod, stg], &[]);
    let out = evaluate(&o, &Settings::default());
    let mixed: Vec<_> = out.findings.iter().filter(|f| f.rule == "KEY002").collect();
    assert_eq!(mixed.iter().map(|f| f.entity.as_str()).collect::<Vec<_>>(), ["env:production", "env:staging"]);
    assert_eq!(mixed[0].location.as_ref().unwrap().line, 3, "points at the odd one out (the test key)");
    // Unknown-mode values (webhook secrets) and other providers do not mix.
    let ok = env("production", EnvKind::Production, &[("STRIPE_SECRET_KEY", &fake_key("sk_live_")), ("STRIPE_WEBHOOK_SECRET", &fake_key("whsec_")), ("PADDLE_API_KEY", &fake_key("pdl_live_apikey_01"))]);
    assert!(!run(&obs(vec![ok], &[])).iter().any(|(r, _)| r == "KEY002"));
}

#[test]
fn key003_live_secret_outside_production_but_not_publishable() {
    let dev = env("development", EnvKind::Development, &[("STRIPE_SECRET_KEY", &fake_key("sk_live_")), ("STRIPE_PUBLISHABLE_KEY", &fake_key("pk_live_"))]);
    let ci = env("ci", EnvKind::Test, &[("STRIPE_RESTRICTED_KEY", &fake_key("rk_live_"))]);
    let unknown = env("blue", EnvKind::Unknown, &[("STRIPE_SECRET_KEY", &fake_key("sk_live_"))]);
    let out = evaluate(&obs(vec![dev, ci, unknown], &[]), &Settings::default());
    let got: Vec<_> = out.findings.iter().filter(|f| f.rule == "KEY003").map(|f| (f.entity.as_str(), f.severity)).collect();
    assert_eq!(got, [("env:development/STRIPE_SECRET_KEY", Severity::Medium), ("env:ci/STRIPE_RESTRICTED_KEY", Severity::Medium)]);
}

#[test]
fn key004_live_keys_in_tracked_files_only() {
    let mut o = obs(vec![], &[]);
    o.live_keys_in_files = vec![
        KeyInFile { path: "src/config.ts".into(), line: 3, value: fake_key("sk_live_") },
        KeyInFile { path: "scratch/local.ts".into(), line: 1, value: fake_key("sk_live_") },
        KeyInFile { path: "docs/setup.md".into(), line: 9, value: "sk_live_xxxxxxxxxxxxxxxx".into() },
    ];
    // A live key in an env file that git does not track is fine; in a tracked template it is not.
    let prod = env("production", EnvKind::Production, &[("STRIPE_SECRET_KEY", &fake_key("sk_live_"))]);
    let mut tpl = env("example", EnvKind::Template, &[("STRIPE_SECRET_KEY", &fake_key("sk_live_"))]);
    tpl.assignments[0].origin = Origin::file(".env.example", 4);
    o.environments = vec![prod, tpl];
    o.tracked = Some(["src/config.ts", ".env.example", "docs/setup.md"].iter().map(|s| s.to_string()).collect::<HashSet<_>>());
    let got: Vec<_> = run(&o).into_iter().filter(|(r, _)| r == "KEY004").collect();
    assert_eq!(got, pairs(&[("KEY004", "file:.env.example:4"), ("KEY004", "file:src/config.ts:3")]));
    // Outside git: skipped with a note.
    o.tracked = None;
    let out = evaluate(&o, &Settings::default());
    assert!(!out.findings.iter().any(|f| f.rule == "KEY004"));
    assert!(out.notes.iter().any(|n| n.contains("KEY004")), "{:?}", out.notes);
}

#[test]
fn key005_mode_switch_against_keys() {
    let prod = env("production", EnvKind::Production, &[("STRIPE_MODE", "test"), ("STRIPE_SECRET_KEY", &fake_key("sk_live_"))]);
    let paddle = env("paddle", EnvKind::Unknown, &[("PADDLE_ENVIRONMENT", "production"), ("PADDLE_API_KEY", &fake_key("pdl_sdbx_apikey_01"))]);
    let fine = env("staging", EnvKind::Staging, &[("STRIPE_MODE", "test"), ("STRIPE_SECRET_KEY", &fake_key("sk_test_")), ("PADDLE_ENVIRONMENT", "production"), ("PADDLE_API_KEY", &fake_key("pdl_live_apikey_01"))]);
    let got: Vec<_> = run(&obs(vec![prod, paddle, fine], &[])).into_iter().filter(|(r, _)| r == "KEY005").collect();
    assert_eq!(got, pairs(&[("KEY005", "env:production"), ("KEY005", "env:paddle")]));
}

#[test]
fn key006_missing_variables_high_in_production_medium_elsewhere() {
    let prod = env("production", EnvKind::Production, &[("STRIPE_SECRET_KEY", &fake_key("sk_live_")), ("STRIPE_WEBHOOK_SECRET", "")]);
    let staging = env("staging", EnvKind::Staging, &[("DATABASE_URL", "postgres://localhost/db")]);
    let o = obs(vec![prod, staging], &["STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"]);
    let out = evaluate(&o, &Settings::default());
    let got: Vec<_> = out.findings.iter().filter(|f| f.rule == "KEY006").map(|f| (f.entity.as_str(), f.severity)).collect();
    assert_eq!(
        got,
        [
            ("env:production/STRIPE_WEBHOOK_SECRET", Severity::High),
            ("env:staging/STRIPE_SECRET_KEY", Severity::Medium),
            ("env:staging/STRIPE_WEBHOOK_SECRET", Severity::Medium)
        ]
    );
    let empty = out.findings.iter().find(|f| f.entity == "env:production/STRIPE_WEBHOOK_SECRET").unwrap();
    assert!(empty.message.contains("empty"), "{}", empty.message);
    assert_eq!(empty.location.as_ref().unwrap().path, ".env.production", "points at the empty assignment");
}

#[test]
fn key006_quiet_for_partial_unreadable_and_template_environments_and_test_only_reads() {
    let mut declared = env("production", EnvKind::Production, &[("STRIPE_MODE", "live")]);
    declared.complete = false; // only a fly.toml says anything about it
    let mut failed = Environment::new("staging", EnvKind::Staging);
    failed.failed.push("command `doppler`".into());
    let tpl = env("example", EnvKind::Template, &[]);
    let mut o = obs(vec![declared, failed, tpl], &["STRIPE_SECRET_KEY"]);
    assert_eq!(run(&o), vec![]);
    // A variable only tests read is not required in production.
    let prod = env("production", EnvKind::Production, &[("STRIPE_SECRET_KEY", &fake_key("sk_live_"))]);
    o = obs(vec![prod], &[]);
    o.code_refs = vec![
        CodeRef { name: "STRIPE_SECRET_KEY".into(), path: "src/a.ts".into(), line: 1, optional: false, only_when: None },
        CodeRef { name: "STRIPE_TEST_CLOCK".into(), path: "tests/billing.test.ts".into(), line: 2, optional: false, only_when: None },
    ];
    assert_eq!(run(&o), vec![]);
}

#[test]
fn key007_near_miss_replaces_key006_at_its_severity() {
    let prod = env("production", EnvKind::Production, &[("STRIPE_SECRET_KEY", &fake_key("rk_live_")), ("STRIPE_WEBHOOK_SIGNING_SECRET", &fake_key("whsec_"))]);
    let stg = env("staging", EnvKind::Staging, &[("STRIPE_SECRET_KEY", &fake_key("sk_test_"))]);
    let o = obs(vec![prod, stg], &["STRIPE_RESTRICTED_KEY", "STRIPE_WEBHOOK_SECRET"]);
    let out = evaluate(&o, &Settings::default());
    let got: Vec<_> = out.findings.iter().map(|f| (&*f.rule, f.entity.as_str(), f.severity)).collect();
    assert!(got.contains(&("KEY007", "env:production/STRIPE_RESTRICTED_KEY", Severity::High)), "{got:?}");
    assert!(got.contains(&("KEY007", "env:production/STRIPE_WEBHOOK_SECRET", Severity::High)), "{got:?}");
    assert!(got.contains(&("KEY007", "env:staging/STRIPE_RESTRICTED_KEY", Severity::Medium)), "{got:?}");
    // A secret key is no near miss for a webhook secret: plain KEY006 there.
    assert!(got.contains(&("KEY006", "env:staging/STRIPE_WEBHOOK_SECRET", Severity::Medium)), "{got:?}");
    assert!(!got.iter().any(|(r, e, _)| *r == "KEY006" && e.ends_with("STRIPE_RESTRICTED_KEY")), "one finding per variable: {got:?}");
    let f = out.findings.iter().find(|f| f.entity == "env:production/STRIPE_RESTRICTED_KEY").unwrap();
    assert!(f.message.contains("STRIPE_SECRET_KEY") && f.message.contains("STRIPE_RESTRICTED_KEY"), "{}", f.message);
    assert_eq!(f.location.as_ref().unwrap().line, 1, "points at the near-miss assignment");
}

#[test]
fn key008_misfiled_keys_and_quiet_for_well_filed_ones() {
    let prod = env(
        "production",
        EnvKind::Production,
        &[
            ("NEXT_PUBLIC_STRIPE_KEY", &fake_key("sk_live_")),
            ("STRIPE_WEBHOOK_SECRET", &fake_key("sk_live_")),
            ("STRIPE_SECRET_KEY", &fake_key("pk_live_")),
            ("NEXT_PUBLIC_STRIPE_PUBLISHABLE_KEY", &fake_key("pk_live_")),
            ("STRIPE_RESTRICTED_KEY", &fake_key("rk_live_")),
            ("STRIPE_SIGNING_SECRET", &fake_key("whsec_")),
        ],
    );
    let got: Vec<_> = run(&obs(vec![prod], &[])).into_iter().filter(|(r, _)| r == "KEY008").collect();
    assert_eq!(
        got,
        pairs(&[("KEY008", "env:production/NEXT_PUBLIC_STRIPE_KEY"), ("KEY008", "env:production/STRIPE_WEBHOOK_SECRET"), ("KEY008", "env:production/STRIPE_SECRET_KEY")])
    );
}

#[test]
fn key011_placeholders_replace_key001_and_key008_but_templates_are_fine() {
    let prod = env(
        "production",
        EnvKind::Production,
        &[("STRIPE_SECRET_KEY", "sk_test_xxx"), ("NEXT_PUBLIC_STRIPE_KEY", "sk_test_4eC39HqLyjWDarjtT1zdp7dc"), ("STRIPE_WEBHOOK_SECRET", "changeme")],
    );
    let tpl = env(".env.example", EnvKind::Template, &[("STRIPE_SECRET_KEY", "sk_test_your_key_here")]);
    let got = run(&obs(vec![prod, tpl], &[]));
    assert_eq!(
        got,
        pairs(&[
            ("KEY011", "env:production/STRIPE_SECRET_KEY"),
            ("KEY011", "env:production/NEXT_PUBLIC_STRIPE_KEY"),
            ("KEY011", "env:production/STRIPE_WEBHOOK_SECRET")
        ])
    );
}

#[test]
fn key013_safety_switches_only_in_production() {
    let prod = env("production", EnvKind::Production, &[("SKIP_WEBHOOK_VERIFICATION", "true"), ("DISABLE_AUTH", "false"), ("NODE_ENV", "production")]);
    let dev = env("development", EnvKind::Development, &[("DISABLE_AUTH", "1")]);
    assert_eq!(run(&obs(vec![prod, dev], &[])), pairs(&[("KEY013", "env:production/SKIP_WEBHOOK_VERIFICATION")]));
}

fn checkout(kind: EnvKind, artefacts: &[(&str, &str)]) -> CheckoutProbe {
    CheckoutProbe {
        url: "https://example.com/api/checkout".into(),
        method: "POST".into(),
        environment: "production".into(),
        kind,
        status: Some(200),
        redirects: vec![],
        artefacts: artefacts.iter().map(|(w, m)| Artefact { what: w.to_string(), mode: m.to_string(), text: "cs_x".into() }).collect(),
        error: None,
        remark: None,
    }
}

#[test]
fn key009_test_checkout_in_production_once_per_probe() {
    let mut o = obs(vec![], &[]);
    o.checkout_probes = vec![checkout(EnvKind::Production, &[("checkout session", "test"), ("checkout URL", "test")])];
    assert_eq!(run(&o), pairs(&[("KEY009", "probe:https://example.com/api/checkout")]));
    o.checkout_probes = vec![checkout(EnvKind::Production, &[("checkout session", "live")])];
    assert_eq!(run(&o), vec![]);
    o.checkout_probes = vec![checkout(EnvKind::Staging, &[("checkout session", "test")])];
    assert_eq!(run(&o), vec![]);
    let mut refused = checkout(EnvKind::Production, &[]);
    refused.error = Some("connection refused or unreachable at https://example.com/api/checkout".into());
    o.checkout_probes = vec![refused];
    let out = evaluate(&o, &Settings::default());
    assert!(out.findings.is_empty(), "an unreachable probe is a note, not a finding");
    assert!(out.notes.iter().any(|n| n.contains("connection refused")), "{:?}", out.notes);
}

fn api(kind: EnvKind, livemode: Option<bool>, key_mode: Mode) -> ApiProbe {
    ApiProbe {
        environment: "production".into(),
        kind,
        variable: "STRIPE_SECRET_KEY".into(),
        key: "sk_org_…abcd".into(),
        key_mode,
        livemode,
        prices: vec![],
        endpoints: None,
        url: Some("https://example.com".into()),
        errors: vec![],
    }
}

#[test]
fn key010_api_mode_and_prices_in_the_other_mode() {
    let mut o = obs(vec![], &[]);
    let mut p = api(EnvKind::Production, Some(false), Mode::Unknown);
    p.prices = vec![
        PriceCheck { id: "price_1Pro".into(), source: "[access.plans]".into(), outcome: PriceOutcome::OtherMode { exists_in: "test".into() } },
        PriceCheck { id: "price_1Team".into(), source: "[access.plans]".into(), outcome: PriceOutcome::Found { livemode: true } },
        PriceCheck { id: "price_gone".into(), source: "STRIPE_PRICE".into(), outcome: PriceOutcome::NotFound },
    ];
    o.api_probes = vec![p];
    let out = evaluate(&o, &Settings::default());
    let got: Vec<_> = out.findings.iter().map(|f| (&*f.rule, f.entity.as_str())).collect();
    assert_eq!(got, [("KEY010", "env:production/STRIPE_SECRET_KEY"), ("KEY010", "env:production/price_1Pro")]);
    assert!(out.notes.iter().any(|n| n.contains("price_gone")), "{:?}", out.notes);
    // A prefixed key in the right mode: quiet; a prefixed key in the wrong mode is KEY001's, not KEY010's.
    o.api_probes = vec![api(EnvKind::Production, Some(true), Mode::Live), api(EnvKind::Production, Some(false), Mode::Test)];
    assert_eq!(run(&o), vec![]);
}

#[test]
fn key012_webhook_endpoint_gaps_include_events_the_code_handles() {
    let mut o = obs(vec![], &[]);
    let all: Vec<String> = super::webhook_gap::LIFECYCLE_EVENTS.iter().map(|s| s.to_string()).collect();
    let mut p = api(EnvKind::Production, Some(true), Mode::Live);
    p.endpoints = Some(vec![Endpoint { id: "we_1".into(), url: "https://example.com/api/stripe".into(), status: "enabled".into(), enabled_events: all, livemode: Some(true) }]);
    o.api_probes = vec![p.clone()];
    assert_eq!(run(&o), vec![]);
    o.handled_events.insert("customer.subscription.paused".into());
    let out = evaluate(&o, &Settings::default());
    assert_eq!(out.findings.len(), 1);
    assert_eq!((&*out.findings[0].rule, out.findings[0].entity.as_str()), ("KEY012", "env:production"));
    assert!(out.findings[0].message.contains("customer.subscription.paused"), "{}", out.findings[0].message);
    p.endpoints = Some(vec![]);
    o.api_probes = vec![p];
    let out = evaluate(&o, &Settings::default());
    assert!(out.findings[0].message.contains("no enabled webhook endpoint in live mode points at https://example.com"), "{}", out.findings[0].message);
}

#[test]
fn evaluation_is_deterministic_and_never_shows_raw_keys() {
    let key = fake_key("sk_live_");
    let prod = env("production", EnvKind::Production, &[("STRIPE_SECRET_KEY", &fake_key("sk_test_")), ("NEXT_PUBLIC_STRIPE_KEY", &key)]);
    let dev = env("development", EnvKind::Development, &[("STRIPE_SECRET_KEY", &key)]);
    let o = obs(vec![prod, dev], &["STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"]);
    let a = evaluate(&o, &Settings::default()).findings;
    let b = evaluate(&o, &Settings::default()).findings;
    assert_eq!(a, b);
    let text = serde_json::to_string(&a).unwrap();
    assert!(!text.contains(&key), "{text}");
}

#[test]
fn a_duplicated_variable_is_judged_by_the_value_that_wins_and_noted() {
    let test_key = fake_key("sk_test_");
    let live_key = fake_key("sk_live_");
    // The test key is overridden by the live one further down: production is fine.
    let prod = env("production", EnvKind::Production, &[("STRIPE_SECRET_KEY", &test_key), ("STRIPE_SECRET_KEY", &live_key)]);
    let o = obs(vec![prod], &["STRIPE_SECRET_KEY"]);
    assert!(run(&o).iter().all(|(r, _)| r != "KEY001"), "{:?}", run(&o));
    let notes = evaluate(&o, &Settings::default()).notes;
    assert!(notes.iter().any(|n| n.contains(".env.production sets STRIPE_SECRET_KEY 2 times (lines 1, 2); the last one wins")), "{notes:?}");
    assert!(!notes.iter().any(|n| n.contains(&test_key) || n.contains(&live_key)), "no values in notes");
    // The other way round, the winning test key is KEY001.
    let prod = env("production", EnvKind::Production, &[("STRIPE_SECRET_KEY", &live_key), ("STRIPE_SECRET_KEY", &test_key)]);
    assert_eq!(run(&obs(vec![prod], &["STRIPE_SECRET_KEY"])), pairs(&[("KEY001", "env:production/STRIPE_SECRET_KEY")]));
}

#[test]
fn a_value_replaced_by_an_unseen_reference_later_in_its_file_is_not_judged() {
    let test_key = fake_key("sk_test_");
    let mut prod = env("production", EnvKind::Production, &[("STRIPE_SECRET_KEY", &test_key)]);
    // `STRIPE_SECRET_KEY=${STRIPE_LIVE_KEY}` on line 2: the loader uses that, whatever it expands to.
    prod.assignments.push(Assignment { name: "STRIPE_SECRET_KEY".into(), value: None, origin: Origin::file(".env.production", 2) });
    let o = obs(vec![prod.clone()], &["STRIPE_SECRET_KEY"]);
    assert!(run(&o).iter().all(|(r, _)| r != "KEY001"), "{:?}", run(&o));
    let notes = evaluate(&o, &Settings::default()).notes;
    assert!(notes.iter().any(|n| n.contains(".env.production sets STRIPE_SECRET_KEY 2 times (lines 1, 2)")), "{notes:?}");
    // A declaration in another file (a compose `${VAR}`) still does not hide the value read.
    prod.assignments[1].origin = Origin::file("docker-compose.yml", 7);
    assert_eq!(run(&obs(vec![prod], &["STRIPE_SECRET_KEY"])), pairs(&[("KEY001", "env:production/STRIPE_SECRET_KEY")]));
}

#[test]
fn key006_quiet_for_a_variable_every_read_of_which_has_a_fallback() {
    let prod = env("production", EnvKind::Production, &[("STRIPE_SECRET_KEY", &fake_key("sk_live_"))]);
    let mut o = obs(vec![prod], &[]);
    o.code_refs = vec![
        CodeRef { name: "STRIPE_SECRET_KEY".into(), path: "src/a.ts".into(), line: 1, optional: false, only_when: None },
        CodeRef { name: "STRIPE_API_KEY".into(), path: "src/a.ts".into(), line: 1, optional: true, only_when: None },
    ];
    assert_eq!(run(&o), vec![], "a read with a fallback does not need the variable");
    let m = crate::keys::matrix::build(&o);
    let row = m.rows.iter().find(|r| r.variable == "STRIPE_API_KEY").unwrap();
    assert!(row.read_by_code && row.optional);
    // One read without a fallback makes it required again.
    o.code_refs.push(CodeRef { name: "STRIPE_API_KEY".into(), path: "src/b.ts".into(), line: 3, optional: false, only_when: None });
    assert_eq!(run(&o), pairs(&[("KEY006", "env:production/STRIPE_API_KEY")]));
}

#[test]
fn key007_for_a_name_with_a_part_left_off_and_plural_spellings_keep_their_kind() {
    let prod = env("production", EnvKind::Production, &[("STRIPE_SECRET", &fake_key("sk_live_")), ("STRIPE_WEBHOOKS_SECRET", &fake_key("whsec_"))]);
    let o = obs(vec![prod], &["STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"]);
    let got = run(&o);
    assert_eq!(got, pairs(&[("KEY007", "env:production/STRIPE_SECRET_KEY"), ("KEY007", "env:production/STRIPE_WEBHOOK_SECRET")]), "{got:?}");
    assert_eq!(crate::keys::values::expected_kind("STRIPE_WEBHOOKS_SECRET"), Some(crate::keys::values::Expected::WebhookSecret));
    assert_eq!(crate::keys::values::expected_kind("STRIPE_SECRETKEY"), Some(crate::keys::values::Expected::Secret));
}

/// Reads of a mode switch's two key pairs and a provider switch's two providers.
fn switched_reads() -> Vec<CodeRef> {
    use super::model::ReadCondition;
    let when = |variable: &str, value: &str, equal: bool| Some(ReadCondition { variable: variable.into(), value: value.into(), equal });
    let read = |name: &str, line: u32, only_when| CodeRef { name: name.into(), path: "lib/billing.ts".into(), line, optional: false, only_when };
    vec![
        read("STRIPE_MODE", 1, None),
        read("STRIPE_SECRET_KEY_LIVE", 2, when("STRIPE_MODE", "live", true)),
        read("STRIPE_SECRET_KEY_TEST", 3, when("STRIPE_MODE", "live", false)),
        read("BILLING_PROVIDER", 4, None),
        read("PADDLE_API_KEY", 5, when("BILLING_PROVIDER", "paddle", true)),
        read("STRIPE_WEBHOOK_SECRET", 6, when("BILLING_PROVIDER", "paddle", false)),
    ]
}

#[test]
fn switches_judge_each_environment_by_the_branch_it_selects() {
    let live = fake_key("sk_live_");
    let test = fake_key("sk_test_");
    let whsec = fake_key("whsec_");
    // Production selects the live pair and Stripe: the test pair sitting beside it, and
    // Paddle's missing key, are neither KEY001/KEY002/KEY005 nor KEY006.
    let prod = env(
        "production",
        EnvKind::Production,
        &[("STRIPE_MODE", "live"), ("BILLING_PROVIDER", "stripe"), ("STRIPE_SECRET_KEY_LIVE", &live), ("STRIPE_SECRET_KEY_TEST", &test), ("STRIPE_WEBHOOK_SECRET", &whsec)],
    );
    // Development selects the test pair and Paddle: no Stripe webhook secret needed, no live key.
    let dev = env("development", EnvKind::Development, &[("STRIPE_MODE", "test"), ("BILLING_PROVIDER", "paddle"), ("STRIPE_SECRET_KEY_TEST", &test), ("PADDLE_API_KEY", "pdl_sdbx_apikey_01abcdefghijklmnopqrstuvwxyz")]);
    let o = Observations { environments: vec![prod, dev], code_refs: switched_reads(), ..Default::default() };
    assert_eq!(run(&o), pairs(&[]), "every environment set what its branches need");

    // The switch set to test in production selects the test key: KEY001 on it.
    let prod_on_test = env("production", EnvKind::Production, &[("STRIPE_MODE", "test"), ("BILLING_PROVIDER", "stripe"), ("STRIPE_SECRET_KEY_TEST", &test), ("STRIPE_WEBHOOK_SECRET", &whsec)]);
    let o = Observations { environments: vec![prod_on_test], code_refs: switched_reads(), ..Default::default() };
    assert_eq!(run(&o), pairs(&[("KEY001", "env:production/STRIPE_SECRET_KEY_TEST")]));

    // The selected branch's variable missing is still KEY006.
    let prod_missing = env("production", EnvKind::Production, &[("STRIPE_MODE", "live"), ("BILLING_PROVIDER", "stripe"), ("STRIPE_WEBHOOK_SECRET", &whsec)]);
    let o = Observations { environments: vec![prod_missing], code_refs: switched_reads(), ..Default::default() };
    assert_eq!(run(&o), pairs(&[("KEY006", "env:production/STRIPE_SECRET_KEY_LIVE")]));
}

#[test]
fn runtime_switches_follow_the_environment_kind_and_unknown_values_keep_the_read() {
    use super::model::ReadCondition;
    let on_prod = |equal| ReadCondition { variable: "NODE_ENV".into(), value: "production".into(), equal };
    let prod = env("production", EnvKind::Production, &[]);
    let staging = env("staging", EnvKind::Staging, &[]);
    let dev = env("development", EnvKind::Development, &[]);
    // NODE_ENV is set by the runtime, not the env file: the kind says what it will be.
    assert_eq!(on_prod(true).holds_in(&prod), Some(true));
    assert_eq!(on_prod(true).holds_in(&dev), Some(false));
    assert_eq!(on_prod(false).holds_in(&dev), Some(true));
    assert_eq!(on_prod(true).holds_in(&staging), None, "staging may run with NODE_ENV=production");
    // A switch declared with an unseen value (`${{ secrets.MODE }}`) cannot be told: the read counts.
    let mut declared = Environment::new("production", EnvKind::Production);
    declared.assignments.push(Assignment { name: "STRIPE_MODE".into(), value: None, origin: Origin::other("workflow") });
    let c = ReadCondition { variable: "STRIPE_MODE".into(), value: "live".into(), equal: true };
    assert_eq!(c.holds_in(&declared), None);
    let r = CodeRef { name: "STRIPE_SECRET_KEY_LIVE".into(), path: "a.ts".into(), line: 1, optional: false, only_when: Some(c) };
    assert!(r.needed_in(&declared));
    assert!(!r.needed_in(&env("production", EnvKind::Production, &[("STRIPE_MODE", "test")])));
}
