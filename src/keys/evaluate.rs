//! The pure part of the key-mode check: observations in, findings out.
//! No I/O, no clock: the same observations always give the same findings.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use crate::report::{Finding, Severity};
use crate::rules::Rule;
use crate::secrets::{self, KeyClass, Mode};

use super::model::{Assignment, EnvKind, Environment, KeyInFile, Observations, is_billing};
use super::probe_api::{ApiProbe, PriceOutcome};
use super::rules::RULES;
use super::values::{self, disables_safeguard, is_live_secret, is_placeholder, kind_label, misfiled, mode_name, mode_switch};
use super::{near_miss, webhook_gap};

#[derive(Debug, Default)]
pub struct Outcome {
    pub findings: Vec<Finding>,
    pub notes: Vec<String>,
}

/// Settings that shape the evaluation.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Events a webhook endpoint must deliver for access to stay right.
    pub lifecycle_events: Vec<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings { lifecycle_events: webhook_gap::LIFECYCLE_EVENTS.iter().map(|s| s.to_string()).collect() }
    }
}

fn rule(code: &str) -> &'static Rule {
    RULES.iter().find(|r| r.code == code).expect("KEY rule exists")
}

/// A finding about one assignment: entity, location and source evidence set.
fn at_assignment(code: &str, env: &Environment, a: &Assignment, message: String) -> Finding {
    let mut f = Finding::new(rule(code), env.entity(Some(&a.name)), message)
        .evidence("environment", env.name.as_str())
        .evidence("environment_kind", env.kind.as_str())
        .evidence("variable", a.name.as_str())
        .evidence("source", a.origin.source.as_str());
    if let (Some(path), Some(line)) = (&a.origin.path, a.origin.line) {
        f = f.at(path.as_str(), line);
    }
    f
}

fn class_of(a: &Assignment) -> Option<KeyClass> {
    a.value.as_deref().and_then(|v| secrets::classify_named(&a.name, v))
}

/// Whether a value stands in for a key: a key-shaped, price or key-named variable holding a placeholder.
fn placeholder(a: &Assignment) -> bool {
    let Some(v) = a.value.as_deref() else { return false };
    let keyish = class_of(a).is_some() || v.trim().starts_with("price_") || values::expected_kind(&a.name).is_some();
    keyish && is_placeholder(v)
}

/// Evaluates every KEY rule.
pub fn evaluate(obs: &Observations, settings: &Settings) -> Outcome {
    let mut out = Outcome::default();
    for env in obs.environments.iter().filter(|e| e.kind != EnvKind::Template) {
        per_assignment_rules(env, obs, &mut out);
        mixed_modes(env, obs, &mut out);
        declared_mode(env, obs, &mut out);
        missing_variables(env, &required_variables(obs, env), obs, &mut out);
    }
    committed_live_keys(obs, &mut out);
    for probe in &obs.checkout_probes {
        checkout_probe(probe, &mut out);
    }
    for probe in &obs.api_probes {
        api_probe(probe, obs, settings, &mut out);
    }
    out
}

/// A note per variable a file sets more than once: which lines, and that the last wins.
fn duplicate_notes(env: &Environment, out: &mut Outcome) {
    let mut lines: std::collections::BTreeMap<(&str, &str), Vec<u32>> = std::collections::BTreeMap::new();
    for a in &env.assignments {
        if let (Some(path), Some(line)) = (&a.origin.path, a.origin.line) {
            lines.entry((path.as_str(), a.name.as_str())).or_default().push(line);
        }
    }
    for ((path, name), at) in lines.into_iter().filter(|(_, at)| at.len() > 1) {
        let shown: Vec<String> = at.iter().map(u32::to_string).collect();
        out.notes.push(format!(
            "{}: {path} sets {name} {} times (lines {}); the last one wins and is the one judged",
            env.name,
            at.len(),
            shown.join(", ")
        ));
    }
}

