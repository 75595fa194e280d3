//! What the access contract compares: subscriptions as the billing provider
//! reports them and users as the app stores them, whatever the source.
//!
//! Strings are interned once: customer ids shared by both sides compare as
//! integers, and a million rows stay in tens of megabytes.

use smallvec::SmallVec;

pub use super::strings::{Strings, Sym};

/// Dense index of a symbol, for per-string tables.
pub fn sym_index(s: Sym) -> usize {
    s.index()
}

/// A subscription status, lower-cased. Provider spellings that mean the same
/// thing map to one variant (Lemon Squeezy's `cancelled`, `on_trial`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    Active,
    Trialing,
    PastDue,
    Canceled,
    Unpaid,
    Incomplete,
    IncompleteExpired,
    Paused,
    /// A status billguard does not know; never entitling unless configured.
    Other(Sym),
}

impl Status {
    /// Parses a status case-insensitively; unknown spellings are interned.
    pub fn parse(raw: &str, strings: &mut Strings) -> Status {
        let lower = raw.trim().to_ascii_lowercase();
        Status::known(&lower).unwrap_or_else(|| Status::Other(strings.get_or_intern(&lower)))
    }

    /// [`Status::known`] for any case, allocating only when there are capitals.
    pub fn known_any_case(raw: &str) -> Option<Status> {
        if raw.bytes().any(|b| b.is_ascii_uppercase()) { Status::known(&raw.to_ascii_lowercase()) } else { Status::known(raw) }
    }

    pub fn known(lower: &str) -> Option<Status> {
        Some(match lower {
            "active" => Status::Active,
            "trialing" | "on_trial" => Status::Trialing,
            "past_due" => Status::PastDue,
            "canceled" | "cancelled" => Status::Canceled,
            "unpaid" => Status::Unpaid,
            "incomplete" => Status::Incomplete,
            "incomplete_expired" | "expired" => Status::IncompleteExpired,
            "paused" => Status::Paused,
            _ => return None,
        })
    }

