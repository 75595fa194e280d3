//! Verification that lives outside the handler file, found in a real git
//! repository: Express middleware on the route, a Rails `before_action` from a
//! concern, a Phoenix pipeline Plug, a FastAPI dependency, a Laravel route
//! middleware and an axum layer. Each repo is checked three ways: a harmless
//! edit of the handler (the outside verification is found and its location
//! reported, no WH001), the mount removed in another file while the handler is
//! unchanged (WH001 located at the removal), and a safe move of the
//! verification from the handler into middleware.

use std::path::Path;

use serde_json::Value;

#[path = "support/git.rs"]
mod git_support;
use git_support::{billguard, committed_repo as repo, git, write};

fn review(dir: &Path) -> Value {
    let out = billguard(dir, &["check", "webhook", "--base", "HEAD", "--format", "json"]);
    assert!(matches!(out.status.code(), Some(0) | Some(1)), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}



fn edit(root: &Path, path: &str, from: &str, to: &str) {
    let text = std::fs::read_to_string(root.join(path)).unwrap();
    assert!(text.contains(from), "{path}: no {from:?}");
    std::fs::write(root.join(path), text.replacen(from, to, 1)).unwrap();
}

fn wh001(r: &Value) -> Vec<Value> {
    r["findings"].as_array().unwrap().iter().filter(|f| f["rule"] == "WH001").cloned().collect()
}

fn line_of(root: &Path, path: &str, needle: &str) -> u64 {
    let text = std::fs::read_to_string(root.join(path)).unwrap();
    text.lines().position(|l| l.contains(needle)).unwrap_or_else(|| panic!("{path}: no {needle:?}")) as u64 + 1
}

/// A harmless edit of the handler: the outside verification is reported with
/// its location, and nothing is flagged as unverified.
fn assert_found_outside(root: &Path, handler: &str, comment: &str, verifier_path: &str, mount_path: &str) {
    let text = std::fs::read_to_string(root.join(handler)).unwrap();
    std::fs::write(root.join(handler), format!("{comment}\n{text}")).unwrap();
    let r = review(root);
    assert!(wh001(&r).is_empty(), "{r}");
    let h = r["scope"]["handler_files"].as_array().unwrap().iter().find(|h| h["path"] == handler).unwrap_or_else(|| panic!("{r}"));
    let v = h["verification"].as_str().unwrap_or_else(|| panic!("no verification recorded: {h}"));
    assert!(v.starts_with("outside the file"), "{v}");
    assert!(v.contains(verifier_path), "{v}");
    assert!(v.contains(mount_path), "{v}");
    std::fs::write(root.join(handler), text).unwrap();
}

/// The mount (or the verifier) was changed in `path` while the handler did not change.
fn assert_removed_at(root: &Path, handler: &str, path: &str, line: u64) {
    let r = review(root);
    let f = wh001(&r);
    assert_eq!(f.len(), 1, "{r}");
    assert_eq!(f[0]["severity"], "high");
    assert_eq!(f[0]["entity"], format!("handler:{handler}"));
    assert_eq!(f[0]["location"]["path"], path, "{}", f[0]);
    assert_eq!(f[0]["location"]["line"], line, "{}", f[0]);
    assert!(f[0]["evidence"]["removed_at"].as_str().unwrap().starts_with(path));
    let h = r["scope"]["handler_files"].as_array().unwrap().iter().find(|h| h["path"] == handler).unwrap();
    assert_eq!(h["change"], "unchanged");
    assert!(h["verification"].is_null(), "{h}");
    // Only the regression is reported for a handler that did not change.
    assert!(r["findings"].as_array().unwrap().iter().all(|f| f["severity"] == "high" && f["rule"] == "WH001"), "{r}");
}

const EXPRESS_MIDDLEWARE: &str = r#"const Stripe = require('stripe');
const stripe = new Stripe(process.env.STRIPE_SECRET_KEY);

function verifyStripeSignature(req, res, next) {
  try {
    req.stripeEvent = stripe.webhooks.constructEvent(req.body, req.headers['stripe-signature'], process.env.STRIPE_WEBHOOK_SECRET);
    return next();
  } catch (err) {
    return res.status(400).send(`Webhook Error: ${err.message}`);
  }
}

module.exports = { verifyStripeSignature };
"#;

const EXPRESS_ROUTES: &str = r#"const express = require('express');
const { verifyStripeSignature } = require('../middleware/verifyStripe');
const { handleStripeWebhook } = require('../handlers/stripeWebhook');

const router = express.Router();
router.get('/health', (req, res) => res.send('ok'));
router.post('/webhooks/stripe', express.raw({ type: 'application/json' }), verifyStripeSignature, handleStripeWebhook);

module.exports = router;
"#;

const EXPRESS_HANDLER: &str = r#"const { pool } = require('../db');

async function handleStripeWebhook(req, res) {
  const event = req.stripeEvent;
  switch (event.type) {
    case 'customer.subscription.deleted':
      await pool.query('UPDATE accounts SET has_paid_access = false WHERE stripe_customer_id = $1', [event.data.object.customer]);
      break;
    default:
      break;
  }
  res.json({ received: true });
}

module.exports = { handleStripeWebhook };
"#;

#[test]
fn express_middleware_on_the_route() {
    let dir = repo(&[
        ("src/middleware/verifyStripe.js", EXPRESS_MIDDLEWARE),
        ("src/routes/billing.js", EXPRESS_ROUTES),
        ("src/handlers/stripeWebhook.js", EXPRESS_HANDLER),
    ]);
    let root = dir.path();
    assert_found_outside(root, "src/handlers/stripeWebhook.js", "// billing webhooks", "src/middleware/verifyStripe.js:6", "src/routes/billing.js:7");
    // The route no longer runs the middleware; the handler file is untouched.
    edit(root, "src/routes/billing.js", "verifyStripeSignature, handleStripeWebhook", "handleStripeWebhook");
    assert_removed_at(root, "src/handlers/stripeWebhook.js", "src/routes/billing.js", 7);
    // The middleware stops verifying (it now trusts the body): located at the middleware.
    git(root, &["checkout", "-q", "--", "."]);
    edit(root, "src/middleware/verifyStripe.js", "stripe.webhooks.constructEvent(req.body, req.headers['stripe-signature'], process.env.STRIPE_WEBHOOK_SECRET)", "JSON.parse(req.body)");
    let r = review(root);
    let f = wh001(&r);
    assert_eq!(f.len(), 1, "{r}");
    assert_eq!(f[0]["location"]["path"], "src/middleware/verifyStripe.js");
}

#[test]
fn moving_verification_into_middleware_is_safe() {
    // Before: the handler verifies itself. After: a middleware verifies, mounted on the route.
    let inline = EXPRESS_HANDLER.replace(
        "  const event = req.stripeEvent;",
        "  let event;\n  try {\n    event = stripe.webhooks.constructEvent(req.body, req.headers['stripe-signature'], process.env.STRIPE_WEBHOOK_SECRET);\n  } catch (err) {\n    return res.status(400).send('bad signature');\n  }",
    );
    let routes = EXPRESS_ROUTES.replace("verifyStripeSignature, handleStripeWebhook", "handleStripeWebhook");
    let dir = repo(&[("src/routes/billing.js", &routes), ("src/handlers/stripeWebhook.js", &inline)]);
    let root = dir.path();
    write(root, "src/middleware/verifyStripe.js", EXPRESS_MIDDLEWARE);
    write(root, "src/routes/billing.js", EXPRESS_ROUTES);
    write(root, "src/handlers/stripeWebhook.js", EXPRESS_HANDLER);
    let r = review(root);
    assert!(r["findings"].as_array().unwrap().iter().all(|f| f["severity"] != "high"), "{r}");
    let h = &r["scope"]["handler_files"][0];
    assert!(h["verification"].as_str().unwrap().contains("src/routes/billing.js:7"), "{h}");
}

const RAILS_CONCERN: &str = r#"module StripeWebhookVerification
  extend ActiveSupport::Concern

  included do
    before_action :verify_stripe_signature
  end

  private

  def verify_stripe_signature
    @event = Stripe::Webhook.construct_event(request.raw_post, request.headers["Stripe-Signature"], ENV.fetch("STRIPE_WEBHOOK_SECRET"))
  rescue JSON::ParserError, Stripe::SignatureVerificationError
    head :bad_request
  end
end
"#;

const RAILS_CONTROLLER: &str = r#"class StripeWebhooksController < ApplicationController
  include StripeWebhookVerification
  skip_before_action :verify_authenticity_token

  def create
    case @event.type
    when "customer.subscription.deleted"
      User.where(stripe_customer_id: @event.data.object.customer).update_all(has_paid_access: false)
    end
    head :ok
  end
end
"#;

#[test]
fn rails_before_action_from_a_concern() {
    let dir = repo(&[
        ("app/controllers/concerns/stripe_webhook_verification.rb", RAILS_CONCERN),
        ("app/controllers/stripe_webhooks_controller.rb", RAILS_CONTROLLER),
    ]);
    let root = dir.path();
    assert_found_outside(
        root,
        "app/controllers/stripe_webhooks_controller.rb",
        "# Stripe webhooks",
        "app/controllers/concerns/stripe_webhook_verification.rb:5",
        // the comment added by the harmless edit moves the include down a line
        "app/controllers/stripe_webhooks_controller.rb:3",
    );
    // The concern no longer installs the filter: the controller is untouched.
    edit(root, "app/controllers/concerns/stripe_webhook_verification.rb", "    before_action :verify_stripe_signature\n", "");
    assert_removed_at(root, "app/controllers/stripe_webhooks_controller.rb", "app/controllers/concerns/stripe_webhook_verification.rb", 5);
    // The controller skips the filter: WH001 in the controller.
    git(root, &["checkout", "-q", "--", "."]);
    edit(root, "app/controllers/stripe_webhooks_controller.rb", "  skip_before_action :verify_authenticity_token\n", "  skip_before_action :verify_authenticity_token, :verify_stripe_signature\n");
    let r = review(root);
    let f = wh001(&r);
    assert_eq!(f.len(), 1, "{r}");
    assert_eq!(f[0]["location"]["path"], "app/controllers/stripe_webhooks_controller.rb");
}

const PLUG: &str = r#"defmodule MyAppWeb.Plugs.StripeSignature do
  import Plug.Conn

  def init(opts), do: opts

  def call(conn, _opts) do
    [signature | _] = get_req_header(conn, "stripe-signature")

    case Stripe.Webhook.construct_event(conn.assigns.raw_body, signature, System.fetch_env!("STRIPE_WEBHOOK_SECRET")) do
      {:ok, event} -> assign(conn, :stripe_event, event)
      {:error, _} -> conn |> send_resp(400, "invalid signature") |> halt()
    end
  end
end
"#;

const ROUTER: &str = r#"defmodule MyAppWeb.Router do
  use MyAppWeb, :router

  pipeline :api do
    plug :accepts, ["json"]
  end

  pipeline :stripe_webhook do
    plug MyAppWeb.Plugs.StripeSignature
  end

  scope "/webhooks", MyAppWeb do
    pipe_through :stripe_webhook
    post "/stripe", StripeWebhookController, :create
  end
end
"#;

const PHOENIX_CONTROLLER: &str = r#"defmodule MyAppWeb.StripeWebhookController do
  use MyAppWeb, :controller
  import Ecto.Query

  def create(conn, _params) do
    event = conn.assigns.stripe_event

    case event.type do
      "customer.subscription.deleted" ->
        from(u in MyApp.User, where: u.stripe_customer_id == ^event.data.object.customer)
        |> MyApp.Repo.update_all(set: [has_paid_access: false])

      _ ->
        :ok
    end

    send_resp(conn, 200, "ok")
  end
end
"#;

#[test]
fn phoenix_pipeline_plug() {
    let dir = repo(&[
        ("lib/my_app_web/plugs/stripe_signature.ex", PLUG),
        ("lib/my_app_web/router.ex", ROUTER),
        ("lib/my_app_web/controllers/stripe_webhook_controller.ex", PHOENIX_CONTROLLER),
    ]);
    let root = dir.path();
    assert_found_outside(
        root,
        "lib/my_app_web/controllers/stripe_webhook_controller.ex",
        "# Stripe webhooks",
        "lib/my_app_web/router.ex:8",
        "lib/my_app_web/router.ex:12",
    );
    edit(root, "lib/my_app_web/router.ex", "    pipe_through :stripe_webhook\n", "    pipe_through :api\n");
    assert_removed_at(root, "lib/my_app_web/controllers/stripe_webhook_controller.ex", "lib/my_app_web/router.ex", 12);
}

const FASTAPI_DEPS: &str = r#"import os

import stripe
from fastapi import Header, HTTPException, Request


async def verified_stripe_event(request: Request, stripe_signature: str = Header(...)) -> dict:
    payload = await request.body()
    try:
        return stripe.Webhook.construct_event(payload, stripe_signature, os.environ["STRIPE_WEBHOOK_SECRET"])
    except (ValueError, stripe.error.SignatureVerificationError):
        raise HTTPException(status_code=400, detail="invalid signature")
"#;

const FASTAPI_ROUTE: &str = r#"from fastapi import APIRouter, Depends
from sqlalchemy import update

from app.db import get_db
from app.deps import verified_stripe_event
from app.models import User

router = APIRouter()


@router.post("/webhooks/stripe")
async def stripe_webhook(event: dict = Depends(verified_stripe_event), db=Depends(get_db)):
    if event["type"] == "customer.subscription.deleted":
        db.execute(update(User).where(User.stripe_customer_id == event["data"]["object"]["customer"]).values(has_paid_access=False))
        db.commit()
    return {"received": True}
"#;

#[test]
fn fastapi_dependency() {
    let dir = repo(&[("app/deps.py", FASTAPI_DEPS), ("app/routes/stripe_webhooks.py", FASTAPI_ROUTE)]);
    let root = dir.path();
    assert_found_outside(root, "app/routes/stripe_webhooks.py", "# Stripe webhooks", "app/deps.py:10", "app/routes/stripe_webhooks.py:13");
    // The dependency stops verifying: the route is untouched.
    edit(
        root,
        "app/deps.py",
        "        return stripe.Webhook.construct_event(payload, stripe_signature, os.environ[\"STRIPE_WEBHOOK_SECRET\"])",
        "        return await request.json()",
    );
    let r = review(root);
    let f = wh001(&r);
    assert_eq!(f.len(), 1, "{r}");
    assert_eq!(f[0]["location"]["path"], "app/deps.py");
    // The route takes the body directly instead of the verified dependency.
    git(root, &["checkout", "-q", "--", "."]);
    edit(root, "app/routes/stripe_webhooks.py", "event: dict = Depends(verified_stripe_event)", "event: dict = Body(...)");
    let r = review(root);
    let f = wh001(&r);
    assert_eq!(f.len(), 1, "{r}");
    assert_eq!(f[0]["location"]["path"], "app/routes/stripe_webhooks.py");
    assert_eq!(f[0]["location"]["line"], line_of(root, "app/routes/stripe_webhooks.py", "async def stripe_webhook"));
}

#[test]
fn laravel_route_middleware_and_axum_layer() {
    let middleware = r#"<?php

namespace App\Http\Middleware;

use Closure;
use Illuminate\Http\Request;

class VerifyPaddleSignature
{
    public function handle(Request $request, Closure $next)
    {
        $parts = [];
        foreach (explode(';', (string) $request->header('Paddle-Signature')) as $part) {
            [$k, $v] = array_pad(explode('=', $part, 2), 2, '');
            $parts[$k][] = $v;
        }
        $ts = $parts['ts'][0] ?? '0';
        if (abs(time() - (int) $ts) > 5) {
            abort(401);
        }
        $expected = hash_hmac('sha256', $ts . ':' . $request->getContent(), config('services.paddle.webhook_secret'));
        foreach ($parts['h1'] ?? [] as $h1) {
            if (hash_equals($expected, $h1)) {
                return $next($request);
            }
        }
        abort(401);
    }
}
"#;
    let routes = r#"<?php

use App\Http\Controllers\PaddleWebhookController;
use App\Http\Middleware\VerifyPaddleSignature;
use Illuminate\Support\Facades\Route;

Route::post('/paddle/webhook', PaddleWebhookController::class)->middleware(VerifyPaddleSignature::class);
"#;
    let controller = r#"<?php

namespace App\Http\Controllers;

use App\Models\Account;
use Illuminate\Http\Request;

class PaddleWebhookController extends Controller
{
    public function __invoke(Request $request)
    {
        $event = $request->json()->all();
        if ($event['event_type'] === 'subscription.canceled') {
            Account::where('paddle_customer_id', $event['data']['customer_id'])->update(['has_paid_access' => false]);
        }
        return response()->json(['received' => true]);
    }
}
"#;
    let dir = repo(&[
        ("app/Http/Middleware/VerifyPaddleSignature.php", middleware),
        ("routes/webhooks.php", routes),
        ("app/Http/Controllers/PaddleWebhookController.php", controller),
    ]);
    let root = dir.path();
    assert_found_outside(root, "app/Http/Controllers/PaddleWebhookController.php", "<?php // Paddle", "VerifyPaddleSignature.php", "routes/webhooks.php:7");
    edit(root, "routes/webhooks.php", "->middleware(VerifyPaddleSignature::class)", "");
    assert_removed_at(root, "app/Http/Controllers/PaddleWebhookController.php", "routes/webhooks.php", 7);

    let layer = r#"use axum::{middleware, routing::post, Router};

use crate::billing::stripe_webhook;
use crate::verify::verify_stripe_signature;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/webhooks/stripe", post(stripe_webhook))
        .layer(middleware::from_fn_with_state(state.clone(), verify_stripe_signature))
        .with_state(state)
}
"#;
    let verify = r#"use axum::{body::Body, extract::{Request, State}, http::StatusCode, middleware::Next, response::Response};
use stripe::Webhook;

pub async fn verify_stripe_signature(State(state): State<AppState>, req: Request, next: Next) -> Result<Response, StatusCode> {
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, 1 << 20).await.map_err(|_| StatusCode::BAD_REQUEST)?;
    let signature = parts.headers.get("stripe-signature").and_then(|v| v.to_str().ok()).ok_or(StatusCode::BAD_REQUEST)?;
    let text = std::str::from_utf8(&bytes).map_err(|_| StatusCode::BAD_REQUEST)?;
    Webhook::construct_event(text, signature, &state.webhook_secret).map_err(|_| StatusCode::BAD_REQUEST)?;
    Ok(next.run(Request::from_parts(parts, Body::from(bytes))).await)
}
"#;
    let handler = r#"use axum::{extract::State, Json, http::StatusCode};
