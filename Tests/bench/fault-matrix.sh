#!/usr/bin/env bash
# The fault matrix (Tests/IntegrationTests/FaultMatrixTests.swift) run long: FAULT_SECONDS per
# phase (default 20; `make test` runs 3). Prints orders, unknown outcomes and mismatches per phase;
# fails on any mismatch between the exchange, the journals and the ledgers.
set -euo pipefail
cd "$(dirname "$0")/../.."
swift build --build-tests >&2
out=$(SUPERBOT_FAULT_SECONDS="${FAULT_SECONDS:-20}" swift test --skip-build --filter FaultMatrixTests 2>&1) || {
  echo "$out" >&2
  exit 1
}
echo "# fault matrix: 3 engines against exchange-sim, ${FAULT_SECONDS:-20} s per phase"
grep '^fault matrix:' <<<"$out" | sed 's/^fault matrix: /  /'
