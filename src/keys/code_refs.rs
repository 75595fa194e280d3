//! One walk over the files git would include (the `ignore` crate): which
//! billing variables the code reads, per language; which live secret keys sit
//! in files; which Stripe events webhook code names; and which env files and
//! deployment files (compose, workflows, manifests) exist.

use std::collections::{BTreeSet, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use regex::Regex;

use super::declared::{self, DeclaredKind};
use super::env_sources::dotenv_role;
use super::model::{CodeRef, KeyInFile, is_billing};
use super::config_reads;
use super::read_conditions::{EnvRead, Switches};

const MAX_FILE: u64 = 1 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lang {
    Js,
    Python,
    Ruby,
    Go,
    Php,
    Rust,
    Elixir,
}

fn lang_of(path: &str) -> Option<Lang> {
    let ext = path.rsplit_once('.').map(|(_, e)| e)?;
    Some(match ext {
        "js" | "jsx" | "ts" | "tsx" | "mjs" | "cjs" | "mts" | "cts" | "vue" | "svelte" | "astro" => Lang::Js,
        "py" => Lang::Python,
        "rb" | "rake" | "erb" => Lang::Ruby,
        "go" => Lang::Go,
        "php" => Lang::Php,
        "rs" => Lang::Rust,
        "ex" | "exs" | "heex" => Lang::Elixir,
        _ => return None,
    })
}

/// The read patterns of a language; the first capture group that matched is the name.
fn pattern(lang: Lang) -> &'static Regex {
    static RES: OnceLock<Vec<Regex>> = OnceLock::new();
    let all = RES.get_or_init(|| {
        [
            // process.env.X, process.env['X'], import.meta.env.X, Deno.env.get('X'), Bun.env.X,
            // and a typed env object's members (`env.STRIPE_SECRET_KEY`: t3-env, Wasp, envalid)
            r#"\benv\.([A-Z][A-Z0-9_]{2,})\b|process\.env\.([A-Za-z_]\w*)|process\.env\[\s*['"`]([A-Za-z_]\w*)['"`]\s*\]|import\.meta\.env\.([A-Za-z_]\w*)|Deno\.env\.get\(\s*['"]([A-Za-z_]\w*)['"]|Bun\.env\.([A-Za-z_]\w*)"#,
            // os.environ['X'], os.environ.get('X'), os.getenv('X'), environ[...] / getenv(...) after from-imports
            r#"(?:os\.)?environ(?:\.get\(|\[)\s*['"]([A-Za-z_]\w*)['"]|(?:os\.)?getenv\(\s*['"]([A-Za-z_]\w*)['"]"#,
            // ENV['X'], ENV.fetch('X'), ENV.fetch 'X'
            r#"ENV\[\s*['"]([A-Za-z_]\w*)['"]\s*\]|ENV\.fetch\(?\s*['"]([A-Za-z_]\w*)['"]"#,
            // os.Getenv("X"), os.LookupEnv("X")
            r#"os\.(?:Getenv|LookupEnv)\(\s*"([A-Za-z_]\w*)""#,
            // getenv('X'), env('X'), $_ENV['X'], $_SERVER['X']
            r#"\bgetenv\(\s*['"]([A-Za-z_]\w*)['"]|\benv\(\s*['"]([A-Za-z_]\w*)['"]|\$_(?:ENV|SERVER)\[\s*['"]([A-Za-z_]\w*)['"]"#,
            // std::env::var("X"), env::var_os("X"), env!("X"), option_env!("X")
            r#"(?:env|dotenvy?)::var(?:_os)?\(\s*"([A-Za-z_]\w*)"|\b(?:option_)?env!\(\s*"([A-Za-z_]\w*)""#,
            // System.get_env("X"), System.fetch_env!("X")
            r#"System\.(?:get_env|fetch_env!?)\(\s*"([A-Za-z_]\w*)""#,
        ]
        .iter()
        .map(|re| Regex::new(re).expect("static regex"))
        .collect()
    });
    &all[lang as usize]
}

