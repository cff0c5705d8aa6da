"""Starts `jobcreds worker` for a test against the fake, and reads what it left."""
import json
import signal
import subprocess
import time
import uuid
from pathlib import Path

from behaviour import record
from sidecar import serve_environment

def queue(fake, count=1, **options):
    """Queues `count` new jobs of the test provider; returns their ids."""
    ids = [str(uuid.uuid4()) for _ in range(count)]
    fake.configure(jobs={job_id: dict({"queued": True}, **options) for job_id in ids})
    return ids


class Worker:
    """A `jobcreds worker` process, its directories and its audit log."""

    def __init__(self, binary, fake, root, command, args=(), env=None, once=False, artifacts="none"):
        """artifacts: the `--artifacts` flag ("none" unless a test is about staging; None leaves the default)."""
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.work = self.root / "work"
        self.state = self.root / "state"
        self.audit_path = self.root / "audit.log"
        environment = serve_environment(fake, self.root)
        environment.pop("JOBCREDS_ENDPOINT_URL")
        environment.update(env or {})
        self.environment = environment
        self.argv = [binary, "worker", "--provider", "JobCredsTest", "--endpoint-url", fake.https,
                     "--work-dir", str(self.work), "--state-dir", str(self.state), "--audit-log",
                     str(self.audit_path), "--poll-interval", "200ms", *(["--once"] if once else []),
                     *(["--artifacts", artifacts] if artifacts else []), *args, "--",
                     *command]
        self.process = None
        self.stdout = self.stderr = None

    def start(self):
        self.stdout = self.stderr = None
        self.process = subprocess.Popen(self.argv, env=self.environment, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True, start_new_session=True)
        return self

    def wait(self, timeout=60):
        """Waits for the worker to exit; returns its status and keeps what it printed."""
        self.stdout, self.stderr = self.process.communicate(timeout=timeout)
        record("worker", {"argv": self.argv[1:], "exit": self.process.returncode, "stderr": self.stderr[-4000:]})
        return self.process.returncode

    def signal(self, number):
        self.process.send_signal(number)

    def kill(self):
        """kill -9 of the worker alone (its builds, in sessions of their own, live on)."""
        self.process.kill()
        self.process.wait(timeout=10)
        self.stdout, self.stderr = self.process.communicate()

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.wait()

    def audit(self, event=None):
        if not self.audit_path.exists():
            return []
        lines = [json.loads(line) for line in self.audit_path.read_text().splitlines() if line.strip()]
        return [line for line in lines if event is None or line["event"] == event]

    def wait_for(self, condition, timeout=30, what="condition"):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if condition():
                return
            assert self.process.poll() is None or what == "exit", "the worker exited: %s" % (
                self.process.stderr.read() if self.process.stderr else "")
            time.sleep(0.05)
        raise AssertionError("timed out waiting for %s; audit:\n%s" % (what, "\n".join(map(str, self.audit()))))

    def everything_written(self):
        """Every byte the worker wrote: stdout, stderr, the audit log, and every file it left."""
        texts = [self.stdout or "", self.stderr or "", self.audit_path.read_text() if self.audit_path.exists() else ""]
        for directory in (self.work, self.state):
            for path in directory.rglob("*") if directory.exists() else []:
                if path.is_file() and not path.is_symlink():
                    texts.append(path.read_bytes().decode(errors="replace"))
        return "\n".join(texts)


def results(fake):
    return fake.control("/_control/results")


def lifecycle(fake, job_id):
    return [event["event"] for event in fake.control("/_control/lifecycle")[job_id]["history"]]


def reports(fake, job_id):
    return [event for event in fake.control("/_control/lifecycle")[job_id]["history"] if event["event"] == "reported"]


def wait_reported(fake, job_id, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if reports(fake, job_id):
            return reports(fake, job_id)
        time.sleep(0.05)
    raise AssertionError("job %s was never reported: %s" % (job_id, lifecycle(fake, job_id)))