use stripe::{Event, EventType, EventObject};

pub async fn stripe_webhook(State(state): State<AppState>, Json(event): Json<Event>) -> StatusCode {
    match event.type_ {
        EventType::CustomerSubscriptionDeleted => {
            if let EventObject::Subscription(sub) = event.data.object {
                let _ = sqlx::query("UPDATE users SET has_paid_access = false WHERE stripe_customer_id = $1")
                    .bind(sub.customer.id().to_string())
                    .execute(&state.db)
                    .await;
            }
        }
        _ => {}
    }
    StatusCode::OK
}
"#;
    write(root, "src/routes.rs", layer);
    write(root, "src/verify.rs", verify);
    write(root, "src/billing.rs", handler);
    git(root, &["add", "-A"]);
    git(root, &["commit", "-qm", "rust service"]);
    assert_found_outside(root, "src/billing.rs", "// Stripe webhooks", "src/verify.rs:9", "src/routes.rs:7");
    edit(root, "src/routes.rs", "        .layer(middleware::from_fn_with_state(state.clone(), verify_stripe_signature))\n", "");
    let r = review(root);
    let f = wh001(&r);
    assert_eq!(f.len(), 1, "{r}");
    assert_eq!(f[0]["location"]["path"], "src/routes.rs");
}

#[test]
fn axum_verifying_extractor() {
    let extractor = r#"use axum::{async_trait, body::Bytes, extract::{FromRequest, Request}, http::StatusCode};
use stripe::{Event, Webhook};

/// A Stripe event whose signature was checked.
pub struct VerifiedEvent(pub Event);

#[async_trait]
impl<S: Send + Sync> FromRequest<S> for VerifiedEvent {
    type Rejection = StatusCode;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let signature = req.headers().get("stripe-signature").and_then(|v| v.to_str().ok()).map(str::to_owned).ok_or(StatusCode::BAD_REQUEST)?;
        let body = String::from_request(req, state).await.map_err(|_| StatusCode::BAD_REQUEST)?;
        let secret = std::env::var("STRIPE_WEBHOOK_SECRET").map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
        let event = Webhook::construct_event(&body, &signature, &secret).map_err(|_| StatusCode::BAD_REQUEST)?;
        Ok(VerifiedEvent(event))
    }
}
"#;
    let handler = r#"use axum::{extract::State, http::StatusCode};
