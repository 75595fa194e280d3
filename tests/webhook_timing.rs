//! When and in what order a handler's work happens: WH019 (acknowledged before
//! persisted), WH020 (ordering weakened) and WH021 (one entry point lost
//! verification), each shown firing and staying quiet in the languages where
//! the shape occurs.

use billguard::webhook::review_texts;

/// (rule, severity) of every finding.
fn findings(path: &str, before: &str, after: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = review_texts(path, Some(before), after)
        .unwrap()
        .into_iter()
        .map(|f| (f.rule.to_string(), f.severity.as_str().to_string()))
        .collect();
    out.sort();
    out.dedup();
    out
}

fn high(path: &str, before: &str, after: &str) -> Vec<String> {
    findings(path, before, after).into_iter().filter(|(_, s)| s == "high").map(|(r, _)| r).collect()
}

fn has(path: &str, before: &str, after: &str, rule: &str) -> bool {
    findings(path, before, after).iter().any(|(r, _)| r == rule)
}

// ---------- WH019: acknowledged before persisted ----------

const TS: &str = r#"export async function POST(req: Request) {
  const event = stripe.webhooks.constructEvent(await req.text(), req.headers.get('stripe-signature')!, process.env.STRIPE_WEBHOOK_SECRET!);
  switch (event.type) {
    case 'checkout.session.completed': {
      const session = event.data.object;
      if (session.payment_status !== 'paid') break;
      await prisma.user.update({ where: { id: session.client_reference_id }, data: { hasPaidAccess: true } });
      break;
    }
  }
  return new Response('ok', { status: 200 });
}
"#;

const PY: &str = r#"@app.post("/webhook")
async def webhook(request: Request):
    event = stripe.Webhook.construct_event(await request.body(), request.headers["stripe-signature"], SECRET)
    if event["type"] == "customer.subscription.deleted":
        sub = event["data"]["object"]
        await db.execute("UPDATE users SET has_paid_access = false WHERE stripe_customer_id = $1", sub["customer"])
    return {"ok": True}
"#;

const GO: &str = r#"package billing

func HandleWebhook(w http.ResponseWriter, r *http.Request) {
	payload, _ := io.ReadAll(r.Body)
	event, err := webhook.ConstructEvent(payload, r.Header.Get("Stripe-Signature"), secret)
	if err != nil {
		w.WriteHeader(400)
		return
	}
	switch event.Type {
	case "customer.subscription.deleted":
		var sub stripe.Subscription
		json.Unmarshal(event.Data.Raw, &sub)
		db.Exec("UPDATE users SET has_paid_access = false WHERE stripe_customer_id = $1", sub.Customer.ID)
	}
	w.WriteHeader(200)
}
"#;

const RB: &str = r#"class StripeWebhooksController < ApplicationController
  def create
    event = Stripe::Webhook.construct_event(request.body.read, request.headers["Stripe-Signature"], ENV["STRIPE_WEBHOOK_SECRET"])
    case event.type
    when "customer.subscription.deleted"
      user = User.find_by(stripe_customer_id: event.data.object.customer)
      user.update!(has_paid_access: false)
    end
    head :ok
  end
end
"#;

const RS: &str = r#"async fn webhook(State(state): State<AppState>, headers: HeaderMap, body: String) -> StatusCode {
    let sig = headers.get("stripe-signature").unwrap().to_str().unwrap();
    let event = match Webhook::construct_event(&body, sig, &state.secret) {
        Ok(e) => e,
        Err(_) => return StatusCode::BAD_REQUEST,
    };
    match event.type_ {
        EventType::CustomerSubscriptionDeleted => {
            sqlx::query("UPDATE users SET has_paid_access = false WHERE stripe_customer_id = $1").bind(&customer).execute(&state.db).await.unwrap();
        }
        _ => {}
    }
    StatusCode::OK
}
"#;

const EX: &str = r#"defmodule AppWeb.StripeWebhookController do
  use AppWeb, :controller

  def create(conn, _params) do
    {:ok, event} = Stripe.Webhook.construct_event(conn.assigns.raw_body, signature(conn), secret())
    case event.type do
      "customer.subscription.deleted" ->
        user = Repo.get_by(User, stripe_customer_id: event.data.object.customer)
        Repo.update!(User.changeset(user, %{has_paid_access: false}))
      _ -> :ok
    end
    send_resp(conn, 200, "ok")
  end
