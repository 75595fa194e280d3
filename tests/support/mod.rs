//! Shared helpers for the key-mode integration tests: random keys of the
//! right shape and fixture scenarios materialised as git repositories.

#![allow(dead_code)]

pub mod mysql;
pub mod postgres;

use std::collections::BTreeMap;
use std::hash::{BuildHasher, Hasher};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

pub fn crate_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `billguard check keys --format json ARGS` in `dir`: the report and the process output.
pub fn check_keys(dir: &Path, args: &[&str]) -> (Value, Output) {
    check_keys_with_api(dir, None, args)
}

/// [`check_keys`] with the Stripe API at `api_base` (an emulator on loopback), given the
/// way the person running billguard gives it: BILLGUARD_API_BASE, never the repo's config.
pub fn check_keys_with_api(dir: &Path, api_base: Option<&str>, args: &[&str]) -> (Value, Output) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_billguard"));
    cmd.current_dir(dir).args(["check", "keys", "--format", "json"]).args(args);
    match api_base {
        Some(base) => cmd.env("BILLGUARD_API_BASE", base),
        None => cmd.env_remove("BILLGUARD_API_BASE"),
    };
    let out = cmd.output().expect("run billguard");
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)));
    (v, out)
}

/// The report's findings as sorted (rule, entity) pairs.
pub fn rule_entities(v: &Value) -> Vec<(String, String)> {
    let mut p: Vec<_> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["rule"].as_str().unwrap().to_string(), f["entity"].as_str().unwrap().to_string()))
        .collect();
    p.sort();
    p
}

/// A random key: the prefix and 32 random alphanumerics (never a real key).
pub fn fake_key(prefix: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    let mut out = prefix.to_string();
    for i in 0..32u64 {
        h.write_u64(i);
        out.push(ALPHABET[(h.finish() % 62) as usize] as char);
    }
    out.push_str("7q3");
    out
}

/// A scenario copied into a temp dir: `@@PREFIX|label@@` tokens become random
/// keys (one per label), `gitignore` becomes `.gitignore`, and the tree is
/// made a git repository with everything not ignored added to the index.
pub struct Materialized {
    pub dir: tempfile::TempDir,
    /// Every key written, so tests can prove none reaches the output.
    pub keys: Vec<String>,
}

impl Materialized {
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

pub fn materialize(from: &Path, git: bool) -> Materialized {
    let dir = tempfile::tempdir().unwrap();
    let mut keys: BTreeMap<String, String> = BTreeMap::new();
    copy_tree(from, dir.path(), &mut keys);
    if git {
        let run = |args: &[&str]| {
            let out = Command::new("git").args(args).current_dir(dir.path()).output().expect("git runs");
            assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        };
        run(&["init", "-q"]);
        run(&["add", "-A"]);
    }
    Materialized { dir, keys: keys.into_values().collect() }
}

/// Copies a directory tree as [`materialize`] does, without making it a repository.
pub fn copy_dir(from: &Path, to: &Path) -> Vec<String> {
    let mut keys = BTreeMap::new();
    copy_tree(from, to, &mut keys);
    keys.into_values().collect()
}

fn substitute(text: &str, keys: &mut BTreeMap<String, String>) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("@@") {
        let Some(len) = rest[start + 2..].find("@@") else { break };
        let token = &rest[start + 2..start + 2 + len];
        let Some((prefix, _)) = token.split_once('|') else { break };
        out.push_str(&rest[..start]);
        let key = keys.entry(token.to_string()).or_insert_with(|| fake_key(prefix)).clone();
        out.push_str(&key);
        rest = &rest[start + 2 + len + 2..];
    }
    out.push_str(rest);
    out
}

fn copy_tree(from: &Path, to: &Path, keys: &mut BTreeMap<String, String>) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().into_string().unwrap();
        let target = to.join(if name == "gitignore" { ".gitignore" } else { name.as_str() });
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target, keys);
        } else {
            let text = std::fs::read_to_string(entry.path()).unwrap();
            std::fs::write(target, substitute(&text, keys)).unwrap();
        }
    }
}

/// A request the test server saw.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub authorization: Option<String>,
    pub body: String,
}

/// An answer: status, extra headers, body.
pub type Answer = (u16, Vec<(&'static str, String)>, String);

/// A tiny HTTP/1.1 server on 127.0.0.1:0 for probe tests, one thread, one
/// request per connection. Stopped (and joined) when dropped.
pub struct TestServer {
    pub addr: std::net::SocketAddr,
    pub seen: std::sync::Arc<std::sync::Mutex<Vec<Seen>>>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl TestServer {
    pub fn start(handler: impl Fn(&Seen) -> Answer + Send + 'static) -> TestServer {
        use std::io::{BufRead, BufReader, Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (seen2, stop2) = (seen.clone(), stop.clone());
        let handle = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stop2.load(std::sync::atomic::Ordering::SeqCst) {
                    break;
                }
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut request_line = String::new();
                if reader.read_line(&mut request_line).is_err() {
                    continue;
                }
                let mut parts = request_line.split_whitespace();
                let method = parts.next().unwrap_or("").to_string();
                let path = parts.next().unwrap_or("").to_string();
                let (mut len, mut authorization) = (0usize, None);
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    let lower = line.to_ascii_lowercase();
                    if let Some(v) = lower.strip_prefix("content-length:") {
                        len = v.trim().parse().unwrap_or(0);
                    }
                    if lower.starts_with("authorization:") {
                        authorization = Some(line[14..].trim().to_string());
                    }
                }
                let mut body = vec![0u8; len];
                let _ = reader.read_exact(&mut body);
                let req = Seen { method, path, authorization, body: String::from_utf8_lossy(&body).into_owned() };
                let (status, headers, body) = handler(&req);
                seen2.lock().unwrap().push(req);
                let mut response = format!("HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n", body.len());
                for (k, v) in headers {
                    response.push_str(&format!("{k}: {v}\r\n"));
                }
                response.push_str("\r\n");
                response.push_str(&body);
                let _ = stream.write_all(response.as_bytes());
            }
        });
        TestServer { addr, seen, stop, handle: Some(handle) }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        let _ = std::net::TcpStream::connect(self.addr); // wake the accept loop
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

pub fn json(status: u16, body: serde_json::Value) -> Answer {
    (status, vec![("Content-Type", "application/json".to_string())], body.to_string())
}
