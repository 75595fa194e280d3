//! The real binary, spawned as `billguard serve`, driven over stdio by rmcp's
//! own client: initialize, tools/list, tools/call, and the error paths.

use std::path::{Path, PathBuf};

use rmcp::model::{CallToolRequestParams, CallToolResult, Tool};
use rmcp::service::RunningService;
use rmcp::transport::{ConfigureCommandExt, TokioChildProcess};
use rmcp::{RoleClient, ServiceExt};
use serde_json::{Value, json};

fn crate_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

async fn connect(repo: &Path) -> RunningService<RoleClient, ()> {
    let transport = TokioChildProcess::new(tokio::process::Command::new(env!("CARGO_BIN_EXE_billguard")).configure(|cmd| {
        cmd.arg("serve").arg("--repo").arg(repo).env("BILLGUARD_LOG", "warn").env_remove("STRIPE_SECRET_KEY");
    }))
    .expect("spawn billguard serve");
    ().serve(transport).await.expect("initialize")
}

async fn call(client: &RunningService<RoleClient, ()>, args: Value) -> CallToolResult {
    let params = CallToolRequestParams::new("check_access_contract").with_arguments(args.as_object().unwrap().clone());
    client.call_tool(params).await.expect("tools/call answers")
}

fn text_of(result: &CallToolResult) -> String {
    result.content.iter().filter_map(|c| c.as_text().map(|t| t.text.clone())).collect::<Vec<_>>().join("\n")
}

fn tool<'a>(tools: &'a [Tool], name: &str) -> &'a Tool {
    tools.iter().find(|t| t.name == name).unwrap_or_else(|| panic!("tool {name} not listed"))
}

