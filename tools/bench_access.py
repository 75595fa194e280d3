#!/usr/bin/env python3
"""Benchmark of `billguard check access` on generated fixtures (stdlib only).

For each N it writes N app users and N Stripe subscriptions (the raw list object
of GET /v1/subscriptions) into a temporary fixtures directory, plants a known
number of defects for each rule ACC001..ACC009, runs the release binary under
/usr/bin/time -v, checks that summary.by_rule equals the planted counts exactly,
and prints wall time (median of the runs) and peak RSS.

Run it through tools/bench-access, which builds the release binary first.
Exit status: 0 when every count matches, 1 when any differs, 2 on usage or
run errors. Missed time or memory targets are reported, not failed.
"""

import argparse
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

DAY = 86_400
GRACE_DAYS = 3

# price id -> plan, as [access.plans] maps them
PLANS = {
    "price_1BasicMonthly": "basic",
    "price_1ProMonthly": "pro",
    "price_1ProYearly": "pro",
    "price_1TeamMonthly": "team",
}
HEALTHY_PRICES = list(PLANS)
PLAN_RANK = ["team", "pro", "basic"]
# Used only on subscriptions that do not entitle: never an ACC004 finding.
RETIRED_PRICE = "price_1RetiredStarter"

# Targets from the project brief: N -> (wall seconds, peak RSS MB).
TARGETS = {1_000_000: (1.0, 400.0), 100_000: (0.15, None)}

SUB = (
    '{{"id":"{sid}","object":"subscription","customer":"{cus}","status":"{status}",'
    '"cancel_at_period_end":{cape},"created":{created},"livemode":true,'
    '"items":{{"object":"list","data":[{{"id":"{si}","object":"subscription_item",'
    '"price":{{"id":"{price}","object":"price"}},"current_period_start":{start},'
    '"current_period_end":{end},"quantity":{qty}}}]}},"metadata":{meta}}}'
)
USER = '{{"id":{uid},"email":"user{uid}@example.com","stripe_customer_id":{cus},"has_paid_access":{access},"plan":{plan}}}'


def q(s):
    """A JSON string literal for our own ids and plan names (no escaping needed), or null."""
    return "null" if s is None else '"' + s + '"'


