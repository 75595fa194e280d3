//! Dispatch that lives somewhere other than the route: a lookup function of
//! another file that hands back the handler for a type, a Ruby command called
//! with the `.()` shorthand, predicate methods that test the type, and a
//! handler moved from one kept file to another. Each shape has a regression
//! and a quiet twin.

#[path = "support/git.rs"]
mod git_support;
use git_support::{committed_repo, high_rules, review, write};

// ---------------------------------------------------------------------------
// `const handler = getEventHandler(event.type); await handler(event)`.

const LOOKUP_ROUTE: &str = r#"import Stripe from 'stripe';
import { getEventHandler } from './handlers';

const stripe = new Stripe(process.env.STRIPE_SECRET_KEY!);

export async function POST(request: Request) {
  const body = await request.text();
  let event: Stripe.Event;
  try {
    event = stripe.webhooks.constructEvent(body, request.headers.get('stripe-signature')!, process.env.STRIPE_WEBHOOK_SECRET!);
  } catch (err) {
    return new Response('bad signature', { status: 400 });
  }
  const handler = getEventHandler(event.type);
  if (!handler) {
    return new Response('ignored', { status: 200 });
  }
  await handler(event);
  return new Response('ok');
}
"#;

const LOOKUP: &str = r#"import { onSubscriptionDeleted } from './deleted';
import { onSubscriptionUpdated } from './updated';

export function getEventHandler(type: string) {
  switch (type) {
    case 'customer.subscription.deleted':
      return onSubscriptionDeleted;
    case 'customer.subscription.updated':
      return onSubscriptionUpdated;
    default:
      return null;
  }
}
"#;

const DELETED: &str = r#"import { prisma } from '../db';

export async function onSubscriptionDeleted(event: any) {
  await prisma.space.update({ where: { customerId: event.data.object.customer }, data: { isPro: false } });
}
"#;

const UPDATED: &str = r#"import { prisma } from '../db';

export async function onSubscriptionUpdated(event: any) {
  const sub = event.data.object;
  await prisma.space.update({ where: { customerId: sub.customer }, data: { isPro: sub.status === 'active' } });
}
"#;

fn lookup_repo() -> tempfile::TempDir {
    committed_repo(&[
        ("app/api/stripe/webhook/route.ts", LOOKUP_ROUTE),
        ("app/api/stripe/webhook/handlers/index.ts", LOOKUP),
        ("app/api/stripe/webhook/handlers/deleted.ts", DELETED),
        ("app/api/stripe/webhook/handlers/updated.ts", UPDATED),
        ("app/api/stripe/webhook/db.ts", "export const prisma: any = {};\n"),
    ])
}

#[test]
fn a_handler_handed_back_by_a_lookup_function_is_followed_per_event() {
    let dir = lookup_repo();
    write(dir.path(), "app/api/stripe/webhook/handlers/deleted.ts", &DELETED.replace("data: { isPro: false }", "data: { cancelledAt: new Date() }"));
    let v = review(dir.path());
    // The route itself handles both events, through the function the lookup hands back.
    let route = v["scope"]["handler_files"].as_array().unwrap().iter().find(|f| f["path"] == "app/api/stripe/webhook/route.ts").cloned().unwrap_or_default();
    assert!(route["events"].to_string().contains("customer.subscription.deleted"), "{v:#}");
    assert!(high_rules(&v).contains(&"WH005".to_string()), "{v:#}");
}

#[test]
fn a_handler_handed_back_by_a_lookup_function_that_still_revokes_is_quiet() {
    let dir = lookup_repo();
    write(dir.path(), "app/api/stripe/webhook/handlers/deleted.ts", &DELETED.replace("data: { isPro: false }", "data: { isPro: false, cancelledAt: new Date() }"));
    let v = review(dir.path());
    assert_eq!(high_rules(&v), Vec::<String>::new(), "{v:#}");
}

// ---------------------------------------------------------------------------
// A Ruby job that verifies and hands the event to a command (`HandleEvent.(event)`).

const JOB: &str = r#"class HandleStripeWebhookJob < ApplicationJob
  def perform(signature, payload)
    event = Stripe::Webhook.construct_event(payload, signature, ENV.fetch("STRIPE_WEBHOOK_SECRET"))
    Payments::HandleEvent.(event)
  end
