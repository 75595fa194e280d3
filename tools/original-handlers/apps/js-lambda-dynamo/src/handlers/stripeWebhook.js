const Stripe = require('stripe');
const { setTenantTier, tenantByCustomer } = require('../lib/tenants');

const stripe = new Stripe(process.env.STRIPE_SECRET_KEY);

exports.handler = async (event) => {
  const body = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  const signature = event.headers['stripe-signature'] || event.headers['Stripe-Signature'];
  let stripeEvent;
  try {
    stripeEvent = stripe.webhooks.constructEvent(body, signature, process.env.STRIPE_WEBHOOK_SECRET);
  } catch (err) {
    return { statusCode: 400, body: `Webhook Error: ${err.message}` };
  }

  try {
    const obj = stripeEvent.data.object;
    if (stripeEvent.type === 'checkout.session.completed' && obj.payment_status === 'paid') {
      await setTenantTier(obj.client_reference_id, 'business', obj.customer);
    } else if (stripeEvent.type === 'customer.subscription.deleted') {
      const tenant = await tenantByCustomer(obj.customer);
      if (tenant) await setTenantTier(tenant.tenantId, 'starter', obj.customer);
    }
  } catch (err) {
    console.error('webhook processing failed', err);
    return { statusCode: 500, body: 'processing failed' };
  }
  return { statusCode: 200, body: JSON.stringify({ received: true }) };
};
