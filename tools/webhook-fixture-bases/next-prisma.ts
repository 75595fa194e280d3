import { NextResponse } from 'next/server';
import { headers } from 'next/headers';
import Stripe from 'stripe';
import { prisma } from '@/lib/prisma';

const stripe = new Stripe(process.env.STRIPE_SECRET_KEY!, { apiVersion: '2025-03-31.basil' });
const webhookSecret = process.env.STRIPE_WEBHOOK_SECRET!;

const PLAN_BY_PRICE: Record<string, string> = {
  price_1PqProMonthly: 'pro',
  price_1PqTeamMonthly: 'team',
};

export async function POST(req: Request) {
  const body = await req.text();
  const signature = (await headers()).get('stripe-signature');
  if (!signature) {
    return NextResponse.json({ error: 'missing signature' }, { status: 400 });
  }

  let event: Stripe.Event;
  try {
    event = stripe.webhooks.constructEvent(body, signature, webhookSecret);
  } catch (err) {
    console.error('stripe webhook: signature verification failed', err);
    return NextResponse.json({ error: 'invalid signature' }, { status: 400 });
  }

  const seen = await prisma.processedEvent.findUnique({ where: { id: event.id } });
  if (seen) {
    return NextResponse.json({ received: true, duplicate: true });
  }

  try {
    switch (event.type) {
      case 'checkout.session.completed': {
        const session = event.data.object as Stripe.Checkout.Session;
        if (session.payment_status !== 'paid') break;
        const subscription = await stripe.subscriptions.retrieve(session.subscription as string);
        const priceId = subscription.items.data[0]?.price.id;
        await prisma.user.update({
          where: { id: session.client_reference_id! },
          data: {
            stripeCustomerId: session.customer as string,
            stripeSubscriptionId: subscription.id,
            hasPaidAccess: true,
            plan: PLAN_BY_PRICE[priceId] ?? 'pro',
          },
        });
        break;
      }
      case 'customer.subscription.updated': {
        const incoming = event.data.object as Stripe.Subscription;
        const subscription = await stripe.subscriptions.retrieve(incoming.id);
        const active = ['active', 'trialing'].includes(subscription.status);
        await prisma.user.update({
          where: { stripeCustomerId: subscription.customer as string },
          data: {
            hasPaidAccess: active,
            plan: active ? PLAN_BY_PRICE[subscription.items.data[0].price.id] : 'free',
          },
        });
        break;
      }
      case 'customer.subscription.deleted': {
        const subscription = event.data.object as Stripe.Subscription;
        await prisma.user.update({
          where: { stripeCustomerId: subscription.customer as string },
          data: { hasPaidAccess: false, plan: 'free', stripeSubscriptionId: null },
        });
        break;
      }
      case 'invoice.payment_failed': {
        const invoice = event.data.object as Stripe.Invoice;
        await prisma.user.update({
          where: { stripeCustomerId: invoice.customer as string },
          data: { paymentFailedAt: new Date() },
        });
        break;
      }
      default:
        console.log(`stripe webhook: ignoring ${event.type}`);
    }
    await prisma.processedEvent.create({ data: { id: event.id, type: event.type } });
  } catch (err) {
    console.error('stripe webhook: handler failed', err);
    return NextResponse.json({ error: 'handler failed' }, { status: 500 });
  }

  return NextResponse.json({ received: true });
}
