//! Symfony controllers that fetch their helpers from the container
//! (`$this->get('subscription_helper')`): the helper class is followed by its
//! conventional name, and a helper no longer ending the app's subscription record
//! (`$subscription->cancel()`) is a lost revocation even when the controller is unchanged.

#[path = "support/git.rs"]
mod git_support;
use git_support::{committed_repo, high_rules, review, write};

const CONTROLLER_PATH: &str = "src/AppBundle/Controller/WebhookController.php";
const HELPER_PATH: &str = "src/AppBundle/Subscription/SubscriptionHelper.php";

const CONTROLLER: &str = r#"<?php
namespace AppBundle\Controller;

use Symfony\Component\HttpFoundation\Request;
use Symfony\Component\HttpFoundation\Response;

class WebhookController extends BaseController
{
  public function stripeWebhookAction(Request $request)
  {
    $data = json_decode($request->getContent(), true);
    $stripeEvent = \Stripe\Event::retrieve($data['id']);
    $subscriptionHelper = $this->get('subscription_helper');
    switch ($stripeEvent->type) {
      case 'customer.subscription.deleted':
        $subscription = $this->findSubscription($stripeEvent->data->object->id);
        $subscriptionHelper->fullyCancelSubscription($subscription);
        break;
    }
    return new Response('Event handled: ' . $stripeEvent->type);
  }
}
"#;

const HELPER: &str = r#"<?php
namespace AppBundle\Subscription;

class SubscriptionHelper
{
  public function fullyCancelSubscription(Subscription $subscription)
  {
    $subscription->cancel();
    $this->em->persist($subscription);
    $this->em->flush($subscription);
  }
}
"#;

#[test]
fn a_container_helper_that_no_longer_cancels_the_subscription_is_wh005() {
    let files = [(CONTROLLER_PATH, CONTROLLER), (HELPER_PATH, HELPER)];
    let dir = committed_repo(&files);
    write(dir.path(), HELPER_PATH, &HELPER.replace("    $subscription->cancel();\n", "    // already marked as canceled by the user\n"));
    let v = review(dir.path());
    assert!(high_rules(&v).contains(&"WH005".to_string()), "{v:#}");

    // Quiet: the helper reworded, still cancelling.
    let dir = committed_repo(&files);
    write(dir.path(), HELPER_PATH, &HELPER.replace("    $this->em->flush($subscription);\n", "    $this->em->flush();\n"));
    let v = review(dir.path());
    assert!(high_rules(&v).is_empty(), "{v:#}");
}
