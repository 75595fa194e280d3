<?php

namespace App\Http\Controllers;

use App\Services\TeamBilling;
use Illuminate\Http\Request;
use Illuminate\Support\Facades\Log;
use Stripe\Exception\SignatureVerificationException;
use Stripe\Webhook;

class BillingWebhookController extends Controller
{
    public function __construct(private TeamBilling $billing)
    {
    }

    public function __invoke(Request $request)
    {
        try {
            $event = Webhook::constructEvent(
                $request->getContent(),
                $request->header('Stripe-Signature'),
                config('services.stripe.webhook_secret')
            );
        } catch (SignatureVerificationException|\UnexpectedValueException $e) {
            return response('invalid signature', 400);
        }

        try {
            $object = $event->data->object;
            match ($event->type) {
                'checkout.session.completed' => $object->payment_status === 'paid'
                    ? $this->billing->upgrade($object->client_reference_id, $object->customer)
                    : null,
                'customer.subscription.deleted' => $this->billing->downgrade($object->customer),
                default => null,
            };
        } catch (\Throwable $e) {
            Log::error('stripe webhook failed', ['id' => $event->id, 'error' => $e->getMessage()]);
            return response('error', 500);
        }

        return response()->json(['received' => true]);
    }
}
