//! The access contract: a pure function from observations to findings.
//!
//! No I/O and no clock: `now` is an argument, so the same observations always
//! give the same findings. The decisions it implements are DESIGN.md's
//! ("Decisions / Access"); each rule below cites the one it follows.

use std::collections::{BTreeMap, HashSet};

use smallvec::SmallVec;

use super::model::{Observations, Status, Subscription, Sym, UserRow, sym_index};
use super::strings::SymMap;
use super::totals::{EXAMPLES, Tally, Totals};
use crate::config::AccessConfig;
use crate::parallel::join;
use crate::report::{Finding, Findings, Ordered};
use crate::rules;

/// Names used in messages, so that a finding speaks the app's own vocabulary.
#[derive(Debug, Clone)]
pub struct Labels {
    /// "Stripe" or "Paddle" (or "billing" when unknown).
    pub provider: String,
    /// The app's access column or expression, e.g. has_paid_access.
    pub access_field: String,
    pub plan_field: String,
    /// What ACC010 says about the key: "a test-mode key", or empty for fixtures.
    pub key_mode: Option<String>,
}

impl Labels {
    fn paddle(&self) -> bool {
        self.provider == "Paddle"
    }

    /// The events whose handler grants access, in the provider's own names.
    fn grant_events(&self) -> &'static str {
        if self.paddle() {
            "subscription.created/activated/updated (and transaction.completed)"
        } else {
            "customer.subscription.created/updated (and checkout.session.completed)"
        }
    }

    /// The events whose handler takes access away.
    fn revoke_events(&self) -> &'static str {
        if self.paddle() { "subscription.canceled/paused/updated" } else { "customer.subscription.deleted/updated" }
    }

    /// The event whose handler writes the plan.
    fn plan_event(&self) -> &'static str {
        if self.paddle() { "subscription.updated" } else { "customer.subscription.updated" }
    }
}

/// "Set has_paid_access = true for this user" for a column; for an SQL expression or a
/// query's column, what must become true, since there is no column to set.
fn set_for_user(field: &str, value: &str) -> String {
    let column = !field.is_empty() && field.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
    if column {
        format!("Set {field} = {value} for this user")
    } else {
        format!("Make {field} {value} for this user (update the columns it reads)")
    }
}

impl Default for Labels {
    fn default() -> Self {
        Labels {
            provider: "Stripe".into(),
            access_field: "has_paid_access".into(),
            plan_field: "plan".into(),
            key_mode: None,
        }
    }
}

/// What one part of the evaluation found.
#[derive(Default)]
struct Out {
    /// Grouped by rule, noting whether each rule's findings came in report order.
    findings: Findings,
    notes: Vec<String>,
}

impl Out {
    fn push(&mut self, finding: Finding) {
        self.findings.push(finding.compact());
    }
}

pub struct Outcome {
    pub findings: Ordered,
    pub notes: Vec<String>,
}

const NONE: u32 = u32::MAX;
/// From this many users, the per-user checks run on two threads.
const PARALLEL_FROM: usize = 50_000;
const DAY: i64 = 86_400;
/// Ids listed in one finding's evidence; the count is always given in full.
const MAX_LISTED: usize = 20;

/// What one subscription does for its customer at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Grant {
    Entitles,
    /// past_due beyond the grace period (only with past_due_grace_days > 0).
    GraceExpired,
    No,
}

/// Evaluates the contract. `now` is unix seconds.
pub fn evaluate(obs: &Observations, cfg: &AccessConfig, labels: &Labels, now: i64) -> Outcome {
    Evaluation::new(obs, cfg, labels, now, None).run()
}

/// Evaluates the rows that can produce a finding, with the whole-table parts
/// (ACC004, ACC010's counts, the notes' tallies) counted elsewhere over every row.
///
/// `obs` must hold, for each user it holds, every subscription of that user's
/// customer, and for each customer it holds, every user linked to it: the
/// per-user and per-customer rules then decide exactly as over all rows.
pub fn evaluate_with_totals(obs: &Observations, cfg: &AccessConfig, labels: &Labels, now: i64, totals: &Totals) -> Outcome {
    Evaluation::new(obs, cfg, labels, now, Some(totals)).run()
}

