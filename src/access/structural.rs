//! Finds where the elements of a JSON array end, 64 bytes at a time.
//!
//! Splitting a billing export into elements is the one part of reading it
//! that cannot run in parallel, so it has to be cheap. Instead of visiting
//! every byte, this computes per 64-byte chunk a bitmask of quotes, of
//! brackets and of backslashes; a prefix-XOR over the quotes gives the bytes
//! inside strings, and only the brackets outside strings are then visited
//! (a handful per element). This is the first stage of simdjson, reduced to
//! what splitting needs.
//!
//! Only objects and arrays are split here. Anything else between elements
//! (a scalar element, a stray character) stops the scan, and the caller
//! falls back to its byte-by-byte path from the last element boundary.

/// What [`split_containers`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum Stop {
    /// The buffer ends before the next element does; resume at `.0`.
    NeedMore(usize),
    /// The array's closing `]` is at `.0`.
    Closed(usize),
    /// Something other than a container element, a comma or whitespace is
    /// at or after `.0` (the last boundary): let the careful path look.
    Other(usize),
}

/// Splits the container elements of an array starting at `pos` (a boundary:
/// between elements, outside any string), pushing `(start, end)` of each
/// whole element onto `ranges`.
pub fn split_containers(buf: &[u8], pos: usize, ranges: &mut Vec<(usize, usize)>) -> Stop {
    let mut depth = 0usize;
    let mut start = 0usize;
    // Where the last element ended: the next one must follow after whitespace
    // and exactly one comma (the caller has already passed the separator
    // before the first element of this call).
    let mut boundary = pos;
    let mut first = true;
    let mut in_string = 0u64; // all ones while a string runs on from the previous chunk
    let mut escape_carry = false;
    let mut chunk_at = pos;

    while chunk_at < buf.len() {
        prefetch(buf, chunk_at + PREFETCH_AHEAD);
        let chunk = load(buf, chunk_at);
        let escaped = escaped_bits(&chunk, &mut escape_carry);
        let strings = prefix_xor(chunk.quote & !escaped) ^ in_string;
        in_string = 0u64.wrapping_sub(strings >> 63);
        let mut structural = (chunk.open | chunk.close) & !strings;
        while structural != 0 {
            let bit = structural.trailing_zeros() as usize;
            structural &= structural - 1;
            let at = chunk_at + bit;
            let is_open = chunk.open >> bit & 1 == 1;
            match (depth, is_open) {
                (0, true) => {
                    let expected = if first { Gap::Clean } else { Gap::Comma };
                    if gap(buf, boundary, at) != expected {
                        return Stop::Other(boundary);
                    }
                    start = at;
                    depth = 1;
                }
                (0, false) => {
                    // The array's `]`, unless something else precedes it.
                    return if buf[at] == b']' && gap(buf, boundary, at) == Gap::Clean {
                        Stop::Closed(at)
                    } else {
                        Stop::Other(boundary)
                    };
                }
                (_, true) => {
                    depth += 1;
                    // Deeper than any billing object: the byte-by-byte path reports it.
                    if depth > super::json_stream::MAX_NESTING {
                        return Stop::Other(boundary);
                    }
                }
                (_, false) => {
                    depth -= 1;
                    if depth == 0 {
                        ranges.push((start, at + 1));
                        boundary = at + 1;
                        first = false;
                    }
                }
            }
        }
        chunk_at += 64;
    }
    // Only separators may follow the last element before the buffer ends.
    match (depth, gap(buf, boundary, buf.len())) {
        (0, Gap::Other) => Stop::Other(boundary),
        (0, Gap::Comma) if first => Stop::Other(boundary),
        _ => Stop::NeedMore(boundary),
    }
}

/// How far ahead of the scan to ask for the bytes. This is the first pass over
/// a mapped file, so the bytes come from memory, and the hardware prefetcher
/// stops at each page boundary.
const PREFETCH_AHEAD: usize = 1024;

#[cfg(target_arch = "x86_64")]
fn prefetch(buf: &[u8], at: usize) {
    use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
    // SAFETY: a prefetch is a hint that never faults, even past the end of
    // the buffer; the pointer is computed without being dereferenced.
    unsafe { _mm_prefetch::<_MM_HINT_T0>(buf.as_ptr().wrapping_add(at).cast::<i8>()) }
}

#[cfg(not(target_arch = "x86_64"))]
fn prefetch(_: &[u8], _: usize) {}

#[derive(PartialEq, Eq)]
enum Gap {
    /// Whitespace only.
    Clean,
    /// Whitespace and one comma.
    Comma,
    Other,
}

/// What lies between two elements.
fn gap(buf: &[u8], from: usize, to: usize) -> Gap {
    let mut commas = 0;
    for &b in &buf[from..to] {
        match b {
            b' ' | b'\n' | b'\r' | b'\t' => {}
            b',' => commas += 1,
            _ => return Gap::Other,
        }
    }
    match commas {
        0 => Gap::Clean,
        1 => Gap::Comma,
        _ => Gap::Other,
    }
}

struct Chunk {
    quote: u64,
    backslash: u64,
    open: u64,
    close: u64,
}

/// Bitmasks of one 64-byte chunk at `at`; a short tail is padded with spaces.
fn load(buf: &[u8], at: usize) -> Chunk {
    if buf.len() - at >= 64 {
        masks(buf[at..at + 64].try_into().expect("64 bytes"))
    } else {
        let mut padded = [b' '; 64];
        padded[..buf.len() - at].copy_from_slice(&buf[at..]);
        masks(&padded)
    }
}

