//! Streams the elements of a large JSON array to parser threads.
//!
//! Billing exports are one big array (bare, or the `data` member of a list
//! object). Parsing it as one document is single-threaded and needs either
//! the whole file in memory or a slow byte-at-a-time reader. Instead, one
//! thread reads fixed-size blocks and finds where each element starts and
//! ends (tracking only strings and nesting, not values); whole elements go
//! in batches to worker threads that parse them from borrowed slices; the
//! caller receives the parsed batches in file order. A document already in
//! memory (a mapped file, an API page) is split in place, without copies.

use std::collections::BTreeMap;
use std::io::Read;
use std::sync::{Arc, Mutex, mpsc};

use super::mapped::MappedFile;
use super::structural::{self, Stop};

/// Bytes read per block; an element larger than this grows the block.
const BLOCK: usize = 1 << 20;
/// The first block's size. Blocks double up to [`BLOCK`]: small first blocks
/// put every parser thread to work sooner, large later ones cost less each.
const FIRST_BLOCK: usize = 128 << 10;

/// What the document held besides the array.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Envelope {
    /// Top-level members of a list object other than the array (e.g. `has_more`, `meta`).
    pub members: serde_json::Map<String, serde_json::Value>,
}

/// How many more times the first batch's growth a document of `total`
/// bytes will need, when that batch ended at `read_to` (a little over, so
/// that the last batch does not trigger a doubling).
pub fn growth_after_first(total: Option<u64>, read_to: u64) -> f64 {
    match total {
        Some(total) if read_to > 0 && total > read_to => (total as f64 / read_to as f64 - 1.0) * 1.15,
        _ => 0.0,
    }
}

/// Where a problem is: a byte offset into the document, turned into a line
/// and column by the caller (only on the error path).
#[derive(Debug, Clone, PartialEq)]
pub struct StreamError {
    pub offset: u64,
    pub message: String,
}

impl std::fmt::Display for StreamError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (at byte {})", self.message, self.offset)
    }
}

/// Which array of the document holds the elements.
#[derive(Debug, Clone, Copy)]
pub enum ArrayAt {
    /// The document is the array, or a list object whose `data` member is.
    RootOrData,
    /// The document must be the array itself.
    Root,
}

/// Where a document comes from.
pub enum Source<'d, R> {
    /// Read block by block into buffers.
    Reader(R),
    /// Already in memory.
    Bytes(&'d [u8]),
    /// A mapped file: like [`Source::Bytes`], and the pages parsed are released as the parse moves on.
    Mapped(&'d MappedFile),
}

impl<'d> Source<'d, std::io::Empty> {
    pub fn bytes(doc: &'d [u8]) -> Self {
        Source::Bytes(doc)
    }
}

/// One element handed to the parser: its bytes and where they are.
pub struct Element<'a> {
    pub bytes: &'a [u8],
    /// Absolute offset in the document, for error messages.
    pub offset: u64,
    /// Offset of `bytes` within the batch's block, so that parsed strings can
    /// be kept as spans of the block instead of copies.
    pub in_block: usize,
    /// 1-based position in the array.
    pub position: usize,
}

/// The bytes of a batch: a block read from the reader, or a slice of the document.
enum Block<'d> {
    Owned(Vec<u8>),
    Shared(&'d [u8]),
}

impl std::ops::Deref for Block<'_> {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Block::Owned(v) => v,
            Block::Shared(s) => s,
        }
    }
}

struct Batch<'d> {
    seq: usize,
    data: Block<'d>,
    /// (start, end) within `data`, absolute offset of `data[0]`, first position.
    ranges: Vec<(usize, usize)>,
    base: u64,
    first_position: usize,
    /// Document offset of the end of the batch's last element.
    read_to: u64,
}

