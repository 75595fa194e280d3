import Stripe from 'stripe';
import getRawBody from 'raw-body';
import { addRole, removeRole } from '../../../lib/roles';
import { findUserByCustomer } from '../../../lib/users';

export const config = { api: { bodyParser: false } };
const stripe = new Stripe(process.env.STRIPE_SECRET_KEY);

export default async function handler(req, res) {
  const raw = await getRawBody(req);
  let event;
  try {
    event = stripe.webhooks.constructEvent(raw, req.headers['stripe-signature'], process.env.STRIPE_WEBHOOK_SECRET);
  } catch (e) {
    return res.status(400).json({ error: e.message });
  }

  switch (event.type) {
    case 'checkout.session.completed': {
      const session = event.data.object;
      if (session.payment_status === 'paid') {
        await addRole(session.client_reference_id, 'subscriber');
      }
      break;
    }
    case 'customer.subscription.deleted': {
      const user = await findUserByCustomer(event.data.object.customer);
      if (user) await removeRole(user.id, 'subscriber');
      break;
    }
  }
  return res.status(200).json({ ok: true });
}