end
"#;

const COMMAND: &str = r#"class Payments::HandleEvent
  include Mandate

  initialize_with :event

  def call
    case event.type
    when 'customer.subscription.deleted'
      User.find_by!(stripe_customer_id: event.data.object.customer).update!(premium: false)
    end
  end
end
"#;

/// A nightly sync that replays events listed from the Stripe API through the same command.
const SYNC: &str = r#"class Payments::SyncAll
  include Mandate

  def call
    Stripe::Event.list({ limit: 100, type: 'customer.subscription.deleted' }).auto_paging_each do |event|
      Payments::HandleEvent.(event)
    end
  end
end
"#;

#[test]
fn a_command_called_with_the_shorthand_is_the_verifying_job_s_dispatch() {
    let dir = committed_repo(&[("app/jobs/handle_stripe_webhook_job.rb", JOB), ("app/commands/payments/handle_event.rb", COMMAND)]);
    write(dir.path(), "app/commands/payments/handle_event.rb", &COMMAND.replace("update!(premium: false)", "touch"));
    let v = review(dir.path());
    let rules = high_rules(&v);
    assert!(rules.contains(&"WH005".to_string()), "{v:#}");
    assert!(!rules.contains(&"WH001".to_string()), "the job verifies before the command runs: {v:#}");
}

#[test]
fn events_listed_from_the_provider_api_need_no_signature() {
    let dir = committed_repo(&[("app/jobs/handle_stripe_webhook_job.rb", JOB), ("app/commands/payments/handle_event.rb", COMMAND)]);
    write(dir.path(), "app/commands/payments/sync_all.rb", SYNC);
    let v = review(dir.path());
    assert_eq!(high_rules(&v), Vec::<String>::new(), "{v:#}");
}

#[test]
fn events_parsed_from_a_request_and_handed_to_the_command_still_need_a_signature() {
    let dir = committed_repo(&[("app/jobs/handle_stripe_webhook_job.rb", JOB), ("app/commands/payments/handle_event.rb", COMMAND)]);
    write(
        dir.path(),
        "app/controllers/stripe_webhooks_controller.rb",
        "class StripeWebhooksController < ApplicationController\n  def create\n    event = Stripe::Event.construct_from(JSON.parse(request.body.read))\n    Payments::HandleEvent.(event)\n    head :ok\n  end\nend\n",
    );
    let v = review(dir.path());
    assert!(high_rules(&v).contains(&"WH001".to_string()), "{v:#}");
}

// ---------------------------------------------------------------------------
// Predicate methods that test the type (`if charge_succeeded?`), and access that
// moves from payment events to the subscription's status.

const BILLING_EVENT: &str = r#"class BillingEvent < ApplicationRecord
  belongs_to :billable, polymorphic: true

  def process_event
    if charge_succeeded?
      billable.update(suspended: false)
      UserMailer.payment_receipt(id).deliver_later
    end

    if charge_failed?
      billable.update(suspended: true)
      UserMailer.payment_failed(id).deliver_later
    end
  end

  def charge_succeeded?
    "charge.succeeded" == event_type
  end

  def charge_failed?
    "invoice.payment_failed" == event_type
  end
end
"#;

/// Access follows the subscription: unpaid suspends, unpaid -> active lifts it.
const BY_STATUS: &str = r#"class BillingEvent < ApplicationRecord
  belongs_to :billable, polymorphic: true

  def process_event
    if charge_succeeded?
      UserMailer.payment_receipt(id).deliver_later
    end

    if charge_failed?
      UserMailer.payment_failed(id).deliver_later
    end

    if subscription_deactivated?
      billable.update(suspended: true)
    end

    if subscription_reactivated?
      billable.update(suspended: false)
    end
  end

  def charge_succeeded?
    "charge.succeeded" == event_type
  end

  def charge_failed?
    "invoice.payment_failed" == event_type
  end

  def subscription_deactivated?
    "customer.subscription.updated" == event_type && details["data"]["object"]["status"] == "unpaid"
  end

  def subscription_reactivated?
    "customer.subscription.updated" == event_type &&
      details["data"]["object"]["status"] == "active" &&
      details["data"]["previous_attributes"]["status"] == "unpaid"
  end
end
"#;

