//! Verification that lives outside the handler file: Express middleware on the
//! route, Rails `before_action` filters (in the controller, a concern or a
//! parent controller), Plugs and router pipelines, FastAPI dependencies,
//! Laravel route middleware, router layers (axum, chi, gin) and library plugs
//! (`Stripe.WebhookPlug`).
//!
//! One side of the repository (the base or the working tree) is scanned at a
//! time: every file is parsed with the same front ends as handlers; a
//! *verifier* is a named function, class or module whose body verifies a
//! signature (or a router group that mounts one); a *mount* is a statement
//! that names a verifier together with the handler (a route registration, a
//! pipeline and its scope), or a filter, plug, include, parent class or
//! dependency in the handler file itself that names a verifier defined
//! elsewhere. Each handler file gets the first mount found.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, OnceLock};

use regex::Regex;

use super::extract;
use super::index::Index;
use super::lang::syntax::{Expr, Func, Stmt, each_expr};
use super::lang::{self, Language};
use super::model::ExternalVerification;
use super::{detect, vocab};

/// One side of the repository: path -> text, for the files worth scanning.
pub type Tree = BTreeMap<String, String>;

/// Words a file must contain (case-insensitively) to be searched for: a cheap
/// first cut that `git grep` makes; [`worth_parsing`] makes the second.
pub const MARKERS: &[&str] = &[
    "webhook", "signature", "verif", "before_action", "plug", "depends", "middleware", "layer", "hmac", "construct_event",
    "constructevent", "stripeevent", "paddle",
];

/// Whether a file that contains a marker uses it the way a verifier, a mount or
/// a handler would. The bare words are common elsewhere (`verified` routes in
/// every Phoenix module, an `electric_plug` icon, a CSS `layer`) and parsing
/// every such file costs more than the rest of a review.
fn worth_parsing(path: &str, text: &str) -> bool {
    static ANY: OnceLock<Regex> = OnceLock::new();
    static ELIXIR: OnceLock<Regex> = OnceLock::new();
    static PYTHON: OnceLock<Regex> = OnceLock::new();
    static RUBY: OnceLock<Regex> = OnceLock::new();
    static RUST: OnceLock<Regex> = OnceLock::new();
    let pattern = super::resolve::re;
    let any = pattern(&ANY, r"(?i)webhook|signature|verif(?:y|ying|ication|ie[rs])|middleware|hmac|construct_?event|stripeevent|paddle");
    let own = match Language::of_path(path) {
        Some(Language::Elixir) => Some(pattern(&ELIXIR, r"(?m)^\s*plug\b")),
        Some(Language::Python) => Some(pattern(&PYTHON, r"\bDepends\s*\(")),
        Some(Language::Ruby) => Some(pattern(&RUBY, r"before_action|before_filter")),
        Some(Language::Rust) => Some(pattern(&RUST, r"(?i)layer\s*[(<]")),
        _ => None,
    };
    !super::resolve::looks_generated(text) && (any.is_match(text) || own.is_some_and(|r| r.is_match(text)))
}

/// Names too generic to link a mount to a verifier or a handler.
const GENERIC: &[&str] = &[
    "call", "handle", "invoke", "__invoke", "__call__", "verify", "init", "new", "process", "run", "before", "after", "dispatch",
    "middleware", "create", "index", "webhook", "webhooks", "post", "handler", "main", "show", "update", "perform", "router", "app",
    "routes", "controller", "request", "response", "event", "events", "from_request", "from_request_parts", "ServeHTTP", "__construct",
];

/// Calls that take a filter or middleware off a route or controller.
const UNMOUNT: &[&str] = &["skip_before_action", "skip_before_filter", "skip_action_callback", "withoutmiddleware", "without_middleware", "skip_plug"];

/// Library plugs and middleware that verify signatures themselves.
const LIBRARY_VERIFIERS: &[(&str, &str)] = &[
    ("WebhookPlug", "Stripe.WebhookPlug (stripity_stripe)"),
    ("VerifyWebhookSignature", "Laravel Cashier VerifyWebhookSignature middleware"),
];

