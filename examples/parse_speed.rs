//! Single-thread speed of the fixture parsers, without I/O: splits and
//! parses a subscriptions file and a users file held in memory, several
//! times each, and prints CPU time per element and per byte.
//!
//! Usage: parse_speed DIR [ROUNDS]   (DIR as written by tools/bench-access --keep)

use std::time::Instant;

use billguard::access::model::Observations;
use billguard::access::subscriptions_json::read_subscriptions_slice;
use billguard::access::users_json::{UserKeys, read_users_slice};
use billguard::config::ColumnsConfig;

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = std::path::PathBuf::from(args.next().expect("usage: parse_speed DIR [ROUNDS]"));
    let rounds: usize = args.next().map_or(5, |r| r.parse().expect("ROUNDS is a number"));
    let subs = std::fs::read(dir.join("stripe/subscriptions.json")).expect("stripe/subscriptions.json");
    let users = std::fs::read(dir.join("db/users.json")).expect("db/users.json");
    let keys = UserKeys::from_columns(&ColumnsConfig::default());
    report("subscriptions", subs.len(), rounds, || {
        let mut obs = Observations::default();
        read_subscriptions_slice(&subs, &mut obs).expect("parses").count
    });
    report("users", users.len(), rounds, || {
        let mut obs = Observations::default();
        read_users_slice(&users, &keys, &mut obs).expect("parses")
    });
}

/// Prints the best of `rounds` runs: the least disturbed by other work on the machine.
fn report(what: &str, bytes: usize, rounds: usize, mut run: impl FnMut() -> usize) {
    let mut best = f64::MAX;
    let mut count = 0;
    for _ in 0..rounds {
        let started = Instant::now();
        count = run();
        best = best.min(started.elapsed().as_secs_f64());
    }
    println!(
        "{what:>14}: {count} elements, best of {rounds}: {:.1} ms, {:.0} ns/element, {:.2} ns/byte",
        best * 1e3,
        best * 1e9 / count as f64,
        best * 1e9 / bytes as f64
    );
}
