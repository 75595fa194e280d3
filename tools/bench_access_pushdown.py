#!/usr/bin/env python3
"""Benchmark of the access contract pushed down to Postgres.

Loads N users (`users`) and N synced subscriptions (`stripe.subscriptions`, the
Stripe sync engine's shape: items as jsonb, epoch integers, a primary key on each
table) into a fresh PostgreSQL cluster on a free 127.0.0.1 port, generated inside
the database (generate_series) so that 10 million rows load in minutes. Defects
are planted at known rates (one per 10,000 users per rule), so the expected
counts are known without billguard. Then times

    billguard check access --format json        ([billing] source = "database")

pushed down (the default) and, with --in-process, with
`[billing.database] pushdown = false` for comparison. Prints wall time, billguard's
CPU time and peak RSS (from /usr/bin/time), and the database's time for billguard's
statements (from the server log), and checks the counts found against the planted.

Targets on a 2-core machine: 10,000,000 users in at most 60 s with billguard under
100 MB, pushed down.

    tools/bench_access_pushdown.py -n 10000000
    tools/bench_access_pushdown.py -n 1000000 --in-process
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_access_db import Cluster  # noqa: E402  (the shared test cluster)

PER = 10_000  # one planted defect per rule per PER users


def planted(n):
    """Expected findings per rule: users i with i % PER == k, for each k below."""
    m = {k: len(range(k, n + 1, PER)) for k in range(1, 9)}
    expected = {
        "ACC001": m[1],  # access false, subscription active
        "ACC002": m[2],  # subscription canceled, access true
        "ACC003": m[3],  # plan 'team', price_pro
        "ACC004": 1 if m[4] else 0,  # price_legacy, once with its count
        "ACC005": m[5],  # user links the previous user's customer
        "ACC006": m[5],  # ... so its own subscription has no user
        "ACC007": m[8],  # past_due for 30 days, grace 7
        "ACC008": m[7],  # access true, no customer id (and no subscription)
        "ACC009": m[6],  # a second active subscription
    }
    return {k: v for k, v in expected.items() if v}


def load(cluster, n):
    now = int(time.time())
    items = ("jsonb_build_object('object', 'list', 'data', jsonb_build_array(jsonb_build_object('id', 'si_' || i, 'object', 'subscription_item', "
             "'quantity', 1, 'price', jsonb_build_object('id', {price}, 'object', 'price', 'currency', 'usd', 'unit_amount', 2000, "
             "'recurring', jsonb_build_object('interval', 'month')))))")
    cluster.psql(f"""
        CREATE TABLE users (id bigint PRIMARY KEY, email text, stripe_customer_id text, has_paid_access boolean NOT NULL, plan text);
        INSERT INTO users
        SELECT i, 'user' || i || '@example.com',
               CASE WHEN i % {PER} = 7 THEN NULL WHEN i % {PER} = 5 THEN 'cus_' || (i - 1) ELSE 'cus_' || i END,
               CASE WHEN i % 10 = 9 OR i % {PER} = 1 THEN false ELSE true END,
               CASE WHEN i % 10 = 9 THEN 'free' WHEN i % {PER} = 3 THEN 'team' ELSE 'pro' END
        FROM generate_series(1, {n}) AS i;
        CREATE SCHEMA stripe;
        CREATE TABLE stripe.subscriptions (id text PRIMARY KEY, customer text, status text, items jsonb, cancel_at_period_end boolean,
            current_period_start bigint, current_period_end bigint, updated_at timestamptz NOT NULL DEFAULT now());
        INSERT INTO stripe.subscriptions (id, customer, status, items, cancel_at_period_end, current_period_start, current_period_end)
        SELECT 'sub_' || i, 'cus_' || i,
               CASE WHEN i % 10 = 9 OR i % {PER} = 2 THEN 'canceled' WHEN i % {PER} = 8 THEN 'past_due' ELSE 'active' END,
               {items.format(price=f"CASE WHEN i % {PER} = 4 THEN 'price_legacy' ELSE 'price_pro' END")},
               false, {now} - CASE WHEN i % {PER} = 8 THEN 30 * 86400 ELSE 86400 END, {now} + 29 * 86400
        FROM generate_series(1, {n}) AS i WHERE i % {PER} <> 7;
        INSERT INTO stripe.subscriptions (id, customer, status, items, cancel_at_period_end, current_period_start, current_period_end)
        SELECT 'sub_' || i || '_b', 'cus_' || i, 'active', {items.format(price="'price_pro'")}, false, {now} - 86400, {now} + 29 * 86400
        FROM generate_series(1, {n}) AS i WHERE i % {PER} = 6;
    """)
    # psql -c runs its statements in one transaction, which VACUUM refuses.
    cluster.psql("VACUUM ANALYZE users")
    cluster.psql("VACUUM ANALYZE stripe.subscriptions")


def run(binary, repo, url, log_path):
    """(wall s, CPU s, peak RSS MB, database ms, report)."""
    log_from = os.path.getsize(log_path)
    env = dict(os.environ, DATABASE_URL=url)
    cmd = ["/usr/bin/time", "-v", binary, "check", "access", "--format", "json", "--no-baseline"]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=repo, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wall = time.perf_counter() - t0
    err = proc.stderr.decode(errors="replace")
    if proc.returncode not in (0, 1):
        sys.stderr.write(err)
        raise SystemExit(f"bench-access-pushdown: billguard exited {proc.returncode}")
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", err).group(1)) / 1024
    cpu = sum(float(x) for x in re.findall(r"(?:User|System) time \(seconds\): ([\d.]+)", err))
    with open(log_path, errors="replace") as f:
        f.seek(log_from)
        db_ms = sum(float(x) for x in re.findall(r"duration: ([\d.]+) ms", f.read()))
    return wall, cpu, rss, db_ms, json.loads(proc.stdout)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=10_000_000)
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--binary", default="target/release/billguard")
    ap.add_argument("--in-process", action="store_true", help="also run with pushdown = false, for comparison")
    args = ap.parse_args()
    binary = os.path.abspath(args.binary)
    workdir = tempfile.mkdtemp(prefix="billguard-bench-pushdown-")
    cluster = None
    try:
        # Every statement that takes longer than 100 ms is logged with its duration:
        # the loads, and billguard's queries (the database's share of a run).
        cluster = Cluster(workdir, extra_opts="-c log_min_duration_statement=100 -c max_wal_size=8GB")
        t0 = time.perf_counter()
        load(cluster, args.n)
        print(f"N={args.n}: generated and loaded {args.n} users and subscriptions in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        url = f"postgres://bench@127.0.0.1:{cluster.port}/postgres"
        log_path = os.path.join(cluster.dir, "log")
        expected = planted(args.n)
        failed = False
        for pushdown in [True] + ([False] if args.in_process else []):
            repo = os.path.join(workdir, f"repo-{pushdown}")
            os.makedirs(repo)
            with open(os.path.join(repo, "billguard.toml"), "w") as f:
                f.write(f'[billing]\nsource = "database"\n[billing.database]\npushdown = {str(pushdown).lower()}\npushdown_min_rows = 0\nstatement_timeout_secs = 600\n'
                        '[database]\ntable = "users"\nstatement_timeout_secs = 600\n[access]\npast_due_grace_days = 7\n'
                        '[access.plans]\nprice_pro = "pro"\nprice_team = "team"\n')
            results = []
            for r in range(args.runs):
                wall, cpu, rss, db_ms, report = run(binary, repo, url, log_path)
                results.append((wall, cpu, rss, db_ms))
                print(f"{'pushed down' if pushdown else 'in-process'} run {r + 1}/{args.runs}: {wall:.2f} s wall, {cpu:.2f} s CPU, "
                      f"{rss:.1f} MB peak RSS, database {db_ms / 1000:.2f} s", file=sys.stderr)
            found = report["summary"]["by_rule"]
            ok = found == expected
            failed |= not ok
            wall, cpu, rss, db_ms = min(results)
            label = "pushed down" if pushdown else "in-process"
            print(f"\nN={args.n} {label}: {wall:.2f} s wall (best of {args.runs}), {cpu:.2f} s CPU, {rss:.1f} MB peak RSS, "
                  f"database time {db_ms / 1000:.2f} s")
            print(f"  scope.evaluated: {report['scope']['evaluated'][:160]}")
            for code in sorted(set(expected) | set(found)):
                print(f"  {code}  planted {expected.get(code, 0):>7}  found {found.get(code, 0):>7}")
            if pushdown and args.n >= 10_000_000:
                print(f"  target 60 s / 100 MB at 10M: {'met' if wall <= 60 and rss < 100 else 'MISSED'}")
        if failed:
            raise SystemExit("bench-access-pushdown: found counts differ from planted counts")
    finally:
        if cluster:
            cluster.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
