# The two commands a newcomer runs: `make demo` (see it work) and `make test`.
.PHONY: demo test lint build deps fuzz sanitize loadtest load-boto3 bench bench-worker image-check

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

# Longer checks, outside the test command.
fuzz:
	scripts/fuzz 300

sanitize:
	scripts/sanitize

loadtest:
	scripts/loadtest

# boto3 threads through a sidecar with default flags: never throttled (5,000 calls).
load-boto3:
	scripts/load-boto3

bench:
	scripts/bench

# jobcreds worker against the fake: jobs/s, latencies, the example worker, the idle cost.
bench-worker:
	scripts/bench-worker

# deploy/Dockerfile's runtime stage replayed in a debootstrapped Debian root, then run.
image-check:
	scripts/image-check
