import { PrismaClient } from '@prisma/client';

const prisma = new PrismaClient();

export const accounts = {
  linkCustomer(accountId: string, customerId: string) {
    return prisma.account.update({ where: { id: accountId }, data: { stripeCustomerId: customerId } });
  },
  grantPro(customerId: string) {
    return prisma.account.update({
      where: { stripeCustomerId: customerId },
      data: { isPro: true, plan: 'pro' },
    });
  },
  revokePro(customerId: string) {
    return prisma.account.update({
      where: { stripeCustomerId: customerId },
      data: { isPro: false, plan: 'free' },
    });
  },
};
