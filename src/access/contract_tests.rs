//! Unit tests of the access contract: every rule firing, and staying quiet
//! where a naive implementation would fire.

use super::*;
use crate::access::model::Observations;
use crate::config::AccessConfig;

const NOW: i64 = 1_767_225_600; // 2026-01-01
const DAY: i64 = 86_400;

fn cfg() -> AccessConfig {
    let mut c = AccessConfig::default();
    c.plans.insert("price_pro".into(), "pro".into());
    c.plans.insert("price_team".into(), "team".into());
    c
}

fn run(obs: &Observations, cfg: &AccessConfig) -> Vec<(String, String)> {
    let mut pairs: Vec<_> =
        evaluate(obs, cfg, &Labels::default(), NOW).findings.into_iter().map(|f| (f.rule.into_owned(), f.entity)).collect();
    pairs.sort();
    pairs
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut v: Vec<_> = items.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
    v.sort();
    v
}

#[test]
fn acc001_revenue_leak_fires_for_every_granting_status() {
    for status in ["active", "trialing", "ACTIVE", "Trialing"] {
        let mut obs = Observations::default();
        obs.add_subscription("sub_1", "cus_1", status, &["price_pro"]);
        obs.add_user("1", Some("cus_1"), false, Some("free"));
        assert_eq!(run(&obs, &cfg()), pairs(&[("ACC001", "user:1")]), "{status}");
    }
}

#[test]
fn acc001_quiet_for_non_granting_statuses() {
    for status in ["canceled", "unpaid", "incomplete", "incomplete_expired", "paused", "past_due"] {
        let mut obs = Observations::default();
        obs.add_subscription("sub_1", "cus_1", status, &["price_pro"]);
        obs.add_user("1", Some("cus_1"), false, None);
        assert_eq!(run(&obs, &cfg()), vec![], "{status}");
    }
}

#[test]
fn acc001_message_and_evidence_name_the_subscription() {
    let mut obs = Observations::default();
    obs.add_subscription("sub_123", "cus_abc", "active", &["price_pro"]);
    obs.add_user("usr_alice", Some("cus_abc"), false, None);
    let out = evaluate(&obs, &cfg(), &Labels::default(), NOW);
    let f = &out.findings[0];
    assert_eq!(f.message, "Stripe subscription sub_123 is active but has_paid_access is false");
    assert_eq!(f.evidence["customer_id"], "cus_abc");
    assert_eq!(f.evidence["db_access"], false);
}

#[test]
fn acc002_wrongful_access_and_its_quiet_cases() {
    let mut obs = Observations::default();
    obs.add_subscription("sub_1", "cus_1", "canceled", &["price_pro"]);
    obs.add_subscription("sub_2", "cus_2", "unpaid", &["price_pro"]);
    // Several subscriptions: entitled if any one grants.
    obs.add_subscription("sub_3a", "cus_3", "canceled", &["price_pro"]);
    obs.add_subscription("sub_3b", "cus_3", "active", &["price_pro"]);
    // Comped with a canceled subscription: never ACC002.
    obs.add_subscription("sub_4", "cus_4", "canceled", &["price_pro"]);
    obs.add_user("1", Some("cus_1"), true, Some("pro"));
    obs.add_user("2", Some("cus_2"), true, Some("pro"));
    obs.add_user("3", Some("cus_3"), true, Some("pro"));
    obs.add_user("4", Some("cus_4"), true, Some("pro"));
    let mut c = cfg();
    c.comped_users = vec!["4".into()];
    assert_eq!(run(&obs, &c), pairs(&[("ACC002", "user:1"), ("ACC002", "user:2")]));
}

