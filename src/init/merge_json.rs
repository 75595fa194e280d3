//! Inserts or refreshes one server entry in a JSON MCP config, keeping every
//! other server and key where it was (serde_json's `preserve_order`).

use serde_json::{Map, Value};

use super::Located;

/// `existing`: the file's text, None when it does not exist. `servers_key` is
/// `mcpServers` (Cursor, Claude Code, Windsurf) or `servers` (VS Code).
/// Keys of an existing entry that billguard does not set (`env`, `disabled`)
/// are kept; when the entry already says what `entry` says, the text comes
/// back untouched, byte for byte.
pub fn upsert_server(existing: Option<&str>, servers_key: &str, name: &str, entry: &Map<String, Value>) -> Result<String, Located> {
    let mut root = match existing {
        Some(text) if !text.trim().is_empty() => parse(text)?,
        _ => Value::Object(Map::new()),
    };
    let Some(root_map) = root.as_object_mut() else {
        return Err(Located { line: Some(1), column: Some(1), message: "the top level is not a JSON object".into() });
    };
    let servers = root_map.entry(servers_key).or_insert_with(|| Value::Object(Map::new()));
    let Some(servers) = servers.as_object_mut() else {
        return Err(Located::nowhere(format!("`{servers_key}` is not a JSON object")));
    };
    let server = servers.entry(name).or_insert_with(|| Value::Object(Map::new()));
    let Some(server) = server.as_object_mut() else {
        return Err(Located::nowhere(format!("`{servers_key}.{name}` is not a JSON object")));
    };
    let mut changed = existing.is_none_or(|t| t.trim().is_empty());
    for (key, value) in entry {
        if server.get(key) != Some(value) {
            server.insert(key.clone(), value.clone());
            changed = true;
        }
    }
    let entry_now = server.clone();
    match existing {
        Some(text) if !changed => Ok(text.to_string()),
        Some(text) if !text.trim().is_empty() => {
            Ok(splice(text, servers_key, name, &entry_now).unwrap_or_else(|| serde_json::to_string_pretty(&root).expect("a JSON value serializes") + "\n"))
        }
        _ => Ok(serde_json::to_string_pretty(&root).expect("a JSON value serializes") + "\n"),
    }
}

/// The file's text with only the billguard entry written (or inserted), in
/// the file's own indentation: every other byte stays as it was. None when
/// the text has a shape the splice does not handle (the caller then writes
/// the whole document).
fn splice(text: &str, servers_key: &str, name: &str, entry: &Map<String, Value>) -> Option<String> {
    let unit = indent_unit(text);
    let compact = !text.trim().contains('\n');
    let root_start = skip_ws(text, 0);
    let (root_members, root_close) = members(text, root_start)?;
    let Some(servers) = root_members.iter().find(|m| m.key == servers_key) else {
        let mut inner = Map::new();
        inner.insert(name.to_string(), Value::Object(entry.clone()));
        return Some(insert_member(text, root_start, root_close, &root_members, servers_key, &Value::Object(inner), &unit, compact));
    };
    let (server_members, server_close) = members(text, servers.value_start)?;
    let entry_value = Value::Object(entry.clone());
    match server_members.iter().find(|m| m.key == name) {
        Some(m) => {
            let indent = line_indent(text, m.key_start);
            let value = render(&entry_value, &unit, &indent, compact);
            Some(format!("{}{value}{}", &text[..m.value_start], &text[m.value_end..]))
        }
        None => Some(insert_member(text, servers.value_start, server_close, &server_members, name, &entry_value, &unit, compact)),
    }
}

struct Member {
    key: String,
    key_start: usize,
    value_start: usize,
    value_end: usize,
}

