//! Refactors seen in real apps that move a handler's work elsewhere without changing it:
//! an allow-list dispatching by method name, a handler map in another module imported
//! through a Deno alias, a multi-clause helper given the plan literal, Go methods moved out
//! of the file of their struct. Each is quiet when the meaning is kept, and still flags the
//! twin that breaks it.

#[path = "support/git.rs"]
mod git_support;
use git_support::{committed_repo, high_rules, review, write};

fn has(v: &serde_json::Value, rule: &str) -> bool {
    high_rules(v).iter().any(|r| r == rule)
}

// --- Ruby: `case alert_name` becomes `public_send(alert_name) if HANDLED.include?(alert_name)`.

const RB_PATH: &str = "app/controllers/paddle_webhooks_controller.rb";

const RB_CASE: &str = r#"class PaddleWebhooksController < ApplicationController
  def create
    case params[:alert_name]
    when "subscription_created"
      subscription_created
    when "subscription_cancelled"
      subscription_cancelled
    end
    head :ok
  end

  def subscription_created
    user = User.find_by!(paddle_user_id: params[:user_id])
    user.update!(subscribed: true)
  end

  def subscription_cancelled
    user = User.find_by!(paddle_user_id: params[:user_id])
    user.update!(subscribed: false)
  end
end
"#;

fn rb_allow_list(alerts: &str) -> String {
    RB_CASE.replace(
        "    case params[:alert_name]\n    when \"subscription_created\"\n      subscription_created\n    when \"subscription_cancelled\"\n      subscription_cancelled\n    end\n",
        &format!("    alert_name = params[:alert_name].to_s\n    public_send(alert_name) if HANDLED_ALERTS.include?(alert_name)\n"),
    )
    .replace("class PaddleWebhooksController < ApplicationController\n", &format!("class PaddleWebhooksController < ApplicationController\n  HANDLED_ALERTS = %w[{alerts}].freeze\n\n"))
}

#[test]
fn an_allow_list_dispatching_by_method_name_runs_the_same_methods() {
    let dir = committed_repo(&[(RB_PATH, RB_CASE)]);
    write(dir.path(), RB_PATH, &rb_allow_list("subscription_created subscription_cancelled"));
    let v = review(dir.path());
    assert!(high_rules(&v).is_empty(), "{v:#}");

    // The allow-list forgets the cancellation: it is no longer handled.
    let dir = committed_repo(&[(RB_PATH, RB_CASE)]);
    write(dir.path(), RB_PATH, &rb_allow_list("subscription_created"));
    let v = review(dir.path());
    assert!(has(&v, "WH006") || has(&v, "WH005"), "{v:#}");
}

// --- Deno Fresh: the switch becomes a handler map in `@/utils/stripe_webhooks.ts`.

const DENO_JSON: &str = r#"{ "imports": { "@/": "./", "stripe": "npm:stripe@14" } }
"#;

const DENO_DB: &str = r#"export async function getUserByStripeCustomer(customer: string) {
  return await kv.get(["users_by_customer", customer]);
}
export async function updateUser(user: { id: string; isSubscribed: boolean }) {
  await kv.set(["users", user.id], user);
}
"#;

const DENO_ROUTE: &str = r#"import { getUserByStripeCustomer, updateUser } from "@/utils/db.ts";
import { stripe } from "@/utils/stripe.ts";

const cryptoProvider = Stripe.createSubtleCryptoProvider();

export const handler = {
  async POST(req: Request) {
    const body = await req.text();
    const signature = req.headers.get("stripe-signature")!;
    const secret = Deno.env.get("STRIPE_WEBHOOK_SECRET")!;
    let event;
    try {
      event = await stripe.webhooks.constructEventAsync(body, signature, secret, undefined, cryptoProvider);
    } catch (error) {
      return new Response((error as Error).message, { status: 400 });
    }
    const { customer } = event.data.object;
    switch (event.type) {
      case "customer.subscription.created": {
        const user = await getUserByStripeCustomer(customer);
        await updateUser({ ...user, isSubscribed: true });
        return new Response(null, { status: 201 });
      }
      case "customer.subscription.deleted": {
        const user = await getUserByStripeCustomer(customer);
        await updateUser({ ...user, isSubscribed: false });
        return new Response(null, { status: 202 });
      }
      default:
        return new Response("Event type not supported", { status: 400 });
    }
  },
};
"#;

fn deno_handlers(on_deleted: bool) -> String {
    format!(
        r#"import {{ getUserByStripeCustomer, updateUser }} from "@/utils/db.ts";

async function setSubscribed(customer: string, isSubscribed: boolean) {{
  const user = await getUserByStripeCustomer(customer);
  await updateUser({{ ...user, isSubscribed }});
}}

export const subscriptionEventHandlers = {{
  "customer.subscription.created": async (customer: string) => {{
    await setSubscribed(customer, true);
    return new Response(null, {{ status: 201 }});
  }},
  "customer.subscription.deleted": async (customer: string) => {{
    await setSubscribed(customer, {on_deleted});
    return new Response(null, {{ status: 202 }});
  }},
}};
"#
    )
}

