# Symphony — build, run, test and benchmark. Every target first makes sure the
# Debian packages Symphony links against are installed (apt-get when missing).

SWIFT        ?= swift
APT_PACKAGES := libpcre2-dev libssl-dev libsqlite3-dev pkg-config
TSAN_PATH    := .build-tsan
RELEASE_PATH := .build-release

.PHONY: all deps build run test tsan bench clean

all: build

## deps: install the system libraries (PCRE2, OpenSSL libcrypto, SQLite) when missing.
deps:
	@missing=""; \
	for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "make: installing Debian packages:$$missing"; \
	  SUDO=""; [ "$$(id -u)" -ne 0 ] && SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

## build: debug build of every target.
build: deps
	$(SWIFT) build

## run: build, then run the support-triage rules over the sample tickets with the embedded defaults.
run: build
	$(SWIFT) run --skip-build symphony run --rules rules/support --events samples/tickets.jsonl

## test: the whole test suite.
test: deps
	$(SWIFT) test

## tsan: the whole test suite under ThreadSanitizer (its own build folder).
tsan: deps
	$(SWIFT) test --sanitize=thread --scratch-path $(TSAN_PATH)

## bench: release build, runtime benchmarks; writes .bench/results.json.
bench: deps
	$(SWIFT) build -c release --scratch-path $(RELEASE_PATH) --product symphony-bench
	$(SWIFT) build -c release --scratch-path $(RELEASE_PATH) --product symphony
	@mkdir -p .bench
	$(RELEASE_PATH)/release/symphony-bench --output .bench/results.json

clean:
	rm -rf .build $(TSAN_PATH) $(RELEASE_PATH) .bench
