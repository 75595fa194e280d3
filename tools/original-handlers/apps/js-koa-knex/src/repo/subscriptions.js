const db = require('../db');

exports.save = (sub) =>
  db('subscriptions')
    .insert({
      stripe_id: sub.id,
      customer_id: sub.customer,
      status: sub.status,
      price_id: sub.items.data[0].price.id,
      current_period_end: new Date(sub.current_period_end * 1000),
    })
    .onConflict('stripe_id')
    .merge();

exports.remove = (stripeId) => db('subscriptions').where({ stripe_id: stripeId }).del();

exports.activeForCustomer = (customerId) =>
  db('subscriptions').where({ customer_id: customerId }).whereIn('status', ['active', 'trialing']).first();
