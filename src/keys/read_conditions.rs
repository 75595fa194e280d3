//! Which branch of a provider or mode switch a variable read sits in.
//!
//! Apps that support two providers read Stripe variables only under
//! `if (process.env.BILLING_PROVIDER === "stripe")`, and apps that keep both
//! key pairs pick one with `STRIPE_MODE === "live" ? …_LIVE : …_TEST`. Such a
//! read is needed only in environments whose switch selects its branch, so a
//! Paddle deployment without Stripe keys, or a live deployment without the test
//! pair, is not missing anything.
//!
//! This is text reading, like the rest of the key-mode code scan: it finds a
//! comparison of an environment read (or a local bound to one) with a string
//! literal, and the read's place relative to it: a ternary's arms, an `if`
//! block and its `else` (by braces on one line, by indentation across lines), a
//! postfix or Python inline `if`, and a `switch`/`case` or Ruby `case`/`when`.

use super::model::ReadCondition;

/// A read of any environment variable: its byte span and name.
#[derive(Debug, Clone)]
pub struct EnvRead {
    pub start: usize,
    pub end: usize,
    pub name: String,
}

/// `<env read or alias> (==|!=|===|!==) '<literal>'`, located.
#[derive(Debug, Clone)]
struct Comparison {
    /// Start of the comparison's line.
    start: usize,
    /// The operator's offset.
    op: usize,
    /// Just after the literal.
    end: usize,
    variable: String,
    value: String,
    equal: bool,
}

/// The conditions of one file, computed once and asked per billing read.
pub struct Switches<'a> {
    text: &'a str,
    comparisons: Vec<Comparison>,
    /// `switch (<read>)` / Ruby `case <read>` heads: (offset, variable).
    heads: Vec<(usize, String)>,
}

const LOOKBACK_LINES: usize = 40;

