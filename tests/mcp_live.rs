//! `check_access_contract` over MCP with billing read live from the in-test
//! emulator: progress notifications arrive as pages do, and a cancelled call
//! drops every request in flight at once.

#![recursion_limit = "256"]

#[path = "support/billing_emulator.rs"]
mod billing_emulator;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use billing_emulator::{Emulator, stripe_subs, users_for};
use rmcp::model::{
    CallToolRequest, CallToolRequestParams, ClientRequest, ProgressNotificationParam, ServerResult,
};
use rmcp::service::{NotificationContext, PeerRequestOptions, RunningService};
use rmcp::transport::{ConfigureCommandExt, TokioChildProcess};
use rmcp::{ClientHandler, RoleClient, ServiceExt};
use serde_json::json;

const KEY_ENV: &str = "BG_MCP_TEST_KEY";

/// A client that records the progress notifications it receives.
#[derive(Clone, Default)]
struct Recorder {
    progress: Arc<Mutex<Vec<ProgressNotificationParam>>>,
}

impl ClientHandler for Recorder {
    async fn on_progress(&self, params: ProgressNotificationParam, _: NotificationContext<RoleClient>) {
        self.progress.lock().unwrap().push(params);
    }
}

fn random_key() -> String {
    let body: String = std::iter::repeat_with(fastrand::alphanumeric).take(60).collect();
    format!("rk_test_{body}")
}

/// An account of `n` subscriptions on the emulator, with matching users, for a random key.
fn account(n: usize) -> (String, Emulator, Vec<serde_json::Value>) {
    let key = random_key();
    let subs = stripe_subs(n, 1_767_000_000, 2 * 365 * 86_400);
    let users = users_for(&subs);
    let emu = Emulator::start(&key, subs, vec![]);
    (key, emu, users)
}

fn repo_for(users: &[serde_json::Value], rate: u32) -> tempfile::TempDir {
    let repo = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(repo.path().join("fx/db")).unwrap();
    std::fs::write(repo.path().join("fx/db/users.json"), serde_json::to_string(users).unwrap()).unwrap();
    let config = format!(
        "[billing]\nsecret_env = \"{KEY_ENV}\"\nrate_limit = {rate}\n[access.plans]\nprice_pro = \"pro\"\nprice_team = \"team\"\n"
    );
    std::fs::write(repo.path().join("fx/billguard.toml"), config).unwrap();
    repo
}

/// The server, started the way a person configures it: the key and the emulator's
/// address in its environment.
async fn connect(repo: &Path, emu: &Emulator, key: &str, recorder: Recorder) -> RunningService<RoleClient, Recorder> {
    let transport = TokioChildProcess::new(tokio::process::Command::new(env!("CARGO_BIN_EXE_billguard")).configure(|cmd| {
        cmd.arg("serve").arg("--repo").arg(repo).env("BILLGUARD_LOG", "warn").env(KEY_ENV, key).env("BILLGUARD_API_BASE", &emu.base);
    }))
    .expect("spawn billguard serve");
    recorder.serve(transport).await.expect("initialize")
}

fn call_request() -> ClientRequest {
    let args = json!({"fixtures_dir": "fx"}).as_object().unwrap().clone();
    ClientRequest::CallToolRequest(CallToolRequest::new(CallToolRequestParams::new("check_access_contract").with_arguments(args)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_notifications_follow_the_pages() {
    let (key, emu, users) = account(1_200);
    emu.set_latency(Duration::from_millis(40));
    // A slow rate, so that pages arrive over a second or two.
    let repo = repo_for(&users, 8);
    let recorder = Recorder::default();
    let client = connect(repo.path(), &emu, &key, recorder.clone()).await;

    let handle = client.send_cancellable_request(call_request(), PeerRequestOptions::no_options()).await.unwrap();
    let result = match handle.await_response().await.unwrap() {
        ServerResult::CallToolResult(r) => r,
        other => panic!("unexpected {other:?}"),
    };
    assert_eq!(result.is_error, Some(false), "{result:?}");
    let report = result.structured_content.unwrap();
    assert_eq!(report["scope"]["subscriptions"], 1_200);
    assert_eq!(report["scope"]["source"], "stripe-live+fixtures");

    let progress = recorder.progress.lock().unwrap().clone();
    assert!(progress.len() >= 3, "one notification per page or so: {progress:?}");
    assert!(progress.windows(2).all(|w| w[0].progress < w[1].progress), "progress increases: {progress:?}");
    let last = progress.last().unwrap();
    assert_eq!(last.progress, 1_200.0);
    assert!(last.message.as_deref().unwrap_or("").contains("read 1200 subscriptions from Stripe"), "{last:?}");
    client.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancellation_drops_every_request_in_flight() {
    let (key, emu, users) = account(3_000);
    let repo = repo_for(&users, 50);
    let client = connect(repo.path(), &emu, &key, Recorder::default()).await;

    // The first page answers, so that the walk splits into windows; every window's page hangs.
    emu.inject("created[", billing_emulator::Fault::Delay(Duration::from_secs(60)), 10_000);
    let handle = client.send_cancellable_request(call_request(), PeerRequestOptions::no_options()).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while emu.in_flight() < 4 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let hanging = emu.in_flight();
    assert!(hanging >= 4, "several pages in flight before the cancel: {hanging}");

    let cancelled_at = Instant::now();
    handle.cancel(Some("test".into())).await.unwrap();
    while emu.in_flight() > 0 && cancelled_at.elapsed() < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(emu.in_flight(), 0, "every request dropped after the cancel ({hanging} were in flight)");
    assert!(cancelled_at.elapsed() < Duration::from_secs(2), "promptly: {:?}", cancelled_at.elapsed());
    let requests = emu.seen().len();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(emu.seen().len(), requests, "no new request after the cancel");

    // The server is still alive.
    let tools = client.list_all_tools().await.unwrap();
    assert!(tools.iter().any(|t| t.name == "check_access_contract"));
    client.cancel().await.unwrap();
}
