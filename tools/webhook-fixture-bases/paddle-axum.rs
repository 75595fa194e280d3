//! POST /webhooks/paddle: Paddle Billing notifications (axum + hmac + sqlx).

use axum::{extract::State, http::{HeaderMap, StatusCode}};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;
use sqlx::PgPool;

#[derive(Deserialize)]
struct PaddleEvent {
    event_type: String,
    data: serde_json::Value,
}

const MAX_AGE_SECS: i64 = 5;

/// Checks `Paddle-Signature: ts=..;h1=..` (several h1 while a secret is rotated).
fn signature_ok(header: &str, body: &str, secret: &str) -> bool {
    let mut ts = None;
    let mut signatures = Vec::new();
    for part in header.split(';') {
        match part.split_once('=') {
            Some(("ts", v)) => ts = v.parse::<i64>().ok(),
            Some(("h1", v)) => signatures.push(v.to_string()),
            _ => {}
        }
    }
    let Some(ts) = ts else { return false };
    if (chrono::Utc::now().timestamp() - ts).abs() > MAX_AGE_SECS {
        return false;
    }
    signatures.iter().any(|sig| {
        let Ok(expected) = hex::decode(sig) else { return false };
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
        mac.update(format!("{ts}:{body}").as_bytes());
        mac.verify_slice(&expected).is_ok()
    })
}

pub async fn paddle_webhook(State(db): State<PgPool>, headers: HeaderMap, body: String) -> StatusCode {
    let header = headers.get("paddle-signature").and_then(|v| v.to_str().ok()).unwrap_or_default();
    let secret = std::env::var("PADDLE_WEBHOOK_SECRET").unwrap_or_default();
    if !signature_ok(header, &body, &secret) {
        return StatusCode::UNAUTHORIZED;
    }
    let Ok(event) = serde_json::from_str::<PaddleEvent>(&body) else {
        return StatusCode::BAD_REQUEST;
    };
    let customer = event.data["customer_id"].as_str().unwrap_or_default();
    let result = match event.event_type.as_str() {
        "subscription.activated" | "subscription.updated" => {
            let entitled = matches!(event.data["status"].as_str(), Some("active") | Some("trialing"));
            sqlx::query("UPDATE accounts SET has_paid_access = $1 WHERE paddle_customer_id = $2")
                .bind(entitled)
                .bind(customer)
                .execute(&db)
                .await
        }
        "subscription.canceled" => {
            sqlx::query("UPDATE accounts SET has_paid_access = false, plan = 'free' WHERE paddle_customer_id = $1")
                .bind(customer)
                .execute(&db)
                .await
        }
        _ => return StatusCode::OK,
    };
    match result {
        Ok(_) => StatusCode::OK,
        Err(err) => {
            tracing::error!(%err, "paddle webhook failed");
            StatusCode::INTERNAL_SERVER_ERROR
        }
    }
}
