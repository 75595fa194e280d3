create table public.subscriptions (
  subscription_id text primary key,
  subscription_status text not null,
  price_id text,
  scheduled_change text,
  customer_id text not null references public.customers (customer_id)
);