impl<'a> Switches<'a> {
    /// `reads` are every environment read of the file, in text order.
    pub fn new(text: &'a str, reads: &[EnvRead]) -> Switches<'a> {
        let aliases = aliases(text, reads);
        let subject = |before: &str| -> Option<String> { subject_ending(text, before, reads, &aliases) };
        let mut comparisons = Vec::new();
        for (i, _) in text.match_indices(['=', '!']) {
            let rest = &text[i..];
            let (op_len, equal) = if rest.starts_with("===") || rest.starts_with("!==") {
                (3, rest.starts_with('='))
            } else if rest.starts_with("==") || rest.starts_with("!=") {
                (2, rest.starts_with('='))
            } else {
                continue;
            };
            // `a === b` is found once, at its first `=`: skip the inner `==` of `===`.
            if i > 0 && matches!(text.as_bytes()[i - 1], b'=' | b'!') {
                continue;
            }
            let after = &rest[op_len..];
            let lead = after.len() - after.trim_start().len();
            let Some((value, lit_len)) = literal_at(after.trim_start()) else {
                // `'live' == process.env.X`
                continue;
            };
            let Some(variable) = subject(&text[..i]) else { continue };
            comparisons.push(Comparison { start: line_start(text, i), op: i, end: i + op_len + lead + lit_len, variable, value, equal });
        }
        // Literal on the left: `"live" === process.env.STRIPE_MODE`.
        for r in reads {
            let before = text[..r.start].trim_end_matches(|c: char| c.is_alphanumeric() || c == '_' || c == '.' || c == '(' || c == '[' || c == ':');
            let b = before.trim_end();
            let (equal, op_at) = if let Some(s) = b.strip_suffix("===").or_else(|| b.strip_suffix("==")) {
                (!s.ends_with('!'), s.len())
            } else if let Some(s) = b.strip_suffix("!==").or_else(|| b.strip_suffix("!=")) {
                (false, s.len())
            } else {
                continue;
            };
            let lhs = b[..op_at].trim_end();
            if let Some((value, start)) = literal_ending(lhs) {
                comparisons.push(Comparison { start: line_start(text, start), op: start, end: r.end, variable: r.name.clone(), value, equal });
            }
        }
        comparisons.sort_by_key(|c| c.end);
        let mut heads = Vec::new();
        for kw in ["switch", "case"] {
            for (i, _) in text.match_indices(kw) {
                if i > 0 && (text.as_bytes()[i - 1].is_ascii_alphanumeric() || text.as_bytes()[i - 1] == b'_') {
                    continue;
                }
                let line_end = text[i..].find('\n').map_or(text.len(), |n| i + n);
                let head = &text[i + kw.len()..line_end];
                if let Some(r) = reads.iter().find(|r| r.start >= i && r.end <= line_end) {
                    heads.push((i, r.name.clone()));
                } else if let Some(v) = aliases.iter().find(|(a, _)| head.trim_start_matches([' ', '(', '$']).starts_with(a.as_str())).map(|(_, v)| v.clone()) {
                    heads.push((i, v));
                }
            }
        }
        heads.sort();
        Switches { text, comparisons, heads }
    }

    /// The switch branch the read at `at..end` sits in, if any.
    pub fn condition(&self, at: usize, end: usize) -> Option<ReadCondition> {
        self.inline_if(at, end)
            .or_else(|| self.ternary(at))
            .or_else(|| self.block(at))
            .map(|(c, equal)| ReadCondition { variable: c.variable.clone(), value: c.value.clone(), equal })
            .or_else(|| self.case_condition(at))
    }

    /// `A if <cmp> else B` (Python) and `x = A if <cmp>` (Ruby postfix); `unless` inverts.
    fn inline_if(&self, at: usize, end: usize) -> Option<(&Comparison, bool)> {
        let ls = line_start(self.text, at);
        for c in self.comparisons.iter().filter(|c| c.start == ls) {
            if c.op > end {
                let gap = &self.text[end..c.op];
                for (kw, equal) in [(" if ", c.equal), (" unless ", !c.equal)] {
                    if let Some(k) = gap.find(kw) {
                        if gap[..k].chars().all(|ch| matches!(ch, '\'' | '"' | ')' | ']' | ' ')) {
                            return Some((c, equal));
                        }
                    }
                }
            } else if c.end <= at && self.text[c.end..at].trim_start().starts_with("else ") && self.text[ls..c.op].contains(" if ") {
                return Some((c, !c.equal));
            }
        }
        None
    }

    /// `<cmp> ? A : B`, across up to three lines, in one statement.
    fn ternary(&self, at: usize) -> Option<(&Comparison, bool)> {
        let c = self.comparisons.iter().rev().find(|c| c.end <= at)?;
        let between = &self.text[c.end..at];
        if between.contains(';') || between.matches('\n').count() > 3 {
            return None;
        }
        let q = between.trim_start_matches([')', ' ', '\t', '\n', '\r']);
        let arms = q.strip_prefix('?').filter(|r| !r.starts_with(['?', '.']))?;
        Some((c, if top_level_colon(arms) { !c.equal } else { c.equal }))
    }

    /// The nearest `if <cmp>` above whose block (or else block) holds the read.
    fn block(&self, at: usize) -> Option<(&Comparison, bool)> {
        let read_line = line_start(self.text, at);
        let floor = nth_line_above(self.text, read_line, LOOKBACK_LINES);
        for c in self.comparisons.iter().rev().filter(|c| c.end <= at && c.start >= floor).take(4) {
            let head = self.text[c.start..c.end].trim_start().trim_start_matches('}').trim_start();
            let keyword_equal = match strip_if(head) {
                Some(equal) => equal,
                // `let key = if mode == "live" { … }`: an `if` expression inside the line.
                None if c.start == read_line => match self.text[c.start..c.op].rfind("if ") {
                    Some(k) if k == 0 || !self.text.as_bytes()[c.start + k - 1].is_ascii_alphanumeric() => true,
                    _ => continue,
                },
                None => continue,
            };
            let polarity = if keyword_equal { c.equal } else { !c.equal };
            if c.start == read_line {
                // `if m == "live" { A } else { B }` on one line: by braces.
                if let Some(inside) = brace_branch(&self.text[c.end..at]) {
                    return Some((c, if inside { polarity } else { !polarity }));
                }
                continue;
            }
            if let Some(then_arm) = indent_branch(self.text, c.start, read_line) {
                return Some((c, if then_arm { polarity } else { !polarity }));
            }
        }
        None
    }

    /// `case 'stripe':` under `switch (<read>)`, or Ruby `when "stripe"` under `case <read>`:
    /// the literal comes from the arm, the variable from the head.
    fn case_condition(&self, at: usize) -> Option<ReadCondition> {
        let read_line = line_start(self.text, at);
        let read_indent = indent(self.text, read_line);
        let floor = nth_line_above(self.text, read_line, LOOKBACK_LINES);
        let mut pos = read_line;
        // Walk up to the arm label that owns the read's line.
        let mut same_line = true;
        while pos >= floor {
            let line = line_at(self.text, pos);
            let t = line.trim_start();
            let ind = line.len() - t.len();
            let label = t.strip_prefix("case ").or_else(|| t.strip_prefix("when "));
            if let Some(rest) = label {
                if same_line || ind < read_indent {
                    let (value, _) = literal_at(rest.trim_start())?;
                    let (_, variable) = self.heads.iter().rev().find(|(h, _)| *h < pos && *h >= floor)?;
                    return Some(ReadCondition { variable: variable.clone(), value, equal: true });
                }
            } else if !same_line && ind < read_indent && !t.is_empty() {
                // A line outside the arm (a `default:`, `else`, or the end of the switch).
                return None;
            }
            if pos == 0 {
                break;
            }
            same_line = false;
            pos = line_start(self.text, pos - 1);
        }
        None
    }
}

/// `if` / `elif` / `elsif` / `else if` (true) or `unless` (false) at the start of a line's text.
fn strip_if(t: &str) -> Option<bool> {
    let t = t.strip_prefix("else").map_or(t, str::trim_start);
    for (kw, equal) in [("if", true), ("elif", true), ("elsif", true), ("unless", false)] {
        if let Some(r) = t.strip_prefix(kw) {
            if r.starts_with([' ', '(', '\t']) {
                return Some(equal);
            }
        }
    }
    None
}

/// Within one line after the condition: Some(true) inside the then-braces,
/// Some(false) inside the else-braces, None outside both.
fn brace_branch(s: &str) -> Option<bool> {
    let mut depth = 0i32;
    let mut then_arm = true;
    let mut opened = false;
    let mut i = 0;
    let b = s.as_bytes();
    while i < b.len() {
        match b[i] {
            b'{' => {
                depth += 1;
                opened = true;
            }
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    let rest = s[i + 1..].trim_start();
                    if then_arm && rest.starts_with("else") && !rest.starts_with("else if") {
                        then_arm = false;
                        opened = false;
                    } else {
                        return None;
                    }
                }
            }
            _ => {}
        }
        i += 1;
    }
    (opened && depth > 0).then_some(then_arm)
}

