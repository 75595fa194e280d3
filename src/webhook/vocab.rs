//! The words of billing code: event types, access fields, database writes,
//! responses. Everything that decides what a name or literal means lives here.

use super::lang::syntax::{Call, Expr, squash};
use super::model::{LookupKey, Status};

const EVENT_ROOTS: &[&str] = &[
    "checkout",
    "customer",
    "invoice",
    "charge",
    "payment_intent",
    "subscription",
    "subscription_schedule",
    "transaction",
    "entitlements",
    "price",
    "product",
    "payment_method",
    "setup_intent",
    "billing_portal",
    "adjustment",
];

/// `customer.subscription.deleted`, `transaction.completed`: a billing event type.
pub fn is_event_type(s: &str) -> bool {
    let mut parts = s.split('.');
    let Some(root) = parts.next() else { return false };
    let rest: Vec<&str> = parts.collect();
    EVENT_ROOTS.contains(&root)
        && !rest.is_empty()
        && rest.iter().all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
}

/// Events whose handling usually revokes (or may revoke) access.
pub fn is_revoking_event(e: &str) -> bool {
    ["deleted", "paused", "payment_failed", "canceled", "cancelled", "unpaid", "refunded", "dispute", "uncollectible", "updated", "expired"]
        .iter()
        .any(|w| e.contains(w))
}

pub const UNPAID_STATUSES: &[&str] = &["incomplete", "incomplete_expired", "unpaid", "paused"];
pub const SUBSCRIPTION_STATUSES: &[&str] =
    &["active", "trialing", "past_due", "canceled", "unpaid", "incomplete", "incomplete_expired", "paused", "paid"];

/// Is this column or property one that decides access?
pub fn is_access_field(name: &str, configured: &[String]) -> bool {
    let s = squash(name);
    if configured.iter().any(|c| squash(c) == s) {
        return true;
    }
    if s.contains("token") || s.contains("key") || s.contains("count") || s.contains("log") {
        return false;
    }
    let is_flag = s.starts_with("is") || s.starts_with("has");
    let flag_word = ["pro", "premium", "paid", "subscribed", "subscriber", "member", "entitled", "active"];
    s.contains("access")
        || s.contains("haspaid")
        || (is_flag && flag_word.iter().any(|w| s.ends_with(w)))
        || is_plan_field(name)
        || ["premium", "subscribed", "entitled", "paid", "pro"].contains(&s.as_str())
        || (s.ends_with("until") && s.len() > 5)
        || s.contains("subscriptionstatus")
        || s.contains("billingstatus")
        || s.contains("subscriptionactive")
}

pub fn is_plan_field(name: &str) -> bool {
    let s = squash(name);
    ["plan", "planname", "planid", "tier", "subscriptiontier", "subscriptionplan", "plantier", "plankey"].contains(&s.as_str())
}

/// Values that mean "no paid access" when written to an access or plan field.
pub fn is_revoking_literal(s: &str) -> bool {
    let s = s.trim().to_ascii_lowercase();
    ["", "free", "none", "canceled", "cancelled", "inactive", "expired", "unpaid", "incomplete", "incomplete_expired", "paused", "null", "false"]
        .contains(&s.as_str())
}

/// Log and print calls: they neither write state nor answer.
pub fn is_logging(call: &Call) -> bool {
    let dotted = call.callee.dotted().unwrap_or_default().to_ascii_lowercase();
    let root = dotted.split('.').next().unwrap_or("");
    ["console", "logger", "log", "logging", "sentry", "print", "debug", "tracer", "metrics", "statsd"].contains(&root)
        || dotted.starts_with("self.logger")
        || dotted.starts_with("this.logger")
        || ["captureexception", "capturemessage", "print"].contains(&squash(call.callee.last_name()).as_str())
}

/// Calls to the billing provider's API (`stripe.subscriptions.update`): not app state.
pub fn is_provider_api(call: &Call) -> bool {
    let dotted = call.callee.dotted().or_else(|| receiver_root(&call.callee)).unwrap_or_default().to_ascii_lowercase();
    dotted.starts_with("stripe.") || dotted.contains(".stripe.") || dotted.starts_with("paddle.") || dotted.contains("stripeclient")
}

