//! What a hostile repository or a careless argument can do to the MCP server:
//! nothing it says reaches the network unasked, no value is echoed, and no
//! log line carries a key.

mod support;

use std::process::Stdio;

use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::service::RunningService;
use rmcp::transport::{ConfigureCommandExt, TokioChildProcess};
use rmcp::{RoleClient, ServiceExt};
use serde_json::{Value, json};
use support::{TestServer, crate_root, fake_key, json as answer, materialize};

async fn connect(repo: &std::path::Path, flags: &[&str], log: Option<(&str, &std::path::Path)>) -> RunningService<RoleClient, ()> {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_billguard"));
    cmd.arg("serve").arg("--repo").arg(repo).args(flags);
    let stderr = match log {
        Some((level, file)) => {
            cmd.env("BILLGUARD_LOG", level);
            Stdio::from(std::fs::File::create(file).unwrap())
        }
        None => {
            cmd.env("BILLGUARD_LOG", "warn");
            Stdio::null()
        }
    };
    let (transport, _) = TokioChildProcess::builder(cmd.configure(|_| {})).stderr(stderr).spawn().expect("spawn billguard serve");
    ().serve(transport).await.expect("initialize")
}

async fn call(client: &RunningService<RoleClient, ()>, tool: &str, args: Value) -> CallToolResult {
    let params = CallToolRequestParams::new(tool.to_string()).with_arguments(args.as_object().unwrap().clone());
    client.call_tool(params).await.expect("tools/call answers")
}

fn text_of(result: &CallToolResult) -> String {
    result.content.iter().filter_map(|c| c.as_text().map(|t| t.text.clone())).collect::<Vec<_>>().join("\n")
}

