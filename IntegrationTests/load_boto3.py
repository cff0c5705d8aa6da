"""A load shaped like a real tool: boto3 threads making S3 calls against the fake through a sidecar
started with default flags. botocore asks the sidecar for credentials on almost every call (its
advisory refresh window, 15 minutes, is longer than what the credentials have left), so the sidecar
sees the tool's own request rate; none of it may be throttled.

    python3 IntegrationTests/load_boto3.py [--threads 8] [--calls 5000] [--binary PATH]

Prints calls, errors, the sidecar's answers by status, and credential requests per API call; exits 1
on any error or 429. IntegrationTests/test_load.py runs it small; `make load-boto3` full size.
"""
import argparse
import collections
import concurrent.futures
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from fake import Fake  # noqa: E402
from sidecar import Sidecar  # noqa: E402

JOB_ID = "f4f4ff82-2d11-4b3c-9e2d-0123456789ab"
BUCKET = "codepipeline-us-east-1-artifacts"
KEY = "demo/SourceOutput/src.zip"


def load(binary, threads, calls, state):
    """Runs the load; returns a dict of what it measured."""
    import boto3
    import botocore.config

    fake = Fake.start(state / "fake")
    sidecar = None
    try:
        fake.configure(jobs={JOB_ID: {}})
        (state / "sidecar").mkdir()
        sidecar = Sidecar(binary, fake, state / "sidecar", args=("--job-id", JOB_ID))
        environment = sidecar.client_env()
        saved = dict(os.environ)
        os.environ.clear()
        os.environ.update(environment, HOME=str(state), AWS_CA_BUNDLE=fake.ca_bundle, AWS_DEFAULT_REGION="us-east-1",
                          AWS_EC2_METADATA_DISABLED="true")
        try:
            config = botocore.config.Config(retries={"max_attempts": 1}, max_pool_connections=threads)
            clients = [boto3.session.Session().client("s3", endpoint_url=fake.https, config=config)
                       for _ in range(threads)]
            per_thread = [calls // threads + (1 if index < calls % threads else 0) for index in range(threads)]

            def work(index):
                errors = 0
                for _ in range(per_thread[index]):
                    try:
                        clients[index].get_object(Bucket=BUCKET, Key=KEY)["Body"].read()
                    except Exception:  # noqa: BLE001 (every failure counts, whatever its type)
                        errors += 1
                return errors

            started = time.perf_counter()
            with concurrent.futures.ThreadPoolExecutor(threads) as pool:
                errors = sum(pool.map(work, range(threads)))
            seconds = time.perf_counter() - started
        finally:
            os.environ.clear()
            os.environ.update(saved)
        statuses = collections.Counter(line["status"] for line in sidecar.audit()
                                       if line.get("event") == "request" and line.get("path") == "/v1/credentials")
        signed = [call for call in fake.control("/_control/s3") if call["verdict"] == "ok"]
        return {"threads": threads, "calls": calls, "errors": errors, "seconds": seconds,
                "statuses": dict(statuses), "credential_requests": sum(statuses.values()),
                "s3_ok": len(signed), "per_call": sum(statuses.values()) / max(1, calls)}
    finally:
        if sidecar is not None:
            sidecar.stop()
        fake.stop()


def report(result):
    return "\n".join([
        "boto3 load: %(threads)d threads, %(calls)d S3 GetObject calls in %(seconds).1f s through the sidecar "
        "(default flags)" % result,
        "  errors                 %d" % result["errors"],
        "  S3 calls verified      %d (signed with the served artifact key)" % result["s3_ok"],
        "  credential requests    %d, by status %s" % (result["credential_requests"], result["statuses"]),
        "  per API call           %.2f" % result["per_call"],
    ])


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument("--binary")
    args = parser.parse_args(argv)
    binary = args.binary or str(Path(subprocess.run(["swift", "build", "--show-bin-path"], cwd=HERE.parent,
                                                   check=True, capture_output=True, text=True).stdout.strip())
                                / "jobcreds")
    with tempfile.TemporaryDirectory(prefix="jobcreds-load-") as state:
        result = load(binary, args.threads, args.calls, Path(state))
    print(report(result))
    ok = result["errors"] == 0 and 429 not in result["statuses"] and result["s3_ok"] == args.calls
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