fn deno_route_with_map() -> String {
    let start = DENO_ROUTE.find("    switch (event.type)").expect("switch");
    let end = DENO_ROUTE.find("  },\n};").expect("end");
    let map = "    const handle = subscriptionEventHandlers[event.type];\n    if (handle === undefined) {\n      return new Response(\"Event type not supported\", { status: 400 });\n    }\n    return await handle(customer);\n";
    format!("import {{ subscriptionEventHandlers }} from \"@/utils/stripe_webhooks.ts\";\n{}{map}{}", &DENO_ROUTE[..start], &DENO_ROUTE[end..])
}

#[test]
fn a_switch_moved_into_a_handler_map_imported_through_a_deno_alias_keeps_its_writes() {
    let files = [("deno.json", DENO_JSON), ("utils/db.ts", DENO_DB), ("routes/api/stripe-webhooks.ts", DENO_ROUTE)];
    let dir = committed_repo(&files);
    write(dir.path(), "utils/stripe_webhooks.ts", &deno_handlers(false));
    write(dir.path(), "routes/api/stripe-webhooks.ts", &deno_route_with_map());
    let v = review(dir.path());
    // Also quiet on WH015: `undefined` only holds the place of the crypto provider.
    assert!(high_rules(&v).is_empty(), "{v:#}");

    // The moved cancellation now sets the flag true: the revocation is lost.
    let dir = committed_repo(&files);
    write(dir.path(), "utils/stripe_webhooks.ts", &deno_handlers(true));
    write(dir.path(), "routes/api/stripe-webhooks.ts", &deno_route_with_map());
    let v = review(dir.path());
    assert!(has(&v, "WH005"), "{v:#}");
}

// --- Elixir: writes moved into a two-clause helper given the plan name.

const EX_PATH: &str = "lib/app/billing.ex";
const EX_ACCOUNTS_PATH: &str = "lib/app/accounts.ex";

const EX_ACCOUNTS: &str = r#"defmodule App.Accounts do
  alias App.{Accounts.User, Repo}

  def update_user(%User{} = user, attrs) do
    user
    |> User.changeset(attrs)
    |> Repo.update()
  end
end
"#;

const EX_BILLING: &str = r#"defmodule App.Billing do
  alias App.{Accounts, Accounts.User, Repo}

  def handle_event(%Stripe.Event{type: "checkout.session.completed", data: %{object: session}}) do
    user = Repo.get!(User, session.client_reference_id)
    Accounts.update_user(user, %{subscription_tier: "pro"})
    {:ok, :processed}
  end

  def handle_event(%Stripe.Event{type: "customer.subscription.deleted", data: %{object: sub}}) do
    user = Repo.get_by!(User, stripe_customer_id: sub.customer)
    Accounts.update_user(user, %{subscription_tier: "storyteller"})
    {:ok, :processed}
  end

  def handle_event(_event), do: {:ok, :ignored}
end
"#;

fn ex_with_helper(on_deleted: &str) -> String {
    EX_BILLING
        .replace("    Accounts.update_user(user, %{subscription_tier: \"pro\"})\n", "    set_user_tier(user, \"pro\")\n")
        .replace(
            "    user = Repo.get_by!(User, stripe_customer_id: sub.customer)\n    Accounts.update_user(user, %{subscription_tier: \"storyteller\"})\n",
            &format!("    set_user_tier(Repo.get_by!(User, stripe_customer_id: sub.customer).id, \"{on_deleted}\")\n"),
        )
        .replace(
            "  def handle_event(_event), do: {:ok, :ignored}\n",
            "  def handle_event(_event), do: {:ok, :ignored}\n\n  defp set_user_tier(%User{} = user, tier) do\n    Accounts.update_user(user, %{subscription_tier: tier})\n  end\n\n  defp set_user_tier(user_id, tier) do\n    User\n    |> Repo.get!(user_id)\n    |> set_user_tier(tier)\n  end\n",
        )
}

#[test]
fn a_downgrade_passed_to_a_helper_as_a_literal_is_still_a_downgrade() {
    let files = [(EX_PATH, EX_BILLING), (EX_ACCOUNTS_PATH, EX_ACCOUNTS)];
    let dir = committed_repo(&files);
    write(dir.path(), EX_PATH, &ex_with_helper("storyteller"));
    let v = review(dir.path());
    assert!(high_rules(&v).is_empty(), "{v:#}");

    // The helper is given the paying tier on deletion: no downgrade any more.
    let dir = committed_repo(&files);
    write(dir.path(), EX_PATH, &ex_with_helper("pro"));
    let v = review(dir.path());
    assert!(has(&v, "WH005"), "{v:#}");
}

