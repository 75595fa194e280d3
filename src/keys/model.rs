//! What the key-mode sources observe: environments and their assignments,
//! the variables the code reads, live keys found in files, git's index and
//! probe results. [`super::evaluate`] turns these into findings.

use std::collections::{BTreeSet, HashSet};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::probe_api::ApiProbe;
use super::probe_checkout::CheckoutProbe;

/// What an environment is for, which decides what is wrong in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum EnvKind {
    Production,
    Staging,
    Development,
    Test,
    /// `.env.example` and the like: declares names, its values are never judged.
    Template,
    /// Nothing in the name says; only kind-independent rules apply.
    Unknown,
}

impl EnvKind {
    /// The kind a name implies (DESIGN.md "Decisions / Keys"), word by word.
    pub fn infer(name: &str) -> EnvKind {
        name.split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|w| !w.is_empty())
            .find_map(|w| EnvKind::from_word(&w.to_ascii_lowercase()))
            .unwrap_or(EnvKind::Unknown)
    }

    fn from_word(w: &str) -> Option<EnvKind> {
        Some(match w {
            "production" | "prod" | "live" | "prd" => EnvKind::Production,
            "staging" | "stage" | "preview" | "uat" | "qa" => EnvKind::Staging,
            "development" | "dev" | "local" => EnvKind::Development,
            "test" | "ci" => EnvKind::Test,
            "example" | "sample" | "template" | "dist" => EnvKind::Template,
            _ => return None,
        })
    }

    /// A `kind = "..."` from billguard.toml.
    pub fn parse(s: &str) -> Option<EnvKind> {
        match s.trim().to_ascii_lowercase().as_str() {
            "production" => Some(EnvKind::Production),
            "staging" => Some(EnvKind::Staging),
            "development" => Some(EnvKind::Development),
            "test" => Some(EnvKind::Test),
            "template" => Some(EnvKind::Template),
            other => EnvKind::from_word(other),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            EnvKind::Production => "production",
            EnvKind::Staging => "staging",
            EnvKind::Development => "development",
            EnvKind::Test => "test",
            EnvKind::Template => "template",
            EnvKind::Unknown => "unknown",
        }
    }
}

/// Where an assignment came from: a file and line, a command, the process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// Short description: `.env.production`, `command`, `process`, `fly.toml`.
    pub source: String,
    /// Repo-relative file, when the value sits in a file.
    pub path: Option<String>,
    pub line: Option<u32>,
}

impl Origin {
    pub fn file(path: &str, line: u32) -> Origin {
        Origin { source: path.to_string(), path: Some(path.to_string()), line: Some(line) }
    }
    pub fn other(source: impl Into<String>) -> Origin {
        Origin { source: source.into(), path: None, line: None }
    }
    /// `path:line` or the source's name.
    pub fn shown(&self) -> String {
        match (&self.path, self.line) {
            (Some(p), Some(l)) => format!("{p}:{l}"),
            _ => self.source.clone(),
        }
    }
}

/// `NAME=value` in one source. `value` is None when the name is declared
/// with a value billguard cannot see (`${{ secrets.X }}`, a k8s secretKeyRef).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    pub name: String,
    pub value: Option<String>,
    pub origin: Origin,
}

/// One environment as its sources describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Environment {
    pub name: String,
    pub kind: EnvKind,
    /// Sources read (or tried), in precedence order.
    pub sources: Vec<String>,
    /// Every assignment, lowest precedence first: the last one of a name wins.
    pub assignments: Vec<Assignment>,
    /// True when a full source (env file, command, process) was read: only
    /// then does an absent variable mean absent. Compose files, workflows and
    /// manifests show part of an environment.
    pub complete: bool,
    /// Sources that could not be read; absence is not judged when all failed.
    pub failed: Vec<String>,
    /// The environment's public URL, for the webhook endpoint check.
    pub url: Option<String>,
}

impl Environment {
    pub fn new(name: impl Into<String>, kind: EnvKind) -> Self {
        Environment {
            name: name.into(),
            kind,
            sources: Vec::new(),
            assignments: Vec::new(),
            complete: false,
            failed: Vec::new(),
            url: None,
        }
    }

    /// The winning assignment of a name: the last one whose value was seen,
    /// else the last declaration (`${VAR}` in a compose file refers to a value
    /// set elsewhere, so it does not hide one billguard read). Within one file
    /// the last line wins whatever it holds, as dotenv loaders do: a value an
    /// unseen `${VAR}` further down the same file replaces is not the one used.
    pub fn get(&self, name: &str) -> Option<&Assignment> {
        let of_name = self.assignments.iter().rev().filter(|a| a.name == name);
        let last = of_name.clone().next()?;
        let mut replaced_in: Vec<&str> = Vec::new();
        for a in of_name {
            match (&a.value, a.origin.path.as_deref()) {
                (None, Some(path)) => replaced_in.push(path),
                (Some(_), Some(path)) if replaced_in.contains(&path) => {}
                (Some(_), _) => return Some(a),
                (None, None) => {}
            }
        }
        Some(last)
    }

