# crowdrt: `make demo` runs the main job (crowdrt demo: synthetic data, the demo model in each precision, the
# benchmark table and pictures in out/demo), `make test` installs what is missing, builds and runs every test.
BUILD ?= build
ASAN_BUILD ?= build-asan
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=
# ccache where installed (as scripts/run-fuzzers.sh does): a clone built at the same path again, as CI builds,
# compiles only what changed; the release, ASan and fuzz builds each keep their own entries.
LAUNCHER := $(if $(shell command -v ccache),-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)

.PHONY: all deps build test test-asan fuzz demo bench clean

all: build

deps:
	bash scripts/install-deps.sh

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(LAUNCHER) $(CMAKE_FLAGS) > /dev/null
	cmake --build $(BUILD) -j$(JOBS)

# The unit tests again under AddressSanitizer + UndefinedBehaviorSanitizer: -O1 (as ASan advises) and line tables
# only (-g1: enough for the reports' stack traces), to compile faster than RelWithDebInfo's -O2 -g.
test-asan: deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" \
		-DCROWDRT_SANITIZE=ON -DCROWDRT_WITH_CUDA=OFF $(LAUNCHER) $(CMAKE_FLAGS) > /dev/null
	cmake --build $(ASAN_BUILD) -j$(JOBS) --target unit_tests
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
		ctest -L unit --output-on-failure -j$(JOBS)

# libFuzzer targets for the parsers of untrusted files, run briefly: a smoke run that each target starts and runs
# on its corpus (5 s each keeps `make test` within CI's budget); campaigns run longer: FUZZ_SECONDS=600 make fuzz.
fuzz: deps
	FUZZ_SECONDS=$${FUZZ_SECONDS:-5} bash scripts/run-fuzzers.sh

test: build test-asan fuzz
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS)

demo: build
	$(BUILD)/crowdrt demo --out out/demo --overwrite

bench: build
	bash bench/cpu_vs_ort.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) build-fuzz