#[derive(Debug, Clone)]
struct Verifier {
    path: String,
    line: u32,
    /// The verifying call, or what the verifier mounts.
    call: String,
    display: String,
    /// For a class or module: the method it runs (`verify_stripe_signature`), which a
    /// `skip_before_action` can take off again.
    via: Option<String>,
}

struct Site {
    line: u32,
    depth: u32,
    names: BTreeSet<String>,
    text: String,
    unmount: bool,
    /// A router or group this statement sets up: `grp := r.Group("/hooks", Verify())`,
    /// `webhooks.use(verifyStripe)`. What it mounts applies to routes added to it.
    alias: Option<String>,
}

/// Calls that make or configure a router group.
const GROUP_CALLS: &[&str] = &["group", "router", "with", "middleware", "use", "layer", "routelayer", "wrap", "scope", "apirouter", "blueprint"];

fn alias_of(s: &Stmt) -> Option<String> {
    let group = |c: &super::lang::syntax::Call| GROUP_CALLS.contains(&super::lang::syntax::squash(c.callee.last_name()).as_str());
    match s {
        Stmt::Assign { target: Expr::Ident(t), value: Expr::Call(c), .. } if group(c) => Some(key(t)),
        Stmt::Expr(Expr::Call(c), _) if group(c) => match &c.callee {
            Expr::Member(recv, _) => recv.dotted().map(|d| key(&d)),
            _ => None,
        },
        _ => None,
    }
}

struct FileFacts {
    path: String,
    /// Verifier name -> where it verifies.
    verifiers: Vec<(String, Verifier)>,
    /// Names the file defines: functions, methods, classes, modules.
    defines: BTreeSet<String>,
    handler: bool,
    /// The handler verifies through a framework base class (Cashier).
    framework_verified: bool,
    sites: Vec<Site>,
    /// Middleware aliases the file registers: alias -> class key
    /// (`aliasMiddleware('stripe-signature', VerifyStripe::class)`, Kernel `$middlewareAliases`).
    aliases: Vec<(String, String)>,
}

/// What a scan found on one side.
#[derive(Debug, Default)]
pub struct Scan {
    /// Handler path -> the verification mounted on it from outside the file.
    pub links: BTreeMap<String, ExternalVerification>,
    /// Names that verify on this side.
    pub verifiers: BTreeSet<String>,
    /// Handlers that verify through a framework base class whose configuration can switch it off.
    pub framework_handlers: BTreeSet<String>,
}

/// The last segment of a qualified name: `MyAppWeb.Plugs.StripeSignature` -> `StripeSignature`.
fn key(name: &str) -> String {
    let t = name.trim_start_matches([':', '@', '\\']).trim_end_matches("::class");
    t.rsplit(['.', ':', '\\', '#', '/']).next().unwrap_or(t).to_string()
}

fn usable(name: &str) -> bool {
    name.len() >= 4 && !GENERIC.contains(&name)
}

/// Names an expression mentions: identifiers, member names, strings, symbols.
fn names_in(e: &Expr, out: &mut BTreeSet<String>) {
    e.walk(&mut |x| match x {
        Expr::Ident(n) | Expr::Member(_, n) => {
            out.insert(key(n));
            if let Some(d) = x.dotted() {
                out.insert(key(&d));
            }
        }
        Expr::Str(s) if s.len() < 120 => {
            out.insert(key(s));
            // Rails routes: `to: "stripe_webhooks#create"` names StripeWebhooksController.
            if let Some((controller, _)) = s.split_once('#') {
                out.insert(camel(controller) + "Controller");
            }
            // Laravel routes: `'\App\Http\Controllers\PaddleWebhook@handler'` names PaddleWebhook.
            if let Some((class, _)) = s.split_once('@') {
                out.insert(key(class));
            }
        }
        _ => {}
    });
}

pub(super) fn camel(snake: &str) -> String {
    snake.rsplit('/').next().unwrap_or(snake).split('_').map(|w| {
        let mut c = w.chars();
        c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
    }).collect()
}

