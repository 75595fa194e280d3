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

/// A customer id's place: its hash (low 64 bits, high 32 bits) and its index
/// among the places (the subscriptions, then the users).
type Keyed = (u64, u32, u32);

/// From this many places on, two threads share the work.
const PARALLEL_FROM: usize = 100_000;

pub fn link_customers(obs: &mut Observations) {
    let subs = obs.subscriptions.len();
    let places = subs + obs.users.len();
    let parallel = places >= PARALLEL_FROM;
    let obs_ref = &*obs;
    let sub_keys = || -> Vec<Keyed> {
        obs_ref.subscriptions.iter().enumerate().map(|(i, s)| keyed(obs_ref.str(s.customer), i)).collect()
    };
    let user_keys = || -> Vec<Keyed> {
        let users = obs_ref.users.iter().enumerate();
        users.filter_map(|(j, u)| Some(keyed(obs_ref.str(u.customer?), subs + j))).collect()
    };
    let (sub_keys, user_keys) = both(parallel, sub_keys, user_keys);
    let parts = [sub_keys.as_slice(), user_keys.as_slice()];

    // The customer symbol at each place, in a compact array that the runs
    // below rewrite in hash order; the rows are updated in their own order
    // afterwards. Atomic because the two halves write to it (never to the
    // same place: each place is in one run, each run in one half).
    let mut sym_at: Vec<AtomicU32> = Vec::with_capacity(places);
    sym_at.extend(obs.subscriptions.iter().map(|s| AtomicU32::new(s.customer.raw())));
    // A user without a customer gets a placeholder that is never read.
    sym_at.extend(obs.users.iter().map(|u| AtomicU32::new(u.customer.unwrap_or(u.id).raw())));

    let total = parts[0].len() + parts[1].len();
    // About 32 keys per bucket, at most 2^16 buckets, at least one per half.
    let bits = (total / 32).max(2).ilog2().clamp(1, 16);
    if parallel {
        let (sym_at, parts) = (&sym_at, &parts);
        std::thread::scope(|scope| {
            let upper = scope.spawn(move || link_buckets(parts, bits, 1 << (bits - 1)..1 << bits, sym_at));
            link_buckets(parts, bits, 0..1 << (bits - 1), sym_at);
            upper.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        });
    } else {
        link_buckets(&parts, bits, 0..1 << bits, &sym_at);
    }
    drop((sub_keys, user_keys));

    let (sub_syms, user_syms) = sym_at.split_at(subs);
    for (sub, sym) in obs.subscriptions.iter_mut().zip(sub_syms) {
        sub.customer = Sym::from_raw(sym.load(Relaxed));
    }
    for (user, sym) in obs.users.iter_mut().zip(user_syms) {
        if user.customer.is_some() {
            user.customer = Some(Sym::from_raw(sym.load(Relaxed)));
        }
    }
}

fn keyed(customer: &str, at: usize) -> Keyed {
    let k = strings::key(customer);
    (k as u64, (k >> 64) as u32, at as u32)
}

/// Runs `a` and `b`, side by side when `parallel`.
fn both<A: Send, B: Send>(parallel: bool, a: impl FnOnce() -> A + Send, b: impl FnOnce() -> B + Send) -> (A, B) {
    if !parallel {
        return (a(), b());
    }
    std::thread::scope(|scope| {
        let b = scope.spawn(b);
        let a = a();
        (a, b.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
    })
}

/// Joins the places whose hashes fall in `buckets` (of `2^bits`, by top
/// bits): sorts them by hash, then by place, so that each run of equal ids
/// starts with its first place, whose symbol the whole run takes.
fn link_buckets(parts: &[&[Keyed]; 2], bits: u32, buckets: std::ops::Range<usize>, sym_at: &[AtomicU32]) {
    let bucket = |k: &Keyed| (k.0 >> (64 - bits)) as usize;
    let mine = |k: &&Keyed| buckets.contains(&bucket(k));
    let mut starts = vec![0usize; buckets.len() + 1];
    for k in parts.iter().flat_map(|p| p.iter()).filter(mine) {
        starts[bucket(k) - buckets.start + 1] += 1;
    }
    for b in 1..starts.len() {
        starts[b] += starts[b - 1];
    }
    let mut next = starts.clone();
    let mut sorted: Vec<Keyed> = vec![(0, 0, 0); starts[buckets.len()]];
    for &k in parts.iter().flat_map(|p| p.iter()).filter(mine) {
        let b = bucket(&k) - buckets.start;
        sorted[next[b]] = k;
        next[b] += 1;
    }
    drop(next);
    for w in starts.windows(2) {
        sorted[w[0]..w[1]].sort_unstable();
    }
    for run in sorted.chunk_by(|a, b| (a.0, a.1) == (b.0, b.1)).filter(|run| run.len() > 1) {
        let canonical = sym_at[run[0].2 as usize].load(Relaxed);
        for &(_, _, at) in &run[1..] {
            sym_at[at as usize].store(canonical, Relaxed);
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
