//! The repo-wide resolver: which files a handler's calls reach.
//!
//! Most real handlers call helpers defined elsewhere (`upsertSubscription`,
//! `SetUserPlanByCustomerID`, a service object, a repository method). Starting
//! from a handler file, this follows what each file imports or names (relative
//! modules and path aliases, Python modules, Go packages and the handler's own
//! package, PHP classes, Ruby and Elixir constants, Rust modules) to the
//! repository's files, a few hops deep, and parses them with the same
//! tree-sitter front ends as the handler. The [`super::index::Index`] then
//! resolves calls into them, and the effects walker follows those calls with
//! the caller's arguments bound to the callee's parameters, exactly as it
//! follows a call to a function of the handler's own file.
//!
//! Where a language says where each name lives (Go packages, PHP classes, Rust
//! modules), only the files holding something the file uses are followed: a Go
//! package's files declaring a name it uses, a PHP class it calls into (not one
//! it only imports, hints or names as `Foo::class`), the Rust module holding the
//! item a path names (not every module on the way, nor every `mod x;`). The
//! bound on followed files is then reached by calls, not by imports.
//!
//! Import lines are read as text: they only choose which files to parse; the
//! files themselves go through the real parser. Parsed files are cached by
//! path and content hash, so a helper that did not change is parsed once for
//! both versions of every handler that reaches it.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, OnceLock};

use regex::Regex;

use super::lang::{self, Language, Parsed};

/// How many import hops are followed from the handler file.
const MAX_HOPS: usize = 3;
/// Files parsed for one handler version, at most.
const MAX_FILES: usize = 64;
/// Larger files (generated code, bundles) are not parsed.
pub const MAX_FILE_BYTES: usize = 512 * 1024;

/// One version of the repository: its source paths and a way to read them.
pub struct RepoView {
    paths: Vec<String>,
    by_name: HashMap<String, Vec<usize>>,
    read: Box<dyn Fn(&[String]) -> Vec<Option<String>> + Sync + Send>,
    /// Texts that win over what `read` gives (a diff's versions of the files it changes).
    overrides: HashMap<String, Option<String>>,
}

impl RepoView {
    pub fn new(paths: Vec<String>, read: Box<dyn Fn(&[String]) -> Vec<Option<String>> + Sync + Send>) -> Self {
        let mut by_name: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, p) in paths.iter().enumerate() {
            let name = p.rsplit('/').next().unwrap_or(p).to_ascii_lowercase();
            by_name.entry(name).or_default().push(i);
        }
        RepoView { paths, by_name, read, overrides: HashMap::new() }
    }

    /// Replaces a file's text (None: the file does not exist in this version).
    pub fn set(&mut self, path: &str, text: Option<String>) {
        if text.is_some() && !self.paths.iter().any(|p| p == path) {
            self.paths.push(path.to_string());
            let name = path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
            self.by_name.entry(name).or_default().push(self.paths.len() - 1);
        }
        self.overrides.insert(path.to_string(), text);
    }

    /// One file's text in this version.
    pub fn read_one(&self, path: &str) -> Option<String> {
        if !self.exists(path) {
            return None;
        }
        self.read_many(&[path.to_string()]).pop().flatten()
    }

    /// Files that may be webhook handlers, by their path (`webhook`, `stripe`, `billing`...),
    /// that pass `keep`, with their texts; at most 200.
    pub fn candidates(&self, keep: impl Fn(&str) -> bool) -> Vec<(String, String)> {
        const WORDS: &[&str] = &["webhook", "stripe", "paddle", "billing", "payment", "subscription", "hook", "lemon"];
        let paths: Vec<String> = self
            .paths
            .iter()
            .filter(|p| {
                let l = p.to_ascii_lowercase();
                WORDS.iter().any(|w| l.contains(w)) && !l.contains("test") && !l.contains("spec")
            })
            .filter(|p| keep(p))
            .take(200)
            .cloned()
            .collect();
        let texts = self.read_many(&paths);
        paths.into_iter().zip(texts).filter_map(|(p, t)| t.map(|t| (p, t))).collect()
    }

    /// The files that may load `path` when it is a module named after an event type
    /// (`events/invoice.paid.js`): those of its directory and the one above, which a
    /// path search by word does not find (`index.js`).
    pub fn event_module_loaders(&self, path: &str) -> Vec<String> {
        let names_event = |p: &str| super::vocab::is_event_type(file_name(p).rsplit_once('.').map_or("", |(s, _)| s));
        if !names_event(path) {
            return Vec::new();
        }
        let dir = dir_of(path);
        let parent = dir_of(dir);
        self.paths
            .iter()
            .filter(|p| *p != path && (dir_of(p) == dir || dir_of(p) == parent) && !names_event(p))
            .take(50)
            .cloned()
            .collect()
    }

    fn exists(&self, path: &str) -> bool {
        match self.overrides.get(path) {
            Some(t) => t.is_some(),
            None => self.by_name.get(&file_name(path).to_ascii_lowercase()).is_some_and(|ix| ix.iter().any(|i| self.paths[*i] == path)),
        }
    }

    fn read_many(&self, paths: &[String]) -> Vec<Option<String>> {
        let missing: Vec<String> = paths.iter().filter(|p| !self.overrides.contains_key(*p)).cloned().collect();
        let mut read = (self.read)(&missing).into_iter();
        paths.iter().map(|p| match self.overrides.get(p) { Some(t) => t.clone(), None => read.next().flatten() }).collect()
    }

    /// Paths ending in `/suffix` (or equal to it), shortest first.
    fn with_suffix(&self, suffix: &str) -> Vec<&str> {
        let name = file_name(suffix).to_ascii_lowercase();
        let mut out: Vec<&str> = self
            .by_name
            .get(&name)
            .into_iter()
            .flatten()
            .map(|i| self.paths[*i].as_str())
            .filter(|p| p.eq_ignore_ascii_case(suffix) || (p.len() > suffix.len() && p.to_ascii_lowercase().ends_with(&format!("/{}", suffix.to_ascii_lowercase()))))
            .collect();
        out.sort_by_key(|p| (p.len(), p.to_string()));
        out
    }
}

fn file_name(p: &str) -> &str {
    p.rsplit('/').next().unwrap_or(p)
}

fn dir_of(p: &str) -> &str {
    p.rsplit_once('/').map_or("", |(d, _)| d)
}

/// A file the handler reaches, parsed.
pub struct Loaded {
    pub path: String,
    pub lang: Language,
    pub parsed: Arc<Parsed>,
}

/// Names a file binds to another file: `import { a as b } from './x'` binds
/// `b` to `a` in x; `import * as x`, `import billing`, `use App\Billing` bind a
/// module or class name to its files.
#[derive(Debug, Clone, Default)]
pub struct Imports {
    /// Local name -> (the name it has in its module, the module's files).
    pub names: HashMap<String, (String, Vec<String>)>,
    /// Local module, namespace, package or class name -> its files.
    pub modules: HashMap<String, Vec<String>>,
    /// JavaScript module specifier -> its files, including those a template
    /// (`require(`./events/${type}`)`) names for each event type of the file.
    pub specs: HashMap<String, Vec<String>>,
}

/// What a handler version reaches.
#[derive(Default)]
pub struct Reach {
    pub files: Vec<Loaded>,
    pub imports: Imports,
    /// Relative imports that name no file of the repository, and files skipped.
    pub unresolved: Vec<String>,
    /// Files the calls reach that were not followed because too many were reached:
    /// what they do is unknown, so the review of this version is incomplete.
    pub not_followed: Vec<String>,
    /// Go files by what of them was reached (see [`Declaring`]): the next hop follows that.
    focus: HashMap<String, String>,
}

impl Reach {
    pub fn paths(&self) -> BTreeSet<&str> {
        self.files.iter().map(|f| f.path.as_str()).collect()
    }
}

/// Parsed files by (path, content hash), shared by every version and handler of one review.
#[derive(Default)]
pub struct ParseCache {
    parsed: Mutex<HashMap<(String, u64), Arc<Parsed>>>,
}

impl ParseCache {
    fn get(&self, path: &str, lang: Language, text: &str) -> Arc<Parsed> {
        let key = (path.to_string(), xxhash_rust::xxh3::xxh3_64(text.as_bytes()));
        if let Some(p) = self.parsed.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
            return p.clone();
        }
        let parsed = Arc::new(lang::parse(lang, text));
        self.parsed.lock().unwrap_or_else(|e| e.into_inner()).insert(key, parsed.clone());
        parsed
    }
}

/// Follows the handler at `path` (whose text is `text`) through the files it reaches in `view`.
pub fn reach(view: &RepoView, path: &str, lang: Language, text: &str, cache: &ParseCache) -> Reach {
    let mut out = Reach::default();
    let mut seen: BTreeSet<String> = BTreeSet::from([path.to_string()]);
    let mut frontier: Vec<(String, Language, String)> = vec![(path.to_string(), lang, text.to_string())];
    for _ in 0..MAX_HOPS {
        let mut wanted: Vec<String> = Vec::new();
        for (from, from_lang, from_text) in &frontier {
            for target in targets(view, from, *from_lang, from_text, &mut out) {
                if seen.insert(target.clone()) {
                    wanted.push(target);
                }
            }
        }
        let room = MAX_FILES.saturating_sub(out.files.len());
        if wanted.len() > room {
            let cut = wanted.split_off(room);
            out.unresolved.push(format!("{} more files reached past the first {MAX_FILES} were not followed: {}", cut.len(), first_few(&cut)));
            out.not_followed.extend(cut);
        }
        if wanted.is_empty() {
            break;
        }
        frontier.clear();
        for (target, text) in wanted.iter().zip(view.read_many(&wanted)) {
            let Some(text) = text else { continue };
            let Some(target_lang) = Language::of_path(target) else { continue };
            if text.len() > MAX_FILE_BYTES || looks_generated(&text) {
                out.unresolved.push(format!("{target}: generated or minified, not followed"));
                continue;
            }
            let parsed = cache.get(target, target_lang, &text);
            out.files.push(Loaded { path: target.clone(), lang: target_lang, parsed });
            frontier.push((target.clone(), target_lang, text));
        }
    }
    out
}

