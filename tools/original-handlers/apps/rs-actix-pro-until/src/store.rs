use sqlx::PgPool;

pub struct Store {
    pub db: PgPool,
    pub webhook_secret: String,
}

impl Store {
    pub async fn extend_pro(&self, user_id: &str, days: i32) -> sqlx::Result<()> {
        sqlx::query("UPDATE users SET pro_until = now() + make_interval(days => $1) WHERE id = $2::uuid")
            .bind(days)
            .bind(user_id)
            .execute(&self.db)
            .await?;
        Ok(())
    }

    pub async fn end_pro(&self, customer: &str) -> sqlx::Result<()> {
        sqlx::query("UPDATE users SET pro_until = NULL WHERE stripe_customer_id = $1")
            .bind(customer)
            .execute(&self.db)
            .await?;
        Ok(())
    }

    pub async fn seen(&self, event_id: &str) -> sqlx::Result<bool> {
        let row: Option<(String,)> = sqlx::query_as("SELECT id FROM processed_events WHERE id = $1")
            .bind(event_id)
            .fetch_optional(&self.db)
            .await?;
        Ok(row.is_some())
    }

    pub async fn mark(&self, event_id: &str) -> sqlx::Result<()> {
        sqlx::query("INSERT INTO processed_events (id) VALUES ($1) ON CONFLICT DO NOTHING")
            .bind(event_id)
            .execute(&self.db)
            .await?;
        Ok(())
    }
}