/// Reads the array elements of `source`, parses each with `parse` on
/// `workers` threads, and hands every parsed batch to `consume` in order,
/// with the block its elements were parsed from and the document bytes read
/// so far (so a consumer can size its tables from the first batch). The
/// consumer takes the parsed elements out of a drain: the emptied vector
/// goes back to the parser threads, as blocks go back to the reader.
pub fn parse_array<R, T, P, C>(
    source: Source<'_, R>,
    at: ArrayAt,
    workers: usize,
    parse: P,
    mut consume: C,
) -> Result<Envelope, StreamError>
where
    R: Read,
    T: Send,
    P: Fn(Element<'_>) -> Result<T, StreamError> + Sync,
    C: FnMut(&[u8], std::vec::Drain<'_, T>, u64),
{
    let mapped = match &source {
        Source::Mapped(m) => Some(*m),
        _ => None,
    };
    let (batch_tx, batch_rx) = mpsc::sync_channel::<Batch>(workers * 2);
    let batch_rx = Arc::new(Mutex::new(batch_rx));
    type Done<'d, T> = (usize, Result<(Block<'d>, Vec<T>, u64), StreamError>);
    // Blocks go back to the reader once consumed: reusing them saves the
    // page faults and allocator churn of a fresh block per batch.
    let (recycle_tx, recycle_rx) = mpsc::channel::<Vec<u8>>();
    let (done_tx, done_rx) = mpsc::channel::<Done<T>>();
    // Each batch's vector of parsed elements is a megabyte or so: fresh ones
    // would each be mapped, faulted in page by page and unmapped again.
    let spare_items: Mutex<Vec<Vec<T>>> = Mutex::new(Vec::new());

    std::thread::scope(|scope| {
        for _ in 0..workers.max(1) {
            let rx = Arc::clone(&batch_rx);
            let tx = done_tx.clone();
            let parse = &parse;
            let spare_items = &spare_items;
            scope.spawn(move || {
                loop {
                    let next = rx.lock().map(|r| r.recv());
                    let Ok(Ok(batch)) = next else { return };
                    // Sized up front: collecting a Result grows the vector by doubling.
                    let mut items = spare_items.lock().ok().and_then(|mut s| s.pop()).unwrap_or_default();
                    items.reserve(batch.ranges.len());
                    let parsed = batch
                        .ranges
                        .iter()
                        .enumerate()
                        .try_for_each(|(i, &(s, e))| {
                            items.push(parse(Element {
                                bytes: &batch.data[s..e],
                                offset: batch.base + s as u64,
                                in_block: s,
                                position: batch.first_position + i,
                            })?);
                            Ok(())
                        })
                        .map(|()| (batch.data, items, batch.read_to));
                    if tx.send((batch.seq, parsed)).is_err() {
                        return;
                    }
                }
            });
        }
        drop(done_tx);

        // Results arrive out of order; hand them on in order.
        type Pending<'d, T> = BTreeMap<usize, Result<(Block<'d>, Vec<T>, u64), StreamError>>;
        let mut pending: Pending<T> = BTreeMap::new();
        let mut next_seq = 0usize;
        let mut first_error: Option<StreamError> = None;
        let mut drain = |pending: &mut Pending<T>, next_seq: &mut usize, first_error: &mut Option<StreamError>| {
            while let Some(result) = pending.remove(next_seq) {
                *next_seq += 1;
                match result {
                    Ok((data, mut items, read_to)) if first_error.is_none() => {
                        consume(&data, items.drain(..), read_to);
                        match data {
                            Block::Owned(block) => drop(recycle_tx.send(block)),
                            Block::Shared(_) => {
                                // Batches are consumed in order: nothing before this one is needed again.
                                if let Some(m) = mapped {
                                    m.release_before(read_to);
                                }
                            }
                        }
                        if let Ok(mut spare) = spare_items.lock() {
                            spare.push(items);
                        }
                    }
                    Ok(_) => {}
                    Err(e) => {
                        first_error.get_or_insert(e);
                    }
                }
            }
        };

        let split = split_blocks(&mut Scanner::new(source), at, &recycle_rx, |batch| {
            // Collect finished batches while the reader runs ahead.
            while let Ok((seq, r)) = done_rx.try_recv() {
                pending.insert(seq, r);
            }
            drain(&mut pending, &mut next_seq, &mut first_error);
            first_error.is_none() && batch_tx.send(batch).is_ok()
        });
        drop(batch_tx);
        for (seq, r) in done_rx.iter() {
            pending.insert(seq, r);
            drain(&mut pending, &mut next_seq, &mut first_error);
        }
        match (split, first_error) {
            (_, Some(e)) => Err(e),
            (Err(e), None) => Err(e),
            (Ok(envelope), None) => Ok(envelope),
        }
    })
}

