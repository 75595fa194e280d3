import type Stripe from 'stripe';
import { onCheckoutCompleted } from './checkoutCompleted';
import { onInvoicePaid } from './invoicePaid';
import { onSubscriptionDeleted } from './subscriptionDeleted';

type Handler = (event: Stripe.Event) => Promise<void>;

export const handlers: Record<string, Handler> = {
  'checkout.session.completed': onCheckoutCompleted,
  'invoice.paid': onInvoicePaid,
  'customer.subscription.deleted': onSubscriptionDeleted,
};
