//! The handler as a whole: signature verification (what it covers and what
//! happens when it fails), idempotency (where the dedup check and the
//! processed mark sit relative to the state writes) and what a caught error
//! answers.

use std::collections::BTreeSet;

use super::dispatch::Found;
use super::effects::block_answer;
use super::index::Index;
use super::lang::syntax::{Call, Expr, Func, Stmt, each_call, each_expr, each_if, ends, last_line, squash};
use super::model::{BodyKind, ErrorPath, Idempotency, KeyedOn, Status, Tolerance, Verification};
use super::vocab;

// ---------- verification ----------

enum Frame<'a> {
    Try { catches: &'a [(Vec<Stmt>, u32)], rest: &'a [Stmt] },
    /// An if statement's branch: the other branch, the condition, and whether this is the else branch.
    Branch { other: &'a [Stmt], cond: &'a Expr, in_else: bool },
    Func(&'a Func),
    Loop,
}

struct VerifyScan<'a, 'i> {
    idx: &'i Index<'a>,
    top: &'a [Stmt],
    frames: Vec<Frame<'a>>,
    found: Option<Verification>,
    /// The if statement whose condition is being read: its condition and its then branch.
    cond_of: Option<(&'a Expr, &'a [Stmt], &'a [Stmt])>,
}

pub fn verification<'a>(stmts: &'a [Stmt], idx: &Index<'a>) -> Option<Verification> {
    let mut scan = VerifyScan { idx, top: stmts, frames: Vec::new(), found: None, cond_of: None };
    scan.block(stmts);
    if let Some(v) = scan.found.as_mut().filter(|v| v.fail_open.is_none()) {
        v.fail_open = skipped_at_call_site(stmts, idx, v.line)
            .or_else(|| plug_without_halt(stmts, idx, v.line))
            .or_else(|| unverified_early_return(idx, v.line));
    }
    scan.found.or_else(|| library_verification(stmts, idx)).or_else(|| framework_verification(idx)).or_else(|| cashier_listener(idx))
}

/// `handle(SubscriptionCreated $event)` with the class from Cashier's events.
fn is_cashier_listener(f: &Func) -> bool {
    f.name == "handle" && f.param_hints.first().and_then(Expr::dotted).is_some_and(|d| vocab::is_cashier_event_class(&d))
}

/// A Cashier event listener (`handle(SubscriptionCreated $event)`): Cashier's webhook
/// controller verified the request before it fired the event.
fn cashier_listener(idx: &Index) -> Option<Verification> {
    let f = idx.all.iter().find(|f| is_cashier_listener(f))?;
    Some(Verification {
        line: f.line,
        call: "Cashier's webhook controller, which fires the event after its signature middleware".into(),
        body: BodyKind::Raw,
        body_text: String::new(),
        fail_open: None,
        tolerance: None,
        note: None,
        secret_from_request: None,
    })
}

/// A call of a function in another file of the app whose body verifies, itself or one
/// call further (`h.validator.ValidateEvent(ctx, sig, body)` whose method calls the
/// SDK's `client.Webhooks.Verify`): the handler verifies through it.
fn verifies_in_another_file<'a>(c: &Call, idx: &Index<'a>) -> Option<&'a Func> {
    fn verifies(f: &Func, idx: &Index, depth: u8) -> bool {
        let mut found = false;
        super::lang::syntax::each_call(&f.body, &mut |c| {
            found = found || vocab::is_verify_call(c) || (depth > 0 && idx.resolve_call(&c.callee).is_some_and(|g| !std::ptr::eq(g, f) && verifies(g, idx, depth - 1)));
        });
        found
    }
    idx.resolve_call(&c.callee).filter(|f| idx.is_external(f) && verifies(f, idx, 1))
}

/// In a verifying helper of another file, an early branch on the signature or secret that
/// answers "valid" before the check runs: `if signature == "" { return url.Values{} }`
/// (no errors), `return true`. A request without a signature is then processed unverified.
fn skipped_in_helper(f: &Func) -> Option<String> {
    let mut check_line = None;
    super::lang::syntax::each_call(&f.body, &mut |c| {
        if check_line.is_none() && vocab::is_verify_call(c) {
            check_line = Some(c.line);
        }
    });
    let check_line = check_line?;
    let mut found = None;
    each_if(&f.body, &mut |cond, then, at| {
        let about_signature = ["sig", "signature", "secret"].iter().any(|w| cond.mentions(w));
        let answers_valid = then.iter().any(|s| match s {
            Stmt::Return { value: Some(v), .. } => {
                let r = v.render();
                matches!(v, Expr::Bool(true)) || r.ends_with("{}") || r == "[]"
            }
            _ => false,
        });
        if found.is_none() && at < check_line && about_signature && answers_valid && !then.iter().any(|s| stmt_mentions_verify(s)) {
            found = Some(format!("`{}` returns as valid when `{}` (line {at}), before the signature is checked: a request without a signature is processed unverified", f.name, cond.render()));
        }
    });
    found
}

fn stmt_mentions_verify(s: &Stmt) -> bool {
    let mut found = false;
    super::lang::syntax::each_call(std::slice::from_ref(s), &mut |c| found |= vocab::is_verify_call(c));
    found
}

/// A Phoenix function plug that verifies (`plug :verify_signature`) but never calls
/// `halt()`, itself or through the file's functions it calls: answering 403 does not stop
/// the pipeline, so the controller action runs on the forged event all the same.
fn plug_without_halt(stmts: &[Stmt], idx: &Index, line: u32) -> Option<String> {
    let mut plugs = BTreeSet::new();
    super::lang::syntax::each_call(stmts, &mut |c| {
        if c.callee.last_name() == "plug" {
            // `plug :verify_signature when action in [:webhook]`: the plug is left of `when`.
            let first = c.args.first().map(|a| match &a.value {
                Expr::Binary(_, l, _) => &**l,
                v => v,
            });
            if let Some(Expr::Str(name) | Expr::Ident(name)) = first {
                plugs.insert(name.trim_start_matches(':').to_string());
            }
        }
    });
    let f = idx.all.iter().find(|f| plugs.contains(&f.name) && f.line <= line && line <= super::lang::syntax::last_line(&f.body))?;
    (!halts(&f.body, idx, 3)).then(|| format!("the plug `{}` answers a failed check without `halt()`, so the pipeline goes on to the controller action", f.name))
}

/// In the function that verifies, an earlier branch that hands back the body parsed without
/// a check: `if secrets.empty? then return Stripe::Event.construct_from(JSON.parse(payload))`.
fn unverified_early_return(idx: &Index, line: u32) -> Option<String> {
    // The named function defined nearest above the check (a block inside it ends before its last line).
    let f = idx.all.iter().filter(|f| !f.name.is_empty() && f.line <= line).max_by_key(|f| f.line)?;
    let mut found = None;
    super::lang::syntax::each_if(&f.body, &mut |cond, then, at| {
        // `return Event.construct_from(JSON.parse(payload))`, or the parse a statement before
        // (`let event = serde_json::from_str(&payload)?; return Ok(Self(event))`).
        let returns_parsed = then.iter().any(|s| matches!(s, Stmt::Return { value: Some(_), .. }) && stmt_parses_body(s))
            || (then.iter().any(stmt_parses_body) && matches!(then.last(), Some(Stmt::Return { value: Some(_), .. })));
        if found.is_none() && at < line && returns_parsed {
            found = Some(format!("when `{}`, the body is parsed and handed on without a signature check (line {at})", cond.render()));
        }
        // A predicate (`isValidSignature(...): boolean`) that answers `true` before comparing.
        // Or a status constant saying so (`return WC_Stripe_Webhook_State::VALIDATION_SUCCEEDED;`).
        let answers_valid = then.iter().any(|s| matches!(s, Stmt::Return { value: Some(v), .. } if matches!(v, Expr::Bool(true)) || verdict_constant(v) == Some(true)));
        if found.is_none() && at < line && answers_valid && returns_false(&f.body) {
            found = Some(format!("when `{}`, the check answers valid without comparing the signature (line {at})", cond.render()));
        }
    });
    found
}