end
"#;

const PHP: &str = r#"<?php
class StripeWebhookController extends Controller
{
    public function handle(Request $request)
    {
        $event = \Stripe\Webhook::constructEvent($request->getContent(), $request->header('Stripe-Signature'), config('services.stripe.webhook_secret'));
        switch ($event->type) {
            case 'customer.subscription.deleted':
                User::where('stripe_customer_id', $event->data->object->customer)->update(['has_paid_access' => false]);
                break;
        }
        return response('ok', 200);
    }
}
"#;

/// Each language: the handler, the write line as written, and the same write handed off.
fn hand_offs() -> Vec<(&'static str, &'static str, &'static str, String)> {
    let ts_write = "      await prisma.user.update({ where: { id: session.client_reference_id }, data: { hasPaidAccess: true } });";
    let py_write = "        await db.execute(\"UPDATE users SET has_paid_access = false WHERE stripe_customer_id = $1\", sub[\"customer\"])";
    let go_write = "\t\tdb.Exec(\"UPDATE users SET has_paid_access = false WHERE stripe_customer_id = $1\", sub.Customer.ID)";
    let rb_write = "      user.update!(has_paid_access: false)";
    let rs_write = "            sqlx::query(\"UPDATE users SET has_paid_access = false WHERE stripe_customer_id = $1\").bind(&customer).execute(&state.db).await.unwrap();";
    let ex_write = "        Repo.update!(User.changeset(user, %{has_paid_access: false}))";
    let php_write = "                User::where('stripe_customer_id', $event->data->object->customer)->update(['has_paid_access' => false]);";
    vec![
        ("app/api/webhook/route.ts", TS, ts_write, format!("      setImmediate(async () => {{\n  {}\n      }});", ts_write.trim_start())),
        ("app/api/webhook/route.ts", TS, ts_write, ts_write.replace("await prisma", "void prisma")),
        ("app/api/webhook/route.ts", TS, ts_write, format!("{}.catch(console.error);", ts_write.trim_end_matches(';').replace("await prisma", "prisma"))),
        ("app/webhooks.py", PY, py_write, py_write.replace("await db.execute(", "asyncio.create_task(db.execute(").replace("\"])", "\"]))")),
        ("app/webhooks.py", PY, py_write, "        def work():\n            db.execute(\"UPDATE users SET has_paid_access = false WHERE stripe_customer_id = %s\", sub[\"customer\"])\n        threading.Thread(target=work).start()".to_string()),
        ("internal/billing/webhook.go", GO, go_write, format!("\t\tgo func() {{\n\t{go_write}\n\t\t}}()")),
        ("app/controllers/stripe_webhooks_controller.rb", RB, rb_write, format!("      Thread.new do\n  {rb_write}\n      end")),
        ("src/webhook.rs", RS, rs_write, format!("            tokio::spawn(async move {{\n    {}\n            }});", rs_write.trim_start())),
        ("lib/app_web/controllers/stripe_webhook_controller.ex", EX, ex_write, format!("        Task.start(fn -> {} end)", ex_write.trim_start())),
        ("app/Http/Controllers/StripeWebhookController.php", PHP, php_write, format!("                dispatch(function () use ($event) {{\n    {}\n                }})->afterResponse();", php_write.trim_start())),
    ]
}

#[test]
fn writes_handed_off_after_the_answer_are_wh019_in_every_language() {
    for (path, base, write, deferred) in hand_offs() {
        assert!(base.contains(write), "{path}: the write line is in the handler");
        let after = base.replace(write, &deferred);
        let rules = high(path, base, &after);
        assert!(rules.contains(&"WH019".to_string()), "{path}: {deferred}\n{rules:?}");
        // The base already handed off: pre-existing, low; unchanged code raises nothing high.
        assert!(high(path, &after, &after).is_empty(), "{path}: unchanged");
        assert!(findings(path, &after, &after).contains(&("WH019".into(), "low".into())), "{path}: pre-existing is low");
    }
}

