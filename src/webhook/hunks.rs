//! Review from a diff's hunks alone, for diff text whose files are not in a checkout.
//!
//! A version rebuilt from hunks (3 lines of context by default) rarely lowers into a
//! handler model: the function, the switch and often the event label are out of view.
//! What the hunks do show is which lines went and which came. This pass reads the
//! changed lines: a verification call removed (WH001, WH015), an access write removed
//! or turned around (WH004, WH005, polarity from the access vocabulary), an
//! access-moving event's label removed (WH006), an error answer turned into a 2xx
//! (WH010). Each is attributed to the nearest event label above it in the hunk, else
//! to the hunk header's function. A line that comes back anywhere in the diff (code
//! moved to another place or file) is not a removal.

use std::collections::BTreeSet;

use super::lang::syntax::squash;
use super::{vocab, Hunk};
use crate::report::Finding;
use crate::rules;

/// Which way a write moves access.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Polarity {
    Grant,
    Revoke,
    /// Copies the provider's state (`status: sub.status`, `current_period_end: …`):
    /// it grants or revokes depending on the event.
    Sync,
}

/// An access write seen on one line: the field (squashed) and its polarity.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Write {
    pub field: String,
    pub polarity: Polarity,
    /// A call whose name says it grants or revokes (`markAsCanceled()`), not a field.
    pub call: bool,
}

/// What the diff adds anywhere, to tell a removal from a move.
#[derive(Debug, Default)]
pub struct Added {
    writes: BTreeSet<Write>,
    events: BTreeSet<String>,
    verifies: bool,
    db_writes: bool,
    /// Identifiers on added lines (squashed): a removed call whose name is still
    /// referenced (a handler map, `send(:name)`) is dispatched another way.
    words: BTreeSet<String>,
    /// Fields the change drops from the app's schema: their writes may go.
    pub dropped: BTreeSet<String>,
    /// Non-paying statuses that a removed line let through beside a paying one
    /// (`status == "active" || status == "unpaid"`): an allow-list that moved keeps them.
    removed_allowed: BTreeSet<String>,
    /// Helpers the handler models followed that write rows but no access field
    /// (squashed names): a removed call to one is no access write.
    pub writes_no_access: BTreeSet<String>,
    /// An added line raises or answers an error (a queued job that fails is retried).
    raises: bool,
    /// Added lines long enough to be told apart, whitespace removed: a removed line that
    /// comes back word for word (a verifier moved into a module of its own) moved.
    lines: BTreeSet<String>,
    /// Functions the diff defines on removed and on added lines: a call of a removed one
    /// that comes back calling an added one (`update_from_stripe_subscription!` renamed
    /// `update_from_stripe!`) was renamed, not removed.
    removed_defs: BTreeSet<String>,
    added_defs: BTreeSet<String>,
}


/// A line as [`Added::lines`] keeps it: without whitespace, when it is long enough not to be
/// any line (`end`, `return nil`).
fn distinctive(text: &str) -> Option<String> {
    let s: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    (s.len() >= 20).then_some(s)
}

impl Added {
    /// Whether the removed line `text` is added again somewhere in the diff.
    fn comes_back(&self, text: &str) -> bool {
        distinctive(text).is_some_and(|s| self.lines.contains(&s))
    }

    /// Whether the removed line `text` comes back with a function it calls renamed.
    fn comes_back_renamed(&self, text: &str) -> bool {
        self.removed_defs
            .iter()
            .filter(|old| !self.added_defs.contains(*old) && (text.contains(&format!("{old}(")) || text.trim_end().ends_with(old.as_str())))
            .any(|old| self.added_defs.iter().any(|new| self.comes_back(&text.replace(old.as_str(), new))))
    }
}

/// Non-paying statuses as code spells them, quoted or as atoms.
const UNPAID_TOKENS: &[&str] = &["'unpaid'", "\"unpaid\"", "'past_due'", "\"past_due\"", "'incomplete'", "\"incomplete\"", "'paused'", "\"paused\"", ":unpaid", ":past_due", ":incomplete", ":paused"];
const PAYING: &[&str] = &["active", "trialing"];

impl Added {
    pub fn of<'a>(hunks: impl IntoIterator<Item = &'a Hunk>, fields: &[String]) -> Added {
        let mut a = Added::default();
        for h in hunks {
            for (tag, text) in &h.lines {
                if *tag == '-' && PAYING.iter().any(|p| text.contains(p)) {
                    a.removed_allowed.extend(UNPAID_TOKENS.iter().filter(|u| text.contains(*u)).map(|u| u.trim_matches(['\'', '"', ':']).to_string()));
                }
                if *tag == '-' {
                    a.removed_defs.extend(defined_name(text).map(str::to_string));
                }
                if *tag != '+' || is_comment(text) {
                    continue;
                }
                a.added_defs.extend(defined_name(text).map(str::to_string));
                a.writes.extend(writes(text, fields));
                a.events.extend(events(text));
                a.verifies |= verifies(text);
                a.raises |= answers_error(text);
                a.lines.extend(distinctive(text));
                a.words.extend(text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).filter(|w| w.len() > 3).map(squash));
                let s = squash(text).replace(' ', "");
                a.db_writes |= [".upsert(", ".update(", ".insert(", ".save(", "repo.update", "repo.insert"].iter().any(|v| s.contains(v));
            }
        }
        a
    }
}

const VERIFY_MARKS: &[&str] = &[
    "constructevent",
    "verifyheader",
    "verifysignature",
    "verifywebhook",
    "issignaturevalid",
    "webhooksunmarshal",
    "verifier",
    "timingsafeequal",
    "comparedigest",
    "hashequals",
    "securecompare",
    "signingsecret",
    "stripewebhookplug",
];

pub(crate) fn verifies(line: &str) -> bool {
    let s = squash(line).replace('.', "");
    VERIFY_MARKS.iter().any(|m| s.contains(m))
}

pub(crate) fn is_comment(line: &str) -> bool {
    let t = line.trim_start();
    ["//", "#", "/*", "*", "--", "<!--"].iter().any(|c| t.starts_with(c))
}

fn is_import(line: &str) -> bool {
    let t = line.trim_start();
    ["import ", "use ", "from ", "require ", "require(", "alias ", "const { ", "package "].iter().any(|c| t.starts_with(c)) || t.contains("= require(")
}

pub(super) fn is_logging(line: &str) -> bool {
    let s = line.to_ascii_lowercase();
    ["console.", "log.", "logger.", "print(", "puts ", "println", "log::", "tracing::", "logging.", "error_log(", "io.puts", "dump(", "print_r(", "io.inspect("]
        .iter()
        .any(|l| s.contains(l))
        || s.trim_start().starts_with("dd(")
}

/// Event types named on a line: quoted (`'invoice.paid'`) or as a constant or
/// method name (`EventTypeInvoicePaid`, `def customer_subscription_deleted`).
fn events(line: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for quote in ['\'', '"', '`'] {
        for (i, piece) in line.split(quote).enumerate() {
            if let Some(e) = (i % 2 == 1 && piece.len() < 80).then(|| vocab::unprefixed_event(piece)).flatten() {
                out.insert(e.to_string());
            }
        }
    }
    for word in line.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).filter(|w| w.len() > 6) {
        if declares_flag(line, word) {
            continue;
        }
        let bare = word.strip_prefix("EventType").unwrap_or(word);
        if let Some(e) = vocab::event_from_name(bare) {
            out.insert(e.to_string());
        }
    }
    out
}

/// `const subscriptionCanceled = sub.status === "active" && ...`: a local flag named like
/// an event (no `handle`/`on` verb, and not a function) is no handler of it.
fn declares_flag(line: &str, word: &str) -> bool {
    let t = line.trim_start_matches(['+', '-', ' ']).trim_start();
    let t = ["const ", "let ", "var ", "$"].iter().find_map(|k| t.strip_prefix(k)).unwrap_or(t);
    let Some(rest) = t.strip_prefix(word) else { return false };
    let rest = rest.trim_start();
    let assigns = (rest.starts_with('=') && !rest.starts_with("==")) || rest.starts_with(":=");
    let verb = ["handle", "on", "process"].iter().any(|v| squash(word).starts_with(v));
    assigns && !verb && !line.contains("=>") && !line.contains("function")
}

/// Events that local flags of the hunk are named after (`const subscriptionCanceled = ...`):
/// a later `if (subscriptionCanceled)` tests the flag, it handles no event.
fn flag_events(h: &Hunk) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (_, line) in &h.lines {
        for word in line.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).filter(|w| w.len() > 6) {
            if declares_flag(line, word) {
                out.extend(vocab::event_from_name(word).map(str::to_string));
            }
        }
    }
    out
}

/// Events whose handling moves access (WH006's lifecycle events).
fn moves_access(e: &str) -> bool {
    e.contains("subscription") || e.contains("invoice.pa") || e.starts_with("checkout.session") || e == "transaction.completed"
}

/// A value as written: enough to judge polarity.
enum Value<'a> {
    True,
    False,
    Null,
    Str(String),
    Expr(&'a str),
}

fn value(text: &str) -> Value<'_> {
    let t = text.trim();
    let lower = t.to_ascii_lowercase();
    match lower.as_str() {
        "true" | "1" => return Value::True,
        "false" | "0" => return Value::False,
        "null" | "nil" | "none" | "undefined" => return Value::Null,
        _ => {}
    }
    let unquoted = t.strip_prefix(':').filter(|s| s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
    if let Some(sym) = unquoted {
        return Value::Str(sym.to_string());
    }
    for q in ['\'', '"', '`'] {
        if t.len() >= 2 && t.starts_with(q) && t.ends_with(q) && !t[1..t.len() - 1].contains(q) {
            return Value::Str(t[1..t.len() - 1].to_string());
        }
    }
    Value::Expr(t)
}

fn polarity(field: &str, v: &Value, fields: &[String]) -> Option<Polarity> {
    let f = squash(field);
    let grants_if = |b: bool| Some(if b { Polarity::Grant } else { Polarity::Revoke });
    if vocab::is_inverted(field, fields) {
        return match v {
            Value::False | Value::Null => Some(Polarity::Grant),
            _ => Some(Polarity::Revoke),
        };
    }
    let status_like = vocab::is_status_field(field) || f.contains("subscriptionstatus") || f.contains("billingstatus");
    if status_like {
        return match v {
            Value::True => Some(Polarity::Grant),
            Value::False | Value::Null => Some(Polarity::Revoke),
            Value::Str(s) if vocab::SUBSCRIPTION_STATUSES.contains(&s.to_ascii_lowercase().as_str()) => {
                grants_if(["active", "trialing", "paid"].contains(&s.to_ascii_lowercase().as_str()))
            }
            Value::Str(_) => None,
            Value::Expr(e) => squash(e).contains("status").then_some(Polarity::Sync),
        };
    }
    if !vocab::is_access_field(field, fields) {
        // A column holding the whole subscription (`stripe_subscription`, `subscription`): a copy of its state.
        return (f.ends_with("subscription") && matches!(v, Value::Expr(_))).then_some(Polarity::Sync);
    }
    match v {
        Value::True => Some(Polarity::Grant),
        Value::False | Value::Null => Some(Polarity::Revoke),
        Value::Str(s) => grants_if(!vocab::is_revoking_literal(s)),
        Value::Expr(_) => Some(Polarity::Sync),
    }
}