/// Whether a body returns `false` (or a failure constant) somewhere: a yes/no check.
fn returns_false(body: &[Stmt]) -> bool {
    let fails = |s: &Stmt| matches!(s, Stmt::Return { value: Some(v), .. } if matches!(v, Expr::Bool(false)) || verdict_constant(v) == Some(false));
    let mut found = false;
    super::lang::syntax::each_if(body, &mut |_, then, _| found |= then.iter().any(fails));
    found || body.iter().any(fails)
}

/// What a returned constant says of a check: `VALIDATION_SUCCEEDED` yes,
/// `VALIDATION_FAILED_SIGNATURE_MISMATCH` no; None for anything else.
fn verdict_constant(e: &Expr) -> Option<bool> {
    if !matches!(e, Expr::Member(..) | Expr::Ident(_)) {
        return None;
    }
    let name = e.last_name();
    if name.len() < 4 || name.chars().any(|c| c.is_ascii_lowercase()) {
        return None;
    }
    if ["FAIL", "INVALID", "MISMATCH", "ERROR"].iter().any(|w| name.contains(w)) {
        Some(false)
    } else if ["SUCCEEDED", "SUCCESS", "VALID", "VERIFIED"].iter().any(|w| name.contains(w)) {
        Some(true)
    } else {
        None
    }
}

/// Whether `halt()` is called in `body` or in a function of the file it calls (`depth` deep).
fn halts(body: &[Stmt], idx: &Index, depth: u8) -> bool {
    let mut found = false;
    super::lang::syntax::each_call(body, &mut |c| {
        let name = c.callee.last_name();
        found |= name == "halt" || (depth > 0 && idx.funcs.get(name).is_some_and(|g| halts(&g.body, idx, depth - 1)));
    });
    found
}

/// A verification inside a helper of the file (`isValidSignature($body, $sig, $secret)`)
/// that its caller skips: `if (!empty($secret) && !$this->isValidSignature(...)) return 400`.
fn skipped_at_call_site(stmts: &[Stmt], idx: &Index, line: u32) -> Option<String> {
    let helper = idx
        .all
        .iter()
        .filter(|f| !f.name.is_empty() && f.line <= line && line <= last_line(&f.body))
        .min_by_key(|f| last_line(&f.body) - f.line)?;
    let calls_helper = |e: &Expr| {
        let mut found = false;
        e.walk(&mut |x| found |= matches!(x, Expr::Call(c) if c.callee.last_name() == helper.name));
        found
    };
    let mut reason = None;
    each_if(stmts, &mut |cond, then, at| {
        if reason.is_none() {
            reason = skipping_guard_of(cond, then, &calls_helper).map(|r| format!("{r} (the check `{}` is called at line {at})", helper.name));
        }
    });
    reason.or_else(|| {
        swallowed_call(stmts, &calls_helper).map(|at| format!("a failed `{}` is caught at line {at} and processing continues", helper.name))
    })
}

/// The line of a catch around a call of the check that neither stops nor answers an
/// error, with statements after it: `if let Err(e) = authenticate(..) { println!(..) }`.
fn swallowed_call(stmts: &[Stmt], calls_helper: &dyn Fn(&Expr) -> bool) -> Option<u32> {
    stmts.iter().enumerate().find_map(|(i, s)| match s {
        Stmt::Try { body, catches, finally, .. } => {
            let checks = matches!(body.first(), Some(Stmt::Expr(e, _) | Stmt::Assign { value: e, .. }) if calls_helper(e));
            let goes_on = stmts[i + 1..].first().is_some_and(continues);
            let swallowed = catches.iter().find(|(c, _)| !catch_stops(c)).map(|(_, line)| *line);
            swallowed.filter(|_| checks && goes_on).or_else(|| {
                swallowed_call(body, calls_helper)
                    .or_else(|| catches.iter().find_map(|(c, _)| swallowed_call(c, calls_helper)))
                    .or_else(|| swallowed_call(finally, calls_helper))
            })
        }
        Stmt::If { then, els, .. } => swallowed_call(then, calls_helper).or_else(|| swallowed_call(els, calls_helper)),
        Stmt::Switch { cases, .. } => cases.iter().find_map(|c| swallowed_call(&c.body, calls_helper)),
        Stmt::Block { body, .. } => swallowed_call(body, calls_helper),
        Stmt::Func(f) => swallowed_call(&f.body, calls_helper),
        _ => None,
    })
}

/// Whether a catch block ends the request: it returns, raises, exits or answers an error.
fn catch_stops(c: &[Stmt]) -> bool {
    ends(c) || c.iter().any(|s| matches!(s, Stmt::Return { .. } | Stmt::Throw { .. }) || exits(s)) || block_answer(c).is_some_and(|a| a.status.is_error())
}

/// A library configured to verify before the handler runs (`StripeEvent.signing_secret = ...`).
fn library_verification(stmts: &[Stmt], idx: &Index) -> Option<Verification> {
    stmts.iter().find_map(|s| match s {
        Stmt::Assign { target, value, line } => {
            let what = vocab::library_verification(&target.dotted()?)?;
            let unset = matches!(idx.value_of(value), Expr::Null | Expr::Str(_) if value.strings().iter().all(|s| s.is_empty()));
            Some(Verification {
                line: *line,
                call: what.to_string(),
                body: BodyKind::Raw,
                body_text: String::new(),
                fail_open: unset.then(|| format!("`{}` is set to an empty value, so events are not verified", target.render())),
                tolerance: None,
                note: None,
                secret_from_request: None,
            })
        }
        _ => None,
    })
}

/// A framework base class that verifies for its subclasses (Cashier's
/// WebhookController registers its signature middleware in its constructor),
/// unless the subclass overrides the constructor without calling the parent's.
fn framework_verification(idx: &Index) -> Option<Verification> {
    let class = idx.classes.iter().find(|c| c.framework.is_some())?;
    let base = class.framework?;
    let ctor = idx.all.iter().find(|f| f.owner.as_deref() == Some(class.name) && matches!(f.name.as_str(), "__construct" | "initialize" | "constructor"));
    if let Some(ctor) = ctor {
        let mut calls_parent = false;
        for s in &ctor.body {
            if let Stmt::Expr(e, _) = s {
                e.walk(&mut |x| {
                    if let Expr::Call(c) = x {
                        if let Expr::Member(o, m) = &c.callee {
                            calls_parent |= matches!(&**o, Expr::Ident(p) if p == "parent" || p == "super") && m == &ctor.name;
                        }
                    }
                });
            }
        }
        if !calls_parent {
            return None;
        }
    }
    Some(Verification { line: class.line, call: base.verification.to_string(), body: BodyKind::Raw, body_text: String::new(), fail_open: None, tolerance: None, note: None, secret_from_request: None })
}

