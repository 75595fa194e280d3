//! The opt-in probes against HTTP servers started here on 127.0.0.1: checkout
//! endpoints answering cs_test_ and cs_live_, redirects, HTML, refusals and
//! hangs, and a Stripe emulator for balance, prices and webhook endpoints.

mod support;


use serde_json::{Value, json};
use support::{TestServer, check_keys, check_keys_with_api, crate_root, fake_key, json as answer, materialize, rule_entities};

fn healthy() -> support::Materialized {
    materialize(&crate_root().join("fixtures/keys/healthy/repo"), true)
}

#[test]
fn a_production_checkout_answering_cs_test_is_key009() {
    let session = format!("cs_test_{}", &fake_key("")[..24]);
    let body = json!({"id": session, "url": format!("https://checkout.stripe.com/c/pay/{session}#fidkdWxOYHwnPyd1blpxYHZxWjA0")});
    let server = TestServer::start(move |_| answer(200, body.clone()));
    let repo = healthy();
    let url = server.url("/api/checkout");
    let (v, out) = check_keys(repo.path(), &["--probe-url", &url]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(rule_entities(&v), [("KEY009".to_string(), format!("probe:{url}"))]);
    let f = &v["findings"][0];
    assert!(f["message"].as_str().unwrap().contains("cs_test_"), "{f}");
    let seen = server.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    assert_eq!((seen[0].method.as_str(), seen[0].path.as_str()), ("POST", "/api/checkout"));
    let sent: Value = serde_json::from_str(&seen[0].body).unwrap();
    assert_eq!(sent, json!({"plan": "starter", "email": "billguard-probe@example.com"}));
    assert_eq!(v["scope"]["checkout_probe"]["environment"], "production");
}

#[test]
fn a_live_checkout_is_quiet_and_the_body_is_configurable() {
    let server = TestServer::start(|_| answer(200, json!({"url": "https://checkout.stripe.com/c/pay/cs_live_a1B2c3D4e5F6g7H8i9"})));
    let repo = healthy();
    std::fs::write(repo.path().join("billguard.toml"), "[keys]\nprobe_body = '{\"price\": \"price_1Pro\"}'\n").unwrap();
    let (v, out) = check_keys(repo.path(), &["--probe-url", &server.url("/checkout")]);
    assert_eq!(out.status.code(), Some(0), "{v}");
    assert_eq!(rule_entities(&v), []);
    assert_eq!(v["scope"]["checkout_probe"]["artefacts"][0]["mode"], "live");
    assert_eq!(server.seen.lock().unwrap()[0].body, "{\"price\": \"price_1Pro\"}");
}

#[test]
fn redirects_are_followed_and_a_stripe_location_is_read_not_fetched() {
    let server = TestServer::start(|req| match req.path.as_str() {
        "/buy" => (303, vec![("Location", "/go".into())], String::new()),
        "/go" => (302, vec![("Location", "https://checkout.stripe.com/c/pay/cs_test_Zz9Yy8Xx7Ww6Vv5".into())], String::new()),
        "/loop" => (302, vec![("Location", "/loop".into())], String::new()),
        _ => (404, vec![], "not found".into()),
    });
    let repo = healthy();
    let (v, _) = check_keys(repo.path(), &["--probe-url", &server.url("/buy")]);
    assert_eq!(rule_entities(&v).len(), 1, "{v}");
    assert_eq!(v["scope"]["checkout_probe"]["redirects"].as_array().unwrap().len(), 2);
    let methods: Vec<_> = server.seen.lock().unwrap().iter().map(|s| s.method.clone()).collect();
    assert_eq!(methods, ["POST", "GET"], "303 turns the POST into a GET, and Stripe is not contacted");
    let (v, out) = check_keys(repo.path(), &["--probe-url", &server.url("/loop")]);
    assert_eq!(out.status.code(), Some(0));
    assert!(v["notes"].to_string().contains("redirected more than 5 times"), "{}", v["notes"]);
}

#[test]
fn html_errors_refusals_and_hangs_are_notes_not_findings() {
    let server = TestServer::start(|req| match req.path.as_str() {
        "/page" => (200, vec![("Content-Type", "text/html".into())], "<html><body>Pricing</body></html>".into()),
        "/broken" => (500, vec![], "oops".into()),
        "/slow" => {
            std::thread::sleep(std::time::Duration::from_millis(2500));
            (200, vec![], String::new())
        }
        _ => (404, vec![], String::new()),
    });
    let repo = healthy();
    std::fs::write(repo.path().join("billguard.toml"), "[keys]\nprobe_timeout_secs = 1\n").unwrap();
    let (v, out) = check_keys(repo.path(), &["--probe-url", &server.url("/page")]);
    assert_eq!((out.status.code(), rule_entities(&v).len()), (Some(0), 0));
    assert!(v["notes"].to_string().contains("answered an HTML page"), "{}", v["notes"]);
    let (v, _) = check_keys(repo.path(), &["--probe-url", &server.url("/broken")]);
    assert!(v["notes"].to_string().contains("answered HTTP 500"), "{}", v["notes"]);
    let (v, _) = check_keys(repo.path(), &["--probe-url", &server.url("/slow")]);
    assert!(v["notes"].to_string().contains("within 1 s"), "{}", v["notes"]);
    // A port nobody listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let (v, out) = check_keys(repo.path(), &["--probe-url", &format!("http://{closed}/checkout")]);
    assert_eq!(out.status.code(), Some(0));
    assert!(v["notes"].to_string().contains("connection refused or unreachable"), "{}", v["notes"]);
    // The other checks still ran: the matrix is there.
    assert!(!v["scope"]["matrix"]["rows"].as_array().unwrap().is_empty());
}

#[test]
fn get_mode_reads_payment_links_in_pages() {
    let server = TestServer::start(|_| (200, vec![("Content-Type", "text/html".into())], "<a href=\"https://buy.stripe.com/test_6oE8zK1xQ\">Buy</a>".into()));
    let repo = healthy();
    std::fs::write(repo.path().join("billguard.toml"), "[keys]\nprobe_method = \"GET\"\n").unwrap();
    let (v, _) = check_keys(repo.path(), &["--probe-url", &server.url("/pricing")]);
    assert_eq!(rule_entities(&v).len(), 1, "{v}");
    assert!(v["findings"][0]["message"].as_str().unwrap().contains("payment link"));
    assert_eq!(server.seen.lock().unwrap()[0].method, "GET");
}

/// A Stripe emulator: the key's mode decides every answer, as in Stripe.
fn emulator() -> TestServer {
    TestServer::start(|req| {
        let auth = req.authorization.clone().unwrap_or_default();
        let key = auth.trim_start_matches("Bearer ").to_string();
        let live = key.starts_with("sk_live_") || key.starts_with("rk_live_");
        if !(key.starts_with("sk_") || key.starts_with("rk_")) {
            return answer(401, json!({"error": {"message": format!("Invalid API Key provided: {key}")}}));
        }
        let path = req.path.split('?').next().unwrap_or("");
        match path {
            "/v1/balance" => answer(200, json!({"object": "balance", "livemode": key.starts_with("sk_org_") || live})),
            "/v1/prices/price_1TestOnly" if live => answer(
                404,
                json!({"error": {"type": "invalid_request_error", "code": "resource_missing",
                    "message": "No such price: 'price_1TestOnly'; a similar object exists in test mode, but a live mode key was used to make this request."}}),
            ),
            p if p.starts_with("/v1/prices/") => answer(200, json!({"object": "price", "id": &p[11..], "livemode": live})),
            "/v1/webhook_endpoints" => {
                let data = if live {
                    json!([{"id": "we_live", "url": "https://shop.example.com/api/webhooks", "status": "enabled", "livemode": true,
                             "enabled_events": ["checkout.session.completed", "customer.subscription.updated"]}])
                } else {
                    json!([{"id": "we_test", "url": "https://staging.shop.example.com/api/webhooks", "status": "enabled", "livemode": false, "enabled_events": ["*"]}])
                };
                answer(200, json!({"object": "list", "data": data, "has_more": false}))
            }
            _ => answer(404, json!({"error": {"message": "Unrecognized request URL"}})),
        }
    })
}

#[test]
fn the_api_probe_finds_prices_of_the_other_mode_and_webhook_gaps() {
    let server = emulator();
    let repo = healthy();
    std::fs::write(repo.path().join(".env.staging"), format!("STRIPE_SECRET_KEY={}\nSTRIPE_WEBHOOK_SECRET={}\nNEXT_PUBLIC_STRIPE_PUBLISHABLE_KEY={}\n", fake_key("sk_test_"), fake_key("whsec_"), fake_key("pk_test_"))).unwrap();
    std::fs::write(
        repo.path().join("billguard.toml"),
        format!(
            "[access.plans]\nprice_1TestOnly = \"pro\"\nprice_1Team = \"team\"\n\
             [keys.environments.production]\nfiles = [\".env.production\"]\nurl = \"https://shop.example.com\"\n\
             [keys.environments.staging]\nfiles = [\".env.staging\"]\nurl = \"https://staging.shop.example.com\"\n"
        ),
    )
    .unwrap();
    let (v, out) = check_keys_with_api(repo.path(), Some(&server.url("")), &["--probe-api"]);
    assert_eq!(out.status.code(), Some(1), "{v}");
    assert_eq!(
        rule_entities(&v),
        [("KEY010".to_string(), "env:production/price_1TestOnly".to_string()), ("KEY012".to_string(), "env:production".to_string())]
    );
    let gap = v["findings"].as_array().unwrap().iter().find(|f| f["rule"] == "KEY012").unwrap();
    let missing = gap["evidence"]["missing_events"].to_string();
    assert!(missing.contains("customer.subscription.deleted") && !missing.contains("checkout.session.completed"), "{missing}");
    let probes = v["scope"]["api_probes"].as_array().unwrap();
    assert_eq!(probes.len(), 2);
    assert_eq!((probes[0]["livemode"].as_bool(), probes[1]["livemode"].as_bool()), (Some(true), Some(false)));
    let paths: Vec<String> = server.seen.lock().unwrap().iter().map(|s| s.path.clone()).collect();
    assert!(paths.iter().any(|p| p == "/v1/balance") && paths.iter().any(|p| p.starts_with("/v1/webhook_endpoints")), "{paths:?}");
    assert!(server.seen.lock().unwrap().iter().all(|s| s.method == "GET"), "read-only");
    for key in &repo.keys {
        assert!(!v.to_string().contains(key.as_str()));
    }
}

#[test]
fn an_organization_key_in_the_wrong_mode_and_a_rejected_key() {
    let server = emulator();
    let repo = healthy();
    let org = fake_key("sk_org_");
    std::fs::write(repo.path().join(".env.staging"), format!("STRIPE_SECRET_KEY={org}\n")).unwrap();
    std::fs::write(repo.path().join(".env.production"), "STRIPE_SECRET_KEY=rk_live_\n").unwrap();
    let base = server.url("");
    let (v, _) = check_keys_with_api(repo.path(), Some(&base), &["--probe-api", "--env", "staging"]);
    assert!(rule_entities(&v).contains(&("KEY010".to_string(), "env:staging/STRIPE_SECRET_KEY".to_string())), "{v}");
    assert!(!v.to_string().contains(&org));
    // No server at all: a note per environment, never an abort.
    drop(server);
    let (v, out) = check_keys_with_api(repo.path(), Some(&base), &["--probe-api", "--env", "staging"]);
    assert_ne!(out.status.code(), Some(2));
    assert!(v["notes"].to_string().contains("cannot connect"), "{}", v["notes"]);
}

#[test]
fn no_network_unless_asked() {
    let server = emulator();
    let repo = healthy();
    std::fs::write(repo.path().join("billguard.toml"), format!("[keys]\nprobe_api = true\nprobe_url = \"{}\"\n", server.url("/checkout"))).unwrap();
    let (v, _) = check_keys_with_api(repo.path(), Some(&server.url("")), &[]);
    assert!(v["scope"]["api_probes"].as_array().unwrap().is_empty());
    assert!(v["scope"]["checkout_probe"].is_null());
    assert!(server.seen.lock().unwrap().is_empty(), "the config's probes need --allow-probes");
    let notes = v["notes"].to_string();
    assert!(notes.contains("probe_url in billguard.toml was not probed") && notes.contains("--allow-probes"), "{notes}");
    assert!(notes.contains("probe_api in billguard.toml was not run"), "{notes}");
    // Allowed by the person running billguard: both probes run.
    let (v, _) = check_keys_with_api(repo.path(), Some(&server.url("")), &["--allow-probes"]);
    assert!(!v["scope"]["checkout_probe"].is_null(), "{v}");
    let paths: Vec<String> = server.seen.lock().unwrap().iter().map(|s| s.path.clone()).collect();
    assert!(paths.iter().any(|p| p == "/checkout") && paths.iter().any(|p| p == "/v1/balance"), "{paths:?}");
}

#[test]
fn the_api_probe_never_sends_keys_to_a_host_the_repository_names() {
    let server = emulator();
    let repo = healthy();
    std::fs::write(repo.path().join(".env.staging"), format!("STRIPE_SECRET_KEY={}\n", fake_key("sk_test_"))).unwrap();
    std::fs::write(repo.path().join("billguard.toml"), format!("[billing]\napi_base = \"{}\"\n", server.url(""))).unwrap();
    let (v, _) = check_keys(repo.path(), &["--probe-api", "--allow-probes", "--env", "staging"]);
    assert!(server.seen.lock().unwrap().is_empty(), "a key reached the host billguard.toml named");
    let notes = v["notes"].to_string();
    assert!(notes.contains("probe_api: not run") && notes.contains("BILLGUARD_API_BASE"), "{notes}");
}
