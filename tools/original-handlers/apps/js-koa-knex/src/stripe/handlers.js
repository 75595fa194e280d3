const subs = require('../repo/subscriptions');

module.exports = {
  'customer.subscription.created': (sub) => subs.save(sub),
  'customer.subscription.updated': (sub) => subs.save(sub),
  'customer.subscription.deleted': (sub) => subs.remove(sub.id),
};