#[test]
fn a_background_email_beside_an_awaited_write_is_not_wh019() {
    let ts_write = "      await prisma.user.update({ where: { id: session.client_reference_id }, data: { hasPaidAccess: true } });";
    let after = TS.replace(ts_write, &format!("{ts_write}\n      setImmediate(() => sendWelcomeEmail(session.customer_email));"));
    assert!(!has("app/api/webhook/route.ts", TS, &after, "WH019"));
    let go_write = "\t\tdb.Exec(\"UPDATE users SET has_paid_access = false WHERE stripe_customer_id = $1\", sub.Customer.ID)";
    let after = GO.replace(go_write, &format!("{go_write}\n\t\tgo metrics.Count(\"canceled\")"));
    assert!(!has("internal/billing/webhook.go", GO, &after, "WH019"));
}

#[test]
fn a_durable_job_queue_is_not_wh019() {
    let rb_write = "      user.update!(has_paid_access: false)";
    let after = RB.replace(rb_write, "      CancelSubscriptionJob.perform_later(event.data.object.customer)");
    assert!(!has("app/controllers/stripe_webhooks_controller.rb", RB, &after, "WH019"));
}

#[test]
fn an_event_handed_to_an_in_process_emitter_is_wh019_not_silence() {
    let go_write = "\t\tdb.Exec(\"UPDATE users SET has_paid_access = false WHERE stripe_customer_id = $1\", sub.Customer.ID)";
    let after = GO.replace(go_write, "\t\tcancellations <- sub.Customer.ID");
    let rules = high("internal/billing/webhook.go", GO, &after);
    assert!(rules.contains(&"WH019".to_string()) && !rules.contains(&"WH008".to_string()), "{rules:?}");
    let ts_write = "      await prisma.user.update({ where: { id: session.client_reference_id }, data: { hasPaidAccess: true } });";
    let after = TS.replace(ts_write, "      bus.emit('paid', session);");
    assert!(high("app/api/webhook/route.ts", TS, &after).contains(&"WH019".to_string()));
}

const PY_MAP: &str = r#"import os

import stripe
from fastapi import APIRouter, BackgroundTasks, Header, Request

router = APIRouter()


def on_checkout_completed(db, session):
    db.query(User).filter(User.stripe_customer_id == session["customer"]).update({"is_pro": True})


def on_subscription_deleted(db, sub):
    db.query(User).filter(User.stripe_customer_id == sub["customer"]).update({"is_pro": False})


HANDLERS = {
    "checkout.session.completed": on_checkout_completed,
    "customer.subscription.deleted": on_subscription_deleted,
}


@router.post("/webhooks/stripe")
async def stripe_webhook(request: Request, background: BackgroundTasks, stripe_signature: str = Header(None)):
    payload = await request.body()
    event = stripe.Webhook.construct_event(payload, stripe_signature, os.environ["STRIPE_WEBHOOK_SECRET"])
    handler = HANDLERS.get(event["type"])
    if handler is not None:
        handler(db, event["data"]["object"])
        db.commit()
    return {"received": True}
"#;

#[test]
fn a_handler_map_lookup_run_in_a_background_task_is_wh019() {
    let path = "app/routers/stripe_webhook.py";
    let late = PY_MAP.replace(
        "        handler(db, event[\"data\"][\"object\"])\n        db.commit()\n",
        "        background.add_task(run_handler, handler, db, event[\"data\"][\"object\"])\n",
    ) + "\n\ndef run_handler(handler, db, obj):\n    handler(db, obj)\n    db.commit()\n";
    assert!(high(path, PY_MAP, &late).contains(&"WH019".to_string()), "{:?}", findings(path, PY_MAP, &late));
    // The same helper called before answering: quiet.
    let inline = PY_MAP.replace(
        "        handler(db, event[\"data\"][\"object\"])\n        db.commit()\n",
        "        run_handler(handler, db, event[\"data\"][\"object\"])\n",
    ) + "\n\ndef run_handler(handler, db, obj):\n    handler(db, obj)\n    db.commit()\n";
    assert!(!has(path, PY_MAP, &inline, "WH019"), "{:?}", findings(path, PY_MAP, &inline));
}

