#!/usr/bin/env bash
# SuperBot's bus relay vs a real Redis, side by side with the same load generator
# (Tests/bench/busbench/busbench.c: the shared busbench plus a `superbot` backend).
# Both over Unix sockets, same payload size (100 bytes), same machine, same run.
#   usage: bash Tests/bench/bus-bench.sh [REPS]   (default 3; medians over REPS, and each
#   rep alternates which of the two goes first)
set -euo pipefail
cd "$(dirname "$0")/../.."
reps=${1:-3}
if ! command -v redis-server >/dev/null; then
  apt-get update -qq && apt-get install -y -qq redis-server >/dev/null
fi
swift build -c release --static-swift-stdlib --product superbot >&2
mkdir -p .build/bench
gcc -O2 -Wall -pthread -o .build/bench/busbench Tests/bench/busbench/busbench.c
run=$(mktemp -d "$PWD/.build/bench/bus-XXXXXX")
mkdir -p "$run/config"
printf 'daemon:\n  modules: {}\n  logging: {level: warning}\n  ipc: {max_connections: 64}\n' > "$run/config/daemon.yaml"
(cd "$run" && exec "$OLDPWD/.build/release/superbot" --config config >/dev/null 2>&1) &
redis-server --port 0 --unixsocket "$run/redis.sock" --save '' --appendonly no --daemonize yes --pidfile "$run/redis.pid" >/dev/null
cleanup() {
  kill "$(cat "$run/redis.pid" 2>/dev/null)" 2>/dev/null || true
  kill "$(head -1 "$run/.superbot/daemon.pid" 2>/dev/null)" 2>/dev/null || true
}
trap cleanup EXIT
for _ in $(seq 50); do [ -S "$run/.superbot/superbot.sock" ] && [ -f "$run/redis.pid" ] && break; sleep 0.1; done
sb="-b superbot -a unix:$run/.superbot/superbot.sock -P $(head -1 "$run/.superbot/daemon.pid")"
rd="-b redis -a unix:$run/redis.sock -P $(cat "$run/redis.pid")"
out="$run/raw.jsonl"
for rep in $(seq "$reps"); do
  order="sb rd"
  [ $((rep % 2)) -eq 0 ] && order="rd sb"
  for cfg in "1 64" "1 64 -p" "10 64" "10 64 -p" "1 1" "10 1"; do
    set -- $cfg
    for broker in $order; do
      .build/bench/busbench ${!broker} -m tput -n "$1" -B "$2" ${3:-} -d 3 -w 1 -l "tput n=$1 B=$2 ${3:+wildcard}" >> "$out"
      echo >> "$out"
    done
  done
  for broker in $order; do
    .build/bench/busbench ${!broker} -m lat -r 10000 -n 1 -d 5 -w 1 -l "lat" >> "$out"
    echo >> "$out"
  done
done
python3 Tests/bench/bus_summary.py "$out"
