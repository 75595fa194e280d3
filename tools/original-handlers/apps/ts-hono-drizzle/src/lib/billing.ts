import { eq } from 'drizzle-orm';
import type { Db } from '../db/client';
import { users } from '../db/schema';

const THIRTY_ONE_DAYS = 31 * 24 * 3600 * 1000;

export async function activatePlan(db: Db, userId: string, customerId: string) {
  await db
    .update(users)
    .set({ plan: 'pro', stripeCustomerId: customerId, proUntil: new Date(Date.now() + THIRTY_ONE_DAYS) })
    .where(eq(users.id, userId));
}

export async function endPlan(db: Db, customerId: string) {
  await db.update(users).set({ plan: 'free', proUntil: null }).where(eq(users.stripeCustomerId, customerId));
}
