#!/usr/bin/env bash
# What the Redis bus bridge costs the local path: the same busbench load on one daemon with
# `bus.backend: memory` and one with `bus.backend: redis` (a real redis-server on a Unix socket),
# alternating which goes first, 3 rounds, medians. See README "Bus bridge vs local only".
#   usage: bash Tests/bench/bridge-bench.sh [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-3}
if ! command -v redis-server >/dev/null; then
  apt-get update -qq && apt-get install -y -qq redis-server >/dev/null
fi
swift build -c release --static-swift-stdlib --product superbot >&2
mkdir -p .build/bench
gcc -O2 -Wall -pthread -o .build/bench/busbench Tests/bench/busbench/busbench.c
run=$(mktemp -d "$PWD/.build/bench/bridge-XXXXXX")
kinds="memory redis"
infrastructure() { printf 'infrastructure:\n  bus: {backend: %s}\n  redis: {url: "unix://%s"}\n' "$1" "$run/redis.sock"; }
source Tests/bench/redis-daemons.sh
sleep 1
out="$run/raw.jsonl"
for round in $(seq "$rounds"); do
  order="memory redis"
  [ $((round % 2)) -eq 0 ] && order="redis memory"
  for cfg in "1 64" "10 64" "1 1"; do
    set -- $cfg
    for kind in $order; do
      .build/bench/busbench -b superbot -a "unix:$run/$kind/.superbot/superbot.sock" \
        -P "$(head -1 "$run/$kind/.superbot/daemon.pid")" -m tput -n "$1" -B "$2" -d 3 -w 1 \
        -l "$kind n=$1 B=$2" >> "$out"
      echo >> "$out"
    done
  done
done
python3 - "$out" "$run/redis/.superbot/superbot.sock" <<'PY'
import json, statistics, sys, collections
runs = collections.defaultdict(list)
for line in open(sys.argv[1]):
    if line.strip():
        d = json.loads(line)
        runs[d["label"]].append(d)
med = lambda label, key: statistics.median(r[key] for r in runs[label])
print("| load (1 publisher, Unix socket, 100-byte payload) | bridge off msg/s | bridge on msg/s | on / off | daemon CPU % off | on |")
print("|---|---:|---:|---:|---:|---:|")
for cfg in ("n=1 B=64", "n=10 B=64", "n=1 B=1"):
    n, b = cfg.split()[0][2:], cfg.split()[1][2:]
    off, on = med(f"memory {cfg}", "deliv_rate"), med(f"redis {cfg}", "deliv_rate")
    name = f"1→{n}, {'pipelined ' + b if b != '1' else 'unpipelined'}"
    print(f"| {name} | {off:,.0f} | {on:,.0f} | {on / off:.2f}× | {med(f'memory {cfg}', 'broker_cpu_pct'):.0f} | {med(f'redis {cfg}', 'broker_cpu_pct'):.0f} |")
print(f"\n{len(runs['memory n=1 B=64'])} rounds, medians; the bridged daemon also forwarded every message to Redis.")
PY
