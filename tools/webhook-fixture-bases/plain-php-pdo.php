<?php

// public/stripe-webhook.php
require __DIR__ . '/../vendor/autoload.php';

use Stripe\Exception\SignatureVerificationException;

$pdo = new PDO(getenv('DATABASE_DSN'), getenv('DATABASE_USER'), getenv('DATABASE_PASSWORD'), [
    PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION,
]);

const PLAN_BY_PRICE = [
    'price_1PqBasicMonthly' => 'basic',
    'price_1PqProMonthly' => 'pro',
];

$payload = @file_get_contents('php://input');
$signature = $_SERVER['HTTP_STRIPE_SIGNATURE'] ?? '';

try {
    $event = \Stripe\Webhook::constructEvent($payload, $signature, getenv('STRIPE_WEBHOOK_SECRET'));
} catch (\UnexpectedValueException | SignatureVerificationException $e) {
    error_log('stripe webhook rejected: ' . $e->getMessage());
    http_response_code(400);
    exit();
}

try {
    $pdo->beginTransaction();
    switch ($event->type) {
        case 'checkout.session.completed':
            $session = $event->data->object;
            if ($session->payment_status === 'paid') {
                $pdo->prepare('UPDATE accounts SET stripe_customer_id = ?, has_paid_access = 1, plan = ? WHERE id = ?')
                    ->execute([$session->customer, PLAN_BY_PRICE[$session->metadata->price_id] ?? 'basic', $session->client_reference_id]);
            }
            break;
        case 'customer.subscription.updated':
            $subscription = \Stripe\Subscription::retrieve($event->data->object->id);
            $paying = in_array($subscription->status, ['active', 'trialing'], true);
            $pdo->prepare('UPDATE accounts SET has_paid_access = ? WHERE stripe_customer_id = ?')
                ->execute([$paying ? 1 : 0, $subscription->customer]);
            break;
        case 'customer.subscription.deleted':
            $subscription = $event->data->object;
            $pdo->prepare("UPDATE accounts SET has_paid_access = 0, plan = 'free' WHERE stripe_customer_id = ?")
                ->execute([$subscription->customer]);
            break;
        case 'invoice.paid':
            $invoice = $event->data->object;
            $pdo->prepare('UPDATE accounts SET last_paid_at = NOW() WHERE stripe_customer_id = ?')
                ->execute([$invoice->customer]);
            break;
        default:
            error_log('stripe webhook: ignoring ' . $event->type);
    }
    $pdo->prepare('INSERT INTO stripe_events (id, type) VALUES (?, ?)')->execute([$event->id, $event->type]);
    $pdo->commit();
} catch (\Throwable $e) {
    $pdo->rollBack();
    error_log('stripe webhook failed: ' . $e->getMessage());
    http_response_code(500);
    exit();
}

http_response_code(200);
echo json_encode(['received' => true]);
