<?php

namespace App\Services;

use App\Models\Team;

class TeamBilling
{
    public function upgrade(string $teamId, string $customerId): void
    {
        Team::whereKey($teamId)->update(['stripe_customer_id' => $customerId, 'plan' => 'business', 'plan_ends_at' => null]);
    }

    public function downgrade(string $customerId): void
    {
        Team::where('stripe_customer_id', $customerId)->update(['plan' => 'free', 'plan_ends_at' => now()]);
    }
}