impl<'a> VerifyScan<'a, '_> {
    fn block(&mut self, stmts: &'a [Stmt]) {
        for (i, s) in stmts.iter().enumerate() {
            if self.found.is_some() {
                return;
            }
            match s {
                Stmt::If { cond, then, els, .. } => {
                    self.cond_of = Some((cond, then, els));
                    self.expr(cond);
                    self.cond_of = None;
                    self.frames.push(Frame::Branch { other: els, cond, in_else: false });
                    self.block(then);
                    self.frames.pop();
                    self.frames.push(Frame::Branch { other: then, cond, in_else: true });
                    self.block(els);
                    self.frames.pop();
                }
                Stmt::Try { body, catches, finally, .. } => {
                    self.frames.push(Frame::Try { catches, rest: &stmts[i + 1..] });
                    self.block(body);
                    self.frames.pop();
                    for (c, _) in catches {
                        self.block(c);
                    }
                    self.block(finally);
                }
                Stmt::Switch { cases, .. } => cases.iter().for_each(|c| self.block(&c.body)),
                Stmt::Block { head, body, .. } => {
                    head.iter().for_each(|h| self.expr(h));
                    self.frames.push(Frame::Loop);
                    self.block(body);
                    self.frames.pop();
                }
                Stmt::Func(f) => self.func(f),
                Stmt::Assign { value, .. } => self.expr(value),
                Stmt::Expr(e, _) | Stmt::Return { value: Some(e), .. } | Stmt::Throw { value: Some(e), .. } => self.expr(e),
                _ => {}
            }
        }
    }

    fn func(&mut self, f: &'a Func) {
        // A verifying helper that nothing calls or mentions any more verifies nothing.
        let verifier_name = ["verif", "valid", "signature", "hmac"].iter().any(|w| squash(&f.name).contains(w));
        if !f.name.is_empty() && verifier_name && !self.idx.mentioned.contains(f.name.as_str()) {
            return;
        }
        self.frames.push(Frame::Func(f));
        self.block(&f.body);
        self.frames.pop();
    }

    fn expr(&mut self, e: &'a Expr) {
        let mut hit: Option<&'a Call> = None;
        let mut ternary: Option<String> = None;
        let mut skipped_inside: Option<String> = None;
        let mut lambdas = Vec::new();
        e.walk(&mut |x| match x {
            Expr::Call(c) => {
                let local_check = vocab::is_validity_check(c) && self.idx.funcs.contains_key(c.callee.last_name());
                if hit.is_none() && vocab::is_verify_call(c) && !local_check {
                    hit = Some(c);
                }
                if hit.is_none() {
                    if let Some(f) = verifies_in_another_file(c, self.idx) {
                        hit = Some(c);
                        skipped_inside = skipped_in_helper(f);
                    }
                }
                // `construct_event(..).unwrap_or_else(|_| serde_json::from_str(..))`: a failure falls back.
                if let Expr::Member(recv, m) = &c.callee {
                    let fallback = matches!(squash(m).as_str(), "unwraporelse" | "unwrapor" | "unwrapordefault" | "orelse" | "rescue");
                    if fallback && contains_verify(recv) {
                        ternary = Some(format!("a failed verification falls back through `.{m}(...)` and processing continues"));
                    }
                }
                for a in &c.args {
                    if let Expr::Lambda(f) = &a.value {
                        lambdas.push(&**f);
                    }
                }
            }
            Expr::Cond(c, a, b) => {
                if contains_verify(a) != contains_verify(b) {
                    ternary = Some(format!("verification runs only when `{}`; otherwise the body is used unverified", c.render()));
                }
            }
            Expr::Object(pairs) => pairs.iter().for_each(|p| {
                if let Expr::Lambda(f) = &p.value {
                    lambdas.push(&**f);
                }
            }),
            Expr::Lambda(f) => lambdas.push(&**f),
            _ => {}
        });
        if let Some(c) = hit {
            let guarded = self.cond_of.and_then(|(cond, then, _)| skipping_guard(cond, then));
            let guarded = guarded.or_else(|| self.cond_of.and_then(|(cond, then, els)| logged_and_let_through(cond, then, els)));
            let fail_open = ternary.or(guarded).or_else(|| self.fail_open()).or(skipped_inside);
            self.found = Some(self.describe(c, fail_open));
            return;
        }
        for f in lambdas {
            self.func(f);
            if self.found.is_some() {
                return;
            }
        }
    }

    /// Whether the enclosing statements let processing continue without a verified event.
    fn fail_open(&self) -> Option<String> {
        for f in self.frames.iter().rev() {
            match f {
                Frame::Func(_) => return None,
                Frame::Loop => {}
                Frame::Try { catches, rest } => {
                    for (c, line) in catches.iter() {
                        if c.iter().any(|s| stmt_parses_body(s) || assigns_parsed_body(s, self.idx)) {
                            return Some(format!("a failed verification is caught at line {line} and the unverified body is parsed and used"));
                        }
                        let stops = catch_stops(c);
                        let goes_on = rest.first().is_some_and(continues);
                        if !stops && goes_on {
                            return Some(format!("a failed verification is caught at line {line} and processing continues"));
                        }
                    }
                }
                Frame::Branch { other, cond, in_else } => {
                    let unverified_parse = other.iter().any(stmt_parses_body);
                    let relevant = ["secret", "key", "env", "skip", "verif", "signature", "sig", "production", "debug", "test", "dev"]
                        .iter()
                        .any(|w| cond.mentions(w));
                    if unverified_parse || (relevant && !ends(other)) {
                        let when = if *in_else { format!("`{}` is false", cond.render()) } else { format!("`{}`", cond.render()) };
                        return Some(format!("verification runs only when {when}; otherwise the event is processed unverified"));
                    }
                }
            }
        }
        None
    }

    fn describe(&self, c: &'a Call, fail_open: Option<String>) -> Verification {
        let payload = c.args.iter().find(|a| matches!(a.name.as_deref(), Some("payload" | "body" | "data"))).or(c.args.first());
        let (body, body_text) = match payload {
            // An event fetched from the API by id is checked over nothing the request sent.
            _ if vocab::is_event_fetch(c) => (BodyKind::Raw, String::new()),
            Some(a) => (body_kind(&a.value, self.idx, 0), a.value.render()),
            None => (BodyKind::Unknown, String::new()),
        };
        let name = squash(c.callee.last_name());
        let tolerance = if name.contains("ignoringtolerance") {
            Some(Tolerance::Disabled)
        } else {
            let arg = c.args.iter().find(|a| a.name.as_deref() == Some("tolerance")).or_else(|| {
                let positional = (name.starts_with("constructevent") || name == "verifyheader").then(|| c.args.get(3)).flatten().filter(|a| a.name.is_none());
                // stripe-node's `constructEventAsync(body, sig, secret, undefined, cryptoProvider)`:
                // a null that only holds the place of a later argument keeps the default
                // (stripe-node reads `tolerance || DEFAULT_TOLERANCE`).
                positional.filter(|a| !(matches!(a.value, Expr::Null) && (c.args.len() > 4 || name == "constructeventasync")))
            });
            arg.and_then(|a| tolerance(&a.value, self.idx))
        };
        let call = c.callee.dotted().unwrap_or_else(|| c.callee.last_name().to_string());
        let call = if vocab::is_event_fetch(c) { format!("{call} (events read back from the provider's API)") } else { call };
        if vocab::is_constant_time_compare(c) || vocab::is_pattern_compare(c) {
            return self.hand_rolled(c, call, fail_open);
        }
        // `constructEvent(body, sig, secret)` / `verify_header(payload, header, secret, ...)`.
        let secret_from_request = (name.starts_with("constructevent") || name == "verifyheader" || name == "constructevent")
            .then(|| c.args.get(2))
            .flatten()
            .and_then(|a| self.scope_func().and_then(|f| from_request(&a.value, &f.body, 3)));
        Verification { line: c.line, call, body, body_text, fail_open, tolerance, note: None, secret_from_request }
    }

    /// The innermost named function the scan is in.
    fn scope_func(&self) -> Option<&'a Func> {
        self.frames.iter().rev().find_map(|f| match f {
            Frame::Func(f) if !f.name.is_empty() => Some(*f),
            _ => None,
        })
    }

    /// A hand-rolled HMAC check (`hash_equals`, `secure_compare`, `hmac.compare_digest`):
    /// what the HMAC covers, whether the timestamp is checked, and (Paddle) whether
    /// every `h1` signature is tried.
    fn hand_rolled(&self, c: &'a Call, call: String, fail_open: Option<String>) -> Verification {
        let scope_func = self.frames.iter().find_map(|f| match f {
            Frame::Func(f) if !f.name.is_empty() => Some(*f),
            _ => None,
        });
        let scope: &[Stmt] = scope_func.map_or(self.top, |f| f.body.as_slice());
        let mut strings: Vec<String> = Vec::new();
        let mut time_checks: Vec<&Expr> = Vec::new();
        let mut messages: Vec<&Expr> = Vec::new();
        each_expr(scope, &mut |e| {
            e.walk(&mut |x| match x {
                Expr::Str(s) => strings.push(s.to_ascii_lowercase()),
                Expr::Binary(op, l, r) if matches!(op.as_str(), "<" | ">" | "<=" | ">=") => {
                    if is_time(l) {
                        time_checks.push(r);
                    } else if is_time(r) {
                        time_checks.push(l);
                    }
                }
                // The message, not the key: skip literals and the secret.
                Expr::Call(k) if is_hmac_call(k) => messages.extend(
                    k.args.iter().map(|a| &a.value).filter(|v| !matches!(v, Expr::Str(_)) && !v.mentions("secret") && !v.mentions("key") && env_names(v).is_empty()),
                ),
                _ => {}
            });
        });
        let paddle = strings.iter().any(|s| s == "h1" || s.contains("paddle-signature"));
        let stripe = strings.iter().any(|s| s == "v1" || s == "t" || s.contains("stripe-signature"));
        let header = if paddle { "Paddle-Signature" } else if stripe { "Stripe-Signature" } else { "signature" };
        let tolerance = match time_checks.first() {
            Some(limit) => eval_number(limit, self.idx).map(|n| if n <= 0.0 { Tolerance::Disabled } else { Tolerance::Seconds(n) }),
            None if paddle || stripe => Some(Tolerance::Disabled),
            None => None,
        };
        let body = messages.iter().map(|m| message_kind(m, self.idx)).fold(BodyKind::Unknown, |acc, k| match (acc, k) {
            (BodyKind::Parsed, _) | (_, BodyKind::Parsed) => BodyKind::Parsed,
            (BodyKind::Raw, _) | (_, BodyKind::Raw) => BodyKind::Raw,
            _ => BodyKind::Unknown,
        });
        let body_text = messages.first().map(|m| m.render()).unwrap_or_default();
        // Every h1 is tried when the comparison runs in a loop or a callback (`any?`, `some`).
        let all_signatures = self.frames.iter().rev().take_while(|f| !matches!(f, Frame::Func(g) if !g.name.is_empty())).any(|f| matches!(f, Frame::Loop | Frame::Func(_)));
        let note = (paddle && !all_signatures).then(|| {
            "only one h1 signature of the Paddle-Signature header is compared: while a secret is being rotated Paddle sends one h1 per secret, and events whose matching h1 is not the one kept are rejected (and retried)".to_string()
        });
        let name = c.callee.last_name();
        Verification { line: c.line, call: format!("HMAC check of the {header} header ({name})"), body, body_text: if body_text.is_empty() { call } else { body_text }, fail_open, tolerance, note, secret_from_request: None }
    }
}

