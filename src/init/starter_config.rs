//! The starter billguard.toml: only keys DESIGN.md defines, each detected value
//! under a comment that says where it came from, the rest commented out. It
//! names environment variables only: no value from an env file is ever read
//! into it.

use std::fmt::Write as _;

use super::detect::{Stack, pick_env};

fn quote(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

pub fn render(stack: &Stack) -> String {
    let mut out = String::from(
        "# billguard.toml, written by `billguard init` from what it found in this repository.\n\
         # Every key is optional: `billguard check all` says what is missing. This file names\n\
         # environment variables; never put a key or a database URL in it.\n",
    );
    billing(&mut out, stack);
    database(&mut out, stack);
    out.push_str(
        "\n[access]\n\
         granting_statuses = [\"active\", \"trialing\"]\n\
         # past_due_grace_days = 0       # >0: past_due keeps access this many days\n\
         # comped_users = []             # app user ids with access on purpose, without billing\n\
         # [access.plans]                # price id -> the app's plan name\n\
         # \"price_...\" = \"pro\"\n",
    );
    keys(&mut out, stack);
    out.push_str(
        "\n[webhook]\n\
         # paths = [\"app/api/**/webhook/**\"]   # handler files; found automatically when absent\n\
         # access_fields = [\"has_paid_access\", \"plan\"]\n",
    );
    out
}

fn billing(out: &mut String, stack: &Stack) {
    out.push_str("\n[billing]\n");
    for p in &stack.providers {
        let _ = writeln!(out, "# {}: {}", p.value, p.from);
    }
    let supported: Vec<_> = stack.providers.iter().filter(|p| p.value != "lemonsqueezy").collect();
    if stack.providers.iter().any(|p| p.value == "lemonsqueezy") {
        out.push_str("# Lemon Squeezy: the access check reads Stripe or Paddle; the key check still covers LEMON* variables.\n");
    }
    if supported.len() > 1 {
        out.push_str("# several providers found: the access check reads one; pick it here.\n");
    }
    let Some(provider) = supported.first() else {
        out.push_str("# provider = \"stripe\"            # stripe | paddle (no billing SDK found)\n# secret_env = \"STRIPE_SECRET_KEY\"\n");
        return;
    };
    let _ = writeln!(out, "provider = {}", quote(provider.value));
    let (wanted, default): (&[&str], &str) = if provider.value == "paddle" {
        (&["PADDLE_API_KEY", "PADDLE_SECRET_KEY"], "PADDLE_API_KEY")
    } else {
        (&["STRIPE_SECRET_KEY", "STRIPE_API_KEY", "STRIPE_KEY"], "STRIPE_SECRET_KEY")
    };
    let restricted = if provider.value == "paddle" { None } else { restricted_env(&stack.env_names) };
    match restricted {
        Some((name, file)) => {
            let _ = writeln!(out, "# {name}: declared in {file}, a read-only restricted key variable: billguard only reads");
            let _ = writeln!(out, "secret_env = {}", quote(&name));
        }
        None => secret_env(out, stack, wanted, default),
    }
    if provider.value == "paddle" {
        out.push_str("# paddle_environment = \"sandbox\" # for Paddle keys issued before May 2025\n");
    }
}

/// The Stripe permissions billguard's reads need, for a restricted key.
pub const STRIPE_PERMISSIONS: [&str; 3] = ["rak_subscription_read", "rak_price_read", "rak_webhook_endpoint_read"];

/// How to create the read-only key `secret_env` should name; init prints it.
pub fn restricted_key_guidance() -> String {
    format!(
        "Stripe key: billguard only reads, so give it a restricted key, not the secret key. In the\n\
         Stripe Dashboard (Developers > API keys > Create restricted key) allow Read on Subscriptions,\n\
         Prices and Webhook Endpoints ({}) and nothing else. Store it as STRIPE_RESTRICTED_KEY in each\n\
         environment (never in billguard.toml) and name that variable in secret_env.\n",
        STRIPE_PERMISSIONS.join(", ")
    )
}

/// A declared variable that holds a read-only Stripe key: the usual names
/// first, then any STRIPE_* name that says restricted, read or RK.
pub fn restricted_env(names: &std::collections::BTreeMap<String, String>) -> Option<(String, String)> {
    const NAMED: [&str; 6] = ["STRIPE_RESTRICTED_KEY", "STRIPE_READ_KEY", "STRIPE_READONLY_KEY", "STRIPE_READ_ONLY_KEY", "STRIPE_RK", "STRIPE_RESTRICTED_API_KEY"];
    pick_env(names, &NAMED).or_else(|| {
        names
            .iter()
            .find(|(n, _)| {
                n.starts_with("STRIPE")
                    && !n.contains("WEBHOOK")
                    && !n.contains("PUBLISHABLE")
                    && (n.contains("RESTRICTED") || n.contains("READ") || n.ends_with("_RK") || n.contains("_RK_"))
            })
            .map(|(n, f)| (n.clone(), f.clone()))
    })
}

fn secret_env(out: &mut String, stack: &Stack, wanted: &[&str], default: &str) {
    match pick_env(&stack.env_names, wanted) {
        Some((name, file)) => {
            let _ = writeln!(out, "# {name}: declared in {file} (a read-only restricted key is enough: see init's note)");
            let _ = writeln!(out, "secret_env = {}", quote(&name));
        }
        None => {
            let _ = writeln!(out, "# secret_env: no env file declares a key variable; name the one holding a read-only key");
            let _ = writeln!(out, "secret_env = {}", quote(default));
        }
    }
}

fn database(out: &mut String, stack: &Stack) {
    out.push_str("\n[database]\n");
    for d in &stack.databases {
        let _ = writeln!(out, "# {}: {}", d.value, d.from);
    }
    match &stack.database_url_env {
        Some(env) => {
            let _ = writeln!(out, "# {}: {}", env.value, env.from);
            let _ = writeln!(out, "url_env = {}", quote(&env.value));
        }
        None => out.push_str("# url_env = \"DATABASE_URL\"        # postgres://, mysql://, sqlite:// (no variable found)\n"),
    }
    let cashier = stack.notes.iter().find(|n| n.value == "laravel/cashier");
    if let Some(users) = &stack.user_table {
        let t = &users.value;
        let _ = writeln!(out, "# {}: {}", t.table, users.from);
        let _ = writeln!(out, "table = {}", quote(&t.table));
        let _ = writeln!(out, "\n[database.columns]");
        let _ = writeln!(out, "# columns of {}", users.from);
        for (key, found, hint) in [
            ("id", &t.id, "the user id column"),
            ("customer_id", &t.customer_id, "the column holding the billing customer id"),
            ("access", &t.access, "the column or SQL expression that grants access"),
            ("plan", &t.plan, "the plan column (optional)"),
        ] {
            match found {
                Some(col) => {
                    let _ = writeln!(out, "{key} = {}", quote(col));
                }
                None => {
                    let _ = writeln!(out, "# {key} = \"...\"   # not found in the model: {hint}");
                }
            }
        }
    } else if let Some(cashier) = cashier {
        let _ = writeln!(out, "# users.stripe_id: {} (Cashier's Billable columns)", cashier.from);
        out.push_str(
            "table = \"users\"\n\n[database.columns]\ncustomer_id = \"stripe_id\"\n\
             # Cashier keeps subscriptions in their own table; access may be an SQL expression:\n\
             access = \"EXISTS (SELECT 1 FROM subscriptions s WHERE s.user_id = users.id AND s.stripe_status IN ('active', 'trialing'))\"\n",
        );
    } else {
        out.push_str("# table = \"users\"\n# [database.columns]\n# id = \"id\"\n# customer_id = \"stripe_customer_id\"\n# access = \"has_paid_access\"   # or an SQL expression: \"plan <> 'free'\"\n# plan = \"plan\"\n");
    }
    for note in &stack.notes {
        let text = match note.value {
            "pay" => "the pay gem keeps customers in pay_customers (processor_id) and subscriptions in pay_subscriptions: use `query`",
            "django" => "Django: the table is your user model's (auth_user by default)",
            "dj-stripe" => "dj-stripe mirrors Stripe in djstripe_* tables: point `query` at your user model and djstripe_customer",
            "laravel/cashier-paddle" => "Cashier Paddle keeps customers in `customers` (paddle_id, billable_id): use `query`",
            _ => continue,
        };
        let _ = writeln!(out, "# {text} ({})", note.from);
    }
}

fn keys(out: &mut String, stack: &Stack) {
    out.push_str("\n[keys]\n");
    for b in &stack.browser_prefixes {
        let _ = writeln!(out, "# {}: variables with this prefix reach the browser ({}); a secret key there is KEY008", b.value, b.from);
    }
    if stack.env_files.is_empty() {
        out.push_str("# no env files at the root: describe where each environment's variables live\n");
    } else {
        let _ = writeln!(out, "# env files found: {} (billguard discovers them when [keys.environments] is absent)", stack.env_files.join(", "));
    }
    out.push_str(
        "# [keys.environments.production]\n\
         # files = [\".env.production\"]\n\
         # command = \"heroku config --shell -a myapp\"   # any command printing KEY=VALUE lines\n",
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use std::path::Path;

    #[test]
    fn an_empty_stack_still_loads() {
        let text = render(&Stack::default());
        let config = Config::parse(&text, Path::new("billguard.toml")).unwrap();
        assert_eq!(config.billing.secret_env, "STRIPE_SECRET_KEY");
    }
}
