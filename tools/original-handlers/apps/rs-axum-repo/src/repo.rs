use sqlx::PgPool;

pub async fn set_plan(db: &PgPool, customer_id: &str, plan: &str, active: bool) -> sqlx::Result<()> {
    sqlx::query("UPDATE users SET plan = $1, is_active = $2 WHERE stripe_customer_id = $3")
        .bind(plan)
        .bind(active)
        .bind(customer_id)
        .execute(db)
        .await?;
    Ok(())
}
