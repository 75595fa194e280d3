//! Statuses the app stores after mapping the provider's: a change that sends an
//! unpaid status (past_due, unpaid, incomplete, paused) to a paying value grants
//! access to a subscription whose payment failed (WH011), whether the map is a
//! switch, a helper the write now goes through, or a list constant the write
//! tests. Each shape has a quiet twin that maps the status to its own value.

#[path = "support/git.rs"]
mod git_support;
use git_support::{committed_repo, high_rules, review, write};

const TS_SERVICE: &str = r#"import Stripe from 'stripe';
import { prisma } from './db';

const stripe = new Stripe(process.env.STRIPE_SECRET_KEY!);

export async function POST(req: Request) {
  const body = await req.text();
  let event: Stripe.Event;
  try {
    event = stripe.webhooks.constructEvent(body, req.headers.get('stripe-signature')!, process.env.STRIPE_WEBHOOK_SECRET!);
  } catch (err) {
    return new Response('bad signature', { status: 400 });
  }
  switch (event.type) {
    case 'customer.subscription.updated': {
      const sub = event.data.object as Stripe.Subscription;
      await prisma.shop.update({ where: { stripeCustomerId: sub.customer as string }, data: { subscriptionStatus: parseStatus(sub.status) } });
      break;
    }
  }
  return new Response('ok');
}

function parseStatus(status: Stripe.Subscription.Status) {
  switch (status) {
    case 'active':
      return SubscriptionStatus.ACTIVE;
    case 'canceled':
      return SubscriptionStatus.CANCELED;
    case 'past_due':
      return SubscriptionStatus.PAST_DUE;
    case 'trialing':
      return SubscriptionStatus.TRIALING;
    default:
      return SubscriptionStatus.INCOMPLETE;
  }
}
"#;

#[test]
fn a_switch_that_now_maps_past_due_to_active_is_wh011() {
    let dir = committed_repo(&[("app/api/stripe/route.ts", TS_SERVICE)]);
    let widened = TS_SERVICE
        .replace("    case 'active':\n", "    case 'active':\n    // keep the shop running while Stripe retries\n    case 'past_due':\n")
        .replace("    case 'past_due':\n      return SubscriptionStatus.PAST_DUE;\n", "");
    assert_ne!(widened, TS_SERVICE);
    write(dir.path(), "app/api/stripe/route.ts", &widened);
    let v = review(dir.path());
    assert!(high_rules(&v).contains(&"WH011".to_string()), "{v:#}");

    // Quiet: the cases reordered, past_due still its own status.
    let dir = committed_repo(&[("app/api/stripe/route.ts", TS_SERVICE)]);
    let reordered = TS_SERVICE
        .replace("    case 'past_due':\n      return SubscriptionStatus.PAST_DUE;\n", "")
        .replace("    case 'active':\n", "    case 'past_due':\n      return SubscriptionStatus.PAST_DUE;\n    case 'active':\n");
    write(dir.path(), "app/api/stripe/route.ts", &reordered);
    let v = review(dir.path());
    assert!(high_rules(&v).is_empty(), "{v:#}");
}

const PHP_TRAIT: &str = r#"<?php

namespace App\Billing;

use App\Models\Membership;

trait StripeActions
{
    public function syncSubscription(array $payload)
    {
        Membership::where('stripe_id', $payload['id'])->update([
            'status' => $payload['status'],
            'ends_at' => $payload['current_period_end'],
        ]);
    }
}
"#;

#[test]
fn a_status_now_written_through_a_helper_that_maps_unpaid_to_active_is_wh011() {
    let dir = committed_repo(&[("app/Billing/StripeActions.php", PHP_TRAIT)]);
    let helper = |body: &str| {
        PHP_TRAIT.replace("'status' => $payload['status'],", "'status' => $this->localStatus($payload['status']),").replace(
            "    }\n}\n",
            &format!("    }}\n\n    public function localStatus($status)\n    {{\n{body}\n        return $status;\n    }}\n}}\n"),
        )
    };
    write(dir.path(), "app/Billing/StripeActions.php", &helper("        if (in_array($status, ['past_due', 'unpaid']))\n            return 'active';"));
    let v = review(dir.path());
    assert!(high_rules(&v).contains(&"WH011".to_string()), "{v:#}");

    // Quiet: the helper maps Stripe's names onto the app's, unpaid stays unpaid.
    let dir = committed_repo(&[("app/Billing/StripeActions.php", PHP_TRAIT)]);
    write(dir.path(), "app/Billing/StripeActions.php", &helper("        if (in_array($status, ['past_due', 'unpaid']))\n            return 'suspended';"));
    let v = review(dir.path());
    assert!(high_rules(&v).is_empty(), "{v:#}");
}

const RB_SERVICE: &str = r#"module StripeSynchronizationService
  ACTIVE_SUBSCRIPTION_STATUSES = ['active', 'trialing']

  def self.handle_stripe_event_now(event:)
    case event.type
    when 'customer.subscription.created', 'customer.subscription.updated', 'customer.subscription.deleted'
      subscription = Stripe::Subscription.retrieve(event.data.object.id)
      record = StripeSubscription.find_or_initialize_by(stripe_id: subscription.id)
      record.active = ACTIVE_SUBSCRIPTION_STATUSES.include?(subscription.status)
      record.save!
    end
  end
end
"#;

#[test]
fn past_due_added_to_the_list_a_grant_tests_is_wh011() {
    let dir = committed_repo(&[("app/services/stripe_synchronization_service.rb", RB_SERVICE)]);
    write(dir.path(), "app/services/stripe_synchronization_service.rb", &RB_SERVICE.replace("['active', 'trialing']", "['active', 'trialing', 'past_due']"));
    let v = review(dir.path());
    assert!(high_rules(&v).contains(&"WH011".to_string()), "{v:#}");

    // Quiet: the list moved into the method, the same statuses.
    let dir = committed_repo(&[("app/services/stripe_synchronization_service.rb", RB_SERVICE)]);
    write(dir.path(), "app/services/stripe_synchronization_service.rb", &RB_SERVICE.replace("['active', 'trialing']", "%w[active trialing].freeze"));
    let v = review(dir.path());
    assert!(!high_rules(&v).contains(&"WH011".to_string()), "{v:#}");
}
