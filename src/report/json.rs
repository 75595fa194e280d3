//! The JSON renderer: pretty JSON, byte for byte what `serde_json`'s pretty
//! printer gives, written in chunks and redacted chunk by chunk.
//!
//! Why not `serde_json::to_string_pretty`: a million-row check can report a
//! hundred thousand findings, fifty megabytes of text. Built as one string,
//! that text cost more page faults than writing it, and serde's string
//! escaping goes byte by byte. Here the findings are written by hand (their
//! shape is fixed), strings without anything to escape are copied whole,
//! and the text goes out in chunks that a buffer of a few hundred kilobytes
//! holds. Everything around the findings is still serde's own output.
//! A chunk always ends between two findings, so no string is split across
//! chunks and redaction sees every string whole.

use std::io::{self, Write};

use serde::Serialize;
use serde_json::Value;

use super::{Finding, Report};
use crate::secrets;

/// A chunk is written out once it holds this much.
const CHUNK: usize = 256 << 10;

/// From this many findings on, the second half is rendered on another
/// thread while the first is written.
const PARALLEL_FROM: usize = 20_000;

/// Writes `report` as pretty JSON, redacted, followed by a newline.
pub fn write<S: Serialize>(report: &Report<S>, out: &mut dyn Write) -> io::Result<()> {
    write_split(report, out, PARALLEL_FROM)
}

fn write_split<S: Serialize>(report: &Report<S>, out: &mut dyn Write, parallel_from: usize) -> io::Result<()> {
    // The report with no findings, from serde: the findings go where its
    // empty array is. serde escapes every control character, so a raw
    // newline followed by two spaces only ever starts a member of the report.
    let shell = Report {
        tool: report.tool.clone(),
        verdict: report.verdict,
        summary: report.summary.clone(),
        scope: &report.scope,
        findings: Vec::new(),
        omitted: report.omitted,
        notes: report.notes.clone(),
        report_file: report.report_file.clone(),
        suppressed_findings: Vec::new(),
    };
    let mut text = serde_json::to_string_pretty(&shell).map_err(io::Error::other)?;
    text.push('\n');
    const EMPTY: &str = "\n  \"findings\": []";
    let at = text.find(EMPTY).expect("a report has a findings member") + EMPTY.len() - 1;
    if report.findings.is_empty() {
        return out.write_all(secrets::redact_owned(text).as_bytes());
    }
    let (head, tail) = text.split_at(at);
    let findings = &report.findings;
    let (front, back) = findings.split_at(if findings.len() >= parallel_from { findings.len() / 2 } else { findings.len() });
    let back_follows_front = !front.is_empty();
    std::thread::scope(|scope| {
        // The back half is rendered meanwhile, into redacted chunks that wait
        // for the front half to be written.
        let back = (!back.is_empty()).then(|| {
            scope.spawn(move || {
                let mut chunks = Vec::new();
                let mut chunk = chunk_buffer();
                render(back, back_follows_front, &mut chunk, &mut |c| {
                    chunks.push(secrets::redact_owned(std::mem::replace(c, chunk_buffer())));
                    Ok(())
                })
                .expect("rendering to memory does not fail");
                chunks.push(secrets::redact_owned(chunk));
                chunks
            })
        });
        let mut chunk = chunk_buffer();
        chunk.push_str(head);
        render(front, false, &mut chunk, &mut |c| flush(c, out))?;
        if let Some(back) = back {
            flush(&mut chunk, out)?;
            for c in back.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)) {
                out.write_all(c.as_bytes())?;
            }
        }
        chunk.push_str("\n  ");
        chunk.push_str(tail);
        flush(&mut chunk, out)
    })
}

/// Appends `findings` to `chunk` as array elements (each after a comma but
/// the very first), handing the chunk to `full` whenever it fills.
fn render(findings: &[Finding], after_others: bool, chunk: &mut String, full: &mut dyn FnMut(&mut String) -> io::Result<()>) -> io::Result<()> {
    for (i, finding) in findings.iter().enumerate() {
        chunk.push_str(if i == 0 && !after_others { "\n" } else { ",\n" });
        finding_text(finding, chunk);
        if chunk.len() >= CHUNK {
            full(chunk)?;
        }
    }
    Ok(())
}

/// A chunk's buffer: room for a full chunk and the finding that overfills it.
fn chunk_buffer() -> String {
    String::with_capacity(CHUNK + CHUNK / 4)
}

