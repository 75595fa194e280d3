//! Lines of a hunk that lie inside a `/* ... */` block comment. A line-by-line
//! review reads each line on its own, so `case "invoice.paid":*/` (the last line
//! of a commented-out block) looks like code unless its comment is seen. Such
//! lines are rewritten to start with `//`, which every line check skips.

use super::Hunk;

/// Marks the lines of `h` that are comment text of a block comment, on either side.
pub fn mark_block_comments(h: &mut Hunk) {
    let mut comment = vec![false; h.lines.len()];
    for side in ['-', '+'] {
        let mut inside = false;
        let mut seen_open = false;
        let mut earlier: Vec<usize> = Vec::new();
        for (i, (tag, text)) in h.lines.iter().enumerate() {
            if *tag != ' ' && *tag != side {
                continue;
            }
            let scan = scan(text, inside);
            if scan.unmatched_close && !seen_open {
                // The hunk starts inside a comment: what came before its end is comment text.
                for &j in &earlier {
                    comment[j] = true;
                }
            }
            if (inside || scan.unmatched_close) && !scan.code {
                comment[i] = true;
            }
            seen_open |= scan.opened;
            inside = scan.inside_after;
            earlier.push(i);
        }
    }
    for ((_, text), c) in h.lines.iter_mut().zip(comment) {
        if c && !super::hunks::is_comment(text) {
            let indent = text.len() - text.trim_start().len();
            text.insert_str(indent, "// ");
        }
    }
}

struct Scan {
    /// Some code lies outside comments and strings on the line.
    code: bool,
    opened: bool,
    /// A `*/` closed a comment the line did not open.
    unmatched_close: bool,
    inside_after: bool,
}

fn scan(line: &str, mut inside: bool) -> Scan {
    let b = line.as_bytes();
    let mut out = Scan { code: false, opened: false, unmatched_close: false, inside_after: false };
    let mut i = 0;
    let mut quote: Option<u8> = None;
    while i < b.len() {
        let c = b[i];
        let next = b.get(i + 1).copied();
        if let Some(q) = quote {
            if c == b'\\' {
                i += 2;
                continue;
            }
            if c == q {
                quote = None;
            }
        } else if inside {
            if c == b'*' && next == Some(b'/') {
                inside = false;
                i += 2;
                continue;
            }
        } else if c == b'/' && next == Some(b'*') {
            inside = true;
            out.opened = true;
            i += 2;
            continue;
        } else if c == b'/' && next == Some(b'/') {
            break;
        } else if c == b'*' && next == Some(b'/') && !out.opened && !(i > 0 && matches!(b[i - 1], b'.' | b'\\' | b')' | b']')) {
            // Not a regex's `.*/`: a comment the line did not open ends here, and what
            // came before on the line was its text.
            out.unmatched_close = true;
            out.code = false;
            i += 2;
            continue;
        } else if matches!(c, b'"' | b'\'' | b'`') {
            quote = Some(c);
            out.code = true;
        } else if !c.is_ascii_whitespace() {
            out.code = true;
        }
        i += 1;
    }
    out.inside_after = inside;
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marked(lines: &[(char, &str)]) -> Vec<String> {
        let mut h = Hunk { lines: lines.iter().map(|(t, l)| (*t, l.to_string())).collect(), ..Hunk::default() };
        mark_block_comments(&mut h);
        h.lines.into_iter().map(|(_, l)| l).collect()
    }

    #[test]
    fn the_lines_of_a_commented_out_block_are_comment_text() {
        let out = marked(&[
            (' ', "\tcase \"customer.subscription.updated\":"),
            ('-', "\t/*case \"invoice.payment_failed\":"),
            ('-', "\t\th.handleInvoicePaymentFailed(event)"),
            ('-', "\tcase \"customer.subscription.trial_will_end\":*/"),
            ('+', "\tcase \"customer.subscription.deleted\":"),
        ]);
        assert_eq!(out[0], "\tcase \"customer.subscription.updated\":");
        assert_eq!(out[2], "\t\t// h.handleInvoicePaymentFailed(event)");
        assert_eq!(out[3], "\t// case \"customer.subscription.trial_will_end\":*/");
        assert_eq!(out[4], "\tcase \"customer.subscription.deleted\":", "the other side is code");
    }

    #[test]
    fn a_hunk_that_starts_inside_a_comment_is_comment_text_up_to_its_end() {
        let out = marked(&[('-', "  case 'invoice.paid':"), ('-', "  */"), (' ', "  case 'customer.subscription.deleted':")]);
        assert_eq!(out[0], "  // case 'invoice.paid':");
        assert_eq!(out[2], "  case 'customer.subscription.deleted':");
    }

    #[test]
    fn comment_marks_in_strings_and_code_after_a_comment_stay_code() {
        let lines = ["  headers: { accept: \"*/*\" },", "  /* old */ grant(user);", "  revoke(user); // done */", "  if (/^customer\\..*/.test(type)) {"];
        let out = marked(&lines.map(|l| ('-', l)));
        assert_eq!(out, lines);
    }
}