#[test]
fn cancel_at_period_end_entitles_until_the_period_ends() {
    let mut obs = Observations::default();
    let s = obs.add_subscription("sub_1", "cus_1", "active", &["price_pro"]);
    s.cancel_at_period_end = true;
    s.period_end = Some(NOW + DAY).into();
    let s = obs.add_subscription("sub_2", "cus_2", "active", &["price_pro"]);
    s.cancel_at_period_end = true;
    s.period_end = Some(NOW - DAY).into();
    obs.add_user("1", Some("cus_1"), true, Some("pro"));
    obs.add_user("2", Some("cus_2"), true, Some("pro"));
    let out = evaluate(&obs, &cfg(), &Labels::default(), NOW);
    let got: Vec<_> = out.findings.iter().map(|f| (&*f.rule, f.entity.as_str())).collect();
    assert_eq!(got, [("ACC002", "user:2")]);
    assert!(out.notes.iter().any(|n| n.contains("past their period end")), "{:?}", out.notes);
}

#[test]
fn past_due_grace_entitles_then_expires_into_acc007() {
    let mut c = cfg();
    c.past_due_grace_days = 7;
    let mut obs = Observations::default();
    obs.add_subscription("sub_in", "cus_in", "past_due", &["price_pro"]).period_start = Some(NOW - 3 * DAY).into();
    obs.add_subscription("sub_out", "cus_out", "PAST_DUE", &["price_pro"]).period_start = Some(NOW - 30 * DAY).into();
    obs.add_subscription("sub_out2", "cus_out2", "past_due", &["price_pro"]).period_start = Some(NOW - 30 * DAY).into();
    obs.add_user("in", Some("cus_in"), true, Some("pro"));
    obs.add_user("in_noaccess", Some("cus_in"), false, Some("pro"));
    obs.add_user("out", Some("cus_out"), true, Some("pro"));
    obs.add_user("out_noaccess", Some("cus_out2"), false, None);
    let got = run(&obs, &c);
    // One finding per user: ACC007 replaces ACC002; within grace the user is entitled.
    assert!(got.contains(&("ACC007".into(), "user:out".into())), "{got:?}");
    assert!(got.contains(&("ACC001".into(), "user:in_noaccess".into())), "{got:?}");
    assert!(!got.iter().any(|(r, e)| r == "ACC002" || e == "user:in" || e == "user:out_noaccess"), "{got:?}");
}

#[test]
fn past_due_without_grace_is_not_entitling() {
    let mut obs = Observations::default();
    obs.add_subscription("sub_1", "cus_1", "past_due", &["price_pro"]).period_start = Some(NOW - 30 * DAY).into();
    obs.add_user("1", Some("cus_1"), true, Some("pro"));
    assert_eq!(run(&obs, &cfg()), pairs(&[("ACC002", "user:1")]), "grace 0: ACC002, never ACC007");
}

#[test]
fn acc003_plan_drift_null_empty_and_different() {
    let mut obs = Observations::default();
    for (i, plan) in [Some("team"), None, Some(""), Some("pro")].iter().enumerate() {
        let cus = format!("cus_{i}");
        obs.add_subscription(&format!("sub_{i}"), &cus, "active", &["price_pro"]);
        let u = obs.add_user(&i.to_string(), Some(&cus), true, None);
        u.plan = None;
        if let Some(p) = plan {
            let sym = obs.intern(p);
            obs.users[i].plan = Some(sym);
        }
    }
    obs.plan_tracked = true;
    assert_eq!(run(&obs, &cfg()), pairs(&[("ACC003", "user:0"), ("ACC003", "user:1"), ("ACC003", "user:2")]));
}

#[test]
fn acc003_quiet_without_plan_column_or_for_unmapped_prices() {
    let mut obs = Observations::default();
    obs.add_subscription("sub_1", "cus_1", "active", &["price_pro"]);
    obs.add_user("1", Some("cus_1"), true, None);
    obs.plan_tracked = false;
    assert_eq!(run(&obs, &cfg()), vec![], "no plan column: no ACC003");

    let mut obs = Observations::default();
    obs.add_subscription("sub_1", "cus_1", "active", &["price_new"]);
    obs.add_user("1", Some("cus_1"), true, Some("pro"));
    assert_eq!(run(&obs, &cfg()), pairs(&[("ACC004", "price:price_new")]), "unmapped price: ACC004 only");
}