/// Redacts and writes what `chunk` holds, and empties it.
fn flush(chunk: &mut String, out: &mut dyn Write) -> io::Result<()> {
    let redacted = secrets::redact_owned(std::mem::take(chunk));
    out.write_all(redacted.as_bytes())?;
    // Keep the buffer when redaction gave it back unchanged.
    *chunk = redacted;
    chunk.clear();
    Ok(())
}

/// One finding as an element of the report's `findings` array (indented by four).
fn finding_text(f: &Finding, out: &mut String) {
    out.push_str("    {\n      \"rule\": ");
    string(&f.rule, out);
    out.push_str(",\n      \"name\": ");
    string(&f.name, out);
    out.push_str(",\n      \"severity\": \"");
    out.push_str(f.severity.as_str());
    out.push_str("\",\n      \"entity\": ");
    string(&f.entity, out);
    out.push_str(",\n      \"message\": ");
    string(&f.message, out);
    out.push_str(",\n      \"fix\": ");
    string(&f.fix, out);
    out.push_str(",\n      \"evidence\": ");
    object(f.evidence.iter(), 3, out);
    out.push_str(",\n      \"location\": ");
    match &f.location {
        None => out.push_str("null"),
        Some(loc) => {
            out.push_str("{\n        \"path\": ");
            string(&loc.path, out);
            out.push_str(",\n        \"line\": ");
            out.push_str(&loc.line.to_string());
            out.push_str("\n      }");
        }
    }
    out.push_str("\n    }");
}

fn indent(level: usize, out: &mut String) {
    for _ in 0..level {
        out.push_str("  ");
    }
}

/// A value whose opening bracket sits at nesting `level` (its members one deeper).
fn value(v: &Value, level: usize, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => string(s, out),
        Value::Array(items) => container(('[', ']'), items.iter().map(|item| (None, item)), level, out),
        Value::Object(map) => object(map.iter().map(|(k, v)| (k.as_str(), v)), level, out),
    }
}

fn object<'a>(members: impl Iterator<Item = (&'a str, &'a Value)>, level: usize, out: &mut String) {
    container(('{', '}'), members.map(|(k, v)| (Some(k), v)), level, out);
}

/// An array (no names) or an object; empty ones close on the same line.
fn container<'a>(brackets: (char, char), items: impl Iterator<Item = (Option<&'a str>, &'a Value)>, level: usize, out: &mut String) {
    out.push(brackets.0);
    let mut empty = true;
    for (name, v) in items {
        out.push_str(if empty { "\n" } else { ",\n" });
        empty = false;
        indent(level + 1, out);
        if let Some(name) = name {
            string(name, out);
            out.push_str(": ");
        }
        value(v, level + 1, out);
    }
    if !empty {
        out.push('\n');
        indent(level, out);
    }
    out.push(brackets.1);
}

/// A JSON string, escaped as serde_json escapes: `"`, `\` and control
/// characters only.
fn string(s: &str, out: &mut String) {
    out.push('"');
    if needs_escape(s.as_bytes()) {
        for c in s.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\u{8}' => out.push_str("\\b"),
                '\u{c}' => out.push_str("\\f"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                c if (c as u32) < 0x20 => {
                    const HEX: &[u8; 16] = b"0123456789abcdef";
                    let b = c as u8;
                    out.push_str("\\u00");
                    out.push(HEX[usize::from(b >> 4)] as char);
                    out.push(HEX[usize::from(b & 0xf)] as char);
                }
                c => out.push(c),
            }
        }
    } else {
        out.push_str(s);
    }
    out.push('"');
}

