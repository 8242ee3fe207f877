# Symphony — build, run, test and benchmark. Every target first makes sure the
# Debian packages Symphony links against are installed (apt-get when missing).

SWIFT        ?= swift
APT_PACKAGES := libpcre2-dev libssl-dev libsqlite3-dev libcurl4-openssl-dev libstemmer-dev libpq-dev libjemalloc-dev pkg-config
# The test suite also runs docs/examples' independent Python opener of the envelope format, and
# the PostgreSQL store's tests against a throwaway cluster (postgresql's initdb and pg_ctl).
TEST_PACKAGES := python3-cryptography postgresql
# The benchmarks' held-out-shape workload measures its floor with pcre2grep; wrk loads `symphony serve`.
BENCH_PACKAGES := pcre2-utils wrk
TSAN_PATH    := .build-tsan
RELEASE_PATH := .build-release

FUZZ_PATH    := .build-fuzz
FUZZ_SECONDS ?= 30

.PHONY: all deps test-deps build run test tsan bench bench-10m fuzz man cli-reference clean

all: build

# apt-get installs those of the packages in $(1) that are missing.
define install-missing
	@missing=""; \
	for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "make: installing Debian packages:$$missing"; \
	  SUDO=""; [ "$$(id -u)" -ne 0 ] && SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi
endef

# with-postgres runs $(1) with SYMPHONY_TEST_POSTGRES set to the URL of a throwaway PostgreSQL
# cluster on a loopback port in a temporary directory, and stops the cluster afterwards.
# ($(1) must hold no single quote and no comma.)
define with-postgres
	@echo 'SYMPHONY_TEST_POSTGRES=<throwaway cluster> $(1)'
	@dir=$$(mktemp -d /tmp/symphony-pg.XXXXXX); \
	trap 'scripts/postgres-test-cluster stop "'"$$dir"'"' EXIT; \
	trap 'exit 130' INT; trap 'exit 143' TERM; \
	scripts/postgres-test-cluster start "$$dir" || exit 1; \
	SYMPHONY_TEST_POSTGRES=$$(cat "$$dir/url") sh -c '$(1)'
endef

## deps: install the system libraries (PCRE2, OpenSSL libcrypto, SQLite, libcurl, libstemmer, libpq, jemalloc) when missing.
deps:
	$(call install-missing,$(APT_PACKAGES))

## test-deps: deps, plus what the tests use (python3-cryptography, postgresql).
test-deps:
	$(call install-missing,$(APT_PACKAGES) $(TEST_PACKAGES))

## build: debug build of every target.
build: deps
	$(SWIFT) build

## run: build, then run the support-triage rules over the sample tickets with the embedded defaults.
run: build
	$(SWIFT) run --skip-build symphony run --rules rules/support --events samples/tickets.jsonl

## test: the whole test suite (the PostgreSQL tests against a throwaway cluster), then the shipped rule sets' own tests (rules/*/*.test.yaml).
test: test-deps
	$(SWIFT) build --build-tests
	$(call with-postgres,$(SWIFT) test --skip-build)
	$(SWIFT) run --skip-build symphony test rules

## tsan: the whole test suite under ThreadSanitizer (its own build folder).
# Under TSan everything runs several times slower, and a Swift Testing time limit also counts the
# time a test waits for one of the threads tests run on (as many as cores), which tests waiting for
# child processes hold: the time limits are 12 minutes, long above a test's own run, and the doc
# examples wait for their commands off those threads. The Swift 6.3 runtime has also been seen to
# hang under TSan (threads waiting forever in swift::threading_impl::once_slow while instantiating
# generic metadata, seen with gdb), so the run gets a time limit, and a run that failed or hung is
# run once more: a real race or failure fails both runs. The cluster test's nodes run 9,000 events,
# not 200,000, under ThreadSanitizer's slowdown. (The pkill pattern is bracketed so that it does
# not match the command line of the shell running it: '.build-tsan/.*xctest' written plainly killed make itself.)
TSAN_LIMIT := 720
tsan: test-deps
	$(SWIFT) build --build-tests --sanitize=thread --scratch-path $(TSAN_PATH)
	$(call with-postgres,export SYMPHONY_CLUSTER_TEST_EVENTS=3000; timeout -k 10 $(TSAN_LIMIT) $(SWIFT) test --skip-build --sanitize=thread --scratch-path $(TSAN_PATH) || { \
	  pkill -9 -f "[.]build-tsan/.*[.]xctest" || true; \
	  echo "make tsan: the ThreadSanitizer run failed or hung (limit $(TSAN_LIMIT) s); running it once more"; \
	  timeout -k 10 $(TSAN_LIMIT) $(SWIFT) test --skip-build --sanitize=thread --scratch-path $(TSAN_PATH); })

