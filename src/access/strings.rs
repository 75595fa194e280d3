//! The string table behind [`Sym`]: strings in an arena; those looked up
//! (prices, plans, statuses) stored once, keyed by their 128-bit xxh3 hash.
//!
//! Why not a general interner: lookups here never compare strings; the table
//! only maps hash -> symbol. At 128 bits two distinct strings colliding is not
//! a practical concern (p < 1e-26 for billions of strings). Strings that are
//! only printed (subscription and user ids) or joined later by sorting
//! (customer ids, see `Observations::link_customers`) are stored without an
//! index entry: a lookup per row into a table of millions costs a cache miss.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::num::NonZeroU32;

/// A string in the table; dense, in first-seen order, usable as a vector index.
/// Stored as index + 1, so that an `Option<Sym>` takes four bytes: a row of
/// the users' table (id, customer, plan, access) takes 16 bytes, not 24.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sym(NonZeroU32);

impl Sym {
    fn at(index: u32) -> Sym {
        Sym(NonZeroU32::new(index + 1).expect("over 4 billion strings"))
    }

    pub fn index(self) -> usize {
        (self.0.get() - 1) as usize
    }

    /// The symbol as a plain integer, for tables that store it compactly.
    pub(crate) fn raw(self) -> u32 {
        self.0.get()
    }

    /// Panics on 0, which no symbol's [`Sym::raw`] is.
    pub(crate) fn from_raw(raw: u32) -> Sym {
        Sym(NonZeroU32::new(raw).expect("a symbol's raw value is never 0"))
    }
}

/// The key of a string: its 128-bit xxh3 hash.
pub fn key(s: &str) -> u128 {
    xxhash_rust::xxh3::xxh3_128(s.as_bytes())
}

/// The keys are already uniform hashes: use their low bits as is.
#[derive(Default)]
struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u128(&mut self, n: u128) {
        self.0 = n as u64;
    }
}

/// A map keyed by symbols. Looked up once or twice per row (a price's plan),
/// where std's DoS-resistant hash cost more than the lookup: symbols are
/// dense integers, spread over the table by one multiplication.
pub type SymMap<V> = HashMap<Sym, V, BuildHasherDefault<SymHasher>>;

#[derive(Default)]
pub struct SymHasher(u64);

impl Hasher for SymHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }
    fn write_u32(&mut self, n: u32) {
        self.0 = (self.0 ^ u64::from(n)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

/// Where [`Strings::absorb`] put the symbols of the absorbed table: after
/// this table's, in the same order, but for the indexed strings that this
/// table already had.
pub struct Moved {
    base: u32,
    joined: SymMap<Sym>,
}

impl Moved {
    pub fn sym(&self, s: Sym) -> Sym {
        if !self.joined.is_empty()
            && let Some(&joined) = self.joined.get(&s)
        {
            return joined;
        }
        Sym::at(self.base + s.index() as u32)
    }
}

/// The strings' bytes. A table absorbed from another reader keeps its own
/// buffer as a segment instead of being copied (tens of megabytes for a
/// million users, most of the cost in page faults); new strings go to the
/// last segment. Offsets run on across segments.
#[derive(Default)]
struct Arena {
    /// Segments that no longer grow, each with the offset of its first byte.
    sealed: Vec<(u32, String)>,
    /// Offset of `last`'s first byte.
    last_start: u32,
    last: String,
}

impl Arena {
    fn len(&self) -> usize {
        self.last_start as usize + self.last.len()
    }

    /// Appends `s`, returning its offset.
    fn push(&mut self, s: &str) -> u32 {
        let start = self.len();
        u32::try_from(start + s.len()).expect("string table over 4 GiB");
        self.last.push_str(s);
        start as u32
    }

    fn get(&self, start: u32, len: u32) -> Option<&str> {
        let (segment_start, text) = if start >= self.last_start {
            (self.last_start, &self.last)
        } else {
            // A table absorbs another once or twice: a few segments at most.
            let (at, text) = self.sealed.iter().rev().find(|(at, _)| *at <= start)?;
            (*at, text)
        };
        let from = (start - segment_start) as usize;
        text.get(from..from + len as usize)
    }

    /// Takes over `other`'s segments after this arena's bytes; returns the
    /// offset added to `other`'s offsets.
    fn append(&mut self, other: Arena) -> u32 {
        u32::try_from(self.len() + other.len()).expect("string table over 4 GiB");
        let offset = self.len() as u32;
        let last = std::mem::take(&mut self.last);
        if !last.is_empty() {
            self.sealed.push((self.last_start, last));
        }
        self.sealed.extend(other.sealed.into_iter().filter(|(_, t)| !t.is_empty()).map(|(at, t)| (at + offset, t)));
        self.last_start = other.last_start + offset;
        self.last = other.last;
        offset
    }
}

#[derive(Default)]
pub struct Strings {
    arena: Arena,
    /// (start, len) of each symbol in `arena`.
    spans: Vec<(u32, u32)>,
    index: HashMap<u128, Sym, BuildHasherDefault<PassThrough>>,
}

impl std::fmt::Debug for Strings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Strings({} symbols, {} bytes)", self.spans.len(), self.arena.len())
    }
}