/// Access writes on one line: object keys and keyword arguments (`isPro: true`,
/// `is_pro=True`, `'is_pro' => true`), assignments to a property (`user.plan =
/// 'free'`, `$user->pro = false`), SQL `SET pro = false`, and calls whose name says
/// they grant or revoke (`remove_role(:pro)`).
pub fn writes(line: &str, fields: &[String]) -> Vec<Write> {
    // A one-line Elixir function (`defp attrs(s), do: %{status: s}`): its body writes.
    if is_definition(line) {
        return match line.split_once(", do:") {
            Some((_, body)) => writes(body, fields),
            None => Vec::new(),
        };
    }
    if is_comment(line) || is_import(line) || is_logging(line) {
        return Vec::new();
    }
    // A query's shape (Prisma `include: { subscription: true }`, `select: {...}`): what is read, not written.
    let t = line.trim_start();
    if ["include:", "select:", "where:", "orderBy:", "omit:", "_count:"].iter().any(|k| t.starts_with(k)) {
        return Vec::new();
    }
    // `subscription: djstripe_models.Subscription = Subscription.objects.get(id=sid)`: a
    // typed local (Python, TypeScript class field), not a `key: value` pair; only its value can write.
    static ANNOTATED: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let annotated = super::resolve::re(&ANNOTATED, r"^\s*[A-Za-z_]\w*\s*:\s*[A-Za-z_][\w.\[\], |]*\s*=\s*([^=>].*)$");
    if let Some(value) = annotated.captures(line).and_then(|c| c.get(1)) {
        return writes(value.as_str(), fields);
    }
    let b = line.as_bytes();
    let mut out = Vec::new();
    let mut depth = 0i32;
    // A returned literal (`return Log{UserID: id, Subscription: sub}`) or a condition
    // (`if not subscription:`) writes nothing: on such a line only what is passed to a
    // call (`return db.update({ plan: 'free' })`) is a write.
    let head = line.trim_start().trim_start_matches('}').trim_start();
    let returns_or_tests = ["return ", "if ", "if(", "elif ", "elsif ", "else if", "unless ", "while "].iter().any(|k| head.starts_with(k));
    let mut parens = 0i32;
    let sql = line.to_ascii_lowercase().contains("set ");
    let mut i = 0;
    // Inside a string literal `:` and `=` are text (`'assigned role: '`), except in SQL.
    let mut quote: Option<u8> = None;
    while i < b.len() {
        let c = b[i];
        if !sql {
            match quote {
                Some(q) if c == q && (i == 0 || b[i - 1] != b'\\') => quote = None,
                Some(_) => {}
                None if matches!(c, b'\'' | b'"' | b'`') => quote = Some(c),
                None => {}
            }
            if quote.is_some() {
                i += 1;
                continue;
            }
        }
        match c {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth -= 1,
            _ => {}
        }
        match c {
            b'(' => parens += 1,
            b')' => parens -= 1,
            _ => {}
        }
        if returns_or_tests && parens <= 0 && !sql {
            i += 1;
            continue;
        }
        let prev = if i > 0 { b[i - 1] } else { b' ' };
        let next = b.get(i + 1).copied().unwrap_or(b' ');
        let op_len = match c {
            b'=' if next == b'>' => 2,
            b'=' if next == b'=' || b"=!<>+-*/%&|^:".contains(&prev) => 0,
            b'=' => 1,
            // `::`, `:=`, and a ternary's else written ` : ` (an object key has no space before it).
            b':' if next == b':' || prev == b':' || next == b'=' || prev == b' ' => 0,
            // `key: value`, not a Ruby symbol (`:pro`) or a ternary's else (`a ? b : c`).
            b':' if next == b' ' || next == b'\t' => 1,
            _ => 0,
        };
        if op_len == 0 {
            i += 1;
            continue;
        }
        let (key, receiver) = key_before(&line[..i]);
        let value_text = value_after(&line[i + op_len..]);
        let assignment = c == b'=' && op_len == 1;
        // A bare `x = …` is a local variable, except inside a call (keyword argument) or SQL.
        // A line ending in `,` continues a call or literal: `has_paid_access=False,` is a keyword argument.
        // ... unless the line opens a call it does not close: `sub = Stripe::Subscription.update(id,`
        // assigns a local the call's result, over several lines.
        let opens: i32 = line.bytes().map(|b| match b {
            b'(' | b'[' | b'{' => 1,
            b')' | b']' | b'}' => -1,
            _ => 0,
        }).sum();
        let continues = line.trim_end().ends_with(',') && opens <= 0;
        // `blockedUsers: blockedUsers` (a constructor's dependency, a struct field from the
        // local of its name) carries a value decided elsewhere; that line is judged itself.
        let passed_on = !assignment && value_text.trim() == key && !sql;
        // A parameter of a call to the provider's SDK (`SubscriptionData: &stripe.CheckoutSessionSubscriptionDataParams{`)
        // configures what the provider creates, not the app's state.
        let sdk_param = { let v = value_text.trim_start().trim_start_matches('&'); v.starts_with("stripe.") || v.starts_with("paddle.") || v.contains("Params{") };
        // `account_type = $4` on a line of a multi-line `UPDATE ... SET`: an SQL placeholder, not a local.
        let placeholder = {
            let v = value_text.trim().trim_end_matches(',');
            (v.len() > 1 && (v.starts_with('$') || v.starts_with('@')) && v[1..].chars().all(|c| c.is_ascii_digit())) || v == "?" || v == "%s"
        };
        if !key.is_empty() && !passed_on && !sdk_param && (!assignment || receiver || depth > 0 || sql || continues || placeholder) {
            if let Some(p) = polarity(key, &value(value_text), fields) {
                out.push(Write { field: squash(key), polarity: p, call: false });
            }
        }
        i += op_len;
    }
    // Ecto's `put_change(:field, value)`, and an attrs map's `Map.put(:field, value)`.
    for opener in ["put_change(:", "Map.put(:"] {
        let Some(i) = line.find(opener) else { continue };
        let rest = &line[i + opener.len()..];
        if let Some((field, value_text)) = rest.split_once(',') {
            if let Some(p) = polarity(field.trim(), &value(value_after(value_text)), fields) {
                out.push(Write { field: squash(field.trim()), polarity: p, call: false });
            }
        }
    }
    // Group, role or team membership: `group.add(user)`, `plan_group.remove(user)`.
    for (verb, p) in [(".add(", Polarity::Grant), (".add_user(", Polarity::Grant), (".remove(", Polarity::Revoke), (".remove_user(", Polarity::Revoke), (".remove_member(", Polarity::Revoke), (".add_member(", Polarity::Grant)] {
        let Some(i) = line.find(verb) else { continue };
        let receiver = line[..i].rsplit(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_' || ch == '.')).next().unwrap_or("");
        let arg = line[i + verb.len()..].to_ascii_lowercase();
        let group = squash(receiver);
        if ["group", "role", "team", "membership"].iter().any(|w| group.contains(w)) && ["user", "member", "customer", "account"].iter().any(|w| arg.starts_with(w) || arg.contains(&format!("{w})"))) {
            out.push(Write { field: format!("{group}membership"), polarity: p, call: true });
        }
    }
    let trimmed = line.trim().trim_end_matches(',');
    // Shorthand properties (`subscriptionStatus,`) and spreads (`...subscriptionData`) write what they name.
    let spread = trimmed.strip_prefix("...");
    let bare = spread.unwrap_or(trimmed);
    if !bare.is_empty() && bare.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') && !bare.as_bytes()[0].is_ascii_digit() {
        let named = squash(bare);
        let billing_spread = spread.is_some() && ["subscription", "billing", "plan", "access", "entitlement"].iter().any(|k| named.contains(k));
        if billing_spread || (spread.is_none() && line.trim_end().ends_with(',') && (vocab::is_access_field(bare, fields) || vocab::is_status_field(bare))) {
            out.push(Write { field: named, polarity: Polarity::Sync, call: false });
        }
    }
    // An object passed to a call with a shorthand property (`updateUser({ ...user, isSubscribed })`):
    // the field takes the local of its name, a value decided elsewhere.
    static PASSED_OBJECT: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    for object in super::resolve::re(&PASSED_OBJECT, r"\(\s*\{([^{}]*)\}").captures_iter(line) {
        for item in object[1].split(',').map(str::trim) {
            let is_name = !item.is_empty() && item.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$') && !item.as_bytes()[0].is_ascii_digit();
            if is_name && (vocab::is_access_field(item, fields) || vocab::is_status_field(item)) {
                out.push(Write { field: squash(item), polarity: Polarity::Sync, call: false });
            }
        }
    }
    for word in line.split(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_')).filter(|w| w.len() > 3) {
        // Called with parentheses, or Ruby's paren-less `@subscription.deactivate`, or a class
        // whose method is called (`Cancellation.new(…).process`).
        let dotted = format!(".{word}");
        // A returned method value (`return c.handleSubscriptionDeleted`, Go's dispatch) is no call.
        let paren_less = !head.starts_with("return ") && line.find(&dotted).is_some_and(|i| {
            let rest = line[i + dotted.len()..].trim_start();
            rest.is_empty() || ["if ", "unless ", "!", ";", "end"].iter().any(|k| rest.starts_with(k))
        });
        let called = line.contains(&format!("{word}(")) || line.contains(&format!("{word}!(")) || paren_less || line.contains(&format!("{word}.new"));
        if !called {
            continue;
        }
        // `cancellation`, `Subscriptions.cancel_subscription(sub)`: the app's own cancel ends access
        // (the provider's SDK cancel is told apart where findings are kept).
        let cancels = squash(word).starts_with("cancel") && ["subscription", "membership", "plan", "cancellation"].iter().any(|k| squash(word).contains(k));
        // `$membership->cancel()`, `member.expire!`: the app's membership model ends access.
        let ends_member = receiver_of(line, word).is_some_and(|r| vocab::ends_own_record(word, r));
        if cancels || ends_member || squash(word).starts_with("revocation") {
            out.push(Write { field: squash(word), polarity: Polarity::Revoke, call: true });
            continue;
        }
        let p = match vocab::opaque_kind(word) {
            Some(super::model::OpaqueKind::Grant) => Polarity::Grant,
            Some(super::model::OpaqueKind::Revoke) => Polarity::Revoke,
            // `set_subscription(…)`, `updateUserPlan(…)`: a write of billing state whose way depends on the event.
            Some(super::model::OpaqueKind::Write) if ["subscription", "plan", "access", "billing", "entitlement", "premium", "membership"].iter().any(|k| squash(word).contains(k)) => Polarity::Sync,
            _ => continue,
        };
        out.push(Write { field: squash(word), polarity: p, call: true });
    }
    out
}

