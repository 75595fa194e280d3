const User = require('../models/User');

async function syncSubscription(sub) {
  await User.findOneAndUpdate(
    { stripeCustomerId: sub.customer },
    {
      $set: {
        subscriptionId: sub.id,
        isActive: ['active', 'trialing'].includes(sub.status),
        currentPeriodEnd: new Date(sub.current_period_end * 1000),
      },
    }
  );
}

async function markCanceled(sub) {
  await User.findOneAndUpdate(
    { stripeCustomerId: sub.customer },
    { $set: { isActive: false, subscriptionId: null } }
  );
}

module.exports = { syncSubscription, markCanceled };
