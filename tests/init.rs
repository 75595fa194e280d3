//! `billguard init` as a user runs it: real files in temp repos, the built binary.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use billguard::config::Config;
use billguard::init::{AGENTS_SECTION, CURSOR_RULE, END_MARKER, START_MARKER};
use serde_json::Value;

fn init(dir: &Path, flags: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_billguard")).arg("init").args(flags).arg("--repo").arg(dir).output().expect("run billguard")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn ok(o: &Output) -> String {
    assert_eq!(o.status.code(), Some(0), "stdout: {}\nstderr: {}", stdout(o), stderr(o));
    stdout(o)
}

fn write(dir: &Path, rel: &str, text: &str) {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn read(dir: &Path, rel: &str) -> String {
    std::fs::read_to_string(dir.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn json(dir: &Path, rel: &str) -> Value {
    serde_json::from_str(&read(dir, rel)).unwrap_or_else(|e| panic!("{rel} is not JSON: {e}"))
}

/// Every file under `dir` (relative path -> bytes), to compare runs.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.insert(path.strip_prefix(dir).unwrap().to_path_buf(), std::fs::read(&path).unwrap());
            }
        }
    }
    out
}

fn server_args(entry: &Value) -> Vec<&str> {
    entry["args"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()).collect()
}

#[test]
fn nothing_detected_sets_up_cursor_and_claude_code() {
    let repo = tempfile::tempdir().unwrap();
    let out = ok(&init(repo.path(), &[]));
    assert!(out.contains("No editor configuration found"), "{out}");
    assert!(out.contains("setting up Cursor and Claude Code"), "{out}");
    for rel in [".cursor/mcp.json", ".cursor/rules/billguard.mdc", ".mcp.json", "CLAUDE.md", "billguard.toml"] {
        assert!(out.lines().any(|l| l.contains("created") && l.contains(rel)), "{rel} created: {out}");
    }
    let cursor = json(repo.path(), ".cursor/mcp.json");
    assert_eq!(cursor["mcpServers"]["billguard"]["type"], "stdio");
    assert_eq!(server_args(&cursor["mcpServers"]["billguard"]), ["serve", "--repo", "${workspaceFolder}"]);
    let claude = json(repo.path(), ".mcp.json");
    assert_eq!(claude["mcpServers"]["billguard"]["command"], "billguard");
    assert_eq!(server_args(&claude["mcpServers"]["billguard"]), ["serve", "--repo", "."]);
    assert_eq!(read(repo.path(), ".cursor/rules/billguard.mdc"), CURSOR_RULE);
    assert_eq!(read(repo.path(), "CLAUDE.md"), AGENTS_SECTION);
    assert!(!repo.path().join("AGENTS.md").exists(), "AGENTS.md only when it exists or with --codex");
    assert!(!repo.path().join(".vscode").exists() && !repo.path().join(".codex").exists());
    assert!(out.contains("Next:"), "{out}");
}

#[test]
fn the_cursor_rule_has_valid_front_matter_and_covers_the_tools() {
    let front = CURSOR_RULE.strip_prefix("---\n").and_then(|r| r.split_once("\n---\n")).map(|(f, _)| f).expect("front matter");
    let field = |name: &str| front.lines().find_map(|l| l.strip_prefix(&format!("{name}: "))).unwrap_or_else(|| panic!("{name}"));
    assert!(!field("description").is_empty());
    let globs = field("globs");
    assert!(!globs.contains('[') && !globs.contains('"') && !globs.contains(' '), "comma-separated, no brackets: {globs}");
    for wanted in ["webhook", "billing", ".env", "billguard.toml"] {
        assert!(globs.split(',').any(|g| g.contains(wanted)), "{wanted} in {globs}");
    }
    assert_eq!(field("alwaysApply"), "false");
    for text in [CURSOR_RULE, AGENTS_SECTION] {
        for needle in ["check_access_contract", "check_key_mode", "diff_webhook_handler", "check_all", "billguard rules CODE", "billguard://rules/{code}", "high", "env"] {
            assert!(text.contains(needle), "{needle}");
        }
    }
    assert!(AGENTS_SECTION.starts_with(START_MARKER) && AGENTS_SECTION.trim_end().ends_with(END_MARKER));
}