/// The identifier just before an operator, and whether it is a property (`a.b`, `$a->b`).
fn key_before(text: &str) -> (&str, bool) {
    let t = text.trim_end();
    // A quoted key with a dot is a name, not a field: `"invoice.paid": onInvoicePaid` maps an event.
    if let Some(q) = t.chars().last().filter(|c| matches!(c, '\'' | '"')) {
        let body = &t[..t.len() - 1];
        if let Some(open) = body.rfind(q) {
            let name = &body[open + 1..];
            // A document path (MongoDB's `"subscription.status": ...`) names its last field.
            let labelled = ["case", "when"].iter().any(|k| body[..open].trim_end().ends_with(k));
            let path = !labelled
                && name.contains('.')
                && !name.contains(' ')
                && !super::vocab::is_event_type(name)
                && name.split('.').all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
            if path {
                return (name.rsplit('.').next().unwrap_or(""), true);
            }
            if name.contains(['.', ' ']) {
                return ("", false);
            }
        }
    }
    let t = t.trim_end_matches(['\'', '"', ']']);
    // The end of the last non-identifier character (it may be multi-byte: `ë`).
    let start = t.char_indices().rev().find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '_')).map_or(0, |(p, c)| p + c.len_utf8());
    let key = &t[start..];
    if key.is_empty() || key.as_bytes()[0].is_ascii_digit() {
        return ("", false);
    }
    let before = t[..start].trim_end_matches(['\'', '"', '[']);
    let receiver = before.ends_with('.') || before.ends_with("->");
    // `const x =`, `let x =`, `var x =`: declarations of locals.
    let declared = ["const", "let", "var", "val", "my", "auto"].iter().any(|k| before.trim_end().ends_with(k) && before.trim_end().len() >= k.len());
    if declared && !receiver {
        return ("", false);
    }
    (key, receiver)
}

/// The value after an operator, up to the next top-level `,` `;` or closing bracket.
fn value_after(text: &str) -> &str {
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    for (i, c) in text.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"' | '`') => quote = Some(c),
            (None, '(' | '[' | '{') => depth += 1,
            (None, ')' | ']' | '}') if depth == 0 => return text[..i].trim(),
            (None, ')' | ']' | '}') => depth -= 1,
            (None, ',' | ';') if depth == 0 => return text[..i].trim(),
            (None, ' ') if depth == 0 && ["if ", "unless ", "where ", "and "].iter().any(|k| text[i..].trim_start().to_ascii_lowercase().starts_with(k)) => {
                return text[..i].trim()
            }
            _ => {}
        }
    }
    text.trim()
}

/// Where a changed line sits: the event it serves, when one is in view.
pub(crate) struct Place {
    pub(crate) event: Option<String>,
    /// The event (or the enclosing function's name) says access ends.
    pub(crate) ending: bool,
}

const ENDING_WORDS: &[&str] = &["deleted", "canceled", "cancelled", "cancel", "failed", "expired", "paused", "unpaid", "revoke", "refund"];

/// The old view above line `at` (context and removed lines), nearest first.
fn old_view_above(h: &Hunk, at: usize) -> impl Iterator<Item = &str> {
    h.lines[..at].iter().rev().filter(|(t, _)| *t != '+').map(|(_, l)| l.as_str())
}

pub(crate) fn place(h: &Hunk, at: usize) -> Place {
    let found = |e: String| {
        let ending = ENDING_WORDS.iter().any(|w| e.contains(w));
        Place { event: Some(e), ending }
    };
    // A one-line arm (`"customer.subscription.deleted" -> resync()`) names its own event.
    let own = h.lines.get(at).filter(|(t, l)| *t != '+' && !is_comment(l)).map(|(_, l)| l.as_str());
    for line in own.into_iter().chain(old_view_above(h, at)) {
        // A comment may quote any event (`we get "customer.subscription.updated" before ...`).
        if is_comment(line) {
            continue;
        }
        if let Some(e) = events(line).into_iter().next() {
            return found(e);
        }
        // The function holding the line starts here: its name may say the event
        // (`handleCustomerSubscriptionDeleted`); what lies above is another function's.
        if is_definition(line) {
            if let Some(e) = handler_name_event(line) {
                return found(e);
            }
            let def = squash(line);
            return Place { event: None, ending: ENDING_WORDS.iter().any(|w| def.contains(w)) };
        }
    }
    if let Some(e) = events(&h.section).into_iter().next().or_else(|| handler_name_event(&h.section)) {
        return found(e);
    }
    let section = squash(&h.section);
    Place { event: None, ending: ENDING_WORDS.iter().any(|w| section.contains(w)) }
}

/// The event a handler function's name spells: `handleCustomerSubscriptionDeleted`,
/// `on_invoice_paid`, `process_checkout_session_completed`.
fn handler_name_event(line: &str) -> Option<String> {
    line.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).filter(|w| w.len() > 6).find_map(|word| {
        let lower = word.to_ascii_lowercase();
        ["handle", "on", "process"].iter().find_map(|p| {
            let rest = lower.strip_prefix(p)?;
            vocab::event_from_name(rest.trim_start_matches('_')).map(String::from)
        })
    })
}

/// Whether removing the event label at `at` dropped handling that did something:
/// the label alone went and the body it led to stays (a case removed from a shared
/// body), or the removed lines after it wrote state or called something that does.
/// Removing a clause that only acknowledged (`:ok`, `break`) drops nothing.
fn dropped_body_mattered(h: &Hunk, at: usize, fields: &[String]) -> bool {
    // The rest of this block of changed lines, after the label.
    let block: Vec<&(char, String)> = h.lines[at + 1..].iter().take_while(|(t, _)| *t != ' ').collect();
    let removed: Vec<&str> = block.iter().filter(|(t, l)| *t == '-' && !l.trim().is_empty()).map(|(_, l)| l.as_str()).take(15).collect();
    if removed.is_empty() {
        // The label alone changed: it mattered unless the body it led to only acknowledges.
        let body = h.lines[at + 1 + block.len()..].iter().map(|(_, l)| l.trim()).find(|l| !l.is_empty());
        return !body.is_some_and(|l| ["ok", ":ok", "{:ok, conn}", "break", "break;", "return", "return;", "pass", "nil", "end", "}"].contains(&l));
    }
    removed.iter().any(|l| !is_comment(l) && !is_logging(l) && (!writes(l, fields).is_empty() || calls_something(l)))
}

/// A line that calls something other than a log or an answer, and is no new clause.
fn calls_something(line: &str) -> bool {
    let t = line.trim();
    t.contains('(') && answered_codes(t).is_empty() && !["return", "def ", "function", "case ", "when ", "if ", "elif ", "} else"].iter().any(|k| t.starts_with(k))
}

/// A removed early return (`return c.Ok(...)`, `return`, `next`) whose block is
/// opened by a status check that turns non-paying subscriptions away
/// (`if sub.Status != Active && sub.Status != Trialing {`), when the hunk adds
/// no return in its place: the check now only logs. Returns the check.
fn status_bail_out_removed(h: &Hunk, at: usize) -> Option<String> {
    let text = h.lines[at].1.trim();
    let bails = text == "return" || text.starts_with("return ") || text.starts_with("return;") || text == "next" || text.starts_with("halt");
    if !bails || h.lines.iter().any(|(t, l)| *t == '+' && l.trim_start().starts_with("return")) {
        return None;
    }
    let indent = |l: &str| l.len() - l.trim_start().len();
    let own = indent(&h.lines[at].1);
    let opener = h.lines[..at].iter().rev().filter(|(t, _)| *t != '+').find(|(_, l)| !l.trim().is_empty() && indent(l) < own)?;
    let cond = opener.1.trim();
    let s = squash(cond);
    let is_if = ["if ", "if(", "unless "].iter().any(|k| cond.starts_with(k));
    let turns_away = ["!=", "!==", "not in", "unless ", "!in_array", "!["].iter().any(|k| cond.contains(k));
    let paying = ["active", "trialing"].iter().any(|w| s.contains(w));
    (is_if && turns_away && paying && s.contains("status")).then(|| cond.chars().take(120).collect())
}

/// A removed database write of billing rows: `.upsert([subscriptionData])` with
/// `.from('subscriptions')` on a line above it in the same removed run.
fn removed_billing_db_write(h: &Hunk, at: usize) -> bool {
    let line = squash(&h.lines[at].1).replace(' ', "");
    let verbs = [".upsert(", ".update(", ".insert(", ".save(", ".create(", "repo.update", "repo.insert", ".save!", ".update!("];
    if !verbs.iter().any(|v| line.contains(v)) || calls_provider(&h.lines[at].1) {
        return false;
    }
    let run = h.lines[..=at].iter().rev().take_while(|(t, _)| *t == '-').take(6);
    run.map(|(_, l)| squash(l)).any(|l| ["subscription", "billing", "entitlement", "membership"].iter().any(|k| l.contains(k)))
}

/// Whether the line's call goes to the billing provider's SDK (`stripe.checkout.Session.create(`,
/// `$this->stripe->subscriptions->update(`, `Stripe::Subscription.update(`): no app row is written.
fn calls_provider(line: &str) -> bool {
    // The callee: the chain just before the line's first `(`.
    let head = line.trim().split('(').next().unwrap_or("");
    let receiver = head.rsplit(|c: char| c.is_whitespace() || "=,".contains(c)).next().unwrap_or("");
    let r = receiver.to_ascii_lowercase();
    let r = r.trim_start_matches(['$', '@']).trim_start_matches("this.").trim_start_matches("self.").trim_start_matches("this->");
    ["stripe", "paddle", "lemonsqueezy", "stripeclient", "stripe_client"]
        .iter()
        .any(|p| r.strip_prefix(p).is_some_and(|rest| rest.starts_with(['.', ':', '-'])))
}

/// An added condition that lets an unpaid status through next to a paying one
/// (`status === 'active' || status === 'unpaid'`), which its removed version did not.
fn widened_status(h: &Hunk, added: &Added) -> Option<(usize, String)> {
    // Each added line is judged against the removed lines of its own block of changes.
    let block_removed = |i: usize| -> String {
        let start = h.lines[..i].iter().rposition(|(t, _)| *t == ' ').map_or(0, |p| p + 1);
        let end = h.lines[i..].iter().position(|(t, _)| *t == ' ').map_or(h.lines.len(), |p| i + p);
        h.lines[start..end].iter().filter(|(t, _)| *t == '-').map(|(_, l)| l.as_str()).collect::<Vec<_>>().join("\n")
    };
    let any_added = h.lines.iter().position(|(t, _)| *t == '+')?;
    let removed = block_removed(any_added);
    if h.lines.iter().all(|(t, _)| *t != '-') {
        return None;
    }
    // `status in ('active', 'trialing')` turned into `status not in ('canceled', …)`: every other status now passes.
    let negated = |l: &str| ["not in", "!=", "!==", "not_in", "unless"].iter().any(|k| l.contains(k)) && ["canceled", "cancelled"].iter().any(|c| l.contains(c));
    if removed.contains("active") && !negated(&removed) {
        if let Some(i) = h.lines.iter().position(|(t, l)| *t == '+' && l.contains("status") && negated(l)) {
            return Some((i, "unpaid".to_string()));
        }
    }
    h.lines.iter().enumerate().filter(|(_, (t, _))| *t == '+').find_map(|(i, (_, l))| {
        let is_condition = ["if", "elsif", "elif", "when", "case", "&&", "||", " or ", " and ", "in [", "in (", "includes(", "include?"].iter().any(|k| l.contains(k));
        let removed = block_removed(i);
        if removed.is_empty() {
            return None;
        }
        // Ruby word arrays name statuses unquoted: `%w[active past_due]`.
        let words = |t: &str| -> Vec<String> {
            t.match_indices("%w[").chain(t.match_indices("%i[")).filter_map(|(k, _)| t[k + 3..].split(']').next()).flat_map(|w| w.split_whitespace().map(|x| format!("'{x}'"))).collect()
        };
        let (l_words, removed_words) = (words(l), words(&removed));
        let has = |u: &str, t: &str, ws: &[String]| t.contains(u) || ws.iter().any(|w| w == u);
        let new_unpaid = UNPAID_TOKENS.iter().find(|u| has(u, l, &l_words) && !has(u, &removed, &removed_words))?.trim_matches(['\'', '"', ':']);
        // Let through elsewhere before (the allow-list moved to another function or file).
        if added.removed_allowed.contains(new_unpaid) {
            return None;
        }
        // A multi-line list (`const billable = [\n "active",\n "past_due",\n ]` then
        // `if (billable.includes(sub.status))`): the added run of lines reads as one condition.
        let run = added_run(h, i);
        let listed = is_list_item(l) && run.contains("status") && ["includes(", "include?", " in ", "in_array(", "contains("].iter().any(|k| run.contains(k));
        let (is_condition, text) = if listed { (true, run.as_str()) } else { (is_condition, l.as_str()) };
        (is_condition && PAYING.iter().any(|p| text.contains(p))).then(|| (i, new_unpaid.to_string()))
    })
}

