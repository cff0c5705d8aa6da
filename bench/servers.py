"""The contestants of `make bench` and the load generator: jobcreds serve against the fake, the
minimal libmicrohttpd server in C (bench/mhd-minimal.c) and nginx, all answering the same body."""
import os
import re
import subprocess
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
JOB = "f4f4ff82-2d11-4b3c-9e2d-0123456789ab"


class Sidecar:
    """`jobcreds serve` with the bench's flags: audit log to a file, no rate limit, room for 256+
    connections. `wrapper` runs it under another program (valgrind)."""

    def __init__(self, binary, fake, state, wrapper=(), name="sidecar"):
        self.state = state / name
        self.state.mkdir()
        self.audit = self.state / "audit.log"
        env = {"PATH": os.environ["PATH"], "HOME": str(self.state), "AWS_EC2_METADATA_DISABLED": "true",
               "AWS_REGION": "us-east-1", "AWS_CA_BUNDLE": fake.ca_bundle, **fake.worker_environment()}
        started = time.perf_counter()
        self.process = subprocess.Popen([*wrapper, binary, "serve", "--job-id", JOB, "--endpoint-url", fake.https,
                                         "--listen", "127.0.0.1:0", "--token-file", str(self.state / "token"),
                                         "--audit-log", str(self.audit), "--rate-limit", "0",
                                         "--max-connections", "1024", "--max-connections-per-client", "1024",
                                         "--log-level", "warning"], env=env)
        self.port = None
        deadline = time.time() + (300 if wrapper else 30)
        while time.time() < deadline:
            if self.port is None and self.audit.exists():
                found = re.search(rb'"event":"listening","address":"127\.0\.0\.1:(\d+)"', self.audit.read_bytes())
                self.port = int(found.group(1)) if found else None
            if self.port is not None and self.get("/readyz", token=False)[0] == 200:
                break
            time.sleep(0.001)
        else:
            raise RuntimeError("jobcreds serve did not get ready")
        self.startup_ms = (time.perf_counter() - started) * 1000
        self.token = (self.state / "token").read_text()

    def get(self, path, token=True):
        headers = {"Authorization": self.token} if token else {}
        try:
            with urllib.request.urlopen(urllib.request.Request("http://127.0.0.1:%d%s" % (self.port, path),
                                                               headers=headers), timeout=2) as response:
                return response.status, response.read()
        except OSError:
            return 0, b""

    def lines(self, needle):
        return self.audit.read_bytes().count(needle.encode())

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)


def build_c_server(state):
    """Compiles bench/mhd-minimal.c against the system libmicrohttpd."""
    binary = state / "mhd-minimal"
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "libmicrohttpd"], capture_output=True, text=True,
                           check=True).stdout.split()
    subprocess.run(["cc", "-O2", "-Wall", "-Wextra", "-Werror", "-o", str(binary),
                    str(ROOT / "bench" / "mhd-minimal.c"), *flags], check=True)
    return binary


class CServer:
    """The minimal libmicrohttpd server, with jobcreds's daemon settings unless `options` say more."""

    def __init__(self, binary, body, port, state, options=(), wrapper=()):
        (state / "body").write_text(body)
        self.port = port
        self.process = subprocess.Popen([*wrapper, str(binary), str(port), str(state / "body"), *options])
        deadline = time.time() + (120 if wrapper else 10)
        while time.time() < deadline:
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d/v1/credentials" % port, timeout=1):
                    return
            except OSError:
                time.sleep(0.01)
        raise RuntimeError("the C server did not start")

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)


class Nginx:
    """nginx answering the same body from memory: 2 workers, access log off."""

    def __init__(self, body, port, state):
        directory = state / "nginx"
        directory.mkdir()
        conf = directory / "nginx.conf"
        conf.write_text("""
worker_processes 2;
daemon off;
pid %(dir)s/nginx.pid;
error_log %(dir)s/error.log warn;
events { worker_connections 2048; }
http {
    access_log off;
    client_body_temp_path %(dir)s; proxy_temp_path %(dir)s; fastcgi_temp_path %(dir)s;
    uwsgi_temp_path %(dir)s; scgi_temp_path %(dir)s;
    server {
        listen 127.0.0.1:%(port)d;
        location = /v1/credentials {
            default_type application/json;
            add_header Cache-Control no-store;
            return 200 '%(body)s';
        }
    }
}
""" % {"dir": directory, "port": port, "body": body})
        self.port = port
        self.process = subprocess.Popen(["nginx", "-c", str(conf), "-e", str(directory / "error.log")])
        time.sleep(0.5)

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)


def wrk(port, connections, seconds, token):
    """One wrk run against /v1/credentials: requests/s, p50 and p99 (ms), requests, errors. Every
    request asks for `Connection: close`: jobcreds answers one request per connection (issue 14),
    so the C server and nginx are made to do the same, and each request costs a connection."""
    threads = str(min(2, connections))
    out = subprocess.run(["wrk", "-t", threads, "-c", str(connections), "-d", "%ds" % seconds, "--latency",
                          "-H", "Authorization: " + token, "-H", "Connection: close",
                          "http://127.0.0.1:%d/v1/credentials" % port],
                         capture_output=True, text=True, check=True).stdout

    def latency(label):
        match = re.search(r"^\s+%s%%\s+([\d.]+)(us|ms|s)\s*$" % label, out, re.M)
        value, unit = float(match.group(1)), match.group(2)
        return value * {"us": 0.001, "ms": 1, "s": 1000}[unit]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)), "p50": latency("50"),
            "p99": latency("99"), "requests": int(re.search(r"(\d+) requests in", out).group(1)),
            "errors": (int(non2xx.group(1)) if non2xx else 0) + (sum(map(int, errors.groups())) if errors else 0)}
