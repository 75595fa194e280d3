#[derive(Clone)]
pub struct AppState {
    pub db: sqlx::PgPool,
    pub stripe_webhook_secret: String,
}

impl AppState {
    pub async fn from_env() -> Self {
        Self {
            db: sqlx::PgPool::connect(&std::env::var("DATABASE_URL").unwrap()).await.unwrap(),
            stripe_webhook_secret: std::env::var("STRIPE_WEBHOOK_SECRET").expect("STRIPE_WEBHOOK_SECRET"),
        }
    }
}
