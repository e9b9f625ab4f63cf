#!/usr/bin/env bash
# Scheduler benchmarks (see README "Benchmarks"): next() evaluations per second against croniter
# (PyPI, in .build/test-venv), and the daemon's idle CPU with 1,000 scheduled jobs against none.
# Uses the release binaries.
set -euo pipefail
cd "$(dirname "$0")/../.."
make -s test-deps
for p in superbot superbot-cli superbot-log superbot-fixture; do
  swift build -c release --static-swift-stdlib --product "$p" >&2
done
exec .build/test-venv/bin/python Tests/bench/schedule_bench.py --bin "$PWD/.build/release" "$@"
