<?php

use Illuminate\Database\Migrations\Migration;
use Illuminate\Database\Schema\Blueprint;
use Illuminate\Support\Facades\Schema;

return new class extends Migration {
    public function up(): void
    {
        Schema::table('teams', function (Blueprint $table) {
            $table->string('stripe_customer_id')->nullable()->unique();
            $table->string('plan')->default('free');
            $table->timestamp('plan_ends_at')->nullable();
        });
    }
};
