#!/usr/bin/env bash
# make fuzz: every libFuzzer target for a bounded time (default 60 s each, FUZZ_SECONDS to change),
# from the seed corpora in Tests/fuzz/corpus; prints executions per target and the total, and
# exits non-zero on any crash (its input is kept in Tests/fuzz/crashes/ as a regression case).
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-${FUZZ_SECONDS:-60}}
bin=.build-fuzz/debug/superbot-fuzz
work=.build-fuzz/corpus
mkdir -p Tests/fuzz/crashes "$work"
total=0
failed=0
printf '%-14s %14s %8s\n' target executions crashes
for dir in Tests/fuzz/corpus/*/; do
  target=$(basename "$dir")
  mkdir -p "$work/$target"
  log=$(mktemp)
  status=0
  SUPERBOT_FUZZ_TARGET=$target "$bin" -max_total_time="$seconds" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="Tests/fuzz/crashes/$target-" "$work/$target" "$dir" >"$log" 2>&1 || status=$?
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
  crashes=0
  if [ "$status" -ne 0 ]; then
    crashes=1
    failed=1
    tail -30 "$log"
  fi
  printf '%-14s %14s %8s\n' "$target" "$runs" "$crashes"
  total=$((total + runs))
  rm -f "$log"
done
printf '%-14s %14s\n' total "$total"
exit $failed
