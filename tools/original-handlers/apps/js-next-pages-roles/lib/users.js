import prisma from './prisma';

export const findUserByCustomer = (customerId) =>
  prisma.user.findFirst({ where: { stripeCustomerId: customerId } });
