//! Variable reads that go through a configuration library rather than the
//! language's own environment API: django-environ (`env("STRIPE_SECRET_KEY")`),
//! Go's viper (`viper.GetString("stripe.secret_key")` with `AutomaticEnv`), and
//! Rails' encrypted credentials, which billguard cannot read and says so.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use regex::Regex;

fn re(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(pattern).expect("static regex"))
}

/// A read found in one file: the variable (or viper key), its byte offset, and
/// whether the call gives a default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigRead {
    pub name: String,
    pub offset: usize,
    pub optional: bool,
}

/// django-environ: `env("X")`, `env.str("X", default="")`, `env.bool("X", False)`, in a
/// module that builds `environ.Env(...)`.
pub fn django_environ(text: &str) -> Vec<ConfigRead> {
    static CALL: OnceLock<Regex> = OnceLock::new();
    if !text.contains("environ.Env") && !text.contains("from environ import Env") {
        return Vec::new();
    }
    let call = re(&CALL, r#"\benv(?:\.(?:str|bool|int|float|url|list|json|db_url|dict))?\(\s*['"]([A-Za-z_]\w*)['"]\s*(,)?"#);
    call.captures_iter(text)
        .filter_map(|c| {
            let name = c.get(1)?;
            Some(ConfigRead { name: name.as_str().to_string(), offset: name.start(), optional: c.get(2).is_some() })
        })
        .collect()
}

/// What one Go file tells about viper.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ViperFile {
    /// `viper.GetString("stripe.secret_key")`: keys, resolved to variables once the
    /// whole repository's setup is known.
    pub keys: Vec<ConfigRead>,
    /// `viper.BindEnv("stripe.secret_key", "STRIPE_SECRET_KEY")`: the variable itself.
    pub bound: Vec<ConfigRead>,
    /// Keys given a `viper.SetDefault`.
    pub defaults: BTreeSet<String>,
    pub automatic_env: bool,
    /// `viper.SetEnvPrefix("APP")`.
    pub prefix: Option<String>,
    /// `viper.SetEnvKeyReplacer(strings.NewReplacer(".", "_"))`.
    pub dots_to_underscores: bool,
}

