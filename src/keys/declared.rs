//! Variables that deployment files declare: docker-compose `environment`,
//! GitHub Actions `env` (`${{ secrets.X }}` is declared with an unseen value),
//! Kubernetes container env, ConfigMaps and Secrets, fly.toml `[env]`,
//! vercel.json `env` and netlify.toml `[*.environment]`. These files show part
//! of an environment: what they set is judged, what they lack is not.

use std::collections::HashMap;
use std::path::Path;

use serde_json::Value;

use super::env_sources::read_dotenv_file;
use super::model::{Assignment, EnvKind, Origin};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum DeclaredKind {
    Compose,
    Workflow,
    Kubernetes,
    Fly,
    Vercel,
    Netlify,
}

/// What a file is, by its path and (for Kubernetes) its text.
pub fn kind_of(rel: &str, text: &str) -> Option<DeclaredKind> {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    let yaml = name.ends_with(".yml") || name.ends_with(".yaml");
    if yaml && (rel.starts_with(".github/workflows/") || rel.contains("/.github/workflows/")) {
        return Some(DeclaredKind::Workflow);
    }
    if yaml && (name.starts_with("docker-compose") || name.starts_with("compose.") || name.starts_with("compose-")) {
        return Some(DeclaredKind::Compose);
    }
    if name == "fly.toml" || (name.starts_with("fly.") && name.ends_with(".toml")) {
        return Some(DeclaredKind::Fly);
    }
    if name == "vercel.json" {
        return Some(DeclaredKind::Vercel);
    }
    if name == "netlify.toml" {
        return Some(DeclaredKind::Netlify);
    }
    if yaml && text.contains("apiVersion:") && text.contains("kind:") && !text.contains("{{") {
        return Some(DeclaredKind::Kubernetes);
    }
    None
}

/// Part of an environment, as one file declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclaredEnv {
    /// The environment's name as the file states it (job environment, netlify context) or implies it.
    pub name: String,
    pub kind: EnvKind,
    pub source: String,
    pub assignments: Vec<Assignment>,
}

/// Finds the line of a name's assignment, moving forward past earlier hits.
struct LineFinder<'a> {
    lines: Vec<&'a str>,
    next: HashMap<String, usize>,
}

impl<'a> LineFinder<'a> {
    fn new(text: &'a str) -> Self {
        LineFinder { lines: text.lines().collect(), next: HashMap::new() }
    }

    fn matches(line: &str, name: &str) -> bool {
        let t = line.trim_start().trim_start_matches("- ").trim_start();
        if let Some(rest) = t.strip_prefix("name:") {
            return rest.trim().trim_matches(['"', '\'']) == name;
        }
        let t = t.trim_start_matches(['"', '\'']);
        t.strip_prefix(name).is_some_and(|rest| {
            let rest = rest.trim_start_matches(['"', '\'']).trim_start();
            rest.starts_with(':') || rest.starts_with('=') || rest.is_empty()
        })
    }

    fn line_of(&mut self, name: &str) -> u32 {
        let from = self.next.get(name).copied().unwrap_or(0);
        let found = (from..self.lines.len())
            .chain(0..from)
            .find(|&i| Self::matches(self.lines[i], name));
        match found {
            Some(i) => {
                self.next.insert(name.to_string(), i + 1);
                i as u32 + 1
            }
            None => 1,
        }
    }
}

struct Builder<'a> {
    rel: &'a str,
    lines: LineFinder<'a>,
}

impl Builder<'_> {
    fn assign(&mut self, name: &str, value: Option<String>) -> Assignment {
        let line = self.lines.line_of(name);
        Assignment { name: name.to_string(), value, origin: Origin::file(self.rel, line) }
    }

    /// A map or a `NAME=value` list, as compose and k8s-style lists write it.
    fn add_from(&mut self, v: &Value, out: &mut Vec<Assignment>, literal: fn(&str) -> Option<String>) {
        match v {
            Value::Object(map) => {
                for (k, val) in map {
                    let value = scalar(val).and_then(|s| literal(&s));
                    out.push(self.assign(k, value));
                }
            }
            Value::Array(items) => {
                for item in items {
                    if let Some(s) = item.as_str() {
                        match s.split_once('=') {
                            Some((k, val)) => out.push(self.assign(k.trim(), literal(val))),
                            None => out.push(self.assign(s.trim(), None)),
                        }
                    }
                }
            }
            _ => {}
        }
    }
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Compose and manifests: `${VAR}` comes from elsewhere.
fn compose_literal(s: &str) -> Option<String> {
    (!s.contains("${")).then(|| s.replace("$$", "$"))
}

