mod paddle;
mod paddle_sig;

use axum::{routing::post, Router};

#[derive(Clone)]
pub struct AppState {
    pub db: sqlx::PgPool,
    pub paddle_secret: String,
}

#[tokio::main]
async fn main() {
    let st = AppState {
        db: sqlx::PgPool::connect(&std::env::var("DATABASE_URL").unwrap()).await.unwrap(),
        paddle_secret: std::env::var("PADDLE_WEBHOOK_SECRET").expect("PADDLE_WEBHOOK_SECRET"),
    };
    let app = Router::new().route("/paddle/webhook", post(paddle::paddle_webhook)).with_state(st);
    axum::serve(tokio::net::TcpListener::bind("0.0.0.0:8080").await.unwrap(), app).await.unwrap();
}
