import express, { Router } from 'express';
import Stripe from 'stripe';
import { handlers } from '../webhooks';

const stripe = new Stripe(process.env.STRIPE_SECRET_KEY!);
export const stripeRouter = Router();

stripeRouter.post('/webhooks/stripe', express.raw({ type: 'application/json' }), async (req, res) => {
  let event: Stripe.Event;
  try {
    event = stripe.webhooks.constructEvent(
      req.body,
      req.headers['stripe-signature'] as string,
      process.env.STRIPE_WEBHOOK_SECRET!
    );
  } catch (err) {
    return res.status(400).send(`Webhook Error: ${(err as Error).message}`);
  }

  const handler = handlers[event.type];
  if (!handler) return res.json({ received: true, ignored: event.type });

  try {
    await handler(event);
    res.json({ received: true });
  } catch (err) {
    console.error('stripe webhook failed', event.id, err);
    res.status(500).json({ error: 'handler failed' });
  }
});
