# SuperBot: `make run` starts the whole system on config/, `make test` runs every test.
.PHONY: build run test bench clean

build:
	swift build -c release --static-swift-stdlib

run:
	./run

test:
	swift build --build-tests
	swift test --skip-build

bench: build
	bash Tests/bench/supervisor-bench.sh
	bash Tests/bench/bus-bench.sh
	bash Tests/bench/trading-bench.sh

clean:
	rm -rf .build .superbot logs
