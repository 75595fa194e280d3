import Stripe from 'stripe';
import { createClient } from '@supabase/supabase-js';
import { stripe } from '@/utils/stripe/config';
import type { Database } from '@/types_db';

const supabaseAdmin = createClient<Database>(
  process.env.NEXT_PUBLIC_SUPABASE_URL || '',
  process.env.SUPABASE_SERVICE_ROLE_KEY || ''
);

const toDateTime = (secs: number) => new Date(secs * 1000).toISOString();

export async function upsertProductRecord(product: Stripe.Product) {
  const { error } = await supabaseAdmin.from('products').upsert([
    { id: product.id, active: product.active, name: product.name },
  ]);
  if (error) throw new Error(`Product insert/update failed: ${error.message}`);
}

export async function manageSubscriptionStatusChange(
  subscriptionId: string,
  customerId: string,
  createAction = false
) {
  const { data: customerData, error: noCustomerError } = await supabaseAdmin
    .from('customers')
    .select('id')
    .eq('stripe_customer_id', customerId)
    .single();
  if (noCustomerError) throw new Error(`Customer lookup failed: ${noCustomerError.message}`);

  const subscription = await stripe.subscriptions.retrieve(subscriptionId, {
    expand: ['default_payment_method'],
  });
  await upsertSubscriptionRecord(customerData!.id, subscription);
  if (createAction) console.log(`New subscription ${subscription.id} for ${customerData!.id}`);
}

export async function upsertSubscriptionRecord(userId: string, subscription: Stripe.Subscription) {
  const { error } = await supabaseAdmin.from('subscriptions').upsert([
    {
      id: subscription.id,
      user_id: userId,
      status: subscription.status,
      price_id: subscription.items.data[0].price.id,
      cancel_at_period_end: subscription.cancel_at_period_end,
      current_period_end: toDateTime(subscription.current_period_end),
      ended_at: subscription.ended_at ? toDateTime(subscription.ended_at) : null,
    },
  ]);
  if (error) throw new Error(`Subscription insert/update failed: ${error.message}`);
}