#[cfg(target_arch = "x86_64")]
fn masks(bytes: &[u8; 64]) -> Chunk {
    use std::arch::x86_64::{__m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8};
    // SSE2 is part of the x86_64 baseline, so these are always available.
    let (mut quote, mut backslash, mut open, mut close) = (0u64, 0u64, 0u64, 0u64);
    for lane in 0..4 {
        // SAFETY: the load reads 16 bytes inside `bytes` (lane * 16 + 16 <= 64);
        // the other intrinsics only compute on registers.
        let (q, b, o, c) = unsafe {
            let v = _mm_loadu_si128(bytes.as_ptr().add(lane * 16).cast::<__m128i>());
            let eq = |c: u8| _mm_cmpeq_epi8(v, _mm_set1_epi8(c as i8));
            (
                _mm_movemask_epi8(eq(b'"')),
                _mm_movemask_epi8(eq(b'\\')),
                _mm_movemask_epi8(_mm_or_si128(eq(b'{'), eq(b'['))),
                _mm_movemask_epi8(_mm_or_si128(eq(b'}'), eq(b']'))),
            )
        };
        let shift = lane * 16;
        quote |= u64::from(q as u16) << shift;
        backslash |= u64::from(b as u16) << shift;
        open |= u64::from(o as u16) << shift;
        close |= u64::from(c as u16) << shift;
    }
    Chunk { quote, backslash, open, close }
}

#[cfg(not(target_arch = "x86_64"))]
fn masks(bytes: &[u8; 64]) -> Chunk {
    let (mut quote, mut backslash, mut open, mut close) = (0u64, 0u64, 0u64, 0u64);
    for (i, &b) in bytes.iter().enumerate() {
        let bit = 1u64 << i;
        match b {
            b'"' => quote |= bit,
            b'\\' => backslash |= bit,
            b'{' | b'[' => open |= bit,
            b'}' | b']' => close |= bit,
            _ => {}
        }
    }
    Chunk { quote, backslash, open, close }
}

/// Bits of characters escaped by a backslash. Escapes are rare in billing
/// exports, so a chunk with backslashes is walked byte by byte.
fn escaped_bits(chunk: &Chunk, carry: &mut bool) -> u64 {
    if chunk.backslash == 0 && !*carry {
        return 0;
    }
    let mut escaped = 0u64;
    for i in 0..64 {
        if *carry {
            escaped |= 1 << i;
            *carry = false;
        } else if chunk.backslash >> i & 1 == 1 {
            *carry = true;
        }
    }
    escaped
}

/// Each bit becomes the XOR of itself and every lower bit: with quote bits as
/// input, the bits from an opening quote up to (not including) its closing one.
fn prefix_xor(mut x: u64) -> u64 {
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    x ^= x << 16;
    x ^= x << 32;
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(doc: &str, pos: usize) -> (Vec<&str>, Stop) {
        let mut ranges = Vec::new();
        let stop = split_containers(doc.as_bytes(), pos, &mut ranges);
        (ranges.iter().map(|&(s, e)| &doc[s..e]).collect(), stop)
    }

    #[test]
    fn splits_objects_and_arrays_ignoring_brackets_in_strings() {
        let doc = r#"[{"a":"x]}{[\"y\\"}, [1,{"b":[]}] ,{"c":"\\\"}"}]"#;
        let (items, stop) = split(doc, 1);
        assert_eq!(items, [r#"{"a":"x]}{[\"y\\"}"#, r#"[1,{"b":[]}]"#, r#"{"c":"\\\"}"}"#]);
        assert_eq!(stop, Stop::Closed(doc.len() - 1));
    }

    #[test]
    fn elements_longer_than_a_chunk_and_strings_across_chunks() {
        let long = "q".repeat(100);
        let doc = format!(r#"[{{"s":"{long}]}}{{","t":[{{}}]}},{{"u":"\\"}}]"#);
        let (items, stop) = split(&doc, 1);
        assert_eq!(items.len(), 2, "{items:?}");
        assert!(items[0].ends_with("[{}]}"));
        assert_eq!(stop, Stop::Closed(doc.len() - 1));
    }

    #[test]
    fn stops_at_the_last_whole_element() {
        let doc = r#"[{"a":1},{"b":"#;
        let (items, stop) = split(doc, 1);
        assert_eq!(items, [r#"{"a":1}"#]);
        assert_eq!(stop, Stop::NeedMore(8));
    }

    #[test]
    fn hands_anything_else_to_the_careful_path() {
        assert_eq!(split(r#"[{"a":1},3]"#, 1), (vec![r#"{"a":1}"#], Stop::Other(8)));
        assert_eq!(split(r#"[{"a":1},,{"b":2}]"#, 1).1, Stop::Other(8));
        assert_eq!(split(r#"[{"a":1}{"b":2}]"#, 1).1, Stop::Other(8));
        assert_eq!(split(r#"[{"a":1},]"#, 1).1, Stop::Other(8));
        assert_eq!(split(r#"[{"a":1}}]"#, 1).1, Stop::Other(8));
        assert_eq!(split(r#"["s",{"a":1}]"#, 1), (vec![], Stop::Other(1)));
    }

    #[test]
    fn escapes_across_a_chunk_boundary() {
        // A backslash as the 64th byte escapes the first byte of the next chunk.
        let pad = "p".repeat(64 - r#"[{"a":""#.len() - 1);
        let doc = format!(r#"[{{"a":"{pad}\"}}","b":1}}]"#);
        assert_eq!(doc.as_bytes()[63], b'\\');
        let (items, stop) = split(&doc, 1);
        assert_eq!(items.len(), 1);
        assert_eq!(stop, Stop::Closed(doc.len() - 1));
    }
}
