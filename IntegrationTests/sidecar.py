"""Starts `jobcreds serve` for a test and talks to it over loopback."""
import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request

from behaviour import record


def serve_environment(fake, home):
    """What `jobcreds serve` gets in the tests: the fake's endpoint and CA, the worker's keys."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home),
            "AWS_EC2_METADATA_DISABLED": "true", "AWS_REGION": "us-east-1",
            "AWS_CA_BUNDLE": fake.ca_bundle, "JOBCREDS_ENDPOINT_URL": fake.https, **fake.worker_environment()}


class Sidecar:
    """A running `jobcreds serve`, its audit log and its token."""

    def __init__(self, binary, fake, tmp_path, args=(), env=None, wait_ready=True, token_file=None):
        self.audit_path = tmp_path / "audit.log"
        self.token_path = token_file or (tmp_path / "token")
        environment = serve_environment(fake, tmp_path)
        environment.update(env or {})
        self.environment = environment
        argv = [binary, "serve", "--listen", "127.0.0.1:0", "--token-file", str(self.token_path),
                "--audit-log", str(self.audit_path), *args]
        self.process = subprocess.Popen(argv, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True)
        self.stdout = self.stderr = None
        self.port = self._wait_for_port()
        self.base = "http://127.0.0.1:%d" % self.port
        listening = [line for line in self.audit() if line["event"] == "listening"][0]
        self.metrics_port = int(listening["metrics_address"].rsplit(":", 1)[1]) if "metrics_address" in listening \
            else None
        if wait_ready:
            self.wait_until(lambda: self.get("/readyz")[0] == 200, what="ready")

    def _wait_for_port(self):
        deadline = time.time() + 20
        while time.time() < deadline:
            for line in self.audit():
                if line["event"] == "listening":
                    return int(line["address"].rsplit(":", 1)[1])
            if self.process.poll() is not None:
                raise AssertionError("jobcreds serve exited %d: %s" % (self.process.returncode, self.process.stderr.read()))
            time.sleep(0.05)
        raise AssertionError("jobcreds serve did not listen")

    @property
    def token(self):
        return self.token_path.read_text()

    def audit(self):
        if not self.audit_path.exists():
            return []
        return [json.loads(line) for line in self.audit_path.read_text().splitlines() if line.strip()]

    def get(self, path, token=True, method="GET", headers=None):
        request = urllib.request.Request(self.base + path, method=method, headers=dict(headers or {}))
        if token is True:
            request.add_header("Authorization", self.token)
        elif token is not None:
            request.add_header("Authorization", token)
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                answer = response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            answer = error.code, dict(error.headers), error.read()
        record("answer", {"request": [method, path], "status": answer[0], "headers": answer[1],
                          "body": answer[2].decode(errors="replace")})
        return answer

    def get_json(self, path, **kwargs):
        status, headers, body = self.get(path, **kwargs)
        return status, headers, json.loads(body) if body else None

    def scrape(self, path="/metrics", method="GET"):
        """The metrics listener's answer: (status, headers, text)."""
        request = urllib.request.Request("http://127.0.0.1:%d%s" % (self.metrics_port, path), method=method)
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                answer = response.status, dict(response.headers), response.read().decode()
        except urllib.error.HTTPError as error:
            answer = error.code, dict(error.headers), error.read().decode()
        record("scrape", {"request": [method, path], "status": answer[0], "headers": answer[1], "body": answer[2]})
        return answer

    def wait_until(self, condition, timeout=20, what="condition"):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if condition():
                return
            time.sleep(0.05)
        raise AssertionError("timed out waiting for %s; audit:\n%s" % (what, "\n".join(map(str, self.audit()))))

    def client_env(self):
        """What a build container gets: the two variables and nothing else."""
        return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                "AWS_CONTAINER_CREDENTIALS_FULL_URI": self.base + "/v1/credentials",
                "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": str(self.token_path)}

    def stop(self, sig=signal.SIGTERM):
        """Signals the sidecar and waits; keeps what it printed in `stdout` and `stderr`."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
        if self.stdout is None:
            self.stdout, self.stderr = self.process.communicate(timeout=15)
            record("stopped", {"exit": self.process.returncode, "stdout": self.stdout, "audit": self.audit()})
        return self.process.returncode
