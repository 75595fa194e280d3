<?php

namespace App\Models;

use Illuminate\Database\Eloquent\Model;

class Subscription extends Model
{
    protected $fillable = ['paddle_id', 'user_id', 'status'];

    public function grantsAccess(): bool
    {
        return in_array($this->status, ['active', 'trialing'], true);
    }
}
