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

/// Event names without dots: Paddle Classic's `alert_name` values and Lemon
/// Squeezy's `meta.event_name`, matched whole (a snake_case word alone says nothing).
pub const SNAKE_EVENTS: &[&str] = &[
    // Paddle Classic
    "subscription_created",
    "subscription_updated",
    "subscription_cancelled",
    "subscription_payment_succeeded",
    "subscription_payment_failed",
    "subscription_payment_refunded",
    "payment_succeeded",
    "payment_refunded",
    "payment_dispute_created",
    "payment_dispute_closed",
    // Lemon Squeezy (the names Paddle Classic does not share)
    "subscription_expired",
    "subscription_paused",
    "subscription_unpaused",
    "subscription_resumed",
    "subscription_payment_success",
    "subscription_payment_recovered",
    "order_created",
    "order_refunded",
];

/// `customer.subscription.deleted`, `transaction.completed`, `subscription_cancelled`:
/// a billing event type.
pub fn is_event_type(s: &str) -> bool {
    if SNAKE_EVENTS.contains(&s) {
        return true;
    }
    let mut parts = s.split('.');
    let Some(root) = parts.next() else { return false };
    let rest: Vec<&str> = parts.collect();
    EVENT_ROOTS.contains(&root)
        && !rest.is_empty()
        && rest.iter().all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
        && !rest.last().is_some_and(|l| FIELD_NAMES.contains(l) || FIELD_SUFFIXES.iter().any(|x| l.ends_with(x)))
}

/// Endings of a field's name (`updated_at`, `history_logs`), never of an event's.
const FIELD_SUFFIXES: &[&str] = &["_at", "_id", "_ids", "_date", "_logs", "_url", "_count", "_seen", "_on"];

/// Last segments that make a dotted path a document field (MongoDB's
/// `"subscription.status"`, `"customer.email"`), never an event type.
const FIELD_NAMES: &[&str] = &[
    "status", "active", "is_active", "id", "email", "plan", "plan_id", "price", "price_id", "customer", "customer_id", "subscription_id", "data", "items",
    "metadata", "name", "amount", "currency", "quantity", "type", "object", "tier", "level", "expires_at", "ends_at", "end_date", "start_date",
    "current_period_end",
];

/// An event type written with its provider in front, as event routers namespace them
/// (Pay's `"stripe.customer.subscription.deleted"`, `"paddle_billing.subscription.canceled"`):
/// the event type itself.
pub fn unprefixed_event(s: &str) -> Option<&str> {
    if is_event_type(s) {
        return Some(s);
    }
    let (provider, rest) = s.split_once('.')?;
    (matches!(provider, "stripe" | "paddle" | "paddle_billing" | "paddle_classic" | "lemon_squeezy" | "lemonsqueezy") && is_event_type(rest)).then_some(rest)
}

/// Event types known by name, so that SDK constants and framework method names
/// (`EventTypeCustomerSubscriptionDeleted`, `handleInvoicePaid`) map back to them.
pub const KNOWN_EVENTS: &[&str] = &[
    // Stripe
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
    "checkout.session.async_payment_failed",
    "checkout.session.expired",
    "customer.created",
    "customer.updated",
    "customer.deleted",
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "customer.subscription.paused",
    "customer.subscription.resumed",
    "customer.subscription.trial_will_end",
    "customer.subscription.pending_update_applied",
    "customer.subscription.pending_update_expired",
    "invoice.paid",
    "invoice.payment_succeeded",
    "invoice.payment_failed",
    "invoice.payment_action_required",
    "invoice.upcoming",
    "invoice.finalized",
    "invoice.marked_uncollectible",
    "invoice.voided",
    "invoice.overdue",
    "charge.succeeded",
    "charge.refunded",
    "charge.failed",
    "charge.dispute.created",
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "payment_method.attached",
    "payment_method.automatically_updated",
    "entitlements.active_entitlement_summary.updated",
    // Paddle Billing
    "subscription.created",
    "subscription.activated",
    "subscription.updated",
    "subscription.trialing",
    "subscription.past_due",
    "subscription.paused",
    "subscription.resumed",
    "subscription.canceled",
    "subscription.imported",
    "transaction.created",
    "transaction.ready",
    "transaction.billed",
    "transaction.paid",
    "transaction.completed",
    "transaction.payment_failed",
    "transaction.past_due",
    "transaction.canceled",
    "adjustment.created",
    "adjustment.updated",
];

/// Stripe's event families whose members are all in [`KNOWN_EVENTS`]: a name in one of
/// them that is not listed (`customer.subscription.cancelled`) is an event Stripe never
/// sends, so code handling it never ran.
const CLOSED_FAMILIES: &[&str] = &["customer.subscription.", "checkout.session."];

/// The event class a Laravel Cashier listener takes (`Laravel.Paddle.Events.SubscriptionCreated`,
/// dotted): Cashier fires it after its webhook controller verified the request.
pub fn is_cashier_event_class(dotted: &str) -> bool {
    dotted.starts_with("Laravel.Paddle.Events.") || dotted.starts_with("Laravel.Cashier.Events.")
}

/// Product-analytics clients (`SegmentService().account_deactivated_user(..)`, a
/// `services/segment.py` of `identify` traits): what they record is no access state.
pub fn is_analytics(text: &str) -> bool {
    let s = squash(text);
    ["segment", "analytics", "mixpanel", "amplitude", "posthog", "telemetry"].iter().any(|w| s.contains(w))
}

/// Whether `event` is a name the provider never sends (see [`CLOSED_FAMILIES`]).
pub fn never_sent(event: &str) -> bool {
    CLOSED_FAMILIES.iter().any(|f| event.starts_with(f)) && !KNOWN_EVENTS.contains(&event)
}

/// `CustomerSubscriptionDeleted`, `customer_subscription_deleted` or
/// `CUSTOMER_SUBSCRIPTION_DELETED` -> `customer.subscription.deleted`.
pub fn event_from_name(name: &str) -> Option<&'static str> {
    // An alert name written as it is (`subscription_created:` as an object key) is
    // that alert, not the Paddle Billing event its letters also spell.
    if let Some(e) = SNAKE_EVENTS.iter().find(|e| **e == name) {
        return Some(e);
    }
    let s = squash(name);
    KNOWN_EVENTS.iter().chain(SNAKE_EVENTS).copied().find(|e| squash(&e.replace('.', "")) == s)
}