#[test]
fn acc003_several_subscriptions_is_independent_of_list_order() {
    let build = |order: &[(&str, &str)], user_plan: &str| {
        let mut obs = Observations::default();
        for (id, price) in order {
            obs.add_subscription(id, "cus_1", "active", &[price]);
        }
        obs.add_user("1", Some("cus_1"), true, Some(user_plan));
        obs
    };
    let mut ranked = cfg();
    ranked.plan_rank = vec!["team".into(), "pro".into()];
    for order in [[("sub_a", "price_pro"), ("sub_b", "price_team")], [("sub_b", "price_team"), ("sub_a", "price_pro")]] {
        // With plan_rank the highest plan is expected, whatever the order.
        assert_eq!(run(&build(&order, "team"), &ranked), pairs(&[("ACC009", "customer:cus_1")]));
        let drift = run(&build(&order, "pro"), &ranked);
        assert!(drift.contains(&("ACC003".into(), "user:1".into())), "{drift:?}");
        // Without plan_rank any subscribed plan is accepted, and nothing else.
        assert_eq!(run(&build(&order, "pro"), &cfg()), pairs(&[("ACC009", "customer:cus_1")]));
        let other = run(&build(&order, "basic"), &cfg());
        assert!(other.contains(&("ACC003".into(), "user:1".into())), "{other:?}");
    }
}

#[test]
fn acc004_once_per_price_with_count_and_skipped_without_plans() {
    let mut obs = Observations::default();
    for i in 0..3 {
        obs.add_subscription(&format!("sub_{i}"), &format!("cus_{i}"), "active", &["price_new"]);
        obs.add_user(&i.to_string(), Some(&format!("cus_{i}")), true, None);
    }
    obs.add_subscription("sub_x", "cus_x", "canceled", &["price_other"]);
    let out = evaluate(&obs, &cfg(), &Labels::default(), NOW);
    assert_eq!(out.findings.len(), 1, "non-entitling prices are not reported");
    assert_eq!(out.findings[0].entity, "price:price_new");
    assert_eq!(out.findings[0].evidence["count"], 3);

    let out = evaluate(&obs, &AccessConfig::default(), &Labels::default(), NOW);
    assert!(out.findings.is_empty());
    assert!(out.notes.iter().any(|n| n.contains("[access.plans] is empty")));
}

#[test]
fn acc005_duplicate_customer_once_per_customer() {
    let mut obs = Observations::default();
    obs.add_subscription("sub_1", "cus_1", "active", &["price_pro"]);
    obs.add_user("1", Some("cus_1"), true, Some("pro"));
    obs.add_user("2", Some("cus_1"), true, Some("pro"));
    obs.add_user("3", Some("cus_1"), true, Some("pro"));
    obs.add_user("4", Some("cus_4"), false, None);
    let out = evaluate(&obs, &cfg(), &Labels::default(), NOW);
    assert_eq!(out.findings.len(), 1);
    assert_eq!(out.findings[0].entity, "customer:cus_1");
    assert_eq!(out.findings[0].evidence["user_count"], 3);
}

#[test]
fn acc006_orphan_only_for_entitling_subscriptions() {
    let mut obs = Observations::default();
    obs.add_subscription("sub_1", "cus_orphan", "active", &["price_pro"]);
    obs.add_subscription("sub_2", "cus_gone", "canceled", &["price_pro"]);
    obs.add_subscription("sub_3", "cus_linked", "active", &["price_pro"]);
    obs.add_user("1", Some("cus_linked"), true, Some("pro"));
    assert_eq!(run(&obs, &cfg()), pairs(&[("ACC006", "customer:cus_orphan")]));
}

#[test]
fn acc008_unlinked_paid_user_and_comped_users() {
    let mut obs = Observations::default();
    obs.add_user("1", None, true, Some("pro"));
    obs.add_user("2", Some("   "), true, Some("pro"));
    obs.add_user("3", None, true, Some("pro"));
    obs.add_user("4", None, false, None);
    let mut c = cfg();
    c.comped_users = vec!["3".into()];
    assert_eq!(run(&obs, &c), pairs(&[("ACC008", "user:1"), ("ACC008", "user:2")]));
}

