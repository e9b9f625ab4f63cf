# SuperBot: `make run` starts the whole system on config/, `make test` runs every test.
.PHONY: build run test test-deps test-unit test-integration lint format bench fuzz sanitize chaos clean

build:
	swift build -c release --static-swift-stdlib

run:
	./run

# One test at a time: tests that block on sockets would otherwise starve the cooperative pool
# (2 threads here) that the async engine tests time their heartbeats on.
test: test-deps
	swift build --build-tests
	swift test --skip-build --no-parallel
	.build/test-venv/bin/python Tests/browser/dashboard_test.py --bin .build/debug --screenshot .build/dashboard.png
	python3 Tests/chaos/chaos.py --bin .build/debug --seconds 60

# What tests use besides the toolchain (PyPI, in .build/test-venv): croniter for the scheduler's
# differential test, backtesting.py for the backtester's trade-by-trade comparison, prometheus-client
# to parse /metrics and Selenium to drive Chromium (chromium and chromium-driver come from Debian,
# installed by .ci/run) through the dashboard.
test-deps: .build/test-venv/.croniter .build/test-venv/.backtesting .build/test-venv/.webui

.build/test-venv/.croniter:
	python3 -m venv .build/test-venv
	.build/test-venv/bin/pip install -q "croniter==6.2.4"
	touch $@

.build/test-venv/.backtesting: .build/test-venv/.croniter
	.build/test-venv/bin/pip install -q "backtesting==0.6.6"
	touch $@

.build/test-venv/.webui: .build/test-venv/.croniter
	.build/test-venv/bin/pip install -q "prometheus-client==0.26.0" "selenium==4.51.0"
	touch $@

# Tests that drive libraries in-process (no daemon, no spawned binaries).
test-unit:
	swift build --build-tests
	swift test --skip-build --no-parallel --skip IntegrationTests

# Tests that spawn the real binaries (daemon, CLI, exchange-sim, trading-engine, fixtures).
test-integration:
	swift build --build-tests
	swift test --skip-build --no-parallel --filter IntegrationTests

lint:
	swift format lint --strict -r Sources Tests Package.swift

format:
	swift format -i -r Sources Tests Package.swift

# libFuzzer on our parsers (YAML, JSON, JSON-RPC framing, HTTP both ways, OHLCV CSV, cron, TZif):
# FUZZ_SECONDS per target (default 60), from Tests/fuzz/corpus; crashes are kept in Tests/fuzz/crashes.
fuzz:
	swift build --build-path .build-fuzz --product superbot-fuzz \
		-Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING -Xswiftc -parse-as-library
	bash Tests/fuzz/run.sh $(FUZZ_SECONDS)

# Random SIGKILL/SIGSTOP of modules, grandchildren and the daemon (CHAOS_SECONDS, default 600);
# fails on any orphan, duplicate or unrecovered kill. A 60 s run is part of `make test`.
CHAOS_SECONDS ?= 600
chaos:
	swift build
	python3 Tests/chaos/chaos.py --bin .build/debug --seconds $(CHAOS_SECONDS)

# The unit and trading tests under ThreadSanitizer and AddressSanitizer (Tests/sanitize/run.sh).
sanitize:
	bash Tests/sanitize/run.sh

bench: build
	bash Tests/bench/supervisor-bench.sh
	bash Tests/bench/status-bench.sh
	bash Tests/bench/watchdog-bench.sh
	bash Tests/bench/bus-bench.sh
	bash Tests/bench/bridge-bench.sh
	bash Tests/bench/cache-bench.sh
	bash Tests/bench/trading-bench.sh
	bash Tests/bench/backtest-bench.sh
	bash Tests/bench/webui-bench.sh
	bash Tests/bench/schedule-bench.sh
	bash Tests/bench/fault-matrix.sh

clean:
	rm -rf .build .build-fuzz .build-thread .build-address .superbot logs