/// Workflows: `${{ secrets.X }}` and any other expression is declared, unseen.
fn workflow_literal(s: &str) -> Option<String> {
    (!s.contains("${{")).then(|| s.to_string())
}

fn plain_literal(s: &str) -> Option<String> {
    Some(s.to_string())
}

/// The environment a file name implies (`docker-compose.prod.yml`, `fly.staging.toml`).
fn implied(rel: &str, default: EnvKind) -> (String, EnvKind) {
    let kind = match EnvKind::infer(rel) {
        EnvKind::Unknown | EnvKind::Template => default,
        k => k,
    };
    (kind.as_str().to_string(), kind)
}

/// Reads one declared file into the environments it describes.
pub fn read(root: &Path, rel: &str, kind: DeclaredKind) -> Result<Vec<DeclaredEnv>, String> {
    let text = std::fs::read_to_string(root.join(rel)).map_err(|e| format!("cannot be read: {e}"))?;
    let mut b = Builder { rel, lines: LineFinder::new(&text) };
    match kind {
        DeclaredKind::Compose => compose(root, &text, &mut b),
        DeclaredKind::Workflow => workflow(&text, &mut b),
        DeclaredKind::Kubernetes => kubernetes(&text, &mut b),
        DeclaredKind::Fly => fly(&text, &mut b),
        DeclaredKind::Vercel => vercel(&text, &mut b),
        DeclaredKind::Netlify => netlify(&text, &mut b),
    }
}

fn yaml_docs(text: &str) -> Result<Vec<Value>, String> {
    use serde::Deserialize;
    let mut docs = Vec::new();
    for doc in serde_norway::Deserializer::from_str(text) {
        let v = Value::deserialize(doc).map_err(|e| format!("is not valid YAML: {e}"))?;
        if !v.is_null() {
            docs.push(v);
        }
    }
    Ok(docs)
}

fn one(rel: &str, name: String, kind: EnvKind, assignments: Vec<Assignment>) -> Vec<DeclaredEnv> {
    if assignments.is_empty() {
        return Vec::new();
    }
    vec![DeclaredEnv { name, kind, source: rel.to_string(), assignments }]
}

fn compose(root: &Path, text: &str, b: &mut Builder<'_>) -> Result<Vec<DeclaredEnv>, String> {
    let rel = b.rel;
    let (name, kind) = implied(rel, EnvKind::Development);
    let mut out = Vec::new();
    for doc in yaml_docs(text)? {
        let Some(services) = doc["services"].as_object() else { continue };
        for service in services.values() {
            // env_file first: `environment` wins over it.
            let files: Vec<String> = match &service["env_file"] {
                Value::String(s) => vec![s.clone()],
                Value::Array(a) => a.iter().filter_map(|f| f.as_str().or_else(|| f["path"].as_str()).map(str::to_string)).collect(),
                _ => Vec::new(),
            };
            let dir = rel.rsplit_once('/').map_or("", |(d, _)| d);
            for f in files {
                let frel = if dir.is_empty() { f.trim_start_matches("./").to_string() } else { format!("{dir}/{}", f.trim_start_matches("./")) };
                if let Ok(parsed) = read_dotenv_file(&root.join(&frel)) {
                    for e in parsed.entries {
                        out.push(Assignment { name: e.name, value: e.value, origin: Origin::file(&frel, e.line) });
                    }
                }
            }
            b.add_from(&service["environment"], &mut out, compose_literal);
        }
    }
    Ok(one(rel, name, kind, out))
}