fn stmt_exprs(s: &Stmt) -> Vec<&Expr> {
    match s {
        Stmt::Expr(e, _) | Stmt::Return { value: Some(e), .. } | Stmt::Throw { value: Some(e), .. } => vec![e],
        Stmt::Assign { target, value, .. } => vec![target, value],
        Stmt::If { cond, .. } => vec![cond],
        Stmt::Switch { subject, .. } => vec![subject],
        Stmt::Block { head, .. } => head.iter().collect(),
        Stmt::Class { parents, .. } => parents.iter().collect(),
        _ => Vec::new(),
    }
}

/// Every statement, at every depth (lambda bodies and functions included), with
/// the names it mentions (its nested statements' names included).
fn sites(stmts: &[Stmt], depth: u32, out: &mut Vec<Site>) -> BTreeSet<String> {
    let mut all = BTreeSet::new();
    for s in stmts {
        let mut names = BTreeSet::new();
        let mut unmount = false;
        for e in stmt_exprs(s) {
            names_in(e, &mut names);
            e.walk(&mut |x| {
                if let Expr::Call(c) = x {
                    unmount |= UNMOUNT.contains(&c.callee.last_name().to_ascii_lowercase().as_str());
                }
            });
            // Lambdas passed to calls: router blocks, `do ... end` bodies.
            let mut lambdas: Vec<&Func> = Vec::new();
            e.walk(&mut |x| {
                if let Expr::Lambda(f) = x {
                    lambdas.push(f);
                }
                if let Expr::Call(c) = x {
                    lambdas.extend(c.args.iter().filter_map(|a| if let Expr::Lambda(f) = &a.value { Some(&**f) } else { None }));
                }
            });
            for f in lambdas {
                names.extend(sites(&f.body, depth + 1, out));
            }
        }
        match s {
            Stmt::If { then, els, .. } => {
                names.extend(sites(then, depth + 1, out));
                names.extend(sites(els, depth + 1, out));
            }
            Stmt::Switch { cases, .. } => cases.iter().for_each(|c| names.extend(sites(&c.body, depth + 1, out))),
            Stmt::Try { body, catches, finally, .. } => {
                names.extend(sites(body, depth + 1, out));
                catches.iter().for_each(|(c, _)| names.extend(sites(c, depth + 1, out)));
                names.extend(sites(finally, depth + 1, out));
            }
            Stmt::Block { body, .. } => names.extend(sites(body, depth + 1, out)),
            Stmt::Func(f) => {
                let mut head = BTreeSet::new();
                for d in f.decorators.iter().chain(&f.param_hints) {
                    names_in(d, &mut head);
                }
                if !head.is_empty() {
                    let text = format!("{} (decorators and parameters)", f.name);
                    out.push(Site { line: f.line, depth: depth + 1, names: head, text, unmount: false, alias: None });
                }
                sites(&f.body, depth + 1, out);
                continue;
            }
            _ => {}
        }
        let text = match s {
            Stmt::Class { name, parents, .. } => format!("{name} < {}", parents.iter().map(Expr::render).collect::<Vec<_>>().join(", ")),
            _ => stmt_exprs(s).first().map(|e| e.render()).unwrap_or_default(),
        };
        all.extend(names.iter().cloned());
        out.push(Site { line: s.line(), depth, names, text, unmount, alias: alias_of(s) });
    }
    all
}

/// `before_action :verify`, `plug :verify`, `before_request(verify)`: a class-level filter.
fn is_filter_mount(text: &str) -> bool {
    let head = text.split(['(', ' ']).next().unwrap_or("");
    ["before_action", "prepend_before_action", "before_filter", "plug", "before_request", "middleware", "use"].contains(&head)
}

fn contains_verify(f: &Func) -> Option<(u32, String)> {
    let mut found = None;
    each_expr(&f.body, &mut |e| {
        e.walk(&mut |x| {
            if let Expr::Call(c) = x {
                if found.is_none() && vocab::is_verify_call(c) {
                    found = Some((c.line, c.callee.dotted().unwrap_or_else(|| c.callee.last_name().to_string())));
                }
            }
        });
    });
    found
}