#[test]
fn a_second_run_changes_nothing() {
    let repo = tempfile::tempdir().unwrap();
    write(repo.path(), "package.json", r#"{"dependencies": {"stripe": "18"}}"#);
    let all = ["--cursor", "--claude", "--vscode", "--codex", "--windsurf"];
    ok(&init(repo.path(), &all));
    let first = snapshot(repo.path());
    let out = ok(&init(repo.path(), &all));
    assert_eq!(snapshot(repo.path()), first, "byte-identical files after the second run");
    let rows: Vec<&str> = out.lines().skip_while(|l| !l.starts_with("billguard init for")).skip(1).take_while(|l| !l.trim().is_empty()).collect();
    assert!(rows.len() >= 7, "{out}");
    assert!(rows.iter().all(|l| l.trim_start().starts_with("unchanged")), "{out}");
}

#[test]
fn existing_entries_and_text_survive() {
    let repo = tempfile::tempdir().unwrap();
    let dir = repo.path();
    write(dir, ".cursor/mcp.json", r#"{"mcpServers": {"github": {"command": "gh-mcp", "args": []}}}"#);
    write(dir, ".mcp.json", r#"{"mcpServers": {"db": {"command": "pg-mcp"}, "billguard": {"command": "old", "env": {"BILLGUARD_LOG": "debug"}}}, "other": true}"#);
    write(
        dir,
        ".vscode/mcp.json",
        r#"{"inputs": [{"type": "promptString", "id": "token", "password": true}], "servers": {"gh": {"type": "http", "url": "https://example.com/mcp"}}}"#,
    );
    write(dir, ".codex/config.toml", "# personal settings\nmodel = \"o3\" # fast enough\n\n[mcp_servers.docs]\ncommand = \"docs-mcp\"\n\n[profiles.ci]\napproval_policy = \"never\"\n");
    write(dir, "CLAUDE.md", "# Project notes\n\nUse pnpm.\n");
    write(dir, "AGENTS.md", "# Agents\n\nRun the tests.\n");
    let out = ok(&init(dir, &["--cursor", "--claude", "--vscode", "--codex"]));
    for rel in [".cursor/mcp.json", ".mcp.json", ".vscode/mcp.json", ".codex/config.toml", "CLAUDE.md", "AGENTS.md"] {
        assert!(out.lines().any(|l| l.contains("updated") && l.contains(rel)), "{rel} updated: {out}");
    }

    let cursor = json(dir, ".cursor/mcp.json");
    assert_eq!(cursor["mcpServers"]["github"]["command"], "gh-mcp");
    assert_eq!(cursor["mcpServers"]["billguard"]["command"], "billguard");
    let claude = json(dir, ".mcp.json");
    assert_eq!(claude["mcpServers"]["db"]["command"], "pg-mcp");
    assert_eq!(claude["mcpServers"]["billguard"]["command"], "billguard");
    assert_eq!(claude["mcpServers"]["billguard"]["env"]["BILLGUARD_LOG"], "debug", "keys billguard does not own stay");
    assert_eq!(claude["other"], true);
    let keys: Vec<&String> = claude["mcpServers"].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["db", "billguard"], "order kept");
    let vscode = json(dir, ".vscode/mcp.json");
    assert_eq!(vscode["inputs"][0]["id"], "token");
    assert_eq!(vscode["servers"]["gh"]["url"], "https://example.com/mcp");
    assert_eq!(vscode["servers"]["billguard"]["type"], "stdio");
    assert_eq!(server_args(&vscode["servers"]["billguard"]), ["serve", "--repo", "${workspaceFolder}"]);
    assert!(vscode.get("mcpServers").is_none(), "VS Code's key is `servers`");

    let codex_text = read(dir, ".codex/config.toml");
    assert!(codex_text.starts_with("# personal settings\nmodel = \"o3\" # fast enough\n"), "{codex_text}");
    let codex: toml::Table = toml::from_str(&codex_text).unwrap();
    assert_eq!(codex["mcp_servers"]["docs"]["command"].as_str(), Some("docs-mcp"));
    assert_eq!(codex["mcp_servers"]["billguard"]["command"].as_str(), Some("billguard"));
    assert_eq!(codex["profiles"]["ci"]["approval_policy"].as_str(), Some("never"));

    for (rel, before) in [("CLAUDE.md", "# Project notes\n\nUse pnpm.\n"), ("AGENTS.md", "# Agents\n\nRun the tests.\n")] {
        let text = read(dir, rel);
        assert!(text.starts_with(before), "{rel}: {text}");
        assert!(text.contains(AGENTS_SECTION), "{rel}: {text}");
        // Text the person adds after the section stays there on later runs.
        std::fs::write(dir.join(rel), format!("{text}\n## Later\n")).unwrap();
    }
    let again = snapshot(dir);
    let out = ok(&init(dir, &["--cursor", "--claude", "--vscode", "--codex"]));
    assert_eq!(snapshot(dir), again, "{out}");
    assert_eq!(read(dir, "CLAUDE.md").matches(START_MARKER).count(), 1);
    assert_eq!(read(dir, "AGENTS.md").matches(START_MARKER).count(), 1, "Claude Code and Codex share one section");
}

#[test]
fn an_outdated_section_is_replaced_in_place() {
    let repo = tempfile::tempdir().unwrap();
    write(repo.path(), "CLAUDE.md", &format!("Intro\n\n{START_MARKER}\nold advice\n{END_MARKER}\n\nOutro\n"));
    let out = ok(&init(repo.path(), &["--claude"]));
    assert!(out.contains("updated") && out.contains("CLAUDE.md"), "{out}");
    assert_eq!(read(repo.path(), "CLAUDE.md"), format!("Intro\n\n{}\nOutro\n", AGENTS_SECTION));
}

#[test]
fn clients_are_detected_from_their_files() {
    let repo = tempfile::tempdir().unwrap();
    std::fs::create_dir(repo.path().join(".vscode")).unwrap();
    write(repo.path(), "CLAUDE.md", "# notes\n");
    let out = ok(&init(repo.path(), &[]));
    assert!(out.contains("Detected Claude Code, VS Code"), "{out}");
    assert!(repo.path().join(".vscode/mcp.json").is_file() && repo.path().join(".mcp.json").is_file());
    assert!(!repo.path().join(".cursor").exists(), "Cursor was not detected");

    // Claude Code also reads .claude/CLAUDE.md: the section goes where the notes already are.
    let repo = tempfile::tempdir().unwrap();
    write(repo.path(), ".claude/CLAUDE.md", "# notes\n");
    let out = ok(&init(repo.path(), &[]));
    assert!(out.contains("Detected Claude Code (.claude/)"), "{out}");
    assert!(read(repo.path(), ".claude/CLAUDE.md").contains(AGENTS_SECTION));
    assert!(!repo.path().join("CLAUDE.md").exists());

    let repo = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(repo.path().join(".codex")).unwrap();
    std::fs::create_dir_all(repo.path().join(".cursor")).unwrap();
    write(repo.path(), ".windsurfrules", "be nice\n");
    let out = ok(&init(repo.path(), &[]));
    assert!(out.contains("Detected Cursor, Codex, Windsurf"), "{out}");
    assert!(repo.path().join(".codex/config.toml").is_file() && repo.path().join("AGENTS.md").is_file());
    assert!(out.contains("~/.codeium/windsurf/mcp_config.json"), "{out}");
    let snippet_start = out.find("{\n").expect("a JSON snippet");
    let snippet_end = snippet_start + out[snippet_start..].find("\n}\n").unwrap() + 2;
    let snippet: Value = serde_json::from_str(&out[snippet_start..snippet_end]).unwrap();
    let keys: Vec<&String> = snippet["mcpServers"]["billguard"].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["command", "args"], "Windsurf's documented shape, in order");
    let abs = repo.path().canonicalize().unwrap();
    assert_eq!(server_args(&snippet["mcpServers"]["billguard"]), ["serve", "--repo", abs.to_str().unwrap()]);
    assert!(!repo.path().join(".codeium").exists(), "Windsurf's config is not written");
}

#[test]
fn malformed_configs_exit_2_and_nothing_is_written() {
    let cases = [
        (".mcp.json", "{\n  \"mcpServers\": {\n    \"db\": {\"command\": \"x\",}\n  }\n}\n", "--claude", ".mcp.json:3:"),
        (".vscode/mcp.json", "{\n  // comments\n  \"servers\": {}\n}\n", "--vscode", ".vscode/mcp.json:2:"),
        (".codex/config.toml", "model = \"o3\"\n[mcp_servers.docs\ncommand = \"x\"\n", "--codex", ".codex/config.toml:2:"),
    ];
    for (rel, text, flag, location) in cases {
        let repo = tempfile::tempdir().unwrap();
        write(repo.path(), rel, text);
        let before = snapshot(repo.path());
        let out = init(repo.path(), &["--cursor", flag]);
        assert_eq!(out.status.code(), Some(2), "{rel}: {}", stdout(&out));
        let err = stderr(&out);
        assert!(err.contains(location), "{rel}: names file, line and column: {err}");
        assert!(err.contains("nothing was written"), "{err}");
        assert_eq!(snapshot(repo.path()), before, "{rel}: no file written, not even Cursor's or billguard.toml");
    }
    let repo = tempfile::tempdir().unwrap();
    write(repo.path(), "CLAUDE.md", &format!("# x\n{START_MARKER}\nhalf a section\n"));
    let out = init(repo.path(), &["--claude"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("CLAUDE.md:2:"), "{}", stderr(&out));
    assert!(!repo.path().join(".mcp.json").exists());
}

#[test]
fn starter_config_reflects_a_prisma_postgres_next_stack_and_loads() {
    let repo = tempfile::tempdir().unwrap();
    let dir = repo.path();
    write(dir, "package.json", r#"{"dependencies": {"next": "15.1.0", "stripe": "^18.0.0", "@prisma/client": "6"}, "devDependencies": {"prisma": "6"}}"#);
    write(
        dir,
        "prisma/schema.prisma",
        "datasource db {\n  provider = \"postgresql\"\n  url      = env(\"POSTGRES_PRISMA_URL\")\n}\n\n\
         model User {\n  id               Int      @id @default(autoincrement())\n  email            String   @unique\n  \
         stripeCustomerId String?  @unique @map(\"stripe_customer_id\")\n  isPaid           Boolean  @default(false) @map(\"is_paid\")\n  \
         planName         String?  @map(\"plan_name\")\n  sessions         Session[]\n\n  @@map(\"app_users\")\n}\n",
    );
    write(dir, ".env.example", "STRIPE_RESTRICTED_KEY=\nSTRIPE_WEBHOOK_SECRET=\nPOSTGRES_PRISMA_URL=\n");
    let out = ok(&init(dir, &["--cursor"]));
    assert!(out.contains("billing: stripe (package.json"), "{out}");
    let config = Config::load(&dir.join("billguard.toml")).unwrap_or_else(|e| panic!("{e}\n{}", read(dir, "billguard.toml")));
    assert_eq!(config.billing.provider.as_str(), "stripe");
    assert_eq!(config.billing.secret_env, "STRIPE_RESTRICTED_KEY");
    assert_eq!(config.database.url_env, "POSTGRES_PRISMA_URL");
    assert_eq!(config.database.table, "app_users");
    assert_eq!(config.database.columns.id, "id");
    assert_eq!(config.database.columns.customer_id, "stripe_customer_id");
    assert_eq!(config.database.columns.access, "is_paid");
    assert_eq!(config.database.columns.plan.as_deref(), Some("plan_name"));
    let text = read(dir, "billguard.toml");
    assert!(text.contains("# postgresql: prisma/schema.prisma datasource provider"), "{text}");
    assert!(text.contains("NEXT_PUBLIC_") && text.contains("package.json dependency `next`"), "{text}");
    assert!(text.contains("declared in .env.example"), "{text}");
}

#[test]
fn starter_configs_for_other_stacks_load() {
    let stacks: [(&[(&str, &str)], &str); 5] = [
        (&[("requirements.txt", "Django>=5\nstripe==12.0\npsycopg[binary]==3.2\n")], "stripe"),
        (&[("pyproject.toml", "[project]\ndependencies = [\"paddle-billing>=1\", \"asyncpg\"]\n")], "paddle"),
        (&[("Gemfile", "source \"https://rubygems.org\"\ngem \"rails\"\ngem \"pay\", \"~> 8\"\ngem \"stripe\"\ngem \"pg\"\n")], "stripe"),
        (&[("composer.json", r#"{"require": {"laravel/framework": "^11", "laravel/cashier": "^15"}}"#)], "stripe"),
        (&[("go.mod", "module x\n\nrequire (\n\tgithub.com/stripe/stripe-go/v82 v82.1.0\n\tgithub.com/jackc/pgx/v5 v5.7.0\n)\n")], "stripe"),
    ];
    for (files, provider) in stacks {
        let repo = tempfile::tempdir().unwrap();
        for (rel, text) in files {
            write(repo.path(), rel, text);
        }
        ok(&init(repo.path(), &["--claude"]));
        let text = read(repo.path(), "billguard.toml");
        let config = Config::load(&repo.path().join("billguard.toml")).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(config.billing.provider.as_str(), provider, "{text}");
    }
    let repo = tempfile::tempdir().unwrap();
    write(repo.path(), "composer.json", r#"{"require": {"laravel/cashier": "^15"}}"#);
    ok(&init(repo.path(), &["--claude"]));
    let config = Config::load(&repo.path().join("billguard.toml")).unwrap();
    assert_eq!(config.database.columns.customer_id, "stripe_id", "Cashier's column");
}

#[test]
fn an_existing_billguard_toml_is_never_overwritten() {
    let repo = tempfile::tempdir().unwrap();
    write(repo.path(), "package.json", r#"{"dependencies": {"@paddle/paddle-node-sdk": "1"}}"#);
    write(repo.path(), "billguard.toml", "# mine\n[access]\npast_due_grace_days = 3\n");
    let out = ok(&init(repo.path(), &["--cursor"]));
    assert!(out.lines().any(|l| l.contains("unchanged") && l.contains("billguard.toml") && l.contains("never overwrites")), "{out}");
    assert_eq!(read(repo.path(), "billguard.toml"), "# mine\n[access]\npast_due_grace_days = 3\n");
}

#[test]
fn no_secret_from_env_files_reaches_any_written_file() {
    let repo = tempfile::tempdir().unwrap();
    let dir = repo.path();
    // Built at run time: billguard's own key check scans this repository.
    let live = ["sk", "live", "9pQ2mR7tXw4Lk8Zc3Vb6Nd1Hf5Jg"].join("_");
    let restricted = ["rk", "live", "51Hq8Zq2eZvKYlo2CQ9Xz7Ab"].join("_");
    let hook = ["whsec", "Q3xy8P0aLmN4vB7cR2tY6uI9oE1"].join("_");
    let paddle = ["pdl", "live", "apikey", "01gtgztp8f4kek3yd4g1wrksa3", "q7zVsWbK"].join("_");
    let password = ["hunter", "2", "Xy9"].concat();
    let db_url = format!("postgres://app:{password}@db.internal:5432/app");
    write(dir, "package.json", r#"{"dependencies": {"stripe": "18", "pg": "8"}}"#);
    // A URL written into the schema itself is not an env var: it must not be copied either.
    write(dir, "prisma/schema.prisma", &format!("datasource db {{\n  provider = \"postgresql\"\n  url = \"{db_url}\"\n}}\n"));
    write(dir, ".env", &format!("STRIPE_SECRET_KEY={live}\nDATABASE_URL={db_url}\nSTRIPE_WEBHOOK_SECRET={hook}\n"));
    write(dir, ".env.production", &format!("export STRIPE_RESTRICTED_KEY=\"{restricted}\"\nPADDLE_API_KEY={paddle}\n"));
    let inputs = [".env", ".env.production", "prisma/schema.prisma"].map(PathBuf::from);
    let out = ok(&init(dir, &["--cursor", "--claude", "--vscode", "--codex", "--windsurf"]));
    let secrets = [live.as_str(), restricted.as_str(), hook.as_str(), paddle.as_str(), password.as_str(), db_url.as_str()];
    for (path, bytes) in snapshot(dir).iter().filter(|(p, _)| !inputs.contains(p)) {
        let text = String::from_utf8_lossy(bytes);
        for secret in secrets {
            assert!(!text.contains(secret), "{} carries a value from an env file", path.display());
        }
        assert!(!text.contains("_live_") && !text.contains("postgres://app"), "{}: {text}", path.display());
    }
    for secret in secrets {
        assert!(!out.contains(secret), "stdout carries a value from an env file");
    }
    let config = Config::load(&dir.join("billguard.toml")).unwrap();
    assert_eq!(config.billing.secret_env, "STRIPE_RESTRICTED_KEY", "named, not copied");
    assert_eq!(config.database.url_env, "DATABASE_URL");
}

#[test]
fn a_drizzle_repo_gives_the_users_table_and_its_columns() {
    let repo = tempfile::tempdir().unwrap();
    let dir = repo.path();
    write(dir, "package.json", r#"{"dependencies": {"stripe": "18", "drizzle-orm": "0.40", "postgres": "3"}}"#);
    write(
        dir,
        "src/db/schema.ts",
        "import { pgTable, serial, text, boolean, varchar } from 'drizzle-orm/pg-core';\n\n\
         export const posts = pgTable('posts', {\n  id: serial('id').primaryKey(),\n  title: text('title'),\n});\n\n\
         export const users = pgTable('users', {\n  id: serial('id').primaryKey(),\n  email: text('email').notNull(),\n  \
         stripeCustomerId: text('stripe_customer_id').unique(),\n  hasAccess: boolean('has_access').default(false),\n  plan: varchar('plan', { length: 20 }),\n});\n",
    );
    let out = ok(&init(dir, &["--claude"]));
    assert!(out.contains("users table: users (src/db/schema.ts model users)"), "the summary names the file: {out}");
    let config = Config::load(&dir.join("billguard.toml")).unwrap_or_else(|e| panic!("{e}\n{}", read(dir, "billguard.toml")));
    assert_eq!(config.database.table, "users");
    assert_eq!(config.database.columns.id, "id");
    assert_eq!(config.database.columns.customer_id, "stripe_customer_id");
    assert_eq!(config.database.columns.access, "has_access");
    assert_eq!(config.database.columns.plan.as_deref(), Some("plan"));
}

#[test]
fn laravel_migrations_with_cashier_columns_and_a_django_user_model() {
    let repo = tempfile::tempdir().unwrap();
    let dir = repo.path();
    write(dir, "composer.json", r#"{"require": {"laravel/framework": "^11", "laravel/cashier": "^15"}}"#);
    write(
        dir,
        "database/migrations/0001_01_01_000000_create_users_table.php",
        "<?php\nreturn new class extends Migration {\n    public function up(): void\n    {\n        Schema::create('users', function (Blueprint $table) {\n            $table->id();\n            $table->string('email')->unique();\n            $table->string('plan')->default('free');\n            $table->timestamps();\n        });\n    }\n    public function down(): void\n    {\n        Schema::dropIfExists('users');\n    }\n};\n",
    );
    write(
        dir,
        "database/migrations/2019_05_03_000001_create_customer_columns.php",
        "<?php\nreturn new class extends Migration {\n    public function up(): void\n    {\n        Schema::table('users', function (Blueprint $table) {\n            $table->string('stripe_id')->nullable()->index();\n            $table->timestamp('trial_ends_at')->nullable();\n        });\n    }\n};\n",
    );
    let out = ok(&init(dir, &["--claude"]));
    assert!(
        out.contains("users table: users (database/migrations/0001_01_01_000000_create_users_table.php table users, columns added in database/migrations/2019_05_03_000001_create_customer_columns.php)"),
        "{out}"
    );
    let text = read(dir, "billguard.toml");
    let config = Config::load(&dir.join("billguard.toml")).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(config.database.columns.customer_id, "stripe_id");
    assert_eq!(config.database.columns.plan.as_deref(), Some("plan"));
    assert!(text.contains("# access = \"...\"   # not found in the model"), "no boolean: access left to the person: {text}");

    let repo = tempfile::tempdir().unwrap();
    let dir = repo.path();
    write(dir, "requirements.txt", "Django>=5\nstripe\n");
    write(
        dir,
        "accounts/models.py",
        "from django.contrib.auth.models import AbstractUser\nfrom django.db import models\n\n\
         class User(AbstractUser):\n    stripe_customer_id = models.CharField(max_length=255, blank=True)\n    has_paid_access = models.BooleanField(default=False)\n",
    );
    let out = ok(&init(dir, &["--claude"]));
    assert!(out.contains("users table: accounts_user (accounts/models.py model User)"), "{out}");
    let config = Config::load(&dir.join("billguard.toml")).unwrap();
    assert_eq!((config.database.table.as_str(), config.database.columns.access.as_str()), ("accounts_user", "has_paid_access"));
}

#[test]
fn a_schema_without_a_users_table_sets_none() {
    let repo = tempfile::tempdir().unwrap();
    let dir = repo.path();
    write(dir, "package.json", r#"{"dependencies": {"stripe": "18"}}"#);
    write(dir, "migrations/001_posts.sql", "CREATE TABLE posts (\n  id serial PRIMARY KEY,\n  title text\n);\n");
    write(dir, "src/lib/users.ts", "export const users = pgTable('users', { stripeCustomerId: text('stripe_customer_id') });\n");
    let out = ok(&init(dir, &["--claude"]));
    assert!(!out.contains("users table:"), "{out}");
    let text = read(dir, "billguard.toml");
    assert!(text.contains("# table = \"users\""), "left commented out: {text}");
    Config::load(&dir.join("billguard.toml")).unwrap();
}

#[test]
fn hostile_schema_files_are_skipped_without_a_crash() {
    let outside = tempfile::tempdir().unwrap();
    write(outside.path(), "schema.prisma", "model User {\n  id Int @id\n  stripeCustomerId String\n  isPro Boolean\n  @@map(\"stolen_users\")\n}\n");
    let repo = tempfile::tempdir().unwrap();
    let dir = repo.path();
    write(dir, "package.json", r#"{"dependencies": {"stripe": "18"}}"#);
    std::fs::create_dir_all(dir.join("prisma")).unwrap();
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(outside.path().join("schema.prisma"), dir.join("prisma/schema.prisma")).unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.join("db")).unwrap();
    }
    // Huge: a users table past the size cap is not read.
    let huge = format!("CREATE TABLE users (\n  id int PRIMARY KEY,\n  stripe_customer_id text,\n{}  x int\n);\n", "  pad int,\n".repeat(80_000));
    write(dir, "migrations/001_huge.sql", &huge);
    std::fs::write(dir.join("migrations/002_binary.sql"), b"CREATE TABLE users (id int PRIMARY KEY, stripe_customer_id text\0\xff\xfe);").unwrap();
    write(dir, "migrations/003_broken.sql", "CREATE TABLE users ((((((\"unterminated");
    let out = ok(&init(dir, &["--claude"]));
    assert!(!out.contains("stolen_users"), "a symlink out of the repository is not followed: {out}");
    assert!(!out.contains("users table:"), "{out}");
    Config::load(&dir.join("billguard.toml")).unwrap();
}

#[test]
fn secret_env_names_a_restricted_key_variable_and_init_says_how_to_make_one() {
    let repo = tempfile::tempdir().unwrap();
    let dir = repo.path();
    write(dir, "package.json", r#"{"dependencies": {"stripe": "18"}}"#);
    // The secret key comes first in the file; the read-only one is still the one named.
    write(dir, ".env.example", "STRIPE_SECRET_KEY=\nSTRIPE_WEBHOOK_SECRET=\nSTRIPE_BILLING_RK_READONLY=\n");
    let out = ok(&init(dir, &["--claude"]));
    let config = Config::load(&dir.join("billguard.toml")).unwrap();
    assert_eq!(config.billing.secret_env, "STRIPE_BILLING_RK_READONLY");
    for permission in ["rak_subscription_read", "rak_price_read", "rak_webhook_endpoint_read", "Create restricted key"] {
        assert!(out.contains(permission), "{permission}: {out}");
    }

    // Only the secret key: it is named, and the guidance says to make a restricted one.
    let repo = tempfile::tempdir().unwrap();
    write(repo.path(), "package.json", r#"{"dependencies": {"stripe": "18"}}"#);
    write(repo.path(), ".env.example", "STRIPE_SECRET_KEY=\nSTRIPE_WEBHOOK_SECRET=\nNEXT_PUBLIC_STRIPE_PUBLISHABLE_KEY=\n");
    let out = ok(&init(repo.path(), &["--claude"]));
    assert_eq!(Config::load(&repo.path().join("billguard.toml")).unwrap().billing.secret_env, "STRIPE_SECRET_KEY");
    assert!(out.contains("rak_subscription_read") && out.contains("STRIPE_RESTRICTED_KEY"), "{out}");

    // Paddle has no restricted Stripe key to make: no Stripe guidance.
    let repo = tempfile::tempdir().unwrap();
    write(repo.path(), "package.json", r#"{"dependencies": {"@paddle/paddle-node-sdk": "1"}}"#);
    let out = ok(&init(repo.path(), &["--claude"]));
    assert!(!out.contains("rak_"), "{out}");
}

#[test]
fn a_file_init_writes_that_git_ignores_is_warned_about() {
    let repo = tempfile::tempdir().unwrap();
    let dir = repo.path();
    let git = |args: &[&str]| assert!(Command::new("git").arg("-C").arg(dir).args(args).output().unwrap().status.success());
    git(&["init", "-q"]);
    write(dir, ".gitignore", "node_modules/\n.cursor/\n");
    let out = ok(&init(dir, &["--cursor", "--claude"]));
    assert!(out.contains("warning: git ignores .cursor/mcp.json (.gitignore:2:.cursor/)"), "{out}");
    assert!(out.contains("warning: git ignores .cursor/rules/billguard.mdc"), "{out}");
    assert!(!out.contains("git ignores .mcp.json") && !out.contains("git ignores billguard.toml"), "{out}");

    // Nothing ignored, or no git at all: no warning.
    let repo = tempfile::tempdir().unwrap();
    let out = ok(&init(repo.path(), &["--cursor"]));
    assert!(!out.contains("warning:"), "{out}");
}

#[test]
fn a_json_config_keeps_its_own_formatting() {
    let repo = tempfile::tempdir().unwrap();
    let dir = repo.path();
    let old = "{\n    \"mcpServers\": {\n        \"db\": { \"command\": \"pg-mcp\", \"args\": [\"--ro\"] }\n    },\n    \"other\": [1,2]\n}\n";
    write(dir, ".mcp.json", old);
    ok(&init(dir, &["--claude"]));
    let text = read(dir, ".mcp.json");
    assert!(text.starts_with("{\n    \"mcpServers\": {\n        \"db\": { \"command\": \"pg-mcp\", \"args\": [\"--ro\"] },\n        \"billguard\": {\n            \"type\": \"stdio\",\n"), "{text}");
    assert!(text.ends_with("        }\n    },\n    \"other\": [1,2]\n}\n"), "{text}");
    assert_eq!(json(dir, ".mcp.json")["mcpServers"]["billguard"]["command"], "billguard");
}

#[test]
fn a_monorepo_gets_one_config_per_billing_app_and_the_agent_is_told_which() {
    let repo = tempfile::tempdir().unwrap();
    let dir = repo.path();
    write(dir, "package.json", r#"{"private": true, "workspaces": ["apps/*", "packages/*"], "devDependencies": {"turbo": "2"}}"#);
    write(dir, "apps/web/package.json", r#"{"dependencies": {"next": "15", "stripe": "18", "@acme/db": "*"}}"#);
    write(dir, "apps/web/.env.example", "STRIPE_RESTRICTED_KEY=\nDATABASE_URL=\n");
    write(dir, "apps/docs/package.json", r#"{"dependencies": {"next": "15"}}"#);
    write(dir, "packages/db/package.json", r#"{"dependencies": {"drizzle-orm": "0.40"}}"#);
    write(
        dir,
        "packages/db/src/schema.ts",
        "export const users = pgTable('users', {\n  id: text('id').primaryKey(),\n  stripeCustomerId: text('stripe_customer_id'),\n  isPro: boolean('is_pro'),\n});\n",
    );
    let out = ok(&init(dir, &["--claude"]));
    assert!(!dir.join("billguard.toml").exists(), "the root does not bill: no root config: {out}");
    assert!(!dir.join("apps/docs/billguard.toml").exists() && !dir.join("packages/db/billguard.toml").exists(), "{out}");
    assert!(out.lines().any(|l| l.contains("created") && l.contains("apps/web/billguard.toml")), "{out}");
    assert!(out.contains("apps/web: users table: users (packages/db/src/schema.ts model users)"), "the shared schema package: {out}");
    assert!(out.contains("billguard check all --repo apps/web"), "{out}");
    assert!(out.contains("config = \"apps/web/billguard.toml\""), "{out}");
    let config = Config::load(&dir.join("apps/web/billguard.toml")).unwrap();
    assert_eq!(config.billing.secret_env, "STRIPE_RESTRICTED_KEY", "the app's own env files");
    assert_eq!((config.database.columns.customer_id.as_str(), config.database.columns.access.as_str()), ("stripe_customer_id", "is_pro"));
    let section = read(dir, "CLAUDE.md");
    assert!(section.contains("`apps/web`: `apps/web/billguard.toml`") && section.trim_end().ends_with(END_MARKER), "{section}");
    let first = snapshot(dir);
    ok(&init(dir, &["--claude"]));
    assert_eq!(snapshot(dir), first, "a second run changes nothing");

    // pnpm workspaces and Open SaaS's template/app; a root that bills keeps its own config too.
    let repo = tempfile::tempdir().unwrap();
    let dir = repo.path();
    write(dir, "package.json", r#"{"dependencies": {"stripe": "18"}}"#);
    write(dir, "pnpm-workspace.yaml", "packages:\n  - 'services/*'\n");
    write(dir, "services/billing/package.json", r#"{"dependencies": {"stripe": "18"}}"#);
    write(dir, "template/app/package.json", r#"{"dependencies": {"stripe": "18", "wasp": "0.16"}}"#);
    let out = ok(&init(dir, &["--claude"]));
    for rel in ["billguard.toml", "services/billing/billguard.toml", "template/app/billguard.toml"] {
        Config::load(&dir.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}\n{out}"));
    }

    // A single app at the root: no monorepo talk.
    let repo = tempfile::tempdir().unwrap();
    write(repo.path(), "package.json", r#"{"dependencies": {"stripe": "18"}}"#);
    write(repo.path(), "packages/ui/package.json", r#"{"dependencies": {"react": "19"}}"#);
    let out = ok(&init(repo.path(), &["--claude"]));
    assert!(!out.contains("Monorepo") && read(repo.path(), "CLAUDE.md") == AGENTS_SECTION, "{out}");
}
