//! POST /webhooks/stripe: Stripe events for subscriptions (axum + async-stripe + sqlx).

use axum::{
    extract::State,
    http::{HeaderMap, StatusCode},
};
use sqlx::PgPool;
use stripe::{CheckoutSessionPaymentStatus, EventObject, EventType, Subscription, SubscriptionStatus, Webhook};

#[derive(Clone)]
pub struct AppState {
    pub db: PgPool,
    pub stripe: stripe::Client,
    pub webhook_secret: String,
}

const PLAN_BY_PRICE: [(&str, &str); 2] = [("price_1PqProMonthly", "pro"), ("price_1PqTeamMonthly", "team")];

#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("stripe: {0}")]
    Stripe(#[from] stripe::StripeError),
}

fn plan_for(price_id: &str) -> &'static str {
    PLAN_BY_PRICE.iter().find(|(p, _)| *p == price_id).map(|(_, plan)| *plan).unwrap_or("pro")
}

pub async fn stripe_webhook(State(state): State<AppState>, headers: HeaderMap, body: String) -> StatusCode {
    let Some(signature) = headers.get("stripe-signature").and_then(|v| v.to_str().ok()) else {
        return StatusCode::BAD_REQUEST;
    };
    let event = match Webhook::construct_event(&body, signature, &state.webhook_secret) {
        Ok(event) => event,
        Err(err) => {
            tracing::warn!(?err, "stripe webhook rejected");
            return StatusCode::BAD_REQUEST;
        }
    };

    if let Err(err) = handle_event(&state, &event).await {
        tracing::error!(%err, event_id = %event.id, "stripe webhook failed");
        return StatusCode::INTERNAL_SERVER_ERROR;
    }
    StatusCode::OK
}

async fn handle_event(state: &AppState, event: &stripe::Event) -> Result<(), WebhookError> {
    match event.type_ {
        EventType::CheckoutSessionCompleted => {
            if let EventObject::CheckoutSession(session) = &event.data.object {
                if session.payment_status != CheckoutSessionPaymentStatus::Paid {
                    return Ok(());
                }
                let price_id = session.metadata.as_ref().and_then(|m| m.get("price_id")).map(String::as_str).unwrap_or_default();
                sqlx::query("UPDATE users SET stripe_customer_id = $1, has_paid_access = true, plan = $2 WHERE id = $3")
                    .bind(session.customer.as_ref().map(|c| c.id().to_string()))
                    .bind(plan_for(price_id))
                    .bind(session.client_reference_id.as_deref())
                    .execute(&state.db)
                    .await?;
            }
        }
        EventType::CustomerSubscriptionCreated | EventType::CustomerSubscriptionUpdated => {
            if let EventObject::Subscription(sub) = &event.data.object {
                let fresh = Subscription::retrieve(&state.stripe, &sub.id, &[]).await?;
                let paying = matches!(fresh.status, SubscriptionStatus::Active | SubscriptionStatus::Trialing);
                sqlx::query("UPDATE users SET has_paid_access = $1 WHERE stripe_customer_id = $2")
                    .bind(paying)
                    .bind(fresh.customer.id().to_string())
                    .execute(&state.db)
                    .await?;
            }
        }
        EventType::CustomerSubscriptionDeleted => {
            if let EventObject::Subscription(sub) = &event.data.object {
                sqlx::query("UPDATE users SET has_paid_access = false, plan = 'free' WHERE stripe_customer_id = $1")
                    .bind(sub.customer.id().to_string())
                    .execute(&state.db)
                    .await?;
            }
        }
        EventType::InvoicePaymentFailed => {
            if let EventObject::Invoice(invoice) = &event.data.object {
                sqlx::query("UPDATE users SET payment_failed_at = now() WHERE stripe_customer_id = $1")
                    .bind(invoice.customer.as_ref().map(|c| c.id().to_string()))
                    .execute(&state.db)
                    .await?;
            }
        }
        _ => tracing::debug!(event_type = %event.type_, "ignored stripe event"),
    }
    sqlx::query("INSERT INTO processed_events (event_id, type) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        .bind(event.id.as_str())
        .bind(event.type_.as_str())
        .execute(&state.db)
        .await?;
    Ok(())
}
