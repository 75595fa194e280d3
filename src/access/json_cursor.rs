//! A zero-copy reader for the few members the access contract needs from
//! each array element, skipping the rest.
//!
//! Why not only serde: a subscription carries forty-odd members of which the
//! contract reads eight, and a generic deserializer spends most of its time
//! on the other thirty-odd and on allocating the nested ones. This reader
//! walks the element once, borrows every string it returns, and validates
//! what it skips (structure, literals, numbers).
//!
//! It handles the plain cases only. Anything else (an escape in a string it
//! returns, a float where an id is expected, a duplicate member, a value of
//! an unexpected type) is a [`Miss`]: the caller parses that element with the
//! full parser, which also words every error. So the fast path never decides
//! an error message, and both paths accept the same documents.

/// The element needs the full parser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Miss;

pub type Got<T> = Result<T, Miss>;

/// Nesting deeper than this is left to the full parser (which has its own limit).
const MAX_DEPTH: usize = 64;

pub struct Cursor<'a> {
    text: &'a str,
    at: usize,
    depth: usize,
}

impl<'a> Cursor<'a> {
    /// A cursor over one element; `None` when it is not UTF-8 (the full parser says where).
    pub fn new(bytes: &'a [u8]) -> Option<Self> {
        let text = simdutf8::basic::from_utf8(bytes).ok()?;
        Some(Cursor { text, at: 0, depth: 0 })
    }

    fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    fn skip_ws(&mut self) {
        self.at = ws(self.bytes(), self.at);
    }

    /// The next significant byte, after whitespace.
    pub fn peek(&mut self) -> Option<u8> {
        self.skip_ws();
        self.bytes().get(self.at).copied()
    }

    fn expect(&mut self, c: u8) -> Got<()> {
        if self.peek() == Some(c) {
            self.at += 1;
            Ok(())
        } else {
            Err(Miss)
        }
    }

    /// The element is over: only whitespace may follow.
    pub fn end(&mut self) -> Got<()> {
        if self.peek().is_none() { Ok(()) } else { Err(Miss) }
    }