#[tokio::test]
async fn initialize_reports_billguard_identity_and_instructions() {
    let client = connect(&crate_root()).await;
    let info = client.peer_info().expect("server info after initialize");
    let server = info.server_info.clone().expect("serverInfo");
    assert_eq!(server.name, "billguard");
    assert_eq!(server.version, env!("CARGO_PKG_VERSION"));
    let instructions = info.instructions.clone().unwrap_or_default();
    assert!(instructions.contains("check_access_contract") && instructions.contains("fail"), "{instructions}");
    assert!(instructions.contains("diff_webhook_handler"), "{instructions}");
    for mention in ["check_all", "pre_pr_billing_check", "billguard://rules/{code}"] {
        assert!(instructions.contains(mention), "instructions must mention {mention}: {instructions}");
    }
    let caps = &info.capabilities;
    assert!(caps.tools.is_some() && caps.prompts.is_some() && caps.resources.is_some(), "{caps:?}");
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn tools_list_has_exactly_the_implemented_tools_with_schemas_and_annotations() {
    let client = connect(&crate_root()).await;
    let tools = client.list_all_tools().await.unwrap();
    let names: Vec<_> = tools.iter().map(|t| t.name.to_string()).collect();
    assert_eq!(names, ["check_access_contract", "check_all", "check_key_mode", "diff_webhook_handler"], "no placeholder tools");
    // (tool, open world): the webhook review reads only the repo.
    for (name, open_world) in [("check_access_contract", true), ("check_all", true), ("check_key_mode", true), ("diff_webhook_handler", false)] {
        let t = tool(&tools, name);
        let ann = t.annotations.as_ref().expect("annotations");
        assert_eq!((ann.read_only_hint, ann.open_world_hint), (Some(true), Some(open_world)), "{name}");
        let out = t.output_schema.as_ref().expect("outputSchema");
        assert_eq!(out["type"], "object");
        let required: Vec<_> = out["required"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
        let keys: &[&str] = if name == "check_all" {
            &["tool", "verdict", "complete", "summary", "sections", "notes"]
        } else {
            &["tool", "verdict", "summary", "scope", "findings", "omitted", "notes", "report_file"]
        };
        for key in keys {
            assert!(required.contains(&key), "{name} outputSchema must require {key}: {required:?}");
        }
    }
    client.cancel().await.unwrap();
}

/// Any change to a tool's contract shows up in review as a snapshot diff.
#[tokio::test]
async fn tool_schemas_match_snapshots() {
    let client = connect(&crate_root()).await;
    for t in client.list_all_tools().await.unwrap() {
        let input = Value::Object((*t.input_schema).clone());
        insta::assert_json_snapshot!(format!("{}_input_schema", t.name), input);
        let output = t.output_schema.as_ref().map(|s| Value::Object((**s).clone()));
        insta::assert_json_snapshot!(format!("{}_output_schema", t.name), output);
        let meta = json!({"title": t.title, "description": t.description, "annotations": t.annotations});
        insta::assert_json_snapshot!(format!("{}_description", t.name), meta);
    }
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn calling_on_a_fixture_returns_structured_report() {
    let client = connect(&crate_root()).await;
    let result = call(&client, json!({"fixtures_dir": "fixtures/access/revenue-leak"})).await;
    assert_eq!(result.is_error, Some(false), "{}", text_of(&result));
    let report = result.structured_content.clone().expect("structuredContent");
    assert_eq!(report["tool"], "check_access_contract");
    assert_eq!(report["verdict"], "fail");
    assert_eq!(report["summary"]["by_rule"]["ACC001"], 1);
    assert_eq!(report["scope"]["source"], "fixtures");
    let first = &report["findings"][0];
    assert_eq!(first["rule"], "ACC001");
    assert_eq!(first["entity"], "user:usr_alice");
    assert!(first["fix"].as_str().unwrap().contains("has_paid_access"));
    // The text block carries the same report, for clients that read only text.
    let text: Value = serde_json::from_str(&text_of(&result)).unwrap();
    assert_eq!(text["verdict"], "fail");
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn results_are_bounded_and_the_full_report_is_saved() {
    let repo = tempfile::tempdir().unwrap();
    let src = crate_root().join("fixtures/access/revenue-leak");
    copy_dir(&src, &repo.path().join("fx"));
    let client = connect(repo.path()).await;
    let result = call(&client, json!({"fixtures_dir": "fx", "max_findings": 3})).await;
    let report = result.structured_content.expect("structuredContent");
    assert_eq!(report["findings"].as_array().unwrap().len(), 3);
    assert_eq!(report["omitted"], 6);
    assert_eq!(report["summary"]["high"], 4, "summary counts everything");
    let file = report["report_file"].as_str().expect("report_file when cut");
    assert!(file.starts_with(".billguard/reports/"), "{file}");
    let full: Value = serde_json::from_str(&std::fs::read_to_string(repo.path().join(file)).unwrap()).unwrap();
    assert_eq!(full["findings"].as_array().unwrap().len(), 9);
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn expected_failures_are_tool_errors_not_protocol_errors() {
    let client = connect(&crate_root()).await;
    let cases = [
        (json!({"fixtures_dir": "fixtures/access/does-not-exist"}), "does not exist"),
        (json!({"fixtures_dir": "../.."}), "outside the repository"),
        (json!({"fixtures_dir": "fixtures/access/healthy", "config": format!("{}{}", "sk_live_", "4fQ9zXv2Lm8Rt1Yp6Wc3Nb7Ka1b2")}), "environment variable"),
        (json!({"fixtures_dir": "postgres://app:hunter2@db/prod"}), "environment variable"),
        (json!({"fixtures_dir": 42}), "fixtures_dir"),
        (json!({"fixture_dir": "fixtures/access/healthy"}), "fixture_dir"),
        (json!({}), "fixtures_dir"),
    ];
    for (args, expected) in cases {
        let result = call(&client, args.clone()).await;
        let text = text_of(&result);
        assert_eq!(result.is_error, Some(true), "{args}: {text}");
        assert!(text.contains(expected), "{args}: {text}");
        assert!(!text.contains("hunter2") && !text.contains("Nb7Ka1b2x"), "secret echoed: {text}");
    }
    // The server is still alive after all of that.
    let ok = call(&client, json!({"fixtures_dir": "fixtures/access/healthy"})).await;
    assert_eq!(ok.structured_content.unwrap()["verdict"], "pass");
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn malformed_fixture_json_names_file_line_and_column() {
    let repo = tempfile::tempdir().unwrap();
    let fx = repo.path().join("fx");
    std::fs::create_dir_all(fx.join("stripe")).unwrap();
    std::fs::create_dir_all(fx.join("db")).unwrap();
    std::fs::write(fx.join("stripe/subscriptions.json"), "{\"data\": [\n  {\"id\": \"sub_1\",\n   \"status\": }\n]}").unwrap();
    std::fs::write(fx.join("db/users.json"), "[]").unwrap();
    let client = connect(repo.path()).await;
    let result = call(&client, json!({"fixtures_dir": "fx"})).await;
    let text = text_of(&result);
    assert_eq!(result.is_error, Some(true));
    assert!(text.contains("stripe/subscriptions.json:3:"), "{text}");
    client.cancel().await.unwrap();
}

/// Every line the server writes to stdout must be a JSON-RPC message.
#[test]
fn stdout_carries_only_protocol() {
    use std::io::{BufRead, BufReader, Write};
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_billguard"))
        .args(["serve", "--repo"])
        .arg(crate_root())
        .env("BILLGUARD_LOG", "debug")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    // Debug logs of the whole exchange can outgrow a pipe's buffer: read them as they come.
    let mut stderr_pipe = child.stderr.take().unwrap();
    let stderr_reader = std::thread::spawn(move || {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut stderr_pipe, &mut text).unwrap();
        text
    });
    let messages = [
        json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"0"}}}),
        json!({"jsonrpc":"2.0","method":"notifications/initialized"}),
        json!({"jsonrpc":"2.0","id":2,"method":"tools/list"}),
        json!({"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"check_access_contract","arguments":{"fixtures_dir":"fixtures/access/revenue-leak"}}}),
        json!({"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"check_access_contract","arguments":{"fixtures_dir":"nope"}}}),
    ];
    for m in &messages {
        writeln!(stdin, "{m}").unwrap();
    }
    drop(stdin); // EOF: the server must exit on its own.
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let lines: Vec<String> = stdout.lines().map(Result::unwrap).collect();
    let status = child.wait().unwrap();
    assert!(status.success(), "server exit status {status}");
    assert!(lines.len() >= 4, "{lines:?}");
    let mut ids = Vec::new();
    for line in &lines {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("non-JSON on stdout ({e}): {line}"));
        assert_eq!(v["jsonrpc"], "2.0", "{line}");
        ids.push(v["id"].clone());
    }
    for id in 1..=4 {
        assert!(ids.contains(&json!(id)), "no response for request {id}: {lines:?}");
    }
    let stderr = stderr_reader.join().unwrap();
    assert!(stderr.contains("billguard MCP server starting"), "logs go to stderr: {stderr}");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[tokio::test]
async fn diff_webhook_handler_reviews_diff_text_and_guards_arguments() {
    let repo = tempfile::tempdir().unwrap();
    let client = connect(repo.path()).await;
    let before = std::fs::read_to_string(crate_root().join("fixtures/webhook/js-wh006-deleted-dropped/before.js")).unwrap();
    let after = std::fs::read_to_string(crate_root().join("fixtures/webhook/js-wh006-deleted-dropped/after.js")).unwrap();
    // A new-file diff: complete, so the whole handler is judged.
    let plus: String = after.lines().map(|l| format!("+{l}\n")).collect();
    let diff = format!(
        "diff --git a/routes/webhook.js b/routes/webhook.js\nnew file mode 100644\n--- /dev/null\n+++ b/routes/webhook.js\n@@ -0,0 +1,{} @@\n{plus}",
        after.lines().count()
    );
    assert!(!before.is_empty());
    let call = |args: Value| {
        let params = CallToolRequestParams::new("diff_webhook_handler").with_arguments(args.as_object().unwrap().clone());
        client.call_tool(params)
    };
    let result = call(json!({"diff": diff})).await.unwrap();
    assert_eq!(result.is_error, Some(false), "{}", text_of(&result));
    let report = result.structured_content.clone().expect("structuredContent");
    assert_eq!(report["tool"], "diff_webhook_handler");
    assert_eq!(report["scope"]["source"], "diff");
    assert_eq!(report["scope"]["handler_files"][0]["change"], "added");
    let cases = [
        (json!({"base": "whsec_4fQ9zXv2Lm8Rt1Yp6Wc3Nb7Ka1b2"}), "environment variable"),
        (json!({"paths": ["../elsewhere/**"]}), "outside the repository"),
        (json!({}), "not a git repository"),
        (json!({"diff": "not a diff"}), "bad diff"),
    ];
    for (args, expected) in cases {
        let result = call(args.clone()).await.unwrap();
        let text = text_of(&result);
        assert_eq!(result.is_error, Some(true), "{args}: {text}");
        assert!(text.contains(expected), "{args}: {text}");
        assert!(!text.contains("Nb7Ka1b2"), "secret echoed: {text}");
    }
    client.cancel().await.unwrap();
}

async fn call_tool(client: &RunningService<RoleClient, ()>, name: &'static str, args: Value) -> CallToolResult {
    let params = CallToolRequestParams::new(name).with_arguments(args.as_object().unwrap().clone());
    client.call_tool(params).await.expect("tools/call answers")
}

/// A repo that is not a git checkout, with access fixtures and a production env
/// file holding a test key (built at run time: no key-shaped literal in the source).
fn check_all_repo() -> tempfile::TempDir {
    let repo = tempfile::tempdir().unwrap();
    copy_dir(&crate_root().join("fixtures/access/revenue-leak"), &repo.path().join("fx"));
    let key = format!("{}{}", "sk_test_", "51Hq8ZtLm2Xv4Rt9Yp6Wc3Nb7Ka1b2c");
    std::fs::write(repo.path().join(".env.production"), format!("STRIPE_SECRET_KEY={key}\n")).unwrap();
    repo
}

#[tokio::test]
async fn check_all_combines_the_checks_and_skips_what_cannot_run() {
    let repo = check_all_repo();
    let client = connect(repo.path()).await;
    let result = call_tool(&client, "check_all", json!({"fixtures_dir": "fx"})).await;
    assert_eq!(result.is_error, Some(false), "{}", text_of(&result));
    let all = result.structured_content.clone().expect("structuredContent");
    assert_eq!(all["tool"], "check_all");
    assert_eq!(all["verdict"], "fail");
    assert_eq!(all["complete"], false);
    let access = &all["sections"]["access"];
    assert_eq!((access["status"].as_str(), access["verdict"].as_str()), (Some("ran"), Some("fail")));
    assert_eq!(access["report"]["summary"]["by_rule"]["ACC001"], 1);
    let keys = &all["sections"]["keys"];
    assert_eq!(keys["status"], "ran");
    assert_eq!(keys["report"]["summary"]["by_rule"]["KEY001"], 1, "{keys}");
    assert!(!all.to_string().contains("51Hq8ZtLm2Xv4Rt9Yp6W"), "the key is redacted");
    // Not a git checkout: the webhook review is skipped, not an error that sinks the rest.
    let webhook = &all["sections"]["webhook"];
    assert_eq!(webhook["status"], "skipped", "{webhook}");
    assert!(webhook["reason"].as_str().unwrap().contains("not a git repository"), "{webhook}");
    assert!(webhook["what_to_do"].as_str().unwrap().contains("git checkout"), "{webhook}");
    assert!(webhook["report"].is_null());
    let high = access["report"]["summary"]["high"].as_u64().unwrap() + keys["report"]["summary"]["high"].as_u64().unwrap();
    assert_eq!(all["summary"]["high"].as_u64(), Some(high));
    assert!(all["notes"].as_array().unwrap().iter().any(|n| n.as_str().unwrap().contains("2 of 3 checks ran")), "{}", all["notes"]);
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn check_all_bounds_each_section_and_guards_arguments() {
    let repo = check_all_repo();
    let client = connect(repo.path()).await;
    let result = call_tool(&client, "check_all", json!({"fixtures_dir": "fx", "max_findings": 2})).await;
    let all = result.structured_content.clone().expect("structuredContent");
    let access = &all["sections"]["access"]["report"];
    assert_eq!(access["findings"].as_array().unwrap().len(), 1, "an even share of 2 between two sections");
    assert_eq!(access["omitted"], 8);
    let file = access["report_file"].as_str().expect("report_file when cut");
    assert!(file.starts_with(".billguard/reports/check_access_contract-"), "{file}");
    let full: Value = serde_json::from_str(&std::fs::read_to_string(repo.path().join(file)).unwrap()).unwrap();
    assert_eq!(full["findings"].as_array().unwrap().len(), 9);

    // Without fixtures or a configured billing source the access check is skipped, and says what to do.
    let result = call_tool(&client, "check_all", json!({})).await;
    let all = result.structured_content.clone().expect("structuredContent");
    assert_eq!(all["sections"]["access"]["status"], "skipped");
    assert!(all["sections"]["access"]["what_to_do"].as_str().unwrap().contains("fixtures_dir"));
    assert_eq!(all["sections"]["keys"]["status"], "ran");

    // A fixtures directory that was asked for and does not exist is an error, not a skip.
    let result = call_tool(&client, "check_all", json!({"fixtures_dir": "nope"})).await;
    let all = result.structured_content.clone().expect("structuredContent");
    assert_eq!(all["sections"]["access"]["status"], "error", "{}", all["sections"]["access"]);

    let cases = [
        (json!({"base": format!("{}{}", "whsec_", "4fQ9zXv2Lm8Rt1Yp6Wc3Nb7Ka1b2")}), "environment variable"),
        (json!({"fixtures_dir": "../.."}), "outside the repository"),
        (json!({"max_findings": "many"}), "max_findings"),
        (json!({"diff": "x"}), "unknown argument `diff`"),
    ];
    for (args, expected) in cases {
        let result = call_tool(&client, "check_all", args.clone()).await;
        let text = text_of(&result);
        assert_eq!(result.is_error, Some(true), "{args}: {text}");
        assert!(text.contains(expected), "{args}: {text}");
        assert!(!text.contains("Nb7Ka1b2"), "secret echoed: {text}");
    }
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn the_pre_pr_prompt_walks_through_check_all() {
    use rmcp::model::GetPromptRequestParams;
    let client = connect(&crate_root()).await;
    let prompts = client.list_all_prompts().await.unwrap();
    let names: Vec<_> = prompts.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["pre_pr_billing_check"]);
    let args = prompts[0].arguments.clone().unwrap_or_default();
    assert_eq!(args.len(), 1);
    assert_eq!((args[0].name.as_str(), args[0].required), ("base", Some(false)));

    let text_of_prompt = |result: &rmcp::model::GetPromptResult| {
        result
            .messages
            .iter()
            .map(|m| m.content.as_text().unwrap_or_else(|| panic!("text content expected: {m:?}")).text.clone())
            .collect::<Vec<_>>()
            .join("\n")
    };
    let mut with_base = serde_json::Map::new();
    with_base.insert("base".into(), json!("origin/release"));
    let got = client.get_prompt(GetPromptRequestParams::new("pre_pr_billing_check").with_arguments(with_base)).await.unwrap();
    let text = text_of_prompt(&got);
    for needle in ["check_all", "\"base\": \"origin/release\"", "verdict", "high", "pass or warn", "Never paste secrets", "billguard://rules/"] {
        assert!(text.contains(needle), "prompt lacks {needle}: {text}");
    }
    let got = client.get_prompt(GetPromptRequestParams::new("pre_pr_billing_check")).await.unwrap();
    let text = text_of_prompt(&got);
    assert!(text.contains("default branch") && !text.contains("\"base\""), "{text}");

    let mut secret = serde_json::Map::new();
    secret.insert("base".into(), json!(format!("{}{}", "sk_live_", "4fQ9zXv2Lm8Rt1Yp6Wc3Nb7Ka1b2")));
    let err = client.get_prompt(GetPromptRequestParams::new("pre_pr_billing_check").with_arguments(secret)).await.unwrap_err();
    assert!(err.to_string().contains("environment variable") && !err.to_string().contains("Nb7Ka1b2"), "{err}");
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn rule_documentation_is_a_resource() {
    use rmcp::model::{ReadResourceRequestParams, ResourceContents};
    let client = connect(&crate_root()).await;
    let resources = client.list_all_resources().await.unwrap();
    let uris: Vec<_> = resources.iter().map(|r| r.uri.as_str()).collect();
    assert_eq!(uris.len(), billguard::rules::all().count());
    for code in ["ACC001", "KEY013", "WH018"] {
        assert!(uris.contains(&format!("billguard://rules/{code}").as_str()), "{uris:?}");
    }
    assert!(resources.iter().all(|r| r.mime_type.as_deref() == Some("text/markdown")));

    let templates = client.list_all_resource_templates().await.unwrap();
    assert_eq!(templates.len(), 1);
    assert_eq!(templates[0].uri_template, "billguard://rules/{code}");

    let read = client.read_resource(ReadResourceRequestParams::new("billguard://rules/ACC001")).await.unwrap();
    let ResourceContents::TextResourceContents { text, mime_type, uri, .. } = &read.contents[0] else { panic!("text contents expected: {read:?}") };
    assert_eq!(uri, "billguard://rules/ACC001");
    assert_eq!(mime_type.as_deref(), Some("text/markdown"));
    assert!(text.starts_with("# ACC001 revenue-leak") && text.contains("## Fix"), "{text}");

    let err = client.read_resource(ReadResourceRequestParams::new("billguard://rules/ACC999")).await.unwrap_err();
    let rmcp::ServiceError::McpError(data) = &err else { panic!("an MCP error expected: {err:?}") };
    assert_eq!(data.code, rmcp::model::ErrorCode::RESOURCE_NOT_FOUND, "{data:?}");
    assert!(data.message.contains("ACC999") && data.message.contains("billguard://rules/ACC001"), "{}", data.message);
    client.cancel().await.unwrap();
}
