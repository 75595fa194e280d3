use actix_web::{web, HttpRequest, HttpResponse};
use stripe::{CheckoutSessionPaymentStatus, EventObject, EventType, Webhook};

use crate::store::Store;

pub async fn stripe_events(req: HttpRequest, body: String, store: web::Data<Store>) -> HttpResponse {
    let sig = req.headers().get("stripe-signature").and_then(|h| h.to_str().ok()).unwrap_or_default();
    let event = match Webhook::construct_event(&body, sig, &store.webhook_secret) {
        Ok(e) => e,
        Err(_) => return HttpResponse::BadRequest().finish(),
    };
    if store.seen(event.id.as_str()).await.unwrap_or(false) {
        return HttpResponse::Ok().finish();
    }

    let written = match (event.type_, event.data.object) {
        (EventType::CheckoutSessionCompleted, EventObject::CheckoutSession(s)) => {
            if s.payment_status == CheckoutSessionPaymentStatus::Paid {
                store.extend_pro(s.client_reference_id.as_deref().unwrap_or_default(), 31).await
            } else {
                Ok(())
            }
        }
        (EventType::CustomerSubscriptionDeleted, EventObject::Subscription(sub)) => {
            store.end_pro(sub.customer.id().as_str()).await
        }
        _ => Ok(()),
    };
    if written.is_err() {
        return HttpResponse::InternalServerError().finish();
    }
    let _ = store.mark(event.id.as_str()).await;
    HttpResponse::Ok().finish()
}