impl Strings {
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    pub fn reserve(&mut self, symbols: usize, bytes: usize) {
        self.spans.reserve(symbols);
        self.index.reserve(symbols);
        self.arena.last.reserve(bytes);
    }

    fn push(&mut self, s: &str) -> Sym {
        push(&mut self.arena, &mut self.spans, s)
    }

    pub fn get_or_intern(&mut self, s: &str) -> Sym {
        // One probe: the entry either holds the symbol or is where it goes.
        match self.index.entry(key(s)) {
            std::collections::hash_map::Entry::Occupied(e) => *e.get(),
            std::collections::hash_map::Entry::Vacant(e) => *e.insert(push(&mut self.arena, &mut self.spans, s)),
        }
    }

    /// Appends every string of `other` (read on another thread) and returns
    /// where its symbols went. Strings `other` indexed (prices, plans) join
    /// this table's entries for the same text.
    pub fn absorb(&mut self, other: Strings) -> Moved {
        let base = self.spans.len() as u32;
        let offset = self.arena.append(other.arena);
        self.spans.extend(other.spans.iter().map(|&(start, len)| (start + offset, len)));
        let mut joined = SymMap::default();
        for (key, sym) in other.index {
            match self.index.entry(key) {
                std::collections::hash_map::Entry::Occupied(e) => {
                    joined.insert(sym, *e.get());
                }
                std::collections::hash_map::Entry::Vacant(e) => {
                    e.insert(Sym::at(base + sym.index() as u32));
                }
            }
        }
        Moved { base, joined }
    }

    /// What the table holds, to size it for a larger read (see [`Strings::reserve_like`]).
    pub fn size(&self) -> (usize, usize, usize) {
        (self.spans.len(), self.index.len(), self.arena.len())
    }

    /// Reserves room for `times` more reads like the one that grew the table
    /// from `before` to now: a large file is sized once from its first batch,
    /// instead of growing (and copying) a dozen times.
    pub fn reserve_like(&mut self, before: (usize, usize, usize), times: f64) {
        let (spans, index, arena) = self.size();
        let more = |now: usize, then: usize| ((now - then) as f64 * times) as usize;
        self.spans.reserve(more(spans, before.0));
        self.index.reserve(more(index, before.1));
        self.arena.last.reserve(more(arena, before.2));
    }

    /// Stores a string that needs no lookup later (a subscription id): no
    /// hashing, no table entry. `get` will not find it.
    pub fn push_unindexed(&mut self, s: &str) -> Sym {
        self.push(s)
    }

    pub fn get(&self, s: &str) -> Option<Sym> {
        self.index.get(&key(s)).copied()
    }

    pub fn resolve(&self, sym: Sym) -> Option<&str> {
        let (start, len) = *self.spans.get(sym.index())?;
        self.arena.get(start, len)
    }
}

/// Appends `s` to the arena (a free function so that a pending index entry
/// can stay borrowed meanwhile).
fn push(arena: &mut Arena, spans: &mut Vec<(u32, u32)>, s: &str) -> Sym {
    let start = arena.push(s);
    spans.push((start, s.len() as u32));
    Sym::at((spans.len() - 1) as u32)
}

/// A string parsed on a worker thread, to be stored on the owning thread:
/// a span of the block it was parsed from (no copy), or a copy when JSON
/// escapes made the parser build a new string.
#[derive(Debug)]
pub enum Parsed {
    Span(u32, u32),
    Owned(Box<str>),
}

impl Parsed {
    /// `element` is the slice `s` was parsed from, found at `in_block` in its block.
    /// A string that JSON escapes made the parser copy lies outside the
    /// element, and is kept as a copy.
    pub fn new(s: &str, element: &[u8], in_block: usize) -> Parsed {
        let at = (s.as_ptr() as usize).wrapping_sub(element.as_ptr() as usize);
        if at <= element.len() && at + s.len() <= element.len() {
            Parsed::Span((in_block + at) as u32, s.len() as u32)
        } else {
            Parsed::Owned(s.into())
        }
    }