fn facts(path: &str, text: &str) -> Option<FileFacts> {
    let lang = Language::of_path(path)?;
    let parsed = lang::parse(lang, text);
    let idx = Index::new(&parsed.stmts, &[]);
    let mut verifiers: Vec<(String, Verifier)> = Vec::new();
    let mut defines = BTreeSet::new();
    // Functions that verify, directly or through a local function.
    let mut verifying: BTreeMap<String, (u32, String)> = BTreeMap::new();
    for _ in 0..2 {
        for f in &idx.all {
            if f.name.is_empty() || verifying.contains_key(&f.name) {
                continue;
            }
            let direct = contains_verify(f);
            let via = || {
                let mut hit = None;
                each_expr(&f.body, &mut |e| {
                    e.walk(&mut |x| {
                        if let Expr::Call(c) = x {
                            if let Some(v) = idx.resolve_call(&c.callee).and_then(|g| verifying.get(&g.name)) {
                                hit.get_or_insert_with(|| v.clone());
                            }
                        }
                    });
                });
                hit
            };
            if let Some(v) = direct.or_else(via) {
                verifying.insert(f.name.clone(), v);
            }
        }
    }
    let mut all_sites = Vec::new();
    sites(&parsed.stmts, 0, &mut all_sites);
    for f in &idx.all {
        if !f.name.is_empty() && usable(&f.name) {
            defines.insert(key(&f.name));
        }
        if let Some(o) = &f.owner {
            defines.insert(key(o));
        }
        let Some((line, call)) = verifying.get(&f.name).filter(|_| !f.name.is_empty()) else { continue };
        let v = Verifier { path: path.to_string(), line: *line, call: call.clone(), display: f.name.clone(), via: None };
        if usable(&f.name) {
            verifiers.push((key(&f.name), v.clone()));
        }
        // A class or module verifies for whoever uses it when the verifying method is its
        // entry point (a Plug's `call`, a Rack or Laravel middleware, an extractor), or when
        // it mounts the method itself (`included do before_action :verify_signature end`).
        let Some(o) = &f.owner else { continue };
        let entry = ["call", "handle", "__invoke", "__call__", "from_request", "from_request_parts", "before", "process_request", "dispatch", "ServeHTTP"]
            .contains(&f.name.as_str());
        let mount = all_sites.iter().find(|s| is_filter_mount(&s.text) && s.names.contains(&key(&f.name)));
        if entry || mount.is_some() {
            let line = mount.map_or(v.line, |m| m.line);
            verifiers.push((key(o), Verifier { display: o.clone(), line, via: Some(key(&f.name)), ..v }));
        }
    }
    for c in &idx.classes {
        defines.insert(key(c.name));
    }
    let model = detect::looks_like_handler(path, text).then(|| extract::build(&parsed, &[]));
    let handler = model.as_ref().is_some_and(|m| !m.events.is_empty());
    let framework_verified = model.as_ref().and_then(|m| m.verification.as_ref()).is_some_and(|v| v.call.starts_with("Cashier"));
    defines.retain(|d| usable(d));
    let aliases = middleware_aliases(&parsed.stmts);
    Some(FileFacts { path: path.to_string(), verifiers, defines, handler, framework_verified, sites: all_sites, aliases })
}

