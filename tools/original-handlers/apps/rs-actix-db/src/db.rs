use sqlx::PgPool;

pub async fn activate_user(pool: &PgPool, customer: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE accounts SET is_active = true WHERE stripe_customer = $1")
        .bind(customer)
        .execute(pool)
        .await
        .map(|_| ())
}

pub async fn deactivate_user(pool: &PgPool, customer: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE accounts SET is_active = false WHERE stripe_customer = $1")
        .bind(customer)
        .execute(pool)
        .await
        .map(|_| ())
}
