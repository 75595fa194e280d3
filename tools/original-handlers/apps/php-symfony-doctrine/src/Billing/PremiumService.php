<?php

namespace App\Billing;

use App\Entity\User;
use Doctrine\ORM\EntityManagerInterface;

class PremiumService
{
    public function __construct(private EntityManagerInterface $em)
    {
    }

    public function activate(int $userId, string $customerId): void
    {
        $user = $this->em->find(User::class, $userId);
        $user->setStripeCustomerId($customerId);
        $user->setPremium(true);
        $this->em->flush();
    }

    public function deactivate(string $customerId): void
    {
        $user = $this->em->getRepository(User::class)->findOneBy(['stripeCustomerId' => $customerId]);
        if ($user === null) {
            return;
        }
        $user->setPremium(false);
        $this->em->flush();
    }
}