const STRIPE_INIT: &str = "StripeEvent.signing_secret = ENV['STRIPE_SIGNING_SECRET']\nStripeEvent.configure do |events|\n  events.all { |event| BillingEvent.create!(details: event.as_json) }\nend\n";

#[test]
fn a_payment_event_told_by_a_predicate_method_that_stops_revoking_is_found() {
    let path = "app/models/billing_event.rb";
    let dir = committed_repo(&[(path, BILLING_EVENT), ("config/initializers/stripe.rb", STRIPE_INIT)]);
    write(dir.path(), path, &BILLING_EVENT.replace("      billable.update(suspended: true)\n", ""));
    let v = review(dir.path());
    assert!(high_rules(&v).contains(&"WH005".to_string()), "{v:#}");
}

#[test]
fn access_moved_from_payment_events_to_the_subscription_status_is_no_high_finding() {
    let path = "app/models/billing_event.rb";
    let dir = committed_repo(&[(path, BILLING_EVENT), ("config/initializers/stripe.rb", STRIPE_INIT)]);
    write(dir.path(), path, BY_STATUS);
    let v = review(dir.path());
    assert_eq!(high_rules(&v), Vec::<String>::new(), "{v:#}");
    // Still said, at medium, with where access went.
    let text = v["findings"].to_string();
    assert!(text.contains("follows the subscription's status"), "{v:#}");
    assert!(!text.contains("\"WH011\""), "the old status in previous_attributes is no grant: {v:#}");
}

// ---------------------------------------------------------------------------
// A handler moved between two files that both stay.

const VIEWS_WITH_HOOK: &str = r#"import json

import stripe
from django.http import HttpResponse, HttpResponseBadRequest
from django.views.decorators.csrf import csrf_exempt

from .models import UserSubscription


def profile(request):
    return HttpResponse("profile")


@csrf_exempt
def stripe_hooks(request):
    payload = json.loads(request.body)
    event = stripe.Event.construct_from(payload, stripe.api_key)
    if event.type == "customer.subscription.deleted":
        UserSubscription.set_canceled(event.data.object.customer)
    else:
        return HttpResponseBadRequest()
    return HttpResponse()
"#;

const API_VIEWS: &str = r#"from django.http import HttpResponse


def whoami(request):
    return HttpResponse("me")
"#;

fn moved_hook(api: &str, views: &str) -> tempfile::TempDir {
    let dir = committed_repo(&[("kuma/users/views.py", VIEWS_WITH_HOOK), ("kuma/api/views.py", API_VIEWS)]);
    write(dir.path(), "kuma/users/views.py", views);
    write(dir.path(), "kuma/api/views.py", api);
    dir
}

fn hook_only() -> String {
    VIEWS_WITH_HOOK[VIEWS_WITH_HOOK.find("@csrf_exempt").unwrap()..].to_string()
}

#[test]
fn a_handler_moved_from_one_kept_file_to_another_is_no_new_unverified_handler() {
    let head = "import json\n\nimport stripe\nfrom django.http import HttpResponse, HttpResponseBadRequest\nfrom django.views.decorators.csrf import csrf_exempt\n\nfrom kuma.users.models import UserSubscription\n\n\ndef whoami(request):\n    return HttpResponse(\"me\")\n\n\n";
    let views = "from django.http import HttpResponse\n\n\ndef profile(request):\n    return HttpResponse(\"profile\")\n";
    let dir = moved_hook(&format!("{head}{}", hook_only()), views);
    let v = review(dir.path());
    assert_eq!(high_rules(&v), Vec::<String>::new(), "{v:#}");
}

#[test]
fn a_handler_moved_between_kept_files_that_drops_its_revocation_is_found() {
    let head = "import json\n\nimport stripe\nfrom django.http import HttpResponse, HttpResponseBadRequest\nfrom django.views.decorators.csrf import csrf_exempt\n\nfrom kuma.users.models import UserSubscription\n\n\ndef whoami(request):\n    return HttpResponse(\"me\")\n\n\n";
    let views = "from django.http import HttpResponse\n\n\ndef profile(request):\n    return HttpResponse(\"profile\")\n";
    let hook = hook_only().replace("UserSubscription.set_canceled(event.data.object.customer)", "print(event.data.object.customer)");
    let dir = moved_hook(&format!("{head}{hook}"), views);
    let v = review(dir.path());
    let rules = high_rules(&v);
    assert!(rules.contains(&"WH005".to_string()) || rules.contains(&"WH008".to_string()), "{v:#}");
    assert!(!rules.contains(&"WH001".to_string()), "it verified nothing before either: {v:#}");
}

