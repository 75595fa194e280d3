import { Hono } from 'hono';
import Stripe from 'stripe';
import { getDb } from '../db/client';
import { activatePlan, endPlan } from '../lib/billing';

type Env = { STRIPE_SECRET_KEY: string; STRIPE_WEBHOOK_SECRET: string; DATABASE_URL: string };

export const webhook = new Hono<{ Bindings: Env }>();

webhook.post('/stripe', async (c) => {
  const stripe = new Stripe(c.env.STRIPE_SECRET_KEY, { httpClient: Stripe.createFetchHttpClient() });
  const signature = c.req.header('stripe-signature');
  if (!signature) return c.text('missing signature', 400);
  const body = await c.req.text();

  let event: Stripe.Event;
  try {
    event = await stripe.webhooks.constructEventAsync(body, signature, c.env.STRIPE_WEBHOOK_SECRET);
  } catch (err) {
    return c.text(`invalid signature: ${(err as Error).message}`, 400);
  }

  const db = getDb(c.env.DATABASE_URL);
  if (event.type === 'checkout.session.completed') {
    const session = event.data.object;
    if (session.payment_status === 'paid' && session.metadata?.userId) {
      await activatePlan(db, session.metadata.userId, session.customer as string);
    }
  } else if (event.type === 'customer.subscription.deleted') {
    const sub = event.data.object;
    await endPlan(db, sub.customer as string);
  } else {
    console.log('ignored', event.type);
  }
  return c.json({ received: true });
});