    /// The winning value, if set and not empty.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(|a| a.value.as_deref()).filter(|v| !v.trim().is_empty())
    }

    /// Whether the name is set to something (a non-empty or unseen value).
    pub fn is_set(&self, name: &str) -> bool {
        self.get(name).is_some_and(|a| a.value.as_deref().is_none_or(|v| !v.trim().is_empty()))
    }

    /// Each name once, first-seen order.
    pub fn names(&self) -> Vec<&str> {
        let mut seen = HashSet::new();
        self.assignments.iter().map(|a| a.name.as_str()).filter(|n| seen.insert(*n)).collect()
    }

    /// Every source failed (or was not run) and nothing was read: the
    /// environment was not examined, which says nothing about its variables.
    pub fn unexamined(&self) -> bool {
        !self.failed.is_empty() && !self.complete && self.assignments.is_empty()
    }

    /// Absence is meaningful: a full source was read successfully.
    pub fn judges_absence(&self) -> bool {
        self.complete && self.kind != EnvKind::Template
    }

    /// How messages name the environment: `production`, or `prod-eu (production)`.
    pub fn label(&self) -> String {
        if self.name == self.kind.as_str() { self.name.clone() } else { format!("{} ({})", self.name, self.kind.as_str()) }
    }

    /// `env:<name>/<variable>` or `env:<name>`.
    pub fn entity(&self, variable: Option<&str>) -> String {
        match variable {
            Some(v) => format!("env:{}/{v}", self.name),
            None => format!("env:{}", self.name),
        }
    }
}

/// A read of a billing variable in the code.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct CodeRef {
    pub name: String,
    pub path: String,
    pub line: u32,
    /// The read has a fallback (`?? 'x'`, `os.getenv("X", "d")`, `ENV.fetch("X", nil)`,
    /// `env('X', d)`, `.unwrap_or(...)`): the variable may be absent.
    pub optional: bool,
    /// The read sits in one branch of a provider or mode switch: it is needed only
    /// where the switch selects that branch.
    pub only_when: Option<ReadCondition>,
}

/// `VARIABLE == "value"` (or `!=` when `equal` is false), as the code compares it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ReadCondition {
    pub variable: String,
    /// Lowercased: the comparison is judged without case.
    pub value: String,
    pub equal: bool,
}

/// Variables a runtime sets from the deployment itself, so env files rarely carry them.
const RUNTIME_MODE_VARIABLES: &[&str] =
    &["NODE_ENV", "RAILS_ENV", "RACK_ENV", "APP_ENV", "MIX_ENV", "FLASK_ENV", "DJANGO_ENV", "GO_ENV", "ENVIRONMENT", "ENV", "VERCEL_ENV"];

impl ReadCondition {
    /// Whether the branch is selected in `env`: None when that cannot be told
    /// (the switch is declared with an unseen value, or is a runtime variable
    /// the environment's kind does not settle).
    pub fn holds_in(&self, env: &Environment) -> Option<bool> {
        let matches = match env.get(&self.variable) {
            Some(a) => {
                let v = a.value.as_deref()?;
                v.trim().trim_matches(['"', '\'']).eq_ignore_ascii_case(&self.value)
            }
            None if RUNTIME_MODE_VARIABLES.contains(&self.variable.as_str()) => {
                let said = EnvKind::infer(&self.value);
                if matches!(said, EnvKind::Unknown | EnvKind::Template) || matches!(env.kind, EnvKind::Unknown | EnvKind::Staging) {
                    return None;
                }
                said == env.kind
            }
            // Unset: the comparison with a literal is false.
            None => false,
        };
        Some(matches == self.equal)
    }

    /// `STRIPE_MODE == "live"` as messages show it.
    pub fn shown(&self) -> String {
        format!("{} {} \"{}\"", self.variable, if self.equal { "==" } else { "!=" }, self.value)
    }
}

impl CodeRef {
    /// Whether this read is needed in `env`: unconditional, or its branch is (or may be) selected.
    pub fn needed_in(&self, env: &Environment) -> bool {
        self.only_when.as_ref().is_none_or(|c| c.holds_in(env) != Some(false))
    }
}

/// A live secret key seen in a file (any file: code, config, env file).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct KeyInFile {
    pub path: String,
    pub line: u32,
    pub value: String,
}

/// Everything the sources gathered.
#[derive(Debug, Default)]
pub struct Observations {
    /// Judged environments and templates.
    pub environments: Vec<Environment>,
    /// Reads of billing variables in the code.
    pub code_refs: Vec<CodeRef>,
    /// Stripe event types named in webhook code (`customer.subscription.deleted`).
    pub handled_events: BTreeSet<String>,
    pub live_keys_in_files: Vec<KeyInFile>,
    /// Repo-relative paths in git's index; None outside a git repository.
    pub tracked: Option<HashSet<String>>,
    pub checkout_probes: Vec<CheckoutProbe>,
    pub api_probes: Vec<ApiProbe>,
    /// `[keys] variables`: billing variables beyond the naming convention.
    pub extra_variables: Vec<String>,
    pub files_scanned: usize,
    pub notes: Vec<String>,
}

