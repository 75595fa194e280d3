import type Stripe from 'stripe';
import { accounts } from '../db/accounts';

export async function onCheckoutCompleted(event: Stripe.Event) {
  const session = event.data.object as Stripe.Checkout.Session;
  if (session.payment_status !== 'paid') return;
  await accounts.linkCustomer(session.client_reference_id!, session.customer as string);
  await accounts.grantPro(session.customer as string);
}
