const express = require('express');
const Stripe = require('stripe');
const { pool } = require('./db');

const stripe = Stripe(process.env.STRIPE_SECRET_KEY);
const router = express.Router();

const PLAN_BY_PRICE = {
  price_1PqBasicMonthly: 'basic',
  price_1PqProMonthly: 'pro',
};

router.post('/webhooks/stripe', express.raw({ type: 'application/json' }), async (req, res) => {
  const signature = req.headers['stripe-signature'];
  let event;
  try {
    event = stripe.webhooks.constructEvent(req.body, signature, process.env.STRIPE_WEBHOOK_SECRET);
  } catch (err) {
    console.warn('Stripe signature check failed:', err.message);
    return res.status(400).send(`Webhook Error: ${err.message}`);
  }

  const { rows } = await pool.query('SELECT 1 FROM stripe_events WHERE id = $1', [event.id]);
  if (rows.length > 0) {
    return res.json({ received: true });
  }

  try {
    if (event.type === 'checkout.session.completed') {
      const session = event.data.object;
      if (session.payment_status === 'paid') {
        await pool.query(
          'UPDATE accounts SET stripe_customer_id = $1, has_paid_access = true, plan = $2 WHERE id = $3',
          [session.customer, PLAN_BY_PRICE[session.metadata.price_id], session.metadata.account_id],
        );
      }
    } else if (event.type === 'customer.subscription.updated') {
      const subscription = await stripe.subscriptions.retrieve(event.data.object.id);
      const paying = ['active', 'trialing'].includes(subscription.status);
      await pool.query('UPDATE accounts SET has_paid_access = $1 WHERE stripe_customer_id = $2', [paying, subscription.customer]);
    } else if (event.type === 'customer.subscription.deleted') {
      const subscription = event.data.object;
      await pool.query("UPDATE accounts SET has_paid_access = false, plan = 'free' WHERE stripe_customer_id = $1", [subscription.customer]);
    } else if (event.type === 'invoice.payment_failed') {
      const invoice = event.data.object;
      await pool.query('UPDATE accounts SET payment_failed_at = now() WHERE stripe_customer_id = $1', [invoice.customer]);
    } else {
      console.log('Ignoring Stripe event', event.type);
    }
    await pool.query('INSERT INTO stripe_events (id, type) VALUES ($1, $2)', [event.id, event.type]);
  } catch (err) {
    console.error('Stripe webhook failed', err);
    return res.status(500).json({ error: 'processing failed' });
  }

  res.json({ received: true });
});

module.exports = router;
