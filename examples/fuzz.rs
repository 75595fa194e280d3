//! A mutation fuzzer that runs on stable Rust: it takes the repository's own
//! inputs as seeds (webhook handler versions and their diffs, env files, JSON
//! fixtures, billguard.toml files), mutates them (bit flips, byte runs, cut
//! and spliced pieces, deep nesting, huge numbers) and feeds each case to one
//! of billguard's parsers in process:
//!
//! - `diff`: the unified-diff parser, then every file it rebuilds through the
//!   handler model of its language;
//! - `dotenv`: the dotenv parser;
//! - `fixtures`: the subscription and user JSON readers;
//! - `config`: the billguard.toml loader;
//! - `handlers`: each language front end and the handler model.
//!
//! A panic, or a case slower than the hang limit, is a finding: the case is
//! written to the output directory and the run exits 1. A stack overflow or
//! an abort kills the process; the case being run is always in
//! `OUT/current-<target>` first, so `tools/fuzz` keeps it. Deterministic for
//! a given `--seed`.
//!
//! `cargo run --release --example fuzz -- [--target T|all] [--cases N] [--seconds S] [--seed X] [--out DIR]`

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use billguard::access::model::Observations;
use billguard::access::{subscriptions_json, users_json};
use billguard::config::{ColumnsConfig, Config};
use billguard::webhook::lang::Language;
use billguard::webhook::{model_of, unified_diff};

const TARGETS: &[&str] = &["diff", "dotenv", "fixtures", "config", "handlers"];
/// A case slower than this is reported as a hang.
const HANG: Duration = Duration::from_secs(10);

struct Options {
    targets: Vec<String>,
    cases: Option<u64>,
    seconds: u64,
    seed: u64,
    out: PathBuf,
}

fn options() -> Options {
    let mut o = Options { targets: TARGETS.iter().map(|t| t.to_string()).collect(), cases: None, seconds: 10, seed: 1, out: PathBuf::from("target/fuzz") };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let value = args.get(i + 1).cloned().unwrap_or_default();
        match args[i].as_str() {
            "--target" if value != "all" => o.targets = vec![value],
            "--target" => {}
            "--cases" => o.cases = value.parse().ok(),
            "--seconds" => o.seconds = value.parse().unwrap_or(10),
            "--seed" => o.seed = value.parse().unwrap_or(1),
            "--out" => o.out = PathBuf::from(value),
            other => {
                eprintln!("fuzz: unknown argument {other}");
                std::process::exit(2);
            }
        }
        i += 2;
    }
    o
}

/// Every file under `dir` whose name satisfies `keep`, read as bytes.
fn files(dir: &Path, keep: &dyn Fn(&Path) -> bool, out: &mut Vec<(PathBuf, Vec<u8>)>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            files(&p, keep, out);
        } else if keep(&p)
            && let Ok(b) = std::fs::read(&p)
        {
            out.push((p, b));
        }
    }
}

/// Seeds for a target, from the repository's fixtures.
fn seeds(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    let name = |p: &Path| p.file_name().and_then(|n| n.to_str()).unwrap_or("").to_string();
    match target {
        "diff" => {
            // Diffs made from each webhook fixture's two versions.
            let mut versions = Vec::new();
            files(&root.join("fixtures/webhook"), &|p| name(p).starts_with("before.") || name(p).starts_with("after."), &mut versions);
            for pair in versions.chunks(2) {
                if let [(a, after), (_, before)] = pair {
                    let ext = a.extension().and_then(|e| e.to_str()).unwrap_or("ts");
                    out.push((a.clone(), naive_diff(&format!("app/webhook.{ext}"), before, after)));
                }
            }
        }
        "dotenv" => files(&root.join("fixtures/keys"), &|p| name(p).starts_with(".env"), &mut out),
        "fixtures" => files(&root.join("fixtures/access"), &|p| name(p).ends_with(".json") && !name(p).starts_with("expected"), &mut out),
        "config" => files(&root.join("fixtures"), &|p| name(p) == "billguard.toml", &mut out),
        "handlers" => {
            files(&root.join("tools/webhook-fixture-bases"), &|p| Language::of_path(&p.to_string_lossy()).is_some(), &mut out);
            files(&root.join("fixtures/webhook"), &|p| name(p).starts_with("after."), &mut out);
        }
        _ => {}
    }
    out
}

/// A whole-file unified diff from `before` to `after` (one hunk).
fn naive_diff(path: &str, before: &[u8], after: &[u8]) -> Vec<u8> {
    let (b, a) = (String::from_utf8_lossy(before), String::from_utf8_lossy(after));
    let (bl, al): (Vec<&str>, Vec<&str>) = (b.lines().collect(), a.lines().collect());
    let mut text = format!("diff --git a/{path} b/{path}\n--- a/{path}\n+++ b/{path}\n@@ -1,{} +1,{} @@\n", bl.len(), al.len());
    for l in &bl {
        text.push_str(&format!("-{l}\n"));
    }
    for l in &al {
        text.push_str(&format!("+{l}\n"));
    }
    text.into_bytes()
}

