CREATE TABLE customers (
    id BIGSERIAL PRIMARY KEY,
    email TEXT NOT NULL,
    paddle_customer_id TEXT UNIQUE,
    has_access BOOLEAN NOT NULL DEFAULT false
);