pub fn viper(text: &str) -> Option<ViperFile> {
    static GET: OnceLock<Regex> = OnceLock::new();
    static BIND: OnceLock<Regex> = OnceLock::new();
    static DEFAULT: OnceLock<Regex> = OnceLock::new();
    static PREFIX: OnceLock<Regex> = OnceLock::new();
    if !text.contains("viper.") {
        return None;
    }
    let get = re(&GET, r#"\bviper\.Get(?:String|Bool|Int|Int64|Float64|StringSlice|Duration)?\(\s*"([A-Za-z0-9_.\-]+)""#);
    let bind = re(&BIND, r#"\bviper\.BindEnv\(\s*"([A-Za-z0-9_.\-]+)"\s*(?:,\s*"([A-Za-z_]\w*)")?"#);
    let default = re(&DEFAULT, r#"\bviper\.SetDefault\(\s*"([A-Za-z0-9_.\-]+)""#);
    let prefix = re(&PREFIX, r#"\bviper\.SetEnvPrefix\(\s*"([A-Za-z0-9_]+)""#);
    let mut f = ViperFile {
        automatic_env: text.contains("viper.AutomaticEnv()"),
        prefix: prefix.captures(text).map(|c| c[1].to_ascii_uppercase()),
        dots_to_underscores: text.contains("SetEnvKeyReplacer(strings.NewReplacer(\".\", \"_\")"),
        defaults: default.captures_iter(text).map(|c| c[1].to_ascii_lowercase()).collect(),
        ..Default::default()
    };
    for c in get.captures_iter(text) {
        let m = c.get(1).expect("group 1");
        f.keys.push(ConfigRead { name: m.as_str().to_ascii_lowercase(), offset: m.start(), optional: false });
    }
    for c in bind.captures_iter(text) {
        // `BindEnv("key")` alone binds the key's own automatic name: it resolves like a Get.
        if let Some(var) = c.get(2) {
            f.bound.push(ConfigRead { name: var.as_str().to_string(), offset: var.start(), optional: false });
        }
    }
    Some(f)
}

/// The variable a viper key reads under the repository's setup, if it can be an
/// environment variable name at all.
pub fn viper_variable(key: &str, prefix: Option<&str>, dots_to_underscores: bool) -> Option<String> {
    let key = if dots_to_underscores { key.replace(['.', '-'], "_") } else { key.to_string() };
    let name = match prefix {
        Some(p) => format!("{p}_{}", key.to_ascii_uppercase()),
        None => key.to_ascii_uppercase(),
    };
    (!name.contains(['.', '-'])).then_some(name)
}

/// Rails' encrypted credentials holding billing keys: `credentials.stripe[:secret_key]`,
/// `credentials.dig(:stripe, …)`. Their offset, for a note: billguard cannot decrypt them.
pub fn rails_credentials(text: &str) -> Option<usize> {
    static CRED: OnceLock<Regex> = OnceLock::new();
    if !text.contains("credentials") {
        return None;
    }
    let cred = re(&CRED, r"credentials(?:\.dig\(\s*:|\.|\[\s*:)(?:stripe|paddle|lemon_?squeezy|billing)\b");
    cred.find(text).map(|m| m.start())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn django_environ_reads_with_and_without_defaults() {
        let py = "import environ\nenv = environ.Env()\nSTRIPE_SECRET_KEY = env(\"STRIPE_SECRET_KEY\")\nPRICE = env.str('STRIPE_PRICE_PRO', default='')\nDEBUG = env.bool(\"DEBUG\", False)\n";
        let got: Vec<(String, bool)> = django_environ(py).into_iter().map(|r| (r.name, r.optional)).collect();
        assert_eq!(got, [("STRIPE_SECRET_KEY".into(), false), ("STRIPE_PRICE_PRO".into(), true), ("DEBUG".into(), true)]);
        // Without environ.Env, `env("X")` is someone else's function.
        assert!(django_environ("def env(x): ...\nk = env(\"STRIPE_SECRET_KEY\")\n").is_empty());
    }

    #[test]
    fn viper_keys_resolve_through_the_setup() {
        let setup = "viper.SetEnvPrefix(\"app\")\nviper.SetEnvKeyReplacer(strings.NewReplacer(\".\", \"_\"))\nviper.AutomaticEnv()\nviper.SetDefault(\"stripe.price_id\", \"\")\nviper.BindEnv(\"stripe.webhook\", \"STRIPE_WEBHOOK_SECRET\")\n";
        let f = viper(setup).unwrap();
        assert!(f.automatic_env && f.dots_to_underscores);
        assert_eq!(f.prefix.as_deref(), Some("APP"));
        assert!(f.defaults.contains("stripe.price_id"));
        assert_eq!(f.bound[0].name, "STRIPE_WEBHOOK_SECRET");
        let use_ = viper("key := viper.GetString(\"stripe.secret_key\")\n").unwrap();
        assert_eq!(use_.keys[0].name, "stripe.secret_key");
        assert_eq!(viper_variable("stripe.secret_key", Some("APP"), true).as_deref(), Some("APP_STRIPE_SECRET_KEY"));
        assert_eq!(viper_variable("stripe.secret_key", None, false), None, "a dotted key is no variable name without the replacer");
        assert_eq!(viper_variable("stripe_secret_key", None, false).as_deref(), Some("STRIPE_SECRET_KEY"));
        assert!(viper("os.Getenv(\"X\")").is_none());
    }

    #[test]
    fn rails_credentials_are_named() {
        assert!(rails_credentials("Stripe.api_key = Rails.application.credentials.stripe[:secret_key]").is_some());
        assert!(rails_credentials("Rails.application.credentials.dig(:stripe, :secret_key)").is_some());
        assert!(rails_credentials("Rails.application.credentials.secret_key_base").is_none());
    }
}
