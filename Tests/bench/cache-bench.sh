#!/usr/bin/env bash
# cache.get through the daemon (memory backend, and Redis backend) vs GET on Redis itself, from
# the same kind of client over Unix sockets (Tests/bench/cache_bench.py; README "Shared cache").
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v redis-server >/dev/null; then
  apt-get update -qq && apt-get install -y -qq redis-server >/dev/null
fi
swift build -c release --static-swift-stdlib --product superbot >&2
mkdir -p .build/bench
run=$(mktemp -d "$PWD/.build/bench/cache-XXXXXX")
kinds="memory redis"
infrastructure() { printf 'infrastructure:\n  cache: {backend: %s}\n  redis: {url: "unix://%s"}\n' "$1" "$run/redis.sock"; }
source Tests/bench/redis-daemons.sh
python3 Tests/bench/cache_bench.py "$run/memory/.superbot/superbot.sock" "$run/redis/.superbot/superbot.sock" "$run/redis.sock" "$@"
