//! The billguard section of CLAUDE.md / AGENTS.md, between stable markers so
//! that running init again replaces it instead of adding a second copy.

use super::Located;

pub const START_MARKER: &str = "<!-- billguard:start -->";
pub const END_MARKER: &str = "<!-- billguard:end -->";

/// `section` starts with START_MARKER and ends with END_MARKER (and a newline).
/// Text around an existing section is kept byte for byte; without one, the
/// section is appended after a blank line.
pub fn upsert_section(existing: Option<&str>, section: &str) -> Result<String, Located> {
    let Some(text) = existing.filter(|t| !t.trim().is_empty()) else {
        return Ok(section.to_string());
    };
    let body = section.trim_end_matches('\n');
    match (text.find(START_MARKER), text.find(END_MARKER)) {
        (Some(start), Some(end)) if end > start => {
            if text[start + START_MARKER.len()..].contains(START_MARKER) {
                let second = start + START_MARKER.len() + text[start + START_MARKER.len()..].find(START_MARKER).unwrap_or(0);
                return Err(Located::at(text, second, format!("a second {START_MARKER}: keep one billguard section")));
            }
            let end = end + END_MARKER.len();
            Ok(format!("{}{body}{}", &text[..start], &text[end..]))
        }
        (Some(start), _) => Err(Located::at(
            text,
            start,
            format!("{START_MARKER} without {END_MARKER} after it: add the end marker or remove the partial section"),
        )),
        (None, Some(end)) => Err(Located::at(text, end, format!("{END_MARKER} without {START_MARKER} before it"))),
        (None, None) => {
            let sep = if text.ends_with("\n\n") {
                ""
            } else if text.ends_with('\n') {
                "\n"
            } else {
                "\n\n"
            };
            Ok(format!("{text}{sep}{section}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(body: &str) -> String {
        format!("{START_MARKER}\n{body}\n{END_MARKER}\n")
    }

    #[test]
    fn creates_appends_and_replaces() {
        assert_eq!(upsert_section(None, &section("a")).unwrap(), section("a"));
        let appended = upsert_section(Some("# Project\n\nNotes."), &section("a")).unwrap();
        assert_eq!(appended, format!("# Project\n\nNotes.\n\n{}", section("a")));
        let with_after = format!("{appended}\n## After\n");
        let replaced = upsert_section(Some(&with_after), &section("b")).unwrap();
        assert_eq!(replaced, format!("# Project\n\nNotes.\n\n{}\n## After\n", section("b")));
        assert_eq!(upsert_section(Some(&replaced), &section("b")).unwrap(), replaced, "idempotent");
    }

    #[test]
    fn broken_markers_are_located() {
        let err = upsert_section(Some(&format!("x\n{START_MARKER}\nhalf\n")), &section("a")).unwrap_err();
        assert_eq!(err.line, Some(2));
        let err = upsert_section(Some(&format!("{END_MARKER}\n")), &section("a")).unwrap_err();
        assert!(err.message.contains("without"), "{}", err.message);
        let twice = format!("{}{}", section("a"), section("a"));
        assert!(upsert_section(Some(&twice), &section("a")).is_err());
    }
}