const EX_DISPATCH: &str = r#"defmodule AppWeb.StripeWebhookController do
  use AppWeb, :controller

  def create(conn, _params) do
    sig = conn |> get_req_header("stripe-signature") |> List.first()
    case Stripe.Webhook.construct_event(conn.private[:raw_body], sig, webhook_secret()) do
      {:ok, %Stripe.Event{} = event} ->
        :ok = dispatch(event)
        json(conn, %{received: true})

      {:error, reason} ->
        conn |> put_status(400) |> json(%{error: inspect(reason)})
    end
  end

  defp dispatch(%Stripe.Event{type: type} = event) do
    object = event.data.object
    case type do
      "invoice.paid" -> Teams.upgrade!(object.customer, :team)
      "customer.subscription.deleted" -> Teams.downgrade!(object.customer)
      _ -> :ok
    end
  end
end
"#;

#[test]
fn a_task_started_around_the_files_own_dispatch_function_is_wh019() {
    let path = "lib/app_web/controllers/stripe_webhook_controller.ex";
    let late = EX_DISPATCH.replace(":ok = dispatch(event)", "Task.start(fn -> dispatch(event) end)");
    assert!(high(path, EX_DISPATCH, &late).contains(&"WH019".to_string()), "{:?}", findings(path, EX_DISPATCH, &late));
    // A task for something else beside the dispatch: quiet.
    let beside = EX_DISPATCH.replace(":ok = dispatch(event)", ":ok = dispatch(event)\n        Task.start(fn -> Logger.info(\"done\") end)");
    assert!(!has(path, EX_DISPATCH, &beside, "WH019"), "{:?}", findings(path, EX_DISPATCH, &beside));
}

// ---------- WH020: ordering weakened ----------

const TS_UPSERT: &str = r#"export async function POST(req: Request) {
  const event = stripe.webhooks.constructEvent(await req.text(), req.headers.get('stripe-signature')!, secret);
  switch (event.type) {
    case 'customer.subscription.updated': {
      const sub = event.data.object;
      await prisma.subscription.upsert({ where: { id: sub.id }, create: { id: sub.id, status: sub.status }, update: { status: sub.status } });
      break;
    }
  }
  return new Response('ok');
}
"#;

const PY_UPSERT: &str = r#"def webhook(request):
    event = stripe.Webhook.construct_event(request.body, request.META["HTTP_STRIPE_SIGNATURE"], SECRET)
    if event["type"] == "customer.subscription.updated":
        sub = event["data"]["object"]
        Subscription.objects.update_or_create(stripe_id=sub["id"], defaults={"status": sub["status"]})
    return HttpResponse(status=200)
"#;

const GO_UPSERT: &str = r#"package billing

func HandleWebhook(w http.ResponseWriter, r *http.Request) {
	payload, _ := io.ReadAll(r.Body)
	event, err := webhook.ConstructEvent(payload, r.Header.Get("Stripe-Signature"), secret)
	if err != nil {
		w.WriteHeader(400)
		return
	}
	switch event.Type {
	case "customer.subscription.updated":
		db.Exec("INSERT INTO subscriptions (id, status) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET status = $2", sub.ID, sub.Status)
	}
	w.WriteHeader(200)
}
"#;

#[test]
fn an_upsert_turned_into_an_update_is_wh020() {
    let cases = [
        ("app/api/webhook/route.ts", TS_UPSERT, "prisma.subscription.upsert({ where: { id: sub.id }, create: { id: sub.id, status: sub.status }, update: { status: sub.status } })", "prisma.subscription.update({ where: { id: sub.id }, data: { status: sub.status } })"),
        ("billing/views.py", PY_UPSERT, "Subscription.objects.update_or_create(stripe_id=sub[\"id\"], defaults={\"status\": sub[\"status\"]})", "Subscription.objects.filter(stripe_id=sub[\"id\"]).update(status=sub[\"status\"])"),
        ("internal/billing/webhook.go", GO_UPSERT, "\"INSERT INTO subscriptions (id, status) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET status = $2\", sub.ID, sub.Status", "\"UPDATE subscriptions SET status = $2 WHERE id = $1\", sub.ID, sub.Status"),
    ];
    for (path, base, from, to) in cases {
        assert!(base.contains(from), "{path}");
        let after = base.replace(from, to);
        assert!(findings(path, base, &after).contains(&("WH020".into(), "medium".into())), "{path}: {:?}", findings(path, base, &after));
        // Quiet: unchanged, and an update that falls back to a create.
        assert!(!has(path, base, base, "WH020"), "{path}: unchanged");
    }
    let with_create = TS_UPSERT.replace(
        "prisma.subscription.upsert({ where: { id: sub.id }, create: { id: sub.id, status: sub.status }, update: { status: sub.status } })",
        "(await prisma.subscription.findUnique({ where: { id: sub.id } })) ? await prisma.subscription.update({ where: { id: sub.id }, data: { status: sub.status } }) : await prisma.subscription.create({ data: { id: sub.id, status: sub.status } })",
    );
    assert!(!has("app/api/webhook/route.ts", TS_UPSERT, &with_create, "WH020"));
}