/// Where a value is read from the request's headers (`headers.get("x-webhook-secret")`,
/// `request.META["HTTP_X_SECRET"]`, `req.header("x-secret")`), following the function's
/// own assignments to a local `depth` deep: what it is read from, when so.
fn from_request(e: &Expr, body: &[Stmt], depth: u8) -> Option<String> {
    let mut found = None;
    e.walk(&mut |x| {
        let read = match x {
            Expr::Ident(n) | Expr::Member(_, n) => matches!(n.as_str(), "headers" | "META"),
            Expr::Call(c) => matches!(squash(c.callee.last_name()).as_str(), "header" | "getheader" | "headers"),
            _ => false,
        };
        if read && found.is_none() {
            found = Some(e.render());
        }
    });
    if found.is_some() || depth == 0 {
        return found;
    }
    let Expr::Ident(name) = e else { return None };
    let mut out = None;
    super::lang::syntax::each_assign(body, &mut |target, value| {
        if out.is_none() && matches!(target, Expr::Ident(t) if t == name) && !std::ptr::eq(value, e) {
            out = from_request(value, body, depth - 1);
        }
    });
    out
}

/// `Time.now.to_i`, `time()`, `System.system_time(:second)`, `ts`: a side of a timestamp check.
fn is_time(e: &Expr) -> bool {
    let mut found = false;
    e.walk(&mut |x| {
        let name = match x {
            Expr::Call(c) => squash(c.callee.last_name()),
            Expr::Member(_, n) => squash(n),
            // A local that holds the age of the signature: `time_diff`, `elapsed_time`.
            Expr::Ident(n) if squash(n).contains("time") => "time".into(),
            Expr::Ident(n) => squash(n),
            _ => return,
        };
        found |= ["now", "time", "unix", "timestamp", "systemtime", "utcnow", "currenttime", "since", "ts", "elapsed"].contains(&name.as_str());
    });
    found
}

/// HMAC computations: `hash_hmac(...)`, `OpenSSL::HMAC.hexdigest(...)`, `hmac.new(...)`,
/// `:crypto.mac(...)`, `mac.update(...)`, `crypto.createHmac(...).update(...)`.
fn is_hmac_call(c: &Call) -> bool {
    let d = squash(&c.callee.render());
    let name = squash(c.callee.last_name());
    d.contains("hmac") || name == "mac" || (name == "update" && (d.starts_with("mac.") || d.contains("hmac"))) || name == "newmac"
}

/// What an HMAC message is built from: parsed data anywhere in it makes it parsed.
fn message_kind(e: &Expr, idx: &Index) -> BodyKind {
    let mut kind = BodyKind::Unknown;
    e.walk(&mut |x| {
        if matches!(x, Expr::Ident(_) | Expr::Member(..) | Expr::Call(_) | Expr::Index(..)) {
            match body_kind(x, idx, 0) {
                BodyKind::Parsed => kind = BodyKind::Parsed,
                BodyKind::Raw if kind != BodyKind::Parsed => kind = BodyKind::Raw,
                _ => {}
            }
        }
    });
    kind
}

/// A rejecting condition whose mismatch test sits behind a conjunct that tests the
/// signature's (or the secret's) presence: `if (sig.length > 0 && !timingSafeEqual(..))
/// return 400`, `if signature and not compare_digest(..)`. A request without the header
/// (or a deployment without the secret) skips the check and is processed.
fn skipping_guard(cond: &Expr, then: &[Stmt]) -> Option<String> {
    skipping_guard_of(cond, then, &contains_verify)
}

/// [`skipping_guard`] for a check told by `is_check` (a verifying call, or a call of a
/// helper that verifies).
fn skipping_guard_of(cond: &Expr, then: &[Stmt], is_check: &dyn Fn(&Expr) -> bool) -> Option<String> {
    fn conjuncts<'e>(e: &'e Expr, out: &mut Vec<&'e Expr>) {
        match e {
            Expr::Binary(op, l, r) if op == "&&" => {
                conjuncts(l, out);
                conjuncts(r, out);
            }
            _ => out.push(e),
        }
    }
    if !ends(then) {
        return None;
    }
    let mut parts = Vec::new();
    conjuncts(cond, &mut parts);
    let at = parts.iter().position(|p| is_check(p))?;
    // The mismatch is what rejects: the check is negated (`!equal(..)`, `not compare_digest(..)`).
    let negated = matches!(parts[at], Expr::Unary(op, _) if op == "!" || op == "not")
        || matches!(parts[at], Expr::Binary(op, l, r) if (op == "==" || op == "!=") && (matches!(**l, Expr::Bool(_)) || matches!(**r, Expr::Bool(_))));
    if !negated {
        return None;
    }
    let guard = parts[..at].iter().find(|p| ["sig", "signature", "secret", "hmac", "header", "digest", "hash", "token"].iter().any(|w| p.mentions(w)))?;
    Some(format!("the signature is compared only when `{}`; a request without it (or a missing secret) skips the check and is processed unverified", guard.render()))
}