/// `field: undefined` removed together with the spread it overrode (`...old.stripe,`) while
/// the hunk adds no spread: the literal is now built fresh, so the field is left out, which
/// clears it the same way.
fn spread_dropped(h: &Hunk, text: &str) -> bool {
    let clears = |t: &str| {
        let v = t.trim().trim_end_matches(',');
        v.ends_with(": undefined") || v.ends_with(": null") || v.ends_with(": nil")
    };
    let spread = |t: &str| t.trim_start().starts_with("...");
    clears(text) && h.lines.iter().any(|(t, l)| *t == '-' && spread(l)) && !h.lines.iter().any(|(t, l)| *t == '+' && spread(l))
}

/// The name a method `word` is called on: `$membership` in `$membership->cancel()`.
fn receiver_of<'l>(line: &'l str, word: &str) -> Option<&'l str> {
    let at = [format!("->{word}"), format!(".{word}")].iter().find_map(|m| line.find(m.as_str()))?;
    let before = &line[..at];
    let start = before.rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '$' || c == '@')).map_or(0, |i| i + 1);
    Some(before[start..].trim_start_matches(['$', '@'])).filter(|r| !r.is_empty())
}

/// The contiguous added lines around line `i` of the hunk, joined.
fn added_run(h: &Hunk, i: usize) -> String {
    let start = h.lines[..i].iter().rposition(|(t, _)| *t != '+').map_or(0, |p| p + 1);
    let end = h.lines[i..].iter().position(|(t, _)| *t != '+').map_or(h.lines.len(), |p| i + p);
    h.lines[start..end].iter().map(|(_, l)| l.as_str()).collect::<Vec<_>>().join("\n")
}

/// A line that is one quoted item of a list (`"past_due",`, `:past_due,`).
fn is_list_item(line: &str) -> bool {
    let t = line.trim().trim_end_matches(',');
    (t.len() > 2 && (t.starts_with('"') && t.ends_with('"') || t.starts_with('\'') && t.ends_with('\''))) || (t.starts_with(':') && !t.contains(' '))
}

/// An added argument that sets a tolerance: the word, or a number of seconds past the default 300.
fn widens_tolerance(line: &str) -> bool {
    line.to_ascii_lowercase().contains("tolerance")
        || line.split(|c: char| !c.is_ascii_digit()).filter_map(|n| n.parse::<u64>().ok()).any(|n| n > 300)
}

/// How many arguments the first call on a line takes (top-level commas + 1).
fn top_level_args(line: &str) -> usize {
    let Some(open) = line.find('(') else { return 0 };
    let mut depth = 0;
    let mut n = 1;
    for c in line[open..].chars() {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            ',' if depth == 1 => n += 1,
            _ => {}
        }
    }
    n
}

/// Whether the line at `at` is a field of a literal the code builds to answer or show
/// (`let public_subscription = PublicSubscription {`, `res.json({`, `jsonify(`): what the
/// client is told, not what is stored. Read from the literal's opening line above it.
fn in_response_literal(h: &Hunk, at: usize) -> bool {
    let indent = |l: &str| l.len() - l.trim_start().len();
    let own = indent(&h.lines[at].1);
    let Some((_, opener)) = h.lines[..at].iter().rev().filter(|(t, l)| *t != '+' && !l.trim().is_empty()).find(|(_, l)| indent(l) < own) else { return false };
    let o = squash(opener);
    opener.trim_end().ends_with(['{', '(']) && ["public", "response", "dto", "serializ", "jsonify", "resjson", "json!", "render", "viewmodel"].iter().any(|k| o.contains(k) || opener.contains(k))
}

/// Hunks between two full versions, with `radius` lines of context: what `git diff`
/// would show, for reading a change line by line when both versions are known.
pub fn of_texts(before: &str, after: &str, radius: usize) -> Vec<Hunk> {
    let diff = similar::TextDiff::from_lines(before, after);
    diff.grouped_ops(radius)
        .iter()
        .map(|group| {
            let mut h = Hunk::default();
            let mut first_new = None;
            for op in group {
                for change in diff.iter_changes(op) {
                    let tag = match change.tag() {
                        similar::ChangeTag::Equal => ' ',
                        similar::ChangeTag::Delete => '-',
                        similar::ChangeTag::Insert => '+',
                    };
                    if first_new.is_none() {
                        first_new = change.new_index().or(change.old_index());
                    }
                    h.lines.push((tag, change.value().trim_end_matches(['\n', '\r']).to_string()));
                }
            }
            h.new_start = first_new.map_or(1, |i| i as u32 + 1);
            super::hunk_comments::mark_block_comments(&mut h);
            h
        })
        .collect()
}

/// Whether a file's hunks (or their headers) speak of billing: worth reading as
/// code a handler may call even when its path does not say so.
/// A method whose name says access ends (`def expire`, `function cancelSubscription`): its name.
fn ends_access_method(lower_line: &str) -> Option<&str> {
    let t = lower_line.trim_start();
    let rest = ["def ", "function ", "public function ", "fn ", "pub fn ", "func ", "defp "].iter().find_map(|k| t.strip_prefix(k))?;
    let name = rest.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).next()?;
    ["expire", "cancel", "deactivat", "revoke", "unsubscrib", "downgrad"].iter().any(|w| name.contains(w)).then_some(name)
}

/// A removed bare deletion of the model's own row (`destroy`, `self.delete()`,
/// `$this->delete();`) inside a method whose name says access ends: the revocation itself.
fn removed_self_deletion(h: &Hunk, at: usize) -> Option<String> {
    let t = h.lines[at].1.trim().trim_end_matches(';');
    if !["destroy", "destroy!", "self.destroy", "self.destroy!", "delete", "self.delete", "self.delete()", "$this->delete()", "this.delete()", "await this.delete()"].contains(&t) {
        return None;
    }
    let above = old_view_above(h, at).chain(std::iter::once(h.section.as_str()));
    above.map(|l| l.to_ascii_lowercase()).find_map(|l| ends_access_method(&l).map(str::to_string))
}

pub fn mention_billing(hunks: &[Hunk]) -> bool {
    hunks.iter().flat_map(|h| std::iter::once(h.section.as_str()).chain(h.lines.iter().map(|(_, l)| l.as_str()))).any(|l| {
        let s = l.to_ascii_lowercase();
        ["subscription", "stripe", "paddle", "billing", "membership", "entitlement"].iter().any(|k| s.contains(k)) || ends_access_method(&s).is_some()
    })
}

/// Whether the changed lines touch billing state: an access write, an event label
/// or a verification call. Such a file, seen only through hunks, may be code a
/// handler calls.
pub fn touches_billing_state(hunks: &[Hunk], fields: &[String]) -> bool {
    hunks.iter().flat_map(|h| &h.lines).filter(|(t, l)| *t != ' ' && !is_comment(l)).any(|(_, l)| {
        !writes(l, fields).is_empty() || events(l).iter().any(|e| moves_access(e)) || verifies(l) || vocab::is_write_sql(l)
    })
}

