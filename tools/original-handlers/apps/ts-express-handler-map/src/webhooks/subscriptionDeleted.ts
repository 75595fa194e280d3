import type Stripe from 'stripe';
import { accounts } from '../db/accounts';

export async function onSubscriptionDeleted(event: Stripe.Event) {
  const sub = event.data.object as Stripe.Subscription;
  await accounts.revokePro(sub.customer as string);
}
