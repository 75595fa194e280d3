use actix_web::{post, web, HttpRequest, HttpResponse};
use stripe::{EventObject, EventType, Webhook};

use crate::db;

#[post("/stripe/webhook")]
pub async fn stripe_webhook(req: HttpRequest, payload: web::Bytes, pool: web::Data<sqlx::PgPool>) -> HttpResponse {
    let secret = std::env::var("STRIPE_WEBHOOK_SECRET").unwrap_or_default();
    let sig = req.headers().get("Stripe-Signature").and_then(|h| h.to_str().ok()).unwrap_or("");
    let body = match std::str::from_utf8(&payload) {
        Ok(b) => b,
        Err(_) => return HttpResponse::BadRequest().finish(),
    };
    let Ok(event) = Webhook::construct_event(body, sig, &secret) else {
        return HttpResponse::BadRequest().body("signature");
    };

    let res = match (event.type_, event.data.object) {
        (EventType::InvoicePaid, EventObject::Invoice(inv)) => {
            let cus = inv.customer.map(|c| c.id().to_string()).unwrap_or_default();
            db::activate_user(&pool, &cus).await
        }
        (EventType::CustomerSubscriptionDeleted, EventObject::Subscription(sub)) => {
            db::deactivate_user(&pool, sub.customer.id().as_str()).await
        }
        _ => Ok(()),
    };
    if let Err(e) = res {
        log::error!("webhook {}: {e}", event.id);
        return HttpResponse::InternalServerError().finish();
    }
    HttpResponse::Ok().finish()
}
