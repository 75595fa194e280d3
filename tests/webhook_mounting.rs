//! A stale copy of an Express webhook route that nothing mounts: what a change does to it
//! moves no customer's access, so its findings are low, with the reason. The same change
//! to a router the app does import stays high.

#[path = "support/git.rs"]
mod git_support;
use git_support::{committed_repo, high_rules, review, write};

const ROUTE: &str = r#"const express = require('express');
const router = express.Router();
const stripe = require('stripe')(process.env.STRIPE_SECRET_KEY);
const db = require('../db');

router.post('/stripe', express.raw({ type: 'application/json' }), async (req, res) => {
  let event;
  try {
    event = stripe.webhooks.constructEvent(req.body, req.headers['stripe-signature'], process.env.STRIPE_WEBHOOK_SECRET);
  } catch (err) {
    return res.status(400).send(`Webhook Error: ${err.message}`);
  }
  switch (event.type) {
    case 'customer.subscription.updated': {
      const sub = event.data.object;
      await db.user.update({ where: { stripeCustomerId: sub.customer }, data: { subscriptionStatus: sub.status } });
      break;
    }
    case 'customer.subscription.deleted': {
      const sub = event.data.object;
      await db.user.update({ where: { stripeCustomerId: sub.customer }, data: { subscriptionStatus: 'inactive' } });
      break;
    }
  }
  res.json({ received: true });
});

module.exports = router;
"#;

const MOUNTED: &str = "src/routes/webhook.js";
const COPY: &str = "src/routes/webhooks.js";

fn app(index: &str) -> tempfile::TempDir {
    committed_repo(&[
        ("src/index.js", index),
        ("src/db.js", "module.exports = require('./prisma');\n"),
        (MOUNTED, ROUTE),
        (COPY, &ROUTE.replace("subscriptionStatus: 'inactive'", "subscriptionStatus: 'canceled'")),
        ("src/routes/__tests__/webhooks.test.js", "const routes = require('../webhooks');\ntest('mounts', () => expect(routes).toBeDefined());\n"),
    ])
}

/// The copy stops revoking on `customer.subscription.deleted`.
fn drop_revocation(dir: &std::path::Path) {
    let copy = ROUTE.replace("subscriptionStatus: 'inactive'", "subscriptionStatus: 'canceled'");
    write(dir, COPY, &copy.replace("      await db.user.update({ where: { stripeCustomerId: sub.customer }, data: { subscriptionStatus: 'canceled' } });\n", ""));
}

#[test]
fn a_lost_revocation_in_a_router_only_tests_import_is_low_and_says_why() {
    let dir = app("const express = require('express');\nconst app = express();\napp.use('/webhook', require('./routes/webhook'));\napp.listen(3000);\n");
    drop_revocation(dir.path());
    let v = review(dir.path());
    assert!(high_rules(&v).is_empty(), "{v:#}");
    let findings = v["findings"].as_array().unwrap();
    let low = findings.iter().find(|f| f["rule"] == "WH005").unwrap_or_else(|| panic!("{v:#}"));
    assert_eq!(low["severity"], "low", "{v:#}");
    assert!(low["message"].as_str().unwrap().contains("unmounted copy"), "{v:#}");
    assert!(v["notes"].to_string().contains("src/routes/webhooks.js: a router no file of the app imports"), "{v:#}");
}

#[test]
fn the_same_loss_in_a_router_the_app_mounts_is_high() {
    let dir = app("const express = require('express');\nconst app = express();\napp.use('/webhook', require('./routes/webhook'));\napp.use('/webhooks', require('./routes/webhooks'));\napp.listen(3000);\n");
    drop_revocation(dir.path());
    let v = review(dir.path());
    assert!(high_rules(&v).contains(&"WH005".to_string()), "{v:#}");
}
