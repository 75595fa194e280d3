<?php

namespace App\Controller;

use App\Billing\PremiumService;
use Stripe\Exception\SignatureVerificationException;
use Stripe\Webhook;
use Symfony\Bundle\FrameworkBundle\Controller\AbstractController;
use Symfony\Component\HttpFoundation\Request;
use Symfony\Component\HttpFoundation\Response;
use Symfony\Component\Routing\Attribute\Route;

class StripeWebhookController extends AbstractController
{
    public function __construct(private PremiumService $premium, private string $stripeWebhookSecret)
    {
    }

    #[Route('/webhook/stripe', name: 'stripe_webhook', methods: ['POST'])]
    public function __invoke(Request $request): Response
    {
        try {
            $event = Webhook::constructEvent($request->getContent(), $request->headers->get('stripe-signature', ''), $this->stripeWebhookSecret);
        } catch (SignatureVerificationException|\UnexpectedValueException) {
            return new Response('invalid', 400);
        }

        $object = $event->data->object;
        if ($event->type === 'checkout.session.completed' && $object->payment_status === 'paid') {
            $this->premium->activate((int) $object->client_reference_id, $object->customer);
        } elseif ($event->type === 'customer.subscription.deleted') {
            $this->premium->deactivate($object->customer);
        }

        return new Response('', 204);
    }
}
