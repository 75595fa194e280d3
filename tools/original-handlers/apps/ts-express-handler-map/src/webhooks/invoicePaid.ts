import type Stripe from 'stripe';
import { accounts } from '../db/accounts';

export async function onInvoicePaid(event: Stripe.Event) {
  const invoice = event.data.object as Stripe.Invoice;
  await accounts.grantPro(invoice.customer as string);
}