struct Evaluation<'a> {
    obs: &'a Observations,
    cfg: &'a AccessConfig,
    labels: &'a Labels,
    now: i64,
    granting: Vec<Status>,
    grants: Vec<Grant>,
    /// Per customer symbol: first subscription index, chained through `next_sub`.
    first_sub: Vec<u32>,
    next_sub: Vec<u32>,
    /// Users per customer symbol, saturating: the rules only ask for none, one or several.
    users_of_customer: Vec<u8>,
    plan_of_price: SymMap<&'a str>,
    /// Whole-table parts counted elsewhere (pushed down); None: tallied here.
    totals: Option<&'a Totals>,
    /// What classifying the subscriptions noticed (it finds nothing itself).
    notes: Vec<String>,
}

impl<'a> Evaluation<'a> {
    fn new(obs: &'a Observations, cfg: &'a AccessConfig, labels: &'a Labels, now: i64, totals: Option<&'a Totals>) -> Self {
        let granting = cfg
            .granting_statuses
            .iter()
            .filter_map(|s| {
                let lower = s.trim().to_ascii_lowercase();
                Status::known(&lower).or_else(|| obs.strings.get(&lower).map(Status::Other))
            })
            .collect();
        let plan_of_price = cfg
            .plans
            .iter()
            .filter_map(|(price, plan)| Some((obs.strings.get(price)?, plan.as_str())))
            .collect();
        Evaluation {
            obs,
            cfg,
            labels,
            now,
            granting,
            grants: Vec::with_capacity(obs.subscriptions.len()),
            // Filled by `index`.
            first_sub: Vec::new(),
            next_sub: Vec::new(),
            users_of_customer: Vec::new(),
            plan_of_price,
            totals,
            notes: Vec::new(),
        }
    }

    fn run(mut self) -> Outcome {
        // Classifying the subscriptions and indexing them by customer do not
        // depend on each other: side by side on a large input.
        let obs = self.obs;
        let parallel = obs.subscriptions.len() + obs.users.len() >= PARALLEL_FROM;
        let ((), index) = join(parallel, || self.classify_subscriptions(), || index(obs));
        (self.first_sub, self.next_sub, self.users_of_customer) = index;
        // The per-user and the per-customer checks only read: they run side by
        // side, and the outcome is the same as one after the other (findings
        // are put in report order; notes keep this order).
        let this = &self;
        let (users, (customers, prices)) = join(
            true,
            || {
                let mut users = Out::default();
                this.check_users(&mut users);
                users
            },
            || {
                let (mut customers, mut prices) = (Out::default(), Out::default());
                this.check_customers(&mut customers);
                this.check_prices(&mut prices);
                (customers, prices)
            },
        );
        let mut findings = Findings::default();
        let mut notes = self.notes;
        for out in [users, customers, prices] {
            findings.append(out.findings);
            notes.extend(out.notes);
        }
        Outcome { findings: findings.into(), notes }
    }