// --- Go: webhook methods moved from service.go into webhook.go; the store's type is
// named only in service.go's struct.

const GO_STORE: &str = r#"package db

type Store struct{}

type Organization struct {
	PlanID string
	Active bool
}

func (s *Store) DefaultPlan() *Plan { return &Plan{ID: "free"} }

func (s *Store) SetOrganization(org *Organization) error {
	return s.collection.Update(org.Address, bson.M{"plan_id": org.PlanID, "active": org.Active})
}
"#;

const GO_SERVICE: &str = r#"package billing

import (
	"encoding/json"

	"github.com/acme/app/db"
	stripeapi "github.com/stripe/stripe-go/v82"
	"github.com/stripe/stripe-go/v82/webhook"
)

type Service struct {
	db     *db.Store
	secret string
}

func (s *Service) HandleWebhookEvent(payload []byte, header string) error {
	event, err := webhook.ConstructEvent(payload, header, s.secret)
	if err != nil {
		return err
	}
	return s.handleEvent(&event)
}

func (s *Service) handleEvent(event *stripeapi.Event) error {
	var sub stripeapi.Subscription
	if err := json.Unmarshal(event.Data.Raw, &sub); err != nil {
		return err
	}
	org := orgOf(&sub)
	switch event.Type {
	case stripeapi.EventTypeCustomerSubscriptionUpdated:
		switch sub.Status {
		case stripeapi.SubscriptionStatusActive:
			org.PlanID = sub.Items.Data[0].Price.Product.ID
			org.Active = sub.Status == stripeapi.SubscriptionStatusActive
		case stripeapi.SubscriptionStatusCanceled, stripeapi.SubscriptionStatusUnpaid:
			org.PlanID = s.db.DefaultPlan().ID
			org.Active = false
		default:
			return nil
		}
		return s.db.SetOrganization(org)
	}
	return nil
}
"#;

/// service.go keeps only the struct; `handleEvent` moves to webhook.go, its body given by `body`.
fn go_split(body: &str) -> (String, String) {
    let cut = GO_SERVICE.find("func (s *Service) HandleWebhookEvent").expect("method");
    let service = GO_SERVICE[..cut].replace("\tstripeapi \"github.com/stripe/stripe-go/v82\"\n\t\"github.com/stripe/stripe-go/v82/webhook\"\n", "").replace("\t\"encoding/json\"\n\n", "");
    let webhook_go = format!(
        "package billing\n\nimport (\n\t\"encoding/json\"\n\n\tstripeapi \"github.com/stripe/stripe-go/v82\"\n\t\"github.com/stripe/stripe-go/v82/webhook\"\n)\n\n{}",
        body
    );
    (service, webhook_go)
}

#[test]
fn go_methods_moved_out_of_the_file_of_their_struct_keep_their_store_calls() {
    let files = [("db/store.go", GO_STORE), ("billing/service.go", GO_SERVICE)];
    let moved = &GO_SERVICE[GO_SERVICE.find("func (s *Service) HandleWebhookEvent").expect("method")..];
    let dir = committed_repo(&files);
    let (service, webhook_go) = go_split(moved);
    write(dir.path(), "billing/service.go", &service);
    write(dir.path(), "billing/webhook.go", &webhook_go);
    let v = review(dir.path());
    assert!(high_rules(&v).is_empty(), "{v:#}");

    // Moved, and every status other than canceled/unpaid now saves the paid plan: the
    // downgrade to the default plan is no grant, so the widening is this change's.
    let dir = committed_repo(&files);
    let active_case = "\t\tcase stripeapi.SubscriptionStatusActive:\n\t\t\torg.PlanID = sub.Items.Data[0].Price.Product.ID\n\t\t\torg.Active = sub.Status == stripeapi.SubscriptionStatusActive\n";
    let widened = moved.replace(active_case, "").replace(
        "\t\tdefault:\n\t\t\treturn nil\n",
        "\t\tdefault:\n\t\t\torg.PlanID = sub.Items.Data[0].Price.Product.ID\n\t\t\torg.Active = sub.Status != stripeapi.SubscriptionStatusCanceled && sub.Status != stripeapi.SubscriptionStatusUnpaid\n",
    );
    assert_ne!(widened, moved);
    let (service, webhook_go) = go_split(&widened);
    write(dir.path(), "billing/service.go", &service);
    write(dir.path(), "billing/webhook.go", &webhook_go);
    let v = review(dir.path());
    assert!(has(&v, "WH011"), "{v:#}");
}