    pub fn as_str<'a>(&self, strings: &'a Strings) -> &'a str {
        match self {
            Status::Active => "active",
            Status::Trialing => "trialing",
            Status::PastDue => "past_due",
            Status::Canceled => "canceled",
            Status::Unpaid => "unpaid",
            Status::Incomplete => "incomplete",
            Status::IncompleteExpired => "incomplete_expired",
            Status::Paused => "paused",
            Status::Other(s) => strings.resolve(*s).unwrap_or("?"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Subscription {
    pub id: Sym,
    pub customer: Sym,
    pub status: Status,
    /// Price ids of the subscription's items (legacy plan ids where there is no price).
    pub prices: SmallVec<[Sym; 2]>,
    pub cancel_at_period_end: bool,
    /// The start of the current period: when past_due began, for the grace period.
    pub period_start: UnixTime,
    /// The end of the current period: when a scheduled cancellation takes effect.
    pub period_end: UnixTime,
}

/// Unix seconds, or none: eight bytes where an `Option<i64>` takes sixteen
/// (a million subscriptions carry two). `i64::MIN` stands for none; no
/// timestamp is that far in the past.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnixTime(i64);

impl UnixTime {
    pub const NONE: UnixTime = UnixTime(i64::MIN);

    pub fn get(self) -> Option<i64> {
        (self != Self::NONE).then_some(self.0)
    }
}

impl From<Option<i64>> for UnixTime {
    /// `Some(i64::MIN)` becomes the next second: it cannot be told from none.
    fn from(t: Option<i64>) -> Self {
        t.map_or(Self::NONE, |t| UnixTime(t.max(i64::MIN + 1)))
    }
}

#[derive(Debug, Clone)]
pub struct UserRow {
    /// Not in the string table's index: ids are printed, never looked up.
    pub id: Sym,
    /// None when null or empty.
    pub customer: Option<Sym>,
    pub access: bool,
    pub plan: Option<Sym>,
}

/// Everything one evaluation looks at.
#[derive(Debug, Default)]
pub struct Observations {
    pub strings: Strings,
    pub subscriptions: Vec<Subscription>,
    pub users: Vec<UserRow>,
    /// Whether the users carry a plan at all (no plan column: plan checks are skipped).
    pub plan_tracked: bool,
    /// Some user row carries the customer column (even as null): a column named in no
    /// row is a misconfiguration, not a table of unlinked users.
    pub customer_tracked: bool,
    /// What the sources noticed while reading (duplicate ids, a partial list...).
    pub notes: Vec<String>,
}

impl Observations {
    pub fn str(&self, s: Sym) -> &str {
        self.strings.resolve(s).unwrap_or("?")
    }

    pub fn intern(&mut self, s: &str) -> Sym {
        self.strings.get_or_intern(s)
    }

    /// Adds what another reader observed (the users file, read while this
    /// one read the subscriptions).
    pub fn absorb(&mut self, other: Observations) {
        let moved = self.strings.absorb(other.strings);
        let sym = |s: Sym| moved.sym(s);
        self.subscriptions.extend(other.subscriptions.into_iter().map(|s| Subscription {
            id: sym(s.id),
            customer: sym(s.customer),
            status: match s.status {
                Status::Other(raw) => Status::Other(sym(raw)),
                known => known,
            },
            prices: s.prices.iter().map(|&p| sym(p)).collect(),
            ..s
        }));
        // Renumbered in place: taken over whole when this side has no users
        // (the common case: one reader per side), not copied.
        let start = self.users.len();
        if start == 0 {
            self.users = other.users;
        } else {
            self.users.extend(other.users);
        }
        for u in &mut self.users[start..] {
            u.id = sym(u.id);
            u.customer = u.customer.map(sym);
            u.plan = u.plan.map(sym);
        }
        self.plan_tracked |= other.plan_tracked;
        self.customer_tracked |= other.customer_tracked;
        self.notes.extend(other.notes);
    }

    /// After a document's first batch of `rows` rows, which grew the string
    /// table from `before` and ended at byte `read_to` of `len`: room for the
    /// rest of the document, in the table and in `rows_of` (the rows' vector).
    /// A large file is sized once instead of growing (and copying) a dozen times.
    pub fn reserve_rest<T>(strings: &mut Strings, rows_of: &mut Vec<T>, before: (usize, usize, usize), rows: usize, len: Option<u64>, read_to: u64) {
        let times = super::json_stream::growth_after_first(len, read_to);
        strings.reserve_like(before, times);
        rows_of.reserve((rows as f64 * times) as usize);
    }

    /// Gives each customer id one symbol on both sides (see [`super::link`]).
    pub fn link_customers(&mut self) {
        super::link::link_customers(self);
    }

    /// Test and demo helper: a subscription from plain strings.
    pub fn add_subscription(&mut self, id: &str, customer: &str, status: &str, prices: &[&str]) -> &mut Subscription {
        let sub = Subscription {
            id: self.intern(id),
            customer: self.intern(customer),
            status: Status::parse(status, &mut self.strings),
            prices: prices.iter().map(|p| self.strings.get_or_intern(p)).collect(),
            cancel_at_period_end: false,
            period_start: UnixTime::NONE,
            period_end: UnixTime::NONE,
        };
        self.subscriptions.push(sub);
        self.subscriptions.last_mut().expect("just pushed")
    }

    /// Test and demo helper: a user from plain strings.
    pub fn add_user(&mut self, id: &str, customer: Option<&str>, access: bool, plan: Option<&str>) -> &mut UserRow {
        self.customer_tracked = true;
        let customer = customer.map(str::trim).filter(|c| !c.is_empty()).map(|c| self.intern(c));
        let user = UserRow { id: self.strings.push_unindexed(id), customer, access, plan: plan.map(|p| self.strings.get_or_intern(p)) };
        if plan.is_some() {
            self.plan_tracked = true;
        }
        self.users.push(user);
        self.users.last_mut().expect("just pushed")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Customer ids stored without an index entry, as the file readers store them.
    fn unlinked(obs: &mut Observations, subs: &[&str], users: &[Option<&str>]) {
        for (i, c) in subs.iter().enumerate() {
            let customer = obs.strings.push_unindexed(c);
            obs.add_subscription(&format!("sub_{i}"), "placeholder", "active", &[]).customer = customer;
        }
        for (i, c) in users.iter().enumerate() {
            let customer = c.map(|c| obs.strings.push_unindexed(c));
            obs.add_user(&format!("u{i}"), None, true, None).customer = customer;
        }
    }

    #[test]
    fn rows_stay_compact() {
        // A million users: every byte of a row is a megabyte.
        assert_eq!(std::mem::size_of::<Option<Sym>>(), 4);
        assert_eq!(std::mem::size_of::<UserRow>(), 16);
        assert_eq!(std::mem::size_of::<Subscription>(), 64);
        assert_eq!((UnixTime::from(Some(5)).get(), UnixTime::from(None).get()), (Some(5), None));
        assert_eq!(UnixTime::from(Some(i64::MIN)).get(), Some(i64::MIN + 1));
    }

    #[test]
    fn linking_gives_equal_customer_ids_one_symbol() {
        let mut obs = Observations::default();
        unlinked(&mut obs, &["cus_A", "cus_B", "cus_A"], &[Some("cus_B"), None, Some("cus_C"), Some("cus_A")]);
        let before: Vec<Sym> = obs.subscriptions.iter().map(|s| s.customer).collect();
        assert_ne!(before[0], before[2], "stored apart until linked");
        obs.link_customers();
        let subs: Vec<Sym> = obs.subscriptions.iter().map(|s| s.customer).collect();
        let users: Vec<Option<Sym>> = obs.users.iter().map(|u| u.customer).collect();
        assert_eq!(subs[0], subs[2]);
        assert_eq!(users[3], Some(subs[0]));
        assert_eq!(users[0], Some(subs[1]));
        assert_ne!(subs[0], subs[1]);
        assert_eq!(users[1], None);
        assert_eq!(obs.str(users[2].unwrap()), "cus_C");
        assert_eq!(subs[0], before[0], "the first symbol of a run is kept");
    }

    #[test]
    fn absorbing_another_read_keeps_strings_and_shared_entries() {
        let mut obs = Observations::default();
        obs.add_subscription("sub_1", "cus_A", "active", &["price_pro"]);
        let mut users = Observations::default();
        users.add_user("7", Some("cus_A"), true, Some("pro"));
        users.add_subscription("sub_2", "cus_B", "Weird", &["price_pro"]);
        obs.absorb(users);
        obs.link_customers();
        assert_eq!(obs.str(obs.users[0].id), "7");
        assert_eq!(obs.users[0].customer, Some(obs.subscriptions[0].customer));
        assert_eq!(obs.str(obs.users[0].plan.unwrap()), "pro");
        assert_eq!(obs.subscriptions[1].prices[0], obs.subscriptions[0].prices[0], "one entry per price");
        assert_eq!(obs.subscriptions[1].status.as_str(&obs.strings), "weird");
        assert!(obs.plan_tracked);
    }
}