/// `if valid_signature?(params) do conn else Logger.warning(..); conn end`, `if (!verify(..))
/// { console.warn(..) }`: the branch a failed check takes only logs (or yields the request
/// back, as a Plug does), so the event goes on unverified. A branch that sets a flag or
/// calls anything else is not judged: what it does with the failure is not known.
fn logged_and_let_through(cond: &Expr, then: &[Stmt], els: &[Stmt]) -> Option<String> {
    let negated = match cond {
        Expr::Unary(op, inner) if (op == "!" || op == "not") && contains_verify(inner) => true,
        Expr::Binary(op, l, r) if (op == "==" || op == "!=") && (contains_verify(l) || contains_verify(r)) => {
            let fals = matches!(**l, Expr::Bool(false)) || matches!(**r, Expr::Bool(false));
            (op == "==") == fals
        }
        e if contains_verify(e) && !matches!(e, Expr::Binary(..)) => false,
        _ => return None,
    };
    let failing = if negated { then } else { els };
    let only_logs_or_yields = failing.iter().all(|s| match s {
        Stmt::Expr(Expr::Call(c), _) => vocab::is_logging(c),
        Stmt::Expr(Expr::Ident(_), _) => true,
        _ => false,
    });
    let logs = failing.iter().any(|s| matches!(s, Stmt::Expr(Expr::Call(c), _) if vocab::is_logging(c)));
    (!failing.is_empty() && only_logs_or_yields && (logs || !negated) && !ends(failing))
        .then(|| format!("a failed check of `{}` is only logged and the request goes on unverified", cond.render()))
}

/// Whether the statement after a failed verification's catch goes on with the event: any
/// statement but an answer, including `return process(event)` (Go's `return
/// c.handle(event)`), which hands the unverified event on before it answers.
fn continues(s: &Stmt) -> bool {
    match s {
        Stmt::Throw { .. } | Stmt::Return { value: None, .. } => false,
        Stmt::Return { value: Some(v @ Expr::Call(c)), .. } => {
            !vocab::is_response(c)
                && vocab::status_of_return(Some(v)) == Status::Unknown
                && c.args.iter().any(|a| matches!(a.value, Expr::Ident(_) | Expr::Member(..)))
                && !c.args.iter().any(|a| a.value.mentions("err"))
        }
        Stmt::Return { .. } => false,
        _ => true,
    }
}

fn contains_verify(e: &Expr) -> bool {
    let mut found = false;
    e.walk(&mut |x| {
        if let Expr::Call(c) = x {
            found |= vocab::is_verify_call(c);
        }
    });
    found
}

/// `event = JSON.parse(body)`, `event = json.loads(payload)`, `event = req.body`: an unverified event.
fn stmt_parses_body(s: &Stmt) -> bool {
    let e = match s {
        Stmt::Assign { value, .. } => value,
        Stmt::Expr(e, _) | Stmt::Return { value: Some(e), .. } => e,
        _ => return false,
    };
    let mut found = false;
    e.walk(&mut |x| match x {
        Expr::Call(c) => found |= vocab::is_body_parse(c),
        Expr::Member(..) => {
            let d = x.dotted().unwrap_or_default();
            found |= matches!(d.as_str(), "req.body" | "request.json" | "request.data" | "params" | "conn.body_params" | "conn.params");
        }
        _ => {}
    });
    found
}

/// A call that ends the request by its name: `exit()`, `die()`, `wp_die()`, `pmpro_stripeWebhookExit()`.
fn exits(s: &Stmt) -> bool {
    let Stmt::Expr(Expr::Call(c), _) = s else { return false };
    let name = squash(c.callee.last_name());
    name.ends_with("exit") || name.ends_with("die") || name == "abort"
}

/// `$event = $post_event;` where `$post_event = json_decode($body)`: the parsed body, by name.
fn assigns_parsed_body(s: &Stmt, idx: &Index) -> bool {
    let Stmt::Assign { value: value @ Expr::Ident(_), .. } = s else { return false };
    matches!(idx.value_of(value), Expr::Call(c) if vocab::is_body_parse(c))
}

/// What the signature is computed over.
fn body_kind(e: &Expr, idx: &Index, depth: u8) -> BodyKind {
    if depth > 4 {
        return BodyKind::Unknown;
    }
    match e {
        Expr::Call(c) => {
            for a in c.args.iter().filter(|a| !matches!(a.value, Expr::Str(_) | Expr::Num(_) | Expr::Object(_))) {
                if body_kind(&a.value, idx, depth + 1) == BodyKind::Parsed {
                    return BodyKind::Parsed;
                }
            }
            if vocab::is_reserialize(c) || vocab::is_body_parse(c) {
                return BodyKind::Parsed;
            }
            let name = squash(c.callee.last_name());
            match name.as_str() {
                "stringify" | "dumps" | "json" | "getjson" | "parse" | "loads" | "all" | "input" | "tojson" => BodyKind::Parsed,
                "text" | "body" | "arraybuffer" | "getdata" | "buffer" | "rawbody" | "read" | "blob" | "readall" | "getrawdata" | "getcontent"
                | "filegetcontents" | "readbody" | "rawpost" | "streamgetcontents" => BodyKind::Raw,
                "tostring" | "decode" | "from" | "encode" | "asbytes" | "tobytes" | "asref" | "bytes" | "unwrap" | "expect" | "unwrapordefault"
                | "unwrapor" | "clone" | "asstr" | "into" | "trim" | "fromutf8" | "fromutf8lossy" => match &c.callee {
                    Expr::Member(o, _) if !name.starts_with("from") => body_kind(o, idx, depth + 1),
                    _ => c.args.first().map_or(BodyKind::Unknown, |a| body_kind(&a.value, idx, depth + 1)),
                },
                _ => BodyKind::Unknown,
            }
        }
        Expr::Ident(n) => {
            let v = idx.value_of(e);
            if !std::ptr::eq(v, e) {
                return body_kind(v, idx, depth + 1);
            }
            // axum/actix extractors: `body: String` / `Bytes` is raw, `Json(v): Json<T>` is parsed.
            match idx.param_types.get(n.as_str()).map(|t| squash(t.last_name())) {
                Some(t) if ["string", "bytes", "body", "bytesmut", "vecu8", "str", "u8"].contains(&t.as_str()) => return BodyKind::Raw,
                Some(t) if ["json", "form", "query"].contains(&t.as_str()) => return BodyKind::Parsed,
                _ => {}
            }
            let s = squash(n);
            if s.contains("raw") || s.contains("buf") { BodyKind::Raw } else { BodyKind::Unknown }
        }
        Expr::Member(..) | Expr::Index(..) => {
            let s = squash(&e.dotted().unwrap_or_default());
            if s.contains("raw") || s.ends_with(".read") || s.ends_with("getcontent") {
                return BodyKind::Raw;
            }
            if s.ends_with(".tojson") || s.ends_with("bodyparams") || s == "params" || s.ends_with(".params") {
                return BodyKind::Parsed;
            }
            match s.as_str() {
                // Express's req.body is whatever the middleware made of it; Django's request.body is bytes.
                "req.body" | "request.body" | "ctx.request.body" => {
                    if idx.json_middleware && !idx.raw_middleware {
                        BodyKind::Parsed
                    } else if idx.raw_middleware || s == "request.body" {
                        BodyKind::Raw
                    } else {
                        BodyKind::Unknown
                    }
                }
                // Flask's request.data is the raw bytes; Django REST framework's is the parsed body.
                "request.data" if rest_framework(idx) => BodyKind::Parsed,
                "request.data" => BodyKind::Raw,
                _ if s.ends_with(".json") => BodyKind::Parsed,
                _ => BodyKind::Unknown,
            }
        }
        Expr::Str(_) | Expr::Object(_) => BodyKind::Parsed,
        // `typeof req.body === 'string' ? req.body : JSON.stringify(req.body)`: when one branch
        // re-serializes, the signature is checked over a parsed body whenever it runs.
        Expr::Cond(_, a, b) => match (body_kind(a, idx, depth + 1), body_kind(b, idx, depth + 1)) {
            (BodyKind::Parsed, _) | (_, BodyKind::Parsed) => BodyKind::Parsed,
            (BodyKind::Raw, _) | (_, BodyKind::Raw) => BodyKind::Raw,
            _ => BodyKind::Unknown,
        },
        // `ts + ":" + body`, `"#{ts}:#{raw}"`: the kind of the body part.
        Expr::Binary(op, l, r) if matches!(op.as_str(), "+" | "." | "<>") => {
            let kinds = [l, r].map(|x| if matches!(**x, Expr::Str(_)) { BodyKind::Unknown } else { body_kind(x, idx, depth + 1) });
            if kinds.contains(&BodyKind::Parsed) {
                BodyKind::Parsed
            } else if kinds.contains(&BodyKind::Raw) {
                BodyKind::Raw
            } else {
                BodyKind::Unknown
            }
        }
        _ => BodyKind::Unknown,
    }
}