fn workflow(text: &str, b: &mut Builder<'_>) -> Result<Vec<DeclaredEnv>, String> {
    let rel = b.rel;
    let mut envs: Vec<DeclaredEnv> = Vec::new();
    for doc in yaml_docs(text)? {
        let mut top = Vec::new();
        b.add_from(&doc["env"], &mut top, workflow_literal);
        let Some(jobs) = doc["jobs"].as_object() else { continue };
        for (job_id, job) in jobs {
            let named = job["environment"].as_str().or_else(|| job["environment"]["name"].as_str()).filter(|s| !s.contains("${{"));
            let (name, kind) = match named {
                Some(n) => (n.to_string(), EnvKind::infer(n)),
                None => {
                    let (n, k) = implied(&format!("{job_id} {rel}"), EnvKind::Test);
                    (if k == EnvKind::Test { "ci".to_string() } else { n }, k)
                }
            };
            let mut assignments = top.clone();
            b.add_from(&job["env"], &mut assignments, workflow_literal);
            if let Some(steps) = job["steps"].as_array() {
                for step in steps {
                    b.add_from(&step["env"], &mut assignments, workflow_literal);
                }
            }
            match envs.iter_mut().find(|e| e.name == name) {
                Some(e) => e.assignments.extend(assignments),
                None if !assignments.is_empty() => envs.push(DeclaredEnv { name, kind, source: rel.to_string(), assignments }),
                None => {}
            }
        }
    }
    Ok(envs)
}

fn kubernetes(text: &str, b: &mut Builder<'_>) -> Result<Vec<DeclaredEnv>, String> {
    let rel = b.rel;
    let mut by_env: Vec<DeclaredEnv> = Vec::new();
    for doc in yaml_docs(text)? {
        let namespace = doc["metadata"]["namespace"].as_str().unwrap_or("");
        let (name, kind) = match EnvKind::infer(&format!("{namespace} {rel}")) {
            EnvKind::Unknown | EnvKind::Template => ("kubernetes".to_string(), EnvKind::Unknown),
            k => (k.as_str().to_string(), k),
        };
        let mut out = Vec::new();
        match doc["kind"].as_str().unwrap_or("") {
            "ConfigMap" => b.add_from(&doc["data"], &mut out, plain_literal),
            "Secret" => {
                b.add_from(&doc["stringData"], &mut out, plain_literal);
                if let Some(data) = doc["data"].as_object() {
                    for (k, v) in data {
                        let decoded = v.as_str().and_then(base64_decode).and_then(|d| String::from_utf8(d).ok());
                        out.push(b.assign(k, decoded));
                    }
                }
            }
            _ => {
                let spec = &doc["spec"];
                let pod = if !spec["jobTemplate"].is_null() { &spec["jobTemplate"]["spec"]["template"]["spec"] } else if !spec["template"].is_null() { &spec["template"]["spec"] } else { spec };
                for list in ["initContainers", "containers"] {
                    for c in pod[list].as_array().into_iter().flatten() {
                        for e in c["env"].as_array().into_iter().flatten() {
                            let Some(n) = e["name"].as_str() else { continue };
                            let value = e["value"].as_str().map(str::to_string).and_then(|s| compose_literal(&s));
                            out.push(b.assign(n, value));
                        }
                    }
                }
            }
        }
        match by_env.iter_mut().find(|e| e.name == name) {
            Some(e) => e.assignments.extend(out),
            None if !out.is_empty() => by_env.push(DeclaredEnv { name, kind, source: rel.to_string(), assignments: out }),
            None => {}
        }
    }
    Ok(by_env)
}

/// TOML tables come back sorted by key: put assignments back in file order.
fn by_line(mut v: Vec<Assignment>) -> Vec<Assignment> {
    v.sort_by_key(|a| a.origin.line);
    v
}

fn toml_value(text: &str) -> Result<Value, String> {
    toml::from_str::<Value>(text).map_err(|e| format!("is not valid TOML: {}", e.message()))
}