## bench: release build, runtime benchmarks (the cluster ones against a throwaway PostgreSQL); writes .bench/results.json.
bench: deps
	$(call install-missing,$(BENCH_PACKAGES) postgresql)
	$(SWIFT) build -c release --scratch-path $(RELEASE_PATH) --product symphony-bench
	$(SWIFT) build -c release --scratch-path $(RELEASE_PATH) --product symphony
	@mkdir -p .bench
	$(call with-postgres,$(RELEASE_PATH)/release/symphony-bench --output .bench/results.json)

## bench-10m: the 10,000,000-event workload run (peak memory; several minutes, ~8 GB of disk in .bench while it runs).
bench-10m: deps
	$(SWIFT) build -c release --scratch-path $(RELEASE_PATH) --product symphony-bench
	$(SWIFT) build -c release --scratch-path $(RELEASE_PATH) --product symphony
	@mkdir -p .bench
	$(RELEASE_PATH)/release/symphony-bench --only workload-10m --output .bench/results-10m.json

## fuzz: libFuzzer over the event decoder and the rule loader (FUZZ_SECONDS each, default 30).
fuzz: deps
	$(SWIFT) build --sanitize=fuzzer -Xswiftc -DFUZZING --scratch-path $(FUZZ_PATH) --product symphony-fuzz-events
	$(SWIFT) build --sanitize=fuzzer -Xswiftc -DFUZZING --scratch-path $(FUZZ_PATH) --product symphony-fuzz-rules
	@mkdir -p .bench/fuzz-corpus/events .bench/fuzz-corpus/rules .bench/fuzz-artifacts
	@cp rules/*/*.yaml .bench/fuzz-corpus/rules/ 2>/dev/null || true
	SWIFT_BACKTRACE=enable=no $(FUZZ_PATH)/debug/symphony-fuzz-events -max_total_time=$(FUZZ_SECONDS) -max_len=4096 -artifact_prefix=.bench/fuzz-artifacts/ .bench/fuzz-corpus/events
	SWIFT_BACKTRACE=enable=no $(FUZZ_PATH)/debug/symphony-fuzz-rules -max_total_time=$(FUZZ_SECONDS) -max_len=8192 -timeout=10 -artifact_prefix=.bench/fuzz-artifacts/ .bench/fuzz-corpus/rules

## man: man pages generated from --help: symphony.1 and one page per command, in .build/man (a release build: minutes).
man: deps
	$(SWIFT) package --allow-writing-to-package-directory generate-manual --multi-page
	@mkdir -p .build/man && cp .build/plugins/GenerateManual/outputs/symphony/*.1 .build/man/
	@echo "make man: wrote .build/man/symphony.1 and its command pages; read one with: man .build/man/symphony.1"

## cli-reference: rewrite docs/reference/cli.md from every command's --help (a test fails when it drifts).
cli-reference: deps
	$(SWIFT) build --build-tests
	SYMPHONY_WRITE_CLI_REFERENCE=1 $(SWIFT) test --skip-build --filter CLIReferenceTests

clean:
	rm -rf .build $(TSAN_PATH) $(RELEASE_PATH) $(FUZZ_PATH) .bench
