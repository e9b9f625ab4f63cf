#!/usr/bin/env bash
# Trading benchmarks (see README "Benchmarks"): exchange-sim requests/s on one core (wrk), engines
# per process at a 1 s cycle and their CPU, cycle latency, and recovery time of one killed engine.
# Uses the release binaries; installs wrk from Debian's packages if it is missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v wrk >/dev/null; then
  apt-get update -qq && apt-get install -y -qq wrk
fi
for p in superbot superbot-cli superbot-log exchange-sim trading-engine; do
  swift build -c release --static-swift-stdlib --product "$p" >&2
done
exec python3 Tests/bench/trading_bench.py --bin "$PWD/.build/release" "$@"