fn fly(text: &str, b: &mut Builder<'_>) -> Result<Vec<DeclaredEnv>, String> {
    let doc = toml_value(text)?;
    let app = doc["app"].as_str().unwrap_or("");
    let (name, kind) = implied(&format!("{} {app}", b.rel), EnvKind::Production);
    let mut out = Vec::new();
    b.add_from(&doc["env"], &mut out, plain_literal);
    Ok(one(b.rel, name, kind, by_line(out)))
}

fn vercel(text: &str, b: &mut Builder<'_>) -> Result<Vec<DeclaredEnv>, String> {
    let doc: Value = serde_json::from_str(text).map_err(|e| format!("is not valid JSON: {e}"))?;
    // `@name` values refer to Vercel secrets: declared, unseen.
    let literal: fn(&str) -> Option<String> = |s| (!s.starts_with('@')).then(|| s.to_string());
    let mut out = Vec::new();
    b.add_from(&doc["build"]["env"], &mut out, literal);
    b.add_from(&doc["env"], &mut out, literal);
    Ok(one(b.rel, "production".into(), EnvKind::Production, out))
}

fn netlify(text: &str, b: &mut Builder<'_>) -> Result<Vec<DeclaredEnv>, String> {
    let doc = toml_value(text)?;
    let mut envs = Vec::new();
    let mut base = Vec::new();
    b.add_from(&doc["build"]["environment"], &mut base, plain_literal);
    envs.extend(one(b.rel, "production".into(), EnvKind::Production, by_line(base)));
    if let Some(contexts) = doc["context"].as_object() {
        for (ctx, table) in contexts {
            let (name, kind) = match ctx.as_str() {
                "production" => ("production".to_string(), EnvKind::Production),
                "deploy-preview" | "branch-deploy" => (ctx.clone(), EnvKind::Staging),
                "dev" => ("development".to_string(), EnvKind::Development),
                other => (other.to_string(), EnvKind::infer(other)),
            };
            let mut out = Vec::new();
            b.add_from(&table["environment"], &mut out, plain_literal);
            let out = by_line(out);
            match envs.iter_mut().find(|e: &&mut DeclaredEnv| e.name == name) {
                Some(e) => e.assignments.extend(out),
                None => envs.extend(one(b.rel, name, kind, out)),
            }
        }
    }
    Ok(envs)
}