/// Laravel middleware aliases: `$router->aliasMiddleware('name', Class::class)`,
/// `$middleware->alias(['name' => Class::class])` and the Kernel's
/// `$routeMiddleware` / `$middlewareAliases` arrays.
fn middleware_aliases(stmts: &[Stmt]) -> Vec<(String, String)> {
    let class_key = |e: &Expr| key(&e.dotted().unwrap_or_else(|| e.render()));
    let pairs = |e: &Expr, out: &mut Vec<(String, String)>| {
        if let Expr::Object(ps) = e {
            for p in ps {
                if let Expr::Str(alias) = &p.key {
                    out.push((alias.clone(), class_key(&p.value)));
                }
            }
        }
    };
    let mut out = Vec::new();
    each_expr(stmts, &mut |e| {
        e.walk(&mut |x| {
            let Expr::Call(c) = x else { return };
            match (super::lang::syntax::squash(c.callee.last_name()).as_str(), c.args.as_slice()) {
                ("aliasmiddleware", [a, b, ..]) => {
                    if let Expr::Str(alias) = &a.value {
                        out.push((alias.clone(), class_key(&b.value)));
                    }
                }
                ("alias", [a]) => pairs(&a.value, &mut out),
                _ => {}
            }
        })
    });
    for s in stmts {
        if let Stmt::Assign { target, value, .. } = s {
            let t = super::lang::syntax::squash(target.last_name());
            if t == "routemiddleware" || t == "middlewarealiases" {
                pairs(value, &mut out);
            }
        }
    }
    out
}

/// Scans both sides of the repository. A file with the same text on both
/// sides (most of them) is parsed once.
pub fn scan_both(base: &Tree, after: &Tree) -> (Scan, Scan) {
    let after_facts = facts_of(after, None);
    let base_facts = facts_of(base, Some((after, &after_facts)));
    let keep = |m: BTreeMap<&str, Option<Arc<FileFacts>>>| m.into_values().flatten().collect::<Vec<_>>();
    (link(&keep(base_facts)), link(&keep(after_facts)))
}

/// The facts of each file of `tree`, taken from `known` where the other side holds the same text.
fn facts_of<'t>(tree: &'t Tree, known: Option<(&Tree, &BTreeMap<&str, Option<Arc<FileFacts>>>)>) -> BTreeMap<&'t str, Option<Arc<FileFacts>>> {
    let reuse = |p: &str, t: &String| known.filter(|(other, _)| other.get(p) == Some(t)).and_then(|(_, f)| f.get(p).cloned());
    let mut out = BTreeMap::new();
    let mut todo: Vec<(&String, &String)> = Vec::new();
    for (p, t) in tree.iter().filter(|(p, t)| worth_parsing(p, t)) {
        match reuse(p, t) {
            Some(f) => {
                out.insert(p.as_str(), f);
            }
            None => todo.push((p, t)),
        }
    }
    let parsed = super::par_map(&todo, |(p, t)| facts(p, t).map(Arc::new));
    out.extend(todo.iter().map(|(p, _)| p.as_str()).zip(parsed));
    out
}