use stripe::EventType;

use crate::extract::VerifiedEvent;

pub async fn stripe_webhook(State(db): State<sqlx::PgPool>, VerifiedEvent(event): VerifiedEvent) -> StatusCode {
    if event.type_ == EventType::CustomerSubscriptionDeleted {
        let _ = sqlx::query("UPDATE users SET has_paid_access = false WHERE stripe_customer_id = $1")
            .bind(event.id.as_str())
            .execute(&db)
            .await;
    }
    StatusCode::OK
}
"#;
    let dir = repo(&[("src/extract.rs", extractor), ("src/webhooks.rs", handler)]);
    let root = dir.path();
    assert_found_outside(root, "src/webhooks.rs", "// Stripe webhooks", "src/extract.rs:15", "src/webhooks.rs:7");
    // The handler takes the body as JSON instead of the verifying extractor.
    edit(root, "src/webhooks.rs", "VerifiedEvent(event): VerifiedEvent", "axum::Json(event): axum::Json<stripe::Event>");
    let r = review(root);
    let f = wh001(&r);
    assert_eq!(f.len(), 1, "{r}");
    assert_eq!(f[0]["location"]["path"], "src/webhooks.rs");
}

#[test]
fn gin_group_middleware() {
    let middleware = r#"package middleware

import (
	"io"
	"net/http"
	"os"

	"github.com/gin-gonic/gin"
	"github.com/stripe/stripe-go/v82/webhook"
)

// VerifyStripe checks the Stripe-Signature header and keeps the event in the context.
func VerifyStripe() gin.HandlerFunc {
	return func(c *gin.Context) {
		payload, err := io.ReadAll(c.Request.Body)
		if err != nil {
			c.AbortWithStatus(http.StatusServiceUnavailable)
			return
		}
		event, err := webhook.ConstructEvent(payload, c.GetHeader("Stripe-Signature"), os.Getenv("STRIPE_WEBHOOK_SECRET"))
		if err != nil {
			c.AbortWithStatus(http.StatusBadRequest)
			return
		}
		c.Set("stripeEvent", event)
		c.Next()
	}
}
"#;
    let routes = r#"package server

import (
	"github.com/gin-gonic/gin"

	"example.com/app/handlers"
	"example.com/app/middleware"
)

func Routes(r *gin.Engine, h *handlers.Billing) {
	hooks := r.Group("/webhooks", middleware.VerifyStripe())
	hooks.POST("/stripe", h.StripeWebhook)
}
"#;
    let handler = r#"package handlers

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/stripe/stripe-go/v82"
	"gorm.io/gorm"
)

