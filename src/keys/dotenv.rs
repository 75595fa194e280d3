//! A dotenv parser that keeps line numbers: `export`, comments, single,
//! double and backtick quotes, multi-line quoted values, `${VAR}` references.
//! Lenient: a bad line is a warning, never the end of the file.

/// One `NAME=value` line. `value` is None when it refers to a variable the
/// file does not define (`KEY=${FROM_THE_VAULT}`): declared, value unseen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    pub value: Option<String>,
    pub line: u32,
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Parsed {
    pub entries: Vec<Entry>,
    /// `line N: …` problems; the rest of the file was still read.
    pub warnings: Vec<String>,
}

struct Cursor<'a> {
    s: &'a str,
    i: usize,
    line: u32,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<char> {
        self.s[self.i..].chars().next()
    }
    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.i += c.len_utf8();
        if c == '\n' {
            self.line += 1;
        }
        Some(c)
    }
    fn skip_inline_space(&mut self) {
        while matches!(self.peek(), Some(' ' | '\t')) {
            self.bump();
        }
    }
    fn rest_of_line(&mut self) -> &str {
        let start = self.i;
        while !matches!(self.peek(), None | Some('\n')) {
            self.bump();
        }
        &self.s[start..self.i]
    }
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')
}

/// Parses dotenv text.
pub fn parse(text: &str) -> Parsed {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = Parsed::default();
    let mut c = Cursor { s: text, i: 0, line: 1 };
    while c.peek().is_some() {
        c.skip_inline_space();
        match c.peek() {
            None => break,
            Some('\n' | '\r') => {
                c.bump();
                continue;
            }
            Some('#') => {
                c.rest_of_line();
                continue;
            }
            _ => {}
        }
        let line = c.line;
        if c.s[c.i..].starts_with("export ") || c.s[c.i..].starts_with("export\t") {
            c.i += "export".len();
            c.skip_inline_space();
        }
        let start = c.i;
        while c.peek().is_some_and(is_name_char) {
            c.bump();
        }
        let name = c.s[start..c.i].to_string();
        c.skip_inline_space();
        let valid_start = name.chars().next().is_some_and(|ch| ch.is_ascii_alphabetic() || ch == '_');
        if !valid_start || c.peek() != Some('=') {
            let rest = c.rest_of_line().trim_end_matches('\r');
            if !(name.is_empty() && rest.trim().is_empty()) {
                out.warnings.push(format!("line {line}: not NAME=value; skipped"));
            }
            continue;
        }
        c.bump(); // '='
        c.skip_inline_space();
        let (raw, expand) = match c.peek() {
            Some(q @ ('"' | '\'' | '`')) => {
                c.bump();
                let (v, closed) = quoted(&mut c, q);
                if !closed {
                    out.warnings.push(format!("line {line}: the {q} quote is never closed; the value runs to the end of the file"));
                }
                // Anything after the closing quote but a comment is ignored.
                let tail = c.rest_of_line().trim();
                if !tail.is_empty() && !tail.starts_with('#') {
                    out.warnings.push(format!("line {line}: text after the closing quote ignored"));
                }
                (v, q == '"')
            }
            _ => {
                let rest = c.rest_of_line().trim_end_matches('\r');
                let value = match rest.find(" #").or_else(|| rest.find("\t#")) {
                    Some(i) => &rest[..i],
                    None => rest,
                };
                (value.trim().to_string(), true)
            }
        };
        let value = if expand { expand_refs(&raw, &out.entries) } else { Some(raw) };
        out.entries.push(Entry { name, value, line });
    }
    out
}

/// Reads a quoted value after its opening quote; returns it and whether it was closed.
fn quoted(c: &mut Cursor<'_>, q: char) -> (String, bool) {
    let mut v = String::new();
    while let Some(ch) = c.bump() {
        if ch == q {
            return (v, true);
        }
        if ch == '\\' && q == '"' {
            match c.bump() {
                Some('n') => v.push('\n'),
                Some('r') => v.push('\r'),
                Some('t') => v.push('\t'),
                Some(other) => v.push(other),
                None => v.push('\\'),
            }
            continue;
        }
        if ch == '\r' && c.peek() == Some('\n') {
            continue;
        }
        v.push(ch);
    }
    (v, false)
}

