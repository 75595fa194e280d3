//! A monorepo's path alias (`@acme/billing/services/stripe.service`, mapped by tsconfig
//! "paths" into `libraries/billing/src/`): the service it names is followed, so a case
//! dropped from the controller's switch loses what that service did.

#[path = "support/git.rs"]
mod git_support;
use git_support::{committed_repo, high_rules, review, write};

const CONTROLLER_PATH: &str = "apps/backend/src/api/stripe.controller.ts";
const SERVICE_PATH: &str = "libraries/billing/src/services/stripe.service.ts";

const CONTROLLER: &str = r#"import { Controller, Post, Req } from '@nestjs/common';
import { StripeService } from '@acme/billing/services/stripe.service';

@Controller('/stripe')
export class StripeController {
  constructor(private readonly _stripeService: StripeService) {}

  @Post('/')
  stripe(@Req() req: any) {
    const event = this._stripeService.validateRequest(req.rawBody, req.headers['stripe-signature']);
    switch (event.type) {
      case 'customer.subscription.updated':
        return this._stripeService.updateSubscription(event);
      case 'customer.subscription.deleted':
        return this._stripeService.deleteSubscription(event);
      default:
        return { ok: true };
    }
  }
}
"#;

const SERVICE: &str = r#"import Stripe from 'stripe';
import { prisma } from './prisma';

const stripe = new Stripe(process.env.STRIPE_SECRET_KEY!);

export class StripeService {
  validateRequest(body: Buffer, signature: string) {
    return stripe.webhooks.constructEvent(body, signature, process.env.STRIPE_SIGNING_KEY!);
  }

  async updateSubscription(event: Stripe.CustomerSubscriptionUpdatedEvent) {
    await prisma.organization.update({
      where: { paymentId: event.data.object.customer as string },
      data: { subscriptionStatus: event.data.object.status },
    });
  }

  async deleteSubscription(event: Stripe.CustomerSubscriptionDeletedEvent) {
    await prisma.organization.update({
      where: { paymentId: event.data.object.customer as string },
      data: { subscriptionStatus: 'canceled' },
    });
  }
}
"#;

#[test]
fn a_case_dropped_from_a_controller_calling_an_aliased_service_is_found() {
    let files = [(CONTROLLER_PATH, CONTROLLER), (SERVICE_PATH, SERVICE)];
    let dir = committed_repo(&files);
    write(dir.path(), CONTROLLER_PATH, &CONTROLLER.replace("      case 'customer.subscription.deleted':\n        return this._stripeService.deleteSubscription(event);\n", ""));
    let v = review(dir.path());
    let high = high_rules(&v);
    assert!(high.iter().any(|r| r == "WH006" || r == "WH005"), "{v:#}");

    // Quiet: the same switch, reformatted.
    let dir = committed_repo(&files);
    write(dir.path(), CONTROLLER_PATH, &CONTROLLER.replace("      default:\n        return { ok: true };\n", "      default: {\n        return { ok: true };\n      }\n"));
    let v = review(dir.path());
    assert!(high_rules(&v).is_empty(), "{v:#}");
}