type Billing struct{ DB *gorm.DB }

func (b *Billing) StripeWebhook(c *gin.Context) {
	event := c.MustGet("stripeEvent").(stripe.Event)
	switch event.Type {
	case stripe.EventTypeCustomerSubscriptionDeleted:
		b.DB.Table("accounts").Where("stripe_customer_id = ?", event.Data.Object["customer"]).Update("has_paid_access", false)
	}
	c.Status(http.StatusOK)
}
"#;
    let dir = repo(&[("middleware/stripe.go", middleware), ("server/routes.go", routes), ("handlers/billing_webhook.go", handler)]);
    let root = dir.path();
    assert_found_outside(root, "handlers/billing_webhook.go", "// Stripe webhooks", "server/routes.go:11", "server/routes.go:12");
    edit(root, "server/routes.go", r#"r.Group("/webhooks", middleware.VerifyStripe())"#, r#"r.Group("/webhooks")"#);
    let r = review(root);
    let f = wh001(&r);
    assert_eq!(f.len(), 1, "{r}");
    assert_eq!(f[0]["location"]["path"], "server/routes.go");
}

#[test]
fn cashier_config_turns_the_signature_middleware_off() {
    let controller = std::fs::read_to_string(std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tools/webhook-fixture-bases/laravel-cashier.php")).unwrap();
    let config = r#"<?php

return [
    'key' => env('STRIPE_KEY'),
    'secret' => env('STRIPE_SECRET'),
    'webhook' => [
        'secret' => env('STRIPE_WEBHOOK_SECRET'),
        'tolerance' => env('STRIPE_WEBHOOK_TOLERANCE', 300),
    ],
    'currency' => env('CASHIER_CURRENCY', 'usd'),
];
"#;
    let dir = repo(&[("app/Http/Controllers/StripeWebhookController.php", &controller), ("config/cashier.php", config)]);
    let root = dir.path();
    // The controller verifies through its parent (Cashier's constructor registers the middleware).
    edit(root, "app/Http/Controllers/StripeWebhookController.php", "use Illuminate\\Support\\Facades\\Log;", "use Illuminate\\Support\\Facades\\Log; // logging");
    let r = review(root);
    assert!(wh001(&r).is_empty(), "{r}");
    assert!(r["scope"]["handler_files"][0]["verification"].as_str().unwrap().contains("Cashier"), "{r}");
    git(root, &["checkout", "-q", "--", "."]);
    // The secret is switched off in the config: Cashier registers no middleware; the controller is untouched.
    edit(root, "config/cashier.php", "'secret' => env('STRIPE_WEBHOOK_SECRET'),", "'secret' => null, // set per environment");
    assert_removed_at(root, "app/Http/Controllers/StripeWebhookController.php", "config/cashier.php", 7);
    git(root, &["checkout", "-q", "--", "."]);
    // A week-long tolerance in the config is WH015.
    edit(root, "config/cashier.php", "env('STRIPE_WEBHOOK_TOLERANCE', 300)", "env('STRIPE_WEBHOOK_TOLERANCE', 604800)");
    edit(root, "app/Http/Controllers/StripeWebhookController.php", "use Illuminate\\Support\\Facades\\Log;", "use Illuminate\\Support\\Facades\\Log; // logging");
    let r = review(root);
    assert!(r["findings"].as_array().unwrap().iter().any(|f| f["rule"] == "WH015" && f["severity"] == "high"), "{r}");
}

#[test]
fn laravel_middleware_alias_and_its_replay_window() {
    let middleware = r#"<?php

namespace App\Http\Middleware;

use Closure;
use Illuminate\Http\Request;

class VerifyPaddleWebhookSignature
{
    protected ?int $maximumVariance = 5;

    public function handle(Request $request, Closure $next)
    {
        if ($this->isInvalidSignature($request, (string) $request->header('Paddle-Signature'))) {
            abort(403);
        }
        return $next($request);
    }

    protected function isInvalidSignature(Request $request, string $signature): bool
    {
        [$ts, $h1] = explode(';', $signature);
        if ($this->maximumVariance > 0 && time() > (int) $ts + $this->maximumVariance) {
            return true;
        }
        $expected = hash_hmac('sha256', $ts . ':' . $request->getContent(), config('services.paddle.webhook_secret'));
        return !hash_equals($expected, $h1);
    }
}
"#;
    let provider = r#"<?php

namespace App\Providers;

use App\Http\Middleware\VerifyPaddleWebhookSignature;
use Illuminate\Support\ServiceProvider;

class BillingServiceProvider extends ServiceProvider
{
    public function boot()
    {
        $this->app->router->aliasMiddleware('paddle-webhook-signature', VerifyPaddleWebhookSignature::class);
    }
}
"#;
    let routes = r#"<?php

use Illuminate\Support\Facades\Route;

Route::post('webhook/paddle', '\App\Http\Controllers\PaddleWebhook@handler')->middleware('paddle-webhook-signature');
"#;
    let controller = r#"<?php

namespace App\Http\Controllers;

use App\Models\Account;
use Illuminate\Http\Request;

class PaddleWebhook extends Controller
{
    public function handler(Request $request)
    {
        $event = $request->json()->all();
        if ($event['event_type'] === 'subscription.canceled') {
            Account::where('paddle_customer_id', $event['data']['customer_id'])->update(['has_paid_access' => false]);
        }
        return response()->json(['received' => true]);
    }
}
"#;
    let dir = repo(&[
        ("app/Http/Middleware/VerifyPaddleWebhookSignature.php", middleware),
        ("app/Providers/BillingServiceProvider.php", provider),
        ("routes/web.php", routes),
        ("app/Http/Controllers/PaddleWebhook.php", controller),
    ]);
    let root = dir.path();
    assert_found_outside(root, "app/Http/Controllers/PaddleWebhook.php", "<?php // Paddle", "VerifyPaddleWebhookSignature.php", "routes/web.php:5");
    // The replay window switched off in the middleware: WH015 there.
    edit(root, "app/Http/Middleware/VerifyPaddleWebhookSignature.php", "$maximumVariance = 5;", "$maximumVariance = null;");
    let r = review(root);
    let wh015: Vec<&Value> = r["findings"].as_array().unwrap().iter().filter(|f| f["rule"] == "WH015").collect();
    assert_eq!(wh015.len(), 1, "{r}");
    assert_eq!(wh015[0]["location"]["path"], "app/Http/Middleware/VerifyPaddleWebhookSignature.php");
    // Narrowed instead: nothing.
    edit(root, "app/Http/Middleware/VerifyPaddleWebhookSignature.php", "$maximumVariance = null;", "$maximumVariance = 3;");
    assert!(review(root)["findings"].as_array().unwrap().iter().all(|f| f["rule"] != "WH015"));
    git(root, &["checkout", "-q", "--", "."]);
    // The alias taken off the route: WH001 at the route.
    edit(root, "routes/web.php", "->middleware('paddle-webhook-signature')", "");
    assert_removed_at(root, "app/Http/Controllers/PaddleWebhook.php", "routes/web.php", 5);
}
