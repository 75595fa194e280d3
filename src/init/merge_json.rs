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
    match existing {
        Some(text) if !changed => Ok(text.to_string()),
        _ => Ok(serde_json::to_string_pretty(&root).expect("a JSON value serializes") + "\n"),
    }
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
}
