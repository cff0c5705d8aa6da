#!/usr/bin/env python3
"""A minimal CodePipeline job worker for one custom action type around `jobcreds serve`.

Kept as the comparison `make bench-worker` runs; for jobs, use `jobcreds worker` (README, "Run a
custom action"), which checks the acknowledge's status, runs builds concurrently on uids of their
own, enforces a deadline, drains on SIGTERM, journals and retries its reports.

For each job: PollForJobs -> AcknowledgeJob -> start `jobcreds serve` for the job -> wait until
`jobcreds probe` says ready -> run the build with the two AWS_CONTAINER_* variables and nothing
of the worker's own identity -> PutJobSuccessResult or PutJobFailureResult -> stop jobcreds.

The worker's identity (boto3's default chain) needs PollForJobs, AcknowledgeJob,
PutJobSuccessResult and PutJobFailureResult; jobcreds's needs deploy/iam/worker-policy.json. Run
them as two identities in production; this example hands its own environment to jobcreds for
brevity.

    worker.py --provider MyBuild [--category Build --owner Custom --version 1] [--once] \\
        -- BUILD COMMAND...
"""
import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import boto3


def parse_arguments(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--category", default="Build")
    parser.add_argument("--owner", default="Custom")
    parser.add_argument("--provider", required=True)
    parser.add_argument("--version", default="1")
    parser.add_argument("--jobcreds", default=shutil.which("jobcreds") or "jobcreds", help="the jobcreds binary")
    parser.add_argument("--listen", default="127.0.0.1:9911", help="where each job's jobcreds listens")
    parser.add_argument("--poll-interval", type=float, default=5.0, help="seconds between empty polls")
    parser.add_argument("--once", action="store_true", help="handle one job, then exit (0 if it succeeded)")
    parser.add_argument("--max-polls", type=int, default=0, help="give up after this many empty polls (0: never)")
    parser.add_argument("--pass-env", action="append", default=[],
                        help="also give the build this variable (e.g. a test endpoint); production needs none")
    parser.add_argument("build", nargs=argparse.REMAINDER, help="-- then the build command")
    arguments = parser.parse_args(argv)
    arguments.build = arguments.build[1:] if arguments.build[:1] == ["--"] else arguments.build
    if not arguments.build:
        parser.error("give the build command after --")
    return arguments


class JobCreds:
    """`jobcreds serve` for one job, started and stopped by the worker."""

    def __init__(self, binary, job_id, listen, directory):
        self.binary, self.listen = binary, listen
        self.token_file = directory / "token"
        self.audit_log = directory / "audit.log"
        environment = dict(os.environ, JOBCREDS_JOB_ID=job_id, JOBCREDS_LISTEN=listen,
                           JOBCREDS_TOKEN_FILE=str(self.token_file), JOBCREDS_AUDIT_LOG=str(self.audit_log))
        self.process = subprocess.Popen([binary, "serve"], env=environment)

    def wait_until_ready(self, timeout=60.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("jobcreds exited with %d before it was ready" % self.process.returncode)
            probe = subprocess.run([self.binary, "probe", "--listen", self.listen, "--path", "/readyz"],
                                   capture_output=True, text=True)
            if probe.returncode == 0:
                return
            time.sleep(0.2)
        raise RuntimeError("jobcreds was not ready within %.0f s" % timeout)

    def build_environment(self, passed):
        """All the build gets: the two variables, a PATH and HOME, and what --pass-env names."""
        environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(self.token_file.parent),
                       "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://%s/v1/credentials" % self.listen,
                       "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": str(self.token_file)}
        environment.update({name: os.environ[name] for name in passed if name in os.environ})
        return environment

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def run_job(codepipeline, job, arguments):
    """Acknowledges `job`, builds it beside its own jobcreds, reports; returns True on success."""
    job_id = job["id"]
    codepipeline.acknowledge_job(jobId=job_id, nonce=job["nonce"])
    print("worker: job %s acknowledged" % job_id, flush=True)
    directory = Path(tempfile.mkdtemp(prefix="job-"))
    sidecar = None
    try:
        sidecar = JobCreds(arguments.jobcreds, job_id, arguments.listen, directory)
        sidecar.wait_until_ready()
        build = subprocess.run(arguments.build, env=sidecar.build_environment(arguments.pass_env))
        message = None if build.returncode == 0 else "the build exited with status %d" % build.returncode
    except Exception as error:  # the job must be reported whatever went wrong
        message = "the worker failed: %s" % error
    finally:
        if sidecar is not None:
            sidecar.stop()  # the job's credentials are served no longer than the build runs
        shutil.rmtree(directory, ignore_errors=True)
    if message is None:
        codepipeline.put_job_success_result(
            jobId=job_id, executionDetails={"summary": "build succeeded", "percentComplete": 100})
        print("worker: job %s succeeded" % job_id, flush=True)
        return True
    codepipeline.put_job_failure_result(jobId=job_id, failureDetails={"type": "JobFailed", "message": message})
    print("worker: job %s failed: %s" % (job_id, message), flush=True)
    return False


def main(argv=None):
    arguments = parse_arguments(sys.argv[1:] if argv is None else argv)
    codepipeline = boto3.client("codepipeline")
    action_type = {"category": arguments.category, "owner": arguments.owner, "provider": arguments.provider,
                   "version": arguments.version}
    empty_polls = 0
    while True:
        jobs = codepipeline.poll_for_jobs(actionTypeId=action_type, maxBatchSize=1)["jobs"]
        if not jobs:
            empty_polls += 1
            if arguments.max_polls and empty_polls >= arguments.max_polls:
                print("worker: no job after %d polls" % empty_polls, flush=True)
                return 2
            time.sleep(arguments.poll_interval)
            continue
        empty_polls = 0
        succeeded = run_job(codepipeline, jobs[0], arguments)
        if arguments.once:
            return 0 if succeeded else 1


if __name__ == "__main__":
    sys.exit(main())