/// One mutation of `seed` (and sometimes a second seed to splice in).
fn mutate(rng: &mut fastrand::Rng, seed: &[u8], other: &[u8]) -> Vec<u8> {
    let mut v = seed.to_vec();
    for _ in 0..rng.usize(1..=4) {
        let at = if v.is_empty() { 0 } else { rng.usize(0..v.len()) };
        match rng.u8(0..10) {
            0 if !v.is_empty() => v[at] ^= 1 << rng.u8(0..8),
            1 if !v.is_empty() => v[at] = rng.u8(..),
            2 => {
                let n = rng.usize(1..16);
                v.splice(at..at, (0..n).map(|_| rng.u8(..)));
            }
            3 if !v.is_empty() => {
                let end = (at + rng.usize(1..64)).min(v.len());
                v.drain(at..end);
            }
            4 if !v.is_empty() => {
                let end = (at + rng.usize(1..256)).min(v.len());
                let piece = v[at..end].to_vec();
                v.splice(at..at, piece.iter().cycle().take(piece.len() * rng.usize(1..8)).copied());
            }
            5 if !other.is_empty() => {
                let from = rng.usize(0..other.len());
                let end = (from + rng.usize(1..512)).min(other.len());
                v.splice(at..at, other[from..end].iter().copied());
            }
            6 => {
                // Deep nesting of whatever opens a block here.
                let open = [&b"("[..], b"[", b"{", b"{\"a\":", b"if x:\n    ", b"do\n"][rng.usize(0..6)];
                let n = rng.usize(100..5000);
                v.splice(at..at, open.iter().copied().cycle().take(open.len() * n));
            }
            7 => {
                // Numbers at the edges (hunk headers, line counts, timestamps).
                let n = ["4294967295", "-1", "0", "99999999999999999999", "1e309", "18446744073709551616"][rng.usize(0..6)];
                v.splice(at..at, n.bytes());
            }
            8 => v.truncate(at),
            _ => {
                let quote = [&b"\""[..], b"'", b"\\", b"\n", b"\r", b"\0", b"\xff\xfe", b"@@ -1 +1 @@\n"][rng.usize(0..8)];
                v.splice(at..at, quote.iter().copied());
            }
        }
    }
    v.truncate(4 << 20);
    v
}

/// Feeds one case to a target's parser.
fn run(target: &str, case: &[u8], hint: &Path) {
    let text = String::from_utf8_lossy(case);
    match target {
        "diff" => {
            if let Ok(files) = unified_diff::parse(&text) {
                for f in files {
                    let Some(lang) = f.new_path.as_deref().or(f.old_path.as_deref()).and_then(Language::of_path) else { continue };
                    for version in [&f.before, &f.after].into_iter().flatten() {
                        model_of(lang, &String::from_utf8_lossy(version), &[]);
                    }
                }
            }
        }
        "dotenv" => {
            billguard::keys::dotenv::parse(&text);
        }
        "fixtures" => {
            let mut obs = Observations::default();
            let _ = subscriptions_json::read_subscriptions_slice(case, &mut obs);
            let keys = users_json::UserKeys::from_columns(&ColumnsConfig::default());
            let mut obs = Observations::default();
            let _ = users_json::read_users_slice(case, &keys, &mut obs);
        }
        "config" => {
            let _ = Config::parse(&text, Path::new("billguard.toml"));
        }
        "handlers" => {
            let lang = Language::of_path(&hint.to_string_lossy()).unwrap_or(Language::TypeScript);
            model_of(lang, &text, &[]);
        }
        other => panic!("no target {other}"),
    }
}

fn main() {
    let o = options();
    std::fs::create_dir_all(&o.out).expect("the output directory");
    // Panics are findings, reported once below, not printed by the default hook.
    std::panic::set_hook(Box::new(|_| {}));
    let mut findings = 0u64;
    let mut total = 0u64;
    let started = Instant::now();
    let per_target = Duration::from_secs(o.seconds) / o.targets.len().max(1) as u32;
    for target in &o.targets {
        let seeds = seeds(target);
        if seeds.is_empty() {
            eprintln!("fuzz: no seeds for {target}");
            continue;
        }
        let mut rng = fastrand::Rng::with_seed(o.seed ^ fxhash(target));
        let current = o.out.join(format!("current-{target}"));
        let begun = Instant::now();
        let mut n = 0u64;
        loop {
            let done = match o.cases {
                Some(c) => n >= c,
                None => begun.elapsed() >= per_target,
            };
            if done {
                break;
            }
            let (hint, seed) = &seeds[rng.usize(0..seeds.len())];
            let (_, other) = &seeds[rng.usize(0..seeds.len())];
            let case = if n < seeds.len() as u64 { seed.clone() } else { mutate(&mut rng, seed, other) };
            // Written first: a stack overflow or abort ends the process here.
            let _ = std::fs::write(&current, &case);
            let t = Instant::now();
            let outcome = catch_unwind(AssertUnwindSafe(|| run(target, &case, hint)));
            let slow = t.elapsed() > HANG;
            if outcome.is_err() || slow {
                findings += 1;
                let kind = if slow { "hang" } else { "panic" };
                let file = o.out.join(format!("{kind}-{target}-{n}"));
                let _ = std::fs::write(&file, &case);
                eprintln!("fuzz: {target}: {kind} on case {n} (kept in {})", file.display());
            }
            n += 1;
        }
        total += n;
        let _ = std::fs::remove_file(&current);
        println!("{target}: {n} cases, {} seeds", seeds.len());
    }
    println!("fuzz: {total} cases in {:.1} s, {findings} finding(s)", started.elapsed().as_secs_f64());
    std::process::exit(if findings > 0 { 1 } else { 0 });
}

/// A stable hash of a target name, to give each target its own case stream.
fn fxhash(s: &str) -> u64 {
    s.bytes().fold(0xcbf29ce484222325u64, |h, b| (h ^ b as u64).wrapping_mul(0x100000001b3))
}
