//! What a repository already uses: its editors (which clients to set up) and
//! its billing stack (what the starter billguard.toml says). Reads manifests
//! and env files; from env files it keeps variable names only, never values.

use std::collections::BTreeMap;
use std::path::Path;

use regex::Regex;

use super::Client;

/// Clients whose files are present, with the file that gave each away.
pub fn detect_clients(repo: &Path) -> (Vec<Client>, Vec<String>) {
    let mut found = Vec::new();
    let mut reasons = Vec::new();
    let mut add = |client: Client, reason: String| {
        if !found.contains(&client) {
            found.push(client);
            reasons.push(reason);
        }
    };
    let is_dir = |rel: &str| repo.join(rel).is_dir();
    let exists = |rel: &str| repo.join(rel).exists();
    if is_dir(".cursor") {
        add(Client::Cursor, ".cursor/".into());
    }
    for (rel, shown) in [(".mcp.json", ".mcp.json"), ("CLAUDE.md", "CLAUDE.md"), (".claude", ".claude/")] {
        if exists(rel) {
            add(Client::Claude, shown.into());
        }
    }
    if is_dir(".vscode") {
        add(Client::Vscode, ".vscode/".into());
    }
    if is_dir(".codex") {
        add(Client::Codex, ".codex/".into());
    }
    if let Some(name) = root_names(repo).into_iter().find(|n| n.starts_with(".windsurf")) {
        add(Client::Windsurf, name);
    }
    (found, reasons)
}

fn root_names(repo: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(repo)
        .map(|rd| rd.filter_map(Result::ok).map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    names.sort();
    names
}

/// A fact and the file (and what in it) it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sourced<T> {
    pub value: T,
    pub from: String,
}

fn sourced<T>(value: T, from: impl Into<String>) -> Sourced<T> {
    Sourced { value, from: from.into() }
}

/// The users table as an ORM schema describes it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserTable {
    pub table: String,
    pub id: Option<String>,
    pub customer_id: Option<String>,
    pub access: Option<String>,
    pub plan: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Stack {
    /// "stripe", "paddle" or "lemonsqueezy", in the order found.
    pub providers: Vec<Sourced<&'static str>>,
    /// "postgresql", "mysql" or "sqlite".
    pub databases: Vec<Sourced<&'static str>>,
    /// Prefixes that put a variable in the browser bundle.
    pub browser_prefixes: Vec<Sourced<&'static str>>,
    pub database_url_env: Option<Sourced<String>>,
    pub user_table: Option<Sourced<UserTable>>,
    /// Things worth a comment (frameworks whose schema init cannot read).
    pub notes: Vec<Sourced<&'static str>>,
    /// Env file names at the repo root, sorted.
    pub env_files: Vec<String>,
    /// Variable name -> the first env file that declares it.
    pub env_names: BTreeMap<String, String>,
}

impl Stack {
    fn provider(&mut self, name: &'static str, from: String) {
        if !self.providers.iter().any(|p| p.value == name) {
            self.providers.push(sourced(name, from));
        }
    }

    fn database(&mut self, name: &'static str, from: String) {
        if !self.databases.iter().any(|p| p.value == name) {
            self.databases.push(sourced(name, from));
        }
    }

    fn browser(&mut self, prefix: &'static str, from: String) {
        if !self.browser_prefixes.iter().any(|p| p.value == prefix) {
            self.browser_prefixes.push(sourced(prefix, from));
        }
    }

    /// One line per fact, for init's summary.
    pub fn facts(&self) -> Vec<String> {
        let mut out = Vec::new();
        out.extend(self.providers.iter().map(|p| format!("billing: {} ({})", p.value, p.from)));
        out.extend(self.databases.iter().map(|d| format!("database: {} ({})", d.value, d.from)));
        if let Some(u) = &self.user_table {
            out.push(format!("users table: {} ({})", u.value.table, u.from));
        }
        if let Some(e) = &self.database_url_env {
            out.push(format!("database URL variable: {} ({})", e.value, e.from));
        }
        out.extend(self.browser_prefixes.iter().map(|b| format!("browser-exposed prefix: {} ({})", b.value, b.from)));
        if !self.env_files.is_empty() {
            out.push(format!("env files: {} (variable names only)", self.env_files.join(", ")));
        }
        out
    }
}

