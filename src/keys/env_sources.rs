//! Where environments come from: dotenv files (configured or discovered by
//! their conventional names), a command that prints the variables (run
//! locally with a timeout), and this process's own environment (`process`).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use super::dotenv::{self, Entry, Parsed};
use super::model::{Assignment, EnvKind, Environment, Origin};
use crate::config::KeysConfig;
use crate::secrets;

/// The environment name of this process's own variables.
pub const PROCESS: &str = "process";
const MAX_FILE: u64 = 4 << 20;

/// An environment named on the command line or in a tool call: `NAME` picks a
/// configured or discovered one, `NAME=FILE` defines one from a dotenv file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvSpec {
    pub name: String,
    pub file: Option<String>,
}

impl EnvSpec {
    pub fn parse(s: &str) -> Result<EnvSpec, String> {
        let (name, file) = match s.split_once('=') {
            Some((n, f)) => (n.trim(), Some(f.trim().to_string())),
            None => (s.trim(), None),
        };
        if name.is_empty() || file.as_deref() == Some("") {
            return Err(format!("`{s}` is not NAME or NAME=FILE (e.g. production=.env.production)"));
        }
        Ok(EnvSpec { name: name.to_string(), file })
    }
}

/// How to read one environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvPlan {
    pub name: String,
    pub kind: EnvKind,
    /// Repo-relative dotenv files, lowest precedence first.
    pub files: Vec<String>,
    pub command: Option<String>,
    pub process: bool,
    pub url: Option<String>,
}

impl EnvPlan {
    fn new(name: &str, kind: EnvKind) -> Self {
        EnvPlan { name: name.to_string(), kind, files: Vec::new(), command: None, process: false, url: None }
    }
}

/// What a dotenv file's name says: its environment, kind and precedence
/// (Next.js/Vite order: `.env` < `.env.NAME` < `.env.local` < `.env.NAME.local`).
pub fn dotenv_role(file_name: &str) -> Option<(String, EnvKind, u8)> {
    if file_name == ".env" {
        return Some(("development".into(), EnvKind::Development, 0));
    }
    let rest = file_name.strip_prefix(".env.")?;
    let parts: Vec<&str> = rest.split('.').collect();
    if parts.iter().any(|p| p.is_empty()) || matches!(parts[0], "vault" | "keys" | "me" | "enc" | "gpg" | "age") {
        return None;
    }
    // `.env.production-sample` is a template too: any word of the name says so.
    if parts.iter().flat_map(|p| p.split(|c: char| !c.is_ascii_alphanumeric())).any(|w| EnvKind::infer(w) == EnvKind::Template) {
        return Some((file_name.to_string(), EnvKind::Template, 0));
    }
    let local = parts.len() > 1 && parts[parts.len() - 1] == "local";
    let core = if local { parts[..parts.len() - 1].join(".") } else { parts.join(".") };
    if core == "local" {
        return Some(("development".into(), EnvKind::Development, 2));
    }
    // Wasp's development files: `.env.server` and `.env.client` hold one local environment.
    if core == "server" || core == "client" {
        return Some(("development".into(), EnvKind::Development, 1));
    }
    let kind = EnvKind::infer(&core);
    Some((core, kind, if local { 3 } else { 1 }))
}

/// Groups discovered dotenv files (repo-relative) into environments.
/// Files outside the root get their directory in the name (`apps/web:production`).
pub fn discovered_plans(files: &[String]) -> Vec<EnvPlan> {
    let mut groups: BTreeMap<String, (EnvKind, Vec<(u8, String)>)> = BTreeMap::new();
    for rel in files {
        let (dir, file) = match rel.rsplit_once('/') {
            Some((d, f)) => (d, f),
            None => ("", rel.as_str()),
        };
        let Some((name, kind, rank)) = dotenv_role(file) else { continue };
        let full = if dir.is_empty() { name } else { format!("{dir}:{name}") };
        let g = groups.entry(full).or_insert((kind, Vec::new()));
        g.1.push((rank, rel.clone()));
    }
    groups
        .into_iter()
        .map(|(name, (kind, mut files))| {
            files.sort();
            let mut p = EnvPlan::new(&name, kind);
            p.files = files.into_iter().map(|(_, f)| f).collect();
            p
        })
        .collect()
}

