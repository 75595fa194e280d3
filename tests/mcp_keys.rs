//! check_key_mode over a real stdio MCP session: structured report with the
//! matrix, argument hygiene, and commands run only with --allow-commands.

mod support;

use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::service::RunningService;
use rmcp::transport::{ConfigureCommandExt, TokioChildProcess};
use rmcp::{RoleClient, ServiceExt};
use serde_json::{Value, json};
use support::{crate_root, fake_key, materialize};

async fn connect(repo: &std::path::Path, flags: &[&str]) -> RunningService<RoleClient, ()> {
    let transport = TokioChildProcess::new(tokio::process::Command::new(env!("CARGO_BIN_EXE_billguard")).configure(|cmd| {
        cmd.arg("serve").arg("--repo").arg(repo).args(flags).env("BILLGUARD_LOG", "warn");
    }))
    .expect("spawn billguard serve");
    ().serve(transport).await.expect("initialize")
}

async fn call(client: &RunningService<RoleClient, ()>, args: Value) -> CallToolResult {
    let params = CallToolRequestParams::new("check_key_mode").with_arguments(args.as_object().unwrap().clone());
    client.call_tool(params).await.expect("tools/call answers")
}

fn text_of(result: &CallToolResult) -> String {
    result.content.iter().filter_map(|c| c.as_text().map(|t| t.text.clone())).collect::<Vec<_>>().join("\n")
}

#[tokio::test]
async fn a_fixture_gives_a_structured_report_with_the_matrix_and_no_keys() {
    let repo = materialize(&crate_root().join("fixtures/keys/test-keys-in-production/repo"), true);
    let client = connect(repo.path(), &[]).await;
    let result = call(&client, json!({})).await;
    assert_eq!(result.is_error, Some(false), "{}", text_of(&result));
    let report = result.structured_content.clone().expect("structuredContent");
    assert_eq!(report["tool"], "check_key_mode");
    assert_eq!(report["verdict"], "fail");
    assert_eq!(report["summary"]["by_rule"]["KEY001"], 2);
    let rows = report["scope"]["matrix"]["rows"].as_array().unwrap();
    assert!(rows.iter().any(|r| r["variable"] == "STRIPE_SECRET_KEY" && r["cells"][0]["mode"] == "test"), "{rows:?}");
    let all = report.to_string() + &text_of(&result);
    for key in &repo.keys {
        assert!(!all.contains(key.as_str()), "leaked");
    }
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn arguments_are_checked_and_failures_are_tool_errors() {
    let repo = materialize(&crate_root().join("fixtures/keys/healthy/repo"), true);
    let client = connect(repo.path(), &[]).await;
    let key = fake_key("sk_live_");
    let cases = [
        (json!({"environments": [format!("production={key}")]}), "environment variable"),
        (json!({"probe_url": format!("https://x.test/?k={key}")}), "environment variable"),
        (json!({"environments": ["production=../../etc/passwd"]}), "outside the repository"),
        (json!({"environments": ["nowhere"]}), "no environment `nowhere`"),
        (json!({"environments": "production"}), "environments"),
        (json!({"probe": true}), "probe"),
    ];
    for (args, expected) in cases {
        let result = call(&client, args.clone()).await;
        let text = text_of(&result);
        assert_eq!(result.is_error, Some(true), "{args}: {text}");
        assert!(text.contains(expected), "{args}: {text}");
        assert!(!text.contains(&key), "secret echoed: {text}");
    }
    let ok = call(&client, json!({"environments": ["development", "production"], "max_findings": 5})).await;
    assert_eq!(ok.structured_content.unwrap()["verdict"], "pass");
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn commands_run_only_when_the_server_allows_them() {
    let repo = materialize(&crate_root().join("fixtures/keys/healthy/repo"), true);
    let test_key = fake_key("sk_test_");
    std::fs::write(
        repo.path().join("billguard.toml"),
        format!("[keys.environments.production]\ncommand = \"echo STRIPE_SECRET_KEY={test_key}\"\n"),
    )
    .unwrap();
    let client = connect(repo.path(), &[]).await;
    let report = call(&client, json!({})).await.structured_content.unwrap();
    assert_eq!(report["verdict"], "incomplete", "an environment whose command did not run was not examined: {report}");
    assert!(report["notes"][0].as_str().unwrap().starts_with("not examined: production"), "{}", report["notes"]);
    assert!(report["notes"].to_string().contains("--allow-commands"), "{}", report["notes"]);
    client.cancel().await.unwrap();

    let client = connect(repo.path(), &["--allow-commands"]).await;
    let report = call(&client, json!({})).await.structured_content.unwrap();
    assert_eq!(report["summary"]["by_rule"]["KEY001"], 1, "{report}");
    assert!(!report.to_string().contains(&test_key));
    client.cancel().await.unwrap();
}
