<?php

use App\Http\Controllers\PaddleWebhookController;
use Illuminate\Support\Facades\Route;

Route::post('/paddle/webhook', PaddleWebhookController::class);