    /// The string, resolved against the block it was parsed from.
    ///
    /// # Safety
    /// `block` must be the block whose element this was made from by
    /// [`Parsed::new`], unchanged since: a span is then the bytes of a `&str`
    /// and needs no second UTF-8 check (that check was a tenth of the time
    /// spent storing each row).
    pub unsafe fn as_str<'a>(&'a self, block: &'a [u8]) -> &'a str {
        match self {
            Parsed::Span(start, len) => {
                let bytes = &block[*start as usize..(*start + *len) as usize];
                debug_assert!(std::str::from_utf8(bytes).is_ok(), "a span resolved against another block");
                // SAFETY: per this function's contract, `bytes` are those of the `&str` given to `new`.
                unsafe { std::str::from_utf8_unchecked(bytes) }
            }
            Parsed::Owned(s) => s,
        }
    }

    /// Interns into `strings`, resolving against `block`. Used for the few
    /// strings that repeat (prices, plans), whose table entries stay in cache.
    ///
    /// # Safety
    /// As for [`Parsed::as_str`].
    pub unsafe fn intern(&self, block: &[u8], strings: &mut Strings) -> Sym {
        // SAFETY: passed on from the caller.
        strings.get_or_intern(unsafe { self.as_str(block) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interns_once_and_resolves() {
        let mut s = Strings::default();
        let a = s.get_or_intern("cus_a");
        let b = s.get_or_intern("cus_b");
        assert_eq!(s.get_or_intern("cus_a"), a);
        assert_ne!(a, b);
        assert_eq!(s.resolve(b), Some("cus_b"));
        assert_eq!(s.get("cus_b"), Some(b));
        assert_eq!(s.get("cus_c"), None);
        assert_eq!((a.index(), b.index()), (0, 1), "dense, first-seen order");
        let id = s.push_unindexed("sub_1");
        assert_eq!(s.resolve(id), Some("sub_1"));
        assert_eq!(s.get("sub_1"), None);
        assert_eq!(s.len(), 3);

        let mut other = Strings::default();
        let (o_id, o_cus, o_new) = (other.push_unindexed("user_1"), other.get_or_intern("cus_b"), other.get_or_intern("plan_x"));
        let moved = s.absorb(other);
        assert_eq!(s.resolve(moved.sym(o_id)), Some("user_1"));
        assert_eq!(moved.sym(o_cus), b, "an indexed string joins the existing entry");
        assert_eq!(s.get("plan_x"), Some(moved.sym(o_new)));
        assert_eq!(s.resolve(moved.sym(o_new)), Some("plan_x"));
    }

    #[test]
    fn absorbed_tables_keep_their_bytes_and_the_table_still_grows() {
        // Several absorbs (one of an empty table, one of a table that itself
        // absorbed), pushes in between and after, empty strings at the seams.
        let mut s = Strings::default();
        let mut want: Vec<(Sym, String)> = Vec::new();
        let add = |s: &mut Strings, text: &str, want: &mut Vec<(Sym, String)>| want.push((s.push_unindexed(text), text.to_string()));
        add(&mut s, "sub_1", &mut want);
        add(&mut s, "", &mut want);
        let table = |texts: &[&str]| {
            let mut t = Strings::default();
            let syms: Vec<Sym> = texts.iter().map(|x| t.push_unindexed(x)).collect();
            (t, syms)
        };
        let (empty, _) = table(&[]);
        s.absorb(empty);
        add(&mut s, "sub_2", &mut want);
        let (mut nested, mut nested_syms) = table(&["user_1", ""]);
        let (inner, inner_syms) = table(&["user_2", "cus_é"]);
        let moved = nested.absorb(inner);
        nested_syms.extend(inner_syms.iter().map(|&x| moved.sym(x)));
        let moved = s.absorb(nested);
        for (sym, text) in nested_syms.iter().zip(["user_1", "", "user_2", "cus_é"]) {
            want.push((moved.sym(*sym), text.to_string()));
        }
        add(&mut s, "after", &mut want);
        let plan = s.get_or_intern("plan_x");
        want.push((plan, "plan_x".into()));
        for (sym, text) in &want {
            assert_eq!(s.resolve(*sym), Some(text.as_str()), "{sym:?}");
        }
        assert_eq!(s.len(), want.len());
        assert_eq!(s.get("plan_x"), Some(plan));
    }
}
