//! An in-test billing API on 127.0.0.1: Stripe's subscription list (status,
//! `created` filters, `starting_after` cursors, test clocks) and Paddle's
//! (`per_page`, `after`, `meta.pagination.next`), with scripted faults
//! (429 with Retry-After, 5xx with or without Stripe-Should-Retry, slow
//! responses, truncated bodies, dropped connections, 401 and 403).
//!
//! It runs on its own thread and runtime, so blocking tests can drive the
//! billguard binary against it, and stops (every connection dropped) when the
//! [`Emulator`] is dropped. It counts requests in flight, so that tests can
//! see concurrency and cancellation.
// Each test uses part of it; handlers answer early with a full Response.
#![allow(dead_code, clippy::result_large_err)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

/// One Stripe subscription, as the emulator stores it.
#[derive(Debug, Clone)]
pub struct StripeSub {
    pub id: String,
    pub customer: String,
    pub status: String,
    pub price: String,
    pub created: i64,
    pub test_clock: Option<String>,
}

/// One Paddle subscription.
#[derive(Debug, Clone)]
pub struct PaddleSub {
    pub id: String,
    pub customer: String,
    pub status: String,
    pub price: String,
}

/// What a request matching a rule gets instead of (or before) its answer.
#[derive(Debug, Clone)]
pub enum Fault {
    /// An error status with headers and a JSON body.
    Status { status: u16, headers: Vec<(&'static str, String)>, body: String },
    /// Waits this long, then answers normally.
    Delay(Duration),
    /// A complete response whose JSON body is cut in half (Content-Length matches).
    Truncated,
    /// Sends half of the body, then drops the connection.
    Drop,
    /// A 200 whose body never ends (1 MiB chunks of spaces after an opening brace).
    Endless,
    /// A 200 with this body instead of the real page (scripted pagination).
    Replace(String),
}

impl Fault {
    pub fn too_many_requests(retry_after: &str) -> Fault {
        Fault::Status {
            status: 429,
            headers: vec![("retry-after", retry_after.to_string())],
            body: stripe_error("Too many requests hit the API too quickly.", "rate_limit_error"),
        }
    }
    pub fn server_error(status: u16) -> Fault {
        Fault::Status { status, headers: vec![], body: stripe_error("An unknown error occurred", "api_error") }
    }
    /// A 500 that Stripe says must not be retried.
    pub fn server_error_no_retry() -> Fault {
        Fault::Status {
            status: 500,
            headers: vec![("stripe-should-retry", "false".into())],
            body: stripe_error("An idempotent retry would not help here.", "api_error"),
        }
    }
}

struct Rule {
    matching: String,
    fault: Fault,
    remaining: usize,
}

/// What every request saw, for assertions.
#[derive(Debug, Clone)]
pub struct Seen {
    /// Path and query, e.g. `/v1/subscriptions?status=all&limit=100`.
    pub target: String,
    pub authorization: Option<String>,
    pub paddle_version: Option<String>,
}

pub struct Data {
    /// Newest first, ties by position: Stripe's list order.
    stripe: Vec<StripeSub>,
    stripe_json: Vec<String>,
    stripe_index: HashMap<String, usize>,
    clocks: Vec<String>,
    /// Ascending id: Paddle's default order.
    paddle: Vec<PaddleSub>,
    paddle_json: Vec<String>,
}

pub struct Shared {
    data: Data,
    key: String,
    base: Mutex<String>,
    latency: Mutex<Duration>,
    rules: Mutex<Vec<Rule>>,
    /// A permission the key lacks: 403 naming it (Stripe) or `forbidden` (Paddle).
    denied: Mutex<Option<String>>,
    /// Ignore `created` filters, as a server with overlapping windows would.
    ignore_created: Mutex<bool>,
    pub seen: Mutex<Vec<Seen>>,
    pub in_flight: AtomicUsize,
    pub max_in_flight: AtomicUsize,
}

pub struct Emulator {
    /// `http://127.0.0.1:PORT`
    pub base: String,
    pub shared: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Emulator {
    /// Serves `stripe` and `paddle` subscriptions to requests authorized with `key`.
    pub fn start(key: &str, stripe: Vec<StripeSub>, paddle: Vec<PaddleSub>) -> Emulator {
        let data = Data::new(stripe, paddle);
        let shared = Arc::new(Shared {
            data,
            key: key.to_string(),
            base: Mutex::new(String::new()),
            latency: Mutex::new(Duration::ZERO),
            rules: Mutex::new(Vec::new()),
            denied: Mutex::new(None),
            ignore_created: Mutex::new(false),
            seen: Mutex::new(Vec::new()),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
        });
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        listener.set_nonblocking(true).unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        *shared.base.lock().unwrap() = base.clone();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let app = axum::Router::new()
            .route("/v1/subscriptions", get(stripe_list))
            .route("/v1/test_helpers/test_clocks", get(stripe_clocks))
            .route("/subscriptions", get(paddle_list))
            .with_state(Arc::clone(&shared));
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                tokio::select! {
                    _ = axum::serve(listener, app) => {}
                    _ = stopped => {}
                }
            });
            // Dropping the runtime drops every connection still open.
        });
        Emulator { base, shared, stop: Some(stop), thread: Some(thread) }
    }

    /// Latency added to every response.
    pub fn set_latency(&self, latency: Duration) {
        *self.shared.latency.lock().unwrap() = latency;
    }

    /// The next `times` requests whose path and query contain `matching` get `fault`.
    pub fn inject(&self, matching: &str, fault: Fault, times: usize) {
        self.shared.rules.lock().unwrap().push(Rule { matching: matching.to_string(), fault, remaining: times });
    }

    /// The key lacks `permission`: every request is refused with 403.
    pub fn deny(&self, permission: &str) {
        *self.shared.denied.lock().unwrap() = Some(permission.to_string());
    }

    pub fn ignore_created_filters(&self) {
        *self.shared.ignore_created.lock().unwrap() = true;
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.shared.seen.lock().unwrap().clone()
    }

    pub fn in_flight(&self) -> usize {
        self.shared.in_flight.load(Ordering::SeqCst)
    }

    pub fn max_in_flight(&self) -> usize {
        self.shared.max_in_flight.load(Ordering::SeqCst)
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Data {
    fn new(mut stripe: Vec<StripeSub>, mut paddle: Vec<PaddleSub>) -> Data {
        // Stable sort: equal timestamps keep their given order, as a cursor needs.
        stripe.sort_by_key(|s| std::cmp::Reverse(s.created));
        let stripe_json = stripe.iter().map(stripe_json).collect();
        let stripe_index = stripe.iter().enumerate().map(|(i, s)| (s.id.clone(), i)).collect();
        let mut clocks: Vec<String> = stripe.iter().filter_map(|s| s.test_clock.clone()).collect();
        clocks.sort();
        clocks.dedup();
        paddle.sort_by(|a, b| a.id.cmp(&b.id));
        let paddle_json = paddle.iter().map(paddle_json).collect();
        Data { stripe, stripe_json, stripe_index, clocks, paddle, paddle_json }
    }
}

/// Counts a request in flight until the response is sent or the client goes away.
struct InFlight(Arc<Shared>);

impl InFlight {
    fn enter(shared: &Arc<Shared>) -> InFlight {
        let now = shared.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        shared.max_in_flight.fetch_max(now, Ordering::SeqCst);
        InFlight(Arc::clone(shared))
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

type Params = Vec<(String, String)>;

fn param<'a>(params: &'a Params, name: &str) -> Option<&'a str> {
    params.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

fn stripe_error(message: &str, kind: &str) -> String {
    json!({"error": {"message": message, "type": kind}}).to_string()
}

fn json_response(status: StatusCode, body: String) -> Response {
    (status, [("content-type", "application/json")], body).into_response()
}

/// Every handler's start: counts the request in flight (until the returned
/// guard drops), records it, waits the latency and applies a matching fault.
/// Err is the response to send instead of the normal one; Ok carries a body fault.
async fn prologue(shared: &Arc<Shared>, uri: &Uri, headers: &HeaderMap) -> Result<(InFlight, Option<Fault>), Response> {
    let guard = InFlight::enter(shared);
    let fault = prologue_fault(shared, uri, headers).await?;
    Ok((guard, fault))
}

/// [`prologue`] for Stripe's endpoints: also checks the key and its permissions.
async fn stripe_prologue(shared: &Arc<Shared>, uri: &Uri, headers: &HeaderMap) -> Result<(InFlight, Option<Fault>), Response> {
    let started = prologue(shared, uri, headers).await?;
    stripe_auth(shared, headers)?;
    Ok(started)
}

async fn prologue_fault(shared: &Shared, uri: &Uri, headers: &HeaderMap) -> Result<Option<Fault>, Response> {
    let target = uri.path_and_query().map(|p| p.as_str().to_string()).unwrap_or_default();
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
    shared.seen.lock().unwrap().push(Seen {
        target: target.clone(),
        authorization: header("authorization"),
        paddle_version: header("paddle-version"),
    });
    let latency = *shared.latency.lock().unwrap();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let fault = {
        let mut rules = shared.rules.lock().unwrap();
        rules.iter_mut().find(|r| r.remaining > 0 && target.contains(&r.matching)).map(|r| {
            r.remaining -= 1;
            r.fault.clone()
        })
    };
    match fault {
        Some(Fault::Status { status, headers, body }) => {
            let mut response = json_response(StatusCode::from_u16(status).unwrap(), body);
            for (k, v) in headers {
                response.headers_mut().insert(k, v.parse().unwrap());
            }
            Err(response)
        }
        Some(Fault::Delay(d)) => {
            tokio::time::sleep(d).await;
            Ok(None)
        }
        other => Ok(other),
    }
}

/// Applies a body fault to a normal response body.
fn deliver(body: String, fault: Option<Fault>) -> Response {
    match fault {
        Some(Fault::Truncated) => {
            let half = body.len() / 2;
            json_response(StatusCode::OK, body[..half].to_string())
        }
        Some(Fault::Drop) => {
            let half = Bytes::from(body.into_bytes()).slice(..);
            let first = half.slice(..half.len() / 2);
            let stream = futures_util::stream::iter(vec![
                Ok::<Bytes, std::io::Error>(first),
                Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "dropped by the emulator")),
            ]);
            (StatusCode::OK, [("content-type", "application/json")], Body::from_stream(stream)).into_response()
        }
        Some(Fault::Endless) => {
            let chunk = Bytes::from(vec![b' '; 1 << 20]);
            let stream = futures_util::stream::iter(std::iter::once(Bytes::from_static(b"{")).chain(std::iter::repeat(chunk)).map(Ok::<Bytes, std::io::Error>));
            (StatusCode::OK, [("content-type", "application/json")], Body::from_stream(stream)).into_response()
        }
        Some(Fault::Replace(text)) => json_response(StatusCode::OK, text),
        _ => json_response(StatusCode::OK, body),
    }
}

