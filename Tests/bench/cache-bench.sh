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
redis-server --port 0 --unixsocket "$run/redis.sock" --save '' --appendonly no --daemonize yes --pidfile "$run/redis.pid" >/dev/null
for kind in memory redis; do
  mkdir -p "$run/$kind/config"
  printf 'daemon:\n  modules: {}\n  logging: {level: warning}\n' > "$run/$kind/config/daemon.yaml"
  printf 'infrastructure:\n  cache: {backend: %s}\n  redis: {url: "unix://%s"}\n' "$kind" "$run/redis.sock" \
    > "$run/$kind/config/infrastructure.yaml"
  (cd "$run/$kind" && exec "$OLDPWD/.build/release/superbot" --config config >/dev/null 2>&1) &
done
cleanup() {
  kill "$(cat "$run/redis.pid" 2>/dev/null)" 2>/dev/null || true
  for kind in memory redis; do kill "$(head -1 "$run/$kind/.superbot/daemon.pid" 2>/dev/null)" 2>/dev/null || true; done
}
trap cleanup EXIT
for _ in $(seq 100); do
  [ -S "$run/memory/.superbot/superbot.sock" ] && [ -S "$run/redis/.superbot/superbot.sock" ] && [ -f "$run/redis.pid" ] && break
  sleep 0.1
done
python3 Tests/bench/cache_bench.py "$run/memory/.superbot/superbot.sock" "$run/redis/.superbot/superbot.sock" "$run/redis.sock" "$@"
