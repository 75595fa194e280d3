use sqlx::PgPool;
use stripe::Subscription;

pub async fn sync_status(db: &PgPool, sub: &Subscription) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO subscriptions (id, customer_id, status, current_period_end) VALUES ($1, $2, $3, to_timestamp($4)) \
         ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, current_period_end = EXCLUDED.current_period_end",
    )
    .bind(sub.id.as_str())
    .bind(sub.customer.id().as_str())
    .bind(sub.status.as_str())
    .bind(sub.current_period_end)
    .execute(db)
    .await?;
    Ok(())
}
