//! Shapes from real Rust (axum, warp) webhook handlers: a hand-rolled Stripe signature
//! check whose tolerance is a local's comparison, its error caught at the call site, a
//! trailing `match` whose `Err` arm is the answer, dispatch in a service method handed
//! the parsed JSON, and async-stripe's `EventObject::Subscription(..)` arms.
//! Each shape has a regression and a quiet twin.

#[path = "support/git.rs"]
mod git_support;
use git_support::{committed_repo, high_rules, review, write};

const HANDLER_PATH: &str = "src/stripe/webhook.rs";

/// A handler that checks the signature itself, with a `max_age`-second window.
fn hand_checked(call_site: &str, max_age: &str) -> String {
    format!(
        r#"use hmac::{{Hmac, Mac}};
use sha2::Sha256;
use std::collections::HashMap;

pub async fn stripe_webhook(State(app): State<App>, headers: HeaderMap, body: String) -> Result<impl IntoResponse, ApiError> {{
    let signature = headers.get("Stripe-Signature").ok_or(ApiError::msg("no signature"))?.to_str()?;
{call_site}
    let event: serde_json::Value = serde_json::from_str(&body)?;
    if event["type"] == "customer.subscription.deleted" {{
        sqlx::query!("update accounts set plan = 'free' where stripe_customer_id = $1", event["data"]["object"]["customer"].as_str())
            .execute(&app.db)
            .await?;
    }}
    Ok("")
}}

fn check_signature(header: &str, body: &str) -> anyhow::Result<()> {{
    let mut parts = HashMap::new();
    for part in header.split(',') {{
        let mut kv = part.split('=');
        parts.insert(kv.next().unwrap_or_default(), kv.next().unwrap_or_default());
    }}
    let sent_at = parts.get("t").ok_or(anyhow::anyhow!("no timestamp"))?.parse::<i64>()?;
    let time_diff = (chrono::Utc::now().timestamp() - sent_at).abs();
    let stale = time_diff > {max_age};
    let mut mac = Hmac::<Sha256>::new_from_slice(std::env::var("STRIPE_WEBHOOK_SECRET")?.as_bytes())?;
    mac.update(format!("{{}}.{{}}", parts["t"], body).as_bytes());
    mac.verify_slice(&hex::decode(parts.get("v1").ok_or(anyhow::anyhow!("no v1"))?)?)?;
    if stale {{
        return Err(anyhow::anyhow!("too old"));
    }}
    Ok(())
}}
"#
    )
}

const CHECKED: &str = "    check_signature(signature, &body)?;";

#[test]
fn a_hand_rolled_window_widened_to_a_month_is_wh015() {
    let dir = committed_repo(&[(HANDLER_PATH, &hand_checked(CHECKED, "60"))]);
    write(dir.path(), HANDLER_PATH, &hand_checked(CHECKED, "60 * 60 * 24 * 30"));
    let v = review(dir.path());
    assert!(high_rules(&v).contains(&"WH015".to_string()), "{v:#}");

    // Quiet: five minutes, the SDKs' own default.
    let dir = committed_repo(&[(HANDLER_PATH, &hand_checked(CHECKED, "60"))]);
    write(dir.path(), HANDLER_PATH, &hand_checked(CHECKED, "300"));
    let v = review(dir.path());
    assert!(!high_rules(&v).contains(&"WH015".to_string()), "{v:#}");
}

#[test]
fn a_failed_check_only_printed_at_the_call_site_is_wh003() {
    let logged = "    if let Err(e) = check_signature(signature, &body) {\n        println!(\"could not authenticate stripe webhook: {e}\");\n    }";
    let dir = committed_repo(&[(HANDLER_PATH, &hand_checked(CHECKED, "60"))]);
    write(dir.path(), HANDLER_PATH, &hand_checked(logged, "60"));
    let v = review(dir.path());
    assert!(high_rules(&v).contains(&"WH003".to_string()), "{v:#}");

    // Quiet: the caught failure answers 400.
    let refused = "    if let Err(e) = check_signature(signature, &body) {\n        println!(\"bad signature: {e}\");\n        return Err(ApiError::BadRequest(e.to_string()));\n    }";
    let dir = committed_repo(&[(HANDLER_PATH, &hand_checked(CHECKED, "60"))]);
    write(dir.path(), HANDLER_PATH, &hand_checked(refused, "60"));
    let v = review(dir.path());
    assert!(!high_rules(&v).contains(&"WH003".to_string()), "{v:#}");
}

const ROUTE_PATH: &str = "src/routes/billing.rs";
const SERVICE_PATH: &str = "src/services/billing.rs";

const STATE_PATH: &str = "src/state.rs";
const STATE: &str = "use crate::services::billing::BillingService;\n\npub struct AppState {\n    pub billing_service: BillingService,\n}\n";

const SERVICE: &str = r#"use serde_json::Value;

pub struct BillingService {
    db: Database,
}

impl BillingService {
    pub async fn verify_signature(&self, payload: &str, signature: &str) -> Result<()> {
        stripe::Webhook::construct_event(payload, signature, &self.secret)?;
        Ok(())
    }

