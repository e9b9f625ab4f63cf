#!/usr/bin/env bash
# SuperBot vs supervisord, side by side in one run (see README "Benchmarks").
# Installs supervisord from PyPI into a venv under .build/ and uses the release binaries.
set -euo pipefail
cd "$(dirname "$0")/../.."
venv=.build/bench-venv
if [ ! -x "$venv/bin/supervisord" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "supervisor==4.3.0"
fi
swift build -c release --static-swift-stdlib --product superbot >&2
swift build -c release --static-swift-stdlib --product superbot-cli >&2
swift build -c release --static-swift-stdlib --product superbot-log >&2
exec "$venv/bin/python" Tests/bench/supervisor_bench.py \
  --superbot "$PWD/.build/release/superbot" --superbot-cli "$PWD/.build/release/superbot-cli" \
  --supervisord "$PWD/$venv/bin/supervisord" --supervisorctl "$PWD/$venv/bin/supervisorctl" "$@"