/// Standard base64 (Kubernetes Secret `data`); None when it is not base64.
fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        } as u32)
    };
    let clean: Vec<u8> = s.bytes().filter(|c| !c.is_ascii_whitespace()).collect();
    let body = clean.strip_suffix(b"==").or_else(|| clean.strip_suffix(b"=")).unwrap_or(&clean);
    let mut out = Vec::with_capacity(body.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &c in body {
        acc = (acc << 6) | val(c)?;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_str(rel: &str, text: &str) -> Vec<DeclaredEnv> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        let kind = kind_of(rel, text).unwrap_or_else(|| panic!("{rel} not recognised"));
        read(dir.path(), rel, kind).unwrap()
    }

    fn vals(e: &DeclaredEnv) -> Vec<(&str, Option<&str>, u32)> {
        e.assignments.iter().map(|a| (a.name.as_str(), a.value.as_deref(), a.origin.line.unwrap())).collect()
    }

    #[test]
    fn compose_maps_lists_and_host_references() {
        let envs = read_str(
            "docker-compose.prod.yml",
            "services:\n  web:\n    environment:\n      STRIPE_MODE: live\n      STRIPE_SECRET_KEY: ${STRIPE_SECRET_KEY}\n  worker:\n    environment:\n      - STRIPE_MODE=test\n      - STRIPE_WEBHOOK_SECRET\n",
        );
        assert_eq!((envs[0].name.as_str(), envs[0].kind), ("production", EnvKind::Production));
        assert_eq!(
            vals(&envs[0]),
            [("STRIPE_MODE", Some("live"), 4), ("STRIPE_SECRET_KEY", None, 5), ("STRIPE_MODE", Some("test"), 8), ("STRIPE_WEBHOOK_SECRET", None, 9)]
        );
        assert_eq!(read_str("docker-compose.yml", "services:\n  a:\n    environment:\n      X: 1\n")[0].kind, EnvKind::Development);
    }

    #[test]
    fn workflows_by_job_environment_with_secrets_unseen() {
        let envs = read_str(
            ".github/workflows/deploy.yml",
            "on: push\nenv:\n  NODE_ENV: production\njobs:\n  test:\n    runs-on: ubuntu-latest\n    env:\n      STRIPE_SECRET_KEY: sk_test_4fQ9zXv2Lm8Rt1Yp6Wc3Nb7K\n  deploy:\n    environment: production\n    steps:\n      - run: deploy\n        env:\n          STRIPE_SECRET_KEY: ${{ secrets.STRIPE_SECRET_KEY }}\n",
        );
        let names: Vec<_> = envs.iter().map(|e| (e.name.as_str(), e.kind)).collect();
        assert_eq!(names, [("ci", EnvKind::Test), ("production", EnvKind::Production)]);
        assert_eq!(vals(&envs[1]), [("NODE_ENV", Some("production"), 3), ("STRIPE_SECRET_KEY", None, 14)]);
        assert_eq!(envs[0].assignments[1].value.as_deref(), Some("sk_test_4fQ9zXv2Lm8Rt1Yp6Wc3Nb7K"));
    }

    #[test]
    fn kubernetes_deployments_configmaps_and_secrets() {
        let envs = read_str(
            "k8s/staging/app.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n        - name: web\n          env:\n            - name: STRIPE_MODE\n              value: test\n            - name: STRIPE_SECRET_KEY\n              valueFrom:\n                secretKeyRef: {name: s, key: k}\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: s\ndata:\n  STRIPE_WEBHOOK_SECRET: d2hzZWNfYWJj\n",
        );
        assert_eq!((envs[0].name.as_str(), envs[0].kind), ("staging", EnvKind::Staging));
        assert_eq!(
            vals(&envs[0]),
            [("STRIPE_MODE", Some("test"), 11), ("STRIPE_SECRET_KEY", None, 13), ("STRIPE_WEBHOOK_SECRET", Some("whsec_abc"), 22)]
        );
    }

    #[test]
    fn fly_vercel_and_netlify() {
        let fly = read_str("fly.toml", "app = \"shop\"\n[env]\n  STRIPE_MODE = \"live\"\n  PORT = 8080\n");
        assert_eq!((fly[0].kind, vals(&fly[0])), (EnvKind::Production, vec![("STRIPE_MODE", Some("live"), 3), ("PORT", Some("8080"), 4)]));
        let v = read_str("vercel.json", "{\n  \"env\": {\n    \"STRIPE_SECRET_KEY\": \"@stripe-secret\",\n    \"STRIPE_MODE\": \"live\"\n  }\n}\n");
        assert_eq!(vals(&v[0]), [("STRIPE_SECRET_KEY", None, 3), ("STRIPE_MODE", Some("live"), 4)]);
        let n = read_str(
            "netlify.toml",
            "[build.environment]\nSTRIPE_MODE = \"live\"\n[context.deploy-preview.environment]\nSTRIPE_MODE = \"test\"\n",
        );
        assert_eq!(n.iter().map(|e| (e.name.as_str(), e.kind)).collect::<Vec<_>>(), [("production", EnvKind::Production), ("deploy-preview", EnvKind::Staging)]);
        assert_eq!(vals(&n[1]), [("STRIPE_MODE", Some("test"), 4)]);
    }

    #[test]
    fn broken_files_are_errors_and_helm_templates_are_not_manifests() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("docker-compose.yml"), "services: [unclosed").unwrap();
        assert!(read(dir.path(), "docker-compose.yml", DeclaredKind::Compose).unwrap_err().contains("not valid YAML"));
        assert_eq!(kind_of("chart/templates/d.yaml", "apiVersion: v1\nkind: Pod\nimage: {{ .Values.image }}"), None);
        assert_eq!(base64_decode("c2tfbGl2ZV94"), Some(b"sk_live_x".to_vec()));
        assert_eq!(base64_decode("not base64!"), None);
    }
}