/// The string an SDK constant stands for, from the segments of its qualified
/// name: Go `stripe.EventTypeInvoicePaid`, Rust `EventType::InvoicePaid`, PHP
/// `\Stripe\Event::INVOICE_PAID`, Paddle `EventTypeName::SubscriptionCanceled`,
/// `stripe.SubscriptionStatusPastDue`, `SubscriptionStatus::Active`,
/// `CheckoutSessionPaymentStatus::Paid`.
pub fn sdk_constant(segments: &[&str]) -> Option<String> {
    let (last, parent) = match segments {
        [.., p, l] => (*l, Some(*p)),
        [l] => (*l, None),
        [] => return None,
    };
    let status = |s: &str, allowed: &[&str]| -> Option<String> {
        let q = squash(s);
        allowed.iter().find(|a| squash(a) == q).map(|a| a.to_string())
    };
    const PAYMENT_STATUSES: &[&str] = &["paid", "unpaid", "no_payment_required"];
    for prefix in ["EventTypeName", "EventType"] {
        if let Some(rest) = last.strip_prefix(prefix).filter(|r| r.starts_with(|c: char| c.is_ascii_uppercase())) {
            return event_from_name(rest).map(String::from);
        }
    }
    if let Some(rest) = last.strip_prefix("CheckoutSessionPaymentStatus").filter(|r| !r.is_empty()) {
        return status(rest, PAYMENT_STATUSES);
    }
    if let Some(rest) = last.strip_prefix("SubscriptionStatus").filter(|r| !r.is_empty()) {
        return status(rest, SUBSCRIPTION_STATUSES);
    }
    match parent {
        Some("EventType" | "EventTypeName" | "EventName") => event_from_name(last).map(String::from),
        Some("Event") if last.chars().all(|c| c.is_ascii_uppercase() || c == '_') => event_from_name(last).map(String::from),
        Some("SubscriptionStatus") => status(last, SUBSCRIPTION_STATUSES),
        Some("CheckoutSessionPaymentStatus" | "PaymentStatus") => status(last, PAYMENT_STATUSES),
        _ => None,
    }
}

/// A framework's webhook controller that verifies signatures and handles some
/// events itself; subclasses override `handle{EventName}` methods.
pub struct FrameworkBase {
    pub name: &'static str,
    /// What verifies the signature for every subclass (unless a constructor override drops it).
    pub verification: &'static str,
    /// The state the framework's own handlers write.
    pub state: &'static str,
    /// Events the base class handles itself, and what that does to access.
    pub builtin: &'static [(&'static str, super::model::ValueKind)],
}

pub static CASHIER_STRIPE: FrameworkBase = FrameworkBase {
    name: "Laravel Cashier (Stripe)",
    verification: "Cashier WebhookController (VerifyWebhookSignature middleware, registered by the parent constructor)",
    state: "subscriptions (Cashier)",
    builtin: &[
        ("customer.subscription.created", super::model::ValueKind::Derived),
        ("customer.subscription.updated", super::model::ValueKind::Derived),
        ("customer.subscription.deleted", super::model::ValueKind::Revoke),
        ("customer.deleted", super::model::ValueKind::Revoke),
    ],
};

pub static CASHIER_PADDLE: FrameworkBase = FrameworkBase {
    name: "Laravel Cashier (Paddle)",
    verification: "Cashier Paddle WebhookController (VerifyWebhookSignature middleware, registered by the parent constructor)",
    state: "subscriptions (Cashier)",
    builtin: &[
        ("subscription.created", super::model::ValueKind::Derived),
        ("subscription.updated", super::model::ValueKind::Derived),
        ("subscription.paused", super::model::ValueKind::Revoke),
        ("subscription.canceled", super::model::ValueKind::Revoke),
        ("transaction.completed", super::model::ValueKind::Derived),
    ],
};

/// The framework base a class extends, by the parent's qualified name
/// (`Laravel.Cashier.Http.Controllers.WebhookController`).
pub fn framework_base(parent: &str) -> Option<&'static FrameworkBase> {
    let segments: Vec<&str> = parent.split(['.', '\\', ':']).filter(|s| !s.is_empty()).collect();
    let last = segments.last().copied().unwrap_or("");
    let cashier = segments.contains(&"Cashier") || last == "CashierController";
    if !cashier || !(last == "WebhookController" || last == "CashierController") {
        return None;
    }
    Some(if segments.contains(&"Paddle") { &CASHIER_PADDLE } else { &CASHIER_STRIPE })
}

/// Events whose handling usually revokes (or may revoke) access.
pub fn is_revoking_event(e: &str) -> bool {
    ["deleted", "paused", "payment_failed", "canceled", "cancelled", "unpaid", "refunded", "dispute", "uncollectible", "updated", "expired", "past_due"]
        .iter()
        .any(|w| e.contains(w))
}

pub const UNPAID_STATUSES: &[&str] = &["incomplete", "incomplete_expired", "unpaid", "paused"];
pub const SUBSCRIPTION_STATUSES: &[&str] =
    &["active", "trialing", "past_due", "canceled", "unpaid", "incomplete", "incomplete_expired", "paused", "paid"];

/// Is this column or property one that decides access?
pub fn is_access_field(name: &str, configured: &[String]) -> bool {
    let s = squash(name);
    if configured.iter().any(|c| squash(c.trim_start_matches('!')) == s) {
        return true;
    }
    if s.contains("token") || s.contains("key") || s.replace("account", "").contains("count") || s.contains("log") || s.contains("filter") {
        return false;
    }
    let is_flag = s.starts_with("is") || s.starts_with("has");
    let flag_word = ["pro", "plus", "premium", "paid", "subscribed", "subscriber", "member", "entitled", "active"];
    s.contains("access")
        || s.contains("haspaid")
        || (is_flag && flag_word.iter().any(|w| s.ends_with(w)))
        || is_plan_field(name)
        || ["premium", "subscribed", "entitled", "paid", "pro", "plus", "membership", "ismembership"].contains(&s.as_str())
        // What a plan unlocks, held on the user: `badges |= Badges::MIDAS`, `role = 'pro'`.
        || ["badges", "perks", "entitlements", "entitlement", "role", "roles", "userrole"].contains(&s.as_str())
        || holds_subscription_object(name)
        || (s.ends_with("until") && s.len() > 5)
        // Laravel and Rails timestamps: `valid_until_at`, `paid_until_at`.
        || (s.ends_with("untilat") && s.len() > 7)
        // Time-based access: paid until the period ends.
        || (s.contains("currentperiodend") && !s.contains("cancel"))
        || (s.ends_with("periodend") && !s.contains("cancel"))
        || s.contains("subscriptionend")
        || (s.ends_with("expiresat") && s.len() > 9)
        || s.contains("subscriptionstatus")
        || s.contains("billingstatus")
        || s.contains("subscriptionactive")
        // The last invoice paid, kept as the paying flag (`stripe_invoice_paid`).
        || s.ends_with("invoicepaid")
        // How much of a resource the plan buys (`serversQuantity`, `seats`): 0 takes it away.
        || (s.ends_with("quantity") && s.len() > "quantity".len() + 2 && !["new", "old", "prev", "current", "total", "default"].iter().any(|p| s.starts_with(p)))
        || ["seats", "maxseats", "seatlimit", "paidseats"].contains(&s.as_str())
}