/// Generated files larger than this are not followed (protobuf and API clients);
/// smaller ones are, because generated query code (sqlc, jOOQ-style) holds the
/// SQL the app's helpers run.
const MAX_GENERATED_BYTES: usize = 64 * 1024;

/// Minified bundles (very long lines) and large files marked generated: not code to read as the app's.
pub(crate) fn looks_generated(text: &str) -> bool {
    let lines = text.lines().count().max(1);
    let marked = || text.lines().take(5).any(|l| l.contains("@generated") || l.contains("DO NOT EDIT"));
    text.len() / lines > 400 || (text.len() > MAX_GENERATED_BYTES && marked())
}

/// The repository files `from` points at, recording the names it binds.
fn targets(view: &RepoView, from: &str, lang: Language, text: &str, out: &mut Reach) -> Vec<String> {
    let mut files = Vec::new();
    let bind = |out: &mut Reach, local: Option<(&str, &str)>, module: Option<&str>, found: &[String]| {
        if let Some((local, original)) = local {
            out.imports.names.entry(local.to_string()).or_insert_with(|| (original.to_string(), found.to_vec()));
        }
        if let Some(m) = module {
            out.imports.modules.entry(m.to_string()).or_default().extend(found.iter().cloned());
        }
    };
    match lang {
        Language::TypeScript | Language::Tsx | Language::JavaScript => {
            for imp in js_imports(text) {
                let found = resolve_js(view, from, &imp.spec);
                if found.is_empty() && (imp.spec.starts_with('.') || imp.spec.starts_with("@/") || imp.spec.starts_with("~/")) {
                    out.unresolved.push(format!("{from}: import '{}' names no file of the repository", imp.spec));
                }
                for (local, original) in &imp.names {
                    bind(out, Some((local, original)), None, &found);
                }
                if let Some(ns) = &imp.namespace {
                    bind(out, None, Some(ns), &found);
                }
                if !found.is_empty() {
                    out.imports.specs.entry(imp.spec.clone()).or_insert_with(|| found.clone());
                }
                files.extend(found);
            }
        }
        Language::Python => {
            for imp in python_imports(text) {
                let found = resolve_python(view, from, &imp.spec, &imp.names);
                if found.is_empty() && imp.spec.starts_with('.') {
                    out.unresolved.push(format!("{from}: import '{}' names no file of the repository", imp.spec));
                }
                for (local, original) in &imp.names {
                    bind(out, Some((local, original)), None, &found);
                }
                if let Some(ns) = &imp.namespace {
                    bind(out, None, Some(ns), &found);
                }
                files.extend(found);
            }
        }
        Language::Go => {
            // The handler's own package: the non-test files of its directory that declare
            // a name the file uses (a package's other files are not reached by its calls).
            let dir = dir_of(from);
            let own: Vec<String> = view.paths.iter().filter(|p| dir_of(p) == dir && p.ends_with(".go") && !p.ends_with("_test.go") && *p != from).cloned().collect();
            let mut uses = GoUses::of(out.focus.get(from).map_or(text, String::as_str));
            let mut declaring = go_declaring(view, &own, &uses, None);
            // The types the package's reached declarations name (`db *db.MongoStorage` in the
            // struct of service.go) type the calls made here (`s.db.SetSubscription(` in
            // webhook.go): the handler's methods need not sit in the file of their struct.
            let mut imports = go_imports(text);
            for d in &declaring {
                let field_lines: Vec<&str> = go_spans(&d.text)
                    .filter(|span| span.starts_with("type ") && span.contains("struct"))
                    .flat_map(|span| span.lines().skip(1))
                    .filter(|line| line.split_whitespace().next().is_some_and(|field| uses.methods.contains(field)))
                    .collect();
                let named = GoUses::of(&field_lines.join("\n"));
                // The package of a field's type (`*db.MongoStorage`) as that file imports it.
                for (alias, path) in go_imports(&d.text) {
                    let local = alias.clone().unwrap_or_else(|| path.rsplit('/').next().unwrap_or(&path).to_string());
                    let typed = named.selected.iter().any(|(owner, _)| *owner == local);
                    if typed && !imports.iter().any(|(_, p)| *p == path) {
                        imports.push((alias, path));
                    }
                }
                uses.selected.extend(named.selected);
                uses.idents.extend(named.idents);
            }
            for (alias, import_path) in imports {
                let last = import_path.rsplit('/').next().unwrap_or(&import_path).to_string();
                let found: Vec<String> = package_dirs(view, &import_path)
                    .into_iter()
                    .flat_map(|d| view.paths.iter().filter(move |p| dir_of(p) == d && p.ends_with(".go") && !p.ends_with("_test.go")).cloned())
                    .collect();
                let alias = alias.as_deref().unwrap_or(&last);
                bind(out, None, Some(alias), &found);
                let imported = go_declaring(view, &found, &uses, Some(alias));
                declaring.extend(go_implementations(view, &imported, &uses));
                declaring.extend(imported);
            }
            for d in declaring {
                let focus = out.focus.entry(d.path.clone()).or_default();
                focus.push('\n');
                focus.push_str(&d.focus);
                files.push(d.path);
            }
        }
        Language::Php => {
            // A class is followed when the file calls into it (see `PhpUses`), not
            // because it is imported, hinted or named as `Foo::class`.
            let uses = PhpUses::of(text);
            let imported = php_uses(text);
            let mut called: Vec<String> = Vec::new();
            for (alias, class_path) in &imported {
                let found: Vec<String> = class_file(view, class_path, ".php");
                bind(out, None, Some(alias), &found);
                if let Some(how) = uses.how(alias) {
                    called.extend(found.into_iter().filter(|f| how == PhpUse::Always || php_declares_called(view, f, &uses)));
                }
            }
            for (name, how) in &uses.classes {
                let first = name.split('\\').next().unwrap_or(name);
                if imported.iter().any(|(alias, _)| alias == first) || vendor_constant(name.rsplit('\\').next().unwrap_or(name)) {
                    continue;
                }
                let found = class_file(view, name, ".php");
                bind(out, None, Some(name.rsplit('\\').next().unwrap_or(name)), &found);
                called.extend(found.into_iter().filter(|f| *how == PhpUse::Always || php_declares_called(view, f, &uses)));
            }
            // Symfony services fetched from the container (`$this->get('subscription_helper')`)
            // are classes of the service's name (`SubscriptionHelper.php`) by convention.
            static SERVICE: OnceLock<Regex> = OnceLock::new();
            for c in re(&SERVICE, r#"\$this->get\(\s*['"]([a-z][a-z0-9_]*)['"]\s*\)"#).captures_iter(text).take(20) {
                for f in class_file(view, &super::external::camel(&c[1]), ".php") {
                    if !called.contains(&f) {
                        called.push(f);
                    }
                }
            }
            files.extend(called);
        }
        Language::Ruby => {
            for c in constants(text) {
                let snake: Vec<String> = c.split("::").map(snake_case).collect();
                let found: Vec<String> = view.with_suffix(&format!("{}.rb", snake.join("/"))).into_iter().take(2).map(str::to_string).collect();
                bind(out, None, Some(c.rsplit("::").next().unwrap_or(&c)), &found);
                files.extend(found);
            }
        }
        Language::Elixir => {
            for (alias, module) in elixir_modules(text) {
                let snake: Vec<String> = module.split('.').map(snake_case).collect();
                let mut found: Vec<String> = Vec::new();
                for n in (1..=snake.len().min(2)).rev() {
                    let suffix = format!("{}.ex", snake[snake.len() - n..].join("/"));
                    found = view.with_suffix(&suffix).into_iter().take(2).map(str::to_string).collect();
                    if !found.is_empty() {
                        break;
                    }
                }
                bind(out, None, Some(&alias), &found);
                files.extend(found);
            }
        }
        Language::Rust => {
            // Each path the file names reaches the one module file that holds its item (the
            // longest prefix that is a file), not every module on the way; a `mod x;` line
            // only declares, and is followed when the file goes on to use `x::`.
            for (module, found) in rust_modules(text).iter().filter_map(|path| rust_module_file(view, from, path)) {
                let last = module.rsplit('/').next().unwrap_or(&module).to_string();
                bind(out, None, Some(&last), std::slice::from_ref(&found));
                files.push(found);
            }
        }
    }
    files.retain(|f| f != from && view.exists(f));
    files.sort();
    files.dedup();
    files
}

/// The regex in `cell`, compiled from `pattern` on first use.
pub(crate) fn re(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(pattern).expect("a valid pattern"))
}