#[test]
fn acc009_counts_entitling_subscriptions_only() {
    let mut obs = Observations::default();
    obs.add_subscription("sub_1", "cus_1", "active", &["price_pro"]);
    obs.add_subscription("sub_2", "cus_1", "trialing", &["price_pro"]);
    obs.add_subscription("sub_3", "cus_2", "active", &["price_pro"]);
    obs.add_subscription("sub_4", "cus_2", "canceled", &["price_pro"]);
    obs.add_user("1", Some("cus_1"), true, Some("pro"));
    obs.add_user("2", Some("cus_2"), true, Some("pro"));
    assert_eq!(run(&obs, &cfg()), pairs(&[("ACC009", "customer:cus_1")]));
}

#[test]
fn acc010_replaces_acc002_when_most_customers_are_unknown() {
    let mut obs = Observations::default();
    obs.add_subscription("sub_1", "cus_known", "active", &["price_pro"]);
    obs.add_user("known", Some("cus_known"), true, Some("pro"));
    for i in 0..3 {
        obs.add_user(&format!("u{i}"), Some(&format!("cus_live_{i}")), true, Some("pro"));
    }
    let mut labels = Labels::default();
    labels.key_mode = Some("a test-mode key".into());
    let out = evaluate(&obs, &cfg(), &labels, NOW);
    let got: Vec<_> = out.findings.iter().map(|f| (&*f.rule, f.entity.as_str())).collect();
    assert_eq!(got, [("ACC010", "account")]);
    assert!(out.findings[0].message.contains("3 of 4"), "{}", out.findings[0].message);
    assert!(out.findings[0].message.contains("a test-mode key"));
}

#[test]
fn acc010_quiet_below_three_or_below_half() {
    // Two unknown: ACC002 for each instead.
    let mut obs = Observations::default();
    obs.add_user("u0", Some("cus_a"), true, None);
    obs.add_user("u1", Some("cus_b"), true, None);
    assert_eq!(run(&obs, &cfg()), pairs(&[("ACC002", "user:u0"), ("ACC002", "user:u1")]));

    // Three unknown out of seven: less than half.
    let mut obs = Observations::default();
    for i in 0..4 {
        obs.add_subscription(&format!("sub_{i}"), &format!("cus_k{i}"), "active", &["price_pro"]);
        obs.add_user(&format!("k{i}"), Some(&format!("cus_k{i}")), true, Some("pro"));
    }
    for i in 0..3 {
        obs.add_user(&format!("x{i}"), Some(&format!("cus_x{i}")), true, Some("pro"));
    }
    let got = run(&obs, &cfg());
    assert_eq!(got.iter().filter(|(r, _)| r == "ACC002").count(), 3, "{got:?}");
    assert!(!got.iter().any(|(r, _)| r == "ACC010"));
}

#[test]
fn unknown_statuses_and_duplicate_ids_are_noted_not_fatal() {
    let mut obs = Observations::default();
    obs.add_subscription("sub_1", "cus_1", "frozen", &["price_pro"]);
    obs.add_user("1", Some("cus_1"), false, None);
    obs.add_user("1", Some("cus_1"), false, None);
    let out = evaluate(&obs, &cfg(), &Labels::default(), NOW);
    assert!(out.findings.is_empty(), "a repeated user id is one user, not a shared customer: {:?}", out.findings);
    assert!(out.notes.iter().any(|n| n.contains("unknown subscription status 'frozen'")), "{:?}", out.notes);
    assert!(out.notes.iter().any(|n| n.contains("duplicate user ids")), "{:?}", out.notes);

    // A configured custom status grants.
    let mut c = cfg();
    c.granting_statuses.push("frozen".into());
    let got = run(&obs, &c);
    assert!(got.contains(&("ACC001".into(), "user:1".into())), "{got:?}");
}