/// Reads the manifests, schemas and env files billguard knows.
pub fn detect_stack(repo: &Path) -> Stack {
    detect_stack_in(repo, repo, &std::cell::OnceCell::new())
}

/// Schema files as (path relative to the root, text).
pub type SchemaFiles = Vec<(String, String)>;

/// The stack of the app in `dir` (the repository root or an app below it):
/// manifests and env files from `dir`; the schema from `dir`, else from the
/// whole repository (a monorepo's shared `packages/db`), read once into `shared`.
pub fn detect_stack_in(root: &Path, dir: &Path, shared: &std::cell::OnceCell<SchemaFiles>) -> Stack {
    let mut stack = Stack::default();
    let read = |rel: &str| super::schema_files::read_bounded(&dir.join(rel));
    if let Some(text) = read("package.json") {
        from_package_json(&mut stack, &text);
    }
    let read_tables = |files: &SchemaFiles| crate::app_schema::read_tables(files.iter().map(|(p, t)| (p.as_str(), t.as_str())));
    let own = if dir == root { shared.get_or_init(|| super::schema_files::find(root, root)).clone() } else { super::schema_files::find(root, dir) };
    let mut files = &own;
    let mut tables = read_tables(files);
    if crate::app_schema::pick_billing_table(&tables).is_none() && dir != root {
        files = shared.get_or_init(|| super::schema_files::find(root, root));
        tables = read_tables(files);
    }
    for (rel, text) in files.iter().filter(|(p, _)| p.ends_with(".prisma")) {
        from_prisma(&mut stack, text, rel);
    }
    stack.user_table = user_table(&tables);
    for rel in ["requirements.txt", "pyproject.toml"] {
        if let Some(text) = read(rel) {
            from_python(&mut stack, &text, rel);
        }
    }
    if let Some(text) = read("Gemfile") {
        from_gemfile(&mut stack, &text);
    }
    if let Some(text) = read("composer.json") {
        from_composer(&mut stack, &text);
    }
    if let Some(text) = read("go.mod") {
        from_go_mod(&mut stack, &text);
    }
    for name in root_names(dir) {
        if name.starts_with(".env") && dir.join(&name).is_file() {
            if let Some(text) = read(&name) {
                for var in env_names(&text) {
                    stack.env_names.entry(var).or_insert_with(|| name.clone());
                }
            }
            stack.env_files.push(name);
        }
    }
    if stack.database_url_env.is_none()
        && let Some((name, file)) = pick_env(&stack.env_names, &["DATABASE_URL", "POSTGRES_URL", "POSTGRES_PRISMA_URL", "MYSQL_URL", "DB_URL"])
    {
        stack.database_url_env = Some(sourced(name, format!("declared in {file}")));
    }
    stack
}

fn from_package_json(stack: &mut Stack, text: &str) {
    let Ok(json) = serde_json::from_str::<serde_json::Value>(text) else { return };
    let deps: Vec<&str> = ["dependencies", "devDependencies"]
        .iter()
        .filter_map(|k| json.get(*k).and_then(|d| d.as_object()))
        .flat_map(|m| m.keys().map(String::as_str))
        .collect();
    for dep in deps {
        let from = format!("package.json dependency `{dep}`");
        match dep {
            "stripe" => stack.provider("stripe", from),
            "@paddle/paddle-node-sdk" => stack.provider("paddle", from),
            d if d.starts_with("@lemonsqueezy/") => stack.provider("lemonsqueezy", from),
            "pg" | "postgres" | "@neondatabase/serverless" | "@vercel/postgres" => stack.database("postgresql", from),
            "mysql2" => stack.database("mysql", from),
            "better-sqlite3" => stack.database("sqlite", from),
            "next" => stack.browser("NEXT_PUBLIC_", from),
            "vite" => stack.browser("VITE_", from),
            "react-scripts" => stack.browser("REACT_APP_", from),
            _ => {}
        }
    }
}