/// A column holding the provider's subscription object whole (`stripe_subscription`):
/// its status travels with it, so access is read from it, and storing it is a sync.
pub fn holds_subscription_object(name: &str) -> bool {
    ["subscription", "stripesubscription", "paddlesubscription", "subscriptionobject", "subscriptiondata"].contains(&squash(name).as_str())
}

/// Whether setting `name` takes access away: `[webhook] access_fields` decides first
/// (`"!disabled"` is inverted, a plain name is not), then the built-in names below.
pub fn is_inverted(name: &str, configured: &[String]) -> bool {
    let s = squash(name);
    if let Some(c) = configured.iter().find(|c| squash(c.trim_start_matches('!')) == s) {
        return c.starts_with('!');
    }
    is_inverted_access_field(name) && !is_access_field(name, &[])
}

/// Columns that take access away when set: `deactivated_on`, `disabled`,
/// `suspended_at`, `is_blocked`, `locked_at`, `banned`. Writing a value (a date,
/// true) revokes; clearing them (null, false) grants.
pub fn is_inverted_access_field(name: &str) -> bool {
    let s = squash(name);
    !s.contains("reason") && !s.contains("by") && ["deactivated", "disabled", "suspended", "blocked", "locked", "banned"].iter().any(|w| s.contains(w))
}

/// Columns that hold a subscription's state (`status`, `stripe_status`,
/// `active`, `state`): they decide access when what is written to them is a
/// subscription's status (see [`is_subscription_status_value`]); a product's
/// `active` flag or an order's `status` does not.
pub fn is_status_field(name: &str) -> bool {
    ["status", "stripestatus", "paddlestatus", "state", "subscriptionstate", "active", "isactive"].contains(&squash(name).as_str())
}

/// A subscription status as written: a status literal (`'active'`,
/// `'canceled'`), or a value computed from a status (`subscription.status`,
/// `sub.status === 'active'`).
pub fn is_subscription_status_value(e: &Expr) -> bool {
    match e {
        // Apps' own spellings of an ended subscription count too (`'cancelled'`, `'expired'`),
        // and Paddle Classic's `deleted`.
        Expr::Str(s) => {
            let s = s.to_ascii_lowercase();
            SUBSCRIPTION_STATUSES.contains(&s.as_str()) || ["cancelled", "expired", "inactive", "ended", "deleted"].contains(&s.as_str())
        }
        _ => e.mentions("status") && !e.mentions("payment_status") && !e.mentions("status_code"),
    }
}

/// What an enum constant of a status type grants: `SubscriptionStatus.Active`
/// grants, `Status::CANCELED` revokes. Only constants (a capitalised type, or
/// an all-caps name), not a field such as `user.active`.
pub fn status_constant(e: &Expr) -> Option<super::model::ValueKind> {
    use super::model::ValueKind;
    let name = e.last_name();
    let is_constant = match e {
        Expr::Member(o, _) => receiver_root(o).is_some_and(|r| r.chars().next().is_some_and(char::is_uppercase)) || name.chars().all(|c| !c.is_lowercase()),
        Expr::Ident(n) => n.len() > 2 && n.chars().all(|c| !c.is_lowercase()),
        _ => false,
    };
    if !is_constant {
        return None;
    }
    let s = squash(name);
    if ["deleted", "canceled", "cancelled", "inactive", "expired", "unpaid", "ended", "free", "disabled", "revoked", "none", "incompleteexpired"].contains(&s.as_str()) {
        Some(ValueKind::Revoke)
    } else if ["active", "trialing", "paid", "pro", "premium", "enterprise", "subscribed", "enabled"].contains(&s.as_str()) {
        Some(ValueKind::Grant)
    } else {
        None
    }
}

pub fn is_plan_field(name: &str) -> bool {
    let s = squash(name);
    [
        "plan", "planname", "planid", "tier", "subscriptiontier", "subscriptionplan", "plantier", "plankey",
        // The plan under another name: `account_type = 'pro'`, `membership_level = 'gold'`.
        "accounttype", "accounttier", "plantype", "planlevel", "subscriptiontype", "membershiptype", "membershiplevel",
    ]
    .contains(&s.as_str())
}

/// A status value naming a tier (`"Pro"`, `"Free"`, `"Pro (pending downgrade)"`): the
/// app keeps its plan in a status field, so writing it moves access.
pub fn is_tier_status(s: &str) -> bool {
    let first = s.trim().split(|c: char| !c.is_ascii_alphanumeric()).next().unwrap_or("").to_ascii_lowercase();
    ["free", "pro", "premium", "plus", "basic", "business", "enterprise", "starter", "paid"].contains(&first.as_str())
}

/// Values that mean "no paid access" when written to an access or plan field.
pub fn is_revoking_literal(s: &str) -> bool {
    let s = s.trim().to_ascii_lowercase();
    ["", "free", "none", "canceled", "cancelled", "inactive", "expired", "unpaid", "incomplete", "incomplete_expired", "paused", "null", "false", "deleted"]
        .contains(&s.as_str())
}

/// A variable that holds the parsed event by its name: `event`, `stripe_event`, `eventData`.
pub fn is_event_var(name: &str) -> bool {
    matches!(squash(name).as_str(), "event" | "evt" | "stripeevent" | "webhookevent" | "eventdata" | "eventjson" | "parsedevent")
}