/// `const { A, B: b } = process.env`
fn js_destructuring() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"(?:const|let|var)\s*\{([^}]*)\}\s*=\s*process\.env\b").expect("static regex"))
}

/// A pydantic settings field: `    stripe_secret_key: str` (group 2: a default follows).
fn pydantic_field() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"(?m)^[ \t]+([a-z][a-z0-9_]*)[ \t]*:[ \t]*[A-Za-z][\w\[\], |.]*?(=[^\n]*)?$").expect("static regex"))
}

fn live_key_pattern() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"\b(?:sk|rk)_live_[A-Za-z0-9]{10,}|\bpdl_live_apikey_[A-Za-z0-9_]{10,}").expect("static regex"))
}

fn event_pattern() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r#"['"`]((?:checkout\.session|customer\.subscription|invoice|payment_intent|charge|customer|entitlements\.active_entitlement_summary)\.[a-z_]+(?:\.[a-z_]+)?)['"`]"#)
            .expect("static regex")
    })
}

/// 1-based line numbers for byte offsets visited in increasing order.
struct Lines<'a> {
    text: &'a str,
    pos: usize,
    line: u32,
}

impl Lines<'_> {
    fn at(&mut self, offset: usize) -> u32 {
        if offset < self.pos {
            self.pos = 0;
            self.line = 1;
        }
        self.line += self.text.as_bytes()[self.pos..offset].iter().filter(|b| **b == b'\n').count() as u32;
        self.pos = offset;
        self.line
    }
}

/// What the walk found.
#[derive(Debug, Default)]
pub struct Scan {
    pub refs: Vec<CodeRef>,
    pub live_keys: Vec<KeyInFile>,
    pub events: BTreeSet<String>,
    pub files: usize,
    /// Repo-relative `.env*` files seen (git-ignored ones are found separately).
    pub dotenv_files: Vec<String>,
    pub declared_files: Vec<(String, DeclaredKind)>,
    /// Every repo-relative file walked.
    pub walked: HashSet<String>,
    pub skipped_large: usize,
    /// A source file that uses a billing SDK (the first by path).
    pub billing_code: Option<String>,
    /// `viper.Get…("key")` calls: (key, path, line), resolved once the setup is known.
    pub viper_keys: Vec<(String, String, u32)>,
    /// The repository's viper setup, merged over its files.
    pub viper_setup: ViperSetup,
    /// Where billing keys come from Rails' encrypted credentials (`path:line`, the first by path).
    pub credentials: Option<String>,
}

#[derive(Debug, Default, Clone)]
pub struct ViperSetup {
    pub automatic_env: bool,
    pub prefix: Option<String>,
    pub dots_to_underscores: bool,
    pub defaults: BTreeSet<String>,
}

impl ViperSetup {
    fn merge(&mut self, other: ViperSetup) {
        self.automatic_env |= other.automatic_env;
        self.dots_to_underscores |= other.dots_to_underscores;
        if self.prefix.is_none() {
            self.prefix = other.prefix;
        }
        self.defaults.extend(other.defaults);
    }
}

/// The smaller of two optional paths, so that notes name the same file whatever the walk's order.
fn first_path(cur: &mut Option<String>, new: Option<String>) {
    if let Some(n) = new {
        if cur.as_ref().is_none_or(|c| n < *c) {
            *cur = Some(n);
        }
    }
}