#[test]
fn a_sleep_added_to_order_events_is_wh020() {
    let after = TS_UPSERT.replace("      const sub = event.data.object;\n", "      const sub = event.data.object;\n      await new Promise((resolve) => setTimeout(resolve, 2000));\n");
    assert!(has("app/api/webhook/route.ts", TS_UPSERT, &after, "WH020"));
    let after = PY_UPSERT.replace("        sub = event[\"data\"][\"object\"]\n", "        sub = event[\"data\"][\"object\"]\n        time.sleep(2)\n");
    assert!(has("billing/views.py", PY_UPSERT, &after, "WH020"));
    // Already sleeping before: nothing new.
    assert!(!has("billing/views.py", &after, &after, "WH020"));
}

// ---------- WH021: an entry point lost verification ----------

const TS_TWO_ROUTES: &str = r#"import express from 'express';
const app = express();

async function handleEvent(event) {
  switch (event.type) {
    case 'checkout.session.completed':
      await db.user.update({ where: { id: event.data.object.client_reference_id }, data: { hasPaidAccess: true } });
      break;
  }
}

app.post('/webhooks/stripe', express.raw({ type: 'application/json' }), async (req, res) => {
  const event = stripe.webhooks.constructEvent(req.body, req.headers['stripe-signature'], process.env.STRIPE_WEBHOOK_SECRET);
  await handleEvent(event);
  res.json({ received: true });
});

app.post('/webhooks/stripe-connect', express.raw({ type: 'application/json' }), async (req, res) => {
  const event = stripe.webhooks.constructEvent(req.body, req.headers['stripe-signature'], process.env.STRIPE_CONNECT_WEBHOOK_SECRET);
  await handleEvent(event);
  res.json({ received: true });
});
"#;

const PY_TWO_VIEWS: &str = r#"def handle_event(event):
    if event["type"] == "customer.subscription.deleted":
        User.objects.filter(stripe_customer_id=event["data"]["object"]["customer"]).update(has_paid_access=False)

@csrf_exempt
def stripe_webhook(request):
    event = stripe.Webhook.construct_event(request.body, request.META["HTTP_STRIPE_SIGNATURE"], settings.STRIPE_WEBHOOK_SECRET)
    handle_event(event)
    return HttpResponse(status=200)

@csrf_exempt
def connect_webhook(request):
    event = stripe.Webhook.construct_event(request.body, request.META["HTTP_STRIPE_SIGNATURE"], settings.STRIPE_CONNECT_SECRET)
    handle_event(event)
    return HttpResponse(status=200)
"#;

#[test]
fn one_of_two_routes_losing_verification_is_wh021() {
    let ts_after = TS_TWO_ROUTES.replace(
        "const event = stripe.webhooks.constructEvent(req.body, req.headers['stripe-signature'], process.env.STRIPE_CONNECT_WEBHOOK_SECRET);",
        "const event = JSON.parse(req.body.toString());",
    );
    let rules = high("src/webhooks.ts", TS_TWO_ROUTES, &ts_after);
    assert!(rules.contains(&"WH021".to_string()), "{rules:?}");
    let py_after = PY_TWO_VIEWS.replace(
        "    event = stripe.Webhook.construct_event(request.body, request.META[\"HTTP_STRIPE_SIGNATURE\"], settings.STRIPE_CONNECT_SECRET)\n",
        "    event = json.loads(request.body)\n",
    );
    let rules = high("billing/views.py", PY_TWO_VIEWS, &py_after);
    assert!(rules.contains(&"WH021".to_string()), "{rules:?}");
}