#[test]
fn evaluation_is_deterministic() {
    let mut obs = Observations::default();
    for i in 0..50 {
        obs.add_subscription(&format!("sub_{i}"), &format!("cus_{}", i % 7), if i % 3 == 0 { "active" } else { "canceled" }, &["price_pro"]);
        obs.add_user(&format!("u{i}"), Some(&format!("cus_{}", i % 11)), i % 2 == 0, Some("pro"));
    }
    let a = crate::report::Report::new("t", (), evaluate(&obs, &cfg(), &Labels::default(), NOW).findings, vec![]);
    let b = crate::report::Report::new("t", (), evaluate(&obs, &cfg(), &Labels::default(), NOW).findings, vec![]);
    assert_eq!(a, b);
}

#[test]
fn many_users_are_checked_in_two_halves_with_the_same_outcome() {
    let n = PARALLEL_FROM + 10_000;
    let mut obs = Observations::default();
    for i in 0..n {
        let customer = format!("cus_{i}");
        if i != 30_001 {
            obs.add_subscription(&format!("sub_{i}"), &customer, "active", &[]);
        }
        // A leak in each half, and a user whose customer has no subscription at all.
        let access = i != 10 && i != n - 10;
        obs.add_user(&i.to_string(), Some(&customer), access, None);
    }
    let found = run(&obs, &cfg());
    let last = (n - 10).to_string();
    let user = |id: &str| format!("user:{id}");
    let expected = pairs(&[("ACC001", &user("10")), ("ACC001", &user(&last)), ("ACC002", &user("30001"))]);
    assert_eq!(found, expected);
}

#[test]
fn duplicate_ids_are_found_in_any_order_and_ordered_ids_have_none() {
    let dup_note = |ids: &[&str]| {
        let mut obs = Observations::default();
        for id in ids {
            obs.add_user(id, None, false, None);
        }
        evaluate(&obs, &cfg(), &Labels::default(), NOW).notes.into_iter().find(|n| n.contains("duplicate user ids"))
    };
    assert_eq!(dup_note(&["1", "2", "9", "10", "11", "a0", "b0"]), None, "ordered by id");
    assert_eq!(dup_note(&["10", "9", "2"]), None, "distinct, out of order");
    let note = dup_note(&["1", "2", "10", "3", "10", "4", "2"]).expect("duplicates out of order");
    assert!(note.contains("2 ids: 2, 10"), "{note}");
    assert!(dup_note(&["1", "2", "2", "3"]).is_some(), "adjacent duplicate");
}

#[test]
fn fixes_speak_the_app_s_columns_and_the_provider_s_events() {
    let mut obs = Observations::default();
    obs.add_subscription("sub_1", "cus_1", "active", &["price_pro"]);
    obs.add_user("1", Some("cus_1"), false, Some("pro"));
    obs.add_subscription("sub_2", "cus_2", "canceled", &["price_pro"]);
    obs.add_user("2", Some("cus_2"), true, Some("pro"));
    let fixes = |labels: &Labels| -> Vec<String> { evaluate(&obs, &cfg(), labels, NOW).findings.into_iter().map(|f| f.fix.into_owned()).collect() };

    // A column: set it.
    let stripe = fixes(&Labels { access_field: "is_pro".into(), ..Labels::default() });
    assert!(stripe[0].starts_with("Set is_pro = true for this user") && stripe[0].contains("customer.subscription.created/updated"), "{stripe:?}");
    assert!(stripe[1].starts_with("Set is_pro = false for this user") && stripe[1].contains("customer.subscription.deleted/updated"), "{stripe:?}");

    // An SQL expression has nothing to set; Paddle's events are named as Paddle names them.
    let paddle = fixes(&Labels { provider: "Paddle".into(), access_field: "plan <> 'free'".into(), ..Labels::default() });
    assert!(paddle[0].starts_with("Make plan <> 'free' true for this user (update the columns it reads)"), "{paddle:?}");
    assert!(paddle[0].contains("subscription.created/activated/updated") && !paddle[0].contains("customer.subscription"), "{paddle:?}");
    assert!(paddle[1].contains("subscription.canceled/paused/updated") && !paddle[1].contains("customer.subscription"), "{paddle:?}");
    let query = fixes(&Labels { access_field: "the query's access column".into(), ..Labels::default() });
    assert!(query[0].starts_with("Make the query's access column true for this user"), "{query:?}");
}
