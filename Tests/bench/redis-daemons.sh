# Sourced by the benchmarks that compare daemon backends against one redis-server: starts it on a
# Unix socket under $run and one release daemon per name in $kinds, each with its own
# config/infrastructure.yaml written by `infrastructure KIND` (a function the caller defines);
# stops everything on exit. The caller sets `run` and `kinds` and has built .build/release/superbot.
redis-server --port 0 --unixsocket "$run/redis.sock" --save '' --appendonly no --daemonize yes --pidfile "$run/redis.pid" >/dev/null
for kind in $kinds; do
  mkdir -p "$run/$kind/config"
  printf 'daemon:\n  modules: {}\n  logging: {level: warning}\n  ipc: {max_connections: 64}\n' > "$run/$kind/config/daemon.yaml"
  infrastructure "$kind" > "$run/$kind/config/infrastructure.yaml"
  (cd "$run/$kind" && exec "$OLDPWD/.build/release/superbot" --config config >/dev/null 2>&1) &
done
cleanup() {
  kill "$(cat "$run/redis.pid" 2>/dev/null)" 2>/dev/null || true
  for kind in $kinds; do kill "$(head -1 "$run/$kind/.superbot/daemon.pid" 2>/dev/null)" 2>/dev/null || true; done
}
trap cleanup EXIT
for _ in $(seq 100); do
  ready=1
  for kind in $kinds; do [ -S "$run/$kind/.superbot/superbot.sock" ] || ready=0; done
  [ "$ready" = 1 ] && [ -f "$run/redis.pid" ] && break
  sleep 0.1
done
