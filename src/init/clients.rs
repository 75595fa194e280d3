//! What each client gets: its MCP server entry and the agent guidance.

use std::path::Path;

use serde_json::{Map, Value, json};

use super::merge_json::upsert_server;
use super::merge_toml::upsert_codex_server;
use super::section::upsert_section;
use super::{CURSOR_RULE, Client, Planner};
use crate::error::CheckError;

pub const SERVER_NAME: &str = "billguard";
const COMMAND: &str = "billguard";

/// The `--repo` argument each client gets. Cursor and VS Code expand
/// `${workspaceFolder}`; Claude Code and Codex start servers in the project
/// directory, so `.` is that directory.
fn repo_arg(client: Client) -> &'static str {
    match client {
        Client::Cursor | Client::Vscode => "${workspaceFolder}",
        Client::Claude | Client::Codex | Client::Windsurf => ".",
    }
}

/// The JSON server entry; `type` is required by VS Code and accepted by the others.
pub fn json_entry(repo: &str) -> Map<String, Value> {
    let v = json!({"type": "stdio", "command": COMMAND, "args": ["serve", "--repo", repo]});
    v.as_object().cloned().unwrap_or_default()
}

/// Plans one client's files; returns text to print when the client's
/// config is not in the repository (Windsurf's is global).
pub(super) fn plan_client(p: &mut Planner<'_>, client: Client, repo_abs: &Path, section: &str) -> Result<Option<String>, CheckError> {
    let entry = json_entry(repo_arg(client));
    match client {
        Client::Cursor => {
            p.edit(".cursor/mcp.json", |old| upsert_server(old, "mcpServers", SERVER_NAME, &entry))?;
            p.edit(".cursor/rules/billguard.mdc", |_| Ok(CURSOR_RULE.to_string()))?;
        }
        Client::Claude => {
            p.edit(".mcp.json", |old| upsert_server(old, "mcpServers", SERVER_NAME, &entry))?;
            // Claude Code reads ./CLAUDE.md or ./.claude/CLAUDE.md: update the one in use.
            let claude_md = if !p.exists("CLAUDE.md") && p.exists(".claude/CLAUDE.md") { ".claude/CLAUDE.md" } else { "CLAUDE.md" };
            p.edit(claude_md, |old| upsert_section(old, section))?;
            if p.exists("AGENTS.md") {
                p.edit("AGENTS.md", |old| upsert_section(old, section))?;
            }
        }
        Client::Vscode => {
            p.edit(".vscode/mcp.json", |old| upsert_server(old, "servers", SERVER_NAME, &entry))?;
        }
        Client::Codex => {
            let args = ["serve", "--repo", repo_arg(client)];
            p.edit(".codex/config.toml", |old| upsert_codex_server(old, SERVER_NAME, COMMAND, &args))?;
            p.edit("AGENTS.md", |old| upsert_section(old, section))?;
        }
        Client::Windsurf => return Ok(Some(windsurf_snippet(repo_abs))),
    }
    Ok(None)
}

/// Windsurf reads MCP servers only from the user's global config, where a
/// relative `--repo` would not mean this repository: the snippet names it.
fn windsurf_snippet(repo_abs: &Path) -> String {
    // Windsurf's documented entry has no `type`; stdio is implied by `command`.
    let mut entry = json_entry(&repo_abs.display().to_string());
    entry.shift_remove("type");
    let doc = json!({"mcpServers": {SERVER_NAME: entry}});
    format!(
        "Windsurf: its MCP config is global, so init does not write it. Add this to\n\
         ~/.codeium/windsurf/mcp_config.json (merge into an existing \"mcpServers\"), then refresh\n\
         the MCP servers in Windsurf's Cascade panel:\n\n{}\n",
        serde_json::to_string_pretty(&doc).unwrap_or_default()
    )
}

pub fn next_steps(clients: &[Client]) -> String {
    let mut out = String::from("Next: make sure `billguard` is on PATH (cargo install --path . in billguard's checkout), then\n");
    for client in clients {
        let line = match client {
            Client::Cursor => "Cursor: open the repository; enable the billguard server under Settings > MCP if asked.",
            Client::Claude => "Claude Code: start `claude` in the repository and approve the project server billguard.",
            Client::Vscode => "VS Code: open the repository, start billguard from .vscode/mcp.json, use Copilot agent mode.",
            Client::Codex => "Codex: trust the project (Codex reads .codex/config.toml only in trusted projects).",
            Client::Windsurf => "Windsurf: add the snippet above and refresh its MCP servers.",
        };
        out.push_str("  - ");
        out.push_str(line);
        out.push('\n');
    }
    out.push_str(
        "The agent then has billguard's tools (check_all, check_access_contract, check_key_mode,\n\
         diff_webhook_handler) and the guidance to run them before a billing pull request.\n",
    );
    out
}
