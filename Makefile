# Thin wrapper around CMake/CTest. Every target installs what it needs first.
#   make build   configure and build into build/ (programs in build/bin/)
#   make test    build, then run every test suite through CTest
#   make demo    a hub, a manager and three participants on loopback (Fashion-MNIST)
#   make bench   the benchmarks under bench/ (results: docs/performance.md)
#   make asan    the tests under AddressSanitizer + UndefinedBehaviorSanitizer (build-asan/)
#   make soak    crash safety with 20 kills and 10 minutes under load (docs/reliability.md)
#   make fuzz    every libFuzzer target for FUZZ_SECONDS (default 30) each, clang (docs/fuzzing.md)
JOBS ?= 2
BUILD ?= build
CMAKE_FLAGS ?=

.PHONY: all deps build test demo bench asan clean format

all: build

deps:
	@scripts/install-deps.sh

$(BUILD)/CMakeCache.txt: | deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j$(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS) --timeout 900

demo: build
	scripts/demo.sh $(BUILD)/bin

.PHONY: soak fuzz
soak: deps $(BUILD)/CMakeCache.txt
	scripts/soak.sh $(BUILD)

FUZZ_SECONDS ?= 30
fuzz:
	@scripts/install-deps.sh fuzz
	CC=clang CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFEDHUB_FUZZ=ON -DFEDHUB_NATIVE=OFF
	cmake --build build-fuzz -j$(JOBS) --target fedhub_fuzzers
	FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz.sh build-fuzz

bench: build
	scripts/bench.sh $(BUILD)/bin

asan: deps
	cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFEDHUB_SANITIZE=ON -DFEDHUB_NATIVE=OFF
	cmake --build build-asan -j$(JOBS)
	cd build-asan && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j$(JOBS) --timeout 1800

format:
	find model datasets training federation messages persistence security hub config actors apps tests bench \
	  -name '*.hpp' -o -name '*.cpp' | xargs clang-format -i

clean:
	rm -rf $(BUILD) build-asan build-fuzz
