//! What the main pushed-down statement returns, summed over its parts: each part (a hash
//! range of customers, run side by side by Postgres) sends its own totals and its own
//! customers, in customer order; this gathers them into the whole-table counts and the
//! customers the reference engine must see.

use crate::access::totals::{unknown_customers_fire, EXAMPLES};

/// Customers whose users have access and which have no subscription are kept up to this
/// many (about 50 bytes each); past it, and only when ACC010 does not fire (so that each is
/// a finding of its own), they are asked for again by [`super::pushdown_sql::unknown_customers`].
pub const UNKNOWN_KEPT: usize = 200_000;

/// Up to this many customers with a rare subscription are kept, and [`super::pushdown_sql::rare`]
/// reads only their subscriptions; past it, it scans every subscription (the list would be
/// larger than the scan is slow).
pub const RARE_CUSTOMERS_LISTED: usize = 100_000;

/// The main pass, as it is read.
#[derive(Default)]
pub struct MainPass {
    /// How many customers with a rare subscription, and how many unknown ones, are kept.
    rare_limit: usize,
    unknown_kept: usize,
    pub users: usize,
    pub null_access: bool,
    pub no_id: bool,
    pub linked_with_access: usize,
    pub unknown: usize,
    pub subscriptions: usize,
    pub rare_customers: usize,
    pub any_priced: bool,
    /// Customers a rule may fire for.
    wanted: Vec<String>,
    /// Customers whose only reason to come back is that they are unknown (ACC002 each, unless
    /// ACC010 fires), up to `unknown_kept`.
    unknown_only: Vec<String>,
    unknown_overflow: bool,
    /// Each part's first unknown customers (its smallest: a part's rows come in order).
    unknown_examples: Vec<Vec<String>>,
    /// Customers with a rare subscription, up to `rare_limit`.
    rare: Vec<String>,
    rare_overflow: bool,
}

/// One row of the main statement (see [`super::pushdown_sql::main`]).
pub enum PassRow {
    /// A part's totals, or (`part` None) the users without a customer.
    Totals { part: Option<usize>, users: usize, null_access: bool, no_id: bool, linked: usize, unknown: usize, subs: usize, rare: usize, priced: bool },
    Customer { part: usize, customer: String, wanted: bool, unknown: bool, rare: bool },
}

impl MainPass {
    pub fn new(rare_limit: usize, unknown_kept: usize) -> MainPass {
        MainPass { rare_limit, unknown_kept, ..MainPass::default() }
    }

    pub fn add(&mut self, row: PassRow) {
        match row {
            PassRow::Totals { part, users, null_access, no_id, linked, unknown, subs, rare, priced } => {
                self.users += users;
                self.null_access |= null_access;
                self.no_id |= no_id;
                if part.is_some() {
                    self.linked_with_access += linked;
                    self.unknown += unknown;
                    self.subscriptions += subs;
                    self.rare_customers += rare;
                    self.any_priced |= priced;
                }
            }
            PassRow::Customer { part, customer, wanted, unknown, rare } => {
                if unknown {
                    if self.unknown_examples.len() <= part {
                        self.unknown_examples.resize_with(part + 1, Vec::new);
                    }
                    let examples = &mut self.unknown_examples[part];
                    if examples.len() < EXAMPLES {
                        examples.push(customer.clone());
                    }
                }
                if rare {
                    if self.rare.len() < self.rare_limit {
                        self.rare.push(customer.clone());
                    } else {
                        self.rare_overflow = true;
                    }
                }
                if wanted {
                    self.wanted.push(customer);
                } else if unknown {
                    if self.unknown_only.len() < self.unknown_kept {
                        self.unknown_only.push(customer);
                    } else {
                        self.unknown_overflow = true;
                    }
                }
            }
        }
    }

    /// Whether ACC010 fires on the whole tables (then the unknown customers are one finding,
    /// and only their count and examples are needed).
    pub fn unknown_fires(&self) -> bool {
        unknown_customers_fire(self.unknown, self.linked_with_access)
    }

    /// The smallest unknown customers over every part.
    pub fn unknown_examples(&self) -> Vec<String> {
        let mut all: Vec<String> = self.unknown_examples.iter().flatten().cloned().collect();
        all.sort_unstable();
        all.truncate(EXAMPLES);
        all
    }

    /// Whether the unknown customers must be asked for again: kept only in part, and each is
    /// a finding.
    pub fn unknown_incomplete(&self) -> bool {
        self.unknown_overflow && !self.unknown_fires()
    }

    /// The customers with a rare subscription, when every one was kept.
    pub fn rare_listed(&self) -> Option<&[String]> {
        (!self.rare_overflow).then_some(&self.rare[..])
    }