fn skip_ws(text: &str, mut i: usize) -> usize {
    let b = text.as_bytes();
    while i < b.len() && b[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}

/// Where the JSON value starting at `i` ends (exclusive); the text is valid JSON.
fn value_end(text: &str, i: usize) -> Option<usize> {
    let b = text.as_bytes();
    match *b.get(i)? {
        b'"' => {
            let mut j = i + 1;
            while j < b.len() {
                match b[j] {
                    b'\\' => j += 2,
                    b'"' => return Some(j + 1),
                    _ => j += 1,
                }
            }
            None
        }
        b'{' | b'[' => {
            let (mut depth, mut j) = (0usize, i);
            while j < b.len() {
                match b[j] {
                    b'"' => {
                        j = value_end(text, j)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(j + 1);
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            None
        }
        _ => Some(i + b[i..].iter().position(|c| matches!(c, b',' | b'}' | b']') || c.is_ascii_whitespace()).unwrap_or(b.len() - i)),
    }
}

/// The members of the object at `start` and the offset of its closing brace.
fn members(text: &str, start: usize) -> Option<(Vec<Member>, usize)> {
    let b = text.as_bytes();
    if b.get(start) != Some(&b'{') {
        return None;
    }
    let mut out = Vec::new();
    let mut i = skip_ws(text, start + 1);
    loop {
        match *b.get(i)? {
            b'}' => return Some((out, i)),
            b',' => i = skip_ws(text, i + 1),
            b'"' => {
                let key_end = value_end(text, i)?;
                let key: String = serde_json::from_str(&text[i..key_end]).ok()?;
                let colon = skip_ws(text, key_end);
                if b.get(colon) != Some(&b':') {
                    return None;
                }
                let value_start = skip_ws(text, colon + 1);
                let end = value_end(text, value_start)?;
                out.push(Member { key, key_start: i, value_start, value_end: end });
                i = skip_ws(text, end);
            }
            _ => return None,
        }
    }
}

/// The whitespace that starts the line holding `offset`.
fn line_indent(text: &str, offset: usize) -> String {
    let start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    text[start..].chars().take_while(|c| *c == ' ' || *c == '\t').collect()
}

/// The file's indentation step: the shallowest indented line's, else two spaces.
fn indent_unit(text: &str) -> String {
    text.lines()
        .map(|l| l.chars().take_while(|c| *c == ' ' || *c == '\t').collect::<String>())
        .filter(|w| !w.is_empty())
        .min_by_key(String::len)
        .unwrap_or_else(|| "  ".into())
}

/// A value as the file writes values: pretty with its step, lines after the
/// first at `indent`; on one line in a one-line file.
fn render(value: &Value, unit: &str, indent: &str, compact: bool) -> String {
    if compact {
        return serde_json::to_string(value).expect("a JSON value serializes");
    }
    let mut buf = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, serde_json::ser::PrettyFormatter::with_indent(unit.as_bytes()));
    serde::Serialize::serialize(value, &mut ser).expect("a JSON value serializes");
    String::from_utf8(buf).expect("JSON is UTF-8").replace('\n', &format!("\n{indent}"))
}

#[allow(clippy::too_many_arguments)]
fn insert_member(text: &str, open: usize, close: usize, existing: &[Member], key: &str, value: &Value, unit: &str, compact: bool) -> String {
    let key_json = serde_json::to_string(key).expect("a string serializes");
    if let Some(last) = existing.last() {
        let indent = line_indent(text, last.key_start);
        let on_own_line = text[..last.key_start].trim_end_matches([' ', '\t']).ends_with('\n');
        let sep = if compact || !on_own_line { " ".to_string() } else { format!("\n{indent}") };
        let value = render(value, unit, &indent, compact || !on_own_line);
        return format!("{},{sep}{key_json}: {value}{}", &text[..last.value_end], &text[last.value_end..]);
    }
    if compact {
        return format!("{}{key_json}: {}{}", &text[..open + 1], render(value, unit, "", true), &text[close..]);
    }
    let outer = line_indent(text, open);
    let indent = format!("{outer}{unit}");
    let value = render(value, unit, &indent, false);
    format!("{}\n{indent}{key_json}: {value}\n{outer}{}", &text[..open + 1], &text[close..])
}

fn parse(text: &str) -> Result<Value, Located> {
    serde_json::from_str(text).map_err(|e| {
        let mut message = format!("not valid JSON: {e}");
        // VS Code and Cursor accept comments in their JSON files; serde_json does not.
        if text.lines().any(|l| l.trim_start().starts_with("//") || l.trim_start().starts_with("/*")) {
            message.push_str(" (the file has comments: billguard merges plain JSON only; remove them or add the billguard entry by hand)");
        }
        Located { line: Some(e.line()), column: Some(e.column()), message }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entry() -> Map<String, Value> {
        json!({"type": "stdio", "command": "billguard", "args": ["serve"]}).as_object().unwrap().clone()
    }

    #[test]
    fn creates_a_file_when_there_is_none() {
        let text = upsert_server(None, "mcpServers", "billguard", &entry()).unwrap();
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["mcpServers"]["billguard"]["command"], "billguard");
        assert!(text.ends_with("}\n"));
    }

    #[test]
    fn keeps_other_servers_keys_and_order() {
        let old = r#"{"inputs": [{"id": "tok"}], "servers": {"github": {"command": "gh"}, "billguard": {"command": "old", "env": {"A": "B"}}}, "z": 1}"#;
        let text = upsert_server(Some(old), "servers", "billguard", &entry()).unwrap();
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["inputs"][0]["id"], "tok");
        assert_eq!(v["servers"]["github"]["command"], "gh");
        assert_eq!(v["servers"]["billguard"]["command"], "billguard");
        assert_eq!(v["servers"]["billguard"]["env"]["A"], "B", "keys billguard does not own stay");
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["inputs", "servers", "z"]);
        let servers: Vec<&String> = v["servers"].as_object().unwrap().keys().collect();
        assert_eq!(servers, ["github", "billguard"]);
    }

    #[test]
    fn an_entry_already_right_leaves_the_text_alone() {
        let old = "{\"mcpServers\":{\"billguard\":{\"type\":\"stdio\",\"command\":\"billguard\",\"args\":[\"serve\"]}}}";
        assert_eq!(upsert_server(Some(old), "mcpServers", "billguard", &entry()).unwrap(), old);
    }

    #[test]
    fn malformed_json_is_located() {
        let err = upsert_server(Some("{\n  \"mcpServers\": {,\n}"), "mcpServers", "billguard", &entry()).unwrap_err();
        assert_eq!(err.line, Some(2));
        assert!(err.column.is_some());
        let err = upsert_server(Some("{\n // mine\n}"), "servers", "billguard", &entry()).unwrap_err();
        assert!(err.message.contains("comments"), "{}", err.message);
        let err = upsert_server(Some("[]"), "servers", "billguard", &entry()).unwrap_err();
        assert!(err.message.contains("not a JSON object"));
        let err = upsert_server(Some("{\"servers\": []}"), "servers", "billguard", &entry()).unwrap_err();
        assert!(err.message.contains("`servers`"));
    }

    #[test]
    fn only_the_billguard_entry_changes_in_the_files_own_format() {
        // Four-space indent, a compact array, a key order serde would keep but a layout it would not.
        let old = "{\n    \"mcpServers\": {\n        \"github\": { \"command\": \"gh\", \"args\": [\"a\",\"b\"] }\n    },\n    \"z\": [1,2,3]\n}\n";
        let text = upsert_server(Some(old), "mcpServers", "billguard", &entry()).unwrap();
        assert!(text.starts_with("{\n    \"mcpServers\": {\n        \"github\": { \"command\": \"gh\", \"args\": [\"a\",\"b\"] },\n        \"billguard\": {\n            \"type\": \"stdio\""), "{text}");
        assert!(text.ends_with("    },\n    \"z\": [1,2,3]\n}\n"), "{text}");
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["mcpServers"]["billguard"]["args"][0], "serve");
        assert_eq!(upsert_server(Some(&text), "mcpServers", "billguard", &entry()).unwrap(), text, "second run: same bytes");

        // An outdated entry is rewritten in place; what is around it is not touched.
        let old = "{\"mcpServers\": {\"a\": {\"command\":\"x\"}, \"billguard\": {\"command\": \"old\", \"env\": {\"A\": \"B\"}}, \"b\": {}}}";
        let text = upsert_server(Some(old), "mcpServers", "billguard", &entry()).unwrap();
        assert!(text.starts_with("{\"mcpServers\": {\"a\": {\"command\":\"x\"}, \"billguard\": {\"command\":\"billguard\",\"env\":{\"A\":\"B\"}"), "{text}");
        assert!(text.ends_with(", \"b\": {}}}"), "{text}");

        // No servers key yet, and an empty servers object, in a tab-indented file.
        let text = upsert_server(Some("{\n\t\"inputs\": []\n}\n"), "servers", "billguard", &entry()).unwrap();
        assert!(text.starts_with("{\n\t\"inputs\": [],\n\t\"servers\": {\n\t\t\"billguard\": {\n\t\t\t\"type\""), "{text}");
        serde_json::from_str::<Value>(&text).unwrap();
        let text = upsert_server(Some("{\n  \"servers\": {}\n}\n"), "servers", "billguard", &entry()).unwrap();
        assert!(text.starts_with("{\n  \"servers\": {\n    \"billguard\": {\n      \"type\""), "{text}");
        assert!(text.ends_with("    }\n  }\n}\n"), "{text}");
        serde_json::from_str::<Value>(&text).unwrap();
    }
}
