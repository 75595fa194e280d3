<?php

namespace App\Http\Controllers;

use App\Models\User;
use Illuminate\Support\Facades\Log;
use Laravel\Cashier\Http\Controllers\WebhookController as CashierController;
use Symfony\Component\HttpFoundation\Response;

/**
 * Stripe webhooks (route: POST /stripe/webhook). Cashier verifies the signature
 * and keeps the subscriptions table in sync; the overrides below also keep the
 * users.has_paid_access flag and users.plan that the app reads.
 */
class StripeWebhookController extends CashierController
{
    private const PLANS = [
        'price_1PqProMonthly' => 'pro',
        'price_1PqTeamMonthly' => 'team',
    ];

    protected function handleCheckoutSessionCompleted(array $payload): Response
    {
        $session = $payload['data']['object'];
        if ($session['payment_status'] !== 'paid') {
            return $this->successMethod();
        }

        $user = User::findOrFail($session['client_reference_id']);
        $user->forceFill([
            'stripe_id' => $session['customer'],
            'has_paid_access' => true,
            'plan' => self::PLANS[$session['metadata']['price_id']] ?? 'pro',
        ])->save();

        return $this->successMethod();
    }

    protected function handleCustomerSubscriptionUpdated(array $payload): Response
    {
        $response = parent::handleCustomerSubscriptionUpdated($payload);

        $subscription = $payload['data']['object'];
        if ($user = $this->getUserByStripeId($subscription['customer'])) {
            $user->update([
                'has_paid_access' => in_array($subscription['status'], ['active', 'trialing'], true),
            ]);
        }

        return $response;
    }

    protected function handleCustomerSubscriptionDeleted(array $payload): Response
    {
        $response = parent::handleCustomerSubscriptionDeleted($payload);

        if ($user = $this->getUserByStripeId($payload['data']['object']['customer'])) {
            $user->update(['has_paid_access' => false, 'plan' => 'free']);
        }

        return $response;
    }

    protected function handleInvoicePaymentFailed(array $payload): Response
    {
        if ($user = $this->getUserByStripeId($payload['data']['object']['customer'])) {
            $user->update(['payment_failed_at' => now()]);
        }

        return $this->successMethod();
    }
}