/// Across lines: Some(true) when the read's line is in the `if` line's block,
/// Some(false) in its `else` block, None when the block ended before it.
fn indent_branch(text: &str, if_line: usize, read_line: usize) -> Option<bool> {
    let base = indent(text, if_line);
    let mut then_arm = true;
    let mut pos = next_line(text, if_line)?;
    while pos < read_line {
        let line = line_at(text, pos);
        let t = line.trim();
        let ind = line.len() - line.trim_start().len();
        if !t.is_empty() && ind <= base {
            let closing = t.trim_start_matches('}').trim_start();
            let is_else = closing == "else" || closing.starts_with("else:") || closing.starts_with("else {") || closing == "else do";
            if !(ind == base && then_arm && is_else) {
                // Anything else at or left of the `if` ends its block (a closing brace, `end`, a new statement).
                return None;
            }
            then_arm = false;
        }
        pos = next_line(text, pos)?;
    }
    (indent(text, read_line) > base).then_some(then_arm)
}

/// Locals bound to an environment read: `const mode = process.env.STRIPE_MODE`,
/// `mode := os.Getenv("STRIPE_MODE")`, `$mode = env('STRIPE_MODE')`.
fn aliases(text: &str, reads: &[EnvRead]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for r in reads {
        let before = &text[line_start(text, r.start)..r.start];
        let before = before.trim_end_matches(|c: char| c.is_alphanumeric() || matches!(c, '_' | '.' | '(' | '[' | ':' | '$' | '\'' | '"' | '`' | ' ' | '!'));
        let Some(lhs) = before.trim_end().strip_suffix(":=").or_else(|| before.trim_end().strip_suffix('=')) else { continue };
        if lhs.ends_with(['=', '!', '<', '>']) {
            continue;
        }
        let name: String = lhs.trim_end().chars().rev().take_while(|c| c.is_alphanumeric() || *c == '_').collect::<Vec<_>>().into_iter().rev().collect();
        let name = name.trim_start_matches(|c: char| c.is_ascii_digit()).to_string();
        if name.len() >= 2 {
            out.push((name, r.name.clone()));
        }
    }
    out
}