/// KEY001, KEY003, KEY008, KEY011, KEY013: one finding per (environment,
/// variable, rule), at the first assignment that shows the problem.
fn per_assignment_rules(env: &Environment, obs: &Observations, out: &mut Outcome) {
    let mut seen: HashSet<(&str, String)> = HashSet::new();
    let mut push = |code: &'static str, a: &Assignment, f: Finding, out: &mut Outcome| {
        if seen.insert((code, a.name.clone())) {
            out.findings.push(f);
        }
    };
    duplicate_notes(env, out);
    for a in &env.assignments {
        let Some(value) = a.value.as_deref() else { continue };
        // Only the value that wins is the environment's (a dotenv loader keeps the last);
        // an overridden line is noted, not judged.
        if !env.get(&a.name).is_some_and(|w| std::ptr::eq(w, a)) {
            continue;
        }
        if env.kind == EnvKind::Production && disables_safeguard(&a.name, value) {
            let f = at_assignment("KEY013", env, a, format!("{} sets {}={}, which switches a safeguard off", env.name, a.name, value.trim()))
                .evidence("value", value.trim());
            push("KEY013", a, f, out);
        }
        if !is_billing(&a.name, &obs.extra_variables) && class_of(a).is_none() {
            continue;
        }
        if placeholder(a) {
            let f = at_assignment(
                "KEY011",
                env,
                a,
                format!("{} in {} holds a placeholder or documentation key ({})", a.name, env.name, shown_value(value)),
            )
            .evidence("value", shown_value(value));
            push("KEY011", a, f, out);
            continue; // KEY011 replaces KEY001 and KEY008 for placeholders.
        }
        let Some(class) = class_of(a) else { continue };
        let fp = secrets::fingerprint(value.trim());
        // A key the switch does not select here (the test pair in a live deployment) is not used.
        if env.kind == EnvKind::Production && class.mode == Mode::Test && obs.unselected(env, &a.name).is_none() {
            let f = at_assignment(
                "KEY001",
                env,
                a,
                format!("{} in {} is a test-mode {} ({fp})", a.name, env.label(), kind_label(class.kind)),
            )
            .evidence("key", fp.as_str())
            .evidence("mode", "test");
            push("KEY001", a, f, out);
        }
        if matches!(env.kind, EnvKind::Development | EnvKind::Test | EnvKind::Staging) && is_live_secret(&class) {
            let f = at_assignment(
                "KEY003",
                env,
                a,
                format!("{} in {} is a live {} ({fp})", a.name, env.label(), kind_label(class.kind)),
            )
            .evidence("key", fp.as_str())
            .evidence("mode", "live");
            push("KEY003", a, f, out);
        }
        if let Some(why) = misfiled(&a.name, &class) {
            let f = at_assignment("KEY008", env, a, format!("{why} ({fp}) in {}", env.name))
                .evidence("key", fp.as_str())
                .evidence("kind", values::kind_name(class.kind));
            push("KEY008", a, f, out);
        }
    }
}

/// Keys in the winning assignments, with their class: placeholders and keys
/// that the code's switch does not select in this environment left out.
fn effective_keys<'a>(env: &'a Environment, obs: &Observations) -> Vec<(&'a Assignment, KeyClass)> {
    env.names()
        .into_iter()
        .filter(|n| obs.unselected(env, n).is_none())
        .filter_map(|n| env.get(n))
        .filter(|a| !placeholder(a))
        .filter_map(|a| class_of(a).map(|c| (a, c)))
        .collect()
}

/// KEY002: keys of one provider in both modes.
fn mixed_modes(env: &Environment, obs: &Observations, out: &mut Outcome) {
    let keys = effective_keys(env, obs);
    let mut by_provider: BTreeMap<String, (Vec<&Assignment>, Vec<&Assignment>)> = BTreeMap::new();
    for (a, c) in &keys {
        let entry = by_provider.entry(format!("{:?}", c.provider)).or_default();
        match c.mode {
            Mode::Test => entry.0.push(a),
            Mode::Live => entry.1.push(a),
            Mode::Unknown => {}
        }
    }
    for (test, live) in by_provider.values() {
        if test.is_empty() || live.is_empty() {
            continue;
        }
        // Point at the odd one out: the minority mode (test on a tie).
        let odd = if live.len() < test.len() { live[0] } else { test[0] };
        let list = |v: &[&Assignment]| v.iter().map(|a| a.name.clone()).collect::<Vec<_>>();
        let describe = |v: &[&Assignment]| {
            v.iter().map(|a| format!("{} ({})", a.name, secrets::fingerprint(a.value.as_deref().unwrap_or("").trim()))).collect::<Vec<_>>().join(", ")
        };
        let mut f = Finding::new(
            rule("KEY002"),
            env.entity(None),
            format!("{} mixes modes: live {} with test {}", env.name, describe(live), describe(test)),
        )
        .evidence("environment", env.name.as_str())
        .evidence("live", list(live))
        .evidence("test", list(test));
        if let (Some(p), Some(l)) = (&odd.origin.path, odd.origin.line) {
            f = f.at(p.as_str(), l);
        }
        out.findings.push(f);
        return; // one finding per environment
    }
}

