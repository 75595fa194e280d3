const Router = require('@koa/router');
const { koaBody } = require('koa-body');
const Stripe = require('stripe');
const handlers = require('../stripe/handlers');

const stripe = new Stripe(process.env.STRIPE_SECRET_KEY);
const router = new Router();

router.post('/hooks/stripe', koaBody({ includeUnparsed: true }), async (ctx) => {
  const secret = process.env.STRIPE_WEBHOOK_SECRET;
  if (!secret) {
    ctx.throw(500, 'STRIPE_WEBHOOK_SECRET is not set');
  }
  let event;
  try {
    event = stripe.webhooks.constructEvent(ctx.request.body[Symbol.for('unparsedBody')], ctx.get('stripe-signature'), secret);
  } catch (err) {
    ctx.throw(400, `signature: ${err.message}`);
  }
  const handle = handlers[event.type];
  if (handle) await handle(event.data.object);
  ctx.body = { received: true };
});

module.exports = router;
