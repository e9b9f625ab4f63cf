"""Medians of busbench runs as one side-by-side table: SuperBot relay vs Redis."""
import json
import statistics
import sys
from collections import defaultdict

runs = defaultdict(list)
with open(sys.argv[1]) as f:
    for line in f:
        line = line.strip()
        if line:
            d = json.loads(line)
            runs[(d["label"], d["broker"])].append(d)


def med(label, broker, key):
    values = [r[key] for r in runs.get((label, broker), []) if key in r]
    return statistics.median(values) if values else float("nan")


def issues(label):
    bad = []
    for broker in ("superbot", "redis"):
        for r in runs.get((label, broker), []):
            for key in ("gaps", "reorder", "badlen", "closed_subs", "reply_mismatch"):
                if r.get(key):
                    bad.append(f"{broker} {key}={r[key]}")
    return ", ".join(bad) or "-"


print("| load (1 publisher, Unix socket, 100-byte payload) | SuperBot msg/s delivered | Redis msg/s delivered | SuperBot / Redis | SuperBot CPU % | Redis CPU % | errors |")
print("|---|---:|---:|---:|---:|---:|---|")
for label in sorted({l for l, _ in runs if l.startswith("tput")}, key=lambda l: (int(l.split("B=")[1].split()[0]) == 1, l)):
    n = label.split()[1].split("=")[1]
    b = label.split()[2].split("=")[1]
    kind = "wildcard `price.*.update`" if "wildcard" in label else "exact"
    s, r = med(label, "superbot", "deliv_rate"), med(label, "redis", "deliv_rate")
    name = f"1→{n}, {kind}, {'pipelined ' + b if b != '1' else 'unpipelined'}"
    print(f"| {name} | {s:,.0f} | {r:,.0f} | {s / r:.2f}× | {med(label, 'superbot', 'broker_cpu_pct'):.0f} | {med(label, 'redis', 'broker_cpu_pct'):.0f} | {issues(label)} |")
print()
print("| publish → receive latency at 10,000 msg/s | SuperBot | Redis |")
print("|---|---:|---:|")
for key in ("p50_us", "p90_us", "p99_us", "p999_us"):
    print(f"| {key.replace('_us', '')} | {med('lat', 'superbot', key):.1f} µs | {med('lat', 'redis', key):.1f} µs |")
print(f"\nruns per cell: {len(runs.get(('lat', 'superbot'), []))}; raw results: {sys.argv[1]}")
