#!/usr/bin/env bash
# make sanitize: the unit and trading tests (everything but IntegrationTests, which spawn the
# ordinary binaries) under ThreadSanitizer and then AddressSanitizer, each in a build directory
# of its own. Fails on any report. Leak detection is off: XCTest itself leaks at exit, and the
# journal-replay tests abandon engines mid-cycle on purpose to simulate crashes.
set -euo pipefail
cd "$(dirname "$0")/../.."
status=0
for sanitizer in thread address; do
  build=.build-$sanitizer
  swift build --build-tests --sanitize=$sanitizer --build-path "$build" 2>&1 | grep -v "Cannot export local symbol" | tail -1
  log=$(mktemp)
  TSAN_OPTIONS="suppressions=$PWD/Tests/sanitize/tsan.supp halt_on_error=0" ASAN_OPTIONS="detect_leaks=0" \
    swift test --skip-build --build-path "$build" --no-parallel --skip IntegrationTests >"$log" 2>&1 || status=1
  reports=$(grep -c -E "WARNING: ThreadSanitizer|ERROR: AddressSanitizer" "$log" || true)
  summary=$(grep -E "Test run with" "$log" | tail -1)
  echo "$sanitizer: $summary; $reports sanitizer reports"
  if [ "$reports" != 0 ]; then
    status=1
    grep -E -A30 "WARNING: ThreadSanitizer|ERROR: AddressSanitizer" "$log" | head -80
  fi
  rm -f "$log"
done
exit $status