    /// A string without escapes or control characters, borrowed.
    pub fn str(&mut self) -> Got<&'a str> {
        self.expect(b'"')?;
        let start = self.at;
        let i = string_stop(self.bytes(), start);
        if self.bytes().get(i) != Some(&b'"') {
            return Err(Miss);
        }
        self.at = i + 1;
        Ok(&self.text[start..i])
    }

    /// `null`, consumed; false (and nothing consumed) for anything else.
    pub fn null(&mut self) -> bool {
        if self.peek() == Some(b'n') && self.bytes()[self.at..].starts_with(b"null") {
            self.at += 4;
            true
        } else {
            false
        }
    }

    pub fn bool(&mut self) -> Got<bool> {
        let rest = match self.peek() {
            Some(b't' | b'f') => &self.bytes()[self.at..],
            _ => return Err(Miss),
        };
        if rest.starts_with(b"true") {
            self.at += 4;
            Ok(true)
        } else if rest.starts_with(b"false") {
            self.at += 5;
            Ok(false)
        } else {
            Err(Miss)
        }
    }

    /// An integer in canonical form (what `i64::to_string` would print),
    /// as its text and value. Fractions, exponents and `-0` are misses.
    pub fn int(&mut self) -> Got<(&'a str, i64)> {
        self.skip_ws();
        let start = self.at;
        let b = self.bytes();
        let mut i = start;
        if b.get(i) == Some(&b'-') {
            i += 1;
        }
        // The value is accumulated while the digits are counted: one pass.
        let mut magnitude = 0u64;
        let mut digits = 0;
        while let Some(&c) = b.get(i + digits) {
            if !c.is_ascii_digit() {
                break;
            }
            magnitude = magnitude.wrapping_mul(10).wrapping_add(u64::from(c - b'0'));
            digits += 1;
        }
        if digits == 0 || (digits > 1 && b[i] == b'0') || matches!(b.get(i + digits), Some(b'.' | b'e' | b'E')) {
            return Err(Miss);
        }
        let text = &self.text[start..i + digits];
        let negative = i > start;
        let value = match digits {
            // Up to 18 digits cannot overflow; longer ones are left to the exact parse.
            ..=18 if negative && magnitude == 0 => return Err(Miss), // -0
            ..=18 if negative => -(magnitude as i64),
            ..=18 => magnitude as i64,
            _ => text.parse::<i64>().map_err(|_| Miss)?,
        };
        self.at = i + digits;
        Ok((text, value))
    }

    /// The members of an object, each handed to `member` with its name; the
    /// callback must consume the value.
    pub fn object(&mut self, mut member: impl FnMut(&mut Self, &'a str) -> Got<()>) -> Got<()> {
        if self.open(b'{', b'}')? {
            return Ok(());
        }
        loop {
            let name = self.str()?;
            self.expect(b':')?;
            member(self, name)?;
            if self.next_or_close(b'}')? {
                return Ok(());
            }
        }
    }

    /// The items of an array, each handed to `item`, which must consume it.
    pub fn array(&mut self, mut item: impl FnMut(&mut Self) -> Got<()>) -> Got<()> {
        if self.open(b'[', b']')? {
            return Ok(());
        }
        loop {
            item(self)?;
            if self.next_or_close(b']')? {
                return Ok(());
            }
        }
    }

    /// Enters a container; true when it is empty (and so already closed).
    fn open(&mut self, start: u8, end: u8) -> Got<bool> {
        self.expect(start)?;
        self.nest()?;
        self.next_or_close_with(end, false)
    }

    /// After a member or an item: true at the closing `end`, false after a comma.
    fn next_or_close(&mut self, end: u8) -> Got<bool> {
        self.next_or_close_with(end, true)
    }

    fn next_or_close_with(&mut self, end: u8, comma: bool) -> Got<bool> {
        match self.peek() {
            Some(c) if c == end => {
                self.at += 1;
                self.depth -= 1;
                Ok(true)
            }
            Some(b',') if comma => {
                self.at += 1;
                Ok(false)
            }
            _ if comma => Err(Miss),
            _ => Ok(false),
        }
    }

    fn nest(&mut self) -> Got<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH { Err(Miss) } else { Ok(()) }
    }

    /// Skips any value, checking that it is well-formed JSON.
    ///
    /// Most of an element is skipped, so this is one loop over the bytes
    /// with the open containers kept as bits (set for an object), rather
    /// than a call per value.
    pub fn skip(&mut self) -> Got<()> {
        let b = self.bytes();
        let mut i = self.at;
        // Bit d of `objects`: the container at depth d + 1 (below this value) is an object.
        let mut objects = 0u64;
        let mut depth = 0usize;
        'value: loop {
            i = ws(b, i);
            match *b.get(i).ok_or(Miss)? {
                open @ (b'{' | b'[') => {
                    i = ws(b, i + 1);
                    let object = open == b'{';
                    if b.get(i) == Some(if object { &b'}' } else { &b']' }) {
                        i += 1;
                    } else {
                        if self.depth + depth >= MAX_DEPTH {
                            return Err(Miss);
                        }
                        if object {
                            objects |= 1 << depth;
                            i = member_name(b, i)?;
                        } else {
                            objects &= !(1 << depth);
                        }
                        depth += 1;
                        continue 'value;
                    }
                }
                b'"' => i = skip_string(b, i + 1)?,
                b't' => i = literal(b, i, b"true")?,
                b'f' => i = literal(b, i, b"false")?,
                b'n' => i = literal(b, i, b"null")?,
                _ => i = skip_number(b, i)?,
            }
            // After a value: a comma and the next one, or closing brackets.
            loop {
                if depth == 0 {
                    self.at = i;
                    return Ok(());
                }
                i = ws(b, i);
                let object = objects >> (depth - 1) & 1 == 1;
                match b.get(i) {
                    Some(b',') => {
                        i = ws(b, i + 1);
                        if object {
                            i = member_name(b, i)?;
                        }
                        continue 'value;
                    }
                    Some(b'}') if object => {}
                    Some(b']') if !object => {}
                    _ => return Err(Miss),
                }
                i += 1;
                depth -= 1;
            }
        }
    }
}

/// The index of the first byte at or after `i` that is not whitespace.
fn ws(b: &[u8], mut i: usize) -> usize {
    while let Some(b' ' | b'\n' | b'\r' | b'\t') = b.get(i) {
        i += 1;
    }
    i
}

fn literal(b: &[u8], i: usize, word: &[u8]) -> Got<usize> {
    if b[i..].starts_with(word) { Ok(i + word.len()) } else { Err(Miss) }
}

/// `"name"` at `i`, whitespace and the colon: the index after the colon.
fn member_name(b: &[u8], i: usize) -> Got<usize> {
    if b.get(i) != Some(&b'"') {
        return Err(Miss);
    }
    let i = ws(b, skip_string(b, i + 1)?);
    if b.get(i) == Some(&b':') { Ok(i + 1) } else { Err(Miss) }
}

