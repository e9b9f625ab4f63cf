"""Drives Tests/bench/backtest-bench.sh: our `backtest` and its peers on the same CSV files and
strategy (SMA crossover 10/20, long/short reversals, all the cash in whole units, commission
0.2 %), three rounds with the order alternating, medians and ratios as a Markdown table.

Ours is timed in-process by `--repeat` (run and statistics, as backtesting.py's `run()`), and
the sweep by the wall time of the whole process (loading included); the peers in-process by
backtest_peers.py (numba's compilation excluded for vectorbt).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PY = sys.executable
OURS_COMMON = ["--cash", "10000000", "--commission", "0.002", "--allow-short", "--lot-size", "1",
               "--no-report", "--quiet"]
GRID = (5, 54, 60, 155, 5)        # 50 × 20 = 1,000 combinations
SUBSET = (5, 9, 60, 75, 5)        # 5 × 4 = 20 of them, for backtesting.py's optimize


def peer(*args):
    env = dict(os.environ, TQDM_DISABLE="1")
    out = subprocess.run([PY, os.path.join(HERE, "backtest_peers.py"), *map(str, args)], env=env,
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def ours_run(backtest, csv, repeats):
    r = subprocess.run([backtest, "--data", csv, *OURS_COMMON, "--repeat", str(repeats)],
                       capture_output=True, text=True, check=True)
    line = [l for l in r.stderr.splitlines() if l.startswith("run: median")][-1]
    return float(line.split()[2]) / 1000


def ours_report(backtest, csv):
    r = subprocess.run([backtest, "--data", csv, *OURS_COMMON, "--json"], capture_output=True, text=True, check=True)
    d = json.loads(r.stdout)
    return len(d["trades"]), d["statistics"]["Equity Final [$]"]


def ours_grid(backtest, csv):
    f0, f1, s0, s1, step = GRID
    start = time.perf_counter()
    subprocess.run([backtest, "--data", csv, *OURS_COMMON, "--grid", f"fast={f0}:{f1}:1", f"slow={s0}:{s1}:{step}"],
                   capture_output=True, check=True)
    return time.perf_counter() - start


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--backtest", required=True)
    p.add_argument("--rounds", type=int, default=3)
    a = p.parse_args()
    work = os.path.join(os.getcwd(), ".build", "bench-backtest")
    os.makedirs(work, exist_ok=True)
    big = os.path.join(work, "bars100k.csv")
    subprocess.run([a.backtest, "--synthetic", "BTCUSDT", "--bars", "100000", "--seed", "1", "--export-bars", big,
                    "--no-report", "--quiet"], capture_output=True, check=True)
    import backtesting.test
    goog = os.path.join(backtesting.test.__path__[0], "GOOG.csv")
    try:
        import vectorbt  # noqa: F401
        have_vbt = True
    except ImportError:
        have_vbt = False

    # Identical trades first: trade count and final equity, to the last digit.
    same = {}
    for name, csv in (("GOOG", goog), ("100k", big)):
        theirs = peer("run", csv, 1)
        trades, equity = ours_report(a.backtest, csv)
        same[name] = (trades == theirs["trades"] and equity == theirs["equity_final"], trades, theirs["trades"])

    t = {k: [] for k in ("goog_ours", "goog_bt", "big_ours", "big_bt", "grid_ours", "grid_vbt", "opt_bt")}
    for round_ in range(a.rounds):
        jobs = [
            ("goog_ours", lambda: ours_run(a.backtest, goog, 50)),
            ("goog_bt", lambda: peer("run", goog, 20)["median_s"]),
            ("big_ours", lambda: ours_run(a.backtest, big, 9)),
            ("big_bt", lambda: peer("run", big, 3)["median_s"]),
            ("grid_ours", lambda: ours_grid(a.backtest, big)),
            ("opt_bt", lambda: peer("optimize", big, *SUBSET)["seconds"] / 20),
        ]
        if have_vbt:
            jobs.append(("grid_vbt", lambda: peer("vectorbt", big, *GRID)["seconds"]))
        # Pairs run in alternating order: ours first in even rounds, the peer first in odd ones.
        for i in range(0, len(jobs) - (1 if have_vbt else 0), 2):
            pair = jobs[i:i + 2]
            if round_ % 2:
                pair = pair[::-1]
            for key, job in pair:
                t[key].append(job())
        if have_vbt:
            key, job = jobs[-1]
            t[key].append(job())
        print(f"round {round_ + 1}: " + ", ".join(f"{k} {v[-1]:.4g}" for k, v in t.items() if v), file=sys.stderr)

    m = {k: statistics.median(v) for k, v in t.items() if v}
    rate = lambda bars, s: f"{bars / s / 1e3:,.0f} k bars/s"
    print("| Run | SuperBot backtest | backtesting.py 0.6.6 | vectorbt 1.2.0 | Ratio | Same trades |")
    print("|---|---|---|---|---|---|")
    print(f"| one run, GOOG (2,148 bars) | {m['goog_ours'] * 1e3:.3f} ms ({rate(2148, m['goog_ours'])}) | "
          f"{m['goog_bt'] * 1e3:.1f} ms ({rate(2148, m['goog_bt'])}) | – | **{m['goog_bt'] / m['goog_ours']:.0f}×** | "
          f"{'yes' if same['GOOG'][0] else 'NO'} ({same['GOOG'][1]} trades) |")
    print(f"| one run, 100,000 bars | {m['big_ours'] * 1e3:.2f} ms ({rate(100000, m['big_ours'])}) | "
          f"{m['big_bt']:.3f} s ({rate(100000, m['big_bt'])}) | – | **{m['big_bt'] / m['big_ours']:.0f}×** | "
          f"{'yes' if same['100k'][0] else 'NO'} ({same['100k'][1]} trades) |")
    bt_grid = m["opt_bt"] * 1000
    vbt = f"{m['grid_vbt']:.1f} s" if have_vbt else "not installed"
    vbt_ratio = f"**{m['grid_vbt'] / m['grid_ours']:.1f}×** vs vectorbt, " if have_vbt else ""
    print(f"| sweep, 1,000 combinations × 100,000 bars | {m['grid_ours']:.2f} s | ≈ {bt_grid:.0f} s "
          f"(20 timed, × 50) | {vbt} | {vbt_ratio}**{bt_grid / m['grid_ours']:.0f}×** vs backtesting.py | – |")
    print(f"\n{a.rounds} rounds, medians; ratio = peer time / ours. Machine: {os.cpu_count()} cores.")


main()
