import { prisma } from '@/lib/prisma';

export type Tier = 'free' | 'team' | 'enterprise';

export async function teamIdForCustomer(customerId: string): Promise<string> {
  const team = await prisma.team.findUniqueOrThrow({ where: { stripeCustomerId: customerId } });
  return team.id;
}

export async function setTeamTier(teamId: string, tier: Tier) {
  await prisma.team.update({ where: { id: teamId }, data: { tier, tierChangedAt: new Date() } });
}
