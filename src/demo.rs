//! `billguard demo`: the checks on scenarios compiled into the binary, so a
//! first run needs no files, keys or network.

use crate::access::{self, AccessScope};
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

/// Runs every built-in scenario. `now` is fixed by the caller for repeatable output.
pub fn run(now: i64) -> Result<Vec<(&'static Scenario, Report<AccessScope>)>, CheckError> {
    SCENARIOS
        .iter()
        .map(|s| access::check_embedded(s.name, s.subscriptions, s.users, s.config, now).map(|r| (s, r)))
        .collect()
}
