mod store;
mod webhook;

use actix_web::{web, App, HttpServer};

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let store = web::Data::new(store::Store {
        db: sqlx::PgPool::connect(&std::env::var("DATABASE_URL").unwrap()).await.unwrap(),
        webhook_secret: std::env::var("STRIPE_WEBHOOK_SECRET").expect("STRIPE_WEBHOOK_SECRET"),
    });
    HttpServer::new(move || App::new().app_data(store.clone()).route("/stripe/events", web::post().to(webhook::stripe_events)))
        .bind(("0.0.0.0", 8080))?
        .run()
        .await
}