/// The kind of this process's environment: NODE_ENV, APP_ENV and the like.
fn process_kind() -> EnvKind {
    for var in ["BILLGUARD_ENV", "APP_ENV", "ENVIRONMENT", "RAILS_ENV", "RACK_ENV", "NODE_ENV", "MIX_ENV", "ENV"] {
        if let Ok(v) = std::env::var(var) {
            let k = EnvKind::infer(&v);
            if !matches!(k, EnvKind::Unknown | EnvKind::Template) {
                return k;
            }
        }
    }
    EnvKind::Development
}

/// Decides which environments are read and judged.
///
/// Configured environments replace discovery; explicit specs (`--env`,
/// `environments`) replace both; templates are always read for declared names.
pub fn plan(config: &KeysConfig, specs: &[EnvSpec], discovered: &[String]) -> Result<(Vec<EnvPlan>, Vec<String>), String> {
    let mut notes = Vec::new();
    let found = discovered_plans(discovered);
    let (templates, found): (Vec<_>, Vec<_>) = found.into_iter().partition(|p| p.kind == EnvKind::Template);
    let mut configured = Vec::new();
    for (name, ec) in &config.environments {
        let kind = match &ec.kind {
            Some(k) => EnvKind::parse(k).ok_or_else(|| {
                format!("[keys.environments.{name}] kind = \"{k}\" is not one of production, staging, development, test, template")
            })?,
            None if name == PROCESS => process_kind(),
            None => EnvKind::infer(name),
        };
        let mut p = EnvPlan::new(name, kind);
        p.files = ec.files.clone();
        p.command = ec.command.clone();
        p.process = match ec.from.as_deref() {
            None => name == PROCESS,
            Some(PROCESS) => true,
            Some(other) => {
                return Err(format!(
                    "[keys.environments.{name}] from = \"{other}\" is not known: use from = \"process\" (this process's variables, e.g. CI secrets), files or command"
                ));
            }
        };
        p.url = ec.url.clone();
        configured.push(p);
    }
    let base = if configured.is_empty() {
        found.clone()
    } else {
        let used: Vec<&String> = configured.iter().flat_map(|p| &p.files).collect();
        let unjudged: Vec<&str> = found.iter().flat_map(|p| &p.files).filter(|f| !used.contains(f)).map(String::as_str).collect();
        if !unjudged.is_empty() {
            notes.push(format!("not judged (not in [keys.environments]): {}", unjudged.join(", ")));
        }
        configured
    };
    let mut plans = if specs.is_empty() {
        base
    } else {
        let mut chosen = Vec::new();
        for spec in specs {
            let known = base.iter().chain(found.iter()).find(|p| p.name == spec.name);
            let mut p = match (known, spec.name.as_str()) {
                (Some(p), _) => p.clone(),
                (None, PROCESS) => {
                    let mut p = EnvPlan::new(PROCESS, process_kind());
                    p.process = true;
                    p
                }
                (None, _) if spec.file.is_some() => EnvPlan::new(&spec.name, EnvKind::infer(&spec.name)),
                (None, name) => {
                    let names: Vec<&str> = base.iter().chain(found.iter()).map(|p| p.name.as_str()).collect();
                    return Err(format!(
                        "no environment `{name}`: known are {}; give NAME=FILE to read a dotenv file, or `process` for this process's variables",
                        if names.is_empty() { "none".to_string() } else { names.join(", ") }
                    ));
                }
            };
            if let Some(file) = &spec.file {
                p.files = vec![file.clone()];
                p.command = None;
                p.process = false;
            }
            chosen.retain(|c: &EnvPlan| c.name != p.name);
            chosen.push(p);
        }
        chosen
    };
    for t in templates {
        if !plans.iter().any(|p| p.files.contains(&t.files[0])) {
            plans.push(t);
        }
    }
    Ok((plans, notes))
}