/// Links the handlers of one side to the verifiers mounted for them.
fn link(files: &[Arc<FileFacts>]) -> Scan {
    let mut verifiers: BTreeMap<String, Verifier> = BTreeMap::new();
    for (name, display) in LIBRARY_VERIFIERS {
        verifiers.insert(name.to_string(), Verifier { path: String::new(), line: 0, call: display.to_string(), display: display.to_string(), via: None });
    }
    for f in files {
        for (name, v) in &f.verifiers {
            verifiers.entry(name.clone()).or_insert_with(|| v.clone());
        }
    }
    // A middleware alias names its class: a route's `->middleware('stripe-signature')` mounts it.
    for f in files {
        for (alias, class) in &f.aliases {
            if let Some(v) = verifiers.get(class).cloned() {
                let display = format!("middleware alias '{alias}' of {}", v.display);
                verifiers.entry(alias.clone()).or_insert(Verifier { display, ..v });
            }
        }
    }
    // Named router pipelines and groups that mount a verifier (`pipeline :stripe do plug Verify end`,
    // `grp := r.Group("/hooks", Verify())`, `hooks.use(verify)`) verify whatever is routed
    // through them (`pipe_through :stripe`, `grp.POST(...)`, `hooks.post(...)`).
    for _ in 0..2 {
        let mut derived = Vec::new();
        for f in files {
            for s in &f.sites {
                let Some(v) = s.names.iter().find_map(|n| verifiers.get(n)) else { continue };
                let label = if s.text.starts_with("pipeline(") { s.text.split('\'').nth(1).map(key) } else { s.alias.clone() };
                let label = label.filter(|l| usable(l) && !verifiers.contains_key(l) && !s.names.iter().all(|n| n == l));
                if let Some(label) = label {
                    derived.push((label, Verifier { path: f.path.clone(), line: s.line, call: v.call.clone(), display: format!("{} (mounts {})", s.text, v.display), via: None }));
                }
            }
        }
        if derived.is_empty() {
            break;
        }
        for (n, v) in derived {
            verifiers.entry(n).or_insert(v);
        }
    }
    // Statements that name a verifier: the only places a mount can be.
    let mounting: Vec<(&Arc<FileFacts>, &Site, &String, &Verifier)> = files
        .iter()
        .flat_map(|g| g.sites.iter().filter(|s| !s.unmount).map(move |s| (g, s)))
        .filter_map(|(g, s)| s.names.iter().find_map(|n| verifiers.get_key_value(n)).map(|(n, v)| (g, s, n, v)))
        .collect();
    let mut links = BTreeMap::new();
    for h in files.iter().filter(|f| f.handler) {
        let own: BTreeSet<&String> = h.verifiers.iter().map(|(n, _)| n).collect();
        let unmounted: BTreeSet<&String> = h.sites.iter().filter(|s| s.unmount).flat_map(|s| s.names.iter()).collect();
        let skipped = |n: &String, v: &Verifier| unmounted.contains(n) || v.via.as_ref().is_some_and(|m| unmounted.contains(m));
        let external = |n: &String| verifiers.get(n).filter(|v| v.path != h.path && !own.contains(n) && !skipped(n, v));
        // (a) In the handler file: a filter, plug, include, parent class or dependency naming a verifier defined elsewhere.
        let mut found: Option<(&Site, &str, &Verifier)> = None;
        for s in h.sites.iter().filter(|s| !s.unmount) {
            if let Some((n, v)) = s.names.iter().find_map(|n| external(n).map(|v| (n, v))) {
                if found.is_none_or(|(f, _, _)| s.depth > f.depth) {
                    found = Some((s, n.as_str(), v));
                }
            }
        }
        let mut mount_path = h.path.clone();
        // (b) Elsewhere: a statement naming both a verifier and this handler (a route, a scope, a plug's options).
        if found.is_none() {
            for (g, s, n, v) in mounting.iter().filter(|(g, ..)| g.path != h.path) {
                if v.path == h.path || !s.names.iter().any(|d| h.defines.contains(d)) {
                    continue;
                }
                if found.is_some() && mount_path != g.path {
                    break;
                }
                if found.is_none_or(|(f, _, _)| s.depth > f.depth) {
                    found = Some((s, n.as_str(), v));
                    mount_path = g.path.clone();
                }
            }
        }
        let Some((site, name, v)) = found else { continue };
        links.insert(
            h.path.clone(),
            ExternalVerification {
                verifier: if v.display == v.call { v.display.clone() } else { format!("{} ({})", v.display, v.call) },
                verifier_name: name.to_string(),
                verifier_path: if v.path.is_empty() { "(library)".into() } else { v.path.clone() },
                verifier_line: v.line,
                mount_path,
                mount_line: site.line,
                mount: site.text.clone(),
            },
        );
    }
    let framework_handlers = files.iter().filter(|f| f.handler && f.framework_verified).map(|f| f.path.clone()).collect();
    Scan { links, verifiers: verifiers.keys().cloned().collect(), framework_handlers }
}

/// Where a line of the base version of a file sits in the new version: lines
/// before the changed region keep their number, lines after it shift, lines
/// inside it map to the region's start.
pub fn map_line(before: &str, after: &str, line: u32) -> u32 {
    let b: Vec<&str> = before.lines().collect();
    let a: Vec<&str> = after.lines().collect();
    let prefix = b.iter().zip(&a).take_while(|(x, y)| x == y).count();
    let suffix = b.iter().rev().zip(a.iter().rev()).take_while(|(x, y)| x == y).count().min(b.len().min(a.len()) - prefix);
    let l = line as usize;
    if l <= prefix {
        line
    } else if l > b.len() - suffix {
        (l + a.len() - b.len()) as u32
    } else {
        (prefix + 1).min(a.len().max(1)) as u32
    }
}