/// Splits the document into batches of whole elements. `send` returns false
/// to stop early (a parse error was found).
fn split_blocks<'d, R: Read>(
    s: &mut Scanner<'d, R>,
    at: ArrayAt,
    recycled: &mpsc::Receiver<Vec<u8>>,
    mut send: impl FnMut(Batch<'d>) -> bool,
) -> Result<Envelope, StreamError> {
    s.fill()?;
    let mut envelope = Envelope::default();
    s.skip_ws()?;
    match s.peek() {
        Some(b'[') => {}
        Some(b'{') if matches!(at, ArrayAt::RootOrData) => {
            s.pos += 1;
            // Members before `data` are captured; `data` must be an array.
            loop {
                s.skip_ws_and(b',')?;
                match s.peek() {
                    Some(b'}') => return Err(s.error("a list object must have a `data` array")),
                    Some(b'"') => {}
                    _ => return Err(s.error("expected a member name")),
                }
                let key = s.read_member_name()?;
                if key == "data" {
                    if s.peek() != Some(b'[') {
                        return Err(s.error("`data` must be an array"));
                    }
                    break;
                }
                let value = s.read_value()?;
                envelope.members.insert(key, value);
            }
        }
        _ => return Err(s.error("expected an array of elements, or a list object with a `data` array")),
    }
    s.pos += 1; // '['

    let mut seq = 0;
    let mut position = 1;
    loop {
        // Gather as many whole elements as the block holds.
        let mut ranges = Vec::new();
        let mut closed = false;
        loop {
            s.skip_ws_and_in_block(b',');
            if let Some(b'{' | b'[') = s.peek() {
                // The fast path takes every object and array element it can;
                // the byte-by-byte path below takes the rest, and the errors.
                match structural::split_containers(s.buf(), s.pos, &mut ranges) {
                    Stop::Closed(at) => {
                        s.pos = at + 1;
                        closed = true;
                        break;
                    }
                    Stop::NeedMore(at) if !s.eof => {
                        s.pos = at;
                        break;
                    }
                    Stop::NeedMore(at) | Stop::Other(at) => {
                        s.pos = at;
                        s.skip_ws_and_in_block(b',');
                    }
                }
            }
            match s.peek() {
                None if s.eof => return Err(s.error("the document ends inside the array (truncated?)")),
                None => break,
                Some(b']') => {
                    s.pos += 1;
                    closed = true;
                    break;
                }
                Some(_) => match value_end(s.buf(), s.pos) {
                    Ok(Some(end)) => {
                        ranges.push((s.pos, end));
                        s.pos = end;
                    }
                    Ok(None) if s.eof => return Err(s.error("the document ends inside an element (truncated?)")),
                    Ok(None) => break,
                    Err(bad) => {
                        s.pos = bad.at();
                        return Err(s.error(&bad.message(" in an element")));
                    }
                },
            }
        }
        if !ranges.is_empty() {
            let n = ranges.len();
            let (base, read_to) = (s.base, s.base + s.pos as u64);
            let data = s.take_consumed(recycled);
            let batch = Batch { seq, data, ranges, base, first_position: position, read_to };
            seq += 1;
            position += n;
            if !send(batch) {
                return Ok(envelope);
            }
        }
        if closed {
            break;
        }
        s.more()?;
    }

    // Members after the array.
    loop {
        s.skip_ws_and(b',')?;
        match s.peek() {
            None => return Ok(envelope),
            Some(b'}') => {
                s.pos += 1;
                s.skip_ws()?;
                return match s.peek() {
                    None => Ok(envelope),
                    Some(_) => Err(s.error("trailing characters after the document")),
                };
            }
            Some(b'"') => {
                let key = s.read_member_name()?;
                let value = s.read_value()?;
                envelope.members.insert(key, value);
            }
            Some(_) => return Err(s.error("unexpected character after the array")),
        }
    }
}

/// What the scanner is looking at.
enum Buf<'d, R> {
    /// Bytes read so far from `reader` and not yet handed on.
    Owned { buf: Vec<u8>, reader: R },
    /// `doc[start..end]` of a document in memory: the window grows by a
    /// block at a time, as reads would, so batches stay the same size.
    Window { doc: &'d [u8], start: usize, end: usize },
}

struct Scanner<'d, R> {
    buf: Buf<'d, R>,
    /// Absolute offset of the first byte of `buf`.
    base: u64,
    pos: usize,
    eof: bool,
    /// Bytes the next read asks for.
    block: usize,
}

