'use strict';
const Stripe = require('stripe');
const accounts = require('./db/accounts');

const stripe = new Stripe(process.env.STRIPE_SECRET_KEY);

module.exports = async function webhookRoutes(fastify) {
  fastify.post('/webhooks/stripe', { config: { rawBody: true } }, async (request, reply) => {
    let event;
    try {
      event = stripe.webhooks.constructEvent(
        request.rawBody,
        request.headers['stripe-signature'],
        process.env.STRIPE_WEBHOOK_SECRET
      );
    } catch (err) {
      request.log.warn({ err }, 'stripe signature check failed');
      return reply.code(400).send({ error: 'invalid signature' });
    }

    const obj = event.data.object;
    if (event.type === 'invoice.paid') {
      await accounts.enable(obj.customer, obj.lines.data[0].price.lookup_key);
    } else if (event.type === 'invoice.payment_failed') {
      await accounts.flagPastDue(obj.customer);
    } else if (event.type === 'customer.subscription.deleted') {
      await accounts.disable(obj.customer);
    }
    await accounts.recordEvent(event.id, event.type);
    return { received: true };
  });
};