    fn s(&self, sym: Sym) -> &'a str {
        self.obs.str(sym)
    }

    /// Decides, once per subscription, whether it entitles its customer.
    fn classify_subscriptions(&mut self) {
        let grace = i64::from(self.cfg.past_due_grace_days) * DAY;
        // Tallied here only when nobody counted them over every row.
        let mut tallies = self.totals.is_none().then(Totals::default);
        let mut unknown: BTreeMap<&str, Tally> = BTreeMap::new();
        for sub in &self.obs.subscriptions {
            let grant = if self.granting.contains(&sub.status) {
                // cancel_at_period_end keeps entitling until the period ends.
                match (sub.cancel_at_period_end, sub.period_end.get()) {
                    (true, Some(end)) if end <= self.now => {
                        if let Some(t) = &mut tallies {
                            add(&mut t.ended_cancels, self.s(sub.id));
                        }
                        Grant::No
                    }
                    _ => Grant::Entitles,
                }
            } else if sub.status == Status::PastDue && grace > 0 {
                // past_due began when the current period started (DESIGN.md).
                match sub.period_start.get() {
                    Some(start) if start + grace <= self.now => Grant::GraceExpired,
                    Some(_) => Grant::Entitles,
                    None => {
                        if let Some(t) = &mut tallies {
                            add(&mut t.unmeasured_grace, self.s(sub.id));
                        }
                        Grant::Entitles
                    }
                }
            } else {
                Grant::No
            };
            if let (Status::Other(raw), Some(_)) = (sub.status, &tallies) {
                add(unknown.entry(self.s(raw)).or_default(), self.s(sub.id));
            }
            self.grants.push(grant);
        }
        if let Some(t) = &mut tallies {
            t.unknown_statuses = unknown.into_iter().map(|(status, tally)| (status.to_string(), tally)).collect();
        }
        let totals = tallies.as_ref().or(self.totals).expect("tallied here or counted elsewhere");
        let notes = self.classification_notes(totals);
        self.notes.extend(notes);
    }

    /// Notes on subscriptions read in a way that needs saying (unknown statuses, ...).
    fn classification_notes(&self, t: &Totals) -> Vec<String> {
        let mut notes = Vec::new();
        for (status, tally) in &t.unknown_statuses {
            // Against the configuration, not the rows held: pushed down, they may not hold this status.
            let granting = if self.cfg.granting_statuses.iter().any(|g| g.trim().to_ascii_lowercase() == *status) {
                "granting, as configured"
            } else {
                "not entitling"
            };
            let shown = &tally.examples[..tally.examples.len().min(3)];
            notes.push(format!(
                "unknown subscription status '{status}' on {} subscription(s) ({}{}): treated as {granting}",
                tally.count,
                shown.join(", "),
                if tally.count > shown.len() { ", …" } else { "" }
            ));
        }
        if t.ended_cancels.count > 0 {
            notes.push(format!(
                "{} subscription(s) set to cancel at period end are past their period end but still reported active ({}): treated as ended",
                t.ended_cancels.count,
                counted(&t.ended_cancels, 3)
            ));
        }
        if t.unmeasured_grace.count > 0 {
            notes.push(format!(
                "{} past_due subscription(s) carry no current period start, so the grace period cannot be measured ({}): treated as within grace",
                t.unmeasured_grace.count,
                counted(&t.unmeasured_grace, 3)
            ));
        }
        notes
    }

    fn subs_of(&self, customer: Sym) -> impl Iterator<Item = (usize, &'a Subscription)> + '_ {
        let subs = &self.obs.subscriptions;
        let mut at = self.first_sub[sym_index(customer)];
        std::iter::from_fn(move || {
            if at == NONE {
                return None;
            }
            let i = at as usize;
            at = self.next_sub[i];
            Some((i, &subs[i]))
        })
    }

    fn status(&self, sub: &Subscription) -> &'a str {
        sub.status.as_str(&self.obs.strings)
    }

    fn check_users(&self, out: &mut Out) {
        // Before any finding exists: its sort buffer is then not on top of them.
        let mut duplicates = match self.totals {
            Some(t) => t.duplicate_user_ids.iter().map(String::as_str).collect(),
            None => self.duplicate_user_ids(),
        };
        let comped: HashSet<&str> = self.cfg.comped_users.iter().map(|id| id.trim()).collect();
        // ACC010 bookkeeping: users with access and a customer id, and those whose
        // customer has no subscription of any status.
        let users = &self.obs.users;
        let (linked_with_access, unknown_customers) = if users.len() >= PARALLEL_FROM {
            // Two halves side by side; the outcome is the same as one pass.
            let (front, back) = users.split_at(users.len() / 2);
            let (a, (b, mut back_out)) = std::thread::scope(|scope| {
                let other = scope.spawn(|| {
                    let mut back_out = Out::default();
                    (self.check_user_rows(back, &comped, &mut back_out), back_out)
                });
                let a = self.check_user_rows(front, &comped, out);
                (a, other.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
            });
            out.findings.append(back_out.findings);
            out.notes.append(&mut back_out.notes);
            (a.0 + b.0, [a.1, b.1].concat())
        } else {
            self.check_user_rows(users, &comped, out)
        };

        let (linked_with_access, unknown_count, examples) = match self.totals {
            Some(t) => (t.linked_with_access, t.unknown_customers.count, t.unknown_customers.examples.iter().map(String::as_str).collect()),
            None => {
                // The smallest ids, not the first read: the same report whatever order the rows came in.
                let mut examples: Vec<&str> = unknown_customers.iter().filter_map(|u| u.customer).map(|c| self.s(c)).collect();
                examples.sort_unstable();
                examples.dedup();
                examples.truncate(EXAMPLES);
                (linked_with_access, unknown_customers.len(), examples)
            }
        };
        if crate::access::totals::unknown_customers_fire(unknown_count, linked_with_access) {
            let mode = self.labels.key_mode.as_ref().map(|m| format!(" (billguard read it with {m})")).unwrap_or_default();
            out.push(
                Finding::new(
                    rule("ACC010"),
                    "account",
                    format!(
                        "{unknown_count} of {linked_with_access} users with access link customer ids that have no subscription of any status in the {} data{mode}: wrong account or wrong mode",
                        self.labels.provider
                    ),
                )
                .evidence("users_with_access_and_customer_id", linked_with_access)
                .evidence("customers_unknown_to_account", unknown_count)
                .evidence("example_customer_ids", examples)
                .evidence("key_mode", self.labels.key_mode.clone()),
            );
        } else {
            for user in unknown_customers {
                let id = self.s(user.id);
                if comped.contains(id) {
                    continue;
                }
                let customer = self.s(user.customer.expect("only linked users are collected"));
                out.push(
                    Finding::new(
                        rule("ACC002"),
                        format!("user:{id}"),
                        format!(
                            "{} is true but {} has no subscription for customer {customer}",
                            self.labels.access_field, self.labels.provider
                        ),
                    )
                    .fix(wrongful_fix(self.labels))
                    .evidence("customer_id", customer)
                    .evidence("subscriptions", serde_json::json!([]))
                    .evidence("db_access", true),
                );
            }
        }

        if !duplicates.is_empty() {
            duplicates.sort_by(|a, b| crate::report::natural_cmp(a, b));
            duplicates.dedup();
            out.notes.push(format!(
                "duplicate user ids in the app data ({} ids: {}): every row was checked on its own",
                duplicates.len(),
                list(&duplicates, 5)
            ));
        }
    }

    /// ACC001, ACC002, ACC003, ACC007 and ACC008 for some of the users; returns
    /// how many have access and a customer id, and those of them whose customer
    /// has no subscription at all (ACC002 or ACC010, decided over all users).
    fn check_user_rows(&self, users: &'a [UserRow], comped: &HashSet<&str>, out: &mut Out) -> (usize, Vec<&'a UserRow>) {
        let (mut linked_with_access, mut unknown_customers) = (0usize, Vec::new());
        for user in users {
            let id = self.s(user.id);
            // Only asked about users with access that the billing data does not back.
            let is_comped = || !comped.is_empty() && comped.contains(id);
            let Some(customer) = user.customer else {
                if user.access && !is_comped() {
                    out.push(
                        Finding::new(
                            rule("ACC008"),
                            format!("user:{id}"),
                            format!(
                                "{} is true but the user has no billing customer id and is not in comped_users",
                                self.labels.access_field
                            ),
                        )
                        .evidence("db_access", true)
                        .evidence("customer_id", serde_json::Value::Null),
                    );
                }
                continue;
            };

            let mut entitling: SmallVec<[usize; 2]> = SmallVec::new();
            let mut others: SmallVec<[usize; 2]> = SmallVec::new();
            let mut grace_expired = None;
            for (i, _) in self.subs_of(customer) {
                match self.grants[i] {
                    Grant::Entitles => entitling.push(i),
                    Grant::GraceExpired => {
                        grace_expired.get_or_insert(i);
                        others.push(i);
                    }
                    Grant::No => others.push(i),
                }
            }
            let has_any = !entitling.is_empty() || !others.is_empty();
            if user.access {
                linked_with_access += 1;
                if !has_any {
                    unknown_customers.push(user);
                }
            }

            if !entitling.is_empty() && !user.access {
                self.revenue_leak(out, id, customer, &entitling);
            } else if entitling.is_empty() && user.access && !is_comped() {
                if let Some(i) = grace_expired {
                    self.grace_expired(out, id, customer, i);
                } else if has_any {
                    self.wrongful_access(out, id, customer, &others);
                }
                // No subscription at all: decided below, after ACC010.
            }
            if !entitling.is_empty() && user.access && self.obs.plan_tracked {
                self.plan_drift(out, id, user.plan, &entitling);
            }
        }

        (linked_with_access, unknown_customers)
    }

    /// User ids on more than one row. Ids are not in the string table's
    /// index (nothing looks them up), so equal ids are found by sorting
    /// their hashes, with the text deciding between equal hashes.
    fn duplicate_user_ids(&self) -> Vec<&'a str> {
        let id = |i: u32| self.s(self.obs.users[i as usize].id);
        // Exports are usually ordered by id: ids that strictly increase in
        // (length, bytes) order are all distinct, which one pass shows.
        let shortlex = |a: &str, b: &str| (a.len(), a.as_bytes()) < (b.len(), b.as_bytes());
        if self.obs.users.windows(2).all(|w| shortlex(self.s(w[0].id), self.s(w[1].id))) {
            return Vec::new();
        }
        let mut keyed: Vec<(u64, u32)> =
            (0..self.obs.users.len() as u32).map(|i| (xxhash_rust::xxh3::xxh3_64(id(i).as_bytes()), i)).collect();
        keyed.sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| id(a.1).cmp(id(b.1))));
        keyed.windows(2).filter(|w| w[0].0 == w[1].0 && id(w[0].1) == id(w[1].1)).map(|w| id(w[0].1)).collect()
    }

    fn revenue_leak(&self, out: &mut Out, id: &str, customer: Sym, entitling: &[usize]) {
        let subs = &self.obs.subscriptions;
        let first = &subs[entitling[0]];
        let more = if entitling.len() > 1 { format!(" (and {} more entitling)", entitling.len() - 1) } else { String::new() };
        let ids: Vec<&str> = entitling.iter().map(|&i| self.s(subs[i].id)).collect();
        out.push(
            Finding::new(
                rule("ACC001"),
                format!("user:{id}"),
                format!(
                    "{} subscription {} is {}{more} but {} is false",
                    self.labels.provider,
                    self.s(first.id),
                    self.status(first),
                    self.labels.access_field
                ),
            )
            .fix(format!(
                "{}, and make the handler of {} grant access",
                set_for_user(&self.labels.access_field, "true"),
                self.labels.grant_events()
            ))
            .evidence("customer_id", self.s(customer))
            .evidence("subscription_id", self.s(first.id))
            .evidence("status", self.status(first))
            .evidence("entitling_subscriptions", capped(&ids))
            .evidence("db_access", false),
        );
    }

    fn wrongful_access(&self, out: &mut Out, id: &str, customer: Sym, others: &[usize]) {
        let subs = &self.obs.subscriptions;
        let described: Vec<String> =
            others.iter().map(|&i| format!("{} {}", self.s(subs[i].id), self.status(&subs[i]))).collect();
        let shown: Vec<&str> = described.iter().map(String::as_str).collect();
        out.push(
            Finding::new(
                rule("ACC002"),
                format!("user:{id}"),
                format!(
                    "{} is true but customer {} has no entitling subscription ({})",
                    self.labels.access_field,
                    self.s(customer),
                    list(&shown, 3)
                ),
            )
            .fix(wrongful_fix(self.labels))
            .evidence("customer_id", self.s(customer))
            .evidence(
                "subscriptions",
                others
                    .iter()
                    .take(MAX_LISTED)
                    .map(|&i| serde_json::json!({"id": self.s(subs[i].id), "status": self.status(&subs[i])}))
                    .collect::<Vec<_>>(),
            )
            .evidence("db_access", true),
        );
    }

    fn grace_expired(&self, out: &mut Out, id: &str, customer: Sym, i: usize) {
        let sub = &self.obs.subscriptions[i];
        let start = sub.period_start.get().unwrap_or(self.now);
        let days = (self.now - start).max(0) / DAY;
        out.push(
            Finding::new(
                rule("ACC007"),
                format!("user:{id}"),
                format!(
                    "subscription {} has been past_due since {} ({days} days; grace is {} days) but {} is still true",
                    self.s(sub.id),
                    date(start),
                    self.cfg.past_due_grace_days,
                    self.labels.access_field
                ),
            )
            .evidence("customer_id", self.s(customer))
            .evidence("subscription_id", self.s(sub.id))
            .evidence("status", "past_due")
            .evidence("past_due_since", date(start))
            .evidence("past_due_days", days)
            .evidence("grace_days", self.cfg.past_due_grace_days)
            .evidence("db_access", true),
        );
    }

    /// ACC003: only for an entitled user with access whose entitling
    /// subscriptions map to at least one plan. Unmapped prices are ACC004's.
    fn plan_drift(&self, out: &mut Out, id: &str, plan: Option<Sym>, entitling: &[usize]) {
        let subs = &self.obs.subscriptions;
        // (rank, price id, plan, subscription id); ranked plans first, ties by price id.
        // Inline: this runs for nearly every paying user, and one candidate is the rule.
        let mut candidates: SmallVec<[(usize, &str, &str, &str); 2]> = SmallVec::new();
        for &i in entitling {
            for price in &subs[i].prices {
                if let Some(plan) = self.plan_of_price.get(price) {
                    let rank = self.cfg.plan_rank.iter().position(|p| p == plan).unwrap_or(usize::MAX);
                    candidates.push((rank, self.s(*price), plan, self.s(subs[i].id)));
                }
            }
        }
        if candidates.is_empty() {
            return;
        }
        candidates.sort();
        let db_plan = plan.map(|p| self.s(p)).filter(|p| !p.trim().is_empty());
        let (expected, accepted): (Option<&str>, SmallVec<[&str; 2]>) = if self.cfg.plan_rank.is_empty() {
            let mut plans: SmallVec<[&str; 2]> = candidates.iter().map(|c| c.2).collect();
            plans.sort();
            plans.dedup();
            (if plans.len() == 1 { Some(plans[0]) } else { None }, plans)
        } else {
            (Some(candidates[0].2), smallvec::smallvec![candidates[0].2])
        };
        if db_plan.is_some_and(|p| accepted.contains(&p)) {
            return;
        }
        let shown_db = db_plan.map(|p| format!("'{p}'")).unwrap_or_else(|| "empty".into());
        let target = match expected {
            Some(p) => format!("maps to plan '{p}'"),
            None => format!("map to one of {}", accepted.iter().map(|p| format!("'{p}'")).collect::<Vec<_>>().join(", ")),
        };
        let (_, price, _, sub) = candidates[0];
        let source = if candidates.len() == 1 {
            format!("the entitling subscription {sub} ({price}) {target}")
        } else {
            format!("the entitling subscriptions {target}")
        };
        let fix = match expected {
            Some(p) => format!(
                "{}, and make the {} handler write the plan mapped from the price",
                set_for_user(&self.labels.plan_field, &format!("'{p}'")),
                self.labels.plan_event()
            ),
            None => format!("Set {} to one of the subscribed plans, and add [access] plan_rank to say which plan wins", self.labels.plan_field),
        };
        out.push(
            Finding::new(rule("ACC003"), format!("user:{id}"), format!("{} is {shown_db} but {source}", self.labels.plan_field))
                .fix(fix)
                .evidence("db_plan", db_plan)
                .evidence("expected_plan", expected)
                .evidence("candidate_plans", accepted.to_vec())
                .evidence("price_ids", candidates.iter().map(|c| c.1).collect::<Vec<_>>())
                .evidence("subscription_ids", {
                    let mut ids: Vec<&str> = candidates.iter().map(|c| c.3).collect();
                    ids.dedup();
                    ids
                }),
        );
    }

    /// ACC005, ACC006, ACC009: per customer.
    fn check_customers(&self, out: &mut Out) {
        // ACC005: distinct users sharing one customer id.
        let mut shared: BTreeMap<Sym, Vec<&str>> = BTreeMap::new();
        for user in &self.obs.users {
            if let Some(c) = user.customer
                && self.users_of_customer[sym_index(c)] >= 2
            {
                shared.entry(c).or_default().push(self.s(user.id));
            }
        }
        for (customer, mut users) in shared {
            // A user id repeated on several rows is one user, not a shared customer.
            users.sort_by(|a, b| crate::report::natural_cmp(a, b));
            users.dedup();
            if users.len() < 2 {
                continue;
            }
            let cus = self.s(customer);
            out.push(
                Finding::new(
                    rule("ACC005"),
                    format!("customer:{cus}"),
                    format!("customer {cus} is linked to {} users: {}", users.len(), list(&users, 5)),
                )
                .evidence("customer_id", cus)
                .evidence("user_count", users.len())
                .evidence("user_ids", capped(&users)),
            );
        }

        // ACC006 and ACC009: walk each customer's subscriptions once.
        let mut done = vec![false; self.first_sub.len()];
        for sub in &self.obs.subscriptions {
            let c = sym_index(sub.customer);
            if std::mem::replace(&mut done[c], true) {
                continue;
            }
            let entitling = || self.subs_of(sub.customer).filter(|(i, _)| self.grants[*i] == Grant::Entitles).map(|(_, s)| s);
            // Counted before anything is collected: most customers have a user
            // and at most one entitling subscription, and need nothing more.
            let count = entitling().count();
            if count == 0 || (count == 1 && self.users_of_customer[c] > 0) {
                continue;
            }
            let entitling: Vec<&Subscription> = entitling().collect();
            let cus = self.s(sub.customer);
            let ids: Vec<&str> = entitling.iter().map(|s| self.s(s.id)).collect();
            if self.users_of_customer[c] == 0 {
                let first = entitling[0];
                out.push(
                    Finding::new(
                        rule("ACC006"),
                        format!("customer:{cus}"),
                        format!(
                            "{} subscription {} is {} for customer {cus}, but no user links to that customer",
                            self.labels.provider,
                            self.s(first.id),
                            self.status(first)
                        ),
                    )
                    .evidence("customer_id", cus)
                    .evidence("subscription_ids", capped(&ids))
                    .evidence("status", self.status(first)),
                );
            }
            if entitling.len() >= 2 {
                out.push(
                    Finding::new(
                        rule("ACC009"),
                        format!("customer:{cus}"),
                        format!("customer {cus} has {} entitling subscriptions: {}", ids.len(), list(&ids, 5)),
                    )
                    .evidence("customer_id", cus)
                    .evidence("subscription_count", ids.len())
                    .evidence("subscription_ids", capped(&ids)),
                );
            }
        }
    }

    /// ACC004: prices of entitling subscriptions that [access.plans] does not map.
    fn check_prices(&self, out: &mut Out) {
        let local;
        let totals = match self.totals {
            Some(t) => t,
            None => {
                local = self.price_totals();
                &local
            }
        };
        if self.cfg.plans.is_empty() {
            if totals.any_priced {
                out.notes.push(
                    "[access.plans] is empty: plan checks (ACC003, ACC004) were skipped; map price ids to plan names in billguard.toml to enable them".into(),
                );
            }
            return;
        }
        for (p, tally) in &totals.unmapped_prices {
            let count = tally.count;
            out.push(
                Finding::new(
                    rule("ACC004"),
                    format!("price:{p}"),
                    format!("{count} entitling subscription(s) use price {p}, which [access.plans] does not map to a plan"),
                )
                .fix(format!("Add \"{p}\" = \"<plan>\" under [access.plans] in billguard.toml, and to the app's own price-to-plan map"))
                .evidence("price_id", p.as_str())
                .evidence("count", count)
                .evidence("example_subscription_ids", &tally.examples[..]),
            );
        }
    }

    /// ACC004's tallies over the subscriptions held.
    fn price_totals(&self) -> Totals {
        let entitling = || self.obs.subscriptions.iter().zip(&self.grants).filter(|(_, g)| **g == Grant::Entitles).map(|(s, _)| s);
        let any_priced = entitling().any(|s| !s.prices.is_empty());
        let mut unmapped: SymMap<Tally> = SymMap::default();
        if !self.cfg.plans.is_empty() {
            for sub in entitling() {
                for price in &sub.prices {
                    if !self.plan_of_price.contains_key(price) {
                        add(unmapped.entry(*price).or_default(), self.s(sub.id));
                    }
                }
            }
        }
        let unmapped_prices = unmapped.into_iter().map(|(price, tally)| (self.s(price).to_string(), tally)).collect();
        Totals { any_priced, unmapped_prices, ..Totals::default() }
    }
}