/// The findings one changed file's hunks show on their own.
pub fn review(path: &str, hunks: &[Hunk], added: &Added, fields: &[String]) -> Vec<Finding> {
    let mut out: Vec<Finding> = Vec::new();
    let mut seen = BTreeSet::new();
    let error_helpers = added_error_answering_functions(hunks);
    for h in hunks {
        let mut new_line = h.new_start;
        // The error answer moved into a function the change adds, which the hunk now calls
        // (`body, ok := readPaddleBody(w, r)`, answering 400 itself): still answered.
        let calls_error_helper = h.lines.iter().any(|(t, l)| *t == '+' && !is_definition(l) && error_helpers.iter().any(|n| l.contains(&format!("{n}("))));
        let hunk_adds_2xx = h.lines.iter().any(|(t, l)| *t == '+' && answers_2xx(l));
        let hunk_adds_error = h.lines.iter().any(|(t, l)| *t == '+' && answers_error(l));
        // The success answer may be unchanged context: the error answer before it is what went.
        let hunk_keeps_2xx = h.lines.iter().any(|(t, l)| *t == ' ' && answers_2xx(l));
        // The work moved into a queued job that raises where the handler answered an error:
        // the queue retries the failure, as the provider did.
        let errors_queued = added.raises && h.lines.iter().any(|(t, l)| *t == '+' && queues_event(l));
        if let Some((i, status)) = widened_status(h, added).or_else(|| super::hunk_status_map::remapped_to_paying(h)) {
            let p = place(h, i);
            let line = h.new_start + h.lines[..i].iter().filter(|(t, _)| *t != '-').count() as u32;
            let entity = p.event.as_ref().map_or(format!("handler:{path}"), |e| format!("handler:{path}#{e}"));
            if seen.insert(("WH011".to_string(), entity.clone())) {
                let shown: String = h.lines[i].1.trim().chars().take(120).collect();
                out.push(
                    Finding::new(rules::get("WH011").expect("catalog"), entity, format!("{path}: `{shown}` now lets status {status} through a condition that grants access"))
                        .at(path, line.max(1))
                        .evidence("seen_in", "diff hunks")
                        .evidence("status", status),
                );
            }
        }
        for (rule, at, message) in super::hunk_timing::review(h, fields).into_iter().chain(super::hunk_errors::review(h)).chain(super::hunk_verification::review(h)).chain(pinned_after_copy(h, fields)) {
            if matches!(rule, "WH010" | "WH015") && h.lines[at].0 == '-' && added.comes_back(&h.lines[at].1) {
                continue;
            }
            let p = place(h, at);
            let line = h.new_start + h.lines[..at].iter().filter(|(t, _)| *t != '-').count() as u32;
            let entity = p.event.as_ref().map_or(format!("handler:{path}"), |e| format!("handler:{path}#{e}"));
            if seen.insert((rule.to_string(), entity.clone())) {
                let mut f = Finding::new(rules::get(rule).expect("catalog"), entity, format!("{path}: {message}"))
                    .at(path, line.max(1))
                    .evidence("seen_in", "diff hunks");
                if let Some(e) = p.event {
                    f = f.evidence("event", e);
                }
                out.push(f);
            }
        }
        for (at, (tag, text)) in h.lines.iter().enumerate() {
            let line = new_line.max(1);
            if *tag != '-' {
                new_line += 1;
            }
            if *tag != '-' || is_comment(text) {
                continue;
            }
            let shown: String = text.trim().chars().take(120).collect();
            let here = || place(h, at);
            let mut push = |rule: &str, event: Option<String>, message: String, out: &mut Vec<Finding>| {
                let entity = match &event {
                    Some(e) => format!("handler:{path}#{e}"),
                    None => format!("handler:{path}"),
                };
                if !seen.insert((rule.to_string(), entity.clone())) {
                    return;
                }
                let mut f = Finding::new(rules::get(rule).expect("WH rules are in the catalog"), entity, message)
                    .at(path, line)
                    .evidence("seen_in", "diff hunks")
                    .evidence("removed_line", shown.clone());
                if let Some(e) = event {
                    f = f.evidence("event", e);
                }
                out.push(f);
            };
            if verifies(text) && !is_import(text) && !added.verifies {
                push("WH001", None, format!("{path}: the signature check `{shown}` is removed and nothing in the diff verifies events instead"), &mut out);
            }
            if verifies(text) && squash(text).contains("constructevent") && h.lines.iter().any(|(t, l)| *t == '+' && squash(l).contains("ignoringtolerance")) {
                push("WH015", None, format!("{path}: `{shown}` became a check that ignores the timestamp tolerance (replays are accepted)"), &mut out);
            }
            if squash(text).contains("constructevent") && h.lines.iter().any(|(t, l)| *t == '+' && squash(l).contains("constructevent") && top_level_args(l) > top_level_args(text) && widens_tolerance(l)) {
                push("WH015", None, format!("{path}: `{shown}` now passes a timestamp tolerance: old events (replays) are accepted for longer"), &mut out);
            }
            if let Some(guard) = status_bail_out_removed(h, at) {
                let p = here();
                push("WH016", p.event, format!("{path}: `{shown}` is removed from `{guard}`: a subscription in a status that check turned away (incomplete, past_due) now goes on to be granted access"), &mut out);
            }
            if squash(text).contains("paymentstatus") && !added.words.contains("paymentstatus") {
                let p = here();
                push("WH016", p.event, format!("{path}: the payment check `{shown}` is removed: access is granted whether or not the payment went through"), &mut out);
            }
            // A name in a multi-line import list (`import {\n  manageSubscriptionStatusChange,`) is no write.
            // Nor is a field of a value built for a response (`PublicSubscription { status: .. }`)
            // or of the params of a provider request (`"subscription_data": {"items": [{"plan": ..}]}`).
            let writes_here = if in_import_list(h, at) || in_response_literal(h, at) || super::hunk_request_params::in_provider_request(h, at) { Vec::new() } else { writes(text, fields) };
            for w in writes_here.into_iter().filter(|w| !(w.call && added.writes_no_access.contains(&w.field))) {
                // Kept when the diff writes the field again (any spelling of the call that
                // grants or revokes the same way counts: markAsCancelled -> markAsCanceled).
                let kept = added.writes.iter().any(|a| {
                    (a.field == w.field || (a.call && w.call)) && (a.polarity == w.polarity || a.polarity == Polarity::Sync || w.polarity == Polarity::Sync)
                }) || (w.call && added.words.contains(&w.field))
                    // A bare name passed on (`current_period_end,` as an argument) that the diff
                    // still passes somewhere: the same value, moved into a helper's call.
                    || (bare_name(text) && added.words.contains(&w.field))
                    || added.dropped.contains(&w.field)
                    || added.comes_back_renamed(text)
                    || (w.polarity == Polarity::Revoke && spread_dropped(h, text));
                // A status copied from the provider, now pinned to a paying value: cancellations stop revoking.
                let pinned = w.polarity == Polarity::Sync
                    && added.writes.iter().any(|a| a.field == w.field && a.polarity == Polarity::Grant)
                    && !added.writes.iter().any(|a| a.field == w.field && a.polarity != Polarity::Grant);
                if pinned {
                    let p = here();
                    push("WH005", p.event, format!("{path}: `{shown}` now writes a fixed paying value to `{}`: a canceled or unpaid subscription no longer revokes", w.field), &mut out);
                    continue;
                }
                if kept {
                    continue;
                }
                let p = here();
                let ending = match w.polarity {
                    Polarity::Grant => false,
                    Polarity::Revoke => true,
                    Polarity::Sync => p.ending,
                };
                let on = p.event.as_deref().map(|e| format!(" on {e}")).unwrap_or_else(|| " (its event is out of the hunk's view)".into());
                if ending {
                    push("WH005", p.event.clone(), format!("{path}: the revocation `{shown}` is removed{on}; nothing in the diff revokes `{}` instead", w.field), &mut out);
                } else {
                    push("WH004", p.event.clone(), format!("{path}: the access write `{shown}` is removed{on}; nothing in the diff writes `{}` that way instead", w.field), &mut out);
                }
            }
            if !is_logging(text) && dropped_body_mattered(h, at, fields) {
                let flags = flag_events(h);
                for e in events(text).into_iter().filter(|e| moves_access(e) && !added.events.contains(e) && !flags.contains(e)) {
                    push("WH006", Some(e.clone()), format!("{path}: `{shown}` is removed and no added line names {e}: the event is no longer handled here"), &mut out);
                }
            }
            if let Some((call, was, now)) = status_argument_reversed(text, h) {
                let p = here();
                push("WH005", p.event, format!("{path}: `{call}` now passes '{now}' where it passed '{was}': the subscription is recorded as paying when it ends"), &mut out);
            }
            if let Some(method) = removed_self_deletion(h, at) {
                push("WH005", None, format!("{path}: `{shown}` is removed from `{method}`: the row that gives access is no longer deleted when access ends"), &mut out);
            }
            if removed_billing_db_write(h, at) && !added.db_writes {
                let p = here();
                let rule = if p.ending { "WH005" } else { "WH004" };
                push(rule, p.event, format!("{path}: the write of billing rows `{shown}` is removed and nothing in the diff writes them instead"), &mut out);
            }
            let acknowledged = hunk_adds_2xx || (hunk_keeps_2xx && in_error_branch(h, at));
            if answers_error(text) && acknowledged && !in_removed_definition(h, at) && !hunk_adds_error && !errors_queued && !calls_error_helper && !answers_unknown_events(h, at) && !answers_bad_signature(h, at) && !is_call_argument(h, at) && !added.comes_back(text) {
                let p = here();
                push("WH010", p.event, format!("{path}: the error answer `{shown}` is replaced by a success answer: a failure is acknowledged and never retried"), &mut out);
            }
        }
    }
    out
}

/// An added line that pins a status to a paying value right after the provider's
/// subscription was copied into the same attributes (`attrs_from_stripe_subscription()
/// |> Map.put(:status, "active")`): every synced subscription, canceled ones included,
/// is recorded as paying.
fn pinned_after_copy(h: &Hunk, fields: &[String]) -> Vec<(&'static str, usize, String)> {
    let copies = |l: &str| {
        let s = squash(l);
        ["fromstripe", "frompaddle", "attrsfrom", "toattrs", "fromsubscription", "subscriptionattrs"].iter().any(|k| s.contains(k))
    };
    let mut out = Vec::new();
    for (at, (tag, line)) in h.lines.iter().enumerate() {
        if *tag != '+' {
            continue;
        }
        let pins = writes(line, fields).into_iter().any(|w| w.polarity == Polarity::Grant && vocab::is_status_field(&w.field));
        let after_copy = h.lines[at.saturating_sub(4)..at].iter().any(|(t, l)| *t != '-' && copies(l));
        if pins && after_copy {
            let shown: String = line.trim().chars().take(100).collect();
            out.push(("WH005", at, format!("`{shown}` pins the status copied from the provider to a paying value: canceled and unpaid subscriptions are recorded as paying")));
        }
    }
    out
}

/// A function's definition line (`def update_subscription(org, id) do`, `async function
/// grantAccess(user) {`): it declares parameters, it writes nothing.
/// Functions whose definition line the change adds and whose body, as far as the
/// hunk shows it (up to the next definition), answers an error.
fn added_error_answering_functions(hunks: &[Hunk]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for h in hunks {
        let kept: Vec<&(char, String)> = h.lines.iter().filter(|(t, _)| *t != '-').collect();
        for (i, (t, l)) in kept.iter().enumerate() {
            let Some(name) = (*t == '+').then(|| defined_name(l)).flatten() else { continue };
            let body = kept[i + 1..].iter().take_while(|(_, b)| !is_definition(b));
            if body.take(40).any(|(_, b)| answers_error(b)) {
                out.insert(name.to_string());
            }
        }
    }
    out
}

/// The name a definition line defines: `func (s *Server) name(`, `def name`, `fn name<T>(`.
pub(super) fn defined_name(line: &str) -> Option<&str> {
    if !is_definition(line) {
        return None;
    }
    let t = line.trim_start();
    let at = DEFINITION_KEYWORDS.iter().filter_map(|k| t.find(k).map(|i| i + k.len())).min()?;
    let mut rest = t[at..].trim_start();
    // A Go method's receiver.
    if rest.starts_with('(') {
        rest = rest.split_once(')')?.1.trim_start();
    }
    let name = rest.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '?' || c == '!')).next()?;
    (name.len() >= 3).then_some(name)
}

/// The keywords that open a function definition, in the languages billguard reads.
const DEFINITION_KEYWORDS: &[&str] = &["def ", "defp ", "function ", "fn ", "func "];

fn is_definition(line: &str) -> bool {
    let t = line.trim_start();
    let t = ["pub ", "pub(crate) ", "export ", "async ", "public ", "private ", "protected ", "static "].iter().fold(t, |t, p| t.strip_prefix(p).unwrap_or(t));
    let t = t.strip_prefix("async ").unwrap_or(t);
    DEFINITION_KEYWORDS.iter().any(|k| t.starts_with(k))
}

/// Whether the line at `at` sits inside a multi-line import list: an `import {` (or
/// Python `from x import (`, Elixir `alias X.{`) above it that has not closed yet.
fn in_import_list(h: &Hunk, at: usize) -> bool {
    for (_, l) in h.lines[..at].iter().rev().take(30) {
        let t = l.trim();
        if t.contains('}') || t.contains(')') || t.ends_with(';') {
            return false;
        }
        if (t.starts_with("import {") || t.starts_with("import type {") || t.starts_with("export {") || (t.starts_with("from ") && t.ends_with("import ("))) && !t.contains('}') {
            return true;
        }
    }
    false
}

