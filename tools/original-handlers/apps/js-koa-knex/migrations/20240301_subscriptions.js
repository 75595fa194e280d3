exports.up = (knex) =>
  knex.schema.createTable('subscriptions', (t) => {
    t.string('stripe_id').primary();
    t.string('customer_id').notNullable().index();
    t.string('status').notNullable();
    t.string('price_id');
    t.timestamp('current_period_end');
  });

exports.down = (knex) => knex.schema.dropTable('subscriptions');
