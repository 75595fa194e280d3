//! Linking: gives each customer id one symbol on both sides, which the
//! contract then compares as integers.
//!
//! Readers of large files store customer ids without looking each one up in
//! the string table (that random memory access per row was most of the time
//! spent reading); linking joins them afterwards. Ids are grouped by a 96-bit
//! hash (two distinct ids colliding among millions is below 1e-16), so no
//! string is re-read out of order. The hashes are uniform: one pass scatters
//! them by their top bits into buckets of a few dozen, each sorted in cache,
//! and the two halves of the hash space go to two threads.

use std::sync::atomic::{AtomicU32, Ordering::Relaxed};

use super::model::Observations;
use super::strings::{self, Sym};
use crate::parallel::join;

/// A customer id's place: its hash (low 64 bits, high 32 bits) and its index
/// among the places (the subscriptions, then the users).
type Keyed = (u64, u32, u32);

/// From this many places on, two threads share the work.
const PARALLEL_FROM: usize = 100_000;

pub fn link_customers(obs: &mut Observations) {
    let subs = obs.subscriptions.len();
    let places = subs + obs.users.len();
    let parallel = places >= PARALLEL_FROM;
    // About 32 keys per bucket, at most 2^16 buckets, at least one per half.
    let bits = (places / 32).max(2).ilog2().clamp(1, 16);
    let strings = &obs.strings;
    let (subscriptions, users) = (&obs.subscriptions, &obs.users);
    let (sub_side, user_side) = join(
        parallel,
        || Side::new(bits, 0, subscriptions.iter().map(|s| (Some(s.customer), s.customer)), strings),
        // A user without a customer gets a placeholder symbol that is never read.
        || Side::new(bits, subs, users.iter().map(|u| (u.customer, u.id)), strings),
    );
    let sides = [&sub_side, &user_side];
    join(parallel, || link_half(0, bits, sides), || link_half(1, bits, sides));

    let (sub_syms, user_syms) = (&sub_side.sym_at, &user_side.sym_at);
    let (subscriptions, users) = (&mut obs.subscriptions, &mut obs.users);
    join(
        parallel,
        || {
            for (sub, sym) in subscriptions.iter_mut().zip(sub_syms) {
                sub.customer = Sym::from_raw(sym.load(Relaxed));
            }
        },
        || {
            for (user, sym) in users.iter_mut().zip(user_syms) {
                if user.customer.is_some() {
                    user.customer = Some(Sym::from_raw(sym.load(Relaxed)));
                }
            }
        },
    );
}

/// One side's places (the subscriptions, or the users): their hashes, split
/// by the top bit into the two halves of the work, with a count per bucket,
/// and their current symbols.
struct Side {
    /// Index of this side's first place among all places.
    first: usize,
    halves: [Vec<Keyed>; 2],
    counts: Vec<u32>,
    /// The customer symbol at each place, which the runs rewrite in hash
    /// order (the rows are updated in their own order afterwards). Atomic
    /// because both halves write to it, never to the same place: each place
    /// is in one run, each run in one half.
    sym_at: Vec<AtomicU32>,
}

impl Side {
    /// `places` gives each place's customer, if any, and the symbol to keep when there is none.
    fn new(bits: u32, first: usize, places: impl ExactSizeIterator<Item = (Option<Sym>, Sym)>, strings: &strings::Strings) -> Side {
        let n = places.len();
        let mut side = Side {
            first,
            halves: [Vec::with_capacity(n / 2 + n / 16), Vec::with_capacity(n / 2 + n / 16)],
            counts: vec![0; 1 << bits],
            sym_at: Vec::with_capacity(n),
        };
        for (j, (customer, placeholder)) in places.enumerate() {
            side.sym_at.push(AtomicU32::new(customer.unwrap_or(placeholder).raw()));
            if let Some(c) = customer {
                let k = keyed(strings.resolve(c).unwrap_or("?"), first + j);
                side.counts[bucket(&k, bits)] += 1;
                side.halves[(k.0 >> 63) as usize].push(k);
            }
        }
        side
    }