/// A line that is only a name (`current_period_end,`): a shorthand property or an argument.
fn bare_name(line: &str) -> bool {
    let t = line.trim().trim_end_matches(',');
    !t.is_empty() && t.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A call that sets a status (`update_subscription_status(id, "cancelled")`) whose
/// revoking literal became a paying one in an added line of the hunk: the call, and the
/// old and new values.
fn status_argument_reversed(removed: &str, h: &Hunk) -> Option<(String, String, String)> {
    static CALL: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let call = CALL.get_or_init(|| regex::Regex::new(r#"([A-Za-z_][\w.:!?]*)\s*\(([^()]*)\)"#).expect("static regex"));
    let literals = |args: &str| -> Vec<String> {
        args.split(',').map(|a| a.trim().trim_matches(['\'', '"', ':']).to_ascii_lowercase()).filter(|a| a.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')).collect()
    };
    let status_call = |text: &str| -> Vec<(String, String, Vec<String>)> {
        call.captures_iter(text)
            .filter(|c| squash(&c[1]).contains("status"))
            .map(|c| (c[1].to_string(), squash(&c[1]), literals(&c[2])))
            .collect()
    };
    for (shown, name, args) in status_call(removed) {
        let Some(was) = args.iter().find(|a| !a.is_empty() && vocab::is_revoking_literal(a)) else { continue };
        for (tag, line) in &h.lines {
            if *tag != '+' {
                continue;
            }
            for (_, added_name, added_args) in status_call(line) {
                if added_name != name || added_args.iter().any(|a| !a.is_empty() && vocab::is_revoking_literal(a)) {
                    continue;
                }
                if let Some(now) = added_args.iter().find(|a| matches!(a.as_str(), "active" | "trialing" | "paid")) {
                    return Some((shown, was.clone(), now.clone()));
                }
            }
        }
    }
    None
}

/// The HTTP status codes a line answers with (`status(500)`, `status=200`, `head :ok`).
fn answered_codes(line: &str) -> Vec<u16> {
    let s = line.to_ascii_lowercase();
    // Flask and friends answer with a tuple: `return "", 400`, `return jsonify(e), 500`.
    let tuple = s.trim_start().starts_with("return ") && s.contains(", ");
    let answers = tuple || ["status", "response", "head", "send_resp", "res.", "w.writeheader", "abort", "json("].iter().any(|k| s.contains(k));
    let mut codes: Vec<u16> = Vec::new();
    if answers {
        let b = s.as_bytes();
        for i in 0..b.len().saturating_sub(2) {
            let edge = |j: usize| j >= b.len() || !b[j].is_ascii_digit();
            if (i == 0 || edge(i - 1)) && b[i..i + 3].iter().all(u8::is_ascii_digit) && edge(i + 3) {
                if let Ok(n) = s[i..i + 3].parse::<u16>() {
                    if (200..600).contains(&n) {
                        codes.push(n);
                    }
                }
            }
        }
    }
    // Named statuses, as the model reads them: `http.StatusOK`, `StatusCode::OK`,
    // `status.HTTP_500_INTERNAL_SERVER_ERROR`, Ruby and Elixir `:ok` / `:internal_server_error`.
    for tok in line.split(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':'))) {
        let tok = tok.trim_end_matches([':', '.']);
        let code = match tok.strip_prefix(':') {
            Some(sym) => vocab::named_status(sym),
            None if tok.contains('.') || tok.contains("::") => vocab::status_from_name(tok),
            None => None,
        };
        codes.extend(code);
    }
    // A status passed around by name as a string and mapped to a response later
    // (`return "internal_server_error"`).
    for name in ["ok", "bad_request", "not_found", "unprocessable_entity", "internal_server_error", "service_unavailable"] {
        if s.contains(&format!("\"{name}\"")) || s.contains(&format!("'{name}'")) {
            codes.extend(vocab::named_status(name));
        }
    }
    // `res.json({ received: true })`: the SDK docs' acknowledgement.
    if s.replace([' ', '"', '\''], "").contains("received:true") {
        codes.push(200);
    }
    codes
}

/// The error answer at `at` rejects a bad signature (it goes with the verification,
/// which WH001 judges), not a processing failure.
fn answers_bad_signature(h: &Hunk, at: usize) -> bool {
    // The branch the answer is in, up to the line that opens it: the arm above
    // (`{:error, :invalid_signature} -> send_resp(conn, 400, ..)`) is another branch.
    let mut branch = Vec::new();
    let mut lines = old_view_above(h, at + 1).filter(|l| !is_comment(l) && !l.trim().is_empty());
    for l in lines.by_ref().take(6) {
        branch.push(l);
        let t = l.trim_end();
        if branch.len() > 1 && (t.ends_with("->") || t.ends_with('{') || t.ends_with(':') || t.trim_start().starts_with("rescue")) {
            break;
        }
    }
    // `} else {` of `if (VALIDATION_SUCCEEDED === $result) {`: the branch where validation failed.
    if branch.last().is_some_and(|l| l.trim_start().starts_with('}') && l.contains("else") && !l.contains("if")) {
        if let Some(cond) = lines.take(15).find(|l| l.trim_start().starts_with("if")) {
            let c = cond.to_ascii_lowercase();
            if ["valid", "verif", "signature"].iter().any(|k| c.contains(k)) {
                return true;
            }
        }
    }
    branch.iter().any(|l| {
        let s = l.to_ascii_lowercase();
        let about_signature = s.contains("signature") && ["catch", "except", "rescue", "bad", "invalid", "verif"].iter().any(|k| s.contains(k));
        about_signature || verifies(l)
    }) || guards_only_verification(h, at)
}

/// The answer is in a handler of a `try` whose body only verifies (`try: event =
/// stripe.Webhook.construct_event(...)` then `except ValueError: raise`): a bad request's
/// answer, whatever the exception is called.
fn guards_only_verification(h: &Hunk, at: usize) -> bool {
    let catches = |l: &str| {
        let t = l.trim_start();
        t.starts_with("except") || t.starts_with("catch") || t.starts_with("} catch") || t.starts_with("rescue")
    };
    let above: Vec<&str> = old_view_above(h, at + 1).take(30).collect();
    let Some(handler) = above.iter().position(|l| catches(l)) else {
        return false;
    };
    // Up to the `try`, past any earlier handlers of the same try.
    let Some(open) = above[handler..].iter().position(|l| {
        let t = l.trim_start();
        t.starts_with("try") || t.starts_with("begin")
    }) else {
        return false;
    };
    let body: Vec<&str> = above[handler..handler + open].iter().copied().filter(|l| !catches(l)).collect();
    let works = |l: &str| ["[\"type\"]", "['type']", ".type", "handle", "process", "dispatch", "run_"].iter().any(|k| l.contains(k));
    body.len() <= 12 && body.iter().any(|l| verifies(l)) && !body.iter().any(|l| works(l) && !verifies(l))
}

/// The line at `at` continues a call's argument list (the line above ends with `,` or `(`):
/// `Activities.alert(msg,\n :error)` passes a log level, it answers nothing.
fn is_call_argument(h: &Hunk, at: usize) -> bool {
    old_view_above(h, at).find(|l| !l.trim().is_empty()).is_some_and(|l| {
        let t = l.trim_end();
        t.ends_with(',') || t.ends_with('(')
    })
}

/// The line at `at` sits in a branch that handles a processing failure (`if err != nil`,
/// `catch`, `except`, `rescue`, `Err(..)`), seen in the lines just above it.
fn in_error_branch(h: &Hunk, at: usize) -> bool {
    old_view_above(h, at).take(4).any(|l| {
        let s = l.to_ascii_lowercase().replace(' ', "");
        ["err!=nil", "catch(", "catch{", "}catch", "except", "rescue", "err(", "{:error"].iter().any(|w| s.contains(w))
    })
}

/// The answer at `at` is for event types the handler does not handle (`if handler is
/// None`, `default:`, `else`): acknowledging those is right (WH018), not a swallowed error.
fn answers_unknown_events(h: &Hunk, at: usize) -> bool {
    old_view_above(h, at).take(3).any(|l| {
        let s = l.to_ascii_lowercase();
        ["unhandled", "unknown", "unsupported", "not handled", "is none", "== nil", "=== undefined", "default:", "else:", "} else {", "_ ->", "_ =>"].iter().any(|w| s.contains(w))
    })
}

/// A line that hands the event to a background job (`ProcessJob::dispatch($event)`,
/// `Job.perform_later(event)`, `task.delay(payload)`, `queue.add("x", event)`).
fn queues_event(line: &str) -> bool {
    let s = squash(line).replace(' ', "");
    let queued = ["::dispatch(", "dispatch(new", ".perform_later(", ".perform_async(", ".delay(", ".apply_async(", "enqueue(", "queue.add(", "queue.push(", "oban.insert("]
        .iter()
        .any(|q| s.contains(q));
    queued && ["event", "payload"].iter().any(|e| s.contains(e))
}

pub(crate) fn answers_2xx(line: &str) -> bool {
    answered_codes(line).iter().any(|c| (200..300).contains(c))
}

/// The line is in a function whose definition line is removed (the function moved or went
/// away; what answers now is elsewhere): the nearest enclosing definition above it, by
/// indentation in the old version, is a removed line.
fn in_removed_definition(h: &Hunk, at: usize) -> bool {
    let indent = |l: &str| l.len() - l.trim_start().len();
    let mut depth = indent(&h.lines[at].1);
    for (t, l) in h.lines[..at].iter().rev().filter(|(t, l)| *t != '+' && !l.trim().is_empty()) {
        if indent(l) < depth {
            if is_definition(l) {
                return *t == '-';
            }
            depth = indent(l);
        }
    }
    false
}

pub(crate) fn answers_error(line: &str) -> bool {
    let t = line.trim_start();
    // 4xx and 5xx both make the provider retry; a 2xx in their place acknowledges a failure.
    t.starts_with("throw") || t.starts_with("raise") || answered_codes(line).iter().any(|c| *c >= 400) || t.contains("{:error") || t.ends_with(":error")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hunk(section: &str, lines: &[(char, &str)]) -> Hunk {
        Hunk { new_start: 10, section: section.into(), lines: lines.iter().map(|(t, l)| (*t, l.to_string())).collect() }
    }

    #[test]
    fn a_call_of_a_renamed_function_that_comes_back_is_no_removed_write() {
        let h = hunk(
            "class StripeSubscription",
            &[
                ('-', "      stripe_subscription.update_from_stripe_subscription!(obj, skip_membership_update: true)"),
                ('+', "      stripe_subscription.update_from_stripe!(obj, skip_membership_update: true)"),
                (' ', "  end"),
                ('-', "  def update_from_stripe_subscription!(stripe_obj = nil, skip_membership_update: false)"),
                ('+', "  def update_from_stripe!(stripe_obj = nil, skip_membership_update: false)"),
            ],
        );
        let added = Added::of([&h], &[]);
        assert!(added.comes_back_renamed(&h.lines[0].1));
        // Not renamed: the call comes back with other arguments.
        assert!(!added.comes_back_renamed("      stripe_subscription.update_from_stripe_subscription!(other_obj)"));
        // A function the diff keeps defining was not renamed.
        let kept = hunk("x", &[('-', "  def sync!(a)"), ('+', "  def sync!(a)"), ('+', "  def other!(a)"), ('-', "    user.sync!(a)"), ('+', "    user.other!(a)")]);
        let added = Added::of([&kept], &[]);
        assert!(!added.comes_back_renamed("    user.sync!(a)"));
    }

    #[test]
    fn a_removed_line_belongs_to_the_function_that_holds_it_not_the_hunk_header_or_a_comment() {
        let h = hunk(
            "func (c *Controller) handleCheckoutSessionCompleted(event stripe.Event) error {",
            &[
                (' ', "\treturn nil"),
                (' ', "}"),
                ('-', "func (c *Controller) handleCustomerSubscriptionDeleted(event stripe.Event) error {"),
                ('-', "\t// events come out of order: \"checkout.session.completed\" may arrive later"),
                ('-', "\tuser.IsPaid = false"),
            ],
        );
        let p = place(&h, 4);
        assert_eq!(p.event.as_deref(), Some("customer.subscription.deleted"));
        // A function whose name says no event: the line's event is unknown, not the header's.
        let h = hunk(
            "func (c *Controller) handleCheckoutSessionCompleted(event stripe.Event) error {",
            &[(' ', "}"), ('-', "func (c *Controller) auditLog(event stripe.Event) error {"), ('-', "\treturn Log{Subscription: sub}")],
        );
        assert_eq!(place(&h, 2).event, None);
    }

    #[test]
    fn a_status_check_that_no_longer_returns_lets_non_paying_subscriptions_through() {
        let lines = [
            (' ', "\tif newSub.Status != stripe.SubscriptionStatusActive && newSub.Status != stripe.SubscriptionStatusTrialing {"),
            (' ', "\t\tlog.Warnf(c, \"non-active\")"),
            ('-', "\t\treturn c.Ok(web.Map{})"),
            (' ', "\t}"),
        ];
        assert!(status_bail_out_removed(&hunk("", &lines), 2).is_some());
        // Still returning, another way: no bail-out lost.
        let mut kept = lines.to_vec();
        kept.insert(3, ('+', "\t\treturn c.Ok(web.Map{\"skipped\": true})"));
        assert!(status_bail_out_removed(&hunk("", &kept), 2).is_none());
        // A return under a check of something else.
        let other = [(' ', "\tif err != nil {"), ('-', "\t\treturn c.Failure(err)"), (' ', "\t}")];
        assert!(status_bail_out_removed(&hunk("", &other), 1).is_none());
    }

    #[test]
    fn a_returned_literal_or_a_condition_is_no_write_but_a_returned_write_call_is() {
        assert!(writes("return ente.EventLog{UserID: userID, StripeSubscription: sub}, nil", &[]).is_empty());
        assert!(writes("if not subscription:", &[]).is_empty());
        assert!(!writes("return db.user.update({ where: { id }, data: { isPro: false } })", &[]).is_empty());
        assert!(!writes("if err := repo.Save(User{IsPro: false}); err != nil {", &[]).is_empty());
        // A handler picked by event type is a method value, not a call that revokes.
        assert!(writes("\t\treturn c.handleCustomerSubscriptionDeleted", &[]).is_empty());
        assert!(!writes("    @subscription.deactivate", &[]).is_empty(), "Ruby's paren-less call still writes");
        // The parameters of a call to the provider's SDK write nothing of the app's.
        assert!(writes("\t\tSubscriptionData: &stripe.CheckoutSessionSubscriptionDataParams{", &[]).is_empty());
    }

    fn rules_of(fs: &[Finding]) -> Vec<String> {
        fs.iter().map(|f| format!("{}{}", f.rule, f.entity.split_once('#').map(|(_, e)| format!("#{e}")).unwrap_or_default())).collect()
    }

    #[test]
    fn writes_in_every_language_shape() {
        let w = |l: &str| writes(l, &[]).into_iter().map(|w| (w.field, w.polarity)).collect::<Vec<_>>();
        assert_eq!(w("  data: { hasPaidAccess: true },"), [("haspaidaccess".into(), Polarity::Grant)]);
        assert_eq!(w("user.update(is_pro=False)"), [("ispro".into(), Polarity::Revoke)]);
        assert_eq!(w("$user->plan = 'free';"), [("plan".into(), Polarity::Revoke)]);
        assert_eq!(w("'plan' => 'pro',"), [("plan".into(), Polarity::Grant)]);
        assert_eq!(w("account.user.remove_role(:pro) if account"), [("removerole".into(), Polarity::Revoke)]);
        assert_eq!(w("        Subscriptions.cancel_subscription(subscription)"), [("cancelsubscription".into(), Polarity::Revoke)]);
        assert_eq!(w("\t\t\t\t\t\t$membership->cancel();"), [("cancel".into(), Polarity::Revoke)]);
        assert!(w("    stripe_subscription.cancel()").is_empty(), "the provider's cancel is no app revocation");
        assert_eq!(w("status: subscription.status,"), [("status".into(), Polarity::Sync)]);
        assert_eq!(w("\t\t\taccount_type = $4"), [("accounttype".into(), Polarity::Sync)], "an SQL placeholder passes a value on");
        assert_eq!(w("blockedUsers: blockedUsers,"), [], "a field given the local of its name passes a value on");
        assert_eq!(w("  await updateUser({ ...user, isSubscribed });"), [("issubscribed".into(), Polarity::Sync)], "a shorthand property of a passed object");
        assert!(w("  const { customer, isSubscribed } = body;").is_empty(), "destructuring reads");
        assert_eq!(defined_name("func (s *Server) readBody(w http.ResponseWriter) ([]byte, bool) {"), Some("readBody"));
        assert_eq!(defined_name("  defp valid_signature?(params) do"), Some("valid_signature?"));
        assert_eq!(defined_name("export async function loadUser(id: string) {"), Some("loadUser"));
        assert_eq!(defined_name("const x = 1;"), None);
        assert_eq!(w("blockedUsers: cache.blocked,"), [("blockedusers".into(), Polarity::Revoke)]);
        assert_eq!(w("u.Disabled = true"), [("disabled".into(), Polarity::Revoke)]);
        assert_eq!(w("            \"subscription.active\": false,").len(), 1, "a document path names its last field");
        assert!(w("    \"invoice.paid\": onInvoicePaid,").is_empty(), "an event type maps a handler");
        assert!(w("    case 'invoices.paid': {").is_empty(), "a case label, even of a misspelt type");
        assert_eq!(w("UPDATE users SET is_pro = false WHERE id = $1"), [("ispro".into(), Polarity::Revoke)]);
        // Locals, comparisons, logging and comments are no writes.
        assert!(w("const hasPaidAccess = true;").is_empty());
        assert!(w("if (user.plan === 'pro') {").is_empty());
        assert!(w("console.log({ plan: 'pro' })").is_empty());
        assert!(w("        dump('assigned role: ' . $plan->role->name);").is_empty());
        assert!(w("  flash('role: admin')").is_empty(), "a key inside a string is text");
        assert!(w("// plan: 'free'").is_empty());
        assert!(w("order.status = 'shipped'").is_empty(), "an order's status is not a subscription's");
        assert_eq!(w("'naïve_ë' => $x, 'plan' => 'free',"), [("plan".into(), Polarity::Revoke)], "multi-byte text before a key");
        assert!(w("    subscriptionStatus = subscriptionStatus?.length ? subscriptionStatus : undefined;").is_empty(), "a ternary's else is not a key");
        assert_eq!(w("          group.remove(user)"), [("groupmembership".into(), Polarity::Revoke)]);
        assert!(w("      updated_subscription = Stripe::Subscription.update(subscription_id,").is_empty(), "a local holding an API call's result");
        assert_eq!(w("        has_paid_access=False,"), [("haspaidaccess".into(), Polarity::Revoke)], "a keyword argument on its own line");
        assert_eq!(w("    plan_group.add(user)"), [("plangroupmembership".into(), Polarity::Grant)]);
        assert!(w("    items.remove(item)").is_empty());
        assert!(w("  \"invoice.paid\": onInvoicePaid,").is_empty(), "an event map's key is no field");
        assert!(w("  def update_organization_subscription(%Organization{} = organization, subscription_id) do").is_empty(), "a definition writes nothing");
        assert!(w("  def create_session(%{customer: customer, subscription: subscription, success_url: url}) do").is_empty());
        assert!(w("export async function grantAccess(userId: string, hasAccess = true) {").is_empty());
        assert_eq!(w("  defp attrs(customer), do: %{customer_id: customer, active: true}"), [("active".into(), Polarity::Grant)], "a one-line body writes");
        assert!(w("  defp attrs(%{active: true} = sub), do: sub").is_empty(), "a pattern in the head is no write");
    }

    #[test]
    fn a_status_pinned_after_copying_the_provider_s_attributes_is_wh005() {
        let lines = |pin: &str| {
            hunk(
                "def call(stripe_subscription) do",
                &[
                    (' ', "        stripe_subscription"),
                    (' ', "        |> SubscriptionAdapter.attrs_from_stripe_subscription()"),
                    (' ', "        |> Map.put(:billing_customer_id, customer.id)"),
                    ('+', pin),
                    (' ', ""),
                ],
            )
        };
        let h = lines("        |> Map.put(:status, \"active\")");
        let fs = review("lib/app/billing/sync_subscription.ex", &[h.clone()], &Added::of([&h], &[]), &[]);
        assert!(fs.iter().any(|f| f.rule == "WH005" && f.message.contains("pins the status")), "{fs:?}");
        // Quiet: another attribute, or a status set where nothing was copied (a checkout grant).
        let h = lines("        |> Map.put(:source, \"stripe\")");
        assert!(review("lib/app/billing/sync_subscription.ex", &[h.clone()], &Added::of([&h], &[]), &[]).is_empty());
        let checkout = hunk("case 'checkout.session.completed':", &[(' ', "  const userId = session.client_reference_id;"), ('+', "  await db.user.update({ where: { id: userId }, data: { status: 'active' } });")]);
        let fs = review("app/api/webhook/route.ts", &[checkout.clone()], &Added::of([&checkout], &[]), &[]);
        assert!(!fs.iter().any(|f| f.message.contains("pins the status")), "{fs:?}");
    }

    #[test]
    fn a_typed_local_is_no_field_write() {
        assert!(writes("    subscription: djstripe_models.Subscription = djstripe_models.Subscription.objects.get(id=subscription_id)", &[]).is_empty());
        assert!(!writes("    user.plan = 'free'", &[]).is_empty());
    }

    #[test]
    fn a_local_flag_named_like_an_event_is_no_event() {
        assert!(events("  const subscriptionCanceled =").is_empty());
        assert!(events("    subscription_canceled := sub.Status == \"canceled\"").is_empty());
        assert_eq!(events("  subscriptionCanceled: cancelWorkspace,"), BTreeSet::from(["subscription.canceled".to_string()]));
        assert_eq!(events("const subscriptionCanceled = async (event) => {"), BTreeSet::from(["subscription.canceled".to_string()]));
    }

    #[test]
    fn a_renamed_name_in_an_import_list_is_no_write() {
        let h = hunk(
            "",
            &[(' ', "import {"), (' ', "  upsertProductRecord,"), ('-', "  manageSubscriptionStatusChange,"), ('+', "  syncSubscriptionFromStripe,"), (' ', "} from '@/utils/supabase/admin';")],
        );
        let fs = review("app/api/webhooks/route.ts", &[h.clone()], &Added::of([&h], &[]), &[]);
        assert!(fs.is_empty(), "{fs:?}");
        // The same line in an object literal is still a write.
        let h = hunk("case 'customer.subscription.deleted':", &[(' ', "  await db.user.update({ where: { id }, data: {"), ('-', "    hasPaidAccess,"), (' ', "  } });")]);
        let fs = review("app/api/webhooks/route.ts", &[h.clone()], &Added::of([&h], &[]), &[]);
        assert!(!fs.is_empty(), "{fs:?}");
    }

    #[test]
    fn an_argument_passed_on_to_a_new_helper_is_no_removal() {
        let h = hunk(
            "EventType::CustomerSubscriptionDeleted => {",
            &[
                ('-', "                    set_stripe_subscription_current_period_end("),
                ('-', "                        subscription_stripe_id,"),
                ('-', "                        current_period_end,"),
                ('-', "                        pool,"),
                ('-', "                    )"),
                ('+', "                    handle_subscription_deleted(subscription, pool).await?;"),
            ],
        );
        let helper = hunk("", &[('+', "    set_stripe_subscription_current_period_end(subscription_stripe_id, current_period_end, pool)")]);
        let added = Added::of([&h, &helper], &[]);
        let fs = review("server/src/handlers/stripe_handler.rs", &[h, helper], &added, &[]);
        assert!(!fs.iter().any(|f| f.rule == "WH005" || f.rule == "WH004"), "{fs:?}");
    }

    #[test]
    fn a_status_argument_turned_from_ended_to_paying_is_wh005() {
        let section = "def handle_event(%Stripe.Event{type: \"customer.subscription.deleted\"} = event) do";
        let h = hunk(
            section,
            &[(' ', "    subscription_id = subscription[:id]"), ('-', "    Subscriptions.update_subscription_status(subscription_id, \"cancelled\")"), ('+', "    Subscriptions.update_subscription_status(subscription_id, \"active\")"), (' ', "    {:ok, \"success\"}")],
        );
        let added = Added::of([&h], &[]);
        let fs = review("lib/app_web/stripe_handler.ex", &[h], &added, &[]);
        assert!(rules_of(&fs).iter().any(|r| r.starts_with("WH005")), "{fs:?}");
        assert!(fs.iter().any(|f| f.message.contains("now passes 'active' where it passed 'cancelled'")), "{fs:?}");
        // Quiet: the same call keeps an ending status, or another call changes.
        for added in ["    Subscriptions.update_subscription_status(subscription_id, \"canceled\")", "    Subscriptions.log_status(subscription_id, \"active\")"] {
            let h = hunk(section, &[('-', "    Subscriptions.update_subscription_status(subscription_id, \"cancelled\")"), ('+', added)]);
            let fs = review("lib/app_web/stripe_handler.ex", &[h.clone()], &Added::of([&h], &[]), &[]);
            assert!(!fs.iter().any(|f| f.message.contains("now passes")), "{added}: {fs:?}");
        }
    }

    #[test]
    fn a_removed_revocation_is_wh005_on_the_event_above_it_and_a_move_is_quiet() {
        let h = hunk(
            "export async function POST(req: Request) {",
            &[(' ', "    case 'customer.subscription.deleted':"), (' ', "      await db.user.update({"), ('-', "        data: { hasPaidAccess: false },"), (' ', "      });")],
        );
        let none = Added::default();
        let f = review("app/api/webhook/route.ts", std::slice::from_ref(&h), &none, &[]);
        assert_eq!(rules_of(&f), ["WH005#customer.subscription.deleted"]);
        assert_eq!(f[0].location.as_ref().unwrap().line, 12);
        // The same line added in another file of the diff: moved, not removed.
        let moved = hunk("", &[('+', "  data: { hasPaidAccess: false },")]);
        let added = Added::of([&h, &moved], &[]);
        assert!(review("app/api/webhook/route.ts", &[h], &added, &[]).is_empty());
    }

    #[test]
    fn a_field_of_a_response_literal_is_no_write() {
        let lines = [(' ', "    let public_subscription = PublicSubscription {"), ('-', "        status: customer.subscription.status,"), (' ', "    };")];
        let h = Hunk { lines: lines.iter().map(|(t, l)| (*t, l.to_string())).collect(), ..Hunk::default() };
        assert!(in_response_literal(&h, 1));
        let lines = [(' ', "    await prisma.user.update({ where: { id }, data: {"), ('-', "        status: sub.status,"), (' ', "    } });")];
        let h = Hunk { lines: lines.iter().map(|(t, l)| (*t, l.to_string())).collect(), ..Hunk::default() };
        assert!(!in_response_literal(&h, 1));
    }

    #[test]
    fn a_call_to_the_providers_sdk_writes_no_app_row() {
        for sdk in ["    return stripe.checkout.Session.create(**params)", "    $this->stripe->subscriptions->update($id, [", "      Stripe::Subscription.update(sub.id, cancel_at_period_end: true)"] {
            assert!(calls_provider(sdk), "{sdk}");
        }
        for app in ["    await db.subscription.update({", "    stripe_subscription.update!(status: 'canceled')", "    subscription.save()"] {
            assert!(!calls_provider(app), "{app}");
        }
    }

    #[test]
    fn a_query_shape_is_no_write() {
        let fields: Vec<String> = Vec::new();
        assert!(writes("      include: { subscription: true }", &fields).is_empty());
        assert!(writes("      where: { stripeCustomerId: id, isPro: true },", &fields).is_empty());
        assert!(!writes("      data: { isPro: true },", &fields).is_empty());
    }

    #[test]
    fn ruby_word_arrays_that_let_unpaid_statuses_through_are_wh011() {
        let h = hunk("", &[
            (' ', "      when \"customer.subscription.updated\""),
            ('-', "        return head 200 if !%w[complete active].include?(status)"),
            ('+', "        return head 200 if !%w[complete active trialing past_due unpaid].include?(status)"),
        ]);
        assert_eq!(rules_of(&review("hooks_controller.rb", &[h], &Added::default(), &[])), ["WH011#customer.subscription.updated"]);
    }

    #[test]
    fn an_allow_list_moved_to_another_function_is_no_widening() {
        let moved_to = hunk("", &[
            (' ', "    sub = hd(subs.data)"),
            ('-', "    %{plan: \"free\"}"),
            ('+', "    if [\"trialing\", \"active\", \"past_due\", \"unpaid\"] |> Enum.member?(sub.status) do"),
            ('+', "      %{plan: plan}"),
        ]);
        let moved_from = hunk("", &[
            (' ', "  defp has_plan?(s) do"),
            ('-', "    if (s.status == \"trialing\" || s.status == \"active\" || s.status == \"past_due\" || s.status == \"unpaid\") do"),
            ('+', "    plan_of(s)"),
        ]);
        let both = [moved_to.clone(), moved_from];
        assert!(rules_of(&review("organizations.ex", &both, &Added::of(&both, &[]), &[])).iter().all(|r| !r.starts_with("WH011")));
        // Without the removed allow-list the added `unpaid` is a widening.
        let widened = hunk("", &[
            (' ', "    sub = hd(subs.data)"),
            ('-', "    if [\"trialing\", \"active\"] |> Enum.member?(sub.status) do"),
            ('+', "    if [\"trialing\", \"active\", \"past_due\", \"unpaid\"] |> Enum.member?(sub.status) do"),
        ]);
        assert_eq!(rules_of(&review("organizations.ex", &[widened.clone()], &Added::of(&[widened], &[]), &[])), ["WH011"]);
    }

    #[test]
    fn verification_event_labels_and_error_answers() {
        let verify = hunk("", &[('-', "    event = stripe.webhooks.constructEvent(body, sig, secret);"), ('+', "    event = JSON.parse(body);")]);
        let added = Added::of([&verify], &[]);
        assert_eq!(rules_of(&review("route.ts", &[verify], &added, &[])), ["WH001"]);
        let swapped = hunk("", &[('-', "  event = stripe.webhooks.constructEvent(b, s, k)"), ('+', "  event = stripe.webhooks.constructEventIgnoringTolerance(b, s, k)")]);
        let added = Added::of([&swapped], &[]);
        assert_eq!(rules_of(&review("route.ts", &[swapped], &added, &[])), ["WH015"]);
        let label = hunk("", &[('-', "    case 'invoice.payment_failed':"), (' ', "    case 'customer.subscription.deleted':")]);
        let added = Added::of([&label], &[]);
        assert_eq!(rules_of(&review("route.ts", &[label], &added, &[])), ["WH006#invoice.payment_failed"]);
        let swallowed = hunk("def webhook(request):", &[(' ', "    except Exception:"), ('-', "        return HttpResponse(status=500)"), ('+', "        return HttpResponse(status=200)")]);
        let added = Added::of([&swallowed], &[]);
        assert_eq!(rules_of(&review("hooks.py", &[swallowed], &added, &[])), ["WH010"]);
        // A reworded log line or an unrelated change says nothing.
        let quiet = hunk("", &[('-', "  console.log('customer.subscription.deleted');"), ('+', "  logger.info('deleted');"), ('-', "  const total = 1;"), ('+', "  const total = 2;")]);
        let added = Added::of([&quiet], &[]);
        assert!(review("route.ts", &[quiet], &added, &[]).is_empty());
    }

    #[test]
    fn acknowledging_unknown_event_types_is_not_a_swallowed_error() {
        let unknown = hunk("", &[(' ', "    if handler is None:"), (' ', "        logger.warning(\"Unhandled event type %s\", event_type)"), ('-', "        return \"bad_request\""), ('+', "        return \"ok\"")]);
        assert!(rules_of(&review("views.py", &[unknown], &Added::default(), &[])).is_empty());
        let failed = hunk("", &[(' ', "    except Exception:"), (' ', "        logger.exception(\"failed\")"), ('-', "        return \"internal_server_error\""), ('+', "        return \"ok\"")]);
        assert_eq!(rules_of(&review("views.py", &[failed], &Added::default(), &[])), ["WH010"]);
        let flask = hunk("", &[(' ', "    if not plans.new_subscription(session):"), ('-', "        return \"\", 400"), ('+', "        return \"\", 200")]);
        assert_eq!(rules_of(&review("views.py", &[flask], &Added::default(), &[])), ["WH010"]);
    }

    #[test]
    fn an_error_moved_into_a_queued_job_that_raises_is_still_retried() {
        let handler = hunk(
            "public function events(Request $request)",
            &[
                ('-', "            if (!$team) {"),
                ('-', "                return response('No team id or user id found', 400);"),
                ('-', "            }"),
                ('+', "            StripeProcessJob::dispatch($event);"),
                ('+', "            return response('Webhook received.', 200);"),
            ],
        );
        let job = hunk("public function handle(): void", &[('+', "        if (!$team) {"), ('+', "            throw new \\Exception('No team id or user id found');"), ('+', "        }")]);
        let moved = Added::of([&handler, &job], &[]);
        assert!(rules_of(&review("Stripe.php", &[handler.clone()], &moved, &[])).is_empty());
        // Handed to the job, but nothing the change adds fails there: the failure is acknowledged.
        let quiet_job = hunk("public function handle(): void", &[('+', "        if (!$team) {"), ('+', "            return;"), ('+', "        }")]);
        let lost = Added::of([&handler, &quiet_job], &[]);
        assert_eq!(rules_of(&review("Stripe.php", &[handler], &lost, &[])), ["WH010"]);
    }
}