/// A Django REST framework view: `@api_view`, or a class on `APIView`/`ViewSet`.
fn rest_framework(idx: &Index) -> bool {
    idx.all.iter().any(|f| f.decorators.iter().any(|d| d.mentions("api_view")))
        || ["APIView", "GenericAPIView", "ViewSet", "GenericViewSet", "api_view"].iter().any(|n| idx.mentioned.contains(n))
}

fn tolerance(e: &Expr, idx: &Index) -> Option<Tolerance> {
    let v = idx.value_of(e);
    match v {
        // stripe-go `ConstructEventOptions{Tolerance: 72 * time.Hour}`
        Expr::Object(pairs) => pairs.iter().find(|p| matches!(&p.key, Expr::Str(k) if squash(k) == "tolerance")).and_then(|p| tolerance(&p.value, idx)),
        Expr::Null => Some(Tolerance::Disabled),
        _ => {
            let text = v.render();
            if text.contains("Infinity") || text.contains("MAX_") || text.contains("inf") {
                return Some(Tolerance::Disabled);
            }
            let secs = eval_number(v, idx)?;
            Some(if secs <= 0.0 { Tolerance::Disabled } else { Tolerance::Seconds(secs) })
        }
    }
}

fn eval_number(e: &Expr, idx: &Index) -> Option<f64> {
    eval_number_at(e, idx, 0)
}

/// Bounded: a rebinding such as `timeout = timeout * 1000` makes the values a cycle.
fn eval_number_at(e: &Expr, idx: &Index, depth: u8) -> Option<f64> {
    if depth > 8 {
        return None;
    }
    match idx.value_of(e) {
        Expr::Num(n) => n.parse().ok(),
        // WordPress's time constants (`5 * MINUTE_IN_SECONDS`).
        Expr::Ident(n) if n.ends_with("_IN_SECONDS") => match n.as_str() {
            "MINUTE_IN_SECONDS" => Some(60.0),
            "HOUR_IN_SECONDS" => Some(3600.0),
            "DAY_IN_SECONDS" => Some(86400.0),
            "WEEK_IN_SECONDS" => Some(604_800.0),
            "MONTH_IN_SECONDS" => Some(2_592_000.0),
            "YEAR_IN_SECONDS" => Some(31_536_000.0),
            _ => None,
        },
        Expr::Binary(op, l, r) => {
            let (a, b) = (eval_number_at(l, idx, depth + 1)?, eval_number_at(r, idx, depth + 1)?);
            match op.as_str() {
                "*" => Some(a * b),
                "+" => Some(a + b),
                "-" => Some(a - b),
                "/" if b != 0.0 => Some(a / b),
                _ => None,
            }
        }
        _ => None,
    }
}

// ---------- secret variables ----------

/// Environment variable names read in an expression: `process.env.X`,
/// `os.environ["X"]`, `os.getenv("X")`, `settings.X`.
pub fn env_names(e: &Expr) -> Vec<String> {
    let mut out = Vec::new();
    e.walk(&mut |x| match x {
        Expr::Member(o, name) => {
            let d = o.dotted().unwrap_or_default();
            if d.ends_with("process.env") || d.ends_with("import.meta.env") || d == "settings" || d == "env" || d == "config" {
                out.push(name.clone());
            }
        }
        Expr::Index(o, i) => {
            let d = o.dotted().unwrap_or_default().to_ascii_lowercase();
            if let Expr::Str(s) = &**i {
                if d.ends_with("env") || d.ends_with("environ") {
                    out.push(s.clone());
                }
            }
        }
        Expr::Call(c) => {
            let d = c.callee.dotted().unwrap_or_default();
            let lower = d.to_ascii_lowercase();
            let last = squash(c.callee.last_name());
            let env_call = last == "getenv"
                || last == "fetchenv"
                || (matches!(last.as_str(), "get" | "fetch" | "var" | "lookupenv") && (lower.contains("environ") || lower.contains("env")))
                || matches!(d.as_str(), "env" | "config" | "Deno.env.get" | "os.Getenv" | "os.LookupEnv" | "getenv");
            if env_call {
                // `Application.fetch_env!(:app, :stripe_webhook_secret)`: the key is the last argument.
                let arg = if lower.starts_with("application.") { c.args.last() } else { c.args.first() };
                if let Some(Expr::Str(s)) = arg.map(|a| &a.value) {
                    out.push(s.clone());
                }
            }
        }
        _ => {}
    });
    out
}

fn is_secret_name(n: &str) -> bool {
    let u = n.to_ascii_uppercase();
    (u.contains("WEBHOOK") && (u.contains("SECRET") || u.contains("KEY") || u.contains("SIGNING")))
        || u.contains("SIGNING_SECRET")
        || u.contains("ENDPOINT_SECRET")
        || (u.contains("NOTIFICATION") && u.contains("SECRET"))
        || u == "WHSEC"
}

/// The variables the signing secret comes from.
pub fn secret_vars<'a>(idx: &Index<'a>, stmts: &'a [Stmt]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut collect = |e: &Expr| {
        for n in env_names(e) {
            if is_secret_name(&n) {
                out.insert(n);
            }
        }
    };
    for vals in idx.values.values() {
        for v in vals {
            collect(v);
        }
    }
    let mut stack: Vec<&Stmt> = stmts.iter().collect();
    for f in &idx.all {
        stack.extend(f.body.iter());
    }
    for s in stack {
        match s {
            Stmt::Expr(e, _) | Stmt::Return { value: Some(e), .. } | Stmt::Assign { value: e, .. } => collect(e),
            Stmt::If { cond, .. } => collect(cond),
            _ => {}
        }
    }
    out
}

// ---------- idempotency and error paths ----------

pub struct HandlerFlow {
    pub idempotency: Idempotency,
    pub errors: Vec<ErrorPath>,
}

struct FlowWalk<'a, 'i> {
    idx: &'i Index<'a>,
    found: &'i Found<'a>,
    ord: u32,
    in_tx: u32,
    marks: Vec<(u32, u32, bool)>,
    work: Vec<(u32, bool)>,
    check: Option<(KeyedOn, u32)>,
    errors: Vec<ErrorPath>,
    stack: Vec<*const Func>,
    /// The entry is a Cashier listener: when it returns, Cashier answers 200.
    returns_ok: bool,
    /// What runs after the statement being walked, innermost last: a catch that only
    /// logs inside a `match` arm falls through to the answer after the `match`.
    rest: Vec<&'a [Stmt]>,
    /// Variables holding a handler looked up in a handler map (`handler := EVENTS.get(type)`):
    /// calling one is the dispatch.
    handler_vars: BTreeSet<String>,
    /// The statement lists that are a switch case's body (by address).
    case_bodies: BTreeSet<usize>,
    /// What runs after each call being followed, innermost last: a callee's catch at its
    /// tail that swallows the error returns normally, and its caller goes on to answer.
    callers: Vec<Vec<&'a [Stmt]>>,
}