#[test]
fn routes_that_all_verify_or_a_single_route_are_not_wh021() {
    // Unchanged.
    assert!(!has("src/webhooks.ts", TS_TWO_ROUTES, TS_TWO_ROUTES, "WH021"));
    // A third route that verifies too.
    let third = format!(
        "{TS_TWO_ROUTES}\napp.post('/webhooks/stripe-v2', express.raw({{ type: 'application/json' }}), async (req, res) => {{\n  const event = stripe.webhooks.constructEvent(req.body, req.headers['stripe-signature'], process.env.STRIPE_V2_SECRET);\n  await handleEvent(event);\n  res.json({{ received: true }});\n}});\n"
    );
    assert!(!has("src/webhooks.ts", TS_TWO_ROUTES, &third, "WH021"));
    // A new unverified route is WH021; the file-wide WH001 stays quiet since another route verifies.
    let unverified = format!(
        "{TS_TWO_ROUTES}\napp.post('/webhooks/test', express.json(), async (req, res) => {{\n  await handleEvent(req.body);\n  res.json({{ received: true }});\n}});\n"
    );
    let rules = high("src/webhooks.ts", TS_TWO_ROUTES, &unverified);
    assert!(rules.contains(&"WH021".to_string()) && !rules.contains(&"WH001".to_string()), "{rules:?}");
}

// ---------- WH020 and WH021 in the other languages ----------

const RB_UPSERT: &str = r#"class StripeWebhooksController < ApplicationController
  def create
    event = Stripe::Webhook.construct_event(request.body.read, request.headers["Stripe-Signature"], ENV["STRIPE_WEBHOOK_SECRET"])
    case event.type
    when "customer.subscription.updated"
      sub = event.data.object
      Subscription.upsert({ stripe_id: sub.id, status: sub.status }, unique_by: :stripe_id)
    end
    head :ok
  end
end
"#;

const PHP_UPSERT: &str = r#"<?php
class StripeWebhookController extends Controller
{
    public function handle(Request $request)
    {
        $event = \Stripe\Webhook::constructEvent($request->getContent(), $request->header('Stripe-Signature'), config('services.stripe.webhook_secret'));
        switch ($event->type) {
            case 'customer.subscription.updated':
                Subscription::updateOrCreate(['stripe_id' => $event->data->object->id], ['status' => $event->data->object->status]);
                break;
        }
        return response('ok', 200);
    }
}
"#;

const RS_UPSERT: &str = r#"async fn webhook(State(state): State<AppState>, headers: HeaderMap, body: String) -> StatusCode {
    let sig = headers.get("stripe-signature").unwrap().to_str().unwrap();
    let event = match Webhook::construct_event(&body, sig, &state.secret) {
        Ok(e) => e,
        Err(_) => return StatusCode::BAD_REQUEST,
    };
    match event.type_ {
        EventType::CustomerSubscriptionUpdated => {
            sqlx::query("INSERT INTO subscriptions (id, status) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET status = $2").bind(&id).bind(&status).execute(&state.db).await.unwrap();
        }
        _ => {}
    }
    StatusCode::OK
}
"#;

const EX_UPSERT: &str = r#"defmodule AppWeb.StripeWebhookController do
  use AppWeb, :controller

  def create(conn, _params) do
    {:ok, event} = Stripe.Webhook.construct_event(conn.assigns.raw_body, signature(conn), secret())
    case event.type do
      "customer.subscription.updated" ->
        Repo.insert(Subscription.changeset(%Subscription{}, %{stripe_id: event.data.object.id, status: event.data.object.status}), on_conflict: :replace_all, conflict_target: :stripe_id)
      _ -> :ok
    end
    send_resp(conn, 200, "ok")
  end
end
"#;