impl<'d, R: Read> Scanner<'d, R> {
    fn new(source: Source<'d, R>) -> Self {
        let buf = match source {
            Source::Reader(reader) => Buf::Owned { buf: Vec::with_capacity(FIRST_BLOCK), reader },
            Source::Bytes(doc) => Buf::Window { doc, start: 0, end: 0 },
            Source::Mapped(m) => Buf::Window { doc: m.bytes(), start: 0, end: 0 },
        };
        Scanner { buf, base: 0, pos: 0, eof: false, block: FIRST_BLOCK }
    }

    fn buf(&self) -> &[u8] {
        match &self.buf {
            Buf::Owned { buf, .. } => buf,
            Buf::Window { doc, start, end } => &doc[*start..*end],
        }
    }

    /// Hands on the bytes before `pos` (whole elements) as a batch's block,
    /// keeping the unread rest.
    fn take_consumed(&mut self, recycled: &mpsc::Receiver<Vec<u8>>) -> Block<'d> {
        let pos = self.pos;
        self.base += pos as u64;
        self.pos = 0;
        match &mut self.buf {
            Buf::Window { doc, start, .. } => {
                let taken = &doc[*start..*start + pos];
                *start += pos;
                Block::Shared(taken)
            }
            Buf::Owned { buf, .. } => {
                // The batch owns this block; the unread tail moves to another,
                // with room for the next read after it.
                let tail = &buf[pos..];
                let room = tail.len() + self.block;
                let mut fresh = recycled.try_recv().unwrap_or_default();
                fresh.clear();
                fresh.reserve(room);
                fresh.extend_from_slice(tail);
                Block::Owned(std::mem::replace(buf, fresh))
            }
        }
    }

    fn error(&self, message: &str) -> StreamError {
        StreamError { offset: self.base + self.pos as u64, message: message.to_string() }
    }

    fn peek(&self) -> Option<u8> {
        self.buf().get(self.pos).copied()
    }

    /// Appends up to one block from the reader, or widens the window by one.
    fn fill(&mut self) -> Result<(), StreamError> {
        if self.eof {
            return Ok(());
        }
        let want = self.block;
        self.block = (self.block * 2).min(BLOCK);
        let read = match &mut self.buf {
            Buf::Window { doc, end, .. } => {
                *end = (*end + want).min(doc.len());
                self.eof = *end == doc.len();
                return Ok(());
            }
            Buf::Owned { buf, reader } => {
                buf.reserve(want);
                // read_to_end on a `take` fills spare capacity without zeroing it first.
                // Fewer bytes than asked for means the reader reached its end.
                reader.by_ref().take(want as u64).read_to_end(buf)
            }
        };
        match read {
            Ok(n) => {
                self.eof = n < want;
                Ok(())
            }
            Err(e) => Err(self.error(&format!("read error: {e}"))),
        }
    }

    /// Drops what was consumed and reads more.
    fn more(&mut self) -> Result<(), StreamError> {
        if self.pos > 0 {
            match &mut self.buf {
                Buf::Owned { buf, .. } => drop(buf.drain(..self.pos)),
                Buf::Window { start, .. } => *start += self.pos,
            }
            self.base += self.pos as u64;
            self.pos = 0;
        }
        self.fill()
    }

    fn skip_ws(&mut self) -> Result<(), StreamError> {
        loop {
            while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.peek() {
                self.pos += 1;
            }
            if self.pos < self.buf().len() || self.eof {
                return Ok(());
            }
            self.more()?;
        }
    }

    fn skip_ws_and(&mut self, sep: u8) -> Result<(), StreamError> {
        self.skip_ws()?;
        if self.peek() == Some(sep) {
            self.pos += 1;
            self.skip_ws()?;
        }
        Ok(())
    }

    /// Whitespace and one separator within the current block only.
    fn skip_ws_and_in_block(&mut self, sep: u8) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.peek() {
            self.pos += 1;
        }
        if self.peek() == Some(sep) {
            self.pos += 1;
            while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.peek() {
                self.pos += 1;
            }
        }
    }

    /// A whole value at `pos` (reading more as needed), parsed.
    fn read_value(&mut self) -> Result<serde_json::Value, StreamError> {
        loop {
            match value_end(self.buf(), self.pos) {
                Ok(Some(end)) => {
                    let v = serde_json::from_slice(&self.buf()[self.pos..end]).map_err(|e| self.error(&e.to_string()))?;
                    self.pos = end;
                    return Ok(v);
                }
                Ok(None) if self.eof => return Err(self.error("the document ends inside a value (truncated?)")),
                Ok(None) => self.more()?,
                Err(bad) => {
                    self.pos = bad.at();
                    return Err(self.error(&bad.message("")));
                }
            }
        }
    }

    /// `"name" :` and the whitespace after it; the value comes next.
    fn read_member_name(&mut self) -> Result<String, StreamError> {
        let serde_json::Value::String(name) = self.read_value()? else {
            return Err(self.error("expected a member name"));
        };
        self.skip_ws()?;
        if self.peek() != Some(b':') {
            return Err(self.error("expected `:` after a member name"));
        }
        self.pos += 1;
        self.skip_ws()?;
        Ok(name)
    }
}