/// The root name of a callee chain that passes through calls: `db` for `db.update(x).set`.
pub fn receiver_root(e: &Expr) -> Option<String> {
    match e {
        Expr::Ident(s) => Some(s.clone()),
        Expr::Member(o, _) | Expr::Index(o, _) => receiver_root(o),
        Expr::Call(c) => receiver_root(&c.callee),
        _ => None,
    }
}

const WRITE_METHODS: &[&str] = &[
    "update", "updatemany", "updateone", "updatebyid", "upsert", "create", "createmany", "insert", "insertone", "insertmany",
    "save", "set", "delete", "deletemany", "destroy", "bulkupdate", "bulkcreate", "updateorcreate", "merge",
    "findoneandupdate", "findbyidandupdate", "increment", "decrement", "add", "put", "values", "hset", "setex",
];

/// Does this call write to the app's database (or another store)?
pub fn is_db_write(call: &Call) -> bool {
    if is_logging(call) || is_provider_api(call) {
        return false;
    }
    let name = squash(call.callee.last_name());
    if WRITE_METHODS.contains(&name.as_str()) {
        // `headers.set`, `searchParams.set`, `res.set`: not state.
        let root = receiver_root(&call.callee).unwrap_or_default().to_ascii_lowercase();
        return !["headers", "res", "response", "url", "params", "searchparams", "map", "cache", "metadata", "self"].contains(&root.as_str())
            || name != "set";
    }
    if ["execute", "executeraw", "query", "queryraw", "raw", "sql", "run", "exec", "executemany", "unsafe"].contains(&name.as_str())
        || name.starts_with("execute")
    {
        return call.args.iter().any(|a| a.value.strings().iter().any(|s| is_write_sql(s)));
    }
    false
}

pub fn is_write_sql(s: &str) -> bool {
    let u = s.to_ascii_uppercase();
    u.contains("UPDATE ") || u.contains("INSERT INTO") || u.contains("DELETE FROM") || u.contains("UPSERT")
}

/// Calls that read or filter rows: where a lookup key shows.
pub fn is_db_read(call: &Call) -> bool {
    if is_logging(call) || is_provider_api(call) {
        return false;
    }
    let name = squash(call.callee.last_name());
    ["find", "get", "filter", "where", "select", "first", "query", "execute", "eq", "fetch", "one", "scalar", "exclude", "lookup", "load", "update", "upsert", "delete"]
        .iter()
        .any(|p| name.starts_with(p))
}

/// What a name used to find the user says about the key.
pub fn lookup_key(name: &str) -> Option<LookupKey> {
    let s = squash(name);
    if s.contains("email") {
        Some(LookupKey::Email)
    } else if s.contains("clientreference") {
        Some(LookupKey::ClientReferenceId)
    } else if s.contains("metadata") {
        Some(LookupKey::Metadata)
    } else if s.contains("customerdetails") {
        None
    } else if s.contains("customer") {
        Some(LookupKey::CustomerId)
    } else if s.contains("subscriptionid") || s == "subscription" {
        Some(LookupKey::SubscriptionId)
    } else {
        None
    }
}

/// Verification calls: the SDKs' and the usual helper names.
pub fn is_verify_call(call: &Call) -> bool {
    let name = squash(call.callee.last_name());
    [
        "constructevent",
        "constructeventasync",
        "constructeventignoringtolerance",
        "verifyheader",
        "verifysignature",
        "issignaturevalid",
        "unmarshal",
        "timingsafeequal",
        "comparedigest",
    ]
    .contains(&name.as_str())
        || (name.contains("verify") && (name.contains("webhook") || name.contains("signature") || name.contains("event")))
}

/// Calls that refetch the current object from the billing API.
pub fn is_refetch(call: &Call) -> bool {
    let name = squash(call.callee.last_name());
    (name == "retrieve" || name == "retrieveasync") || (is_provider_api(call) && name == "get")
}

/// A call whose name says it changes access, when billguard cannot see its body.
pub fn opaque_kind(name: &str) -> Option<super::model::OpaqueKind> {
    use super::model::OpaqueKind;
    let s = squash(name);
    let has = |ws: &[&str]| ws.iter().any(|w| s.contains(w));
    if has(&["revoke", "deactivate", "downgrade", "disable", "suspend", "removeaccess", "lockout", "expireaccess", "cancelaccess"]) {
        Some(OpaqueKind::Revoke)
    } else if has(&["grant", "activate", "provision", "upgrade", "unlock", "enableaccess", "givepro", "fulfill"]) {
        Some(OpaqueKind::Grant)
    } else if [
        "sync", "update", "save", "upsert", "mark", "record", "store", "create", "insert", "handle", "process", "apply", "persist",
        "write", "set", "on", "cancel",
    ]
    .iter()
    .any(|p| s.starts_with(p))
    {
        Some(OpaqueKind::Write)
    } else {
        None
    }
}

