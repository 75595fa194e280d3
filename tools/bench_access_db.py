#!/usr/bin/env python3
"""Benchmark of `billguard check access` with users read from PostgreSQL.

Generates N users and N subscriptions with planted defects (the generator of
tools/bench_access.py), loads the users into a fresh PostgreSQL cluster started
on a free 127.0.0.1 port, removes db/users.json from the fixtures so that users
come from the database, and times `billguard check access --fixtures DIR` with
DATABASE_URL set. Checks that the counts found equal the counts planted, prints
wall time (median), CPU time and peak RSS, and stops the cluster.

With --synced the subscriptions go into the same database too, as the Stripe
sync engine stores them (`stripe.subscriptions`, items as jsonb), and billguard
reads them with `[billing] source = "database"`: both sides from Postgres.

Target on a 2-core machine: 1,000,000 users in at most 3 s and 500 MB.
"""

import argparse
import csv
import glob
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_access  # noqa: E402  (the shared generator and runner)


def pg_bin():
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"))
    if not found:
        raise SystemExit("bench-access-db: no PostgreSQL server under /usr/lib/postgresql (run tools/test, which installs it)")
    return os.path.dirname(found[-1])


def as_postgres(cmd):
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    def __init__(self, workdir, extra_opts=""):
        self.bin = pg_bin()
        self.dir = os.path.join(workdir, "pg")
        os.makedirs(self.dir)
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
            os.chmod(workdir, 0o755)
        self.port = free_port()
        data = os.path.join(self.dir, "data")
        subprocess.run(as_postgres([f"{self.bin}/initdb", "-D", data, "-U", "bench", "-A", "trust", "--no-sync", "-E", "UTF8"]),
                       check=True, stdout=subprocess.DEVNULL)
        opts = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off {extra_opts}"
        subprocess.run(as_postgres([f"{self.bin}/pg_ctl", "-D", data, "-o", opts, "-l", os.path.join(self.dir, "log"), "-w", "start"]),
                       check=True, stdout=subprocess.DEVNULL)
        self.data = data

    def psql(self, sql, stdin=None):
        subprocess.run(["psql", "-q", "-h", "127.0.0.1", "-p", str(self.port), "-U", "bench", "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-c", sql],
                       check=True, stdin=stdin)

    def stop(self):
        subprocess.run(as_postgres([f"{self.bin}/pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop"]), stdout=subprocess.DEVNULL)


def load_users(cluster, users_json, csv_path):
    with open(users_json) as f:
        rows = json.load(f)
    with open(csv_path, "w", newline="") as f:
        w = csv.writer(f)
        for r in rows:
            w.writerow([r["id"], r["email"], r["stripe_customer_id"] or "", "t" if r["has_paid_access"] in (True, 1, "t") else "f", r.get("plan") or ""])
    cluster.psql("CREATE TABLE users (id BIGINT PRIMARY KEY, email TEXT, stripe_customer_id TEXT, has_paid_access BOOLEAN NOT NULL, plan TEXT)")
    with open(csv_path) as f:
        cluster.psql("COPY users FROM STDIN WITH (FORMAT csv, NULL '')", stdin=f)
    cluster.psql("ANALYZE users")


def load_subscriptions(cluster, subs_json, csv_path):
    """The fixtures' Stripe list as the sync engine's table."""
    with open(subs_json) as f:
        data = json.load(f)["data"]
    with open(csv_path, "w", newline="") as f:
        w = csv.writer(f)
        for s in data:
            w.writerow([s["id"], s["customer"], s["status"], json.dumps(s.get("items")), "t" if s.get("cancel_at_period_end") else "f",
                        s.get("current_period_start") or "", s.get("current_period_end") or ""])
    cluster.psql("CREATE SCHEMA stripe; CREATE TABLE stripe.subscriptions (id text PRIMARY KEY, customer text, status text, items jsonb, "
                 "cancel_at_period_end boolean, current_period_start integer, current_period_end integer, updated_at timestamptz DEFAULT now())")
    with open(csv_path) as f:
        cluster.psql("COPY stripe.subscriptions (id, customer, status, items, cancel_at_period_end, current_period_start, current_period_end) "
                     "FROM STDIN WITH (FORMAT csv, NULL '')", stdin=f)
    cluster.psql("ANALYZE stripe.subscriptions")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--binary", default="target/release/billguard")
    ap.add_argument("--synced", action="store_true", help="subscriptions from stripe.subscriptions in the same database")
    args = ap.parse_args()
    binary = os.path.abspath(args.binary)
    workdir = tempfile.mkdtemp(prefix="billguard-bench-db-")
    cluster = None
    try:
        fixtures = os.path.join(workdir, "fx")
        expected = bench_access.Generator(args.n, int(time.time())).write(fixtures)
        cluster = Cluster(workdir)
        t0 = time.perf_counter()
        load_users(cluster, os.path.join(fixtures, "db", "users.json"), os.path.join(workdir, "users.csv"))
        print(f"N={args.n}: loaded users into Postgres in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        os.remove(os.path.join(fixtures, "db", "users.json"))
        if args.synced:
            t0 = time.perf_counter()
            load_subscriptions(cluster, os.path.join(fixtures, "stripe", "subscriptions.json"), os.path.join(workdir, "subs.csv"))
            print(f"N={args.n}: loaded subscriptions into stripe.subscriptions in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
            os.remove(os.path.join(fixtures, "stripe", "subscriptions.json"))
            with open(os.path.join(fixtures, "billguard.toml"), "a") as f:
                f.write('\n[billing]\nsource = "database"\n')
        os.environ["DATABASE_URL"] = f"postgres://bench@127.0.0.1:{cluster.port}/postgres"

        walls, cpus, rsss = [], [], []
        out_path = os.path.join(workdir, "report.json")
        for r in range(args.runs):
            wall, cpu, rss, code, err = bench_access.run_once(binary, fixtures, out_path)
            if code not in (0, 1):
                sys.stderr.write(err)
                raise SystemExit(f"bench-access-db: billguard exited {code}")
            walls.append(wall), cpus.append(cpu), rsss.append(rss)
            print(f"run {r + 1}/{args.runs}: {wall:.3f} s wall, {cpu:.2f} s CPU, {rss:.1f} MB", file=sys.stderr)
        with open(out_path) as f:
            report = json.load(f)
        found = report["summary"]["by_rule"]
        ok = all(found.get(k, 0) == v for k, v in expected.items()) and set(found) <= set(expected)
        print(f"\nsource: {report['scope']['source']}  users: {report['scope']['users']}  subscriptions: {report['scope']['subscriptions']}")
        for code in sorted(set(expected) | set(found)):
            print(f"{code}  planted {expected.get(code, 0):>8}  found {found.get(code, 0):>8}")
        wall, cpu, rss = statistics.median(walls), statistics.median(cpus), max(rsss)
        verdict = "met" if wall <= 3.0 and rss <= 500 else "MISSED"
        print(f"\nN={args.n}: {wall:.3f} s wall (median of {args.runs}), {cpu:.2f} s CPU, {rss:.1f} MB peak RSS; target 3 s / 500 MB: {verdict}")
        if not ok:
            raise SystemExit("bench-access-db: found counts differ from planted counts")
    finally:
        if cluster:
            cluster.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