/// Counts one more row, keeping the first ids as examples (rows come ordered by id).
fn add(tally: &mut Tally, id: &str) {
    tally.count += 1;
    if tally.examples.len() < EXAMPLES {
        tally.examples.push(id.to_string());
    }
}

/// The first `max` examples, and the count when there are more.
fn counted(tally: &Tally, max: usize) -> String {
    let mut s = tally.examples.iter().take(max).map(String::as_str).collect::<Vec<_>>().join(", ");
    if tally.count > max {
        s.push_str(&format!(", … ({} in all)", tally.count));
    }
    s
}

/// Per customer symbol, its first subscription (chained through the second
/// table, one entry per subscription) and how many users link to it.
fn index(obs: &Observations) -> (Vec<u32>, Vec<u32>, Vec<u8>) {
    let n = obs.strings.len();
    let (mut first_sub, mut next_sub, mut users_of_customer) = (vec![NONE; n], vec![NONE; obs.subscriptions.len()], vec![0u8; n]);
    for (i, sub) in obs.subscriptions.iter().enumerate().rev() {
        let c = sym_index(sub.customer);
        next_sub[i] = first_sub[c];
        first_sub[c] = i as u32;
    }
    for user in &obs.users {
        if let Some(c) = user.customer {
            let n = &mut users_of_customer[sym_index(c)];
            *n = n.saturating_add(1);
        }
    }
    (first_sub, next_sub, users_of_customer)
}

fn rule(code: &str) -> &'static rules::Rule {
    rules::get(code).expect("access rules are in the catalog")
}

fn wrongful_fix(labels: &Labels) -> String {
    format!(
        "{}, and make the handler of {} revoke access when the status stops granting",
        set_for_user(&labels.access_field, "false"),
        labels.revoke_events()
    )
}

fn list(items: &[&str], max: usize) -> String {
    let mut s = items.iter().take(max).copied().collect::<Vec<_>>().join(", ");
    if items.len() > max {
        s.push_str(&format!(", … ({} in all)", items.len()));
    }
    s
}

fn capped(items: &[&str]) -> Vec<String> {
    items.iter().take(MAX_LISTED).map(|s| s.to_string()).collect()
}

fn date(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0).map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_else(|| unix.to_string())
}

#[cfg(test)]
#[path = "contract_tests.rs"]
mod tests;
