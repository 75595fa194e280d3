'use strict';
const { Pool } = require('pg');

exports.pool = new Pool({ connectionString: process.env.DATABASE_URL });