/// Whether the read that ends where `rest` begins has a fallback: a second argument
/// (`os.getenv("X", d)`, `ENV.fetch("X", nil)`, `env('X', d)`, `System.get_env("X", d)`),
/// or a default operator after it (`??`, `||`, `?:`,
/// Python's `or`, Rust's `.unwrap_or…`).
fn has_fallback(rest: &str) -> bool {
    let line = rest.split('\n').next().unwrap_or("");
    // A second argument of the read's own call: right after the quoted name, never after
    // a property read or a closed subscript (`new Stripe(process.env.X, { … })` and
    // `f(key=os.environ["X"], …)` pass the value on, they give it no default).
    let after_quote = line.strip_prefix(['\'', '"', '`']).map(str::trim_start);
    if after_quote.is_some_and(|r| r.starts_with(',')) {
        return true;
    }
    let after_name = line.trim_start_matches(['\'', '"', '`', ']', ' ']);
    let after_call = after_name.trim_start_matches([')', ' ']);
    ["??", "||", "?:", "or ", ".unwrap_or", ".or("].iter().any(|op| after_call.starts_with(op))
}

/// Go's idioms for a default: `if v := os.Getenv("X"); v != "" { … }` uses the value only
/// when set, and `x := os.Getenv("X")` followed by `if x == "" { x = … }` fills one in.
fn go_checks_empty(before: &str, rest: &str) -> bool {
    static SCOPED: OnceLock<Regex> = OnceLock::new();
    let scoped = SCOPED.get_or_init(|| Regex::new(r#"^"\)\s*;\s*\w+\s*!=\s*"""#).expect("static regex"));
    if scoped.is_match(rest) {
        return true;
    }
    static BOUND: OnceLock<Regex> = OnceLock::new();
    let bound = BOUND.get_or_init(|| Regex::new(r#"(\w+)\s*:?=\s*os\.Getenv\(\s*"$"#).expect("static regex"));
    let Some(var) = bound.captures(before).map(|c| c[1].to_string()) else { return false };
    let next: Vec<&str> = rest.lines().skip(1).take(2).map(str::trim).collect();
    let check = format!("if {var} == \"\" {{");
    next.first().is_some_and(|l| l.replace("  ", " ") == check) && next.get(1).is_some_and(|l| l.starts_with(&format!("{var} =")))
}

/// Reads through django-environ and viper; Rails credentials are only located.
fn config_library_reads(lang: Lang, path: &str, text: &str, extra: &[String], scan: &mut Scan) {
    match lang {
        Lang::Python => {
            let mut lines = Lines { text, pos: 0, line: 1 };
            for r in config_reads::django_environ(text).into_iter().filter(|r| is_billing(&r.name, extra)) {
                let line = lines.at(r.offset);
                scan.refs.push(CodeRef { name: r.name, path: path.to_string(), line, optional: r.optional, only_when: None });
            }
        }
        Lang::Go => {
            let Some(f) = config_reads::viper(text) else { return };
            let mut lines = Lines { text, pos: 0, line: 1 };
            for r in f.bound.into_iter().filter(|r| is_billing(&r.name, extra)) {
                let line = lines.at(r.offset);
                scan.refs.push(CodeRef { name: r.name, path: path.to_string(), line, optional: false, only_when: None });
            }
            let mut lines = Lines { text, pos: 0, line: 1 };
            for k in f.keys {
                let line = lines.at(k.offset);
                scan.viper_keys.push((k.name, path.to_string(), line));
            }
            scan.viper_setup.merge(ViperSetup { automatic_env: f.automatic_env, prefix: f.prefix, dots_to_underscores: f.dots_to_underscores, defaults: f.defaults });
        }
        Lang::Ruby => {
            if let Some(at) = config_reads::rails_credentials(text) {
                let line = Lines { text, pos: 0, line: 1 }.at(at);
                first_path(&mut scan.credentials, Some(format!("{path}:{line}")));
            }
        }
        _ => {}
    }
}

/// Viper keys become variable reads once the repository's setup is known: only with
/// `AutomaticEnv` does a key read the environment.
fn resolve_viper(scan: &mut Scan, extra: &[String]) {
    let setup = &scan.viper_setup;
    if !setup.automatic_env {
        return;
    }
    for (key, path, line) in std::mem::take(&mut scan.viper_keys) {
        let Some(name) = config_reads::viper_variable(&key, setup.prefix.as_deref(), setup.dots_to_underscores) else { continue };
        if is_billing(&name, extra) {
            let optional = setup.defaults.contains(&key);
            scan.refs.push(CodeRef { name, path, line, optional, only_when: None });
        }
    }
}

/// Reads of billing variables, live keys and webhook event names in one file's text.
pub fn scan_text(path: &str, text: &str, extra: &[String], scan: &mut Scan) {
    // Rails' YAML configs read the environment through ERB (`<%= ENV["STRIPE_API_KEY"] %>`).
    let erb_yaml = (path.ends_with(".yml") || path.ends_with(".yaml")) && text.contains("<%");
    if let Some(lang) = lang_of(path).or(erb_yaml.then_some(Lang::Ruby)) {
        let mut lines = Lines { text, pos: 0, line: 1 };
        let reads: Vec<EnvRead> = pattern(lang)
            .captures_iter(text)
            .filter_map(|caps| caps.iter().skip(1).flatten().next().map(|m| EnvRead { start: m.start(), end: m.end(), name: m.as_str().to_string() }))
            .collect();
        // Provider and mode switches are read only where a billing read could sit under one.
        let switches = reads.iter().any(|r| is_billing(&r.name, extra)).then(|| Switches::new(text, &reads));
        for r in reads.iter().filter(|r| is_billing(&r.name, extra)) {
            let line = lines.at(r.start);
            let optional = has_fallback(&text[r.end..]) || (lang == Lang::Go && go_checks_empty(&text[..r.start], &text[r.end..]));
            let only_when = switches.as_ref().and_then(|s| s.condition(r.start, r.end)).filter(|c| c.variable != r.name);
            scan.refs.push(CodeRef { name: r.name.clone(), path: path.to_string(), line, optional, only_when });
        }
        if lang == Lang::Js && text.contains("process.env") {
            for caps in js_destructuring().captures_iter(text) {
                let inner = caps.get(1).expect("group 1");
                let line = lines.at(inner.start());
                for part in inner.as_str().split(',') {
                    let name = part.split([':', '=']).next().unwrap_or("").trim();
                    if !name.is_empty() && is_billing(name, extra) {
                        // `{ A = 'default' } = process.env` has a fallback.
                        let optional = part.contains('=');
                        scan.refs.push(CodeRef { name: name.to_string(), path: path.to_string(), line, optional, only_when: None });
                    }
                }
            }
        }
        if lang == Lang::Python && text.contains("BaseSettings") {
            // pydantic settings: a field `stripe_secret_key: str` reads STRIPE_SECRET_KEY; with `= …` it has a default.
            for caps in pydantic_field().captures_iter(text) {
                let field = caps.get(1).expect("group 1");
                let name = field.as_str().to_ascii_uppercase();
                if is_billing(&name, extra) {
                    let line = lines.at(field.start());
                    let optional = caps.get(2).is_some() || caps[0].contains("Optional") || caps[0].contains("None");
                    scan.refs.push(CodeRef { name, path: path.to_string(), line, optional, only_when: None });
                }
            }
        }
        config_library_reads(lang, path, text, extra, scan);
        if scan.billing_code.is_none() && crate::billing_sdk::uses_billing_sdk(text) {
            scan.billing_code = Some(path.to_string());
        }
        if text.contains("webhook") || text.contains("Webhook") || text.contains("WEBHOOK") {
            scan.events.extend(event_pattern().captures_iter(text).map(|c| c[1].to_string()));
        }
    }
    let mut lines = Lines { text, pos: 0, line: 1 };
    for m in live_key_pattern().find_iter(text) {
        let line = lines.at(m.start());
        scan.live_keys.push(KeyInFile { path: path.to_string(), line, value: m.as_str().to_string() });
    }
}

fn rel_path(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/")
}

/// Reads a file for scanning: None for large, unreadable or binary files.
fn read_text(path: &Path, len: u64) -> Option<String> {
    if len > MAX_FILE {
        return None;
    }
    let bytes = std::fs::read(path).ok()?;
    if bytes.iter().take(8192).any(|b| *b == 0) {
        return None;
    }
    Some(match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    })
}

/// Walks the repository (honouring .gitignore, .ignore and .git/info/exclude;
/// hidden files included, `.git` and `node_modules` never entered).
pub fn scan_repo(root: &Path, extra: &[String]) -> Scan {
    let shared = Mutex::new(Scan::default());
    let files = AtomicUsize::new(0);
    let large = AtomicUsize::new(0);
    let walker = ignore::WalkBuilder::new(root)
        .hidden(false)
        .git_ignore(true)
        .git_global(false)
        .git_exclude(true)
        .require_git(false)
        .parents(false)
        .filter_entry(|e| !matches!(e.file_name().to_str(), Some(".git" | "node_modules" | ".billguard")))
        .threads(std::thread::available_parallelism().map_or(2, |n| n.get().min(8)))
        .build_parallel();
    walker.run(|| {
        Box::new(|entry| {
            let Ok(entry) = entry else { return ignore::WalkState::Continue };
            if !entry.file_type().is_some_and(|t| t.is_file()) {
                return ignore::WalkState::Continue;
            }
            files.fetch_add(1, Ordering::Relaxed);
            let rel = rel_path(root, entry.path());
            let len = entry.metadata().map(|m| m.len()).unwrap_or(0);
            let mut local = Scan::default();
            let name = rel.rsplit('/').next().unwrap_or(&rel);
            if dotenv_role(name).is_some() {
                local.dotenv_files.push(rel.clone());
            }
            match read_text(entry.path(), len) {
                Some(text) => {
                    scan_text(&rel, &text, extra, &mut local);
                    if let Some(kind) = declared::kind_of(&rel, &text) {
                        local.declared_files.push((rel.clone(), kind));
                    }
                }
                None if len > MAX_FILE => {
                    large.fetch_add(1, Ordering::Relaxed);
                }
                None => {}
            }
            let mut s = shared.lock().unwrap_or_else(|e| e.into_inner());
            s.walked.insert(rel);
            s.refs.append(&mut local.refs);
            s.live_keys.append(&mut local.live_keys);
            s.events.append(&mut local.events);
            s.dotenv_files.append(&mut local.dotenv_files);
            s.declared_files.append(&mut local.declared_files);
            first_path(&mut s.billing_code, local.billing_code);
            first_path(&mut s.credentials, local.credentials);
            s.viper_keys.append(&mut local.viper_keys);
            s.viper_setup.merge(local.viper_setup);
            ignore::WalkState::Continue
        })
    });
    let mut scan = shared.into_inner().unwrap_or_else(|e| e.into_inner());
    scan.files = files.into_inner();
    scan.skipped_large = large.into_inner();
    resolve_viper(&mut scan, extra);
    scan.refs.sort();
    scan.live_keys.sort();
    scan.dotenv_files.sort();
    scan.declared_files.sort_by(|a, b| a.0.cmp(&b.0));
    scan
}

/// Looks for live keys in files the walk did not read (tracked but ignored, e.g. force-added).
pub fn scan_files(root: &Path, rels: &[&String], scan: &mut Scan) {
    for rel in rels {
        let path = root.join(rel.as_str());
        let Ok(meta) = std::fs::metadata(&path) else { continue };
        if let Some(text) = read_text(&path, meta.len()) {
            let mut lines = Lines { text: &text, pos: 0, line: 1 };
            for m in live_key_pattern().find_iter(&text) {
                let line = lines.at(m.start());
                scan.live_keys.push(KeyInFile { path: rel.to_string(), line, value: m.as_str().to_string() });
            }
        }
    }
}

/// Dotenv files in `dir` (repo-relative `prefix`), including git-ignored ones.
pub fn dotenv_files_in(root: &Path, prefix: &str) -> Vec<String> {
    let dir = if prefix.is_empty() { root.to_path_buf() } else { root.join(prefix) };
    let Ok(read) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut out: Vec<String> = read
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| dotenv_role(n).is_some())
        .map(|n| if prefix.is_empty() { n } else { format!("{prefix}/{n}") })
        .collect();
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reads(path: &str, text: &str) -> Vec<(String, u32)> {
        let mut scan = Scan::default();
        scan_text(path, text, &["APP_CHECKOUT_KEY".to_string()], &mut scan);
        scan.refs.iter().map(|r| (r.name.clone(), r.line)).collect()
    }

    fn names(v: &[(String, u32)]) -> Vec<&str> {
        v.iter().map(|(n, _)| n.as_str()).collect()
    }

    fn optional_of(path: &str, text: &str) -> Vec<(String, bool)> {
        let mut scan = Scan::default();
        scan_text(path, text, &[], &mut scan);
        scan.refs.iter().map(|r| (r.name.clone(), r.optional)).collect()
    }

    #[test]
    fn reads_with_a_fallback_are_optional_in_every_language() {
        let on = |n: &str, o: bool| (n.to_string(), o);
        assert_eq!(
            optional_of("a.ts", "const k = process.env.STRIPE_SECRET_KEY ?? process.env.STRIPE_API_KEY;\nif (process.env.STRIPE_WEBHOOK_SECRET) {}\n"),
            [on("STRIPE_SECRET_KEY", true), on("STRIPE_API_KEY", false), on("STRIPE_WEBHOOK_SECRET", false)]
        );
        assert_eq!(optional_of("a.py", "a = os.getenv(\"STRIPE_SECRET_KEY\", \"\")\nb = os.environ['STRIPE_WEBHOOK_SECRET']\n"), [on("STRIPE_SECRET_KEY", true), on("STRIPE_WEBHOOK_SECRET", false)]);
        assert_eq!(optional_of("a.rb", "a = ENV.fetch(\"STRIPE_SECRET_KEY\", nil)\nb = ENV.fetch(\"STRIPE_WEBHOOK_SECRET\")\n"), [on("STRIPE_SECRET_KEY", true), on("STRIPE_WEBHOOK_SECRET", false)]);
        assert_eq!(optional_of("a.php", "$a = env('STRIPE_SECRET', 'sk');\n$b = getenv('STRIPE_KEY') ?: 'x';\n"), [on("STRIPE_SECRET", true), on("STRIPE_KEY", true)]);
        assert_eq!(optional_of("a.rs", "let a = env::var(\"STRIPE_SECRET_KEY\").unwrap_or_default();\n"), [on("STRIPE_SECRET_KEY", true)]);
        assert_eq!(optional_of("a.ex", "a = System.get_env(\"STRIPE_SECRET_KEY\", \"\")\n"), [on("STRIPE_SECRET_KEY", true)]);
        assert_eq!(optional_of("a.ts", "const { STRIPE_PRICE_PRO = 'price_x', STRIPE_SECRET_KEY } = process.env;\n"), [on("STRIPE_PRICE_PRO", true), on("STRIPE_SECRET_KEY", false)]);
        // Passing the value on is no default: a constructor's options, a keyword argument, a t3-env mapping.
        assert_eq!(optional_of("lib/stripe.ts", "export const stripe = new Stripe(env.STRIPE_API_KEY, { apiVersion: '2024-06-20' });\n"), [on("STRIPE_API_KEY", false)]);
        assert_eq!(optional_of("env.mjs", "  runtimeEnv: {\n    STRIPE_API_KEY: process.env.STRIPE_API_KEY,\n  },\n"), [on("STRIPE_API_KEY", false)]);
        assert_eq!(optional_of("settings.py", "client = Stripe(api_key=os.environ[\"STRIPE_SECRET_KEY\"], timeout=3)\n"), [on("STRIPE_SECRET_KEY", false)]);
        // Go: the value used only when set, or a default filled in when empty.
        let go = "if v := os.Getenv(\"PAYMENT_GRACE_DAYS\"); v != \"\" {\n}\nprice := os.Getenv(\"STRIPE_PRICE_PRO\")\nif price == \"\" {\n\tprice = \"price_default\"\n}\nkey := os.Getenv(\"STRIPE_SECRET_KEY\")\nif key == \"\" {\n\tlog.Fatal(\"STRIPE_SECRET_KEY is required\")\n}\n";
        assert_eq!(optional_of("billing/config.go", go), [on("PAYMENT_GRACE_DAYS", true), on("STRIPE_PRICE_PRO", true), on("STRIPE_SECRET_KEY", false)]);
        // Rust's dotenvy and Rails' ERB-in-YAML are reads too.
        assert_eq!(optional_of("src/lib.rs", "let k = dotenvy::var(\"STRIPE_API_KEY\")?;\n"), [on("STRIPE_API_KEY", false)]);
        assert_eq!(optional_of("config/secrets.yml", "production:\n  stripe_api_key: <%= ENV[\"STRIPE_API_KEY\"] %>\n"), [on("STRIPE_API_KEY", false)]);
    }

    #[test]
    fn typed_env_objects_and_pydantic_settings_are_reads() {
        let t3 = "export const env = createEnv({ server: { STRIPE_SECRET_KEY: z.string() } });\nconst stripe = new Stripe(env.STRIPE_SECRET_KEY);\n";
        assert_eq!(names(&reads("src/server/stripe.ts", t3)), ["STRIPE_SECRET_KEY"]);
        let py = "from pydantic_settings import BaseSettings\n\nclass Settings(BaseSettings):\n    stripe_secret_key: str\n    stripe_webhook_secret: str = \"\"\n    debug: bool = False\n";
        assert_eq!(optional_of("app/settings.py", py), [("STRIPE_SECRET_KEY".to_string(), false), ("STRIPE_WEBHOOK_SECRET".to_string(), true)]);
        // A lowercase `env.get(...)` or a plain object's members are no reads.
        assert!(reads("a.ts", "const x = env.get('a'); const y = config.STRIPE_SECRET_KEY;").is_empty());
        let mut scan = Scan::default();
        scan_text("lib/pay.ts", "import Stripe from 'stripe';\nconst s = new Stripe(config.key);\n", &[], &mut scan);
        assert_eq!(scan.billing_code.as_deref(), Some("lib/pay.ts"));
    }

    #[test]
    fn every_language_reads_are_found_with_lines() {
        let js = "const a = process.env.STRIPE_SECRET_KEY;\nconst b = process.env['STRIPE_WEBHOOK_SECRET'];\nconst c = import.meta.env.VITE_STRIPE_PK;\nconst d = process.env.NODE_ENV;\nconst { STRIPE_PRICE_PRO, OTHER } = process.env;\n";
        assert_eq!(
            reads("web/app.ts", js),
            [("STRIPE_SECRET_KEY".into(), 1), ("STRIPE_WEBHOOK_SECRET".into(), 2), ("VITE_STRIPE_PK".into(), 3), ("STRIPE_PRICE_PRO".into(), 5)]
        );
        let py = "import os\nk = os.environ['STRIPE_SECRET_KEY']\nw = os.getenv(\"STRIPE_WEBHOOK_SECRET\")\np = os.environ.get('PADDLE_API_KEY', '')\n";
        assert_eq!(names(&reads("app.py", py)), ["STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "PADDLE_API_KEY"]);
        let rb = "Stripe.api_key = ENV['STRIPE_SECRET_KEY']\nsecret = ENV.fetch(\"STRIPE_WEBHOOK_SECRET\")\nx = ENV.fetch 'BILLING_MODE'\n";
        assert_eq!(names(&reads("config/stripe.rb", rb)), ["STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "BILLING_MODE"]);
        let go = "key := os.Getenv(\"STRIPE_SECRET_KEY\")\n_, ok := os.LookupEnv(\"STRIPE_PRICE_ID\")\n";
        assert_eq!(names(&reads("main.go", go)), ["STRIPE_SECRET_KEY", "STRIPE_PRICE_ID"]);
        let php = "$k = getenv('STRIPE_SECRET_KEY');\n$w = env('STRIPE_WEBHOOK_SECRET');\n$p = $_ENV['PADDLE_API_KEY'];\n";
        assert_eq!(names(&reads("app.php", php)), ["STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "PADDLE_API_KEY"]);
        let rs = "let k = std::env::var(\"STRIPE_SECRET_KEY\")?;\nlet w = env::var_os(\"STRIPE_WEBHOOK_SECRET\");\n";
        assert_eq!(names(&reads("src/main.rs", rs)), ["STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"]);
        let ex = "config :stripity_stripe, api_key: System.get_env(\"STRIPE_SECRET_KEY\")\nSystem.fetch_env!(\"APP_CHECKOUT_KEY\")\n";
        assert_eq!(names(&reads("config/runtime.exs", ex)), ["STRIPE_SECRET_KEY", "APP_CHECKOUT_KEY"]);
        assert!(reads("README.md", "process.env.STRIPE_SECRET_KEY").is_empty(), "docs are not code");
    }

    #[test]
    fn live_keys_and_webhook_events() {
        let mut scan = Scan::default();
        let key = crate::keys::evaluate_tests::fake_key("sk_live_");
        let text = format!("// webhook handler\nconst k = '{key}';\ncase 'customer.subscription.deleted':\ncase \"invoice.paid\":\n");
        scan_text("api/webhook.ts", &text, &[], &mut scan);
        assert_eq!(scan.live_keys.len(), 1);
        assert_eq!(scan.live_keys[0].line, 2);
        assert_eq!(scan.events.iter().cloned().collect::<Vec<_>>(), ["customer.subscription.deleted", "invoice.paid"]);
        let mut plain = Scan::default();
        scan_text("notes.txt", "sk_live_short and sk_test_4fQ9zXv2Lm8Rt1Yp6Wc3", &[], &mut plain);
        assert!(plain.live_keys.is_empty());
    }

    #[test]
    fn the_walk_honours_gitignore_and_sees_hidden_files() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("src")).unwrap();
        std::fs::create_dir_all(root.join("node_modules/x")).unwrap();
        std::fs::create_dir_all(root.join(".github/workflows")).unwrap();
        std::fs::write(root.join(".gitignore"), "dist/\n.env.production\n").unwrap();
        std::fs::write(root.join("src/a.ts"), "process.env.STRIPE_SECRET_KEY").unwrap();
        std::fs::create_dir_all(root.join("dist")).unwrap();
        std::fs::write(root.join("dist/a.js"), "process.env.STRIPE_IGNORED").unwrap();
        std::fs::write(root.join("node_modules/x/i.js"), "process.env.STRIPE_DEP").unwrap();
        std::fs::write(root.join(".env.example"), "STRIPE_SECRET_KEY=\n").unwrap();
        std::fs::write(root.join(".env.production"), "STRIPE_SECRET_KEY=x\n").unwrap();
        std::fs::write(root.join(".github/workflows/ci.yml"), "on: push\njobs: {}\n").unwrap();
        std::fs::write(root.join("bin.dat"), b"\0\0process.env.STRIPE_BIN").unwrap();
        let scan = scan_repo(root, &[]);
        assert_eq!(scan.refs.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(), ["STRIPE_SECRET_KEY"]);
        assert_eq!(scan.dotenv_files, [".env.example"]);
        assert_eq!(scan.declared_files, [(".github/workflows/ci.yml".to_string(), DeclaredKind::Workflow)]);
        assert!(!scan.walked.contains("dist/a.js") && scan.walked.contains("src/a.ts"));
        assert_eq!(dotenv_files_in(root, ""), [".env.example", ".env.production"]);
    }
}
