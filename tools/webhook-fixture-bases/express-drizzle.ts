import express, { type Request, type Response } from 'express';
import Stripe from 'stripe';
import { eq } from 'drizzle-orm';
import { db } from '../db';
import { users, webhookEvents } from '../db/schema';
import { logger } from '../logger';

const stripe = new Stripe(process.env.STRIPE_SECRET_KEY as string);
const endpointSecret = process.env.STRIPE_WEBHOOK_SECRET as string;

export const billingRouter = express.Router();

async function setAccessForCustomer(customerId: string, isPro: boolean, proUntil: Date | null) {
  await db.update(users).set({ isPro, proUntil }).where(eq(users.stripeCustomerId, customerId));
}

async function onSubscriptionChange(sub: Stripe.Subscription) {
  const fresh = await stripe.subscriptions.retrieve(sub.id);
  const entitled = fresh.status === 'active' || fresh.status === 'trialing';
  const periodEnd = fresh.items.data[0]?.current_period_end;
  await setAccessForCustomer(fresh.customer as string, entitled, entitled && periodEnd ? new Date(periodEnd * 1000) : null);
}

async function onSubscriptionDeleted(sub: Stripe.Subscription) {
  await setAccessForCustomer(sub.customer as string, false, null);
}

async function onInvoicePaid(invoice: Stripe.Invoice) {
  if (invoice.status !== 'paid') return;
  await db
    .update(users)
    .set({ isPro: true, lastPaidAt: new Date() })
    .where(eq(users.stripeCustomerId, invoice.customer as string));
}

billingRouter.post('/stripe/webhook', express.raw({ type: 'application/json' }), async (req: Request, res: Response) => {
  const sig = req.headers['stripe-signature'] as string;
  let event: Stripe.Event;
  try {
    event = stripe.webhooks.constructEvent(req.body, sig, endpointSecret);
  } catch (err) {
    logger.warn({ err }, 'stripe webhook signature check failed');
    return res.status(400).send('Webhook Error');
  }

  const [existing] = await db.select().from(webhookEvents).where(eq(webhookEvents.id, event.id));
  if (existing) {
    return res.json({ received: true });
  }

  try {
    switch (event.type) {
      case 'customer.subscription.created':
      case 'customer.subscription.updated':
        await onSubscriptionChange(event.data.object as Stripe.Subscription);
        break;
      case 'customer.subscription.deleted':
        await onSubscriptionDeleted(event.data.object as Stripe.Subscription);
        break;
      case 'invoice.paid':
        await onInvoicePaid(event.data.object as Stripe.Invoice);
        break;
      default:
        logger.info({ type: event.type }, 'unhandled stripe event');
    }
    await db.insert(webhookEvents).values({ id: event.id, type: event.type });
  } catch (err) {
    logger.error({ err, type: event.type }, 'stripe webhook failed');
    return res.status(500).json({ error: 'webhook handler failed' });
  }
  res.json({ received: true });
});
