#!/usr/bin/env bash
# The web UI vs FastAPI + uvicorn on the same /engines/status JSON, plus SSE fan-out and 500
# engines (Tests/bench/webui_bench.py; README "Web UI vs FastAPI").
#   usage: bash Tests/bench/webui-bench.sh [--reps N] [--seconds S]
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
for product in superbot superbot-cli superbot-log exchange-sim trading-engine webui; do
  swift build -c release --static-swift-stdlib --product "$product" >&2
done
mkdir -p .build/bench
gcc -O2 -Wall -o .build/bench/httpbench Tests/bench/httpbench/httpbench.c
[ -x .build/bench-venv/bin/python ] || python3 -m venv .build/bench-venv
.build/bench-venv/bin/python -c 'import fastapi, uvicorn, uvloop, httptools' 2>/dev/null ||
  .build/bench-venv/bin/pip install -q "fastapi==0.165.0" "uvicorn[standard]==0.54.0"
python3 Tests/bench/webui_bench.py "$@"