/// Log and print calls: they neither write state nor answer.
pub fn is_logging(call: &Call) -> bool {
    let dotted = call.callee.dotted().or_else(|| receiver_root(&call.callee)).unwrap_or_default().to_ascii_lowercase();
    let root = dotted.split('.').next().unwrap_or("");
    [
        "console", "logger", "log", "logging", "sentry", "print", "debug", "tracer", "metrics", "statsd", "tracing", "println", "eprintln",
        "fmt", "slog", "logrus", "zap", "puts", "echo", "errorlog", "iex",
    ]
    .contains(&root)
        || dotted.starts_with("self.logger")
        || dotted.starts_with("this.logger")
        || dotted.starts_with("rails.logger")
        || dotted.starts_with("self.log.")
        || ["captureexception", "capturemessage", "print", "errorlog", "inspect"].contains(&squash(call.callee.last_name()).as_str())
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
    // ActiveRecord, Eloquent, GORM, Ecto
    "updateall", "updates", "updatecolumn", "updatecolumns", "updateattribute", "updateattributes", "insertall", "upsertall",
    "deleteall", "destroyall", "insertorupdate", "updateorinsert", "forcedelete", "savequietly", "updatequietly", "touch",
    // Objection.js (`subscription.$query().patchAndFetch(attrs)`, `Model.query().insertAndFetch(row)`)
    "patchandfetch", "patchandfetchbyid", "updateandfetch", "updateandfetchbyid", "insertandfetch", "insertgraph",
    "insertgraphandfetch", "upsertgraph", "upsertgraphandfetch", "deletebyid",
];

/// Receivers whose `patch` is an HTTP request or a route, not a row update
/// (`axios.patch(url)`, `router.patch('/x', handler)`).
const HTTP_PATCH_RECEIVERS: &[&str] = &["axios", "http", "https", "client", "api", "request", "got", "ky", "superagent", "router", "app", "route", "routes", "server", "fastify"];

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
    // An ORM's `patch` (Objection `$query().patch(attrs)`, Eloquent-like builders).
    if name == "patch" {
        let root = receiver_root(&call.callee).unwrap_or_default().to_ascii_lowercase();
        return !root.is_empty() && !HTTP_PATCH_RECEIVERS.contains(&root.as_str());
    }
    if ["execute", "executeraw", "query", "queryraw", "raw", "sql", "run", "exec", "executemany", "unsafe", "statement", "affectingstatement"]
        .contains(&name.as_str())
        || name.starts_with("exec")
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
    // `PLAN_BY_PRICE.iter().find(..)`, `items.iter().any(..)`: constants and iterators, not tables.
    let root = receiver_root(&call.callee).unwrap_or_default();
    let chain = call.callee.render();
    if (root.len() > 1 && root.chars().all(|c| c.is_ascii_uppercase() || c == '_' || c.is_ascii_digit()))
        || chain.contains(".iter()")
        || chain.contains(".into_iter()")
    {
        return false;
    }
    if name == "get" || name == "fetch" {
        // `metadata.get("price_id")`, `headers.get(..)`, `m.get(..)`: maps, not tables.
        let raw = match &call.callee {
            Expr::Member(o, _) => o.render(),
            _ => String::new(),
        };
        // `PLAN_BY_PRICE.fetch(..)`: a constant map.
        if !raw.is_empty() && raw.chars().all(|c| c.is_ascii_uppercase() || c == '_' || c.is_ascii_digit()) {
            return false;
        }
        let recv = squash(&raw);
        let map_like = ["metadata", "header", "param", "env", "config", "setting", "args", "query", "map", "cache", "dict", "session["]
            .iter()
            .any(|w| recv.contains(w))
            || (recv.len() <= 2 && !recv.is_empty());
        if map_like {
            return false;
        }
    }
    ["find", "get", "filter", "where", "select", "first", "query", "execute", "eq", "fetch", "one", "scalar", "exclude", "lookup", "load", "update", "upsert", "delete", "exists"]
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
    } else if s.contains("customer") || ["stripeid", "paddleid", "processorid"].contains(&s.as_str()) {
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
        "constructeventwithoptions",
        "constructeventwithtolerance",
        "verifyheader",
        "verifysignature",
        "issignaturevalid",
        "timingsafeequal",
        "comparedigest",
        // constant-time comparisons of hand-rolled HMAC checks
        "hashequals",
        "securecompare",
        "fixedlengthsecurecompare",
        "constanttimecompare",
        "verifyslice",
        "constanttimeeq",
    ]
    .contains(&name.as_str())
        || (name.contains("verify") && (name.contains("webhook") || name.contains("signature") || name.contains("event")))
        || (name == "equal" && call.callee.dotted().as_deref() == Some("hmac.Equal"))
        || is_pattern_compare(call)
        // Paddle's Node SDK: `paddle.webhooks.unmarshal(body, secret, signature)`; not `json.Unmarshal`.
        || (name == "unmarshal" && receiver_root(&call.callee).is_some_and(|r| !["json", "xml", "yaml", "proto", "msgpack", "toml"].contains(&r.to_ascii_lowercase().as_str())) && call.args.len() >= 3)
        // Paddle SDKs: `(new Verifier())->verify($request, $secret)`, `verifier.Verify(req)`
        || (name == "verify" && receiver_root(&call.callee).is_some_and(|r| squash(&r).contains("verifier")))
        || (name == "verify" && squash(&call.callee.render()).contains("verifier"))
        // Lemon Squeezy's Go SDK: `client.Webhooks.Verify(ctx, signature, body)`.
        || (name == "verify" && squash(&call.callee.render()).contains("webhooks") && call.args.len() >= 2)
        || is_validity_check(call)
        || is_event_fetch(call)
        || is_rsa_signature_check(call, &name)
}

/// `$membership->cancel()`, `member.expire!`, `subscription.deactivate`: the app's own
/// subscription or membership record ending. The provider's (`stripe_subscription.cancel()`)
/// is no app state.
pub fn ends_own_record(method: &str, receiver: &str) -> bool {
    let r = squash(receiver);
    ["cancel", "expire", "deactivate", "revoke"].contains(&squash(method).trim_end_matches('!'))
        && ["membership", "member", "subscription"].iter().any(|k| r.ends_with(k))
        && !["stripe", "paddle", "provider"].iter().any(|k| r.contains(k))
}

/// Paddle Classic signs alerts with RSA over the serialized fields (`p_signature`):
/// Ruby `public_key.verify(OpenSSL::Digest.new("SHA1"), signature, data)`, Python
/// `public_key.verify(signature, data, padding.PKCS1v15(), hashes.SHA1())`, PHP
/// `openssl_verify($data, $signature, $public_key, OPENSSL_ALGO_SHA1)`.
fn is_rsa_signature_check(call: &Call, name: &str) -> bool {
    let signed = call.args.iter().any(|a| squash(&a.value.render()).contains("signature"));
    let by_key = name == "verify" && receiver_root(&call.callee).is_some_and(|r| squash(&r).contains("key"));
    signed && call.args.len() >= 3 && (by_key || name == "opensslverify")
}

