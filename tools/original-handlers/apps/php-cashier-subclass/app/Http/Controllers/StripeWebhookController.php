<?php

namespace App\Http\Controllers;

use App\Models\User;
use Laravel\Cashier\Http\Controllers\WebhookController as CashierController;
use Symfony\Component\HttpFoundation\Response;

class StripeWebhookController extends CashierController
{
    public function handleInvoicePaymentSucceeded(array $payload): Response
    {
        $user = User::where('stripe_id', $payload['data']['object']['customer'])->first();
        $user?->update(['is_pro' => true]);

        return $this->successMethod();
    }

    public function handleCustomerSubscriptionDeleted(array $payload): Response
    {
        $response = parent::handleCustomerSubscriptionDeleted($payload);

        $user = User::where('stripe_id', $payload['data']['object']['customer'])->first();
        $user?->update(['is_pro' => false]);

        return $response;
    }
}
