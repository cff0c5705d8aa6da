"""The one way Python starts the fake AWS (fake_aws.py) and talks to it: the integration tests'
fixtures, `make bench` and `make image-check` all use `Fake.start`; and the fake Kubernetes API
server (fake_kube.py), `FakeKube.start`."""
import json
import ssl
import subprocess
import sys
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent


class Fake:
    """A running fake_aws.py: where it listens, the CA to trust, the worker key it knows, and its
    control API."""

    def __init__(self, info, process):
        self.https = "https://127.0.0.1:%d" % info["https_port"]
        self.http = "http://127.0.0.1:%d" % info["http_port"]
        self.ca_bundle = info["ca_bundle"]
        self.worker = info["worker"]
        self.process = process

    @classmethod
    def start(cls, state, *args):
        """Starts fake_aws.py with its state in `state`; it runs until `stop` closes its stdin."""
        process = subprocess.Popen(
            [sys.executable, str(HERE / "fake_aws.py"), "--state-dir", str(state), "--exit-on-stdin-eof", *args],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        return cls(json.loads(process.stdout.readline()), process)

    def stop(self):
        self.process.stdin.close()
        self.process.wait(timeout=10)

    def worker_environment(self):
        """The worker identity the fake knows, as the environment provider reads it."""
        return {"AWS_ACCESS_KEY_ID": self.worker["id"], "AWS_SECRET_ACCESS_KEY": self.worker["secret"]}

    def control(self, path, payload=None):
        data = None if payload is None else json.dumps(payload).encode()
        request = urllib.request.Request(self.http + path, data=data, method="GET" if data is None else "POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def configure(self, **settings):
        return self.control("/_control/configure", settings)

    def calls(self):
        return self.control("/_control/calls")


class FakeKube:
    """A running fake_kube.py, the fake Kubernetes API server: where it listens, the CA to trust,
    its control API, and a kubeconfig for a token."""

    def __init__(self, info, process, state):
        self.url = "https://127.0.0.1:%d" % info["port"]
        self.ca_bundle = info["ca_bundle"]
        self.process = process
        self.state = Path(state)

    @classmethod
    def start(cls, state):
        process = subprocess.Popen(
            [sys.executable, str(HERE / "fake_kube.py"), "--state-dir", str(state), "--exit-on-stdin-eof"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        return cls(json.loads(process.stdout.readline()), process, state)

    def stop(self):
        self.process.stdin.close()
        self.process.wait(timeout=10)

    def control(self, path, payload=None):
        data = None if payload is None else json.dumps(payload).encode()
        request = urllib.request.Request(self.url + path, data=data, method="GET" if data is None else "POST")
        context = ssl.create_default_context(cafile=self.ca_bundle)
        with urllib.request.urlopen(request, timeout=10, context=context) as response:
            return json.loads(response.read())

    def kubeconfig(self, token, name="kubeconfig"):
        """A kubeconfig (JSON, which is YAML) for this server and `token`; its path."""
        path = self.state / name
        path.write_text(json.dumps({
            "apiVersion": "v1", "kind": "Config", "current-context": "fake",
            "clusters": [{"name": "fake", "cluster": {"server": self.url, "certificate-authority": self.ca_bundle}}],
            "users": [{"name": "user", "user": {"token": token}}],
            "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "user", "namespace": "builds"}}]}))
        return path