/// A status code from a name such as `HTTP_400_BAD_REQUEST` or `HTTPStatus.OK`.
fn status_from_name(name: &str) -> Option<u16> {
    let digits: String = name.chars().filter(|c| c.is_ascii_digit()).collect();
    if digits.len() == 3 {
        return digits.parse().ok();
    }
    let upper = name.to_ascii_uppercase();
    let named = [("OK", 200), ("NO_CONTENT", 204), ("ACCEPTED", 202), ("BAD_REQUEST", 400), ("UNAUTHORIZED", 401), ("FORBIDDEN", 403), ("NOT_FOUND", 404), ("INTERNAL_SERVER_ERROR", 500)];
    named.iter().find(|(n, _)| upper.ends_with(n)).map(|(_, c)| *c)
}

fn number(e: &Expr) -> Option<u16> {
    match e {
        Expr::Num(n) => n.parse().ok(),
        Expr::Ident(_) | Expr::Member(..) => e.dotted().and_then(|d| status_from_name(&d)),
        _ => None,
    }
}

/// The explicit status a response expression carries, if any.
fn explicit_status(e: &Expr) -> Option<u16> {
    let mut found = None;
    e.walk(&mut |x| {
        if found.is_some() {
            return;
        }
        match x {
            Expr::Call(c) => {
                let name = squash(c.callee.last_name());
                if (name == "status" || name == "sendstatus" || name == "abort" || name == "writehead") && !c.args.is_empty() {
                    found = number(&c.args[0].value);
                }
                for a in &c.args {
                    if matches!(a.name.as_deref(), Some("status" | "status_code")) {
                        found = found.or_else(|| number(&a.value));
                    }
                }
                if found.is_none() {
                    let named = [("badrequest", 400), ("servererror", 500), ("notfound", 404), ("forbidden", 403)];
                    found = named.iter().find(|(n, _)| name.contains(n)).map(|(_, c)| *c);
                }
            }
            Expr::Object(pairs) => {
                for p in pairs {
                    if matches!(&p.key, Expr::Str(k) if k == "status" || k == "statusCode" || k == "status_code") {
                        found = found.or_else(|| number(&p.value));
                    }
                }
            }
            _ => {}
        }
    });
    found
}

fn classify(code: u16) -> Status {
    if (200..300).contains(&code) { Status::Ok(code) } else { Status::Error(code) }
}

/// What returning this expression answers.
pub fn status_of_return(value: Option<&Expr>) -> Status {
    let Some(e) = value else { return Status::Unknown };
    if let Expr::Array(items) = e {
        // Flask: `return body, 400`
        if let Some(code) = items.last().and_then(number) {
            return classify(code);
        }
    }
    if let Some(code) = explicit_status(e) {
        return classify(code);
    }
    match e {
        Expr::Object(_) | Expr::Str(_) => Status::Ok(200),
        Expr::Call(c) if is_response(c) => Status::Ok(200),
        _ => Status::Unknown,
    }
}

/// What throwing this expression answers: an HTTP error with a status, else a 5xx.
pub fn status_of_throw(value: Option<&Expr>) -> Status {
    match value.and_then(explicit_status) {
        Some(code) => classify(code),
        None => Status::Raises,
    }
}

/// Is this call an HTTP response (as an expression statement or a returned value)?
pub fn is_response(c: &Call) -> bool {
    let name = squash(c.callee.last_name());
    let root = receiver_root(&c.callee).unwrap_or_default().to_ascii_lowercase();
    ["res", "response", "reply", "ctx", "c"].contains(&root.as_str())
        || [
            "response", "nextresponse", "json", "send", "sendstatus", "jsonify", "httpresponse", "jsonresponse", "plaintextresponse", "end",
            "makeresponse", "abort", "httpresponsebadrequest", "httpresponseservererror", "text",
        ]
        .contains(&name.as_str())
}
