create type subscription_status as enum ('trialing', 'active', 'canceled', 'incomplete', 'incomplete_expired', 'past_due', 'unpaid', 'paused');
create table customers (id uuid references auth.users not null primary key, stripe_customer_id text);
create table subscriptions (
  id text primary key,
  user_id uuid references auth.users not null,
  status subscription_status,
  price_id text,
  cancel_at_period_end boolean,
  current_period_end timestamp with time zone,
  ended_at timestamp with time zone
);