/// Names a file gives to the provider SDK's modules and classes: Elixir
/// `alias Stripe.SubscriptionItem.Usage, as: SubscriptionItemUsage`, PHP
/// `use Stripe\Subscription as StripeSubscription;`, Python `from stripe import Subscription`.
pub fn provider_aliases(text: &str) -> std::collections::BTreeSet<String> {
    let mut out = std::collections::BTreeSet::new();
    for line in text.lines().map(str::trim) {
        let (target, named) = if let Some(rest) = line.strip_prefix("alias ") {
            let (target, as_name) = rest.split_once(", as:").map_or((rest, None), |(t, a)| (t, Some(a.trim())));
            (target.trim().replace('.', "\\"), as_name.map(str::to_string))
        } else if let Some(rest) = line.strip_prefix("use ") {
            let rest = rest.trim_end_matches(';').trim_start_matches('\\');
            let (target, as_name) = rest.split_once(" as ").map_or((rest, None), |(t, a)| (t, Some(a.trim())));
            (target.trim().to_string(), as_name.map(str::to_string))
        } else if let Some(rest) = line.strip_prefix("from stripe import ").or_else(|| line.strip_prefix("from paddle_billing import ")) {
            out.extend(rest.split(',').map(|n| n.split(" as ").last().unwrap_or(n).trim().to_string()).filter(|n| !n.is_empty()));
            continue;
        } else {
            continue;
        };
        let root = target.split('\\').next().unwrap_or("");
        if matches!(root, "Stripe" | "Paddle") && target.contains('\\') {
            out.insert(named.unwrap_or_else(|| target.rsplit('\\').next().unwrap_or("").to_string()));
        }
    }
    out
}

/// Whether a line of code calls the provider's SDK: `Stripe.Customer.create(..)`,
/// or through one of `aliases` (`SubscriptionItemUsage.create(..)`).
pub fn calls_provider_sdk(line: &str, aliases: &std::collections::BTreeSet<String>) -> bool {
    let t = line.trim().trim_start_matches("{:ok, _} =").trim_start_matches("_ =").trim();
    let root: String = t.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
    matches!(root.as_str(), "Stripe" | "Paddle") || aliases.contains(&root)
}

/// The event read back from the provider's API (`stripe.Event.retrieve(id)`,
/// `Stripe::Event.list(...)`, `stripe.events.retrieve(id)`): what it holds came from
/// the provider itself, so it is as good as a verified signature.
pub fn is_event_fetch(call: &Call) -> bool {
    let Expr::Member(recv, method) = &call.callee else { return false };
    // `Stripe_Event::retrieve($id)` is the same call in stripe-php before namespaces.
    let legacy = squash(recv.last_name()) == "stripeevent";
    (is_provider_api(call) || legacy) && matches!(squash(method).as_str(), "retrieve" | "list") && (legacy || matches!(squash(recv.last_name()).as_str(), "event" | "events"))
}

/// A check named for what it validates (`Billing.Paddle.valid_signature?(params)`,
/// `PaddleSignature.valid?(params)`): a verification when its body is not in the
/// file; a local one is read for what it does.
pub fn is_validity_check(call: &Call) -> bool {
    let name = squash(call.callee.last_name());
    ["validsignature", "isvalidsignature"].contains(&name.as_str())
        || (["valid", "isvalid", "check", "verify"].contains(&name.as_str()) && squash(&call.callee.render()).contains("signature"))
}

/// Calls that refetch the current object from the billing API.
pub fn is_refetch(call: &Call) -> bool {
    let name = squash(call.callee.last_name());
    (name == "retrieve" || name == "retrieveasync") || (is_provider_api(call) && name == "get")
}

/// A call whose name says it changes access, when billguard cannot see its body.
/// Membership of a group, role or team that gives access: `group.add(user)`,
/// `plan_group.remove(user)`, `team.remove_member(user)`, `role.users.delete(user)`.
/// Returns the grant or revoke and the group's name.
pub fn membership_change(c: &Call) -> Option<(super::model::ValueKind, String)> {
    use super::model::ValueKind;
    let kind = match squash(c.callee.last_name()).as_str() {
        "add" | "adduser" | "addmember" | "addusers" | "addmembers" | "attach" => ValueKind::Grant,
        "remove" | "removeuser" | "removemember" | "removeusers" | "removemembers" | "detach" | "delete" => ValueKind::Revoke,
        _ => return None,
    };
    let Expr::Member(recv, _) = &c.callee else { return None };
    let group = recv.dotted().unwrap_or_default();
    let g = squash(&group);
    let names_group = ["group", "role", "team", "tier", "membership"].iter().any(|w| g.contains(w));
    let names_member = c.args.first().is_some_and(|a| ["user", "member", "customer", "account"].iter().any(|w| a.value.mentions(w)));
    (names_group && names_member).then(|| (kind, group))
}

pub fn opaque_kind(name: &str) -> Option<super::model::OpaqueKind> {
    let kind = opaque_kind_of(name);
    // WordPress-style global functions carry their plugin's prefix
    // (`pmpro_handle_subscription_cancellation_at_gateway`, `wc_update_order`): the verb follows it.
    match name.split_once('_') {
        Some((prefix, rest)) if kind.is_none() && (2..=6).contains(&prefix.len()) && prefix.chars().all(|c| c.is_ascii_lowercase()) && rest.contains('_') => {
            opaque_kind_of(rest)
        }
        _ => kind,
    }
}