/// How sources are read.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    pub allow_commands: bool,
    pub command_timeout: Duration,
    pub cancel: Option<Arc<AtomicBool>>,
}

/// Reads one environment's sources. Problems become notes; nothing aborts.
pub fn load(plan: &EnvPlan, repo: &Path, opts: &LoadOptions, notes: &mut Vec<String>) -> Environment {
    let mut env = Environment::new(plan.name.clone(), plan.kind);
    env.url = plan.url.clone();
    for rel in &plan.files {
        env.sources.push(rel.clone());
        match read_dotenv_file(&repo.join(rel)) {
            Ok(parsed) => {
                env.complete = true;
                for w in parsed.warnings.iter().take(5) {
                    notes.push(format!("{rel}: {w}"));
                }
                if parsed.warnings.len() > 5 {
                    notes.push(format!("{rel}: {} more unreadable lines", parsed.warnings.len() - 5));
                }
                push_entries(&mut env, parsed.entries, |line| Origin::file(rel, line));
            }
            Err(e) => {
                notes.push(format!("{rel} ({}): {e}", plan.name));
                env.failed.push(rel.clone());
            }
        }
    }
    if let Some(cmd) = &plan.command {
        let label = format!("command `{}`", secrets::redact(cmd));
        env.sources.push(label.clone());
        if !opts.allow_commands {
            notes.push(format!(
                "{}: {label} not run: the MCP server runs [keys] commands only when started with `billguard serve --allow-commands` (the CLI runs them)",
                plan.name
            ));
            env.failed.push(label);
        } else {
            match super::command_source::run_command(cmd, repo, opts.command_timeout, opts.cancel.as_deref()) {
                Ok(text) => {
                    let parsed = parse_command_output(&text);
                    if parsed.entries.is_empty() {
                        // Nothing read is not an empty environment: judging it would be a silent pass.
                        notes.push(format!(
                            "{}: {label} printed no NAME=value lines or JSON object, so this environment was not judged; check the command prints the variables to stdout",
                            plan.name
                        ));
                        env.failed.push(label);
                    } else {
                        env.complete = true;
                        if parsed.entries.iter().all(|e| e.value.is_none()) {
                            notes.push(format!("{}: {label} lists names only, no values: which variables are set is judged, their modes are not", plan.name));
                        }
                        let source = label.clone();
                        push_entries(&mut env, parsed.entries, |_| Origin::other(source.clone()));
                    }
                }
                Err(e) => {
                    notes.push(format!("{}: {label} failed: {e}", plan.name));
                    env.failed.push(label);
                }
            }
        }
    }
    if plan.process {
        env.sources.push("process environment".into());
        env.complete = true;
        let mut skipped = 0;
        for (k, v) in std::env::vars_os() {
            match (k.into_string(), v.into_string()) {
                (Ok(k), Ok(v)) => env.assignments.push(Assignment { name: k, value: Some(v), origin: Origin::other("process environment") }),
                _ => skipped += 1,
            }
        }
        if skipped > 0 {
            notes.push(format!("process: {skipped} variables with names or values that are not UTF-8 were skipped"));
        }
    }
    env
}

fn push_entries(env: &mut Environment, entries: Vec<Entry>, origin: impl Fn(u32) -> Origin) {
    for e in entries {
        env.assignments.push(Assignment { name: e.name, value: e.value, origin: origin(e.line) });
    }
}