/// The rest of a string that may hold escapes, from just after its opening
/// quote: the index after the closing quote.
fn skip_string(b: &[u8], mut i: usize) -> Got<usize> {
    loop {
        i = string_stop(b, i);
        match *b.get(i).ok_or(Miss)? {
            b'"' => return Ok(i + 1),
            b'\\' => match b.get(i + 1) {
                Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => i += 2,
                Some(b'u') if b.len() >= i + 6 && b[i + 2..i + 6].iter().all(u8::is_ascii_hexdigit) => i += 6,
                _ => return Err(Miss),
            },
            _ => return Err(Miss), // a control character
        }
    }
}

/// `-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?` at `i`: the index after it.
fn skip_number(b: &[u8], mut i: usize) -> Got<usize> {
    let digits = |i: usize| b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
    if b.get(i) == Some(&b'-') {
        i += 1;
    }
    let n = digits(i);
    if n == 0 || (n > 1 && b[i] == b'0') {
        return Err(Miss);
    }
    i += n;
    if b.get(i) == Some(&b'.') {
        let n = digits(i + 1);
        if n == 0 {
            return Err(Miss);
        }
        i += 1 + n;
    }
    if let Some(b'e' | b'E') = b.get(i) {
        i += 1;
        if let Some(b'+' | b'-') = b.get(i) {
            i += 1;
        }
        let n = digits(i);
        if n == 0 {
            return Err(Miss);
        }
        i += n;
    }
    Ok(i)
}

/// The index of the first byte at or after `from` that ends the plain run
/// of a string: a quote, a backslash or a control character (`b.len()` when
/// there is none). Strings are most of an export's bytes, so they are
/// searched 16 bytes at a time.
fn string_stop(b: &[u8], from: usize) -> usize {
    let mut i = from;
    #[cfg(target_arch = "x86_64")]
    while i + 16 <= b.len() {
        use std::arch::x86_64::{__m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_min_epu8, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8};
        // SAFETY: the load reads b[i..i + 16], inside the slice; SSE2 is part
        // of the x86_64 baseline; the rest computes on registers.
        let stops = unsafe {
            let v = _mm_loadu_si128(b.as_ptr().add(i).cast::<__m128i>());
            let quote = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8));
            let backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8));
            // Unsigned v <= 0x1f exactly when min(v, 0x1f) == v.
            let control = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v);
            _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(quote, backslash), control))
        };
        if stops != 0 {
            return i + stops.trailing_zeros() as usize;
        }
        i += 16;
    }
    while let Some(&c) = b.get(i) {
        if c == b'"' || c == b'\\' || c < 0x20 {
            break;
        }
        i += 1;
    }
    i
}