#[test]
fn an_upsert_turned_into_an_update_is_wh020_in_ruby_php_rust_and_elixir() {
    let cases = [
        ("app/controllers/stripe_webhooks_controller.rb", RB_UPSERT, "Subscription.upsert({ stripe_id: sub.id, status: sub.status }, unique_by: :stripe_id)", "Subscription.where(stripe_id: sub.id).update_all(status: sub.status)"),
        ("app/Http/Controllers/StripeWebhookController.php", PHP_UPSERT, "Subscription::updateOrCreate(['stripe_id' => $event->data->object->id], ['status' => $event->data->object->status]);", "Subscription::where('stripe_id', $event->data->object->id)->update(['status' => $event->data->object->status]);"),
        ("src/webhook.rs", RS_UPSERT, "INSERT INTO subscriptions (id, status) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET status = $2", "UPDATE subscriptions SET status = $2 WHERE id = $1"),
        ("lib/app_web/controllers/stripe_webhook_controller.ex", EX_UPSERT, "Repo.insert(Subscription.changeset(%Subscription{}, %{stripe_id: event.data.object.id, status: event.data.object.status}), on_conflict: :replace_all, conflict_target: :stripe_id)", "Repo.update(Subscription.changeset(Repo.get_by!(Subscription, stripe_id: event.data.object.id), %{status: event.data.object.status}))"),
    ];
    for (path, base, from, to) in cases {
        assert!(base.contains(from), "{path}");
        let after = base.replace(from, to);
        assert!(findings(path, base, &after).contains(&("WH020".into(), "medium".into())), "{path}: {:?}", findings(path, base, &after));
        assert!(!has(path, base, base, "WH020"), "{path}: unchanged");
    }
}

const GO_TWO: &str = r#"package billing

func handleEvent(event stripe.Event) {
	switch event.Type {
	case "customer.subscription.deleted":
		db.Exec("UPDATE users SET has_paid_access = false WHERE stripe_customer_id = $1", customerOf(event))
	}
}

func StripeWebhook(w http.ResponseWriter, r *http.Request) {
	payload, _ := io.ReadAll(r.Body)
	event, err := webhook.ConstructEvent(payload, r.Header.Get("Stripe-Signature"), os.Getenv("STRIPE_WEBHOOK_SECRET"))
	if err != nil {
		w.WriteHeader(400)
		return
	}
	handleEvent(event)
	w.WriteHeader(200)
}

func ConnectWebhook(w http.ResponseWriter, r *http.Request) {
	payload, _ := io.ReadAll(r.Body)
	event, err := webhook.ConstructEvent(payload, r.Header.Get("Stripe-Signature"), os.Getenv("STRIPE_CONNECT_SECRET"))
	if err != nil {
		w.WriteHeader(400)
		return
	}
	handleEvent(event)
	w.WriteHeader(200)
}
"#;

const RB_TWO: &str = r#"class StripeWebhooksController < ApplicationController
  def create
    event = Stripe::Webhook.construct_event(request.body.read, request.headers["Stripe-Signature"], ENV["STRIPE_WEBHOOK_SECRET"])
    process_event(event)
    head :ok
  end

  def connect
    event = Stripe::Webhook.construct_event(request.body.read, request.headers["Stripe-Signature"], ENV["STRIPE_CONNECT_SECRET"])
    process_event(event)
    head :ok
  end

  private

  def process_event(event)
    case event.type
    when "customer.subscription.deleted"
      User.where(stripe_customer_id: event.data.object.customer).update_all(has_paid_access: false)
    end
  end
end
"#;

#[test]
fn one_of_two_entry_points_losing_verification_is_wh021_in_go_and_ruby() {
    let go_after = GO_TWO.replace(
        "event, err := webhook.ConstructEvent(payload, r.Header.Get(\"Stripe-Signature\"), os.Getenv(\"STRIPE_CONNECT_SECRET\"))",
        "var event stripe.Event\n\terr := json.Unmarshal(payload, &event)",
    );
    assert!(high("internal/billing/webhook.go", GO_TWO, &go_after).contains(&"WH021".to_string()), "{:?}", findings("internal/billing/webhook.go", GO_TWO, &go_after));
    assert!(!has("internal/billing/webhook.go", GO_TWO, GO_TWO, "WH021"));
    let rb_after = RB_TWO.replace(
        "    event = Stripe::Webhook.construct_event(request.body.read, request.headers[\"Stripe-Signature\"], ENV[\"STRIPE_CONNECT_SECRET\"])\n",
        "    event = Stripe::Event.construct_from(JSON.parse(request.body.read))\n",
    );
    let path = "app/controllers/stripe_webhooks_controller.rb";
    assert!(high(path, RB_TWO, &rb_after).contains(&"WH021".to_string()), "{:?}", findings(path, RB_TWO, &rb_after));
    assert!(!has(path, RB_TWO, RB_TWO, "WH021"));
}