// ---------------------------------------------------------------------------
// Ruby's `when` does not fall through: an empty one handles its type by doing nothing.

const HOOKS: &str = r#"class HooksController < ApplicationController
  def create
    event = ::Stripe::Webhook.construct_event(request.body.read, request.headers['Stripe-Signature'], SiteSetting.webhook_secret)
    case event[:type]
    when 'customer.subscription.updated'
      customer = Customer.find_by(customer_id: event[:data][:object][:customer])
      group = plan_group(event[:data][:object][:plan])
      group.add(customer.user)
    end
    head 200
  end
end
"#;

#[test]
fn an_empty_ruby_when_handles_its_type_by_doing_nothing() {
    let path = "app/controllers/hooks_controller.rb";
    let dir = committed_repo(&[(path, HOOKS)]);
    write(dir.path(), path, &HOOKS.replace("    when 'customer.subscription.updated'\n", "    when 'customer.subscription.created'\n    when 'customer.subscription.updated'\n"));
    let v = review(dir.path());
    assert_eq!(high_rules(&v), Vec::<String>::new(), "{v:#}");
}

#[test]
fn a_ruby_when_listing_a_new_type_beside_the_old_one_handles_both() {
    let path = "app/controllers/hooks_controller.rb";
    let dir = committed_repo(&[(path, HOOKS)]);
    write(
        dir.path(),
        path,
        &HOOKS
            .replace("    when 'customer.subscription.updated'\n", "    when 'customer.subscription.created', 'customer.subscription.updated'\n"),
    );
    let v = review(dir.path());
    assert!(high_rules(&v).contains(&"WH016".to_string()), "{v:#}");
}

// ---------------------------------------------------------------------------
// Rails: the controller hands the event to its model (`stripe_event.update_records!`, a bang
// method called without parentheses), whose predicates test the type with a word pattern
// (`name.match(/checkout/)`) among the types it lists.

const RAILS_CONTROLLER: &str = r#"class WebhooksController < ApplicationController
  skip_before_action :verify_authenticity_token

  def stripe
    payload = request.body.read
    begin
      event = Stripe::Webhook.construct_event(payload, request.env["HTTP_STRIPE_SIGNATURE"], ENV["STRIPE_WEBHOOK_SECRET"])
    rescue Stripe::SignatureVerificationError
      render json: {success: false}, status: 400
      return
    end

    stripe_event = StripeEvent.create_from(event)
    stripe_event.update_records!
    render json: {success: true}
  end
end
"#;

const RAILS_EVENT: &str = r#"class StripeEvent < ApplicationRecord
  KNOWN_EVENTS = %w[checkout.session.completed customer.subscription.created
    customer.subscription.deleted customer.subscription.updated].freeze

  def self.create_from(event)
    create!(name: event.type, stripe_id: event.id, data: event.data)
  end

  def checkout?
    name.match(/checkout/)
  end

  def subscription?
    name.match(/subscription/)
  end

  def update_records!
    if checkout?
      StripeSubscription.sync_from_checkout!(data["object"])
    elsif subscription?
      StripeSubscription.sync!(data["object"])
    end
  end
end
"#;

const RAILS_SUBSCRIPTION: &str = r#"class StripeSubscription < ApplicationRecord
  belongs_to :user

  def self.sync_from_checkout!(session)
    sub = find_or_create_by!(stripe_id: session["subscription"])
    sub.user.update!(has_paid_access: true)
  end

  def self.sync!(obj)
    sub = find_by!(stripe_id: obj["id"])
    sub.update!(status: obj["status"])
    sub.user.update!(has_paid_access: %w[active trialing].include?(obj["status"]))
  end
end
"#;

fn rails_repo() -> tempfile::TempDir {
    committed_repo(&[
        ("app/controllers/webhooks_controller.rb", RAILS_CONTROLLER),
        ("app/models/stripe_event.rb", RAILS_EVENT),
        ("app/models/stripe_subscription.rb", RAILS_SUBSCRIPTION),
    ])
}