#[tokio::test]
async fn argument_errors_name_the_argument_and_never_echo_its_value() {
    let repo = materialize(&crate_root().join("fixtures/keys/healthy/repo"), true);
    let client = connect(repo.path(), &[], None).await;
    let key = fake_key("sk_live_");
    let mut named_by_key = serde_json::Map::new();
    named_by_key.insert(key.clone(), json!(true));
    let cases = [
        ("check_key_mode", json!({"max_findings": key}), "argument `max_findings`"),
        ("diff_webhook_handler", json!({"paths": key}), "argument `paths`"),
        ("check_access_contract", json!({"fixtures_dir": {"nested": key}}), "argument `fixtures_dir`"),
        ("check_all", Value::Object(named_by_key), "unknown argument"),
    ];
    for (tool, args, expected) in cases {
        let outcome = client
            .call_tool(CallToolRequestParams::new(tool.to_string()).with_arguments(args.as_object().unwrap().clone()))
            .await;
        let text = match outcome {
            Ok(result) => text_of(&result),
            Err(e) => e.to_string(),
        };
        assert!(text.contains(expected), "{tool}: {text}");
        assert!(!text.contains(&key), "{tool} echoed the value: {text}");
    }
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn debug_and_trace_logs_are_redacted() {
    let repo = materialize(&crate_root().join("fixtures/keys/healthy/repo"), true);
    let log = tempfile::NamedTempFile::new().unwrap();
    let client = connect(repo.path(), &[], Some(("trace", log.path()))).await;
    let key = fake_key("sk_live_");
    let diff = format!("--- a/app/api/webhook.ts\n+++ b/app/api/webhook.ts\n@@ -1,1 +1,2 @@\n const a = 1;\n+const stripe = new Stripe('{key}');\n");
    let result = call(&client, "diff_webhook_handler", json!({"diff": diff})).await;
    assert!(!text_of(&result).contains(&key));
    client.cancel().await.unwrap();
    let logged = std::fs::read_to_string(log.path()).unwrap();
    assert!(logged.contains("diff_webhook_handler"), "the request was logged at trace: {logged}");
    assert!(!logged.contains(&key), "a key reached the log");
}

/// A checkout endpoint that records what reaches it.
fn checkout_server() -> TestServer {
    TestServer::start(|_| answer(200, json!({"url": "https://checkout.stripe.com/c/pay/cs_live_a1B2c3D4e5F6g7H8"})))
}

#[tokio::test]
async fn the_config_s_probes_and_the_probe_url_argument_need_allow_probes() {
    let server = checkout_server();
    let repo = materialize(&crate_root().join("fixtures/keys/healthy/repo"), true);
    std::fs::write(repo.path().join("billguard.toml"), format!("[keys]\nprobe_url = \"http://{}/checkout\"\n", server.addr)).unwrap();

    let client = connect(repo.path(), &[], None).await;
    for tool in ["check_key_mode", "check_all"] {
        let result = call(&client, tool, json!({})).await;
        assert!(result.structured_content.unwrap().to_string().contains("--allow-probes"), "{tool}: the skip is noted");
    }
    let refused = call(&client, "check_key_mode", json!({"probe_url": format!("http://{}/checkout", server.addr)})).await;
    assert_eq!(refused.is_error, Some(true));
    assert!(text_of(&refused).contains("--allow-probes"), "{}", text_of(&refused));
    assert!(server.seen.lock().unwrap().is_empty(), "the network was reached unasked");
    let tools = client.list_all_tools().await.unwrap();
    let read_only = |name: &str| tools.iter().find(|t| t.name == name).unwrap().annotations.as_ref().unwrap().read_only_hint;
    assert_eq!(read_only("check_key_mode"), Some(true));
    client.cancel().await.unwrap();

    let client = connect(repo.path(), &["--allow-probes"], None).await;
    let tools = client.list_all_tools().await.unwrap();
    let read_only = |name: &str| tools.iter().find(|t| t.name == name).unwrap().annotations.as_ref().unwrap().read_only_hint;
    assert_eq!((read_only("check_key_mode"), read_only("check_all")), (Some(false), Some(false)), "a tool that can POST is not read-only");
    assert_eq!(read_only("diff_webhook_handler"), Some(true));
    let report = call(&client, "check_key_mode", json!({})).await.structured_content.unwrap();
    assert!(!report["scope"]["checkout_probe"].is_null(), "{report}");
    assert_eq!(server.seen.lock().unwrap().len(), 1);
    client.cancel().await.unwrap();
}

#[test]
fn malformed_requests_with_an_id_are_answered_and_the_session_goes_on() {
    use std::io::{BufRead, BufReader, Write};
    let repo = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_billguard"))
        .args(["serve", "--repo"])
        .arg(repo.path())
        .env("BILLGUARD_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut send = |bytes: &[u8]| {
        stdin.write_all(bytes).unwrap();
        stdin.write_all(b"\n").unwrap();
        stdin.flush().unwrap();
    };
    send(br#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#);
    let mut next = || serde_json::from_str::<Value>(&lines.next().unwrap().unwrap()).unwrap();
    assert_eq!(next()["id"], 0);
    send(br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#);
    let mut not_utf8 = br#"{"jsonrpc":"2.0","id":4,"method":"tools/list","params":{"x":""#.to_vec();
    not_utf8.extend_from_slice(&[0xc3, 0x28]);
    not_utf8.extend_from_slice(br#""}}"#);
    let malformed: [(&[u8], Value, i64); 4] = [
        (br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":[1,2]}"#, json!(1), -32602),
        (br#"{"jsonrpc":"2.0","id":2}"#, json!(2), -32600),
        (br#"{"jsonrpc":"1.0","id":3,"method":"tools/list"}"#, json!(3), -32600),
        (&not_utf8, json!(4), -32700),
    ];
    for (line, id, code) in malformed {
        send(line);
        let reply = next();
        assert_eq!((reply["id"].clone(), reply["error"]["code"].as_i64()), (id, Some(code)), "{reply}");
    }
    send(br#"{"jsonrpc":"2.0","id":5,"method":"ping"}"#);
    assert_eq!(next()["id"], 5, "the session still answers");
    drop(stdin);
    assert!(child.wait().unwrap().success());
}

#[cfg(unix)]
#[tokio::test]
async fn fixture_and_config_files_that_link_out_of_the_repository_are_not_read() {
    let outside = tempfile::tempdir().unwrap();
    let secret_rows = "[{\"id\": \"u1\", \"stripe_customer_id\": \"cus_OUTSIDE\", \"has_paid_access\": true}]";
    std::fs::write(outside.path().join("users.json"), secret_rows).unwrap();
    std::fs::write(outside.path().join("billguard.toml"), "[access]\npast_due_grace_days = 3\n").unwrap();
    let repo = tempfile::tempdir().unwrap();
    let fx = repo.path().join("fx");
    std::fs::create_dir_all(fx.join("db")).unwrap();
    std::fs::create_dir_all(fx.join("stripe")).unwrap();
    std::fs::write(fx.join("stripe/subscriptions.json"), "[]").unwrap();
    std::os::unix::fs::symlink(outside.path().join("users.json"), fx.join("db/users.json")).unwrap();

    let client = connect(repo.path(), &[], None).await;
    let result = call(&client, "check_access_contract", json!({"fixtures_dir": "fx"})).await;
    assert_eq!(result.is_error, Some(true));
    let text = text_of(&result);
    assert!(text.contains("outside the fixtures directory") && !text.contains("cus_OUTSIDE"), "{text}");

    // The repository's own billguard.toml linking out is refused too.
    std::fs::remove_file(fx.join("db/users.json")).unwrap();
    std::fs::write(fx.join("db/users.json"), "[]").unwrap();
    std::os::unix::fs::symlink(outside.path().join("billguard.toml"), repo.path().join("billguard.toml")).unwrap();
    let result = call(&client, "check_access_contract", json!({"fixtures_dir": "fx"})).await;
    assert_eq!(result.is_error, Some(true));
    assert!(text_of(&result).contains("outside the repository"), "{}", text_of(&result));
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn tool_schemas_are_portable_json_schema_and_compact() {
    let repo = tempfile::tempdir().unwrap();
    let client = connect(repo.path(), &[], None).await;
    let tools = client.list_all_tools().await.unwrap();
    let text = serde_json::to_string(&tools).unwrap();
    for bad in ["\"format\":\"uint", "\"format\":\"int", "\"format\":\"double"] {
        assert!(!text.contains(bad), "a Rust width format is left: {bad}");
    }
    fn no_type_arrays(v: &Value) -> bool {
        match v {
            Value::Object(m) => !matches!(m.get("type"), Some(Value::Array(_))) && m.values().all(no_type_arrays),
            Value::Array(a) => a.iter().all(no_type_arrays),
            _ => true,
        }
    }
    assert!(no_type_arrays(&serde_json::to_value(&tools).unwrap()), "a `type` array is left");
    // Measured as clients print it (`", "` and `": "` between items): what a session loads.
    let spaced = spaced_json(&serde_json::to_value(&tools).unwrap());
    eprintln!("tools/list: {} characters", spaced.len());
    assert!(spaced.len() < 36_000, "tools/list is {} characters: clients load it into every session", spaced.len());
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn a_large_key_matrix_is_bounded_and_the_full_report_is_kept() {
    let repo = tempfile::tempdir().unwrap();
    let vars: String = (0..120).map(|i| format!("STRIPE_PRICE_PLAN_{i}=price_{i:04}Abc\n")).collect();
    std::fs::write(repo.path().join(".env.production"), &vars).unwrap();
    let client = connect(repo.path(), &[], None).await;
    let result = call(&client, "check_key_mode", json!({"max_findings": 5})).await;
    let report = result.structured_content.expect("structuredContent");
    let rows = report["scope"]["matrix"]["rows"].as_array().unwrap();
    assert!(rows.len() <= 40, "{} rows", rows.len());
    let file = report["report_file"].as_str().expect("the full report is kept");
    let full: Value = serde_json::from_str(&std::fs::read_to_string(repo.path().join(file)).unwrap()).unwrap();
    assert_eq!(full["scope"]["matrix"]["rows"].as_array().unwrap().len(), 120);
    assert!(report["notes"].to_string().contains("scope.matrix.rows: 40 of 120 shown"), "{}", report["notes"]);
    client.cancel().await.unwrap();
}

/// A client that offers one root.
#[derive(Clone)]
struct RootsClient(std::path::PathBuf);

#[allow(deprecated)]
impl rmcp::ClientHandler for RootsClient {
    fn get_info(&self) -> rmcp::model::ClientConfig {
        let mut info = rmcp::model::ClientConfig::default();
        info.capabilities = rmcp::model::ClientCapabilities::builder().enable_roots().build();
        info
    }

    async fn list_roots(&self, _: rmcp::service::RequestContext<RoleClient>) -> Result<rmcp::model::ListRootsResult, rmcp::ErrorData> {
        let uri = reqwest::Url::from_file_path(&self.0).unwrap().to_string();
        Ok(rmcp::model::ListRootsResult::new(vec![rmcp::model::Root::new(uri)]))
    }
}

#[tokio::test]
async fn a_server_started_on_dot_uses_the_client_s_root() {
    let repo = materialize(&crate_root().join("fixtures/keys/test-keys-in-production/repo"), true);
    let elsewhere = tempfile::tempdir().unwrap();
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_billguard"));
    cmd.arg("serve").current_dir(elsewhere.path()).env("BILLGUARD_LOG", "warn");
    let (transport, _) = TokioChildProcess::builder(cmd).stderr(Stdio::null()).spawn().unwrap();
    let client = RootsClient(repo.path().to_path_buf()).serve(transport).await.unwrap();
    let params = CallToolRequestParams::new("check_key_mode").with_arguments(serde_json::Map::new());
    let report = client.call_tool(params).await.unwrap().structured_content.unwrap();
    assert_eq!(report["summary"]["by_rule"]["KEY001"], 2, "the root's env files were judged: {report}");
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn deeply_nested_fixtures_are_input_errors_and_the_server_lives_on() {
    let repo = tempfile::tempdir().unwrap();
    let fx = repo.path().join("fx");
    std::fs::create_dir_all(fx.join("db")).unwrap();
    std::fs::create_dir_all(fx.join("stripe")).unwrap();
    let deep = |open: &str, inner: &str, close: &str| format!("{}{inner}{}", open.repeat(30_000), close.repeat(30_000));
    let cases = [
        (deep("[", "", "]"), "[]".to_string()),
        (format!("{{\"data\":{}}}", deep("[", "", "]")), "[]".to_string()),
        (format!("{{\"meta\":{},\"data\":[]}}", deep("[", "", "]")), "[]".to_string()),
        ("[]".to_string(), format!("[{}]", deep("{\"a\":", "1", "}"))),
    ];
    let client = connect(repo.path(), &[], None).await;
    for (subscriptions, users) in cases {
        std::fs::write(fx.join("stripe/subscriptions.json"), &subscriptions).unwrap();
        std::fs::write(fx.join("db/users.json"), &users).unwrap();
        let result = call(&client, "check_access_contract", json!({"fixtures_dir": "fx"})).await;
        assert_eq!(result.is_error, Some(true));
        assert!(text_of(&result).contains("nested deeper than 64 levels"), "{}", text_of(&result));
    }
    std::fs::write(fx.join("stripe/subscriptions.json"), "[]").unwrap();
    std::fs::write(fx.join("db/users.json"), "[]").unwrap();
    let result = call(&client, "check_access_contract", json!({"fixtures_dir": "fx"})).await;
    assert_eq!(result.structured_content.unwrap()["verdict"], "pass", "the server is still alive");
    client.cancel().await.unwrap();
}

/// JSON with a space after each `,` and `:` between items, as Python's `json.dumps` writes it.
fn spaced_json(v: &Value) -> String {
    match v {
        Value::Array(items) => format!("[{}]", items.iter().map(spaced_json).collect::<Vec<_>>().join(", ")),
        Value::Object(map) => format!("{{{}}}", map.iter().map(|(k, v)| format!("{}: {}", Value::String(k.clone()), spaced_json(v))).collect::<Vec<_>>().join(", ")),
        other => other.to_string(),
    }
}
