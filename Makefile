# The two commands a newcomer runs: `make demo` (see it work) and `make test`.
.PHONY: demo test lint build deps fuzz sanitize loadtest load-boto3 bench bench-worker bench-artifacts test-big image-check

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

# A 6 GiB sparse file as a ZIP64 multipart artifact (18 GiB of disk; not in make test).
test-big:
	scripts/test-big

# jobcreds artifacts pull/push vs the AWS CLI + Info-ZIP: a 1 GiB tree of 20,000 files, a 1 GiB file.
bench-artifacts:
	scripts/bench-artifacts

# deploy/Dockerfile's runtime stage replayed in a debootstrapped Debian root, then run.
image-check:
	scripts/image-check