    fn sym_at(sides: [&Side; 2], at: u32) -> &AtomicU32 {
        let at = at as usize;
        if at < sides[1].first { &sides[0].sym_at[at] } else { &sides[1].sym_at[at - sides[1].first] }
    }
}

fn bucket(k: &Keyed, bits: u32) -> usize {
    (k.0 >> (64 - bits)) as usize
}

fn keyed(customer: &str, at: usize) -> Keyed {
    let k = strings::key(customer);
    (k as u64, (k >> 64) as u32, at as u32)
}

/// Joins the places whose hashes have top bit `half`: sorts them by hash,
/// then by place (one scatter into buckets by the top `bits`, then a small
/// sort per bucket), so that each run of equal ids starts with its first
/// place, whose symbol the whole run takes.
fn link_half(half: usize, bits: u32, sides: [&Side; 2]) {
    let buckets = (half << (bits - 1))..((half + 1) << (bits - 1));
    let mut starts = vec![0usize; buckets.len() + 1];
    for (b, start) in buckets.clone().zip(&mut starts[1..]) {
        *start = (sides[0].counts[b] + sides[1].counts[b]) as usize;
    }
    for b in 1..starts.len() {
        starts[b] += starts[b - 1];
    }
    let mut next = starts.clone();
    let mut sorted: Vec<Keyed> = vec![(0, 0, 0); starts[buckets.len()]];
    for &k in sides[0].halves[half].iter().chain(&sides[1].halves[half]) {
        let b = bucket(&k, bits) - buckets.start;
        sorted[next[b]] = k;
        next[b] += 1;
    }
    drop(next);
    for w in starts.windows(2) {
        sorted[w[0]..w[1]].sort_unstable();
    }
    for run in sorted.chunk_by(|a, b| (a.0, a.1) == (b.0, b.1)).filter(|run| run.len() > 1) {
        let canonical = Side::sym_at(sides, run[0].2).load(Relaxed);
        for &(_, _, at) in &run[1..] {
            Side::sym_at(sides, at).store(canonical, Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_ids_share_the_symbol_of_their_first_place_on_both_threads() {
        let mut obs = Observations::default();
        let n = PARALLEL_FROM;
        // Customer ids repeat across and within both sides; one user in ten has none.
        let id = |i: usize| format!("cus_{:x}", (i * 7919) % (n / 3));
        for i in 0..n / 2 {
            let customer = obs.strings.push_unindexed(&id(i));
            obs.add_subscription(&format!("sub_{i}"), "x", "active", &[]).customer = customer;
        }
        for i in 0..n / 2 {
            let customer = (i % 10 != 0).then(|| obs.strings.push_unindexed(&id(i + 12345)));
            obs.add_user(&i.to_string(), None, true, None).customer = customer;
        }
        let before: Vec<Option<Sym>> =
            obs.subscriptions.iter().map(|s| Some(s.customer)).chain(obs.users.iter().map(|u| u.customer)).collect();
        obs.link_customers();
        let after: Vec<Option<Sym>> =
            obs.subscriptions.iter().map(|s| Some(s.customer)).chain(obs.users.iter().map(|u| u.customer)).collect();
        let mut first: std::collections::HashMap<&str, Sym> = std::collections::HashMap::new();
        for (b, a) in before.iter().zip(&after) {
            let (Some(b), Some(a)) = (b, a) else {
                assert_eq!((b, a), (&None, &None));
                continue;
            };
            let text = obs.str(*b);
            assert_eq!(obs.str(*a), text);
            assert_eq!(*first.entry(text).or_insert(*b), *a, "{text} takes the symbol of its first place");
        }
        assert!(first.len() < n / 2, "ids did repeat");
    }
}