fn masked(key: &str) -> String {
    let prefix: String = key.chars().take(8).collect();
    let tail: String = key.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
    format!("{prefix}****{tail}")
}

fn stripe_auth(shared: &Shared, headers: &HeaderMap) -> Result<(), Response> {
    let given = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("");
    let key = given.strip_prefix("Bearer ").unwrap_or("");
    if key != shared.key {
        let message = format!("Invalid API Key provided: {}", masked(key));
        return Err(json_response(StatusCode::UNAUTHORIZED, stripe_error(&message, "invalid_request_error")));
    }
    if let Some(permission) = shared.denied.lock().unwrap().clone() {
        let message = format!(
            "The provided key '{}' does not have the required permissions for this endpoint on account 'acct_1Emu'. \
             Having the '{permission}' permission would allow this request to continue.",
            masked(key)
        );
        return Err(json_response(StatusCode::FORBIDDEN, stripe_error(&message, "invalid_request_error")));
    }
    Ok(())
}

const STRIPE_PARAMS: &[&str] =
    &["status", "limit", "starting_after", "created[gte]", "created[lte]", "created[gt]", "created[lt]", "test_clock"];

async fn stripe_list(State(shared): State<Arc<Shared>>, uri: Uri, headers: HeaderMap, Query(params): Query<Params>) -> Response {
    let (_in_flight, fault) = match stripe_prologue(&shared, &uri, &headers).await {
        Ok(started) => started,
        Err(r) => return r,
    };
    if let Some((k, _)) = params.iter().find(|(k, _)| !STRIPE_PARAMS.contains(&k.as_str())) {
        return json_response(StatusCode::BAD_REQUEST, stripe_error(&format!("Received unknown parameter: {k}"), "invalid_request_error"));
    }
    let limit: usize = param(&params, "limit").map_or(10, |l| l.parse().unwrap_or(0));
    if !(1..=100).contains(&limit) {
        return json_response(StatusCode::BAD_REQUEST, stripe_error("Invalid integer: limit", "invalid_request_error"));
    }
    let num = |name: &str| param(&params, name).and_then(|v| v.parse::<i64>().ok());
    let ignore_created = *shared.ignore_created.lock().unwrap();
    let (lo, hi) = if ignore_created {
        (i64::MIN, i64::MAX)
    } else {
        let lo = num("created[gte]").or(num("created[gt]").map(|v| v + 1)).unwrap_or(i64::MIN);
        let hi = num("created[lte]").or(num("created[lt]").map(|v| v - 1)).unwrap_or(i64::MAX);
        (lo, hi)
    };
    let data = &shared.data;
    // Newest first: the window is one contiguous run.
    let start = data.stripe.partition_point(|s| s.created > hi);
    let end = data.stripe.partition_point(|s| s.created >= lo);
    let mut from = start;
    if let Some(after) = param(&params, "starting_after") {
        match data.stripe_index.get(after) {
            Some(&pos) => from = from.max(pos + 1),
            None => {
                let message = format!("No such subscription: '{after}'");
                return json_response(StatusCode::NOT_FOUND, stripe_error(&message, "invalid_request_error"));
            }
        }
    }
    let status = param(&params, "status");
    let clock = param(&params, "test_clock");
    let mut picked = Vec::with_capacity(limit + 1);
    for i in from..end.max(from) {
        let s = &data.stripe[i];
        let status_ok = match status {
            None => !matches!(s.status.as_str(), "canceled" | "incomplete_expired"),
            Some("all") => true,
            Some(wanted) => s.status == wanted,
        };
        if status_ok && s.test_clock.as_deref() == clock {
            picked.push(i);
            if picked.len() > limit {
                break;
            }
        }
    }
    let has_more = picked.len() > limit;
    picked.truncate(limit);
    let items: Vec<&str> = picked.iter().map(|&i| data.stripe_json[i].as_str()).collect();
    let body = format!(r#"{{"object":"list","url":"/v1/subscriptions","has_more":{has_more},"data":[{}]}}"#, items.join(","));
    deliver(body, fault)
}

async fn stripe_clocks(State(shared): State<Arc<Shared>>, uri: Uri, headers: HeaderMap, Query(params): Query<Params>) -> Response {
    let (_in_flight, fault) = match stripe_prologue(&shared, &uri, &headers).await {
        Ok(started) => started,
        Err(r) => return r,
    };
    let clocks = &shared.data.clocks;
    let from = param(&params, "starting_after").and_then(|a| clocks.iter().position(|c| c == a)).map_or(0, |p| p + 1);
    let limit: usize = param(&params, "limit").map_or(10, |l| l.parse().unwrap_or(10));
    let page: Vec<_> = clocks.iter().skip(from).take(limit).collect();
    let has_more = from + page.len() < clocks.len();
    let data: Vec<_> = page
        .iter()
        .map(|id| json!({"id": id, "object": "test_helpers.test_clock", "created": 1_700_000_000, "frozen_time": 1_700_000_000, "livemode": false, "status": "ready"}))
        .collect();
    deliver(json!({"object": "list", "url": "/v1/test_helpers/test_clocks", "has_more": has_more, "data": data}).to_string(), fault)
}

fn paddle_error(status: StatusCode, code: &str, detail: &str) -> Response {
    let body = json!({"error": {"type": "request_error", "code": code, "detail": detail,
        "documentation_url": format!("https://developer.paddle.com/errors/shared/{code}")}, "meta": {"request_id": "emu"}});
    json_response(status, body.to_string())
}

async fn paddle_list(State(shared): State<Arc<Shared>>, uri: Uri, headers: HeaderMap, Query(params): Query<Params>) -> Response {
    let (_in_flight, fault) = match prologue(&shared, &uri, &headers).await {
        Ok(started) => started,
        Err(r) => return r,
    };
    let given = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("");
    if given.strip_prefix("Bearer ") != Some(shared.key.as_str()) {
        return paddle_error(StatusCode::FORBIDDEN, "invalid_token", "Invalid or revoked API key.");
    }
    if shared.denied.lock().unwrap().is_some() {
        return paddle_error(StatusCode::FORBIDDEN, "forbidden", "You aren't permitted to perform this request.");
    }
    if headers.get("paddle-version").and_then(|v| v.to_str().ok()) != Some("1") {
        return paddle_error(StatusCode::BAD_REQUEST, "invalid_version", "Paddle-Version 1 expected by this emulator.");
    }
    let per_page: usize = param(&params, "per_page").map_or(50, |p| p.parse().unwrap_or(0));
    if !(1..=200).contains(&per_page) {
        return paddle_error(StatusCode::BAD_REQUEST, "invalid_field", "per_page must be between 1 and 200");
    }
    let data = &shared.data;
    let from = param(&params, "after").map_or(0, |a| data.paddle.partition_point(|s| s.id.as_str() <= a));
    let to = (from + per_page).min(data.paddle.len());
    let has_more = to < data.paddle.len();
    let items: Vec<&str> = data.paddle_json[from..to].iter().map(String::as_str).collect();
    let last = data.paddle[..to].last().map_or(String::new(), |s| s.id.clone());
    let base = shared.base.lock().unwrap().clone();
    let next = format!("{base}/subscriptions?after={last}&per_page={per_page}");
    let meta = json!({"request_id": "emu", "pagination": {"per_page": per_page, "next": next, "has_more": has_more,
        "estimated_total": data.paddle.len()}});
    deliver(format!(r#"{{"data":[{}],"meta":{meta}}}"#, items.join(",")), fault)
}

/// A Subscription as the 2025+ API shapes it (periods on the item), with the
/// fields a real one carries, so that parsing costs what it costs for real.
fn stripe_json(s: &StripeSub) -> String {
    let canceled = s.status == "canceled";
    json!({
        "id": s.id, "object": "subscription", "application": null, "application_fee_percent": null,
        "automatic_tax": {"enabled": false, "liability": null}, "billing_cycle_anchor": s.created,
        "cancel_at": null, "cancel_at_period_end": false, "canceled_at": if canceled { Some(s.created + 86_400) } else { None },
        "collection_method": "charge_automatically", "created": s.created, "currency": "usd", "customer": s.customer,
        "days_until_due": null, "default_payment_method": "pm_1Emu", "description": null, "discounts": [],
        "ended_at": if canceled { Some(s.created + 86_400) } else { None },
        "items": {"object": "list", "data": [{
            "id": format!("si_{}", &s.id[4..]), "object": "subscription_item", "created": s.created,
            "current_period_end": s.created + 30 * 86_400, "current_period_start": s.created, "metadata": {},
            "price": {"id": s.price, "object": "price", "active": true, "billing_scheme": "per_unit", "currency": "usd",
                "livemode": false, "lookup_key": null, "metadata": {}, "nickname": null, "product": "prod_Emu",
                "recurring": {"interval": "month", "interval_count": 1, "usage_type": "licensed"},
                "tax_behavior": "unspecified", "type": "recurring", "unit_amount": 2000},
            "quantity": 1, "subscription": s.id, "tax_rates": []}],
            "has_more": false, "total_count": 1, "url": format!("/v1/subscription_items?subscription={}", s.id)},
        "latest_invoice": format!("in_{}", &s.id[4..]), "livemode": false, "metadata": {}, "pause_collection": null,
        "start_date": s.created, "status": s.status, "test_clock": s.test_clock, "trial_end": null, "trial_start": null
    })
    .to_string()
}

fn paddle_json(s: &PaddleSub) -> String {
    json!({
        "id": s.id, "status": s.status, "customer_id": s.customer, "address_id": "add_01emu", "business_id": null,
        "currency_code": "USD", "created_at": "2024-04-12T10:18:47.635628Z", "updated_at": "2024-04-12T10:18:48.294633Z",
        "started_at": "2024-04-12T10:18:47.635628Z", "first_billed_at": "2024-04-12T10:18:47.635628Z",
        "next_billed_at": "2024-05-12T10:18:47.635628Z", "paused_at": null, "canceled_at": null, "collection_mode": "automatic",
        "billing_details": null,
        "current_billing_period": {"starts_at": "2024-04-12T10:18:47.635628Z", "ends_at": "2024-05-12T10:18:47.635628Z"},
        "billing_cycle": {"frequency": 1, "interval": "month"}, "scheduled_change": null,
        "items": [{"status": "active", "quantity": 1, "recurring": true, "price": {"id": s.price, "product_id": "pro_01emu",
            "description": "Monthly", "unit_price": {"amount": "2000", "currency_code": "USD"}}}],
        "custom_data": null, "management_urls": {"update_payment_method": null, "cancel": "https://example.com/cancel"}
    })
    .to_string()
}

/// `n` Stripe subscriptions: created over `span` seconds up to `newest`, three
/// to a second where the span allows (ties exercise the cursor), one in ten
/// canceled, one in twenty past_due, one in fifty trialing, the rest active.
pub fn stripe_subs(n: usize, newest: i64, span: i64) -> Vec<StripeSub> {
    (0..n)
        .map(|i| {
            let status = match i % 100 {
                x if x % 10 == 3 => "canceled",
                x if x % 20 == 7 => "past_due",
                x if x % 50 == 9 => "trialing",
                _ => "active",
            };
            StripeSub {
                id: format!("sub_{i:08}"),
                customer: format!("cus_{i:08}"),
                status: status.into(),
                price: if i % 4 == 0 { "price_team".into() } else { "price_pro".into() },
                created: newest - (i as i64 / 3) * span.max(1) / (n as i64 / 3).max(1),
                test_clock: None,
            }
        })
        .collect()
}

/// `db/users.json` rows consistent with `subs`: one user per customer, access
/// iff active or trialing, plan from the price.
pub fn users_for(subs: &[StripeSub]) -> Vec<serde_json::Value> {
    subs.iter()
        .enumerate()
        .map(|(i, s)| {
            let access = matches!(s.status.as_str(), "active" | "trialing");
            let plan = if s.price == "price_team" { "team" } else { "pro" };
            json!({"id": format!("u{i}"), "stripe_customer_id": s.customer, "has_paid_access": access,
                   "plan": if access { plan } else { "free" }})
        })
        .collect()
}

/// `n` Paddle subscriptions with ids in Paddle's shape, every status represented.
pub fn paddle_subs(n: usize) -> Vec<PaddleSub> {
    (0..n)
        .map(|i| PaddleSub {
            id: format!("sub_01h{i:08}"),
            customer: format!("ctm_01h{i:08}"),
            status: ["active", "active", "active", "trialing", "past_due", "paused", "canceled"][i % 7].into(),
            price: "pri_01pro".into(),
        })
        .collect()
}
