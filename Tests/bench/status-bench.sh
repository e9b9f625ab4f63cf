#!/usr/bin/env bash
# `superbot-cli status` vs a stand-in for runit's `sv status` (runit is not installable here)
# and /bin/true, each timed from spawn to exit (see README "Benchmarks").
#   usage: bash Tests/bench/status-bench.sh [--rounds N] [--calls N]
set -euo pipefail
cd "$(dirname "$0")/../.."
for p in superbot superbot-cli superbot-log; do
  swift build -c release --static-swift-stdlib --product "$p" >&2
done
mkdir -p .build/bench
gcc -O2 -Wall -Wextra -o .build/bench/svstatus Tests/bench/status/svstatus.c
gcc -O2 -Wall -Wextra -o .build/bench/spawntime Tests/bench/status/spawntime.c
exec python3 Tests/bench/status_bench.py --superbot "$PWD/.build/release/superbot" \
  --superbot-cli "$PWD/.build/release/superbot-cli" --svstatus "$PWD/.build/bench/svstatus" \
  --spawntime "$PWD/.build/bench/spawntime" "$@"