fn opaque_kind_of(name: &str) -> Option<super::model::OpaqueKind> {
    use super::model::OpaqueKind;
    let s = squash(name);
    // Standard-library setters and timers (`date.setSeconds`, `setTimeout`) change no state.
    const BUILTIN: &[&str] = &[
        "settimeout", "setinterval", "setimmediate", "setseconds", "setminutes", "sethours", "setdate", "setmonth", "setfullyear",
        "setmilliseconds", "settime", "setutcseconds", "setutcminutes", "setutchours", "setutcdate", "setutcmonth", "setutcfullyear",
        "setheader", "setstatus", "setcookie", "setlevel", "setlocale", "onerror", "once", "on",
        // A mutex's lock and unlock.
        "lock", "unlock", "rlock", "runlock", "trylock",
    ];
    // An error built to be thrown (`createHttpError(404)`, `newValidationError(..)`) writes nothing.
    if BUILTIN.contains(&s.as_str()) || s.ends_with("error") || s.ends_with("exception") {
        return None;
    }
    let has = |ws: &[&str]| ws.iter().any(|w| s.contains(w));
    // `UnblockUserIfNeeded` / `BlockUser`: a blocked user has no access.
    if s.contains("unblock") {
        return Some(OpaqueKind::Grant);
    }
    if s.starts_with("block") && s.len() > 5 {
        return Some(OpaqueKind::Revoke);
    }
    if has(&["revoke", "deactivate", "downgrade", "disable", "suspend", "removeaccess", "lockout", "expireaccess", "cancelaccess", "removerole", "deleterole", "droprole", "markascanceled", "markascancelled"])
        || s == "expire"
    {
        Some(OpaqueKind::Revoke)
    } else if has(&["grant", "activate", "provision", "upgrade", "unlock", "enableaccess", "givepro", "fulfill", "addrole", "assignrole"]) {
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

const NAMED_STATUSES: &[(&str, u16)] = &[
    ("ok", 200),
    ("created", 201),
    ("accepted", 202),
    ("no_content", 204),
    ("bad_request", 400),
    ("unauthorized", 401),
    ("forbidden", 403),
    ("not_found", 404),
    ("unprocessable_entity", 422),
    ("unprocessable_content", 422),
    ("internal_server_error", 500),
    ("service_unavailable", 503),
];

/// A status written as a Ruby symbol or Elixir atom: `:bad_request`, `:ok`.
pub fn named_status(s: &str) -> Option<u16> {
    NAMED_STATUSES.iter().find(|(n, _)| *n == s).map(|(_, c)| *c)
}

/// A status code from a name such as `HTTP_400_BAD_REQUEST`, `HTTPStatus.OK`,
/// `http.StatusBadRequest` or `StatusCode::BAD_REQUEST`.
pub fn status_from_name(name: &str) -> Option<u16> {
    let digits: String = name.chars().filter(|c| c.is_ascii_digit()).collect();
    if digits.len() == 3 {
        return digits.parse().ok();
    }
    let last = name.rsplit(['.', ':']).next().unwrap_or(name);
    let lower = name.to_ascii_lowercase();
    let qualified = lower.contains("status") || lower.contains("http") || last.chars().all(|c| c.is_ascii_uppercase() || c == '_');
    if !qualified {
        return None;
    }
    let s = squash(name);
    NAMED_STATUSES.iter().find(|(n, _)| s.ends_with(&squash(n))).map(|(_, c)| *c)
}

fn number(e: &Expr) -> Option<u16> {
    match e {
        Expr::Num(n) => n.parse().ok(),
        Expr::Ident(_) | Expr::Member(..) => e.dotted().and_then(|d| status_from_name(&d)),
        Expr::Str(s) => named_status(s),
        _ => None,
    }
}

/// Calls whose arguments carry the status: `res.status(400)`, `http.Error(w, msg, 400)`,
/// `c.JSON(http.StatusOK, ...)`, `send_resp(conn, 400, "")`, `head :bad_request`,
/// `response('...', 200)`, `http_response_code(400)`, Koa's `ctx.throw(400, msg)`.
const STATUS_ARG_CALLS: &[&str] = &[
    "status", "sendstatus", "abort", "throw", "writehead", "writeheader", "head", "sendresp", "putstatus", "abortwithstatus",
    "abortwithstatusjson", "httpresponsecode", "error", "response", "json", "string", "resp", "statusheader",
    "wpsendjsonerror", "wpsendjsonsuccess", "wpsendjson",
];

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
                let error_call = name == "error" && receiver_root(&c.callee).is_none_or(|r| r != "http");
                if STATUS_ARG_CALLS.contains(&name.as_str()) && !error_call {
                    found = c.args.iter().filter(|a| a.name.is_none()).find_map(|a| number(&a.value));
                }
                for a in &c.args {
                    if matches!(a.name.as_deref(), Some("status" | "status_code")) {
                        found = found.or_else(|| number(&a.value));
                    }
                }
                if found.is_none() {
                    // The status named by a response helper: `responseInternalServerError(c)`, `responseNoContent(c, ..)`.
                    let named = [
                        ("badrequest", 400),
                        ("servererror", 500),
                        ("notfound", 404),
                        ("forbidden", 403),
                        ("unauthorized", 401),
                        ("unprocessable", 422),
                        ("serviceunavailable", 503),
                        ("nocontent", 204),
                    ];
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
            // A returned status constant: `StatusCode::BAD_REQUEST`, `Err(StatusCode::...)`.
            Expr::Member(..) => {
                let d = x.dotted().unwrap_or_default();
                if squash(&d).starts_with("statuscode.") || squash(&d).starts_with("httpstatus.") {
                    found = status_from_name(&d);
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
        // Rust: a handler returning `Err(...)` without a status answers 5xx.
        Expr::Call(c) if matches!(&c.callee, Expr::Ident(n) if n == "Err") => Status::Raises,
        // A status's own name handed back to a caller that maps it (`return "internal_server_error"`).
        Expr::Str(name) if named_status(name).is_some() => match named_status(name) {
            Some(c) if c < 300 => Status::Ok(c),
            Some(c) => Status::Error(c),
            None => Status::Unknown,
        },
        Expr::Object(_) | Expr::Str(_) => Status::Ok(200),
        Expr::Call(c) if is_response(c) => Status::Ok(200),
        // Rust: `Ok(ok("captured", None))`, `Ok(StatusCode::OK)`: what the `Ok` holds.
        Expr::Call(c) if matches!(&c.callee, Expr::Ident(n) if n == "Ok") => match c.args.first().map(|a| &a.value) {
            Some(inner @ Expr::Call(_)) if success_helper(inner) => Status::Ok(200),
            Some(inner) => status_of_return(Some(inner)),
            None => Status::Unknown,
        },
        e @ Expr::Call(_) if success_helper(e) => Status::Ok(200),
        _ => Status::Unknown,
    }
}

/// An app's helper named for a success answer: `ok(..)`, `success(..)`, `accepted()`.
fn success_helper(e: &Expr) -> bool {
    matches!(e, Expr::Call(c) if matches!(&c.callee, Expr::Ident(_)) && ["ok", "success", "accepted", "nocontent", "okresponse", "successresponse"].contains(&squash(c.callee.last_name()).as_str()))
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
    let http_error = name == "error" && root == "http";
    ["res", "response", "reply", "ctx", "c", "w", "httpresponse", "conn"].contains(&root.as_str())
        || http_error
        || [
            "response", "nextresponse", "json", "send", "sendstatus", "jsonify", "httpresponse", "jsonresponse", "plaintextresponse", "end",
            "makeresponse", "abort", "httpresponsebadrequest", "httpresponseservererror", "text", "head", "render", "sendresp", "putstatus",
            "httpresponsecode", "abortwithstatus", "abortwithstatusjson", "writeheader",
            // WordPress: `status_header( 200 ); exit;`, `wp_send_json_error( $data, 500 )` (200 without a status).
            "statusheader", "wpsendjsonerror", "wpsendjsonsuccess", "wpsendjson",
        ]
        .contains(&name.as_str())
}

/// A response call that also ends the handler, as a throw does: `abort(400)`
/// (Flask, Laravel), Koa's `ctx.throw(400, msg)`.
pub fn response_ends_handler(c: &Call) -> bool {
    let name = squash(c.callee.last_name());
    name == "abort" || name.starts_with("wpsendjson") || (name == "throw" && receiver_root(&c.callee).is_some_and(|r| matches!(r.to_ascii_lowercase().as_str(), "ctx" | "context" | "this")))
}

/// Calls that parse a request body into data without verifying it:
/// `JSON.parse`, `json.loads`, `Jason.decode!`, `json_decode`, `serde_json::from_str`.
pub fn is_body_parse(call: &Call) -> bool {
    let d = call.callee.dotted().unwrap_or_default();
    let name = squash(call.callee.last_name());
    matches!(d.as_str(), "JSON.parse" | "json.loads" | "json.load" | "Jason.decode" | "Poison.decode" | "JSON.decode" | "json.Unmarshal" | "Stripe.Event.construct_from" | "Stripe::Event.construct_from")
        || d.ends_with(".get_json")
        || name == "jsondecode"
        || name == "constructfrom"
        || (d.starts_with("serde_json.") && name.starts_with("from"))
}

/// Calls that re-serialize parsed data: what a signature can never match.
pub fn is_reserialize(call: &Call) -> bool {
    let name = squash(call.callee.last_name());
    let root = receiver_root(&call.callee).map(|r| squash(&r)).unwrap_or_default();
    let json_root = ["json", "serdejson", "jason", "poison"].contains(&root.as_str());
    ["stringify", "dumps", "tojson", "jsonencode"].contains(&name.as_str())
        || (json_root && ["tostring", "tovec", "encode", "generate", "marshal", "dump", "encodetostring"].contains(&name.as_str()))
}

/// Calls that set attributes to be saved by the call around them:
/// `forceFill([...])`, `assign_attributes(...)`, Ecto `change(user, ...)`, `changeset(user, %{...})`.
pub fn is_attribute_setter(call: &Call) -> bool {
    let name = squash(call.callee.last_name());
    ["fill", "forcefill", "assignattributes", "attributes", "change", "changeset", "cast", "updatechangeset", "merge", "putchange", "forcechange"].contains(&name.as_str())
        || name.ends_with("changeset")
}

/// Settings that make a library verify every event before the handler sees it:
/// `StripeEvent.signing_secret = ...` (stripe_event gem).
pub fn library_verification(target: &str) -> Option<&'static str> {
    match target {
        "StripeEvent.signing_secret" | "StripeEvent.signing_secrets" => Some("StripeEvent engine (signing_secret)"),
        _ => None,
    }
}

/// Constant-time comparisons: what a hand-rolled HMAC check ends with.
/// A computed signature looked for in the header by a pattern, as WooCommerce does:
/// `preg_match('/,v\d+=' . preg_quote($expected_signature, '/') . '/', $signatures)`.
pub fn is_pattern_compare(call: &Call) -> bool {
    squash(call.callee.last_name()) == "pregmatch"
        && call.args.first().is_some_and(|a| {
            let mut quoted = false;
            a.value.walk(&mut |x| {
                if let Expr::Call(q) = x {
                    quoted |= squash(q.callee.last_name()) == "pregquote" && q.args.iter().any(|a| ["signature", "hmac", "digest"].iter().any(|w| a.value.mentions(w)));
                }
            });
            quoted
        })
}

pub fn is_constant_time_compare(call: &Call) -> bool {
    let name = squash(call.callee.last_name());
    ["timingsafeequal", "comparedigest", "hashequals", "securecompare", "fixedlengthsecurecompare", "constanttimecompare", "verifyslice", "constanttimeeq"]
        .contains(&name.as_str())
        || call.callee.dotted().as_deref() == Some("hmac.Equal")
}

/// The event type a dispatch label names: a string literal, or a constant or
/// method-derived name (`InvoicePaid`, `EventName.SubscriptionCanceled`).
pub fn event_label(e: &Expr) -> Option<String> {
    match e {
        Expr::Str(s) if is_event_type(s) => Some(s.clone()),
        Expr::Ident(_) | Expr::Member(..) => event_from_name(e.last_name()).map(String::from),
        _ => None,
    }
}

/// The event types a pattern names: a regex literal (`/^customer\.subscription\./`,
/// Ruby `when`, JS `.test`, `=~`) or a prefix (`type.startsWith('customer.subscription.')`):
/// the known types it matches. Nothing when it matches none, or every one (`/.*/`).
pub fn events_matching(pattern: &Expr) -> Vec<String> {
    events_matching_as(pattern, false)
}

/// async-stripe's `EventObject::Subscription(s)` arm: the event's object is a
/// subscription, so the subscription events an app subscribes to reach it (not every
/// `customer.subscription.*` Stripe has).
pub fn events_of_object(pattern: &Expr) -> Vec<String> {
    let Expr::Member(o, kind) = pattern else { return Vec::new() };
    if o.last_name() != "EventObject" {
        return Vec::new();
    }
    let events: &[&str] = match squash(kind).as_str() {
        "subscription" => &["customer.subscription.created", "customer.subscription.updated", "customer.subscription.deleted"],
        "invoice" => &["invoice.paid", "invoice.payment_succeeded", "invoice.payment_failed"],
        "checkoutsession" => &["checkout.session.completed"],
        "paymentintent" => &["payment_intent.succeeded", "payment_intent.payment_failed"],
        _ => &[],
    };
    events.iter().map(|e| e.to_string()).collect()
}

/// [`events_matching`] for a pattern tested against the event's type or name itself
/// (`name.match(/checkout/)`): a plain word of 6 letters or more names the types holding it.
/// Where it fits both, Stripe's types are meant (`/subscription/` is `customer.subscription.*`).
pub fn events_matching_type(pattern: &Expr) -> Vec<String> {
    let hits = events_matching_as(pattern, true);
    let paddle = |e: &String| ["subscription.", "transaction.", "adjustment."].iter().any(|p| e.starts_with(p));
    if hits.iter().any(|e| !paddle(e)) { hits.into_iter().filter(|e| !paddle(e)).collect() } else { hits }
}

fn events_matching_as(pattern: &Expr, word_ok: bool) -> Vec<String> {
    let Expr::Other(text) = pattern else { return Vec::new() };
    let text = text.trim();
    let Some(body) = text.strip_prefix('/') else { return Vec::new() };
    let Some((inner, flags)) = body.rsplit_once('/') else { return Vec::new() };
    let word = word_ok && inner.len() >= 6 && inner.chars().all(|c| c.is_ascii_lowercase() || c == '_');
    if inner.is_empty() || !flags.chars().all(|c| c.is_ascii_alphabetic()) || !(inner.contains('.') || word) {
        return Vec::new();
    }
    let insensitive = if flags.contains('i') { "(?i)" } else { "" };
    let Ok(re) = regex::Regex::new(&format!("{insensitive}{inner}")) else { return Vec::new() };
    let hits: Vec<String> = KNOWN_EVENTS.iter().filter(|e| re.is_match(e)).map(|e| e.to_string()).collect();
    if hits.len() == KNOWN_EVENTS.len() { Vec::new() } else { hits }
}

/// The known event types starting with `prefix` (`customer.subscription.`), when it is
/// a prefix of a dotted event type.
pub fn events_with_prefix(prefix: &str) -> Vec<String> {
    if !prefix.contains('.') || prefix.len() < 5 {
        return Vec::new();
    }
    KNOWN_EVENTS.iter().filter(|e| e.starts_with(prefix) && e.len() > prefix.len()).map(|e| e.to_string()).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_event_stripe_never_sends_is_told_from_real_ones() {
        assert!(never_sent("customer.subscription.cancelled"));
        assert!(never_sent("checkout.session.succeeded"));
        assert!(!never_sent("customer.subscription.deleted"));
        assert!(!never_sent("checkout.session.async_payment_failed"));
        // Other families are open (not every Stripe event is listed) or another provider's.
        assert!(!never_sent("invoice.created"));
        assert!(!never_sent("subscription_cancelled"));
    }

    use super::*;

    #[test]
    fn a_returned_status_name_is_that_status_and_other_text_a_200_body() {
        assert_eq!(status_of_return(Some(&Expr::Str("internal_server_error".into()))), Status::Error(500));
        assert_eq!(status_of_return(Some(&Expr::Str("ok".into()))), Status::Ok(200));
        assert_eq!(status_of_return(Some(&Expr::Str("Webhook received".into()))), Status::Ok(200));
    }

    #[test]
    fn a_document_field_path_is_no_event_type() {
        assert!(is_event_type("subscription.updated"));
        assert!(is_event_type("customer.subscription.deleted"));
        assert!(is_event_type("subscription.past_due"));
        assert!(!is_event_type("subscription.status"));
        assert!(!is_event_type("customer.email"));
        assert!(!is_event_type("subscription.active"));
    }

    #[test]
    fn blocking_calls_move_access_and_a_mutex_does_not() {
        use super::super::model::OpaqueKind;
        assert_eq!(opaque_kind("BlockUser"), Some(OpaqueKind::Revoke));
        assert_eq!(opaque_kind("UnblockUserIfNeeded"), Some(OpaqueKind::Grant));
        for mutex in ["Unlock", "RUnlock", "Lock"] {
            assert_eq!(opaque_kind(mutex), None, "{mutex}");
        }
        assert_eq!(opaque_kind("block"), None, "a bare `block` names no account");
    }

    #[test]
    fn a_plugin_prefix_before_the_verb_is_skipped() {
        use super::super::model::OpaqueKind;
        assert_eq!(opaque_kind("pmpro_handle_subscription_cancellation_at_gateway"), Some(OpaqueKind::Write));
        assert_eq!(opaque_kind("wc_deactivate_membership"), Some(OpaqueKind::Revoke));
        assert_eq!(opaque_kind("pmpro_get_order"), None);
    }

    #[test]
    fn paddle_classic_alert_names_are_events_and_other_snake_words_are_not() {
        assert!(is_event_type("subscription_cancelled"));
        assert!(is_event_type("subscription_payment_succeeded"));
        assert!(!is_event_type("subscription_plan"));
        assert!(!is_event_type("user_created"));
        assert_eq!(event_from_name("handle_subscription_payment_succeeded".trim_start_matches("handle_")), Some("subscription_payment_succeeded"));
        // Written as is, an alert name is the alert; spelled another way it is the Paddle Billing event.
        assert_eq!(event_from_name("subscription_created"), Some("subscription_created"));
        assert_eq!(event_from_name("SubscriptionCreated"), Some("subscription.created"));
    }

    #[test]
    fn a_provider_module_called_through_an_alias_is_the_provider_not_app_state() {
        let ex = provider_aliases("  alias Logflare.Billing\n  alias Stripe.SubscriptionItem.Usage, as: SubscriptionItemUsage\n  alias Stripe.Customer\n");
        assert_eq!(ex.iter().map(String::as_str).collect::<Vec<_>>(), ["Customer", "SubscriptionItemUsage"]);
        assert!(calls_provider_sdk("    SubscriptionItemUsage.create(subscription_item_id, params)", &ex));
        assert!(calls_provider_sdk("Stripe.Subscription.update(id, params)", &ex));
        assert!(!calls_provider_sdk("    Billing.update_billing_account(account, params)", &ex));
        let php = provider_aliases("use Stripe\\Subscription as StripeSubscription;\nuse App\\Models\\Subscription;\n");
        assert!(php.contains("StripeSubscription") && !php.contains("Subscription"));
        assert!(provider_aliases("from stripe import Subscription, Customer as C\n").contains("C"));
    }

    #[test]
    fn a_paid_invoice_flag_decides_access_but_amounts_and_dates_do_not() {
        assert!(is_access_field("stripe_invoice_paid", &[]));
        assert!(is_access_field("invoicePaid", &[]));
        for quiet in ["amount_paid", "invoice_paid_at", "invoice_paid_count", "last_invoice_id"] {
            assert!(!is_access_field(quiet, &[]), "{quiet}");
        }
    }
}
