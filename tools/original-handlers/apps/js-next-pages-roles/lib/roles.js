import prisma from './prisma';

export async function addRole(userId, role) {
  await prisma.userRole.upsert({
    where: { userId_role: { userId, role } },
    create: { userId, role },
    update: {},
  });
}

export async function removeRole(userId, role) {
  await prisma.userRole.deleteMany({ where: { userId, role } });
}