/// Deepest nesting of an element billguard parses. Stripe and Paddle objects
/// nest about ten levels; the parsers behind the splitter recurse, so a deeper
/// element (a hostile fixture) is an error instead of a stack overflow.
pub const MAX_NESTING: usize = 64;

/// Why [`value_end`] stopped at an offset.
#[derive(Debug, PartialEq)]
enum Bad {
    /// A character no value can hold there.
    Character(usize),
    /// Nesting deeper than [`MAX_NESTING`].
    TooDeep(usize),
}

impl Bad {
    fn at(&self) -> usize {
        match self {
            Bad::Character(at) | Bad::TooDeep(at) => *at,
        }
    }

    fn message(&self, what: &str) -> String {
        match self {
            Bad::Character(_) => format!("unexpected character{what}"),
            Bad::TooDeep(_) => format!("nested deeper than {MAX_NESTING} levels{what}; billing objects never are (a malformed or hostile file?)"),
        }
    }
}

/// The end (exclusive) of the JSON value starting at `start`, `Ok(None)` when
/// the buffer ends first, an error on a character no value can hold there or
/// on nesting deeper than [`MAX_NESTING`]. Validates only structure (strings
/// and nesting); the parser checks the rest.
fn value_end(buf: &[u8], start: usize) -> Result<Option<usize>, Bad> {
    let mut i = start;
    let mut depth = 0usize;
    while i < buf.len() {
        match buf[i] {
            b'"' => {
                i += 1;
                loop {
                    match memchr::memchr2(b'"', b'\\', &buf[i..]) {
                        None => return Ok(None),
                        Some(k) if buf[i + k] == b'\\' => i += k + 2,
                        Some(k) => {
                            i += k + 1;
                            break;
                        }
                    }
                    if i > buf.len() {
                        return Ok(None);
                    }
                }
                if depth == 0 {
                    return Ok(Some(i));
                }
                continue;
            }
            b'{' | b'[' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Err(Bad::TooDeep(i));
                }
            }
            b'}' | b']' => {
                if depth == 0 {
                    return Err(Bad::Character(i));
                }
                depth -= 1;
                if depth == 0 {
                    return Ok(Some(i + 1));
                }
            }
            b',' | b':' if depth == 0 => return Err(Bad::Character(i)),
            b' ' | b'\n' | b'\r' | b'\t' | b',' | b':' => {}
            _ if depth == 0 => {
                // A scalar at top level: runs to the next delimiter.
                let len = buf[i..].iter().position(|c| matches!(c, b',' | b']' | b'}' | b' ' | b'\n' | b'\r' | b'\t'));
                return Ok(len.map(|n| i + n));
            }
            _ => {}
        }
        i += 1;
    }
    Ok(None)
}

/// A parse error inside an element, as a [`StreamError`] at its offset in
/// the document. sonic-rs appends its own position and a snippet; the caller
/// locates the error in the whole document instead, so that part is dropped.
pub fn element_error(e: &Element<'_>, err: &sonic_rs::Error, context: &str) -> StreamError {
    let text = err.to_string();
    let message = text.split(" at line ").next().unwrap_or(&text).trim();
    StreamError { offset: e.offset + err.offset().min(e.bytes.len()) as u64, message: format!("{context}: {message}") }
}