    /// The customers to read whole, sorted and distinct: those a rule may fire for, and the
    /// unknown ones when each is a finding (`unknown_again`: the full list, when the kept one
    /// was cut short).
    pub fn customers(self, unknown_again: Option<Vec<String>>) -> Vec<String> {
        let fires = self.unknown_fires();
        let mut out = self.wanted;
        if !fires {
            out.extend(unknown_again.unwrap_or(self.unknown_only));
        }
        out.sort_unstable();
        out.dedup();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn customer(part: usize, c: &str, wanted: bool, unknown: bool, rare: bool) -> PassRow {
        PassRow::Customer { part, customer: c.into(), wanted, unknown, rare }
    }

    fn totals(part: usize, linked: usize, unknown: usize) -> PassRow {
        PassRow::Totals { part: Some(part), users: linked, null_access: false, no_id: false, linked, unknown, subs: 1, rare: 0, priced: true }
    }

    #[test]
    fn parts_sum_and_the_unknown_rule_is_decided_on_the_whole() {
        // Part 0 alone would fire ACC010 (3 of 4), the whole does not (3 of 104): the unknown
        // customers then come back one by one.
        let mut pass = MainPass::new(10, 10);
        for c in ["cus_c", "cus_a", "cus_b"] {
            pass.add(customer(0, c, false, true, false));
        }
        pass.add(customer(1, "cus_w", true, false, false));
        pass.add(totals(0, 4, 3));
        pass.add(totals(1, 100, 0));
        pass.add(PassRow::Totals { part: None, users: 7, null_access: true, no_id: false, linked: 0, unknown: 0, subs: 0, rare: 0, priced: false });
        assert_eq!((pass.users, pass.linked_with_access, pass.unknown, pass.subscriptions), (111, 104, 3, 2));
        assert!(pass.null_access && pass.any_priced && !pass.unknown_fires());
        assert_eq!(pass.unknown_examples(), ["cus_a", "cus_b", "cus_c"]);
        assert_eq!(pass.customers(None), ["cus_a", "cus_b", "cus_c", "cus_w"]);
    }

    #[test]
    fn when_the_unknown_rule_fires_only_counts_and_examples_are_kept() {
        let mut pass = MainPass::new(10, 10);
        for (part, c) in [(0, "cus_9"), (1, "cus_1"), (0, "cus_z"), (1, "cus_2"), (1, "cus_3"), (1, "cus_4"), (1, "cus_5"), (1, "cus_6")] {
            pass.add(customer(part, c, false, true, false));
        }
        pass.add(totals(0, 2, 2));
        pass.add(totals(1, 6, 6));
        assert!(pass.unknown_fires() && !pass.unknown_incomplete());
        // Each part's first five are its smallest: cus_6 was never a candidate.
        assert_eq!(pass.unknown_examples(), ["cus_1", "cus_2", "cus_3", "cus_4", "cus_5"]);
        assert!(pass.customers(None).is_empty());
    }

    #[test]
    fn rare_customers_are_listed_only_when_every_one_was_kept() {
        let mut pass = MainPass::new(2, 10);
        pass.add(customer(0, "cus_r1", false, false, true));
        pass.add(customer(1, "cus_r2", true, false, true));
        assert_eq!(pass.rare_listed().unwrap(), ["cus_r1", "cus_r2"]);
        pass.add(customer(0, "cus_r3", false, false, true));
        assert!(pass.rare_listed().is_none());
        assert_eq!(pass.customers(None), ["cus_r2"], "rare alone is read by the rare statement, not whole");
    }

    #[test]
    fn unknown_customers_past_the_kept_number_are_asked_again_only_when_each_is_a_finding() {
        let pass_with = |linked: usize| {
            let mut pass = MainPass::new(10, 2);
            for c in ["cus_1", "cus_2", "cus_3"] {
                pass.add(customer(0, c, false, true, false));
            }
            pass.add(totals(0, linked, 3));
            pass
        };
        // 3 of 100: each unknown customer is an ACC002 of its own, and one was not kept.
        let many_linked = pass_with(100);
        assert!(many_linked.unknown_incomplete());
        assert_eq!(many_linked.customers(Some(vec!["cus_1".into(), "cus_2".into(), "cus_3".into()])), ["cus_1", "cus_2", "cus_3"]);
        // 3 of 4: ACC010 fires with the count and examples; nothing more is needed.
        let fires = pass_with(4);
        assert!(!fires.unknown_incomplete());
        assert_eq!(fires.unknown_examples(), ["cus_1", "cus_2", "cus_3"]);
    }
}
