//! The parts of the access contract that look at every row rather than at one
//! user or one customer: counts, with a few example ids each.
//!
//! The in-process evaluation tallies them itself. When the contract is pushed
//! down to Postgres, the database counts them over all rows and only the rows
//! that can produce a finding travel; the evaluation then takes these totals
//! instead of tallying the few rows it holds.

/// A count with its first example ids (byte order of the id).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Tally {
    pub count: usize,
    pub examples: Vec<String>,
}

/// Everything whole-table the contract reports.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Totals {
    /// Users with access and a customer id (ACC010's denominator).
    pub linked_with_access: usize,
    /// Those of them whose customer has no subscription of any status; examples are customer
    /// ids, distinct, smallest first.
    pub unknown_customers: Tally,
    /// ACC004: unmapped price -> entitling subscriptions using it (one per use).
    pub unmapped_prices: Vec<(String, Tally)>,
    /// Whether any entitling subscription carries a price (the empty-plans note).
    pub any_priced: bool,
    /// Statuses billguard does not know -> subscriptions with it (lower-cased, as classified).
    pub unknown_statuses: Vec<(String, Tally)>,
    /// Granting subscriptions set to cancel at period end whose period has ended.
    pub ended_cancels: Tally,
    /// past_due subscriptions without a period start (grace not measurable).
    pub unmeasured_grace: Tally,
    /// User ids on more than one row.
    pub duplicate_user_ids: Vec<String>,
}

/// How many example ids each tally keeps (the notes show 3, findings 5).
pub const EXAMPLES: usize = 5;

/// ACC010: users with access whose customer has no subscription at all make one finding
/// (wrong account or wrong mode) when they are at least 3 and at least half of the users
/// with access and a customer; below that, each is a finding of its own (ACC002).
pub fn unknown_customers_fire(unknown: usize, linked_with_access: usize) -> bool {
    unknown >= 3 && unknown * 2 >= linked_with_access
}