/// The variable compared when the text before an operator ends with an env read
/// (`process.env.X`, `os.getenv("X")`, `ENV.fetch("X", "test")`) or an alias of one.
fn subject_ending(text: &str, before: &str, reads: &[EnvRead], aliases: &[(String, String)]) -> Option<String> {
    let b = before.trim_end();
    // After the name: closing quotes and brackets, a literal default (`ENV.fetch("X", "test")`).
    if let Some(r) = reads.iter().rev().find(|r| r.end <= b.len()) {
        let tail = &text[r.end..b.len()];
        if read_tail().is_match(tail) {
            return Some(r.name.clone());
        }
    }
    let word: String = b.chars().rev().take_while(|c| c.is_alphanumeric() || *c == '_').collect::<Vec<_>>().into_iter().rev().collect();
    let prev = b[..b.len() - word.len()].chars().last();
    if prev == Some('.') {
        return None; // `cfg.mode`: a field, not the local
    }
    aliases.iter().rev().find(|(a, _)| *a == word).map(|(_, v)| v.clone())
}

/// What may follow a read's name before the comparison: closing quotes and
/// brackets, a literal default argument, a case-folding call.
fn read_tail() -> &'static regex::Regex {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        regex::Regex::new(r#"^['"`]?\]?(?:\s*,\s*(?:'[^'\n]*'|"[^"\n]*"|nil|None|null|undefined))?\)?\s*(?:\)\s*)?(?:\.(?:toLowerCase|lower|downcase|strip|trim)\(\))?\s*$"#)
            .expect("static regex")
    })
}

/// A quoted literal at the start: its value (lowercased) and length with quotes.
fn literal_at(s: &str) -> Option<(String, usize)> {
    let q = s.chars().next().filter(|c| matches!(c, '\'' | '"' | '`'))?;
    let close = s[1..].find(q)?;
    let v = &s[1..1 + close];
    (!v.is_empty() && v.len() <= 40 && v.chars().all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))).then(|| (v.to_ascii_lowercase(), close + 2))
}

/// A quoted literal at the end: its value and start offset.
fn literal_ending(s: &str) -> Option<(String, usize)> {
    let q = s.chars().last().filter(|c| matches!(c, '\'' | '"' | '`'))?;
    let body = &s[..s.len() - 1];
    let open = body.rfind(q)?;
    literal_at(&s[open..]).map(|(v, _)| (v, open))
}

/// A `:` outside brackets and strings, and not part of `::` or `?.`.
fn top_level_colon(s: &str) -> bool {
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    let chars: Vec<char> = s.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if let Some(q) = quote {
            if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '\'' | '"' | '`' => quote = Some(c),
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            ':' if depth == 0 && chars.get(i + 1) != Some(&':') && (i == 0 || chars[i - 1] != ':') => return true,
            _ => {}
        }
    }
    false
}

fn line_start(text: &str, at: usize) -> usize {
    text[..at].rfind('\n').map_or(0, |n| n + 1)
}

fn next_line(text: &str, at: usize) -> Option<usize> {
    text[at..].find('\n').map(|n| at + n + 1).filter(|p| *p < text.len())
}

fn line_at(text: &str, start: usize) -> &str {
    let end = text[start..].find('\n').map_or(text.len(), |n| start + n);
    &text[start..end]
}

fn indent(text: &str, start: usize) -> usize {
    let l = line_at(text, start);
    l.len() - l.trim_start().len()
}

fn nth_line_above(text: &str, start: usize, n: usize) -> usize {
    let mut pos = start;
    for _ in 0..n {
        if pos == 0 {
            break;
        }
        pos = line_start(text, pos - 1);
    }
    pos
}

#[cfg(test)]
mod tests {
    use crate::keys::code_refs::{Scan, scan_text};

    /// (variable, condition shown) per billing read.
    fn conds(path: &str, text: &str) -> Vec<(String, Option<String>)> {
        let mut scan = Scan::default();
        scan_text(path, text, &[], &mut scan);
        scan.refs.iter().map(|r| (r.name.clone(), r.only_when.as_ref().map(|c| c.shown()))).collect()
    }