/// Walks each entry point (a function nobody in the file calls) with local calls inlined.
pub fn handler_flow<'a>(stmts: &'a [Stmt], idx: &Index<'a>, found: &Found<'a>) -> HandlerFlow {
    let mut best: Option<FlowWalk> = None;
    let mut errors = Vec::new();
    let mut roots: Vec<(&'a [Stmt], bool)> = vec![(stmts, false)];
    roots.extend(idx.all.iter().filter(|f| f.name.is_empty() || !idx.called.contains(&f.name)).map(|f| (f.body.as_slice(), is_cashier_listener(f))));
    for (body, returns_ok) in roots {
        let mut w = FlowWalk { idx, found, ord: 0, in_tx: 0, marks: Vec::new(), work: Vec::new(), check: None, errors: Vec::new(), stack: Vec::new(), returns_ok, rest: Vec::new(), handler_vars: BTreeSet::new(), case_bodies: BTreeSet::new(), callers: Vec::new() };
        w.block(body);
        errors.append(&mut w.errors);
        let better = match &best {
            None => true,
            Some(b) => (w.marks.len() + w.work.len() + usize::from(w.check.is_some())) > (b.marks.len() + b.work.len() + usize::from(b.check.is_some())),
        };
        if better && (!w.work.is_empty() || !w.marks.is_empty() || w.check.is_some()) {
            best = Some(w);
        }
    }
    errors.sort_by_key(|e| e.line);
    errors.dedup();
    let idempotency = best
        .map(|w| {
            let mark = w.marks.first().copied();
            let mark_before_writes = mark.is_some_and(|(ord, _, tx)| w.work.iter().any(|(o, wtx)| *o > ord && !(tx && *wtx)));
            Idempotency { check: w.check, mark: mark.map(|(_, line, _)| line), mark_before_writes }
        })
        .unwrap_or_default();
    HandlerFlow { idempotency, errors }
}

impl<'a> FlowWalk<'a, '_> {
    fn is_site(&self, s: &Stmt) -> bool {
        if self.found.sites.contains(&s.line()) {
            return true;
        }
        if self.found.map_vars.is_empty() && self.handler_vars.is_empty() {
            return false;
        }
        let e = match s {
            Stmt::Expr(e, _) | Stmt::Assign { value: e, .. } | Stmt::Return { value: Some(e), .. } => e,
            _ => return false,
        };
        self.found.map_vars.iter().chain(&self.handler_vars).any(|m| e.mentions(m))
    }

    /// Inside a followed call, a catch at the tail of its function (nothing runs after
    /// `here`): the first answer of what its caller runs next.
    fn callers_answer(&self, catch: &[Stmt], here: &[Stmt]) -> Option<super::model::Answer> {
        // Only a catch that ends by logging: one ending in a value (`{:error, reason}`,
        // `Err(e)`) hands the failure back for the caller to look at.
        let logs = matches!(catch.last(), Some(Stmt::Expr(Expr::Call(c), _)) if vocab::is_logging(c));
        let at_tail = logs && here.is_empty() && self.rest.iter().all(|r| r.is_empty());
        let caller = self.callers.last().filter(|_| at_tail)?;
        caller.iter().rev().copied().find_map(|r| block_answer(r).or_else(|| helper_answer(r, self.idx, 0)))
    }

    /// The first answer of what runs after `here`, in this block or the enclosing ones.
    fn answer_after(&self, here: &'a [Stmt]) -> Option<super::model::Answer> {
        std::iter::once(here).chain(self.rest.iter().rev().copied()).find_map(block_answer)
    }

    fn block(&mut self, stmts: &'a [Stmt]) {
        for (i, s) in stmts.iter().enumerate() {
            self.rest.push(&stmts[i + 1..]);
            self.statement(stmts, i, s);
            self.rest.pop();
        }
    }

    fn statement(&mut self, stmts: &'a [Stmt], i: usize, s: &'a Stmt) {
        if let Stmt::Assign { target: Expr::Ident(name), value, .. } = s {
            if self.found.map_vars.iter().any(|m| value.mentions(m)) {
                self.handler_vars.insert(name.clone());
            }
        }
        self.ord += 1;
        if self.is_site(s) {
            self.work.push((self.ord, self.in_tx > 0));
        }
        match s {
            Stmt::If { cond, then, els, line } => {
                self.expr(cond);
                // An early exit, or (if/else as an expression) a branch that only answers.
                let exits = ends(then) || (!els.is_empty() && block_answer(then).is_some() && !then.iter().any(|s| matches!(s, Stmt::Assign { .. })));
                if exits && self.check.is_none() {
                    if let Some(key) = dedup_key(cond, self.idx) {
                        self.check = Some((key, *line));
                    }
                }
                self.block(then);
                self.block(els);
            }
            Stmt::Switch { subject, cases, .. } => {
                self.expr(subject);
                self.case_bodies.extend(cases.iter().map(|c| c.body.as_ptr() as usize));
                cases.iter().for_each(|c| self.block(&c.body));
            }
            Stmt::Try { body, catches, finally, .. } => {
                let before = self.work.len();
                self.block(body);
                // Work seen, or the event handed to code not seen (`handle!(Handler, event)`).
                let processing = self.work.len() > before || hands_on_event(body);
                let acked = acknowledged_first(body);
                for (c, line) in catches {
                    if processing {
                        // A catch that returns what is not read as an answer answers something unknown.
                        // Past the block, only for a branch that is this call (`"subscription_created" =>
                        // match create(..) { Err(e) => log }`): a side update's failure is not the event's.
                        let whole_branch = self.case_bodies.contains(&(stmts.as_ptr() as usize)) && stmts[..i].iter().all(|s| matches!(s, Stmt::Assign { .. }));
                        let answer = block_answer(c).or_else(|| helper_answer(c, self.idx, 0)).or_else(|| match () {
                            _ if ends(c) => None,
                            _ if whole_branch => self.answer_after(&stmts[i + 1..]),
                            _ => block_answer(&stmts[i + 1..]),
                        });
                        let from_caller = answer.is_none().then(|| self.callers_answer(c, &stmts[i + 1..])).flatten();
                        let answer = answer.or(from_caller);
                        // A listener's catch that neither rethrows nor returns lets Cashier answer 200.
                        let falls_through = self.returns_ok && !c.iter().any(|s| matches!(s, Stmt::Throw { .. } | Stmt::Return { .. }));
                        let unknown = if falls_through { Status::Ok(200) } else { Status::Unknown };
                        // The try already sent its 2xx before the work: the catch's answer never leaves.
                        let status = acked.unwrap_or_else(|| answer.map_or(unknown, |a| a.status));
                        self.errors.push(ErrorPath { line: *line, status, logged_in_callee: from_caller.is_some() && acked.is_none() });
                    }
                    self.block(c);
                }
                self.block(finally);
            }
            Stmt::Block { head, body, .. } => {
                let tx = head.iter().any(|h| h.mentions("transaction") || h.mentions("atomic"));
                self.in_tx += u32::from(tx);
                head.iter().for_each(|h| self.expr(h));
                self.block(body);
                self.in_tx -= u32::from(tx);
            }
            Stmt::Assign { value, .. } => self.expr(value),
            Stmt::Expr(e, _) | Stmt::Return { value: Some(e), .. } | Stmt::Throw { value: Some(e), .. } => self.expr(e),
            _ => {}
        }
    
    }

    fn expr(&mut self, e: &'a Expr) {
        let mut calls: Vec<&'a Call> = Vec::new();
        e.walk(&mut |x| {
            if let Expr::Call(c) = x {
                calls.push(c);
            }
        });
        for c in calls {
            // `tx.ExecContext(...)`, `trx.insert(...)`: a write through a transaction handle.
            let via_tx = vocab::receiver_root(&c.callee).is_some_and(|r| matches!(squash(&r).as_str(), "tx" | "trx" | "txn" | "transaction"));
            let in_tx = self.in_tx > 0 || via_tx;
            if is_mark(c, self.idx) {
                self.marks.push((self.ord, c.line, in_tx));
            } else if vocab::is_db_write(c) {
                self.work.push((self.ord, in_tx));
            }
            if let Some(f) = self.idx.resolve_call(&c.callee) {
                if self.stack.len() < 6 && !self.stack.contains(&(f as *const Func)) {
                    // A callee's returns answer its caller, not the provider.
                    let rest = std::mem::take(&mut self.rest);
                    self.callers.push(rest);
                    self.stack.push(f);
                    self.block(&f.body);
                    self.stack.pop();
                    self.rest = self.callers.pop().unwrap_or_default();
                }
            }
            let tx = c.callee.mentions("transaction") || c.callee.mentions("atomic");
            for a in &c.args {
                if let Expr::Lambda(f) = &a.value {
                    self.in_tx += u32::from(tx);
                    self.block(&f.body);
                    self.in_tx -= u32::from(tx);
                }
            }
        }
    }
}

