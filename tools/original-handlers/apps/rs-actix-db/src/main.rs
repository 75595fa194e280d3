mod db;
mod handlers;

use actix_web::{web, App, HttpServer};

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let pool = sqlx::PgPool::connect(&std::env::var("DATABASE_URL").unwrap()).await.unwrap();
    HttpServer::new(move || App::new().app_data(web::Data::new(pool.clone())).service(handlers::stripe::stripe_webhook))
        .bind(("0.0.0.0", 8080))?
        .run()
        .await
}