const PHP_TWO: &str = r#"<?php
class StripeWebhookController extends Controller
{
    public function platform(Request $request)
    {
        $event = \Stripe\Webhook::constructEvent($request->getContent(), $request->header('Stripe-Signature'), config('services.stripe.webhook_secret'));
        $this->dispatchEvent($event);
        return response('ok', 200);
    }

    public function connect(Request $request)
    {
        $event = \Stripe\Webhook::constructEvent($request->getContent(), $request->header('Stripe-Signature'), config('services.stripe.connect_secret'));
        $this->dispatchEvent($event);
        return response('ok', 200);
    }

    private function dispatchEvent($event)
    {
        switch ($event->type) {
            case 'customer.subscription.deleted':
                User::where('stripe_customer_id', $event->data->object->customer)->update(['has_paid_access' => false]);
                break;
        }
    }
}
"#;

const RS_TWO: &str = r#"async fn handle_event(state: &AppState, event: Event) {
    match event.type_ {
        EventType::CustomerSubscriptionDeleted => {
            sqlx::query("UPDATE users SET has_paid_access = false WHERE stripe_customer_id = $1").bind(&customer).execute(&state.db).await.unwrap();
        }
        _ => {}
    }
}

async fn platform_webhook(State(state): State<AppState>, headers: HeaderMap, body: String) -> StatusCode {
    let sig = headers.get("stripe-signature").unwrap().to_str().unwrap();
    let event = match Webhook::construct_event(&body, sig, &state.secret) {
        Ok(e) => e,
        Err(_) => return StatusCode::BAD_REQUEST,
    };
    handle_event(&state, event).await;
    StatusCode::OK
}

async fn connect_webhook(State(state): State<AppState>, headers: HeaderMap, body: String) -> StatusCode {
    let sig = headers.get("stripe-signature").unwrap().to_str().unwrap();
    let event = match Webhook::construct_event(&body, sig, &state.connect_secret) {
        Ok(e) => e,
        Err(_) => return StatusCode::BAD_REQUEST,
    };
    handle_event(&state, event).await;
    StatusCode::OK
}
"#;

const EX_TWO: &str = r#"defmodule AppWeb.StripeWebhookController do
  use AppWeb, :controller

  def platform(conn, _params) do
    {:ok, event} = Stripe.Webhook.construct_event(conn.assigns.raw_body, signature(conn), platform_secret())
    handle_event(event)
    send_resp(conn, 200, "ok")
  end

  def connect(conn, _params) do
    {:ok, event} = Stripe.Webhook.construct_event(conn.assigns.raw_body, signature(conn), connect_secret())
    handle_event(event)
    send_resp(conn, 200, "ok")
  end

  defp handle_event(event) do
    case event.type do
      "customer.subscription.deleted" ->
        Repo.update_all(from(u in User, where: u.stripe_customer_id == ^event.data.object.customer), set: [has_paid_access: false])
      _ -> :ok
    end
  end
end
"#;

#[test]
fn one_of_two_entry_points_losing_verification_is_wh021_in_php_rust_and_elixir() {
    let cases = [
        ("app/Http/Controllers/StripeWebhookController.php", PHP_TWO, "\\Stripe\\Webhook::constructEvent($request->getContent(), $request->header('Stripe-Signature'), config('services.stripe.connect_secret'))", "json_decode($request->getContent())"),
        ("src/webhook.rs", RS_TWO, "match Webhook::construct_event(&body, sig, &state.connect_secret) {", "match serde_json::from_str::<Event>(&body) {"),
        ("lib/app_web/controllers/stripe_webhook_controller.ex", EX_TWO, "Stripe.Webhook.construct_event(conn.assigns.raw_body, signature(conn), connect_secret())", "Jason.decode(conn.assigns.raw_body)"),
    ];
    for (path, base, from, to) in cases {
        assert!(base.contains(from), "{path}");
        let after = base.replace(from, to);
        assert!(high(path, base, &after).contains(&"WH021".to_string()), "{path}: {:?}", findings(path, base, &after));
        assert!(!has(path, base, base, "WH021"), "{path}: unchanged");
    }
}