/// KEY005: a mode switch that the keys contradict.
fn declared_mode(env: &Environment, obs: &Observations, out: &mut Outcome) {
    let keys = effective_keys(env, obs);
    for name in env.names() {
        let Some(a) = env.get(name) else { continue };
        let Some((scope, mode)) = a.value.as_deref().and_then(|v| mode_switch(name, v)) else { continue };
        let against: Vec<_> = keys.iter().filter(|(_, c)| scope.covers(c) && c.mode != Mode::Unknown && c.mode != mode).collect();
        if let Some((k, c)) = against.first() {
            let f = at_assignment(
                "KEY005",
                env,
                a,
                format!(
                    "{} sets {}={} ({} mode) but {} is a {} key ({})",
                    env.name,
                    name,
                    a.value.as_deref().unwrap_or("").trim(),
                    mode_name(mode),
                    k.name,
                    mode_name(c.mode),
                    secrets::fingerprint(k.value.as_deref().unwrap_or("").trim())
                ),
            );
            let mut f = f.evidence("switch_mode", mode_name(mode)).evidence("key_variable", k.name.as_str());
            f.entity = env.entity(None);
            out.findings.push(f);
            return; // one finding per environment
        }
    }
}

/// Billing variables the code needs in `env`, each with whether only test code reads it.
fn required_variables<'a>(obs: &'a Observations, env: &Environment) -> BTreeMap<&'a str, bool> {
    let mut req: BTreeMap<&str, bool> = BTreeMap::new();
    // A read with a fallback does not need the variable; one read without makes it required,
    // unless it sits in a switch branch this environment does not select.
    for r in obs.code_refs.iter().filter(|r| !r.optional && r.needed_in(env)) {
        let only_tests = crate::paths::is_test_path(&r.path);
        req.entry(r.name.as_str()).and_modify(|t| *t &= only_tests).or_insert(only_tests);
    }
    req
}


/// KEY006 and KEY007: variables the code reads that the environment lacks.
fn missing_variables(env: &Environment, required: &BTreeMap<&str, bool>, obs: &Observations, out: &mut Outcome) {
    if !env.judges_absence() || (!env.failed.is_empty() && env.assignments.is_empty()) {
        return;
    }
    let severity = if env.kind == EnvKind::Production { Severity::High } else { Severity::Medium };
    let set_names: Vec<&str> = env.names().into_iter().filter(|n| env.is_set(n)).collect();
    for (&var, &only_tests) in required {
        if env.is_set(var) || (only_tests && matches!(env.kind, EnvKind::Production | EnvKind::Staging)) {
            continue;
        }
        let reads: Vec<_> = obs.code_refs.iter().filter(|r| r.name == var).collect();
        let first = reads[0];
        let candidates: Vec<&str> = set_names
            .iter()
            .copied()
            .filter(|n| !obs.code_refs.iter().any(|r| r.name == *n && !r.optional) && (is_billing(n, &obs.extra_variables) || env.get(n).is_some_and(|a| class_of(a).is_some())))
            .collect();
        let near = near_miss::best(var, &candidates, |n| env.get(n).and_then(class_of));
        let empty = env.get(var).is_some();
        let mut f = match near {
            Some(other) => {
                let a = env.get(other).expect("candidate is set");
                let mut f = Finding::new(
                    rule("KEY007"),
                    env.entity(Some(var)),
                    format!("the code reads {var} ({}:{}), but {} sets {other} instead", first.path, first.line, env.name),
                )
                .fix(format!("Rename {other} to {var} in {} (or make the code read {other}).", env.name))
                .evidence("set_variable", other);
                if let (Some(p), Some(l)) = (&a.origin.path, a.origin.line) {
                    f = f.at(p.as_str(), l);
                }
                f
            }
            None => {
                let how = if empty { "sets it empty" } else { "does not set it" };
                let mut f = Finding::new(
                    rule("KEY006"),
                    env.entity(Some(var)),
                    format!("the code reads {var} ({}:{}), but {} {how}", first.path, first.line, env.label()),
                );
                f = match env.get(var).and_then(|a| a.origin.path.clone().zip(a.origin.line)) {
                    Some((p, l)) => f.at(p, l),
                    None => f.at(first.path.as_str(), first.line),
                };
                f
            }
        };
        f.severity = severity;
        f = f
            .evidence("environment", env.name.as_str())
            .evidence("environment_kind", env.kind.as_str())
            .evidence("variable", var)
            .evidence("read_at", reads.iter().take(5).map(|r| format!("{}:{}", r.path, r.line)).collect::<Vec<_>>())
            .evidence("sources", env.sources.clone());
        out.findings.push(f);
    }
}

