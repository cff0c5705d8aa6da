# The two commands a newcomer runs: `make demo` (see it work) and `make test`.
.PHONY: demo test lint build deps

demo:
	scripts/demo

test:
	scripts/test

lint:
	scripts/lint

build:
	swift build

deps:
	scripts/install-deps
