<?php
require __DIR__ . '/../vendor/autoload.php';
require __DIR__ . '/../lib/db.php';
require __DIR__ . '/../lib/memberships.php';

$secret = getenv('STRIPE_WEBHOOK_SECRET');
if (!$secret) {
    http_response_code(500);
    exit('webhook secret missing');
}

$payload = file_get_contents('php://input');
$sig = $_SERVER['HTTP_STRIPE_SIGNATURE'] ?? '';
try {
    $event = \Stripe\Webhook::constructEvent($payload, $sig, $secret);
} catch (\UnexpectedValueException | \Stripe\Exception\SignatureVerificationException $e) {
    http_response_code(400);
    exit();
}

$pdo = db();
$obj = $event->data->object;
switch ($event->type) {
    case 'customer.subscription.updated':
        set_membership_status($pdo, $obj->customer, $obj->status);
        break;
    case 'customer.subscription.deleted':
        set_membership_status($pdo, $obj->customer, 'canceled');
        break;
}
http_response_code(200);
