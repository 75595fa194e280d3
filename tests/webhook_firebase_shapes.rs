//! A Firebase Functions app, shaped like real ones: `index.js` exports the HTTPS
//! function and hands the request to a service module that verifies, records the
//! event, and dispatches on constants required from another file; writes go to
//! Firestore through a third module, with document paths (`"subscription.status"`)
//! and tier names (`"Pro"`, `"Free"`) in a status field. Each shape has a
//! regression and a quiet twin.

#[path = "support/git.rs"]
mod git_support;
use git_support::{committed_repo, high_rules, review, write};

const INDEX: &str = r#"const functions = require("firebase-functions");
const stripeService = require("./services/stripe-service");

exports.stripeWebhook = functions.https.onRequest(async (request, response) => {
  try {
    console.log("Called Stripe webhook");
    await stripeService.webhook(request);
    response.status(200).send();
  } catch (error) {
    console.error(error);
    response.status(500).send("Error handling webhook");
  }
});
"#;

const EVENTS: &str = r#"const stripeEvents = {
  checkoutSessionCompleted: "checkout.session.completed",
  customerSubscriptionDeleted: "customer.subscription.deleted",
};

module.exports = stripeEvents;
"#;

const FIRESTORE: &str = r#"const firebaseAdmin = require("firebase-admin");

async function updateUser(userId, updatedData) {
  const db = firebaseAdmin.firestore();
  await db.collection("users").doc(userId).update(updatedData);
}

async function addStripeEvent(event) {
  const db = firebaseAdmin.firestore();
  await db.collection("stripe_events").add({ event: event });
}

async function hasStripeEvent(eventId) {
  const db = firebaseAdmin.firestore();
  const snapshot = await db.collection("stripe_events").where("event.id", "==", eventId).limit(1).get();
  return !snapshot.empty;
}

module.exports = { updateUser, addStripeEvent, hasStripeEvent };
"#;

const SERVICE: &str = r#"const firestoreService = require("./firestore-service");
const stripeEvents = require("../values/stripe-events");

async function upgradeCustomerSubscription(event) {
  const data = event.data.object;
  await firestoreService.updateUser(data.metadata.firebase_user_id, {
    subscription: {
      latest_payment_id: data.id,
      status: "Pro",
      stripe_customer_id: data.customer,
    },
  });
}

async function downgradeCustomerSubscription(event) {
  const data = event.data.object;
  await firestoreService.updateUser(data.metadata.firebase_user_id, {
    "subscription.status": "Free",
  });
}

async function webhook(request) {
  const stripe = require("stripe")(process.env.STRIPE_SECRET_KEY);
  const event = stripe.webhooks.constructEvent(
    request.rawBody,
    request.headers["stripe-signature"],
    process.env.STRIPE_WEBHOOK_SECRET,
  );

//CHECK
  await firestoreService.addStripeEvent(event);

  switch (event.type) {
    case stripeEvents.checkoutSessionCompleted:
      await upgradeCustomerSubscription(event);
      break;
    case stripeEvents.customerSubscriptionDeleted:
      await downgradeCustomerSubscription(event);
      break;
  }
}

module.exports = { webhook };
"#;

fn service() -> String {
    SERVICE.replace("//CHECK\n", "")
}

fn app() -> tempfile::TempDir {
    committed_repo(&[
        ("functions/index.js", INDEX),
        ("functions/values/stripe-events.js", EVENTS),
        ("functions/services/firestore-service.js", FIRESTORE),
        ("functions/services/stripe-service.js", &service()),
    ])
}

#[test]
fn a_route_that_answers_200_before_handing_the_request_on_acknowledges_failures() {
    let dir = app();
    let acked_first = INDEX.replace(
        "    await stripeService.webhook(request);\n    response.status(200).send();\n",
        "    response.status(200).send();\n    await stripeService.webhook(request);\n",
    );
    assert_ne!(acked_first, INDEX);
    write(dir.path(), "functions/index.js", &acked_first);
    let v = review(dir.path());
    assert!(high_rules(&v).contains(&"WH010".to_string()), "{v:#}");
    assert!(v["scope"]["handler_files"].as_array().is_some_and(|h| h.iter().any(|h| h["path"] == "functions/index.js")), "{v:#}");

    // Quiet: the route only logs more; the 200 still follows the work.
    let dir = app();
    write(dir.path(), "functions/index.js", &INDEX.replace("console.error(error);", "console.error(\"webhook failed\", error);"));
    let v = review(dir.path());
    assert!(high_rules(&v).is_empty(), "{v:#}");
}

