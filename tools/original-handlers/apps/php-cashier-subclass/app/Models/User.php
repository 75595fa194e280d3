<?php

namespace App\Models;

use Illuminate\Foundation\Auth\User as Authenticatable;
use Laravel\Cashier\Billable;

class User extends Authenticatable
{
    use Billable;

    protected $fillable = ['name', 'email', 'is_pro'];

    protected $casts = ['is_pro' => 'boolean'];
}
