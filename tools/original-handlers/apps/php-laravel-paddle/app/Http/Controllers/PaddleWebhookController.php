<?php

namespace App\Http\Controllers;

use App\Models\Subscription;
use Illuminate\Http\Request;
use Paddle\SDK\Notifications\Secret;
use Paddle\SDK\Notifications\Verifier;

class PaddleWebhookController extends Controller
{
    public function __invoke(Request $request)
    {
        if (! (new Verifier())->verify($request, new Secret(config('services.paddle.webhook_secret')))) {
            abort(401);
        }

        $payload = $request->json()->all();
        $data = $payload['data'];

        switch ($payload['event_type']) {
            case 'subscription.created':
            case 'subscription.updated':
                Subscription::updateOrCreate(
                    ['paddle_id' => $data['id']],
                    ['user_id' => $data['custom_data']['user_id'] ?? null, 'status' => $data['status']]
                );
                break;
            case 'subscription.canceled':
                Subscription::where('paddle_id', $data['id'])->delete();
                break;
        }

        return response()->noContent();
    }
}