/// Replaces `${NAME}` and `$NAME` with earlier values of the file. A
/// reference to a name the file does not define makes the value unseen.
fn expand_refs(raw: &str, earlier: &[Entry]) -> Option<String> {
    if !raw.contains('$') {
        return Some(raw.to_string());
    }
    let mut out = String::new();
    let mut rest = raw;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let (name, consumed) = if let Some(inner) = after.strip_prefix('{') {
            match inner.find('}') {
                Some(end) => {
                    // ${NAME:-default} and the like: the name before any operator.
                    let body = &inner[..end];
                    let n = body.split([':', '-', '=', '?', '+']).next().unwrap_or("");
                    (n, end + 2)
                }
                None => ("", 0),
            }
        } else {
            let n = after.find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_')).unwrap_or(after.len());
            (&after[..n], n)
        };
        let valid = name.chars().next().is_some_and(|ch| ch.is_ascii_alphabetic() || ch == '_');
        if !valid {
            out.push('$');
            rest = after;
            continue;
        }
        let known = earlier.iter().rev().find(|e| e.name == name)?;
        out.push_str(known.value.as_deref()?);
        rest = &after[consumed..];
    }
    out.push_str(rest);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(p: &Parsed) -> Vec<(&str, Option<&str>, u32)> {
        p.entries.iter().map(|e| (e.name.as_str(), e.value.as_deref(), e.line)).collect()
    }

    #[test]
    fn the_usual_forms() {
        let p = parse(
            "# comment\n\nexport A=1\nB = two words # trailing comment\nC='single # kept'\nD=\"dq \\n esc \\\"q\\\"\"\nE=\nF=a#b\n",
        );
        assert_eq!(
            pairs(&p),
            [
                ("A", Some("1"), 3),
                ("B", Some("two words"), 4),
                ("C", Some("single # kept"), 5),
                ("D", Some("dq \n esc \"q\""), 6),
                ("E", Some(""), 7),
                ("F", Some("a#b"), 8),
            ]
        );
        assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    }

    #[test]
    fn multi_line_values_keep_the_line_of_their_name() {
        let p = parse("KEY=\"-----BEGIN\nline2\n-----END\"\nNEXT=1\nS='a\nb'\nAFTER=2\r\n");
        assert_eq!(
            pairs(&p),
            [("KEY", Some("-----BEGIN\nline2\n-----END"), 1), ("NEXT", Some("1"), 4), ("S", Some("a\nb"), 5), ("AFTER", Some("2"), 7)]
        );
    }

    #[test]
    fn references_expand_or_make_the_value_unseen() {
        let p = parse("BASE=sk\nA=${BASE}_x\nB=$BASE\nC=${FROM_VAULT}\nD='${BASE}'\nE=${BASE:-z}\nF=cost$5\n");
        assert_eq!(
            pairs(&p),
            [
                ("BASE", Some("sk"), 1),
                ("A", Some("sk_x"), 2),
                ("B", Some("sk"), 3),
                ("C", None, 4),
                ("D", Some("${BASE}"), 5),
                ("E", Some("sk"), 6),
                ("F", Some("cost$5"), 7),
            ]
        );
    }

    #[test]
    fn bad_lines_are_warnings_and_reading_goes_on() {
        let p = parse("garbage line\n1X=2\nOK=yes\nU=\"never closed\nMORE=1\n");
        assert_eq!(p.entries[0].name, "OK");
        assert_eq!(p.entries[1].name, "U");
        assert_eq!(p.entries[1].value.as_deref(), Some("never closed\nMORE=1\n"));
        assert_eq!(p.warnings.len(), 3, "{:?}", p.warnings);
        assert!(p.warnings[0].starts_with("line 1:"));
        assert!(p.warnings[2].contains("never closed"));
    }
}