impl Observations {
    /// The switch that leaves `var` unused in `env`: the code reads it, but only in
    /// branches that `env` does not select (a Stripe key under a Paddle deployment,
    /// the test key pair in a live one).
    pub fn unselected(&self, env: &Environment, var: &str) -> Option<&ReadCondition> {
        let mut first = None;
        for r in self.code_refs.iter().filter(|r| r.name == var) {
            if r.needed_in(env) {
                return None;
            }
            first = first.or(r.only_when.as_ref());
        }
        first
    }
}

/// Name parts that make a variable a billing variable.
const BILLING_WORDS: &[&str] = &["STRIPE", "PADDLE", "LEMON", "BILLING", "PRICE", "PAYMENT", "PLAN_ID"];

/// Whether a variable is a billing variable: by name, or listed in `[keys] variables`.
/// A bare `WEBHOOK_SECRET` is the billing one; another product's (`CLERK_WEBHOOK_SECRET`,
/// `JACKSON_WEBHOOK_SECRET`) is not.
pub fn is_billing(name: &str, extra: &[String]) -> bool {
    let upper = strip_browser_prefix(name).0.to_ascii_uppercase();
    BILLING_WORDS.iter().any(|w| upper.contains(w))
        || upper.starts_with("WEBHOOK_SECRET")
        || extra.iter().any(|e| e.eq_ignore_ascii_case(name))
}

/// Prefixes that bundlers inline into browser code.
pub const BROWSER_PREFIXES: &[&str] =
    &["NEXT_PUBLIC_", "VITE_", "REACT_APP_", "PUBLIC_", "EXPO_PUBLIC_", "NUXT_PUBLIC_", "GATSBY_", "VUE_APP_"];

/// The name without a browser-exposing prefix, and whether it had one.
pub fn strip_browser_prefix(name: &str) -> (&str, bool) {
    let upper = name.to_ascii_uppercase();
    for p in BROWSER_PREFIXES {
        if upper.starts_with(p) {
            return (&name[p.len()..], true);
        }
    }
    (name, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_inferred_from_names() {
        for (name, kind) in [
            ("production", EnvKind::Production),
            ("PROD", EnvKind::Production),
            ("my-app-live", EnvKind::Production),
            ("staging", EnvKind::Staging),
            ("preview", EnvKind::Staging),
            ("uat", EnvKind::Staging),
            ("dev", EnvKind::Development),
            ("local", EnvKind::Development),
            ("ci", EnvKind::Test),
            ("example", EnvKind::Template),
            ("blue", EnvKind::Unknown),
            ("productionish", EnvKind::Unknown),
        ] {
            assert_eq!(EnvKind::infer(name), kind, "{name}");
        }
        assert_eq!(EnvKind::parse("Production"), Some(EnvKind::Production));
        assert_eq!(EnvKind::parse("prd"), Some(EnvKind::Production));
        assert_eq!(EnvKind::parse("weird"), None);
    }

    #[test]
    fn billing_variables_by_name_and_config() {
        for n in ["STRIPE_SECRET_KEY", "next_public_stripe_pk", "PADDLE_API_KEY", "LEMONSQUEEZY_API_KEY", "BILLING_MODE", "WEBHOOK_SECRET", "PRO_PRICE_ID", "PAYMENTS_PRO_SUBSCRIPTION_PLAN_ID"] {
            assert!(is_billing(n, &[]), "{n}");
        }
        assert!(!is_billing("DATABASE_URL", &[]));
        // Another product's webhook secret is not billing's.
        assert!(!is_billing("CLERK_WEBHOOK_SECRET", &[]) && !is_billing("JACKSON_WEBHOOK_SECRET", &[]));
        assert!(is_billing("CHECKOUT_KEY", &["checkout_key".into()]));
    }

    #[test]
    fn last_assignment_wins_and_empty_is_missing() {
        let mut env = Environment::new("production", EnvKind::Production);
        for (v, line) in [("a", 1), ("b", 2)] {
            env.assignments.push(Assignment { name: "X".into(), value: Some(v.into()), origin: Origin::file(".env", line) });
        }
        env.assignments.push(Assignment { name: "E".into(), value: Some(" ".into()), origin: Origin::file(".env", 3) });
        env.assignments.push(Assignment { name: "D".into(), value: None, origin: Origin::other("workflow") });
        env.assignments.push(Assignment { name: "X".into(), value: None, origin: Origin::other("compose") });
        assert_eq!(env.value("X"), Some("b"));
        assert!(!env.is_set("E") && env.get("E").is_some());
        assert!(env.is_set("D") && env.value("D").is_none());
        assert_eq!(env.names(), ["X", "E", "D"]);
        assert_eq!(strip_browser_prefix("NEXT_PUBLIC_STRIPE_KEY"), ("STRIPE_KEY", true));
    }
}