/// KEY004: live secret keys in files git tracks, one finding per (file, line).
fn committed_live_keys(obs: &Observations, out: &mut Outcome) {
    let mut hits: BTreeSet<KeyInFile> = obs.live_keys_in_files.iter().cloned().collect();
    for env in &obs.environments {
        for a in &env.assignments {
            let (Some(v), Some(path), Some(line)) = (a.value.as_deref(), &a.origin.path, a.origin.line) else { continue };
            if class_of(a).is_some_and(|c| is_live_secret(&c)) {
                hits.insert(KeyInFile { path: path.clone(), line, value: v.trim().to_string() });
            }
        }
    }
    let Some(tracked) = &obs.tracked else {
        out.notes.push(format!(
            "KEY004 (live secret committed) skipped: not a git repository, or git is unavailable{}",
            if hits.is_empty() { String::new() } else { format!("; live keys were seen in {} place(s)", hits.len()) }
        ));
        return;
    };
    let mut seen = HashSet::new();
    for hit in hits {
        if !tracked.contains(&hit.path) || is_placeholder(&hit.value) || !seen.insert((hit.path.clone(), hit.line)) {
            continue;
        }
        let fp = secrets::fingerprint(&hit.value);
        out.findings.push(
            Finding::new(
                rule("KEY004"),
                format!("file:{}:{}", hit.path, hit.line),
                format!("{} line {} holds the live secret key {fp}, and git tracks the file", hit.path, hit.line),
            )
            .evidence("key", fp)
            .at(hit.path.as_str(), hit.line),
        );
    }
}

/// KEY009: a production checkout probe that shows test mode.
fn checkout_probe(probe: &super::probe_checkout::CheckoutProbe, out: &mut Outcome) {
    if let Some(err) = &probe.error {
        out.notes.push(format!("probe_url: {err}"));
        return;
    }
    if let Some(remark) = &probe.remark {
        out.notes.push(format!("probe_url: {remark}"));
    }
    let test: Vec<_> = probe.artefacts.iter().filter(|a| a.mode == "test").collect();
    if probe.artefacts.is_empty() {
        out.notes.push(format!(
            "probe_url: {} {} answered{} without a checkout session id, checkout URL or payment link",
            probe.method,
            probe.url,
            probe.status.map(|s| format!(" HTTP {s}")).unwrap_or_default()
        ));
        return;
    }
    if probe.kind != EnvKind::Production {
        out.notes.push(format!(
            "probe_url: {} is attributed to {} ({}), so its mode is not judged; it returned {} mode",
            probe.url,
            probe.environment,
            probe.kind.as_str(),
            if test.is_empty() { "live" } else { "test" }
        ));
        return;
    }
    if let Some(first) = test.first() {
        out.findings.push(
            Finding::new(
                rule("KEY009"),
                format!("probe:{}", probe.url),
                format!(
                    "{} {} (production environment {}) returned a test-mode {}: {}",
                    probe.method, probe.url, probe.environment, first.what, first.text
                ),
            )
            .evidence("environment", probe.environment.as_str())
            .evidence("status", probe.status)
            .evidence("test_artefacts", test.iter().map(|a| format!("{}: {}", a.what, a.text)).collect::<Vec<_>>())
            .evidence("redirects", probe.redirects.clone()),
        );
    }
}