/// Whether a statement of `body` (not nested blocks) passes the event to a call other
/// than logging or a check: `handle_event(event)`, `:ok <- handle!(Handler, event)`.
fn hands_on_event(body: &[Stmt]) -> bool {
    body.iter().any(|s| {
        let (Stmt::Expr(e, _) | Stmt::Assign { value: e, .. }) = s else { return false };
        let mut found = false;
        e.walk(&mut |x| {
            if let Expr::Call(c) = x {
                let passes = c.args.iter().any(|a| matches!(&a.value, Expr::Ident(n) if vocab::is_event_var(n)));
                found |= passes && !vocab::is_logging(c) && !vocab::is_verify_call(c) && !vocab::is_response(c);
            }
        });
        found
    })
}

/// A block ending in a call of a function of the file that answers (`handle_error(conn, e)`
/// whose body is `send_resp(conn, 422, e)`): that answer, at the call. Only a response
/// the helper sends with a status of its own counts: a status handed in by the caller
/// (`Respond(w, r, status, data)`) or the helper's return value says nothing here.
fn helper_answer(stmts: &[Stmt], idx: &Index, depth: u8) -> Option<super::model::Answer> {
    let (Stmt::Expr(Expr::Call(c), line) | Stmt::Return { value: Some(Expr::Call(c)), line }) = stmts.last()? else { return None };
    let f = idx.resolve_call(&c.callee)?;
    // A helper handed the status answers what its caller says, not a status of its own.
    if f.params.iter().any(|p| squash(p).contains("status") || squash(p) == "code") {
        return None;
    }
    let sent: Vec<Status> = f
        .body
        .iter()
        .filter_map(|s| match s {
            Stmt::Expr(Expr::Call(r), _) if vocab::is_response(r) => Some(vocab::status_of_return(Some(&Expr::Call(r.clone())))),
            _ => None,
        })
        .collect();
    let status = match sent.last() {
        Some(_) if sent.contains(&Status::Unknown) => return None,
        Some(st) => *st,
        None if depth < 2 => helper_answer(&f.body, idx, depth + 1)?.status,
        None => return None,
    };
    Some(super::model::Answer { status, line: *line })
}

/// Does the expression name the event's own id (`event.id`, `event["id"]`, `event_id`)?
fn mentions_event_id(e: &Expr, idx: &Index, depth: u8) -> bool {
    let mut found = false;
    e.walk(&mut |x| {
        if found {
            return;
        }
        match x {
            Expr::Member(o, p) if p == "id" => found = is_event_var(o),
            Expr::Index(o, i) if matches!(&**i, Expr::Str(s) if s == "id") => found = is_event_var(o),
            Expr::Ident(n) => {
                let s = squash(n);
                found = s == "eventid" || s == "evtid" || (depth < 2 && {
                    let v = idx.value_of(x);
                    !std::ptr::eq(v, x) && mentions_event_id(v, idx, depth + 1)
                });
            }
            Expr::Str(s) => found = s.contains("event.id") || s.contains("evt.id") || s.contains("event_id"),
            _ => {}
        }
    });
    found
}

fn is_event_var(e: &Expr) -> bool {
    matches!(squash(e.last_name()).as_str(), "event" | "evt" | "stripeevent" | "webhookevent" | "e")
}

/// Does the expression name a billing object's id (`subscription.id`, `session.id`)?
fn mentions_object_id(e: &Expr, idx: &Index) -> bool {
    let mut found = false;
    let v = idx.value_of(e);
    for x in [e, v] {
        x.walk(&mut |y| match y {
            Expr::Member(o, p) if p == "id" && !is_event_var(o) => found = true,
            Expr::Index(o, i) if matches!(&**i, Expr::Str(s) if s == "id") && !is_event_var(o) => found = true,
            _ => {}
        });
    }
    found
}

/// A positive condition that reads "already processed": what it is keyed on.
fn dedup_key(cond: &Expr, idx: &Index) -> Option<KeyedOn> {
    if matches!(cond, Expr::Unary(..)) || matches!(cond, Expr::Binary(op, _, r) if op == "==" && matches!(**r, Expr::Null)) {
        return None;
    }
    let resolved = idx.value_of(cond);
    let named = ["processed", "duplicate", "idempot", "alreadyhandled", "seen", "handled"].iter().any(|w| cond.mentions(w) || resolved.mentions(w));
    let reads = [cond, resolved].iter().any(|e| {
        let mut r = false;
        e.walk(&mut |x| {
            if let Expr::Call(c) = x {
                r |= vocab::is_db_read(c) || vocab::is_db_write(c) || looks_up_event(c);
            }
        });
        r
    });
    if !(named || reads) {
        return None;
    }
    if mentions_event_id(cond, idx, 0) || mentions_event_id(resolved, idx, 0) {
        Some(KeyedOn::EventId)
    } else if named && mentions_object_id(cond, idx) {
        Some(KeyedOn::ObjectId)
    } else {
        None
    }
}

/// `response.status(200).send(); await stripeService.webhook(request);` in a try: a 2xx
/// sent (not returned) before the calls that do the work. Its status, when so.
fn acknowledged_first(body: &[Stmt]) -> Option<Status> {
    let (k, status) = body.iter().enumerate().find_map(|(k, s)| {
        let sent = matches!(s, Stmt::Expr(Expr::Call(c), _) if vocab::is_response(c));
        let status = block_answer(std::slice::from_ref(s)).map(|a| a.status).filter(|st| st.is_ok());
        sent.then_some(status).flatten().map(|st| (k, st))
    })?;
    let mut works = false;
    each_call(&body[k + 1..], &mut |c| works |= !vocab::is_logging(c) && !vocab::is_response(c));
    works.then_some(status)
}

/// A helper asking whether an event was recorded: `hasStripeEvent(id)`, `eventExists(id)`,
/// `findWebhookEvent(id)`.
fn looks_up_event(c: &Call) -> bool {
    let name = squash(c.callee.last_name());
    name.contains("event") && ["has", "exists", "find", "get", "lookup", "isknown"].iter().any(|w| name.starts_with(w) || name.ends_with(w))
}

/// A write recording that an event was processed.
fn is_mark(c: &Call, idx: &Index) -> bool {
    if !vocab::is_db_write(c) {
        return false;
    }
    let chain = vocab::receiver_root(&c.callee).unwrap_or_default() + "." + &c.callee.render();
    let named = ["processed", "webhookevent", "stripeevent", "eventlog", "idempot", "handledevent"]
        .iter()
        .any(|w| squash(&chain).contains(w) || c.args.iter().any(|a| a.value.strings().iter().any(|s| squash(s).contains(w))));
    named || c.args.iter().any(|a| mentions_event_id(&a.value, idx, 0))
}
