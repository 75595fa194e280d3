<?php

namespace App\Entity;

use Doctrine\ORM\Mapping as ORM;

#[ORM\Entity]
class User
{
    #[ORM\Id, ORM\GeneratedValue, ORM\Column]
    private ?int $id = null;

    #[ORM\Column(nullable: true)]
    private ?string $stripeCustomerId = null;

    #[ORM\Column]
    private bool $premium = false;

    public function setStripeCustomerId(string $id): void { $this->stripeCustomerId = $id; }
    public function setPremium(bool $premium): void { $this->premium = $premium; }
    public function isPremium(): bool { return $this->premium; }
}