    fn one(v: &[(String, Option<String>)], name: &str) -> Option<String> {
        v.iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("{name} not read: {v:?}")).1.clone()
    }

    #[test]
    fn ternaries_pick_a_key_pair_by_mode() {
        let js = "const key = process.env.STRIPE_MODE === 'live'\n  ? process.env.STRIPE_SECRET_KEY_LIVE\n  : process.env.STRIPE_SECRET_KEY_TEST;\nconst wh = process.env.STRIPE_WEBHOOK_SECRET;\n";
        let v = conds("lib/stripe.ts", js);
        assert_eq!(one(&v, "STRIPE_SECRET_KEY_LIVE").as_deref(), Some("STRIPE_MODE == \"live\""));
        assert_eq!(one(&v, "STRIPE_SECRET_KEY_TEST").as_deref(), Some("STRIPE_MODE != \"live\""));
        assert_eq!(one(&v, "STRIPE_WEBHOOK_SECRET"), None, "after the statement: unconditional");
        // The switch itself is a billing read and is needed everywhere.
        assert_eq!(one(&v, "STRIPE_MODE"), None);

        let rb = "Stripe.api_key = ENV['STRIPE_ENV'] == 'production' ? ENV['STRIPE_LIVE_KEY'] : ENV['STRIPE_TEST_KEY']\n";
        let v = conds("config/initializers/stripe.rb", rb);
        assert_eq!(one(&v, "STRIPE_LIVE_KEY").as_deref(), Some("STRIPE_ENV == \"production\""));
        assert_eq!(one(&v, "STRIPE_TEST_KEY").as_deref(), Some("STRIPE_ENV != \"production\""));

        // `??` and optional chaining are not a ternary.
        let v = conds("a.ts", "const m = process.env.MODE === 'x' ?? process.env.STRIPE_SECRET_KEY;\n");
        assert_eq!(one(&v, "STRIPE_SECRET_KEY"), None);
    }

    #[test]
    fn if_blocks_and_their_else_by_language() {
        let js = "if (process.env.BILLING_PROVIDER === \"stripe\") {\n  stripe = new Stripe(process.env.STRIPE_SECRET_KEY!);\n} else {\n  paddle = new Paddle(process.env.PADDLE_API_KEY!);\n}\nconst price = process.env.STRIPE_PRICE_PRO;\n";
        let v = conds("lib/billing.ts", js);
        assert_eq!(one(&v, "STRIPE_SECRET_KEY").as_deref(), Some("BILLING_PROVIDER == \"stripe\""));
        assert_eq!(one(&v, "PADDLE_API_KEY").as_deref(), Some("BILLING_PROVIDER != \"stripe\""));
        assert_eq!(one(&v, "STRIPE_PRICE_PRO"), None, "after the block");

        let py = "provider = os.getenv(\"PAYMENT_PROVIDER\", \"stripe\")\nif provider == \"paddle\":\n    client = Paddle(os.environ[\"PADDLE_API_KEY\"])\nelse:\n    stripe.api_key = os.environ[\"STRIPE_SECRET_KEY\"]\nWEBHOOK = os.environ[\"STRIPE_WEBHOOK_SECRET\"]\n";
        let v = conds("billing/client.py", py);
        assert_eq!(one(&v, "PADDLE_API_KEY").as_deref(), Some("PAYMENT_PROVIDER == \"paddle\""));
        assert_eq!(one(&v, "STRIPE_SECRET_KEY").as_deref(), Some("PAYMENT_PROVIDER != \"paddle\""));
        assert_eq!(one(&v, "STRIPE_WEBHOOK_SECRET"), None);

        let go = "func key() string {\n\tif os.Getenv(\"STRIPE_MODE\") == \"live\" {\n\t\treturn os.Getenv(\"STRIPE_LIVE_SECRET_KEY\")\n\t}\n\treturn os.Getenv(\"STRIPE_TEST_SECRET_KEY\")\n}\n";
        let v = conds("billing/key.go", go);
        assert_eq!(one(&v, "STRIPE_LIVE_SECRET_KEY").as_deref(), Some("STRIPE_MODE == \"live\""));
        // After an early return the code is not in an else block: left unconditional (needed).
        assert_eq!(one(&v, "STRIPE_TEST_SECRET_KEY"), None);

        let rs = "let key = if mode == \"live\" { env::var(\"STRIPE_LIVE_KEY\") } else { env::var(\"STRIPE_TEST_KEY\") };\n";
        let v = conds("src/billing.rs", &format!("let mode = env::var(\"STRIPE_MODE\").unwrap_or_default();\n{rs}"));
        assert_eq!(one(&v, "STRIPE_LIVE_KEY").as_deref(), Some("STRIPE_MODE == \"live\""));
        assert_eq!(one(&v, "STRIPE_TEST_KEY").as_deref(), Some("STRIPE_MODE != \"live\""));

        let rb = "unless ENV[\"BILLING_PROVIDER\"] == \"paddle\"\n  Stripe.api_key = ENV.fetch(\"STRIPE_SECRET_KEY\")\nend\nkey = ENV[\"STRIPE_LIVE_KEY\"] if ENV[\"STRIPE_MODE\"] == \"live\"\n";
        let v = conds("config/billing.rb", rb);
        assert_eq!(one(&v, "STRIPE_SECRET_KEY").as_deref(), Some("BILLING_PROVIDER != \"paddle\""));
        assert_eq!(one(&v, "STRIPE_LIVE_KEY").as_deref(), Some("STRIPE_MODE == \"live\""));

        let py_inline = "KEY = os.environ[\"STRIPE_LIVE_KEY\"] if os.getenv(\"STRIPE_MODE\") == \"live\" else os.environ[\"STRIPE_TEST_KEY\"]\n";
        let v = conds("settings.py", py_inline);
        assert_eq!(one(&v, "STRIPE_LIVE_KEY").as_deref(), Some("STRIPE_MODE == \"live\""));
        assert_eq!(one(&v, "STRIPE_TEST_KEY").as_deref(), Some("STRIPE_MODE != \"live\""));
    }

    #[test]
    fn switch_arms_and_unrelated_conditions() {
        let js = "switch (process.env.PAYMENT_PROVIDER) {\n  case 'stripe':\n    return new Stripe(process.env.STRIPE_SECRET_KEY);\n  case \"lemonsqueezy\":\n    return lemon(process.env.LEMONSQUEEZY_API_KEY);\n  default:\n    throw new Error('no provider');\n}\n";
        let v = conds("lib/provider.ts", js);
        assert_eq!(one(&v, "STRIPE_SECRET_KEY").as_deref(), Some("PAYMENT_PROVIDER == \"stripe\""));
        assert_eq!(one(&v, "LEMONSQUEEZY_API_KEY").as_deref(), Some("PAYMENT_PROVIDER == \"lemonsqueezy\""));

        let rb = "case ENV['BILLING_PROVIDER']\nwhen 'paddle'\n  Paddle.configure { |c| c.api_key = ENV['PADDLE_API_KEY'] }\nwhen 'stripe'\n  Stripe.api_key = ENV['STRIPE_SECRET_KEY']\nend\n";
        let v = conds("config/initializers/billing.rb", rb);
        assert_eq!(one(&v, "PADDLE_API_KEY").as_deref(), Some("BILLING_PROVIDER == \"paddle\""));
        assert_eq!(one(&v, "STRIPE_SECRET_KEY").as_deref(), Some("BILLING_PROVIDER == \"stripe\""));

        // A condition on something else (a request field, a non-env local) is not a switch.
        let js = "if (plan === 'pro') {\n  price = process.env.STRIPE_PRICE_PRO;\n}\nif (user.mode == 'live') {\n  key = process.env.STRIPE_SECRET_KEY;\n}\n";
        let v = conds("lib/checkout.ts", js);
        assert_eq!(one(&v, "STRIPE_PRICE_PRO"), None);
        assert_eq!(one(&v, "STRIPE_SECRET_KEY"), None);
        // A guard on the variable itself (`if (process.env.STRIPE_X === 'x')`) is not a switch for it.
        let v = conds("a.ts", "if (process.env.STRIPE_SECRET_KEY !== 'disabled') {\n  init(process.env.STRIPE_SECRET_KEY);\n}\n");
        assert!(v.iter().all(|(_, c)| c.is_none()), "{v:?}");
    }
}