/// Reads a dotenv file: unreadable, binary and oversized files are errors;
/// invalid UTF-8 is replaced and reported.
pub fn read_dotenv_file(path: &Path) -> Result<Parsed, String> {
    let meta = std::fs::metadata(path).map_err(|e| describe_io(&e))?;
    if meta.is_dir() {
        return Err("is a directory, not a dotenv file".into());
    }
    if meta.len() > MAX_FILE {
        return Err(format!("is {} bytes, too large for a dotenv file; skipped", meta.len()));
    }
    let bytes = std::fs::read(path).map_err(|e| describe_io(&e))?;
    if bytes.iter().take(8192).any(|b| *b == 0) {
        return Err("is a binary file (it contains NUL bytes), not a dotenv file; skipped".into());
    }
    match String::from_utf8(bytes) {
        Ok(text) => Ok(dotenv::parse(&text)),
        Err(e) => {
            let valid = e.utf8_error().valid_up_to();
            let line = e.as_bytes()[..valid].iter().filter(|b| **b == b'\n').count() + 1;
            let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
            let mut parsed = dotenv::parse(&text);
            parsed.warnings.insert(0, format!("line {line}: invalid UTF-8, replaced with U+FFFD"));
            Ok(parsed)
        }
    }
}

fn describe_io(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "does not exist".into(),
        std::io::ErrorKind::PermissionDenied => "cannot be read (permission denied)".into(),
        _ => format!("cannot be read: {e}"),
    }
}

/// Parses what a command printed: a JSON object (`vault kv get -format=json`,
/// `doppler secrets download --format json`), else `NAME=value` lines
/// (`heroku config --shell`, `doppler … --format env`), else `NAME: value`
/// lines (`heroku config`).
pub fn parse_command_output(text: &str) -> Parsed {
    let trimmed = text.trim_start();
    match serde_json::from_str::<serde_json::Value>(trimmed) {
        Ok(serde_json::Value::Object(map)) => return Parsed { entries: json_entries(&map), warnings: Vec::new() },
        // `fly secrets list --json`: names and digests, never values.
        Ok(serde_json::Value::Array(items)) => return Parsed { entries: named_list(&items, "Name", None), warnings: Vec::new() },
        _ => {}
    }
    if let Some(names) = names_table(text) {
        return names;
    }
    let parsed = dotenv::parse(text);
    if !parsed.entries.is_empty() {
        return parsed;
    }
    let mut out = Parsed::default();
    for (i, l) in text.lines().enumerate() {
        if let Some((k, v)) = l.split_once(':') {
            let k = k.trim();
            if !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') && !k.starts_with(|c: char| c.is_ascii_digit()) {
                out.entries.push(Entry { name: k.into(), value: Some(v.trim().into()), line: i as u32 + 1 });
            }
        }
    }
    out
}

/// Objects naming a variable each (`{"Name": …, "Value": …}`); the name's last path
/// segment is the variable. Without a value field, the variable is declared with a
/// value billguard cannot see: its presence is judged, its mode is not.
fn named_list(items: &[serde_json::Value], name_field: &str, value_field: Option<&str>) -> Vec<Entry> {
    items
        .iter()
        .filter_map(|item| {
            let name = item.get(name_field).or_else(|| item.get(&name_field.to_ascii_lowercase()))?.as_str()?;
            let name = name.rsplit('/').next().unwrap_or(name).to_string();
            let value = match value_field {
                Some(f) => Some(item.get(f)?.as_str()?.to_string()),
                None => None,
            };
            Some(Entry { name, value, line: 0 })
        })
        .collect()
}

/// `fly secrets list`: a table whose header starts `NAME` and has a `DIGEST` column.
/// Names only: each is declared, its value unseen.
fn names_table(text: &str) -> Option<Parsed> {
    let mut lines = text.lines().skip_while(|l| l.trim().is_empty());
    let header = lines.next()?;
    let cols: Vec<&str> = header.split_whitespace().collect();
    if cols.first() != Some(&"NAME") || !cols.contains(&"DIGEST") {
        return None;
    }
    let entries = lines
        .enumerate()
        .filter_map(|(i, l)| {
            let name = l.split_whitespace().next()?;
            let ok = name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') && !name.starts_with(|c: char| c.is_ascii_digit());
            ok.then(|| Entry { name: name.to_string(), value: None, line: i as u32 + 2 })
        })
        .collect();
    Some(Parsed { entries, warnings: Vec::new() })
}

