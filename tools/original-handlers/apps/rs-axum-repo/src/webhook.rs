use axum::{extract::State, http::{HeaderMap, StatusCode}};
use stripe::{EventObject, EventType, Webhook};

use crate::{repo, AppState};

pub async fn stripe_webhook(State(state): State<AppState>, headers: HeaderMap, body: String) -> StatusCode {
    let sig = headers.get("stripe-signature").and_then(|v| v.to_str().ok()).unwrap_or_default();
    let event = match Webhook::construct_event(&body, sig, &state.webhook_secret) {
        Ok(event) => event,
        Err(_) => return StatusCode::BAD_REQUEST,
    };

    let result = match event.type_ {
        EventType::CheckoutSessionCompleted => match event.data.object {
            EventObject::CheckoutSession(session) if session.payment_status == stripe::CheckoutSessionPaymentStatus::Paid => {
                let customer = session.customer.map(|c| c.id().to_string()).unwrap_or_default();
                repo::set_plan(&state.db, &customer, "pro", true).await
            }
            _ => Ok(()),
        },
        EventType::CustomerSubscriptionDeleted => match event.data.object {
            EventObject::Subscription(sub) => repo::set_plan(&state.db, sub.customer.id().as_str(), "free", false).await,
            _ => Ok(()),
        },
        _ => Ok(()),
    };

    match result {
        Ok(()) => StatusCode::OK,
        Err(err) => {
            tracing::error!(?err, "stripe webhook failed");
            StatusCode::INTERNAL_SERVER_ERROR
        }
    }
}