    pub async fn apply_event(&self, event_data: Value) -> Result<()> {
        let event_type = event_data["type"].as_str().unwrap_or_default();
        match event_type {
            "customer.subscription.updated" => {
                self.db.query("UPDATE member SET tier = $tier WHERE customer = $customer").bind(("tier", "pro")).await?;
            }
            "customer.subscription.deleted" => {
                self.db.query("UPDATE member SET tier = 'free' WHERE customer = $customer").await?;
            }
            _ => {}
        }
        Ok(())
    }
}
"#;

/// The route: the service verifies and dispatches; `failed` is what its `Err` arm does.
fn route(failed: &str) -> String {
    format!(
        r#"use axum::{{extract::State, http::HeaderMap, Json}};
use crate::state::AppState;

pub async fn stripe_webhook(State(state): State<AppState>, headers: HeaderMap, payload: String) -> Result<Json<serde_json::Value>> {{
    let signature = headers.get("Stripe-Signature").and_then(|v| v.to_str().ok()).unwrap_or_default();
    state.billing_service.verify_signature(&payload, signature).await?;
    let event_data: serde_json::Value = serde_json::from_str(&payload)?;

    match state.billing_service.apply_event(event_data).await {{
        Ok(()) => Ok(Json(serde_json::json!({{ "received": true }}))),
        Err(e) => {{
            tracing::error!("webhook failed: {{}}", e);
{failed}
        }}
    }}
}}
"#
    )
}

#[test]
fn a_trailing_match_whose_err_arm_now_answers_200_is_wh010() {
    let files = [(ROUTE_PATH, route("            Err(e)").to_string()), (SERVICE_PATH, SERVICE.to_string()), (STATE_PATH, STATE.to_string())];
    let files: Vec<(&str, &str)> = files.iter().map(|(p, t)| (*p, t.as_str())).collect();
    let dir = committed_repo(&files);
    write(dir.path(), ROUTE_PATH, &route("            Ok(Json(serde_json::json!({ \"received\": false, \"error\": e.to_string() })))"));
    let v = review(dir.path());
    assert!(high_rules(&v).contains(&"WH010".to_string()), "{v:#}");

    // Quiet: the error still reaches axum, with a status of its own.
    let dir = committed_repo(&files);
    write(dir.path(), ROUTE_PATH, &route("            Err(AppError::Internal(e.to_string()))"));
    let v = review(dir.path());
    assert!(!high_rules(&v).contains(&"WH010".to_string()), "{v:#}");
}

#[test]
fn events_dispatched_in_a_service_handed_the_event_json_are_the_routes() {
    let files = [(ROUTE_PATH, route("            Err(e)")), (SERVICE_PATH, SERVICE.to_string()), (STATE_PATH, STATE.to_string())];
    let files: Vec<(&str, &str)> = files.iter().map(|(p, t)| (*p, t.as_str())).collect();
    let dir = committed_repo(&files);
    // The route now only stores the event: nothing applies it any more.
    write(dir.path(), ROUTE_PATH, &route("            Err(e)").replace("state.billing_service.apply_event(event_data)", "state.event_log.store(&payload)"));
    let v = review(dir.path());
    assert!(high_rules(&v).contains(&"WH006".to_string()), "{v:#}");

    // Quiet: the same call, its result logged differently.
    let dir = committed_repo(&files);
    write(dir.path(), ROUTE_PATH, &route("            Err(e)").replace("webhook failed: {}", "stripe webhook not applied: {}"));
    let v = review(dir.path());
    assert!(high_rules(&v).is_empty(), "{v:#}");
}

/// A warp handler matching on async-stripe's object kind; `paying` is the status test.
fn by_object(paying: &str) -> String {
    format!(
        r#"use stripe::{{EventObject, WebhookEvent}};

pub async fn handle_webhook(event: WebhookEvent, db: Arc<Db>) -> Result<impl warp::Reply, warp::Rejection> {{
    match event.data.object {{
        EventObject::Subscription(subscription) => {{
            let plan = if {paying} {{
                String::from("pro")
            }} else {{
                String::from("free")
            }};
            diesel::update(users::table)
                .filter(users::stripe_customer_id.eq(subscription.customer.id()))
                .set(users::plan.eq(plan))
                .execute(&db.conn())
                .map_err(|_| warp::reject())?;
            Ok(warp::reply())
        }}
        _ => Ok(warp::reply()),
    }}
}}
"#
    )
}

#[test]
fn an_event_object_arm_handles_the_subscription_events() {
    const PATH: &str = "src/handlers/stripe.rs";
    let before = by_object("subscription.status == stripe::SubscriptionStatus::Active");
    let dir = committed_repo(&[(PATH, &before)]);
    // past_due now keeps the paid plan.
    write(dir.path(), PATH, &by_object("matches!(subscription.status, stripe::SubscriptionStatus::Active | stripe::SubscriptionStatus::PastDue)"));
    let v = review(dir.path());
    assert!(high_rules(&v).contains(&"WH011".to_string()), "{v:#}");

    // Quiet: trialing added beside active.
    let dir = committed_repo(&[(PATH, &before)]);
    write(dir.path(), PATH, &by_object("matches!(subscription.status, stripe::SubscriptionStatus::Active | stripe::SubscriptionStatus::Trialing)"));
    let v = review(dir.path());
    assert!(high_rules(&v).is_empty(), "{v:#}");
}