/// Vault KV v2 nests the secrets in `data.data`, v1 in `data`; AWS SSM lists
/// `Parameters` named by path (`/app/production/STRIPE_SECRET_KEY`); others are flat.
fn json_entries(map: &serde_json::Map<String, serde_json::Value>) -> Vec<Entry> {
    use serde_json::Value;
    if let Some(Value::Array(params)) = map.get("Parameters") {
        return named_list(params, "Name", Some("Value"));
    }
    let inner = match map.get("data") {
        Some(Value::Object(d)) => match d.get("data") {
            Some(Value::Object(dd)) => dd,
            _ => d,
        },
        _ => map,
    };
    inner
        .iter()
        .filter_map(|(k, v)| {
            let value = match v {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                Value::Bool(b) => Some(b.to_string()),
                Value::Null => Some(String::new()),
                // Doppler's JSON: {"NAME": {"computed": "..."}}
                Value::Object(o) => o.get("computed").or_else(|| o.get("value")).and_then(|x| x.as_str()).map(str::to_string),
                Value::Array(_) => None,
            }?;
            Some(Entry { name: k.clone(), value: Some(value), line: 0 })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotenv_names_map_to_environments() {
        assert_eq!(dotenv_role(".env"), Some(("development".into(), EnvKind::Development, 0)));
        assert_eq!(dotenv_role(".env.local"), Some(("development".into(), EnvKind::Development, 2)));
        assert_eq!(dotenv_role(".env.production"), Some(("production".into(), EnvKind::Production, 1)));
        assert_eq!(dotenv_role(".env.production.local"), Some(("production".into(), EnvKind::Production, 3)));
        assert_eq!(dotenv_role(".env.staging").unwrap().1, EnvKind::Staging);
        assert_eq!(dotenv_role(".env.test").unwrap().1, EnvKind::Test);
        assert_eq!(dotenv_role(".env.example").unwrap(), (".env.example".into(), EnvKind::Template, 0));
        assert_eq!(dotenv_role(".env.production.sample").unwrap().1, EnvKind::Template);
        assert_eq!(dotenv_role(".env.production-sample").unwrap().1, EnvKind::Template);
        assert_eq!(dotenv_role(".env.server"), Some(("development".into(), EnvKind::Development, 1)));
        assert_eq!(dotenv_role(".env.client").unwrap().0, "development");
        assert_eq!(dotenv_role(".env.vault"), None);
        assert_eq!(dotenv_role(".envrc"), None);
        assert_eq!(dotenv_role("env.production"), None);
    }

    #[test]
    fn discovery_groups_files_by_environment_in_precedence_order() {
        let files: Vec<String> =
            [".env.production.local", ".env", ".env.production", ".env.local", ".env.example", "apps/web/.env.staging"]
                .iter()
                .map(|s| s.to_string())
                .collect();
        let plans = discovered_plans(&files);
        let by_name: BTreeMap<_, _> = plans.iter().map(|p| (p.name.as_str(), p)).collect();
        assert_eq!(by_name["development"].files, [".env", ".env.local"]);
        assert_eq!(by_name["production"].files, [".env.production", ".env.production.local"]);
        assert_eq!(by_name["apps/web:staging"].kind, EnvKind::Staging);
        assert_eq!(by_name[".env.example"].kind, EnvKind::Template);
    }

    fn keys_config(text: &str) -> KeysConfig {
        crate::config::Config::parse(text, Path::new("billguard.toml")).unwrap().keys
    }

    #[test]
    fn configured_environments_replace_discovery_and_specs_replace_both() {
        let found: Vec<String> = [".env.production", ".env.staging", ".env.example"].iter().map(|s| s.to_string()).collect();
        let cfg = keys_config("[keys.environments.prod]\nfiles = [\".env.production\"]\nurl = \"https://example.com\"\n");
        let (plans, notes) = plan(&cfg, &[], &found).unwrap();
        let names: Vec<_> = plans.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["prod", ".env.example"]);
        assert_eq!(plans[0].kind, EnvKind::Production);
        assert_eq!(plans[0].url.as_deref(), Some("https://example.com"));
        assert!(notes[0].contains(".env.staging"), "{notes:?}");

        let specs = [EnvSpec::parse("live=config/prod.env").unwrap(), EnvSpec::parse("process").unwrap()];
        let (plans, _) = plan(&cfg, &specs, &found).unwrap();
        assert_eq!(plans[0].files, ["config/prod.env"]);
        assert_eq!(plans[0].kind, EnvKind::Production);
        assert!(plans[1].process);
        let err = plan(&cfg, &[EnvSpec::parse("nowhere").unwrap()], &found).unwrap_err();
        assert!(err.contains("known are prod"), "{err}");
        let bad = keys_config("[keys.environments.x]\nkind = \"prodish\"\n");
        assert!(plan(&bad, &[], &[]).unwrap_err().contains("kind = \"prodish\""));
        assert!(EnvSpec::parse("=x").is_err() && EnvSpec::parse("a=").is_err());
    }

    #[test]
    fn command_output_formats() {
        let shell = parse_command_output("STRIPE_SECRET_KEY='sk_test_abc'\nexport PLAN=pro\n");
        assert_eq!(shell.entries.len(), 2);
        let heroku = parse_command_output("=== myapp Config Vars\nSTRIPE_SECRET_KEY: sk_test_abc\nDATABASE_URL:      postgres://x\n");
        assert_eq!(heroku.entries.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(), ["STRIPE_SECRET_KEY", "DATABASE_URL"]);
        let vault = parse_command_output(r#"{"request_id":"x","data":{"data":{"STRIPE_SECRET_KEY":"sk_live_abc","N":3},"metadata":{}}}"#);
        let names: Vec<_> = vault.entries.iter().map(|e| (e.name.as_str(), e.value.as_deref())).collect();
        assert_eq!(names, [("STRIPE_SECRET_KEY", Some("sk_live_abc")), ("N", Some("3"))]);
        let doppler = parse_command_output(r#"{"A":{"computed":"1"},"B":"2"}"#);
        assert_eq!(doppler.entries.len(), 2);
        let ssm = parse_command_output(r#"{"Parameters":[{"Name":"/app/production/STRIPE_SECRET_KEY","Type":"SecureString","Value":"sk_live_abc"}]}"#);
        let got: Vec<_> = ssm.entries.iter().map(|e| (e.name.as_str(), e.value.as_deref())).collect();
        assert_eq!(got, [("STRIPE_SECRET_KEY", Some("sk_live_abc"))]);
        // fly: names only, as a table or as JSON; declared, value unseen.
        let fly = parse_command_output("NAME             \tDIGEST          \tCREATED AT\nSTRIPE_SECRET_KEY\t1a2b3c4d5e6f7a8b\t2024-01-01T00:00:00Z\n");
        let got: Vec<_> = fly.entries.iter().map(|e| (e.name.as_str(), e.value.as_deref())).collect();
        assert_eq!(got, [("STRIPE_SECRET_KEY", None)]);
        let fly = parse_command_output(r#"[{"Name":"STRIPE_WEBHOOK_SECRET","Digest":"9f8e","CreatedAt":"2024-01-01T00:00:00Z"}]"#);
        assert_eq!(fly.entries[0].name, "STRIPE_WEBHOOK_SECRET");
        assert_eq!(fly.entries[0].value, None);
    }

    #[test]
    fn unreadable_binary_and_invalid_files_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(".env.production");
        assert!(read_dotenv_file(&p).unwrap_err().contains("does not exist"));
        std::fs::write(&p, b"A=1\0\x01\x02").unwrap();
        assert!(read_dotenv_file(&p).unwrap_err().contains("binary"));
        std::fs::write(&p, b"A=1\nB=caf\xe9\nC=3\n").unwrap();
        let parsed = read_dotenv_file(&p).unwrap();
        assert_eq!(parsed.entries.len(), 3);
        assert!(parsed.warnings[0].starts_with("line 2: invalid UTF-8"), "{:?}", parsed.warnings);
        assert!(read_dotenv_file(dir.path()).unwrap_err().contains("directory"));
    }
}