#[test]
fn a_document_path_set_to_free_is_the_revocation() {
    let dir = app();
    write(
        dir.path(),
        "functions/services/stripe-service.js",
        &service().replace("    \"subscription.status\": \"Free\",\n", "    \"subscription.date_ended\": new Date(),\n"),
    );
    let v = review(dir.path());
    assert!(high_rules(&v).contains(&"WH005".to_string()), "{v:#}");

    // Quiet: the same revocation, one more field recorded beside it.
    let dir = app();
    write(
        dir.path(),
        "functions/services/stripe-service.js",
        &service().replace("    \"subscription.status\": \"Free\",\n", "    \"subscription.status\": \"Free\",\n    \"subscription.date_ended\": new Date(),\n"),
    );
    let v = review(dir.path());
    assert!(high_rules(&v).is_empty(), "{v:#}");
}

#[test]
fn a_handler_map_keyed_by_event_constants_handles_the_same_events() {
    let dir = app();
    let map = service().replace(
        "  switch (event.type) {\n    case stripeEvents.checkoutSessionCompleted:\n      await upgradeCustomerSubscription(event);\n      break;\n    case stripeEvents.customerSubscriptionDeleted:\n      await downgradeCustomerSubscription(event);\n      break;\n  }\n",
        "  const handlers = {\n    [stripeEvents.checkoutSessionCompleted]: (e) => upgradeCustomerSubscription(e),\n    [stripeEvents.customerSubscriptionDeleted]: (e) => downgradeCustomerSubscription(e),\n  };\n  const handler = handlers[event.type];\n  if (handler) {\n    await handler(event);\n  }\n",
    );
    assert!(map.contains("const handlers"));
    write(dir.path(), "functions/services/stripe-service.js", &map);
    let v = review(dir.path());
    assert!(high_rules(&v).is_empty(), "{v:#}");

    // The map forgets the deleted event: it is no longer handled.
    let dir = app();
    write(dir.path(), "functions/services/stripe-service.js", &map.replace("    [stripeEvents.customerSubscriptionDeleted]: (e) => downgradeCustomerSubscription(e),\n", ""));
    let v = review(dir.path());
    assert!(high_rules(&v).iter().any(|r| r == "WH006" || r == "WH005"), "{v:#}");
}

#[test]
fn a_dedup_check_in_front_of_an_early_record_skips_retries() {
    let dir = app();
    let check = "  if (await firestoreService.hasStripeEvent(event.id)) {\n    return;\n  }\n";
    write(dir.path(), "functions/services/stripe-service.js", &SERVICE.replace("//CHECK\n", check));
    let v = review(dir.path());
    assert!(high_rules(&v).contains(&"WH007".to_string()), "{v:#}");

    // Quiet: the event is still recorded early, and nothing reads the record.
    let dir = app();
    write(dir.path(), "functions/services/stripe-service.js", &SERVICE.replace("//CHECK\n", "  console.log(\"event\", event.id);\n"));
    let v = review(dir.path());
    assert!(high_rules(&v).is_empty(), "{v:#}");
}

#[test]
fn a_body_that_may_be_re_serialized_is_no_raw_body() {
    let dir = app();
    let payload = service().replace(
        "  const event = stripe.webhooks.constructEvent(\n    request.rawBody,",
        "  const payload = typeof request.body === \"string\" ? request.body : JSON.stringify(request.body);\n  const event = stripe.webhooks.constructEvent(\n    payload,",
    );
    assert!(payload.contains("JSON.stringify"));
    write(dir.path(), "functions/services/stripe-service.js", &payload);
    let v = review(dir.path());
    assert!(high_rules(&v).contains(&"WH002".to_string()), "{v:#}");

    // Quiet: the raw body, through a local.
    let dir = app();
    write(
        dir.path(),
        "functions/services/stripe-service.js",
        &service().replace("  const event = stripe.webhooks.constructEvent(\n    request.rawBody,", "  const payload = request.rawBody;\n  const event = stripe.webhooks.constructEvent(\n    payload,"),
    );
    let v = review(dir.path());
    assert!(high_rules(&v).is_empty(), "{v:#}");
}
