//! A handler that queues a job for an event: the job's `perform` is the event's work
//! (Oban in Phoenix apps, ActiveJob in Rails). Dropping the event, or the write in the
//! job, loses the revocation; a refactor of the job keeps it.

#[path = "support/git.rs"]
mod git_support;
use git_support::{committed_repo, high_rules, review, write};

const EX_CONTROLLER_PATH: &str = "lib/app_web/controllers/stripe_controller.ex";
const EX_CONTROLLER: &str = r#"defmodule AppWeb.StripeController do
  use AppWeb, :controller

  alias App.Workers

  def event(conn = %{assigns: %{stripe_event: stripe_event}}, _params) do
    case stripe_event.type do
      "customer.subscription.updated" -> resync()
      "customer.subscription.deleted" -> resync()
      _otherwise -> :ok
    end

    send_resp(conn, 200, "ok")
  end

  defp resync do
    Workers.MembershipSyncer.queue()
    :ok
  end
end
"#;

const EX_WORKER_PATH: &str = "lib/app/workers/membership_syncer.ex";
const EX_WORKER: &str = r#"defmodule App.Workers.MembershipSyncer do
  use Oban.Worker, queue: :default

  alias App.{Membership, Repo}

  @impl Oban.Worker
  def perform(_job) do
    for sub <- App.Stripe.subscriptions() do
      membership = Repo.get_by!(Membership, subscription_id: sub.id)
      membership |> Membership.changeset(%{status: sub.status}) |> Repo.update()
    end

    :ok
  end

  def queue do
    %{} |> new() |> Oban.insert()
  end
end
"#;

#[test]
fn an_event_that_queued_an_oban_sync_and_is_dropped_is_wh006() {
    let files = [(EX_CONTROLLER_PATH, EX_CONTROLLER), (EX_WORKER_PATH, EX_WORKER)];
    let dir = committed_repo(&files);
    write(dir.path(), EX_CONTROLLER_PATH, &EX_CONTROLLER.replace("      \"customer.subscription.deleted\" -> resync()\n", ""));
    let v = review(dir.path());
    assert!(high_rules(&v).contains(&"WH006".to_string()), "{v:#}");

    // Quiet: both events still queue the sync, now through one arm.
    let dir = committed_repo(&files);
    write(
        dir.path(),
        EX_CONTROLLER_PATH,
        &EX_CONTROLLER.replace(
            "      \"customer.subscription.updated\" -> resync()\n      \"customer.subscription.deleted\" -> resync()\n",
            "      type when type in [\"customer.subscription.updated\", \"customer.subscription.deleted\"] -> resync()\n",
        ),
    );
    let v = review(dir.path());
    assert!(high_rules(&v).is_empty(), "{v:#}");
}

const RB_CONTROLLER_PATH: &str = "app/controllers/stripe_webhooks_controller.rb";
const RB_CONTROLLER: &str = r#"class StripeWebhooksController < ApplicationController
  skip_before_action :verify_authenticity_token

  def create
    event = Stripe::Webhook.construct_event(request.raw_post, request.headers["Stripe-Signature"], ENV["STRIPE_WEBHOOK_SECRET"])
    case event.type
    when "customer.subscription.deleted"
      CancelSubscriptionJob.perform_later(event.data.object.id)
    end
    head :ok
  rescue Stripe::SignatureVerificationError
    head :bad_request
  end
end
"#;

const RB_JOB_PATH: &str = "app/jobs/cancel_subscription_job.rb";
const RB_JOB: &str = r#"class CancelSubscriptionJob < ApplicationJob
  queue_as :default

  def perform(subscription_id)
    user = User.find_by!(stripe_subscription_id: subscription_id)
    user.update!(plan: "free", subscription_status: "canceled")
  end
end
"#;

#[test]
fn an_event_whose_activejob_revoked_and_is_dropped_is_wh006() {
    let files = [(RB_CONTROLLER_PATH, RB_CONTROLLER), (RB_JOB_PATH, RB_JOB)];
    let dir = committed_repo(&files);
    write(
        dir.path(),
        RB_CONTROLLER_PATH,
        &RB_CONTROLLER.replace("    when \"customer.subscription.deleted\"\n      CancelSubscriptionJob.perform_later(event.data.object.id)\n", "    when \"customer.subscription.updated\"\n      Rails.logger.info(\"subscription updated\")\n"),
    );
    let v = review(dir.path());
    assert!(high_rules(&v).contains(&"WH006".to_string()), "{v:#}");

    // Quiet: the job finds the user another way and writes the same.
    let dir = committed_repo(&files);
    write(dir.path(), RB_JOB_PATH, &RB_JOB.replace("User.find_by!(stripe_subscription_id: subscription_id)", "User.where(stripe_subscription_id: subscription_id).first!"));
    let v = review(dir.path());
    assert!(high_rules(&v).is_empty(), "{v:#}");
}