/// KEY010 and KEY012 from what the Stripe API said.
fn api_probe(probe: &ApiProbe, obs: &Observations, settings: &Settings, out: &mut Outcome) {
    for e in &probe.errors {
        out.notes.push(format!("probe_api {}: {e}", probe.environment));
    }
    let expected = match probe.kind {
        EnvKind::Production => Some(Mode::Live),
        EnvKind::Staging | EnvKind::Development | EnvKind::Test => Some(Mode::Test),
        _ => None,
    };
    let entity = |object: &str| format!("env:{}/{object}", probe.environment);
    if let (Some(live), Some(exp)) = (probe.livemode, expected) {
        let actual = if live { Mode::Live } else { Mode::Test };
        // A key whose prefix shows its mode is judged by KEY001/KEY003 already.
        if actual != exp && probe.key_mode == Mode::Unknown {
            out.findings.push(
                Finding::new(
                    rule("KEY010"),
                    entity(&probe.variable),
                    format!(
                        "Stripe says {} ({}) in {} environment {} is a {} mode key",
                        probe.variable,
                        probe.key,
                        probe.kind.as_str(),
                        probe.environment,
                        mode_name(actual)
                    ),
                )
                .evidence("livemode", live)
                .evidence("environment", probe.environment.as_str()),
            );
        }
    }
    for price in &probe.prices {
        match &price.outcome {
            PriceOutcome::OtherMode { exists_in } => out.findings.push(
                Finding::new(
                    rule("KEY010"),
                    entity(&price.id),
                    format!(
                        "price {} (from {}) does not exist in {}'s mode; Stripe says a similar object exists in {exists_in} mode",
                        price.id, price.source, probe.environment
                    ),
                )
                .evidence("price", price.id.as_str())
                .evidence("exists_in", exists_in.as_str())
                .evidence("environment", probe.environment.as_str()),
            ),
            PriceOutcome::NotFound => out.notes.push(format!(
                "probe_api {}: price {} (from {}) does not exist for this key",
                probe.environment, price.id, price.source
            )),
            PriceOutcome::Error { message: e } => out.notes.push(format!("probe_api {}: price {}: {e}", probe.environment, price.id)),
            PriceOutcome::Found { .. } => {}
        }
    }
    if let Some(endpoints) = &probe.endpoints {
        let mode = probe.livemode.map(|l| if l { Mode::Live } else { Mode::Test }).unwrap_or(probe.key_mode);
        let mut required: Vec<String> = settings.lifecycle_events.clone();
        required.extend(obs.handled_events.iter().cloned());
        required.sort();
        required.dedup();
        match webhook_gap::judge(endpoints, probe.url.as_deref(), mode, &required) {
            webhook_gap::Verdict::Covered => {}
            webhook_gap::Verdict::NoEndpoint(why) => out.findings.push(
                Finding::new(rule("KEY012"), format!("env:{}", probe.environment), format!("{}: {why}", probe.environment))
                    .evidence("environment", probe.environment.as_str())
                    .evidence("url", probe.url.clone())
                    .evidence("endpoints_seen", endpoints.len()),
            ),
            webhook_gap::Verdict::MissingEvents { endpoint, url, missing } => out.findings.push(
                Finding::new(
                    rule("KEY012"),
                    format!("env:{}", probe.environment),
                    format!("{}: webhook endpoint {endpoint} ({url}) does not receive {}", probe.environment, missing.join(", ")),
                )
                .evidence("environment", probe.environment.as_str())
                .evidence("endpoint", endpoint.as_str())
                .evidence("missing_events", missing),
            ),
        }
        if probe.url.is_none() {
            out.notes.push(format!(
                "probe_api {}: no URL known for this environment (set [keys.environments.{}] url), so any enabled endpoint in the key's mode was accepted",
                probe.environment, probe.environment
            ));
        }
    }
}

/// How a non-secret value is shown: keys by fingerprint, the rest as is (short).
fn shown_value(v: &str) -> String {
    let v = v.trim();
    if secrets::classify(v).is_some() || v.starts_with("sk_") || v.starts_with("rk_") || v.starts_with("whsec_") {
        return secrets::fingerprint(v);
    }
    let short: String = v.chars().take(24).collect();
    if short.len() < v.len() { format!("{short}…") } else { short }
}
