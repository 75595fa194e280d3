CREATE TABLE workspaces (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL,
    stripe_customer_id TEXT UNIQUE,
    locked_at TIMESTAMPTZ,
    lock_reason TEXT
);