/// Prisma: the datasource (provider, url env) and the User model's columns.
fn from_prisma(stack: &mut Stack, text: &str, rel: &str) {
    for (kind, _name, body) in blocks(text) {
        if kind == "datasource" {
            let provider = capture(body, r#"(?m)^\s*provider\s*=\s*"([^"]+)""#);
            let db = match provider.as_deref() {
                Some("postgresql" | "postgres" | "cockroachdb") => Some("postgresql"),
                Some("mysql") => Some("mysql"),
                Some("sqlite") => Some("sqlite"),
                _ => None,
            };
            if let Some(db) = db {
                stack.database(db, format!("{rel} datasource provider"));
            }
            if let Some(var) = capture(body, r#"(?m)^\s*url\s*=\s*env\(\s*"([A-Za-z_][A-Za-z0-9_]*)"\s*\)"#) {
                stack.database_url_env.get_or_insert_with(|| sourced(var.clone(), format!("{rel} datasource url = env(\"{var}\")")));
            }
        }
    }
}

/// The table billing maps to and its columns, by the one shared classifier,
/// with the file it came from.
fn user_table(tables: &[crate::app_schema::Table]) -> Option<Sourced<UserTable>> {
    let t = crate::app_schema::pick_billing_table(tables)?;
    let c = crate::app_schema::classify(t);
    let first = t.files.first()?;
    let mut from = match &t.model {
        Some(m) => format!("{first} model {m}"),
        None => format!("{first} table {}", t.name),
    };
    if t.files.len() > 1 {
        from.push_str(&format!(", columns added in {}", t.files[1..].join(", ")));
    }
    let value = UserTable { table: t.name.clone(), id: c.id, customer_id: c.customer_id, access: c.access, plan: c.plan };
    Some(sourced(value, from))
}

/// `kind name { body }` blocks of a Prisma schema.
fn blocks(text: &str) -> Vec<(&str, &str, &str)> {
    let re = Regex::new(r"(?m)^\s*(datasource)\s+(\w+)\s*\{").expect("valid regex");
    re.captures_iter(text)
        .filter_map(|c| {
            let start = c.get(0)?.end();
            let end = start + text[start..].find('}')?;
            Some((c.get(1)?.as_str(), c.get(2)?.as_str(), &text[start..end]))
        })
        .collect()
}

fn capture(text: &str, pattern: &str) -> Option<String> {
    Regex::new(pattern).ok()?.captures(text)?.get(1).map(|m| m.as_str().to_string())
}

/// Whether a manifest names a package (a whole name, not a prefix of another).
fn mentions(text: &str, package: &str) -> bool {
    let pattern = format!(r"(?im)(^|[^A-Za-z0-9_.\-/]){}([^A-Za-z0-9_.\-/]|$)", regex::escape(package));
    Regex::new(&pattern).is_ok_and(|re| re.is_match(text))
}

fn from_python(stack: &mut Stack, text: &str, rel: &str) {
    let from = |p: &str| format!("{rel} requires `{p}`");
    if mentions(text, "stripe") {
        stack.provider("stripe", from("stripe"));
    }
    for p in ["paddle-billing", "paddle_billing"] {
        if mentions(text, p) {
            stack.provider("paddle", from(p));
        }
    }
    for p in ["psycopg", "psycopg2", "psycopg2-binary", "psycopg-binary", "asyncpg"] {
        if mentions(text, p) {
            stack.database("postgresql", from(p));
        }
    }
    for p in ["mysqlclient", "pymysql"] {
        if mentions(text, p) {
            stack.database("mysql", from(p));
        }
    }
    if mentions(text, "django") {
        stack.notes.push(sourced("django", from("django")));
    }
    if mentions(text, "dj-stripe") {
        stack.notes.push(sourced("dj-stripe", from("dj-stripe")));
    }
}

fn from_gemfile(stack: &mut Stack, text: &str) {
    let gem = |name: &str| Regex::new(&format!(r#"(?m)^\s*gem\s+["']{}["']"#, regex::escape(name))).is_ok_and(|re| re.is_match(text));
    let from = |g: &str| format!("Gemfile gem `{g}`");
    if gem("stripe") {
        stack.provider("stripe", from("stripe"));
    }
    if gem("pay") {
        stack.notes.push(sourced("pay", from("pay")));
    }
    if gem("pg") {
        stack.database("postgresql", from("pg"));
    }
    if gem("mysql2") {
        stack.database("mysql", from("mysql2"));
    }
    if gem("sqlite3") {
        stack.database("sqlite", from("sqlite3"));
    }
}

fn from_composer(stack: &mut Stack, text: &str) {
    let Ok(json) = serde_json::from_str::<serde_json::Value>(text) else { return };
    let names: Vec<&str> = ["require", "require-dev"]
        .iter()
        .filter_map(|k| json.get(*k).and_then(|d| d.as_object()))
        .flat_map(|m| m.keys().map(String::as_str))
        .collect();
    for name in names {
        let from = format!("composer.json requires `{name}`");
        match name {
            "stripe/stripe-php" => stack.provider("stripe", from),
            "laravel/cashier" => {
                stack.provider("stripe", from.clone());
                stack.notes.push(sourced("laravel/cashier", from));
            }
            "laravel/cashier-paddle" => {
                stack.provider("paddle", from.clone());
                stack.notes.push(sourced("laravel/cashier-paddle", from));
            }
            _ => {}
        }
    }
}

fn from_go_mod(stack: &mut Stack, text: &str) {
    let from = |m: &str| format!("go.mod requires {m}");
    for (module, what) in [
        ("github.com/stripe/stripe-go", "stripe"),
        ("github.com/PaddleHQ/paddle-go-sdk", "paddle"),
        ("github.com/lib/pq", "postgresql"),
        ("github.com/jackc/pgx", "postgresql"),
        ("github.com/go-sql-driver/mysql", "mysql"),
        ("github.com/mattn/go-sqlite3", "sqlite"),
    ] {
        if text.contains(module) {
            match what {
                "stripe" | "paddle" => stack.provider(what, from(module)),
                _ => stack.database(what, from(module)),
            }
        }
    }
}

/// Variable names declared in a dotenv file; values are not kept.
fn env_names(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|line| {
            let line = line.trim();
            let line = line.strip_prefix("export ").unwrap_or(line);
            let (name, _) = line.split_once('=')?;
            let name = name.trim();
            let valid = !name.is_empty()
                && name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            valid.then(|| name.to_string())
        })
        .collect()
}

/// The first of `wanted` that some env file declares.
pub fn pick_env(names: &BTreeMap<String, String>, wanted: &[&str]) -> Option<(String, String)> {
    wanted.iter().find_map(|w| names.get(*w).map(|file| (w.to_string(), file.clone())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prisma_user_model_maps_columns() {
        let schema = r#"
datasource db {
  provider = "postgresql"
  url      = env("PG_URL")
}
model User {
  id               String  @id @default(cuid())
  email            String  @unique
  stripeCustomerId String? @map("stripe_customer_id")
  hasPaidAccess    Boolean @default(false) @map("has_paid_access")
  plan             String?
  posts            Post[]
  @@map("users")
}
"#;
        let mut stack = Stack::default();
        from_prisma(&mut stack, schema, "prisma/schema.prisma");
        assert_eq!(stack.databases[0].value, "postgresql");
        assert_eq!(stack.database_url_env.as_ref().unwrap().value, "PG_URL");
        let tables = crate::app_schema::read_tables([("prisma/schema.prisma", schema)]);
        let users = user_table(&tables).unwrap();
        assert_eq!(users.from, "prisma/schema.prisma model User");
        let users = &users.value;
        assert_eq!(users.table, "users");
        assert_eq!(users.id.as_deref(), Some("id"));
        assert_eq!(users.customer_id.as_deref(), Some("stripe_customer_id"));
        assert_eq!(users.access.as_deref(), Some("has_paid_access"));
        assert_eq!(users.plan.as_deref(), Some("plan"));
    }

    #[test]
    fn manifests_name_whole_packages() {
        assert!(mentions("stripe==7.0\ndjango>=4", "stripe"));
        assert!(!mentions("stripe-mock==1\n", "stripe"));
        assert!(mentions("dependencies = [\"psycopg[binary]>=3\"]", "psycopg"));
        let mut stack = Stack::default();
        from_gemfile(&mut stack, "source 'https://rubygems.org'\ngem 'pay', '~> 7'\ngem \"stripe\"\n");
        assert_eq!(stack.providers[0].value, "stripe");
        assert_eq!(stack.notes[0].value, "pay");
        let mut stack = Stack::default();
        from_go_mod(&mut stack, "require github.com/stripe/stripe-go/v82 v82.0.0\n");
        assert_eq!(stack.providers[0].value, "stripe");
    }

    #[test]
    fn env_files_give_names_only() {
        assert_eq!(env_names("# c\nexport STRIPE_SECRET_KEY=abc\nBAD NAME=1\nDATABASE_URL = x\n"), ["STRIPE_SECRET_KEY", "DATABASE_URL"]);
    }
}