/// Records that member `bit` was seen; a second sighting is a [`Miss`]
/// (the full parser reports duplicate members).
pub fn once(seen: &mut u32, bit: u32) -> Got<()> {
    if *seen & (1 << bit) != 0 {
        return Err(Miss);
    }
    *seen |= 1 << bit;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cursor(s: &str) -> Cursor<'_> {
        Cursor::new(s.as_bytes()).unwrap()
    }

    #[test]
    fn reads_members_and_skips_the_rest() {
        let doc = r#" {"id":"s1","n":-12,"x":{"y":[1,2.5e-3,true,null,"a\"b\u00e9"]},"ok":false} "#;
        let mut c = cursor(doc);
        let mut got = Vec::new();
        c.object(|c, name| {
            match name {
                "id" => got.push(c.str()?.to_string()),
                "n" => got.push(c.int()?.0.to_string()),
                "ok" => got.push(c.bool()?.to_string()),
                _ => c.skip()?,
            }
            Ok(())
        })
        .unwrap();
        c.end().unwrap();
        assert_eq!(got, ["s1", "-12", "false"]);
    }

    #[test]
    fn plain_cases_only() {
        assert_eq!(cursor(r#""a\nb""#).str(), Err(Miss), "escapes go to the full parser");
        assert_eq!(cursor("1.5").int(), Err(Miss));
        assert_eq!(cursor("-0").int(), Err(Miss));
        assert_eq!(cursor("007").int(), Err(Miss));
        assert_eq!(cursor("99999999999999999999").int(), Err(Miss));
        assert_eq!(cursor("42").int(), Ok(("42", 42)));
        assert_eq!(cursor("-7,").int(), Ok(("-7", -7)));
        assert_eq!(cursor("0").int(), Ok(("0", 0)));
        assert_eq!(cursor("-").int(), Err(Miss));
        for n in [i64::MAX, i64::MIN, 999_999_999_999_999_999, -999_999_999_999_999_999, 1_000_000_000_000_000_000, 1_786_746_808] {
            let text = n.to_string();
            assert_eq!(cursor(&text).int(), Ok((text.as_str(), n)), "{n}");
        }
        assert_eq!(cursor("9223372036854775808").int(), Err(Miss), "one over i64::MAX");
        let mut seen = 0;
        assert_eq!(once(&mut seen, 3), Ok(()));
        assert_eq!(once(&mut seen, 3), Err(Miss));
    }

    #[test]
    fn skip_accepts_only_what_serde_accepts() {
        let valid = [
            "0", "-1.5e+3", "\"a\\u00e9\\n\"", "true", "null", "[]", "{}", " { } ", "[[],{}]", "[1,[2,[3]],{\"a\":[{}]}]",
            "{\"a\" : 1 , \"b\":{\"c\":[true,false,null]}}", "[ \"x\" , -0.0 ]", "{\"k\\\"q\":\"v\"}",
        ];
        for doc in valid {
            let mut c = cursor(doc);
            assert_eq!(c.skip().and_then(|()| c.end()), Ok(()), "{doc}");
        }
        let invalid = [
            "[1,]", "{\"a\":1,}", "[,1]", "{,}", "{\"a\"}", "{\"a\":}", "{1:2}", "[1 2]", "{\"a\":1 \"b\":2}", "[}", "{]", "[[]",
            "{\"a\":{}", "tru", "nul", "01", "1.", ".5", "-", "1e", "\"\\x\"", "\"\\u12\"", "\"a", "[\"a\nb\"]", "{\"a\":[1}]",
        ];
        for doc in invalid {
            assert!(serde_json::from_str::<serde_json::Value>(doc).is_err(), "serde rejects {doc}");
            let mut c = cursor(doc);
            assert_eq!(c.skip().and_then(|()| c.end()), Err(Miss), "{doc}");
        }
        // Nesting up to the limit is skipped; one level more goes to the full parser.
        let nested = |n: usize| "[".repeat(n) + "1" + &"]".repeat(n);
        assert_eq!(cursor(&nested(MAX_DEPTH)).skip(), Ok(()));
        assert_eq!(cursor(&nested(MAX_DEPTH + 1)).skip(), Err(Miss));
        let objects = |n: usize| "{\"a\":".repeat(n) + "1" + &"}".repeat(n);
        assert_eq!(cursor(&objects(MAX_DEPTH)).skip(), Ok(()));
        assert_eq!(cursor(&objects(MAX_DEPTH + 1)).skip(), Err(Miss));
        // Skipping stops right after the value.
        let mut c = cursor(r#"{"a":[1,{"b":2}]} , 7"#);
        c.skip().unwrap();
        assert_eq!(c.peek(), Some(b','));
    }

    #[test]
    fn string_stops_at_the_first_quote_backslash_or_control_character() {
        // Every stop byte at every position across the 16-byte steps and the tail.
        for len in 0..40 {
            for at in 0..len {
                for stop in [b'"', b'\\', 0x00, 0x1f] {
                    let mut b = vec![b'a'; len];
                    b[at] = stop;
                    if at + 1 < len {
                        b[at + 1] = b'"';
                    }
                    assert_eq!(string_stop(&b, 0), at, "{stop:#x} at {at} of {len}");
                    assert_eq!(string_stop(&b, at), at);
                }
            }
            // Bytes that are not stops: space, DEL and UTF-8 continuation bytes.
            let plain: Vec<u8> = (0..len).map(|i| [b' ', 0x7f, 0x80, 0xff, b'z'][i % 5]).collect();
            assert_eq!(string_stop(&plain, 0), len);
        }
    }

    #[test]
    fn malformed_values_are_misses() {
        for bad in [r#"{"a":tru}"#, r#"{"a":1,}"#, r#"{"a" 1}"#, r#"[1 2]"#, r#"{"a":"x}"#, r#"{"a":01}"#, r#"{"a":"\x"}"#, "{\"a\":1.}"] {
            assert_eq!(cursor(bad).skip(), Err(Miss), "{bad}");
        }
        assert!(Cursor::new(b"\"\xff\"").is_none());
        let deep = "[".repeat(100) + &"]".repeat(100);
        assert_eq!(cursor(&deep).skip(), Err(Miss));
    }
}
