use axum::{body::Bytes, extract::State, http::{HeaderMap, StatusCode}};
use serde::Deserialize;

use crate::{paddle_sig::verify, AppState};

#[derive(Deserialize)]
struct Notification {
    event_type: String,
    data: SubscriptionData,
}

#[derive(Deserialize)]
struct SubscriptionData {
    customer_id: String,
    status: String,
}

pub async fn paddle_webhook(State(st): State<AppState>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let header = headers.get("paddle-signature").and_then(|h| h.to_str().ok()).unwrap_or("");
    if !verify(&body, header, &st.paddle_secret) {
        return StatusCode::UNAUTHORIZED;
    }
    let Ok(n) = serde_json::from_slice::<Notification>(&body) else {
        return StatusCode::BAD_REQUEST;
    };
    let res = match n.event_type.as_str() {
        "subscription.activated" | "subscription.updated" => {
            sqlx::query("UPDATE customers SET has_access = $1 WHERE paddle_customer_id = $2")
                .bind(n.data.status == "active" || n.data.status == "trialing")
                .bind(&n.data.customer_id)
                .execute(&st.db)
                .await
        }
        "subscription.canceled" => {
            sqlx::query("UPDATE customers SET has_access = false WHERE paddle_customer_id = $1")
                .bind(&n.data.customer_id)
                .execute(&st.db)
                .await
        }
        _ => return StatusCode::OK,
    };
    match res {
        Ok(_) => StatusCode::OK,
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}
