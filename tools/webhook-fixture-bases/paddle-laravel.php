<?php

namespace App\Http\Controllers;

use App\Models\Account;
use Illuminate\Http\Request;
use Illuminate\Support\Facades\Log;

class PaddleWebhookController extends Controller
{
    public function __invoke(Request $request)
    {
        $raw = $request->getContent();
        if (!$this->hasValidSignature($raw, (string) $request->header('Paddle-Signature'))) {
            return response('invalid signature', 401);
        }

        $event = json_decode($raw, true);
        $data = $event['data'];
        switch ($event['event_type']) {
            case 'subscription.activated':
            case 'subscription.updated':
                $entitled = in_array($data['status'], ['active', 'trialing'], true);
                Account::where('paddle_customer_id', $data['customer_id'])->update(['has_paid_access' => $entitled]);
                break;
            case 'subscription.canceled':
                Account::where('paddle_customer_id', $data['customer_id'])->update(['has_paid_access' => false, 'plan' => 'free']);
                break;
            default:
                Log::info('ignoring paddle event ' . $event['event_type']);
        }

        return response()->json(['received' => true]);
    }

    /** Paddle-Signature: ts=...;h1=...[;h1=... during a secret rotation] */
    private function hasValidSignature(string $raw, string $header): bool
    {
        $ts = null;
        $signatures = [];
        foreach (explode(';', $header) as $part) {
            [$key, $value] = array_pad(explode('=', $part, 2), 2, '');
            if ($key === 'ts') {
                $ts = $value;
            } elseif ($key === 'h1') {
                $signatures[] = $value;
            }
        }
        if ($ts === null || abs(time() - (int) $ts) > 5) {
            return false;
        }
        $expected = hash_hmac('sha256', $ts . ':' . $raw, config('services.paddle.webhook_secret'));
        foreach ($signatures as $signature) {
            if (hash_equals($expected, $signature)) {
                return true;
            }
        }
        return false;
    }
}
