//! Whether a failed or skipped signature check stops processing (WH003), on
//! the paths real handlers take: a framework call that throws an HTTP error
//! (Koa's `ctx.throw`), and verification moved under a missing-secret switch.

use billguard::webhook::review_texts;

fn findings(path: &str, before: &str, after: &str) -> Vec<(String, String, String)> {
    review_texts(path, Some(before), after).unwrap().into_iter().map(|f| (f.rule.to_string(), f.severity.as_str().to_string(), f.message)).collect()
}

const KOA: &str = r#"const Router = require('@koa/router');
const bodyParser = require('koa-body');
const Stripe = require('stripe');
const { dispatch } = require('../billing/dispatch');

const stripe = new Stripe(process.env.STRIPE_SECRET_KEY);
const router = new Router();

router.post('/api/billing/stripe-events', bodyParser({ includeUnparsed: true, multipart: false }), async (ctx) => {
  const secret = process.env.STRIPE_WEBHOOK_SECRET;
  if (!secret) {
    ctx.throw(500, 'webhook secret missing');
  }
  let event;
  try {
    event = stripe.webhooks.constructEvent(ctx.request.body[Symbol.for('unparsedBody')], ctx.get('stripe-signature'), secret);
  } catch (err) {
    ctx.throw(400, `signature: ${err.message}`);
  }
  await dispatch(event.type, event.data.object);
  ctx.body = { received: true };
});

module.exports = router;
"#;

#[test]
fn koa_ctx_throw_in_the_catch_stops_processing() {
    let after = KOA.replace("ctx.body = { received: true };", "ctx.status = 200;\n  ctx.body = { received: true };");
    let found = findings("src/routes/stripe.js", KOA, &after);
    assert!(!found.iter().any(|(r, ..)| r == "WH003"), "{found:?}");
    // The same catch that only logs: processing goes on with no event verified.
    let logs = KOA.replace("ctx.throw(400, `signature: ${err.message}`);", "console.warn(`signature: ${err.message}`);");
    let found = findings("src/routes/stripe.js", KOA, &logs);
    assert!(found.iter().any(|(r, s, _)| r == "WH003" && s == "high"), "{found:?}");
}

#[test]
fn verification_moved_under_a_missing_secret_switch_fails_open_and_says_when() {
    let after = KOA
        .replace("  if (!secret) {\n    ctx.throw(500, 'webhook secret missing');\n  }\n", "")
        .replace("  let event;\n  try {", "  let event;\n  if (!secret) {\n    event = ctx.request.body;\n  } else try {");
    let found = findings("src/routes/stripe.js", KOA, &after);
    let wh003: Vec<_> = found.iter().filter(|(r, s, _)| r == "WH003" && s == "high").collect();
    assert_eq!(wh003.len(), 1, "{found:?}");
    assert!(wh003[0].2.contains("runs only when `!secret` is false"), "{}", wh003[0].2);
}