/// 1-based line and column of a byte offset, found by reading the document again.
pub fn locate<R: Read>(mut reader: R, offset: u64) -> (usize, usize) {
    let (mut line, mut col, mut seen) = (1usize, 1usize, 0u64);
    let mut buf = vec![0u8; 1 << 16];
    while seen < offset {
        let n = match reader.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let take = n.min((offset - seen) as usize);
        for &b in &buf[..take] {
            if b == b'\n' {
                line += 1;
                col = 1;
            } else if b & 0xC0 != 0x80 {
                col += 1;
            }
        }
        seen += take as u64;
    }
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The elements and envelope of `doc`, the same whether it is read,
    /// split in memory or mapped from a file.
    fn collect(doc: &str, at: ArrayAt, workers: usize) -> Result<(Vec<String>, Envelope), StreamError> {
        let read = collect_from(doc, Source::Reader(doc.as_bytes()), at, workers);
        let in_memory = collect_from(doc, Source::bytes(doc.as_bytes()), at, workers);
        assert_eq!(read, in_memory, "reading and splitting in place agree");
        let mut file = tempfile::tempfile().unwrap();
        std::io::Write::write_all(&mut file, doc.as_bytes()).unwrap();
        if let Some(mapped) = MappedFile::map(&file) {
            assert_eq!(collect_from(doc, Source::<std::io::Empty>::Mapped(&mapped), at, workers), read, "a mapped file agrees");
        }
        read
    }

    fn collect_from<R: Read>(doc: &str, source: Source<'_, R>, at: ArrayAt, workers: usize) -> Result<(Vec<String>, Envelope), StreamError> {
        let mut out = Vec::new();
        let env = parse_array(
            source,
            at,
            workers,
            |e| Ok((e.position, String::from_utf8(e.bytes.to_vec()).unwrap(), e.offset)),
            |_, batch: std::vec::Drain<'_, (usize, String, u64)>, _| {
                for (p, s, off) in batch {
                    assert_eq!(&doc[off as usize..off as usize + s.len()], s);
                    out.push(format!("{p}:{s}"));
                }
            },
        )?;
        Ok((out, env))
    }

    #[test]
    fn splits_bare_arrays_and_list_objects() {
        let (items, env) = collect(r#" [ {"a": "x,]}\"y"}, {"b": [1, {"c": 2}]} ,3 ,"s"] "#, ArrayAt::RootOrData, 2).unwrap();
        assert_eq!(items, [r#"1:{"a": "x,]}\"y"}"#, r#"2:{"b": [1, {"c": 2}]}"#, "3:3", "4:\"s\""]);
        assert!(env.members.is_empty());
        let (items, env) =
            collect(r#"{"object":"list","data":[{"id":1},{"id":2}],"has_more":true,"meta":{"x":[1]}}"#, ArrayAt::RootOrData, 3).unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(env.members["has_more"], true);
        assert_eq!(env.members["object"], "list");
        assert_eq!(env.members["meta"]["x"][0], 1);
        assert_eq!(collect("[]", ArrayAt::RootOrData, 1).unwrap().0.len(), 0);
    }

    #[test]
    fn elements_across_block_boundaries_keep_order() {
        let big = "x".repeat(BLOCK / 3);
        let doc = format!("[{}]", (0..20).map(|i| format!(r#"{{"i":{i},"pad":"{big}"}}"#)).collect::<Vec<_>>().join(","));
        let (items, _) = collect(&doc, ArrayAt::RootOrData, 2).unwrap();
        assert_eq!(items.len(), 20);
        for (i, item) in items.iter().enumerate() {
            assert!(item.starts_with(&format!("{}:{{\"i\":{i},", i + 1)), "{}", &item[..20]);
        }
    }

    #[test]
    fn truncated_and_malformed_documents_are_errors() {
        let e = collect(r#"[{"a":1},{"b":"#, ArrayAt::RootOrData, 1).unwrap_err();
        assert!(e.message.contains("truncated"), "{e:?}");
        assert!(collect(r#"{"object":"list"}"#, ArrayAt::RootOrData, 1).unwrap_err().message.contains("`data`"));
        assert!(collect(r#"{"data":[1]}"#, ArrayAt::Root, 1).is_err());
        assert!(collect(r#"[{"a":1}}]"#, ArrayAt::RootOrData, 1).is_err());
        assert!(collect(r#"[1] x"#, ArrayAt::RootOrData, 1).is_err());
        let err = parse_array(Source::bytes(r#"[{"a":1},{"a":2}]"#.as_bytes()), ArrayAt::Root, 2, |e| {
            if e.position == 2 { Err(StreamError { offset: e.offset, message: "bad".into() }) } else { Ok(()) }
        }, |_, _, _| {})
        .unwrap_err();
        assert_eq!(err.offset, 9);
    }

    #[test]
    fn locates_offsets() {
        assert_eq!(locate("ab\ncd\né".as_bytes(), 4), (2, 2));
        assert_eq!(locate("ab".as_bytes(), 0), (1, 1));
    }
}