struct Import {
    spec: String,
    /// (local name, original name).
    names: Vec<(String, String)>,
    namespace: Option<String>,
}

/// `import ... from 'x'`, `export ... from 'x'`, `require('x')`, `import('x')`.
fn js_imports(text: &str) -> Vec<Import> {
    static FROM: OnceLock<Regex> = OnceLock::new();
    static REQUIRE: OnceLock<Regex> = OnceLock::new();
    let from = re(&FROM, r#"(?s)(?:^|[;\n])\s*(?:import|export)\s+(?:type\s+)?([^;'"]*?)\s*from\s*['"]([^'"\n]+)['"]"#);
    let require = re(&REQUIRE, r#"(?:(?:const|let|var)\s+([^=;]+?)\s*=\s*)?(?:await\s+)?(?:require|import)\(\s*['"]([^'"\n]+)['"]\s*\)"#);
    let mut out = Vec::new();
    for c in from.captures_iter(text) {
        out.push(js_clause(&c[1], &c[2]));
    }
    for c in require.captures_iter(text) {
        out.push(js_clause(c.get(1).map_or("", |m| m.as_str()), &c[2]));
    }
    out.extend(js_event_templates(text).into_iter().map(|spec| Import { spec, names: Vec::new(), namespace: None }));
    out
}

/// Per-event modules loaded by name: `require(`./events/${code}`)` in a file that
/// lists event types gives `./events/invoice.paid` for each type listed.
fn js_event_templates(text: &str) -> Vec<String> {
    static TEMPLATE: OnceLock<Regex> = OnceLock::new();
    static LITERAL: OnceLock<Regex> = OnceLock::new();
    let template = re(&TEMPLATE, r#"(?:require|import)\(\s*`([^`$]*)\$\{\s*[A-Za-z_$][\w$.]*\s*\}([^`$]*)`\s*\)"#);
    let literal = re(&LITERAL, r#"['"`]([a-z_]+(?:\.[a-z_]+)+)['"`]"#);
    let templates: Vec<(String, String)> = template.captures_iter(text).map(|c| (c[1].to_string(), c[2].to_string())).collect();
    if templates.is_empty() {
        return Vec::new();
    }
    let events: BTreeSet<&str> = literal.captures_iter(text).map(|c| c.get(1).map_or("", |m| m.as_str())).filter(|e| super::vocab::is_event_type(e)).collect();
    let mut out = Vec::new();
    for (prefix, suffix) in &templates {
        out.extend(events.iter().map(|e| format!("{prefix}{e}{suffix}")));
    }
    out
}

/// The names an import clause binds: `d`, `{ a, b as c }`, `* as ns`, `{ a: c }` (require).
fn js_clause(clause: &str, spec: &str) -> Import {
    let mut imp = Import { spec: spec.to_string(), names: Vec::new(), namespace: None };
    let clause = clause.trim();
    let (outside, inside) = match (clause.find('{'), clause.rfind('}')) {
        (Some(a), Some(b)) if b > a => (format!("{}{}", &clause[..a], &clause[b + 1..]), &clause[a + 1..b]),
        _ => (clause.to_string(), ""),
    };
    for part in inside.split(',') {
        let part = part.trim().trim_start_matches("type ").trim();
        let (orig, local) = match part.split_once(" as ").or_else(|| part.split_once(':')) {
            Some((o, l)) => (o.trim(), l.trim()),
            None => (part, part),
        };
        if is_ident(orig) && is_ident(local) {
            imp.names.push((local.to_string(), orig.to_string()));
        }
    }
    for part in outside.split(',') {
        let part = part.trim();
        if let Some(ns) = part.strip_prefix('*').and_then(|r| r.trim().strip_prefix("as ")) {
            imp.namespace = Some(ns.trim().to_string());
        } else if is_ident(part) {
            // A default import: both a function (`import handle from`) and a module object.
            imp.names.push((part.to_string(), "default".to_string()));
            imp.namespace = Some(part.to_string());
        }
    }
    imp
}

fn is_ident(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '$') && !s.chars().next().is_some_and(|c| c.is_ascii_digit())
}

/// The module a JavaScript/TypeScript file only re-exports (`module.exports = require('./webhook')`,
/// `export * from './webhook'`, `export { default } from './webhook'`): the specifier, when
/// that one statement (with comments and a `'use strict'`) is the whole file.
pub fn reexport_spec(text: &str) -> Option<&str> {
    static SHAPE: OnceLock<Regex> = OnceLock::new();
    let shape = re(&SHAPE, r#"^(?:module\.exports\s*=\s*require\(\s*|export\s+(?:\*|\{\s*default(?:\s*,[^}]*)?\})\s+from\s+)['"]([^'"]+)['"]\s*\)?\s*;?$"#);
    let mut code = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("//") && !l.starts_with("/*") && !l.starts_with('*') && !l.trim_end_matches(';').trim_matches(['\'', '"']).eq("use strict"));
    let first = code.next()?;
    let spec = match code.next() {
        None => shape.captures(first).and_then(|c| c.get(1)).map(|m| m.as_str()),
        // `const webhook = require('./webhook'); module.exports = webhook;`
        Some(second) => {
            static BOUND: OnceLock<Regex> = OnceLock::new();
            let bound = re(&BOUND, r#"^(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*=\s*require\(\s*['"]([^'"]+)['"]\s*\)\s*;?$"#);
            let c = bound.captures(first)?;
            let exported = second.strip_prefix("module.exports")?.trim_start().strip_prefix('=')?.trim().trim_end_matches(';').trim();
            (code.next().is_none() && exported == &c[1]).then(|| c.get(2).map(|m| m.as_str())).flatten()
        }
    };
    spec.filter(|spec| spec.starts_with('.'))
}

/// The repository file a re-exporting file stands for.
pub fn reexported_file(view: &RepoView, path: &str, lang: Language, text: &str) -> Option<String> {
    if !matches!(lang, Language::JavaScript | Language::TypeScript) {
        return None;
    }
    resolve_js(view, path, reexport_spec(text)?).into_iter().next().filter(|p| p != path)
}

/// The repository files a JavaScript/TypeScript file imports (relative and aliased specifiers).
pub fn js_imported_files(view: &RepoView, from: &str, text: &str) -> Vec<String> {
    js_imports(text).into_iter().flat_map(|imp| resolve_js(view, from, &imp.spec)).collect()
}

const JS_EXTENSIONS: &[&str] = &["", ".ts", ".tsx", ".js", ".jsx", ".mjs", ".cjs", "/index.ts", "/index.tsx", "/index.js", "/index.mjs"];

fn resolve_js(view: &RepoView, from: &str, spec: &str) -> Vec<String> {
    let stem = spec.trim_end_matches(".js").trim_end_matches(".mjs");
    let candidates: Vec<String> = if spec.starts_with('.') {
        vec![join(dir_of(from), stem)]
    } else if let Some(rest) = stem.strip_prefix("@/").or_else(|| stem.strip_prefix("~/")).or_else(|| workspace_alias_tail(stem)) {
        // Path aliases point at the project root or its src/ (tsconfig "paths"): find the
        // file by its suffix, nearest to the importing file first.
        let mut found: Vec<String> = Vec::new();
        // Deno and ESM write the extension (`@/utils/db.ts`): the bare suffix counts when it
        // names a source file.
        for ext in JS_EXTENSIONS {
            let suffix = format!("{rest}{ext}");
            if Language::of_path(&suffix).is_some() {
                found.extend(view.with_suffix(&suffix).into_iter().map(str::to_string));
            }
        }
        let top = from.split('/').next().unwrap_or("");
        found.sort_by_key(|p| (!p.starts_with(top), p.len()));
        return found.into_iter().take(1).collect();
    } else {
        // Packages (node_modules) are not the app's code.
        return Vec::new();
    };
    for base in candidates {
        for ext in JS_EXTENSIONS {
            let p = format!("{base}{ext}");
            if view.exists(&p) && Language::of_path(&p).is_some() {
                return vec![p];
            }
        }
    }
    Vec::new()
}

/// A monorepo's path alias (`@gitroom/nestjs-libraries/services/stripe.service`, mapped by
/// tsconfig "paths" to `libraries/nestjs-libraries/src/*`): the part after the scope and
/// package, when it is deep enough (two segments or more) not to be a package's own entry
/// point (`@mui/material/Button`). Found by its suffix like `@/` aliases.
fn workspace_alias_tail(spec: &str) -> Option<&str> {
    let mut parts = spec.strip_prefix('@')?.splitn(3, '/');
    let (_scope, _package, tail) = (parts.next()?, parts.next()?, parts.next()?);
    (tail.contains('/') && !tail.starts_with("dist/") && !tail.starts_with("lib/")).then_some(tail)
}

/// `dir` joined with a relative path, `..` resolved; never above the root.
fn join(dir: &str, rel: &str) -> String {
    let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
    for seg in rel.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    parts.join("/")
}

/// `from a.b import c as d`, `from . import x`, `import a.b as c`.
fn python_imports(text: &str) -> Vec<Import> {
    static FROM: OnceLock<Regex> = OnceLock::new();
    static PLAIN: OnceLock<Regex> = OnceLock::new();
    let from = re(&FROM, r"(?m)^[ \t]*from[ \t]+([.\w]+)[ \t]+import[ \t]+(\([^)]*\)|[^\n#]+)");
    let plain = re(&PLAIN, r"(?m)^[ \t]*import[ \t]+([\w.]+)(?:[ \t]+as[ \t]+(\w+))?");
    let mut out = Vec::new();
    for c in from.captures_iter(text) {
        let mut imp = Import { spec: c[1].to_string(), names: Vec::new(), namespace: None };
        for part in c[2].trim_matches(['(', ')']).split(',') {
            let part = part.trim();
            let (orig, local) = part.split_once(" as ").map_or((part, part), |(o, l)| (o.trim(), l.trim()));
            if is_ident(orig) {
                imp.names.push((local.to_string(), orig.to_string()));
            }
        }
        out.push(imp);
    }
    for c in plain.captures_iter(text) {
        let spec = c[1].to_string();
        let local = c.get(2).map_or_else(|| spec.rsplit('.').next().unwrap_or(&spec).to_string(), |m| m.as_str().to_string());
        out.push(Import { spec, names: Vec::new(), namespace: Some(local) });
    }
    out
}

fn resolve_python(view: &RepoView, from: &str, spec: &str, names: &[(String, String)]) -> Vec<String> {
    let dots = spec.chars().take_while(|c| *c == '.').count();
    let module = spec[dots..].replace('.', "/");
    let mut bases: Vec<String> = Vec::new();
    if dots > 0 {
        let mut dir = dir_of(from).to_string();
        for _ in 1..dots {
            dir = dir_of(&dir).to_string();
        }
        bases.push(join(&dir, &module));
    }
    let mut out = Vec::new();
    let try_module = |m: &str, out: &mut Vec<String>| {
        for p in [format!("{m}.py"), format!("{m}/__init__.py")] {
            if view.exists(&p) {
                out.push(p);
                return true;
            }
        }
        false
    };
    if dots > 0 {
        for b in &bases {
            try_module(b, &mut out);
            // `from . import billing`: the names may be modules.
            for (_, orig) in names {
                try_module(&join(b, orig), &mut out);
            }
        }
    } else if !module.is_empty() {
        // Absolute: the module from the repository root, or from a source root inside it.
        for p in view.with_suffix(&format!("{module}.py")).into_iter().chain(view.with_suffix(&format!("{module}/__init__.py"))).take(1) {
            out.push(p.to_string());
        }
        for (_, orig) in names {
            // `from app.db import crud`: a module, or a package (`crud/__init__.py`).
            if let Some(p) = view.with_suffix(&format!("{module}/{orig}.py")).first().or(view.with_suffix(&format!("{module}/{orig}/__init__.py")).first()) {
                out.push(p.to_string());
            }
        }
    }
    out
}

/// `import "x/y"` and import blocks, with optional aliases.
fn go_imports(text: &str) -> Vec<(Option<String>, String)> {
    static SPEC: OnceLock<Regex> = OnceLock::new();
    static BLOCK: OnceLock<Regex> = OnceLock::new();
    let block = re(&BLOCK, r"(?s)\bimport\s*\((.*?)\)|\bimport\s+(\w+\s+)?(`[^`]*`|\x22[^\x22]*\x22)");
    let spec = re(&SPEC, r#"(?m)^\s*(\w+\s+)?["`]([^"`]+)["`]"#);
    let mut out = Vec::new();
    for c in block.captures_iter(text) {
        if let Some(body) = c.get(1) {
            for s in spec.captures_iter(body.as_str()) {
                out.push((s.get(1).map(|a| a.as_str().trim().to_string()), s[2].to_string()));
            }
        } else if let Some(path) = c.get(3) {
            out.push((c.get(2).map(|a| a.as_str().trim().to_string()), path.as_str().trim_matches(['"', '`']).to_string()));
        }
    }
    out
}

/// The first five of `paths`, and how many more: `a.go, b.go and 3 more`.
pub fn first_few<S: AsRef<str>>(paths: &[S]) -> String {
    let shown: Vec<&str> = paths.iter().take(5).map(AsRef::as_ref).collect();
    let more = if paths.len() > shown.len() { format!(" and {} more", paths.len() - shown.len()) } else { String::new() };
    format!("{}{more}", shown.join(", "))
}

/// The names a Go file uses: bare identifiers, `pkg.Name` selectors and `.Method(` calls.
struct GoUses {
    idents: BTreeSet<String>,
    selected: BTreeSet<(String, String)>,
    methods: BTreeSet<String>,
}

impl GoUses {
    fn of(text: &str) -> GoUses {
        static IDENT: OnceLock<Regex> = OnceLock::new();
        static SELECT: OnceLock<Regex> = OnceLock::new();
        let ident = re(&IDENT, r"[A-Za-z_][A-Za-z0-9_]*");
        let select = re(&SELECT, r"\.\s*([A-Za-z_][A-Za-z0-9_]*)");
        let mut uses = GoUses { idents: BTreeSet::new(), selected: BTreeSet::new(), methods: BTreeSet::new() };
        uses.idents.extend(ident.find_iter(text).map(|m| m.as_str().to_string()));
        // Each selector of a chain: `h.service.Expire(` selects `service` and `Expire`.
        for c in select.captures_iter(text) {
            let before = text[..c.get(0).map_or(0, |m| m.start())].trim_end();
            let owner = &before[before.trim_end_matches(|ch: char| ch.is_ascii_alphanumeric() || ch == '_').len()..];
            if !owner.is_empty() {
                uses.selected.insert((owner.to_string(), c[1].to_string()));
            }
            uses.methods.insert(c[1].to_string());
        }
        uses
    }
}

/// Of a Go package's `files`, those that declare a name `uses` refers to: with
/// `qualifier` (an imported package's name) its `qualifier.Name` functions, types,
/// variables and constants; without (the file's own package) the bare names; in
/// both, methods called by name (`.UpdateExpiry(`) on a type the file names,
/// common interface methods aside.
fn go_declaring(view: &RepoView, files: &[String], uses: &GoUses, qualifier: Option<&str>) -> Vec<Declaring> {
    static DECL: OnceLock<Regex> = OnceLock::new();
    static GROUPED: OnceLock<Regex> = OnceLock::new();
    let decl = re(&DECL, r"(?m)^(?:func\s*(\([^)]*\))?\s*([A-Za-z_][A-Za-z0-9_]*)|(?:type|var|const)\s+([A-Za-z_][A-Za-z0-9_]*))");
    let grouped = re(&GROUPED, r"(?ms)^(?:type|var|const)\s*\((.*?)^\)");
    const COMMON: &[&str] = &["String", "Error", "Scan", "Value", "MarshalJSON", "UnmarshalJSON", "Validate", "Len", "Less", "Swap"];
    // A method counts only when the file names its receiver's type: `.Index(` is
    // called on every handler, but only `MessageHandler`'s file names that type. An
    // unexported receiver the file does not name implements an interface it names,
    // and holds its name:
    // `gormUserRepository` is reached through `UserRepository`.
    let exported: Vec<String> = uses.idents.iter().filter(|i| i.len() >= 4 && i.starts_with(|c: char| c.is_ascii_uppercase())).map(|i| i.to_ascii_lowercase()).collect();
    let receiver_named = |receiver: &str| {
        let ty = receiver.trim_matches(['(', ')']).split('[').next().unwrap_or("").split([' ', '*']).filter(|w| !w.is_empty()).last().unwrap_or("");
        if uses.idents.contains(ty) {
            return true;
        }
        if ty.starts_with(|c: char| c.is_ascii_uppercase()) {
            return false;
        }
        let ty = ty.to_ascii_lowercase();
        exported.iter().any(|i| ty.contains(i.as_str()))
    };
    let used = |name: &str, receiver: Option<&str>| {
        if let Some(receiver) = receiver {
            return !COMMON.contains(&name) && uses.methods.contains(name) && receiver_named(receiver);
        }
        match qualifier {
            Some(q) => uses.selected.contains(&(q.to_string(), name.to_string())),
            None => uses.idents.contains(name),
        }
    };
    let decl_used = |span: &str| {
        if let Some(c) = grouped.captures(span).filter(|c| c.get(0).is_some_and(|m| m.start() == 0)) {
            return c[1].lines().filter_map(|l| l.split_whitespace().next()).any(|n| n.chars().all(|ch| ch.is_alphanumeric() || ch == '_') && used(n, None));
        }
        decl.captures(span).is_some_and(|c| match (c.get(1), c.get(2), c.get(3)) {
            (Some(r), Some(n), _) => used(n.as_str(), Some(r.as_str())),
            (None, Some(n), _) | (_, _, Some(n)) => used(n.as_str(), None),
            _ => false,
        })
    };
    let texts = view.read_many(files);
    files
        .iter()
        .zip(texts)
        .filter_map(|(p, t)| {
            let t = t?;
            let spans: Vec<&str> = go_spans(&t).filter(|span| decl_used(span)).collect();
            let focus = (!spans.is_empty()).then(|| go_focus(&spans))?;
            Some(Declaring { path: p.clone(), text: t, focus })
        })
        .collect()
}

/// A Go file reached through some of its declarations: what the next hop follows
/// is what those declarations use (`focus`), not the whole file, so a service with
/// forty methods leads only where the called ones go.
struct Declaring {
    path: String,
    text: String,
    focus: String,
}

/// The reached declarations of a file, with each struct cut to the fields the others
/// select (`s.users`) and its embedded types: a service holding forty repositories
/// leads to the one its called method uses.
fn go_focus(spans: &[&str]) -> String {
    static STRUCT: OnceLock<Regex> = OnceLock::new();
    static SELECTED: OnceLock<Regex> = OnceLock::new();
    let is_struct = re(&STRUCT, r"^type\s+[A-Za-z_][A-Za-z0-9_]*(?:\[[^\]]*\])?\s+struct\s*\{");
    let selected = re(&SELECTED, r"\.\s*([A-Za-z_][A-Za-z0-9_]*)");
    let (structs, rest): (Vec<&str>, Vec<&str>) = spans.iter().partition(|s| is_struct.is_match(s));
    let fields: BTreeSet<&str> = rest.iter().flat_map(|s| selected.captures_iter(s).filter_map(|c| c.get(1)).map(|m| m.as_str())).collect();
    let mut out = rest.join("\n");
    for span in structs {
        for line in span.lines() {
            let words: Vec<&str> = line.split_whitespace().collect();
            let keep = match words.as_slice() {
                [] => false,
                [first, ..] if first.starts_with("type") || first.starts_with('}') || first.starts_with("//") => true,
                [_embedded] => true,
                [name, ..] => fields.contains(name.trim_end_matches(',')),
            };
            if keep {
                out.push('\n');
                out.push_str(line);
            }
        }
    }
    out
}

/// The top-level declarations of a Go file, each from its `func`/`type`/`var`/`const`
/// line up to the next one.
fn go_spans(text: &str) -> impl Iterator<Item = &str> {
    static START: OnceLock<Regex> = OnceLock::new();
    let start = re(&START, r"(?m)^(?:func|type|var|const)\b");
    let starts: Vec<usize> = start.find_iter(text).map(|m| m.start()).collect();
    let ends: Vec<usize> = starts.iter().skip(1).copied().chain([text.len()]).collect();
    starts.into_iter().zip(ends).map(move |(a, b)| &text[a..b])
}

/// Implementations of the interfaces that the `declaring` files declare, for the
/// interface methods the handler calls: `db.Users.Cancel(id)` where `Users UserServices`
/// is an interface of package `data`, and `func (u *Users) Cancel` is in `data/postgres`.
/// The app wires the implementation in `main`, out of the handler's imports, so it is
/// looked for below the interface's package (then below its parent), never in tests or mocks.
fn go_implementations(view: &RepoView, declaring: &[Declaring], uses: &GoUses) -> Vec<Declaring> {
    static IFACE: OnceLock<Regex> = OnceLock::new();
    static METHOD: OnceLock<Regex> = OnceLock::new();
    static IMPL: OnceLock<Regex> = OnceLock::new();
    let iface = re(&IFACE, r"(?ms)^type\s+[A-Za-z_][A-Za-z0-9_]*\s+interface\s*\{(.*?)^\}");
    let method = re(&METHOD, r"(?m)^\s*([A-Z][A-Za-z0-9_]*)\s*\(");
    let implementing = re(&IMPL, r"(?m)^func\s*\([^)]*\)\s*([A-Z][A-Za-z0-9_]*)\s*\(");
    const MAX_CANDIDATES: usize = 200;
    let mut methods: BTreeSet<String> = BTreeSet::new();
    let mut dirs: BTreeSet<String> = BTreeSet::new();
    for Declaring { path, text, .. } in declaring {
        for block in iface.captures_iter(text) {
            for m in method.captures_iter(&block[1]) {
                if uses.methods.contains(&m[1]) {
                    methods.insert(m[1].to_string());
                    dirs.insert(dir_of(path).to_string());
                }
            }
        }
    }
    if methods.is_empty() {
        return Vec::new();
    }
    let test_or_mock = |p: &str| p.ends_with("_test.go") || ["mock", "fake", "stub", "testdata"].iter().any(|w| p.to_ascii_lowercase().contains(w));
    let below = |roots: &BTreeSet<String>| -> Vec<String> {
        view.paths
            .iter()
            .filter(|p| p.ends_with(".go") && !test_or_mock(p))
            .filter(|p| roots.iter().any(|d| dir_of(p) != d && (d.is_empty() || p.starts_with(&format!("{d}/")))))
            .take(MAX_CANDIDATES)
            .cloned()
            .collect()
    };
    let mut candidates = below(&dirs);
    if candidates.is_empty() {
        candidates = below(&dirs.iter().map(|d| dir_of(d).to_string()).collect());
    }
    candidates
        .iter()
        .zip(view.read_many(&candidates))
        .filter_map(|(p, t)| {
            let t = t?;
            let focus: String = go_spans(&t).filter(|span| implementing.captures(span).is_some_and(|c| c.get(0).is_some_and(|m| m.start() == 0) && methods.contains(&c[1]))).collect::<Vec<_>>().join("\n");
            (!focus.is_empty()).then(|| Declaring { path: p.clone(), text: t, focus })
        })
        .collect()
}

/// Directories of the repository that hold the Go package `import_path`: the
/// longest suffix of the import path that is a directory with Go files.
fn package_dirs(view: &RepoView, import_path: &str) -> Vec<String> {
    let segs: Vec<&str> = import_path.split('/').collect();
    for start in 0..segs.len() {
        let suffix = segs[start..].join("/");
        let dirs: BTreeSet<String> =
            view.paths.iter().filter(|p| p.ends_with(".go")).map(|p| dir_of(p).to_string()).filter(|d| d == &suffix || d.ends_with(&format!("/{suffix}"))).collect();
        if !dirs.is_empty() && (start > 0 || dirs.len() == 1) {
            return dirs.into_iter().take(1).collect();
        }
        if start + 1 == segs.len() {
            break;
        }
    }
    Vec::new()
}

/// PHP `use A\B\C;`, `use A\B\C as D;`, `use A\B\{C, D};`.
fn php_uses(text: &str) -> Vec<(String, String)> {
    static USE: OnceLock<Regex> = OnceLock::new();
    let pattern = re(&USE, r"(?m)^\s*use\s+([\w\\]+)(?:\\\{([^}]*)\}|\s+as\s+(\w+))?\s*;");
    let mut out = Vec::new();
    for c in pattern.captures_iter(text) {
        let path = c[1].trim_matches('\\').to_string();
        if let Some(group) = c.get(2) {
            for item in group.as_str().split(',') {
                let item = item.trim();
                if is_ident(item) {
                    out.push((item.to_string(), format!("{path}\\{item}")));
                }
            }
        } else {
            let alias = c.get(3).map_or_else(|| path.rsplit('\\').next().unwrap_or(&path).to_string(), |a| a.as_str().to_string());
            out.push((alias, path));
        }
    }
    out
}

/// The file of a class `A\B\C` (or a bare `C`): `.../B/C.php`, else `C.php`.
fn class_file(view: &RepoView, class_path: &str, ext: &str) -> Vec<String> {
    let segs: Vec<&str> = class_path.split(['\\', ':']).filter(|s| !s.is_empty()).collect();
    let Some(last) = segs.last() else { return Vec::new() };
    if segs.len() >= 2 {
        let two = format!("{}/{last}{ext}", segs[segs.len() - 2]);
        if let Some(p) = view.with_suffix(&two).first() {
            return vec![p.to_string()];
        }
    }
    view.with_suffix(&format!("{last}{ext}")).into_iter().take(1).map(str::to_string).collect()
}

/// Capitalised names used as call receivers: `SubscriptionService.call(...)`,
/// `Billing::Sync.new(x).run`, `BillingService::activate(...)`, `Payments::HandleEvent.(event)`.
fn constants(text: &str) -> BTreeSet<String> {
    static CONST: OnceLock<Regex> = OnceLock::new();
    let pattern = re(&CONST, r"\b((?:[A-Z][A-Za-z0-9]*::)*[A-Z][A-Za-z0-9]+)(?:\.|::|->)(?:new\b|\(|[a-z_]\w*[!?]?\s*\(|[a-z_]\w*[!?]?\b)");
    pattern
        .captures_iter(text)
        .map(|c| c[1].to_string())
        .filter(|c| !vendor_constant(c))
        .take(40)
        .collect()
}

/// Framework and SDK classes called as receivers: not the app's files.
fn vendor_constant(name: &str) -> bool {
    matches!(
        name,
        "Stripe" | "Rails" | "ActiveRecord" | "JSON" | "Time" | "Date" | "DateTime" | "Log" | "Logger" | "Http" | "Response" | "Request" | "Route" | "DB" | "Str" | "Arr" | "Carbon" | "Cashier" | "Paddle" | "Config" | "Cache" | "Auth" | "Mail"
    )
}

/// How a PHP file uses a class it names.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum PhpUse {
    /// Its code runs: `new Foo(...)`, `Foo::dispatch(...)` (a job's `handle`), `extends Foo`,
    /// a trait the class uses, `app(Foo::class)`.
    Always,
    /// Called through (`Foo::where(...)`, a `Foo $x` whose `$x->m()` is called): followed
    /// when its file declares a method the caller calls, else the call goes to the framework
    /// (Eloquent's `where`, `find`) and the file holds nothing the caller reaches.
    IfDeclared,
}

/// The classes a PHP file calls into, and the methods it calls. Imports, type hints
/// nothing is called through, `Foo::class`, `Foo::CONSTANT`, `instanceof Foo`,
/// `catch (FooException $e)`, `throw new FooException` and docblocks are not calls.
struct PhpUses {
    /// Class name as written (`Team`, `Models\Team`), leading `\` trimmed.
    classes: Vec<(String, PhpUse)>,
    /// Method names called (`->m(`, `::m(`), lower-cased: PHP method names are case-insensitive.
    methods: BTreeSet<String>,
}

impl PhpUses {
    fn of(text: &str) -> PhpUses {
        static COMMENTS: OnceLock<Regex> = OnceLock::new();
        static STATIC: OnceLock<Regex> = OnceLock::new();
        static NEW: OnceLock<Regex> = OnceLock::new();
        static EXTENDS: OnceLock<Regex> = OnceLock::new();
        static CLASS: OnceLock<Regex> = OnceLock::new();
        static TRAIT: OnceLock<Regex> = OnceLock::new();
        static CONTAINER: OnceLock<Regex> = OnceLock::new();
        static CATCH: OnceLock<Regex> = OnceLock::new();
        static TYPED: OnceLock<Regex> = OnceLock::new();
        static METHOD: OnceLock<Regex> = OnceLock::new();
        static VAR_CALL: OnceLock<Regex> = OnceLock::new();
        static PROP_CALL: OnceLock<Regex> = OnceLock::new();
        static RETURNS: OnceLock<Regex> = OnceLock::new();
        const NAME: &str = r"\\?([A-Z][\w]*(?:\\[A-Za-z_]\w*)*)";
        let comments = re(&COMMENTS, r"(?ms)/\*.*?\*/|(?:^|[ \t])(?://[^\n]*|#(?:[^\[\n][^\n]*)?$)");
        let text = comments.replace_all(text, " ");
        let statics = re(&STATIC, &format!(r"{NAME}\s*::\s*([A-Za-z_]\w*)\s*\("));
        let new = re(&NEW, &format!(r"(\bthrow\s+)?\bnew\s+{NAME}"));
        let extends = re(&EXTENDS, &format!(r"\bextends\s+{NAME}"));
        let class = re(&CLASS, r"(?m)^\s*(?:(?:abstract|final|readonly)\s+)*(?:class|trait|enum)\s+\w+");
        let traits = re(&TRAIT, r"(?m)^\s*use\s+([\w\\,\s]+?)\s*[;{]");
        let container = re(&CONTAINER, &format!(r"\b(?:app|resolve|make|makeWith)\(\s*{NAME}::class"));
        let catch = re(&CATCH, r"\bcatch\s*\([^)]*\)");
        let typed = re(&TYPED, &format!(r"(?:^|[(,\s?|]){NAME}\s+&?(?:\.\.\.)?\$(\w+)"));
        let method = re(&METHOD, r"(?:->|::)\s*([A-Za-z_]\w*)\s*\(");
        let var_call = re(&VAR_CALL, r"\$(\w+)\s*\??->\s*\w+\s*\(");
        let prop_call = re(&PROP_CALL, r"\$this\s*\??->\s*(\w+)\s*\??->\s*\w+\s*\(");
        let returns = re(&RETURNS, &format!(r"\bfunction\s+&?\w+\s*\([^)]*\)\s*:\s*\??{NAME}"));
        let mut uses = PhpUses { classes: Vec::new(), methods: BTreeSet::new() };
        for c in statics.captures_iter(&text) {
            let dispatched = c[2].starts_with("dispatch") || matches!(&c[2], "run" | "make" | "handle");
            uses.add(&c[1], if dispatched { PhpUse::Always } else { PhpUse::IfDeclared });
        }
        for c in new.captures_iter(&text).filter(|c| c.get(1).is_none()) {
            uses.add(&c[2], PhpUse::Always);
        }
        for c in extends.captures_iter(&text).chain(container.captures_iter(&text)) {
            uses.add(&c[1], PhpUse::Always);
        }
        // `use Billable;` inside a class body is a trait the class includes.
        if let Some(start) = class.find(&text) {
            for c in traits.captures_iter(&text[start.start()..]) {
                for t in c[1].split(',').map(|t| t.trim().trim_start_matches('\\')) {
                    if t.starts_with(|ch: char| ch.is_ascii_uppercase()) {
                        uses.add(t, PhpUse::Always);
                    }
                }
            }
        }
        let receivers: BTreeSet<&str> = var_call.captures_iter(&text).chain(prop_call.captures_iter(&text)).filter_map(|c| c.get(1)).map(|m| m.as_str()).collect();
        let uncaught = catch.replace_all(&text, " ");
        for c in typed.captures_iter(&uncaught) {
            if receivers.contains(&c[2]) {
                uses.add(&c[1], PhpUse::IfDeclared);
            }
        }
        // `function findSubscription(...): ?Subscription`: what the file calls on the result
        // (`$subscription->sync(...)`) may be that class's method.
        for c in returns.captures_iter(&text) {
            uses.add(&c[1], PhpUse::IfDeclared);
        }
        uses.methods.extend(method.captures_iter(&text).map(|c| c[1].to_ascii_lowercase()));
        uses
    }

    fn add(&mut self, name: &str, how: PhpUse) {
        let name = name.trim_start_matches('\\');
        if matches!(name, "self" | "static" | "parent") {
            return;
        }
        match self.classes.iter_mut().find(|(n, _)| n == name) {
            Some((_, h)) => {
                if how == PhpUse::Always {
                    *h = how;
                }
            }
            None => self.classes.push((name.to_string(), how)),
        }
    }

    /// How the file uses the class imported as `alias` (`Team`, or `Models` of `Models\Team`).
    fn how(&self, alias: &str) -> Option<PhpUse> {
        self.classes
            .iter()
            .filter(|(n, _)| n == alias || n.strip_prefix(alias).is_some_and(|r| r.starts_with('\\')))
            .map(|(_, h)| *h)
            .max_by_key(|h| *h == PhpUse::Always)
    }
}

/// Whether the PHP file at `path` declares a method the caller calls.
fn php_declares_called(view: &RepoView, path: &str, uses: &PhpUses) -> bool {
    static FUNCTION: OnceLock<Regex> = OnceLock::new();
    let function = re(&FUNCTION, r"\bfunction\s+&?([A-Za-z_]\w*)\s*\(");
    view.read_one(path).is_some_and(|t| function.captures_iter(&t).any(|c| uses.methods.contains(&c[1].to_ascii_lowercase())))
}

/// Elixir modules called or aliased: (the name used in the file, the full module).
fn elixir_modules(text: &str) -> Vec<(String, String)> {
    static ALIAS: OnceLock<Regex> = OnceLock::new();
    static CALL: OnceLock<Regex> = OnceLock::new();
    let alias = re(&ALIAS, r"(?m)^\s*alias\s+([A-Z][\w.]*)(?:\.\{([^}]*)\})?(?:,\s*as:\s*([A-Z]\w*))?");
    let call = re(&CALL, r"\b([A-Z]\w*(?:\.[A-Z]\w*)*)\.[a-z_]\w*[!?]?\(");
    let mut out = Vec::new();
    for c in alias.captures_iter(text) {
        let module = c[1].to_string();
        if let Some(group) = c.get(2) {
            for item in group.as_str().split(',').map(str::trim).filter(|i| !i.is_empty()) {
                out.push((item.rsplit('.').next().unwrap_or(item).to_string(), format!("{module}.{item}")));
            }
        } else {
            let local = c.get(3).map_or_else(|| module.rsplit('.').next().unwrap_or(&module).to_string(), |a| a.as_str().to_string());
            out.push((local, module));
        }
    }
    for c in call.captures_iter(text) {
        let m = c[1].to_string();
        if !matches!(m.as_str(), "Repo" | "Enum" | "Map" | "Logger" | "Stripe" | "Plug.Conn" | "Jason" | "String" | "DateTime" | "Ecto.Changeset") && !out.iter().any(|(l, _)| *l == m) {
            out.push((m.rsplit('.').next().unwrap_or(&m).to_string(), m));
        }
    }
    out.truncate(40);
    out
}

/// The module paths a Rust file names: `crate::a::b::C` as `crate/a/b/C`,
/// `super::x::f` as `super/x/f`, grouped uses expanded (`use crate::db::{users, plans}`),
/// and `x` of a `mod x;` line when the file uses `x::` (a re-export or a call).
fn rust_modules(text: &str) -> Vec<String> {
    static MODS: OnceLock<Regex> = OnceLock::new();
    static PATHS: OnceLock<Regex> = OnceLock::new();
    static USES: OnceLock<Regex> = OnceLock::new();
    static LOCAL: OnceLock<Regex> = OnceLock::new();
    let mods = re(&MODS, r"(?m)^\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+(\w+)\s*;");
    let paths = re(&PATHS, r"(?:^|[^\w:])((?:crate|super|self)(?:::\w+)+)(::\{)?");
    let uses = re(&USES, r"\buse\s+((?:crate|super|self)\s*::[^;]*);");
    let local = re(&LOCAL, r"(?:^|[^\w:])(\w+)::");
    let mut out: Vec<String> = Vec::new();
    let mut add = |path: &str| {
        let segs: Vec<&str> = path.split("::").map(str::trim).filter(|s| !s.is_empty() && *s != "*").collect();
        let p = segs.join("/");
        if segs.len() > 1 && !out.contains(&p) {
            out.push(p);
        }
    };
    // Use trees, nested groups expanded (`use crate::{db::{users, plans as p}, state::AppState};`).
    for c in uses.captures_iter(text) {
        let mut paths = Vec::new();
        use_tree(&c[1], "", &mut paths);
        paths.iter().for_each(|p| add(p));
    }
    // Paths in code (`crate::db::users::set_plan(...)`); a group's prefix is no path of its own.
    for c in paths.captures_iter(text).filter(|c| c.get(2).is_none()) {
        add(&c[1]);
    }
    let declared: BTreeSet<&str> = mods.captures_iter(text).filter_map(|c| c.get(1)).map(|m| m.as_str()).collect();
    let outside_mod_lines = mods.replace_all(text, "");
    let used: BTreeSet<&str> = local.captures_iter(&outside_mod_lines).filter_map(|c| c.get(1)).map(|m| m.as_str()).filter(|m| declared.contains(m)).collect();
    for m in declared.iter().filter(|m| used.contains(*m)) {
        add(&format!("self::{m}"));
    }
    out.truncate(200);
    out
}

/// The paths a Rust use tree names, `prefix` first: `a::{b, c::{d, e as f}, self}` gives
/// `a::b`, `a::c::d`, `a::c::e` and `a`.
fn use_tree(tree: &str, prefix: &str, out: &mut Vec<String>) {
    let join = |head: &str| match (prefix.is_empty(), head.is_empty()) {
        (true, _) => head.to_string(),
        (false, true) => prefix.to_string(),
        (false, false) => format!("{prefix}::{head}"),
    };
    let mut depth = 0usize;
    let mut start = 0;
    let mut items = Vec::new();
    for (i, ch) in tree.char_indices() {
        match ch {
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                items.push(&tree[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(&tree[start..]);
    for item in items.into_iter().map(str::trim).filter(|i| !i.is_empty()) {
        match (item.find('{'), item.rfind('}')) {
            (Some(open), Some(close)) if close > open => {
                let head = item[..open].trim().trim_end_matches(':').trim();
                use_tree(&item[open + 1..close], &join(head), out);
            }
            _ => {
                let name = item.split(" as ").next().unwrap_or("").trim();
                out.push(if name == "self" || name == "*" { join("") } else { join(name) });
            }
        }
    }
}

/// The file of a Rust module path from `rust_modules` named in `from`: the longest prefix
/// of it that is a module file (`a/b.rs` or `a/b/mod.rs`), `crate` read from the crate's
/// `src/` directory and `self` and `super` from `from`'s own module, with its module path.
fn rust_module_file(view: &RepoView, from: &str, path: &str) -> Option<(String, String)> {
    let segs: Vec<&str> = path.split('/').collect();
    let root = *segs.first()?;
    let supers = segs.iter().take_while(|s| **s == "super").count();
    let rest = &segs[supers.max(1)..];
    let module_dir = match file_name(from) {
        "mod.rs" | "lib.rs" | "main.rs" => dir_of(from).to_string(),
        _ => from.trim_end_matches(".rs").to_string(),
    };
    let base: Option<String> = match root {
        "crate" => crate_src(from),
        "self" => Some(module_dir),
        _ => Some((0..supers).fold(module_dir, |d, _| dir_of(&d).to_string())),
    };
    for n in (1..=rest.len()).rev() {
        let module = rest[..n].join("/");
        let found = match &base {
            Some(b) => {
                let at = |suffix: &str| if b.is_empty() { suffix.to_string() } else { format!("{b}/{suffix}") };
                [at(&format!("{module}.rs")), at(&format!("{module}/mod.rs"))].into_iter().find(|p| view.exists(p))
            }
            // No `src/` above the file: the module by its path's end anywhere.
            None => [format!("{module}.rs"), format!("{module}/mod.rs")].iter().find_map(|s| view.with_suffix(s).first().map(|p| p.to_string())),
        };
        if let Some(f) = found {
            return Some((module, f));
        }
    }
    None
}

/// The `src` directory of the crate holding `path` (`server/src`), if it is under one.
fn crate_src(path: &str) -> Option<String> {
    let dir = dir_of(path);
    let segs: Vec<&str> = dir.split('/').collect();
    let at = segs.iter().rposition(|s| *s == "src")?;
    Some(segs[..=at].join("/"))
}

/// `SubscriptionService` -> `subscription_service`.
pub fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    let chars: Vec<char> = name.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        if c.is_uppercase() {
            let prev_lower = i > 0 && (chars[i - 1].is_lowercase() || chars[i - 1].is_ascii_digit());
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            if i > 0 && (prev_lower || (next_lower && chars[i - 1].is_uppercase())) {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(*c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_file_that_only_re_exports_names_its_module() {
        assert_eq!(reexport_spec("module.exports = require('./webhook');\n"), Some("./webhook"));
        assert_eq!(reexport_spec("'use strict';\n// alias\nexport * from \"./stripe\";\n"), Some("./stripe"));
        assert_eq!(reexport_spec("/**\n * alias\n */\nconst w = require('./webhook');\nmodule.exports = w;\n"), Some("./webhook"));
        assert_eq!(reexport_spec("const w = require('./webhook');\nmodule.exports = other;\n"), None);
        assert_eq!(reexport_spec("module.exports = require('stripe');\n"), None, "a package is not the app's code");
        assert_eq!(reexport_spec("module.exports = require('./a');\nconsole.log('x');\n"), None);
    }

    use super::*;

    fn view(files: &[(&str, &str)]) -> RepoView {
        let texts: HashMap<String, String> = files.iter().map(|(p, t)| (p.to_string(), t.to_string())).collect();
        let paths = files.iter().map(|(p, _)| p.to_string()).collect();
        RepoView::new(paths, Box::new(move |ps: &[String]| ps.iter().map(|p| texts.get(p).cloned()).collect()))
    }

    fn reached(files: &[(&str, &str)], handler: &str) -> (Vec<String>, Imports, Vec<String>) {
        let v = view(files);
        let text = files.iter().find(|(p, _)| *p == handler).unwrap().1;
        let r = reach(&v, handler, Language::of_path(handler).unwrap(), text, &ParseCache::default());
        (r.files.iter().map(|f| f.path.clone()).collect(), r.imports, r.unresolved)
    }

    #[test]
    fn typescript_relative_alias_and_namespace_imports() {
        let (files, imports, unresolved) = reached(
            &[
                ("app/api/webhooks/route.ts", "import { upsertSubscription as upsert } from '../../../lib/billing';\nimport * as db from '@/lib/db';\nimport Stripe from 'stripe';\nimport { gone } from './missing';\n"),
                ("lib/billing.ts", "import { setAccess } from './access';\nexport async function upsertSubscription(s) { await setAccess(s.customer, true) }\n"),
                ("lib/access.ts", "export async function setAccess(c, v) {}\n"),
                ("lib/db/index.ts", "export function markPaid() {}\n"),
            ],
            "app/api/webhooks/route.ts",
        );
        assert_eq!(files, ["lib/billing.ts", "lib/db/index.ts", "lib/access.ts"]);
        assert_eq!(imports.names["upsert"], ("upsertSubscription".to_string(), vec!["lib/billing.ts".to_string()]));
        assert_eq!(imports.modules["db"], ["lib/db/index.ts"]);
        assert!(unresolved.iter().any(|u| u.contains("'./missing'")), "{unresolved:?}");
    }

    #[test]
    fn python_go_php_ruby_elixir_and_rust_modules() {
        let (files, imports, _) = reached(
            &[("app/webhooks.py", "from app.services.billing import activate, revoke as cancel\nfrom . import models\n"), ("app/services/billing.py", "def activate(u): pass\n"), ("app/models.py", "")],
            "app/webhooks.py",
        );
        assert_eq!(files, ["app/models.py", "app/services/billing.py"]);
        assert_eq!(imports.names["cancel"].0, "revoke");

        let (files, imports, _) = reached(
            &[
                ("internal/http/webhook.go", "package http\nimport (\n  \"context\"\n  store \"example.com/app/internal/db\"\n)\nfunc H() { helper(); store.SetPlan() }\n"),
                ("internal/http/util.go", "package http\nfunc helper() {}\n"),
                ("internal/http/other.go", "package http\nfunc other() {}\n"),
                ("internal/http/util_test.go", "package http\nfunc helper() {}\n"),
                ("internal/db/users.go", "package db\nfunc SetPlan() {}\n"),
                ("internal/db/audit.go", "package db\nfunc Audit() {}\n"),
            ],
            "internal/http/webhook.go",
        );
        // A package's files that declare nothing the handler uses are not reached.
        assert_eq!(files, ["internal/db/users.go", "internal/http/util.go"]);
        assert_eq!(imports.modules["store"], ["internal/db/users.go", "internal/db/audit.go"]);

        let (files, _, _) = reached(
            &[
                ("app/Http/Controllers/WebhookController.php", "<?php\nuse App\\Services\\BillingService;\nclass W { function h() { BillingService::activate(1); } }\n"),
                ("app/Services/BillingService.php", "<?php\nclass BillingService { public static function activate($id) {} }\n"),
            ],
            "app/Http/Controllers/WebhookController.php",
        );
        assert_eq!(files, ["app/Services/BillingService.php"]);

        let (files, imports, _) = reached(
            &[("app/controllers/webhooks_controller.rb", "class W\n  def create\n    Billing::SyncSubscription.new(event).call\n  end\nend\n"), ("app/services/billing/sync_subscription.rb", "")],
            "app/controllers/webhooks_controller.rb",
        );
        assert_eq!(files, ["app/services/billing/sync_subscription.rb"]);
        assert!(imports.modules.contains_key("SyncSubscription"));

        let (files, _, _) = reached(
            &[("lib/app_web/controllers/webhook_controller.ex", "defmodule AppWeb.WebhookController do\n  alias App.Billing\n  def h(conn, e), do: Billing.activate(e)\nend\n"), ("lib/app/billing.ex", "")],
            "lib/app_web/controllers/webhook_controller.ex",
        );
        assert_eq!(files, ["lib/app/billing.ex"]);

        let (files, _, _) = reached(&[("src/webhook.rs", "use crate::db::users::set_plan;\n"), ("src/db/users.rs", ""), ("src/db/mod.rs", "")], "src/webhook.rs");
        assert!(rust_modules("use crate::{billing, state::AppState};\nuse crate::db::{users, plans as p};\n").iter().any(|m| m == "crate/billing"));
        assert!(rust_modules("use crate::db::{users, plans as p};\n").contains(&"crate/db/plans".to_string()));
        // The module holding the item, not every module on the way to it.
        assert_eq!(files, ["src/db/users.rs"]);
    }

    #[test]
    fn php_classes_are_followed_when_called_into_not_when_only_named() {
        let handler = r#"<?php
namespace App\Jobs;

use App\Models\Team;
use App\Models\Subscription;
use App\Models\Server;
use App\Models\Plan;
use App\Services\Notifier;
use App\Services\Mailer;
use App\Jobs\SyncJob;
use App\Exceptions\BillingException;
use App\Traits\LogsBilling;
use App\Support\Unused;

/**
 * @param Server $server Unused::make() in a comment is no call.
 */
class StripeJob
{
    use LogsBilling;

    public function __construct(private Mailer $mailer) {}

    public function handle(): void
    {
        try {
            $team = Team::find($this->teamId);
            $team->subscriptionEnded();
            $sub = Subscription::where('team_id', $team->id)->first();
            $plans = [Plan::class, Plan::FREE];
            if ($sub instanceof Server) { return; }
            (new Notifier($team))->paymentFailed();
            $this->mailer->sendReceipt($team);
            SyncJob::dispatch($team->id);
            // Server::where('x')->delete();
            throw new BillingException('no team');
        } catch (BillingException $e) {
            report($e);
        }
    }
}
"#;
        let class = |name: &str, body: &str| format!("<?php\nclass {name}\n{{\n{body}\n}}\n");
        let files = [
            ("app/Jobs/StripeJob.php".to_string(), handler.to_string()),
            ("app/Models/Team.php".into(), class("Team", "public function subscriptionEnded() { $this->update(['has_paid_access' => false]); }")),
            ("app/Models/Subscription.php".into(), class("Subscription", "protected $casts = [];")),
            ("app/Models/Server.php".into(), class("Server", "public function delete() {}")),
            ("app/Models/Plan.php".into(), class("Plan", "const FREE = 'free';\npublic static function find($id) {}")),
            ("app/Services/Notifier.php".into(), class("Notifier", "public function paymentFailed() {}")),
            ("app/Services/Mailer.php".into(), class("Mailer", "public function sendReceipt($t) {}")),
            ("app/Jobs/SyncJob.php".into(), class("SyncJob", "public function handle() {}")),
            ("app/Exceptions/BillingException.php".into(), class("BillingException", "public function __construct($m) {}")),
            ("app/Traits/LogsBilling.php".into(), "<?php\ntrait LogsBilling {}\n".into()),
            ("app/Support/Unused.php".into(), class("Unused", "public static function make() {}")),
        ];
        let refs: Vec<(&str, &str)> = files.iter().map(|(p, t)| (p.as_str(), t.as_str())).collect();
        let (files, imports, _) = reached(&refs, "app/Jobs/StripeJob.php");
        // Called into: a static call whose method the class declares (and the instance
        // method called on what it returns), `new`, a dispatched job, a typed property
        // whose methods are called, a trait the class uses.
        assert_eq!(files, ["app/Jobs/SyncJob.php", "app/Models/Team.php", "app/Services/Mailer.php", "app/Services/Notifier.php", "app/Traits/LogsBilling.php"]);
        // Only named: `Subscription::where` (Eloquent's, not declared in the model),
        // `Plan::class` and a constant, `instanceof`, a docblock and a comment, an exception
        // thrown and caught, an import nothing uses. Still bound, should another path load them.
        assert_eq!(imports.modules["Subscription"], ["app/Models/Subscription.php"]);
    }

    #[test]
    fn rust_paths_reach_the_module_holding_the_item_and_used_mod_declarations() {
        let files = [
            ("server/src/handlers/stripe.rs", "use crate::db::{set_plan, plans::Plan};\nuse super::auth;\nuse crate::errors::ServiceError;\nfn h() { auth::check(); set_plan(); }\n"),
            ("server/src/handlers/mod.rs", "pub mod stripe;\npub mod auth;\n"),
            ("server/src/handlers/auth.rs", "pub fn check() {}\n"),
            ("server/src/db/mod.rs", "pub mod users;\npub mod plans;\npub mod audit;\npub use users::set_plan;\n"),
            ("server/src/db/users.rs", "pub fn set_plan() {}\n"),
            ("server/src/db/plans.rs", "pub struct Plan;\n"),
            ("server/src/db/audit.rs", "pub fn audit() {}\n"),
            ("server/src/errors.rs", "pub enum ServiceError {}\n"),
            // Same file names in another crate of the workspace and in integration tests.
            ("batch/src/errors.rs", "pub enum ServiceError {}\n"),
            ("server/tests/users.rs", "fn t() {}\n"),
        ];
        let (reached, _, _) = reached(&files, "server/src/handlers/stripe.rs");
        // `crate::db::set_plan` is in db/mod.rs, which re-exports it from users.rs: both;
        // `plans` and `audit` are only declared there. `super::auth` is the sibling module.
        assert_eq!(reached, ["server/src/db/mod.rs", "server/src/db/plans.rs", "server/src/errors.rs", "server/src/handlers/auth.rs", "server/src/db/users.rs"]);
        assert!(!rust_modules("pub mod plans;\npub mod audit;\n").iter().any(|m| m.contains("plans")), "a declared module nothing uses");
        assert!(rust_modules("mod plans;\npub use plans::Plan;\n").contains(&"self/plans".to_string()));
        // Nested use trees (rustfmt's crate granularity) name each item's full path.
        let nested = rust_modules("use crate::{\n    data::models::{Pool, Plan},\n    operators::{\n        email::send,\n        stripe::{create_sub, cancel as c},\n    },\n    errors::{self, E},\n};\n");
        for p in ["crate/data/models/Pool", "crate/operators/email/send", "crate/operators/stripe/create_sub", "crate/operators/stripe/cancel", "crate/errors", "crate/errors/E"] {
            assert!(nested.contains(&p.to_string()), "{p} in {nested:?}");
        }
        assert!(!nested.iter().any(|p| p == "crate/operators"), "{nested:?}");
    }

    #[test]
    fn reach_is_bounded_and_skips_bundles() {
        let mut files: Vec<(String, String)> = vec![("h.ts".into(), (0..90).map(|i| format!("import {{ f{i} }} from './m{i}';\n")).collect())];
        files.extend((0..90).map(|i| (format!("m{i}.ts"), String::new())));
        files.push(("m0.ts".into(), format!("export const x = 1;{}\n", " ".repeat(5000))));
        files.remove(1);
        let refs: Vec<(&str, &str)> = files.iter().map(|(p, t)| (p.as_str(), t.as_str())).collect();
        let (loaded, _, unresolved) = reached(&refs, "h.ts");
        assert_eq!(loaded.len(), MAX_FILES - 1, "the first {MAX_FILES} reached, less a bundle");
        assert!(unresolved.iter().any(|u| u.contains("not followed")), "{unresolved:?}");
        assert!(unresolved.iter().any(|u| u.contains("m0.ts: generated or minified")), "{unresolved:?}");
        let r = reach(&view(&refs), "h.ts", Language::TypeScript, refs[0].1, &ParseCache::default());
        assert_eq!(r.not_followed.len(), 90 - MAX_FILES, "the files past the bound are named: {:?}", r.not_followed);
    }

    #[test]
    fn small_generated_query_code_is_followed_and_large_generated_code_is_not() {
        let sqlc = "// Code generated by sqlc. DO NOT EDIT.\npackage db\n\nconst q = `UPDATE memberships SET active = false`\n";
        assert!(!looks_generated(sqlc));
        let client = format!("// Code generated by protoc-gen-go. DO NOT EDIT.\n{}", "var x = 1\n".repeat(10_000));
        assert!(looks_generated(&client));
    }

    #[test]
    fn snake_case_of_constants() {
        assert_eq!(snake_case("SubscriptionService"), "subscription_service");
        assert_eq!(snake_case("HTTPClient"), "http_client");
        assert_eq!(snake_case("Billing"), "billing");
    }

    #[test]
    fn ruby_call_shorthand_names_its_class() {
        let found = constants("Payments::Stripe::HandleEvent.(event)\nSync.call(x)\n");
        assert!(found.contains("Payments::Stripe::HandleEvent"), "{found:?}");
        assert!(found.contains("Sync"));
    }
}
