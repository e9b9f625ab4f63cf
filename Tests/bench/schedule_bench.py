"""Scheduler benchmarks, our code and the peer side by side in one run, order alternated,
repeated, medians reported.

1. next() evaluations per second: `superbot-cli schedule next EXPR -n N --last` (N evaluations,
   the last one printed; its start-up, measured with -n 1, subtracted) against croniter's
   get_next(float) in a loop, for expressions × zones.
2. Idle CPU of the daemon over a quiet window with 1,000 scheduled jobs against none: one timer is
   armed either way, so the two should be indistinguishable.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from datetime import datetime
from zoneinfo import ZoneInfo

from croniter import croniter

CASES = [
    ("*/15 * * * *", "UTC"),
    ("30 2 * * *", "Europe/Berlin"),
    ("0 9-17 * * mon-fri", "America/New_York"),
    ("0 0 31 * *", "Australia/Sydney"),
    ("5 4 * * sun", "Europe/Istanbul"),
]
START = 1_767_225_600  # 2026-01-01T00:00:00Z


def ours_rate(cli, expr, tz, n):
    def run(count):
        t = time.perf_counter()
        subprocess.run([cli, "schedule", "next", expr, "--tz", tz, "--after", "2026-01-01T00:00:00Z",
                        "-n", str(count), "--last"], check=True, stdout=subprocess.DEVNULL)
        return time.perf_counter() - t
    base = min(run(1) for _ in range(3))
    total = run(n)
    return n / max(total - base, 1e-6)


def croniter_rate(expr, tz, n):
    it = croniter(expr, datetime.fromtimestamp(START, tz=ZoneInfo(tz)))
    t = time.perf_counter()
    for _ in range(n):
        it.get_next(float)
    return n / (time.perf_counter() - t)


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def idle_cpu(bin_dir, jobs, seconds):
    d = tempfile.mkdtemp(prefix="sbsched-")
    try:
        os.makedirs(f"{d}/config")
        now = time.gmtime()
        lines = ["daemon:", "  modules:", "    idle: {command: superbot-fixture, start_seconds: 0}",
                 "  autostart: [idle]", "  schedule:", "    timezone: Europe/Berlin"]
        if jobs:
            lines.append("    jobs:")
            # Daily jobs at times that do not come up during the window (from 6 h after now on).
            for i in range(jobs):
                minute = i % 60
                hour = (now.tm_hour + 6 + (i // 60) % 12) % 24
                lines.append(f"      j{i}: {{cron: \"{minute} {hour} * * *\", action: publish, topic: bench.j{i}}}")
        with open(f"{d}/config/daemon.yaml", "w") as f:
            f.write("\n".join(lines) + "\n")
        p = subprocess.Popen([f"{bin_dir}/superbot", "--config", f"{d}/config"], cwd=d,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        sock = f"{d}/.superbot/superbot.sock"
        for _ in range(100):
            if subprocess.run([f"{bin_dir}/superbot-cli", "--socket", sock, "status"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0:
                break
            time.sleep(0.1)
        time.sleep(1)
        before = cpu_seconds(p.pid)
        time.sleep(seconds)
        used = cpu_seconds(p.pid) - before
        subprocess.run([f"{bin_dir}/superbot-cli", "--socket", sock, "daemon", "stop"], stdout=subprocess.DEVNULL)
        p.wait(timeout=30)
        return used / seconds * 100
    finally:
        shutil.rmtree(d, ignore_errors=True)


def main():
    a = argparse.ArgumentParser()
    a.add_argument("--bin", required=True)
    a.add_argument("--runs", type=int, default=3)
    a.add_argument("-n", type=int, default=1_000_000)
    a.add_argument("--idle-seconds", type=float, default=20)
    args = a.parse_args()
    cli = f"{args.bin}/superbot-cli"

    print("next() evaluations per second (median of %d runs, order alternated)" % args.runs)
    print(f"{'expression':<22} {'zone':<18} {'SuperBot':>12} {'croniter':>12} {'ratio':>8}")
    for expr, tz in CASES:
        ours, theirs = [], []
        for run in range(args.runs):
            if run % 2 == 0:
                ours.append(ours_rate(cli, expr, tz, args.n))
                theirs.append(croniter_rate(expr, tz, args.n // 20))
            else:
                theirs.append(croniter_rate(expr, tz, args.n // 20))
                ours.append(ours_rate(cli, expr, tz, args.n))
        o, t = statistics.median(ours), statistics.median(theirs)
        print(f"{expr:<22} {tz:<18} {o:>12,.0f} {t:>12,.0f} {o / t:>7.0f}×")

    print()
    print("daemon idle CPU %% over %.0f s (median of %d runs, order alternated)" % (args.idle_seconds, args.runs))
    none, many = [], []
    for run in range(args.runs):
        order = [(0, none), (1000, many)] if run % 2 == 0 else [(1000, many), (0, none)]
        for jobs, into in order:
            into.append(idle_cpu(args.bin, jobs, args.idle_seconds))
    print(f"{'no jobs':<14} {statistics.median(none):.3f} %   runs: {', '.join(f'{x:.3f}' for x in none)}")
    print(f"{'1,000 jobs':<14} {statistics.median(many):.3f} %   runs: {', '.join(f'{x:.3f}' for x in many)}")


main()
