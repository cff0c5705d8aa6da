"""Shared fixtures: the fake AWS endpoints and the jobcreds binary, both real, on loopback."""
import os
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import fake_aws  # noqa: E402
from behaviour import record  # noqa: E402
from fake import Fake  # noqa: E402

CANARY = fake_aws.CANARY
JOB_ID = "f4f4ff82-2d11-4b3c-9e2d-0123456789ab"
WORKER = fake_aws.WORKER_KEY


def free_port():
    """A loopback port nothing listens on (bound and released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def fake_server():
    server = Fake.start(tempfile.mkdtemp(prefix="fake-aws-"))
    yield server
    server.stop()


@pytest.fixture
def fake(fake_server):
    fake_server.control("/_control/reset", {})
    fake_server.configure(jobs={JOB_ID: {}})
    return fake_server


@pytest.fixture(scope="session")
def jobcreds_bin():
    explicit = os.environ.get("JOBCREDS_BIN")
    if explicit:
        return str(Path(explicit).resolve())  # tests hand it to tools that run elsewhere (systemd-analyze)
    bin_dir = subprocess.run(["swift", "build", "--show-bin-path"], cwd=ROOT, check=True, capture_output=True,
                             text=True).stdout.strip()
    path = Path(bin_dir) / "jobcreds"
    assert path.exists(), "build jobcreds first (make test does)"
    return str(path)


@pytest.fixture
def home(tmp_path):
    """An empty HOME, so no ~/.aws of the machine leaks into a test."""
    directory = tmp_path / "home"
    directory.mkdir()
    return directory


class Run:
    def __init__(self, completed):
        self.code = completed.returncode
        self.out = completed.stdout
        self.err = completed.stderr
        self.all = completed.stdout + completed.stderr
        record("run", {"argv": completed.args[1:], "exit": self.code, "stdout": self.out, "stderr": self.err})

    def __repr__(self):
        return "exit %d\n--- stdout\n%s--- stderr\n%s" % (self.code, self.out, self.err)


@pytest.fixture
def check(jobcreds_bin, fake, home):
    """Runs `jobcreds check` with a clean environment: only what the test gives, plus the fake's CA."""

    def run(*args, env=None, timeout=60, endpoint=True, ca=True):
        environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home),
                       "AWS_EC2_METADATA_DISABLED": "true", "AWS_REGION": "us-east-1"}
        if ca:
            environment["AWS_CA_BUNDLE"] = fake.ca_bundle
        environment.update(env or {})
        argv = [jobcreds_bin, "check", *args]
        if endpoint:
            argv += ["--endpoint-url", fake.https]
        return Run(subprocess.run(argv, env=environment, capture_output=True, text=True, timeout=timeout))

    return run


@pytest.fixture
def worker_env():
    return {"AWS_ACCESS_KEY_ID": WORKER["id"], "AWS_SECRET_ACCESS_KEY": WORKER["secret"]}


@pytest.fixture
def serve(jobcreds_bin, fake, tmp_path):
    """Starts `jobcreds serve` against the fake; every sidecar started is stopped afterwards."""
    from sidecar import Sidecar

    started = []

    def start(*args, env=None, wait_ready=True, token_file=None, job_id=JOB_ID):
        directory = tmp_path / ("sidecar%d" % len(started))
        directory.mkdir()
        sidecar = Sidecar(jobcreds_bin, fake, directory, args=("--job-id", job_id, *args), env=env,
                          wait_ready=wait_ready, token_file=token_file)
        started.append(sidecar)
        return sidecar

    yield start
    for sidecar in started:
        sidecar.stop()
