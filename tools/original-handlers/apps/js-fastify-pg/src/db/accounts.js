'use strict';
const { pool } = require('./pool');

exports.enable = (customerId, plan) =>
  pool.query('UPDATE accounts SET has_access = true, plan = $2, past_due = false WHERE stripe_customer_id = $1', [customerId, plan]);

exports.flagPastDue = (customerId) =>
  pool.query('UPDATE accounts SET past_due = true WHERE stripe_customer_id = $1', [customerId]);

exports.disable = (customerId) =>
  pool.query("UPDATE accounts SET has_access = false, plan = 'free' WHERE stripe_customer_id = $1", [customerId]);

exports.recordEvent = (id, type) =>
  pool.query('INSERT INTO stripe_events (id, type) VALUES ($1, $2) ON CONFLICT DO NOTHING', [id, type]);

exports.seen = async (id) => (await pool.query('SELECT 1 FROM stripe_events WHERE id = $1', [id])).rowCount > 0;
