#!/usr/bin/env bash
# The backtester vs backtesting.py (one run: GOOG and 100,000 bars; a sweep, timed on a subset)
# and vectorbt (the whole 1,000-combination sweep), side by side, alternating who goes first,
# 3 rounds, medians (see README "Benchmarks"). Installs the peers from PyPI into .build/bench-venv.
set -euo pipefail
cd "$(dirname "$0")/../.."
venv=.build/bench-venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -c "import backtesting" 2>/dev/null || "$venv/bin/pip" install -q "backtesting==0.6.6"
"$venv/bin/python" -c "import vectorbt" 2>/dev/null || "$venv/bin/pip" install -q "vectorbt==1.2.0" ||
  echo "vectorbt did not install: its column is left out" >&2
swift build -c release --static-swift-stdlib --product backtest >&2
exec "$venv/bin/python" Tests/bench/backtest_bench.py --backtest "$PWD/.build/release/backtest" "$@"
