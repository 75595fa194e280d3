//! Benchmark of a live Stripe read (run it through `tools/bench-live`).
//!
//! Starts the in-test Stripe emulator on 127.0.0.1 with N subscriptions
//! (default 100,000 = 1,000 pages of 100) and a fixed latency per response
//! (default 200 ms), writes users that match them, runs `billguard check
//! access` against it with a live-shaped restricted key, and prints the wall
//! time next to the two floors: the sequential cursor walk (pages x latency)
//! and the rate limit (pages / rate).
//!
//! Usage: bench_live --billguard PATH [--subs N] [--latency-ms MS] [--rate R]

#![recursion_limit = "256"]

#[path = "../tests/support/billing_emulator.rs"]
mod billing_emulator;

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use billing_emulator::{Emulator, stripe_subs, users_for};

struct Args {
    billguard: PathBuf,
    subs: usize,
    latency_ms: u64,
    rate: Option<u32>,
}

fn args() -> Args {
    let mut args = Args { billguard: PathBuf::from("target/release/billguard"), subs: 100_000, latency_ms: 200, rate: None };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--billguard" => args.billguard = PathBuf::from(value()),
            "--subs" => args.subs = value().parse().expect("--subs N"),
            "--latency-ms" => args.latency_ms = value().parse().expect("--latency-ms MS"),
            "--rate" => args.rate = Some(value().parse().expect("--rate R")),
            other => panic!("unknown argument {other}; usage: bench_live --billguard PATH [--subs N] [--latency-ms MS] [--rate R]"),
        }
    }
    args
}

fn main() {
    let args = args();
    let body: String = std::iter::repeat_with(fastrand::alphanumeric).take(60).collect();
    let key = format!("rk_live_{body}");
    let subs = stripe_subs(args.subs, 1_767_000_000, 3 * 365 * 86_400);
    let users = users_for(&subs);
    let emu = Emulator::start(&key, subs, vec![]);
    emu.set_latency(Duration::from_millis(args.latency_ms));

    let repo = tempfile::tempdir().unwrap();
    let fx = repo.path().join("fx");
    std::fs::create_dir_all(fx.join("db")).unwrap();
    std::fs::write(fx.join("db/users.json"), serde_json::to_vec(&users).unwrap()).unwrap();
    let rate = args.rate.map(|r| format!("rate_limit = {r}\n")).unwrap_or_default();
    let config = format!(
        "[billing]\nsecret_env = \"BENCH_STRIPE_KEY\"\napi_base = \"{}\"\n{rate}[access.plans]\nprice_pro = \"pro\"\nprice_team = \"team\"\n",
        emu.base
    );
    std::fs::write(fx.join("billguard.toml"), config).unwrap();

    let started = Instant::now();
    let out = Command::new(&args.billguard)
        .current_dir(repo.path())
        .args(["check", "access", "--fixtures", "fx", "--format", "json"])
        .env("BENCH_STRIPE_KEY", &key)
        .env("BILLGUARD_LOG", "billguard=info")
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}", args.billguard.display()));
    let wall = started.elapsed();

    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let read = report["scope"]["subscriptions"].as_u64().unwrap_or(0) as usize;
    let findings = report["findings"].as_array().map_or(0, Vec::len);
    let requests = emu.seen().len();
    let pages = args.subs.div_ceil(100);
    let rate_used = args.rate.unwrap_or(90);
    println!("subscriptions:        {read} of {} ({pages} full pages), {findings} findings", args.subs);
    println!("requests:             {requests} ({:.0} per second), at most {} in flight", requests as f64 / wall.as_secs_f64(), emu.max_in_flight());
    println!("latency per response: {} ms; rate limit {rate_used}/s", args.latency_ms);
    println!("wall time:            {:.2} s", wall.as_secs_f64());
    println!(
        "floors:               sequential walk {:.0} s (pages x latency); rate limit {:.1} s (pages / rate)",
        pages as f64 * args.latency_ms as f64 / 1000.0,
        pages as f64 / rate_used as f64
    );
    if read != args.subs || findings != 0 || !out.status.success() {
        eprintln!("billguard stderr:\n{}", String::from_utf8_lossy(&out.stderr));
        std::process::exit(1);
    }
}