/// What `config/cashier.php` says about the signature middleware Cashier's
/// webhook controller registers: it does so only when `webhook.secret`
/// (`webhook_secret` for Cashier Paddle) is set. The line that turns it off,
/// and the configured tolerance when it is a number.
pub struct CashierConfig {
    pub disabled_at: Option<u32>,
    pub tolerance: Option<f64>,
}

pub const CASHIER_CONFIG: &str = "config/cashier.php";

pub fn cashier_config(tree: &Tree) -> Option<CashierConfig> {
    let text = tree.get(CASHIER_CONFIG)?;
    let parsed = lang::parse(Language::Php, text);
    let root = parsed.stmts.iter().find_map(|s| match s {
        Stmt::Return { value: Some(Expr::Object(pairs)), .. } => Some(pairs),
        _ => None,
    })?;
    let get = |pairs: &[super::lang::syntax::Pair], k: &str| pairs.iter().find(|p| matches!(&p.key, Expr::Str(s) if s == k)).cloned();
    // A value that is certainly empty: null, '' or false (an env() read may be set anywhere).
    let empty = |e: &Expr| matches!(e, Expr::Null | Expr::Bool(false)) || matches!(e, Expr::Str(s) if s.is_empty());
    let number = |e: &Expr| match e {
        Expr::Num(n) => n.parse::<f64>().ok(),
        Expr::Call(c) => c.args.get(1).and_then(|a| if let Expr::Num(n) = &a.value { n.parse().ok() } else { None }),
        _ => None,
    };
    if let Some(paddle) = get(root, "webhook_secret") {
        return Some(CashierConfig { disabled_at: empty(&paddle.value).then_some(paddle.line), tolerance: None });
    }
    let webhook = get(root, "webhook")?;
    let Expr::Object(inner) = &webhook.value else { return None };
    let secret = get(inner, "secret");
    let disabled_at = match &secret {
        Some(p) => empty(&p.value).then_some(p.line),
        None => Some(webhook.line),
    };
    let tolerance = get(inner, "tolerance").and_then(|p| number(&p.value));
    Some(CashierConfig { disabled_at, tolerance })
}

#[cfg(test)]
mod tests {
    use super::worth_parsing;

    #[test]
    fn only_files_that_use_a_marker_as_verifiers_and_mounts_do_are_parsed() {
        let worth = [
            ("lib/app_web/router.ex", "pipeline :stripe do\n  plug :verify_stripe\nend\n"),
            ("lib/app_web/endpoint.ex", "  plug Stripe.WebhookPlug, at: \"/webhook/stripe\"\n"),
            ("app/routers/billing.py", "router = APIRouter(dependencies=[Depends(check_sig)])\n"),
            ("app/controllers/hooks_controller.rb", "before_action :check_stripe\n"),
            ("src/routes.rs", "Router::new().route(\"/stripe\", post(h)).route_layer(from_fn(check))\n"),
            ("cmd/server.go", "r.With(VerifyStripe).Post(\"/stripe\", h)\n"),
            ("src/hmac.ts", "const mac = createHmac('sha256', secret)\n"),
        ];
        for (path, text) in worth {
            assert!(worth_parsing(path, text), "{path}");
        }
        let not_worth = [
            ("lib/app_web/live/feed.ex", "use Phoenix.VerifiedRoutes\n<.icon name=\"electric_plug\" />\n"),
            ("src/player.ts", "const layer = map.addLayer(player)\n"),
            ("app/models/user.rb", "def verified?\n  verified_at.present?\nend\n"),
            ("src/lib.py", "# depends on the user's locale\n"),
        ];
        for (path, text) in not_worth {
            assert!(!worth_parsing(path, text), "{path}");
        }
    }
}
