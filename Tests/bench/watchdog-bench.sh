#!/usr/bin/env bash
# The daemon's watchdog pass vs psutil over the same 200 and 1000 modules (see README "Benchmarks").
# Installs psutil from PyPI into the bench venv under .build/ and uses the release binaries.
set -euo pipefail
cd "$(dirname "$0")/../.."
venv=.build/bench-venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -c "import psutil" 2>/dev/null || "$venv/bin/pip" install -q "psutil==7.2.2"
for p in superbot superbot-cli superbot-log; do
  swift build -c release --static-swift-stdlib --product "$p" >&2
done
exec "$venv/bin/python" Tests/bench/watchdog_bench.py \
  --superbot "$PWD/.build/release/superbot" --superbot-cli "$PWD/.build/release/superbot-cli" "$@"
