use axum::{body::Bytes, extract::State, http::{HeaderMap, StatusCode}, response::IntoResponse};
use stripe::{EventObject, EventType, Webhook};

use crate::{billing, state::AppState};

pub async fn handle(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> impl IntoResponse {
    let Some(sig) = headers.get("stripe-signature").and_then(|s| s.to_str().ok()) else {
        return StatusCode::BAD_REQUEST;
    };
    let Ok(payload) = std::str::from_utf8(&body) else {
        return StatusCode::BAD_REQUEST;
    };
    let event = match Webhook::construct_event(payload, sig, &app.stripe_webhook_secret) {
        Ok(e) => e,
        Err(_) => return StatusCode::BAD_REQUEST,
    };

    if let EventObject::Subscription(sub) = event.data.object {
        match event.type_ {
            EventType::CustomerSubscriptionCreated
            | EventType::CustomerSubscriptionUpdated
            | EventType::CustomerSubscriptionDeleted => {
                if let Err(err) = billing::sync_status(&app.db, &sub).await {
                    tracing::error!(%err, "sync failed");
                    return StatusCode::INTERNAL_SERVER_ERROR;
                }
            }
            _ => {}
        }
    }
    StatusCode::OK
}
