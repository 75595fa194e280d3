//! The access contract's rules: codes, names, severities and documentation.

use crate::report::Severity;
use crate::rules::Rule;

/// The access contract's rules (ACC).
pub static RULES: &[Rule] = &[
    Rule {
        code: "ACC001",
        name: "revenue-leak",
        severity: Severity::High,
        finds: "Billing entitles the customer (granting status, including past_due within the grace period) but the app's access is false.",
        why: "The customer pays and cannot use what they paid for: support tickets, refunds and churn. Usually a webhook handler that stopped granting access, or a grant written to the wrong row.",
        example: "Stripe subscription sub_123 is active for cus_abc, but users.has_paid_access is false for the user linked to cus_abc.",
        fix: "Set the access flag to true for this user, and make the handler of customer.subscription.created/updated (and checkout.session.completed) grant access.",
    },
    Rule {
        code: "ACC002",
        name: "wrongful-access",
        severity: Severity::High,
        finds: "The app grants access but the customer has no entitling subscription (canceled, unpaid, incomplete, incomplete_expired, paused, or none).",
        why: "Access without payment: lost revenue that nobody sees, because nobody complains about free access.",
        example: "cus_abc's only subscription is canceled, but has_paid_access is still true.",
        fix: "Revoke access for this user, and make the handler of customer.subscription.deleted/updated revoke access when the status stops granting.",
    },
    Rule {
        code: "ACC003",
        name: "plan-drift",
        severity: Severity::High,
        finds: "The app's plan differs from the plan mapped (through [access.plans]) from the prices of the customer's entitling subscriptions.",
        why: "Customers get more than they pay for, or less: an upgrade or downgrade that the app never applied.",
        example: "cus_abc pays for price_1Team (plan team) but users.plan is 'pro'.",
        fix: "Write the mapped plan to this user, and make the subscription.updated handler write the plan from the subscription's price.",
    },
    Rule {
        code: "ACC004",
        name: "unmapped-price",
        severity: Severity::Medium,
        finds: "An entitling subscription uses a price that is missing from [access.plans] (reported once per price, with a count).",
        why: "A new price was launched without teaching the app (or billguard) which plan it buys: its customers get a default plan, or none.",
        example: "12 active subscriptions use price_1NewAnnual, which [access.plans] does not map.",
        fix: "Add the price to [access.plans] in billguard.toml, and to the app's own price-to-plan map.",
    },
    Rule {
        code: "ACC005",
        name: "duplicate-customer",
        severity: Severity::Medium,
        finds: "One billing customer id is linked to several app users.",
        why: "Webhook updates land on whichever row the lookup finds first: one user pays, another gets (or loses) access.",
        example: "cus_abc is the customer id of users 17 and 42.",
        fix: "Keep the customer id on the one user who owns it, and add a unique index on the customer id column.",
    },
    Rule {
        code: "ACC006",
        name: "orphan-subscription",
        severity: Severity::Medium,
        finds: "An entitling subscription whose customer no app user links to.",
        why: "Someone is paying and the app does not know who: usually a checkout whose completion was never written back.",
        example: "sub_789 is active for cus_xyz, and no user has stripe_customer_id = cus_xyz.",
        fix: "Link the customer to its user (match by checkout client_reference_id or metadata), and make checkout.session.completed store the customer id.",
    },
    Rule {
        code: "ACC007",
        name: "grace-expired",
        severity: Severity::High,
        finds: "A subscription has been past_due for longer than the grace period and the app still grants access.",
        why: "Dunning failed, but the user keeps using the product for free.",
        example: "sub_123 is past_due since 2026-01-01, past_due_grace_days = 7, has_paid_access is true.",
        fix: "Revoke access when the grace period ends (a scheduled job or invoice.payment_failed handling), or widen past_due_grace_days if this grace is intended.",
    },
    Rule {
        code: "ACC008",
        name: "unlinked-paid-user",
        severity: Severity::Medium,
        finds: "A user has access but no billing customer id, and is not listed in [access] comped_users.",
        why: "Access that no payment can explain and no cancellation can revoke.",
        example: "user 42 has has_paid_access = true and stripe_customer_id = NULL.",
        fix: "Link the user to their billing customer, revoke the access, or add the user id to [access] comped_users if it is given on purpose.",
    },
    Rule {
        code: "ACC009",
        name: "multiple-entitling-subscriptions",
        severity: Severity::Low,
        finds: "One customer has two or more entitling subscriptions.",
        why: "Often double billing: a second checkout instead of an upgrade. The customer will ask for a refund.",
        example: "cus_abc has active subscriptions sub_1 and sub_2.",
        fix: "Check with the customer, cancel the extra subscription, and make checkout reuse the existing subscription for upgrades.",
    },
    Rule {
        code: "ACC010",
        name: "customer-not-in-account",
        severity: Severity::High,
        finds: "Most customer ids linked in the app are unknown to the billing account: the wrong account or the wrong mode (test vs live).",
        why: "Every comparison is meaningless, and usually the app itself talks to the wrong account: live customers checked against test data, or the reverse.",
        example: "9 of 10 users with access link cus_ ids that have no subscription of any status in the account the key opens.",
        fix: "Point billguard (and the app) at the account and mode that created these customers: check the key's mode and account.",
    },
];

