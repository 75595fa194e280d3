//! POST /webhooks/stripe (actix-web + async-stripe + sqlx).

use actix_web::{post, web, HttpRequest, HttpResponse};
use sqlx::PgPool;
use stripe::{EventObject, EventType, SubscriptionStatus, Webhook};

#[post("/webhooks/stripe")]
pub async fn stripe_webhook(req: HttpRequest, payload: web::Bytes, pool: web::Data<PgPool>) -> HttpResponse {
    let Some(signature) = req.headers().get("Stripe-Signature").and_then(|v| v.to_str().ok()) else {
        return HttpResponse::BadRequest().finish();
    };
    let Ok(body) = std::str::from_utf8(&payload) else {
        return HttpResponse::BadRequest().finish();
    };
    let secret = std::env::var("STRIPE_WEBHOOK_SECRET").unwrap_or_default();
    let event = match Webhook::construct_event(body, signature, &secret) {
        Ok(event) => event,
        Err(_) => return HttpResponse::BadRequest().body("invalid signature"),
    };

    let result = match event.type_ {
        EventType::CustomerSubscriptionUpdated => match &event.data.object {
            EventObject::Subscription(sub) => {
                let entitled = matches!(sub.status, SubscriptionStatus::Active | SubscriptionStatus::Trialing);
                sqlx::query("UPDATE accounts SET has_paid_access = $1 WHERE stripe_customer_id = $2")
                    .bind(entitled)
                    .bind(sub.customer.id().to_string())
                    .execute(pool.get_ref())
                    .await
            }
            _ => return HttpResponse::Ok().finish(),
        },
        EventType::CustomerSubscriptionDeleted => match &event.data.object {
            EventObject::Subscription(sub) => {
                sqlx::query("UPDATE accounts SET has_paid_access = false, plan = 'free' WHERE stripe_customer_id = $1")
                    .bind(sub.customer.id().to_string())
                    .execute(pool.get_ref())
                    .await
            }
            _ => return HttpResponse::Ok().finish(),
        },
        _ => return HttpResponse::Ok().finish(),
    };

    match result {
        Ok(_) => HttpResponse::Ok().finish(),
        Err(err) => {
            log::error!("stripe webhook {} failed: {err}", event.id);
            HttpResponse::InternalServerError().finish()
        }
    }
}