/// Whether any byte is `"`, `\` or below 0x20, eight bytes at a time.
fn needs_escape(bytes: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // Exact for "is there such a byte" (not for where): a borrow only
    // travels upwards from a byte that already matched.
    let any = |w: u64| {
        let below_space = w.wrapping_sub(ONES * 0x20) & !w;
        let quote = (w ^ (ONES * u64::from(b'"'))).wrapping_sub(ONES) & !(w ^ (ONES * u64::from(b'"')));
        let backslash = (w ^ (ONES * u64::from(b'\\'))).wrapping_sub(ONES) & !(w ^ (ONES * u64::from(b'\\')));
        (below_space | quote | backslash) & HIGH != 0
    };
    let mut words = bytes.chunks_exact(8);
    for w in &mut words {
        if any(u64::from_le_bytes(w.try_into().expect("eight bytes"))) {
            return true;
        }
    }
    words.remainder().iter().any(|&b| b < 0x20 || b == b'"' || b == b'\\')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Location, Report};
    use crate::rules;

    fn rendered<S: Serialize>(r: &Report<S>) -> String {
        let mut out = Vec::new();
        write(r, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn serde_text<S: Serialize>(r: &Report<S>) -> String {
        secrets::redact_owned(serde_json::to_string_pretty(r).unwrap() + "\n")
    }

    #[test]
    fn escape_check_is_exact() {
        for b in 0u8..=255 {
            for len in [1usize, 7, 8, 9, 17] {
                for at in [0, len / 2, len - 1] {
                    let mut bytes = vec![b'a'; len];
                    bytes[at] = b;
                    let want = b < 0x20 || b == b'"' || b == b'\\';
                    assert_eq!(needs_escape(&bytes), want, "byte {b:#x} at {at} of {len}");
                }
            }
        }
        // Bytes just above a match must not hide or fake one.
        assert!(!needs_escape("ab\u{7f}é\u{80}!#[]".as_bytes()));
        assert!(needs_escape(b"\x21\x1f\x21\x21\x21\x21\x21\x21"));
    }

    #[test]
    fn same_text_as_serde_pretty() {
        let odd = "quote \" back \\ nl \n tab \t nul \u{0} bell \u{7} esc \u{1b} del \u{7f} é ✓ \u{2028} 𝄞 / <>";
        let mut findings = Vec::new();
        for i in 0..3000u32 {
            let mut f = Finding::new(rules::get(if i % 3 == 0 { "ACC001" } else { "ACC005" }).unwrap(), format!("user:{i}"), format!("m{i} {odd}"))
                .evidence("s", odd)
                .evidence("n", i)
                .evidence("neg", -i64::from(i))
                .evidence("f", f64::from(i) / 7.0)
                .evidence("big", u64::MAX)
                .evidence("b", i % 2 == 0)
                .evidence("null", Value::Null)
                .evidence("empty_list", serde_json::json!([]))
                .evidence("empty_map", serde_json::json!({}))
                .evidence("nested", serde_json::json!({"a": [1, {"b": [odd, null]}, []], "c": {}}));
            if i % 5 == 0 {
                f = f.at(format!("src/{odd}.ts"), i);
            }
            if i % 7 == 0 {
                f.evidence.clear();
            }
            findings.push(f);
        }
        let scope = serde_json::json!({"users": 3, "odd": odd, "list": [1, 2], "none": null});
        let r = Report::new("check_access_contract", scope, findings, vec![odd.to_string(), "  \"findings\": []".into()]);
        let got = rendered(&r);
        assert!(got.len() > 2 * CHUNK, "several chunks");
        let want = serde_text(&r);
        assert_eq!(got, want);
        // Split in two halves, rendered on two threads.
        for parallel_from in [1, 2, 2999] {
            let mut split = Vec::new();
            write_split(&r, &mut split, parallel_from).unwrap();
            assert!(String::from_utf8(split).unwrap() == want, "split from {parallel_from}");
        }

        let empty = Report::new("t", (), vec![], vec![]);
        assert_eq!(rendered(&empty), serde_text(&empty));
        let mut one = Report::new("t", (), vec![Finding::new(rules::get("ACC001").unwrap(), "user:1", "m")], vec![]);
        one.findings[0].location = Some(Location { path: "a.rs".into(), line: 3 });
        one.report_file = Some("x.json".into());
        assert_eq!(rendered(&one), serde_text(&one));
        let mut split = Vec::new();
        write_split(&one, &mut split, 1).unwrap();
        assert_eq!(String::from_utf8(split).unwrap(), serde_text(&one), "a lone finding in the back half");
    }

    #[test]
    fn secrets_are_redacted_in_every_chunk() {
        // Built at run time so that no key-shaped literal sits in the source.
        let key = format!("{}{}", "sk_live_", "4fQ9zXv2Lm8Rt1Yp6Wc3Nb7Ka1b2");
        let findings: Vec<Finding> = (0..4000)
            .map(|i| Finding::new(rules::get("ACC001").unwrap(), format!("user:{i}"), format!("saw {key}")).evidence("k", key.as_str()))
            .collect();
        let r = Report::new("t", (), findings, vec![format!("note {key}")]);
        let got = rendered(&r);
        assert!(!got.contains(&key));
        assert_eq!(got.matches("sk_live_…a1b2").count(), 2 * 4000 + 1, "every place the key was");
        assert_eq!(got, serde_text(&r));
    }
}