#[test]
fn a_bang_method_of_the_event_model_is_the_dispatch_and_a_swallowed_failure_is_wh010() {
    let dir = rails_repo();
    let swallowing = RAILS_CONTROLLER.replace(
        "    stripe_event.update_records!\n",
        "    begin\n      stripe_event.update_records!\n    rescue => e\n      Rails.logger.error(e.message)\n    end\n",
    );
    write(dir.path(), "app/controllers/webhooks_controller.rb", &swallowing);
    let v = review(dir.path());
    assert!(high_rules(&v).contains(&"WH010".to_string()), "{v:#}");
    let events = v["scope"]["handler_files"][0]["events"].to_string();
    assert!(events.contains("checkout.session.completed") && events.contains("customer.subscription.deleted"), "{events}");
}

#[test]
fn the_event_model_turning_its_predicates_into_a_case_is_quiet() {
    let dir = rails_repo();
    let as_case = RAILS_EVENT.replace(
        "    if checkout?\n      StripeSubscription.sync_from_checkout!(data[\"object\"])\n    elsif subscription?\n      StripeSubscription.sync!(data[\"object\"])\n    end\n",
        "    case name\n    when \"checkout.session.completed\"\n      StripeSubscription.sync_from_checkout!(data[\"object\"])\n    when \"customer.subscription.created\", \"customer.subscription.updated\", \"customer.subscription.deleted\"\n      StripeSubscription.sync!(data[\"object\"])\n    end\n",
    );
    assert_ne!(as_case, RAILS_EVENT);
    write(dir.path(), "app/models/stripe_event.rb", &as_case);
    let v = review(dir.path());
    assert!(high_rules(&v).is_empty(), "{v:#}");
}

#[test]
fn a_method_renamed_to_a_name_two_classes_share_is_resolved_by_its_receiver() {
    let dir = rails_repo();
    // `sync!` becomes `update_from_stripe!`, a name `Payment` also defines.
    write(dir.path(), "app/models/payment.rb", "class Payment < ApplicationRecord\n  def update_from_stripe!(obj)\n    update!(amount_cents: obj[\"amount\"])\n  end\nend\n");
    write(dir.path(), "app/models/stripe_subscription.rb", &RAILS_SUBSCRIPTION.replace(
        "  def self.sync!(obj)\n    sub = find_by!(stripe_id: obj[\"id\"])\n    sub.update!(status: obj[\"status\"])\n    sub.user.update!(has_paid_access: %w[active trialing].include?(obj[\"status\"]))\n  end\n",
        "  def self.sync!(obj)\n    stripe_subscription = find_by!(stripe_id: obj[\"id\"])\n    stripe_subscription.update_from_stripe!(obj)\n  end\n\n  def update_from_stripe!(obj)\n    update!(status: obj[\"status\"])\n    user.update!(has_paid_access: %w[active trialing].include?(obj[\"status\"]))\n  end\n",
    ));
    let v = review(dir.path());
    assert!(high_rules(&v).is_empty(), "{v:#}");

    // The twin: the renamed method no longer sets access, which only its own class shows.
    let dir = rails_repo();
    write(dir.path(), "app/models/payment.rb", "class Payment < ApplicationRecord\n  def update_from_stripe!(obj)\n    update!(amount_cents: obj[\"amount\"])\n  end\nend\n");
    write(dir.path(), "app/models/stripe_subscription.rb", &RAILS_SUBSCRIPTION.replace(
        "  def self.sync!(obj)\n    sub = find_by!(stripe_id: obj[\"id\"])\n    sub.update!(status: obj[\"status\"])\n    sub.user.update!(has_paid_access: %w[active trialing].include?(obj[\"status\"]))\n  end\n",
        "  def self.sync!(obj)\n    stripe_subscription = find_by!(stripe_id: obj[\"id\"])\n    stripe_subscription.update_from_stripe!(obj)\n  end\n\n  def update_from_stripe!(obj)\n    update!(status: obj[\"status\"])\n  end\n",
    ));
    let v = review(dir.path());
    assert!(high_rules(&v).iter().any(|r| r == "WH004" || r == "WH005"), "{v:#}");
}
