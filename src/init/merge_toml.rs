//! Inserts or refreshes `[mcp_servers.<name>]` in Codex's config.toml with
//! toml_edit, so that comments, formatting and every other table survive.

use toml_edit::{Array, DocumentMut, Item, Table, Value};

use super::Located;

/// `existing`: the file's text, None when it does not exist. Only `command`
/// and `args` are billguard's; other keys of the entry (`env`,
/// `startup_timeout_sec`) stay. An entry already right leaves the text as it was.
pub fn upsert_codex_server(existing: Option<&str>, name: &str, command: &str, args: &[&str]) -> Result<String, Located> {
    let text = existing.unwrap_or("");
    let mut doc: DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| {
        let offset = e.span().map_or(0, |s| s.start);
        Located::at(text, offset, format!("not valid TOML: {}", e.message().trim()))
    })?;
    let servers = doc.entry("mcp_servers").or_insert_with(|| {
        // Implicit: no empty `[mcp_servers]` header above `[mcp_servers.billguard]`.
        let mut t = Table::new();
        t.set_implicit(true);
        Item::Table(t)
    });
    // Inside an inline `mcp_servers = { ... }` the entry must be inline too.
    let inline = matches!(servers, Item::Value(Value::InlineTable(_)));
    let Some(servers) = servers.as_table_like_mut() else {
        return Err(Located::nowhere("`mcp_servers` is not a table"));
    };
    if servers.get(name).is_none() {
        servers.insert(name, if inline { Item::Value(Value::InlineTable(Default::default())) } else { Item::Table(Table::new()) });
    }
    let Some(server) = servers.get_mut(name).and_then(Item::as_table_like_mut) else {
        return Err(Located::nowhere(format!("`mcp_servers.{name}` is not a table")));
    };
    let mut changed = false;
    if server.get("command").and_then(Item::as_str) != Some(command) {
        server.insert("command", toml_edit::value(command));
        changed = true;
    }
    let same_args = server
        .get("args")
        .and_then(Item::as_array)
        .is_some_and(|a| a.len() == args.len() && a.iter().zip(args).all(|(v, want)| v.as_str() == Some(*want)));
    if !same_args {
        server.insert("args", toml_edit::value(args.iter().copied().collect::<Array>()));
        changed = true;
    }
    Ok(if changed { doc.to_string() } else { text.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARGS: [&str; 3] = ["serve", "--repo", "."];

    #[test]
    fn creates_the_table() {
        let text = upsert_codex_server(None, "billguard", "billguard", &ARGS).unwrap();
        assert_eq!(text, "[mcp_servers.billguard]\ncommand = \"billguard\"\nargs = [\"serve\", \"--repo\", \".\"]\n");
    }

    #[test]
    fn keeps_comments_other_tables_and_extra_keys() {
        let old = "# my settings\nmodel = \"o3\"\n\n[mcp_servers.github]\ncommand = \"gh\" # the CLI\n\n[mcp_servers.billguard]\ncommand = \"old\"\nstartup_timeout_sec = 20\n\n[profiles.fast]\nmodel = \"mini\"\n";
        let text = upsert_codex_server(Some(old), "billguard", "billguard", &ARGS).unwrap();
        assert!(text.starts_with("# my settings\nmodel = \"o3\"\n"), "{text}");
        assert!(text.contains("command = \"gh\" # the CLI"), "{text}");
        assert!(text.contains("startup_timeout_sec = 20"), "{text}");
        assert!(text.contains("[profiles.fast]"), "{text}");
        let parsed: toml::Table = toml::from_str(&text).unwrap();
        assert_eq!(parsed["mcp_servers"]["billguard"]["command"].as_str(), Some("billguard"));
        assert_eq!(upsert_codex_server(Some(&text), "billguard", "billguard", &ARGS).unwrap(), text, "second run: same bytes");
    }

    #[test]
    fn inline_tables_stay_inline() {
        let old = "mcp_servers = { other = { command = \"x\" } }\n";
        let text = upsert_codex_server(Some(old), "billguard", "billguard", &ARGS).unwrap();
        let parsed: toml::Table = toml::from_str(&text).unwrap();
        assert_eq!(parsed["mcp_servers"]["billguard"]["args"][1].as_str(), Some("--repo"));
        assert_eq!(parsed["mcp_servers"]["other"]["command"].as_str(), Some("x"));
    }

    #[test]
    fn malformed_toml_is_located() {
        let err = upsert_codex_server(Some("model = \"o3\"\n[mcp_servers\n"), "billguard", "billguard", &ARGS).unwrap_err();
        assert_eq!(err.line, Some(2), "{err:?}");
        let err = upsert_codex_server(Some("mcp_servers = 3\n"), "billguard", "billguard", &ARGS).unwrap_err();
        assert!(err.message.contains("not a table"), "{}", err.message);
    }
}
