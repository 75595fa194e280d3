//! `billguard demo`: the checks on scenarios compiled into the binary, so a
//! first run needs no files, keys or network.

use crate::access;
use crate::error::CheckError;
use crate::report::Report;

/// A scenario shipped inside the binary: the same files as `fixtures/access/<name>/`.
pub struct Scenario {
    pub name: &'static str,
    pub title: &'static str,
    pub subscriptions: &'static [u8],
    pub users: &'static [u8],
    pub config: Option<&'static str>,
}

macro_rules! scenario {
    ($name:literal, $title:literal) => {
        Scenario {
            name: $name,
            title: $title,
            subscriptions: include_bytes!(concat!("../fixtures/access/", $name, "/stripe/subscriptions.json")),
            users: include_bytes!(concat!("../fixtures/access/", $name, "/db/users.json")),
            config: Some(include_str!(concat!("../fixtures/access/", $name, "/billguard.toml"))),
        }
    };
}

pub static SCENARIOS: &[Scenario] = &[
    scenario!("healthy", "a healthy app: billing and the database agree"),
    scenario!("revenue-leak", "after a webhook rewrite: paying users without access, and worse"),
];

/// A webhook handler change shipped inside the binary: the same files as
/// `fixtures/webhook/<name>/`.
pub struct WebhookScenario {
    pub name: &'static str,
    pub title: &'static str,
    pub path: &'static str,
    pub before: &'static str,
    pub after: &'static str,
}

pub static WEBHOOK_SCENARIOS: &[WebhookScenario] = &[WebhookScenario {
    name: "webhook-cancel-keeps-access",
    title: "a \"tidy-up\" of the cancel path that stops revoking access",
    path: "app/api/stripe/webhook/route.ts",
    before: include_str!("../fixtures/webhook/ts-wh005-plan-free-only/before.ts"),
    after: include_str!("../fixtures/webhook/ts-wh005-plan-free-only/after.ts"),
}];

/// One demo result, whatever the check.
pub struct DemoRun {
    pub name: &'static str,
    pub title: &'static str,
    pub report: Report<serde_json::Value>,
}

/// Runs every built-in scenario. `now` is fixed by the caller for repeatable output.
pub fn run(now: i64) -> Result<Vec<DemoRun>, CheckError> {
    let mut runs = Vec::new();
    for s in SCENARIOS {
        let report = access::check_embedded(s.name, s.subscriptions, s.users, s.config, now)?;
        let report = report.map_scope(|scope| serde_json::to_value(scope).expect("scopes serialize"));
        runs.push(DemoRun { name: s.name, title: s.title, report });
    }
    for w in WEBHOOK_SCENARIOS {
        let findings = crate::webhook::review_texts(w.path, Some(w.before), w.after).map_err(CheckError::Usage)?;
        let scope = serde_json::json!({"source": "built-in", "file": w.path, "scenario": w.name});
        runs.push(DemoRun { name: w.name, title: w.title, report: Report::new("diff_webhook_handler", scope, findings, Vec::new()) });
    }
    Ok(runs)
}