class Generator:
    """Writes one fixtures directory and knows what billguard must find in it."""

    def __init__(self, n, now, seed=42):
        self.n = n
        self.now = now
        self.rng = random.Random(seed)
        self.users = []
        self.subs = []
        self.uid = 0
        self.cus_n = 0
        self.sub_n = 0
        self.comped = []

    # -- ids shaped like Stripe's (same lengths), deterministic ---------------------------

    def new_customer(self):
        self.cus_n += 1
        return f"cus_Rk{self.cus_n:012d}"

    def new_user(self, cus, access, plan):
        self.uid += 1
        self.users.append(
            USER.format(uid=self.uid, cus=q(cus), access="true" if access else "false", plan=q(plan))
        )
        return self.uid

    def new_sub(self, cus, status, price, *, start=None, end=None, cape=False, uid=None, qty=1):
        self.sub_n += 1
        now = self.now
        if start is None:
            start = now - 10 * DAY
        if end is None:
            end = start + 30 * DAY
        self.subs.append(
            SUB.format(
                sid=f"sub_1QhX{self.sub_n:012d}AbCdEfGh",
                cus=cus,
                status=status,
                cape="true" if cape else "false",
                created=start - 90 * DAY,
                si=f"si_Qh{self.sub_n:012d}",
                price=price,
                start=start,
                end=end,
                qty=qty,
                meta='{"app_user_id":"%d"}' % uid if uid is not None else "{}",
            )
        )

    # -- entity kinds: healthy ones, and one defect kind per rule -------------------------

    def healthy(self, j, history=False):
        """A paying user whose row agrees with billing; variety in status and price."""
        price = HEALTHY_PRICES[j % len(HEALTHY_PRICES)]
        cus = self.new_customer()
        uid = self.new_user(cus, True, PLANS[price])
        qty = 5 if PLANS[price] == "team" else 1
        if j % 20 == 0:
            self.new_sub(cus, "trialing", price, uid=uid, qty=qty)
        elif j % 50 == 1:  # past_due since yesterday: within the 3-day grace
            self.new_sub(cus, "past_due", price, start=self.now - DAY, uid=uid, qty=qty)
        elif j % 25 == 2:  # scheduled cancellation, period not over: still entitled
            self.new_sub(cus, "active", price, cape=True, uid=uid, qty=qty)
        else:
            self.new_sub(cus, "active", price, uid=uid, qty=qty)
        if history:  # an earlier subscription, canceled long ago
            self.new_sub(cus, "canceled", RETIRED_PRICE, start=self.now - 400 * DAY, uid=uid)

    def free(self, j):
        """Never paid: no customer id, no access."""
        self.new_user(None, False, "free" if j % 3 else None)

    def churned(self, j):
        """Canceled and revoked correctly."""
        cus = self.new_customer()
        uid = self.new_user(cus, False, "free")
        self.new_sub(cus, ["canceled", "incomplete_expired", "unpaid"][j % 3], RETIRED_PRICE, uid=uid)

    def comped_user(self, j):
        """In [access] comped_users: access without billing is intended (no ACC002/ACC008)."""
        if j % 2:
            uid = self.new_user(None, True, "team")
        else:
            cus = self.new_customer()
            uid = self.new_user(cus, True, "team")
            self.new_sub(cus, "canceled", RETIRED_PRICE, uid=uid)
        self.comped.append(uid)

    def acc001(self, j):
        """Billing entitles, access false."""
        cus = self.new_customer()
        uid = self.new_user(cus, False, "free")
        status = ["active", "trialing", "past_due"][j % 3]
        start = self.now - DAY if status == "past_due" else None
        self.new_sub(cus, status, "price_1ProMonthly", start=start, uid=uid)

    def acc002(self, j):
        """Access true, no entitling subscription (one finding per user)."""
        cus = self.new_customer()
        uid = self.new_user(cus, True, "pro")
        v = j % 7
        if v < 5:
            status = ["canceled", "unpaid", "incomplete", "incomplete_expired", "paused"][v]
            self.new_sub(cus, status, RETIRED_PRICE, uid=uid)
        elif v == 5:  # scheduled cancellation whose period has ended
            self.new_sub(cus, "active", "price_1ProMonthly", start=self.now - 35 * DAY, cape=True, uid=uid)
        # v == 6: no subscription at all (too few of these for ACC010)

    def acc003(self, j):
        """Entitled with access, plan differs from the mapped plan (null and empty count)."""
        cus = self.new_customer()
        price, plan = [("price_1TeamMonthly", "pro"), ("price_1ProMonthly", None), ("price_1BasicMonthly", "")][j % 3]
        uid = self.new_user(cus, True, plan)
        self.new_sub(cus, "active", price, uid=uid)

    def acc004(self, j, prices):
        """Entitling subscription on a price [access.plans] lacks; counted once per price."""
        cus = self.new_customer()
        uid = self.new_user(cus, True, "pro")
        self.new_sub(cus, "active", prices[j % len(prices)], uid=uid)

    def acc005(self, j):
        """One customer id on two users (one finding per customer)."""
        cus = self.new_customer()
        a = self.new_user(cus, True, "pro")
        self.new_user(cus, True, "pro")
        self.new_sub(cus, "active", "price_1ProMonthly", uid=a)

    def acc006(self, j):
        """Entitling subscription of a customer no user links to (one per customer)."""
        cus = self.new_customer()
        self.new_sub(cus, "trialing" if j % 4 == 0 else "active", "price_1ProMonthly")

    def acc007(self, j):
        """past_due since 10 days, grace 3 days, access still true."""
        cus = self.new_customer()
        uid = self.new_user(cus, True, "pro")
        self.new_sub(cus, "past_due", "price_1ProMonthly", start=self.now - 10 * DAY, uid=uid)

    def acc008(self, j):
        """Access true, no customer id (null or empty), not comped."""
        self.new_user(None if j % 2 else "", True, "pro")

    def acc009(self, j):
        """Two entitling subscriptions on one customer (one finding per customer)."""
        cus = self.new_customer()
        if j % 2:
            uid = self.new_user(cus, True, "team")  # plan_rank: team wins over pro
            self.new_sub(cus, "active", "price_1ProMonthly", uid=uid)
            self.new_sub(cus, "active", "price_1TeamMonthly", uid=uid, qty=5)
        else:
            uid = self.new_user(cus, True, "pro")
            self.new_sub(cus, "active", "price_1ProMonthly", uid=uid)
            self.new_sub(cus, "trialing", "price_1ProMonthly", uid=uid)

    # -- the whole directory --------------------------------------------------------------

    def plan(self):
        """Entity counts such that users and subscriptions are exactly N each."""
        n = self.n
        k = max(1, n // 100)  # ~1% per rule
        unmapped = [f"price_1Legacy{i:05d}" for i in range(max(1, k // 10))]
        defects = {  # kind: (count, users each, subscriptions each)
            "acc001": (k, 1, 1),
            "acc002": (k, 1, None),
            "acc003": (k, 1, 1),
            "acc004": (k, 1, 1),
            "acc005": (k, 2, 1),
            "acc006": (k, 0, 1),
            "acc007": (k, 1, 1),
            "acc008": (k, 1, 0),
            "acc009": (k, 1, 2),
            "comped": (10, 1, None),
            "churned": (n // 50, 1, 1),
        }
        acc002_subs = sum(1 for j in range(k) if j % 7 != 6)
        comped_subs = sum(1 for j in range(10) if j % 2 == 0)
        users = sum(c * u for c, u, _ in defects.values())
        subs = sum(c * s for kind, (c, _, s) in defects.items() if s is not None) + acc002_subs + comped_subs
        rest_u, rest_s = n - users, n - subs
        # healthy (1 user, 1 sub), healthy with history (1, 2), free (1, 0)
        d = rest_s - rest_u
        free = n // 20 if d >= 0 else n // 20 - d
        history = free + d
        healthy = rest_u - free - history
        if healthy < 0 or history < 0:
            raise SystemExit(f"bench-access: N={n} is too small to plant 1% defects per rule; use N >= 1000")
        counts = {**{kind: c for kind, (c, _, _) in defects.items()}, "healthy": healthy, "history": history, "free": free}
        expected = {f"ACC00{i}": k for i in range(1, 10)}
        expected["ACC004"] = len(unmapped)
        return counts, unmapped, expected

    def write(self, root):
        counts, unmapped, expected = self.plan()
        kinds = [kind for kind, c in counts.items() for _ in range(c)]
        self.rng.shuffle(kinds)  # defects spread through the file, not in blocks
        seen = dict.fromkeys(counts, 0)
        build = {
            "healthy": self.healthy,
            "history": lambda j: self.healthy(j, history=True),
            "free": self.free,
            "churned": self.churned,
            "comped": self.comped_user,
            "acc004": lambda j: self.acc004(j, unmapped),
        }
        for kind in kinds:
            j = seen[kind]
            seen[kind] = j + 1
            (build.get(kind) or getattr(self, kind))(j)
        assert len(self.users) == self.n and len(self.subs) == self.n, (len(self.users), len(self.subs))

        os.makedirs(os.path.join(root, "stripe"), exist_ok=True)
        os.makedirs(os.path.join(root, "db"), exist_ok=True)
        with open(os.path.join(root, "stripe", "subscriptions.json"), "w") as f:
            f.write('{"object":"list","url":"/v1/subscriptions","has_more":false,"data":[\n')
            write_joined(f, self.subs)
            f.write("\n]}\n")
        with open(os.path.join(root, "db", "users.json"), "w") as f:
            f.write("[\n")
            write_joined(f, self.users)
            f.write("\n]\n")
        plans = "\n".join(f'"{p}" = "{name}"' for p, name in PLANS.items())
        with open(os.path.join(root, "billguard.toml"), "w") as f:
            f.write(
                "# generated by tools/bench-access\n[access]\n"
                f"past_due_grace_days = {GRACE_DAYS}\n"
                f"comped_users = [{', '.join(str(u) for u in self.comped)}]\n"
                f"plan_rank = {json.dumps(PLAN_RANK)}\n\n[access.plans]\n{plans}\n"
            )
        return expected


def write_joined(f, rows, chunk=50_000):
    for i in range(0, len(rows), chunk):
        if i:
            f.write(",\n")
        f.write(",\n".join(rows[i : i + chunk]))


def run_once(binary, fixtures, out_path):
    """One timed run: (wall seconds, CPU seconds, peak RSS MB, exit code, stderr)."""
    cmd = ["/usr/bin/time", "-v", binary, "check", "access", "--fixtures", fixtures, "--format", "json"]
    with open(out_path, "wb") as out:
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, stdout=out, stderr=subprocess.PIPE)
        wall = time.perf_counter() - t0
    err = proc.stderr.decode(errors="replace")
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", err)
    rss = int(m.group(1)) / 1024 if m else float("nan")
    cpu = sum(float(x) for x in re.findall(r"(?:User|System) time \(seconds\): ([\d.]+)", err))
    return wall, cpu, rss, proc.returncode, err


def bench(n, binary, runs, workdir):
    fixtures = os.path.join(workdir, f"n{n}")
    t0 = time.perf_counter()
    expected = Generator(n, int(time.time())).write(fixtures)
    gen_s = time.perf_counter() - t0
    size_mb = sum(
        os.path.getsize(os.path.join(fixtures, p)) for p in ("stripe/subscriptions.json", "db/users.json")
    ) / 1e6
    print(f"N={n}: generated {size_mb:.0f} MB of fixtures in {gen_s:.1f} s ({fixtures})", file=sys.stderr)
    # Written back now, so that the disk writing the fixtures (or the previous
    # run's report) does not compete with the runs being timed.
    os.sync()

    out_path = os.path.join(workdir, f"report-{n}.json")
    walls, cpus, rsss = [], [], []
    for r in range(runs):
        wall, cpu, rss, code, err = run_once(binary, fixtures, out_path)
        if code not in (0, 1):
            sys.stderr.write(err)
            raise SystemExit(f"bench-access: billguard exited {code} on N={n}")
        os.sync()
        walls.append(wall)
        cpus.append(cpu)
        rsss.append(rss)
        print(f"N={n}: run {r + 1}/{runs}: {wall:.3f} s wall, {cpu:.2f} s CPU, {rss:.1f} MB", file=sys.stderr)
        if r == 0:
            try:
                with open(out_path) as f:
                    report = json.load(f)
            except ValueError as e:
                sys.stderr.write(err)
                raise SystemExit(f"bench-access: billguard's output on N={n} is not a JSON report: {e}")
    found = report["summary"]["by_rule"]
    scope = report["scope"]
    return {
        "n": n,
        "wall": statistics.median(walls),
        "cpu": statistics.median(cpus),
        "rss": max(rsss),
        "findings": sum(found.values()),
        "expected": expected,
        "found": found,
        "scope": (scope.get("users"), scope.get("subscriptions")),
    }


def parse_sizes(values):
    sizes = []
    for v in values:
        for part in re.split(r"[,\s]+", v.strip()):
            if part:
                sizes.append(int(part.replace("_", "")))
    return sizes


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "-n",
        "--n",
        action="append",
        metavar="N",
        help="users and subscriptions to generate; repeatable or comma-separated "
        "(default: $BENCH_ACCESS_N, else 100000 and 1000000)",
    )
    ap.add_argument("--runs", type=int, default=3, help="timed runs per N; the median wall time is reported (default 3)")
    ap.add_argument("--binary", default="target/release/billguard")
    ap.add_argument("--keep", action="store_true", help="keep the generated fixtures and reports")
    args = ap.parse_args()

    sizes = parse_sizes(args.n or [os.environ.get("BENCH_ACCESS_N") or "100000,1000000"])
    if not os.access(args.binary, os.X_OK):
        raise SystemExit(f"bench-access: {args.binary} is missing; run `cargo build --release` (tools/bench-access does)")
    if not os.access("/usr/bin/time", os.X_OK):
        raise SystemExit("bench-access: /usr/bin/time is missing; install the Debian `time` package")
    binary = os.path.abspath(args.binary)

    workdir = tempfile.mkdtemp(prefix="billguard-bench-access-")
    try:
        results = [bench(n, binary, args.runs, workdir) for n in sizes]
    finally:
        if args.keep:
            print(f"kept {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    ok = True
    print()
    print("rule    " + "".join(f"{'N=' + str(r['n']) + ' planted/found':>28}" for r in results))
    for code in sorted({c for r in results for c in (*r["expected"], *r["found"])}):
        cells = []
        for r in results:
            e, f = r["expected"].get(code, 0), r["found"].get(code, 0)
            mark = "" if e == f else f" ({f - e:+d}) MISMATCH"
            ok &= e == f
            cells.append(f"{e:>10} / {f:<10}{mark}".rjust(28))
        print(f"{code:<8}" + "".join(cells))
    for r in results:
        if r["scope"] != (r["n"], r["n"]):
            ok = False
            print(f"N={r['n']}: scope says {r['scope'][0]} users, {r['scope'][1]} subscriptions: MISMATCH")

    print()
    print(f"{'N':>9}  {'wall s (median of ' + str(args.runs) + ')':>22}  {'CPU s':>6}  {'peak RSS MB':>11}  {'findings':>8}  target")
    for r in results:
        wall_t, rss_t = TARGETS.get(r["n"], (None, None))
        verdicts = []
        if wall_t is not None:
            verdicts.append(f"wall <= {wall_t} s: {'met' if r['wall'] <= wall_t else 'MISSED'}")
        if rss_t is not None:
            verdicts.append(f"RSS <= {rss_t:.0f} MB: {'met' if r['rss'] <= rss_t else 'MISSED'}")
        print(f"{r['n']:>9}  {r['wall']:>22.3f}  {r['cpu']:>6.2f}  {r['rss']:>11.1f}  {r['findings']:>8}  {'; '.join(verdicts) or '-'}")
    print("(wall and CPU s: medians of the runs, CPU = user + system; peak RSS: the largest of the runs)")
    print()
    print("counts: all planted counts found exactly" if ok else "counts: MISMATCH between planted and found counts")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
