#!/usr/bin/env python3
"""`make bench`: jobcreds serve beside nginx serving the same body from memory, in one run.

Alternates A (jobcreds) and B (nginx) over several rounds at 1, 16, 64 and 256 connections with
wrk, every request carrying the Authorization header, and prints requests/s, p50 and p99 for each,
the ratio jobcreds/nginx per round and its median; then the sidecar's RSS idle and at peak, its
start-up time to /readyz = 200, the upstream calls made during the whole run, and audit lines
written against requests served.
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "IntegrationTests"))

from fake import Fake  # noqa: E402
JOB = "f4f4ff82-2d11-4b3c-9e2d-0123456789ab"


def rss_kib(pid):
    for line in open("/proc/%d/status" % pid):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def own_kib(pid):
    """Memory that is the process's alone: its anonymous pages (heap, stacks, relocated data).
    RSS also counts file pages of the binary and the shared libraries (and a binary just linked
    shows its page-cache pages as dirty until they are written back, so Private_Dirty misleads)."""
    for line in open("/proc/%d/smaps_rollup" % pid):
        if line.startswith("Anonymous:"):
            return int(line.split()[1])
    return 0


def wrk(url, connections, seconds, token):
    threads = str(min(2, connections))
    out = subprocess.run(["wrk", "-t", threads, "-c", str(connections), "-d", "%ds" % seconds, "--latency",
                          "-H", "Authorization: " + token, url], capture_output=True, text=True, check=True).stdout
    def latency(label):
        match = re.search(r"^\s+%s%%\s+([\d.]+)(us|ms|s)\s*$" % label, out, re.M)
        value, unit = float(match.group(1)), match.group(2)
        return value * {"us": 0.001, "ms": 1, "s": 1000}[unit]
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)), "p50": latency("50"),
            "p99": latency("99"), "requests": requests, "non2xx": int(non2xx.group(1)) if non2xx else 0,
            "errors": sum(map(int, errors.groups())) if errors else 0}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", default="1,16,64,256")
    args = parser.parse_args()
    levels = [int(c) for c in args.connections.split(",")]

    # The binary deploy/Dockerfile ships: release, Swift standard library linked in statically.
    jobcreds = subprocess.run(["swift", "build", "-c", "release", "--static-swift-stdlib", "--scratch-path",
                               ".build-static", "--show-bin-path"], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip() + "/jobcreds"
    state = Path(tempfile.mkdtemp(prefix="jobcreds-bench-"))
    processes = []
    try:
        fake = Fake.start(state / "fake", "--job-id", JOB)
        processes.append(fake.process)
        env = {"PATH": os.environ["PATH"], "HOME": str(state), "AWS_EC2_METADATA_DISABLED": "true",
               "AWS_REGION": "us-east-1", "AWS_CA_BUNDLE": fake.ca_bundle, **fake.worker_environment()}
        audit = state / "audit.log"
        started = time.perf_counter()
        sidecar = subprocess.Popen([jobcreds, "serve", "--job-id", JOB, "--endpoint-url", fake.https,
                                    "--listen", "127.0.0.1:0",
                                    "--token-file", str(state / "token"), "--audit-log", str(audit),
                                    "--rate-limit", "0", "--max-connections", "1024",
                                    "--max-connections-per-client", "1024", "--log-level", "warning"], env=env)
        processes.append(sidecar)
        port = None
        while True:
            if port is None and audit.exists():
                found = re.search(rb'"event":"listening","address":"127\.0\.0\.1:(\d+)"', audit.read_bytes())
                port = int(found.group(1)) if found else None
            if port is not None:
                try:
                    with urllib.request.urlopen("http://127.0.0.1:%d/readyz" % port, timeout=1) as r:
                        if r.status == 200:
                            break
                except OSError:
                    pass
            time.sleep(0.001)
        startup_ms = (time.perf_counter() - started) * 1000
        upstream_ms = [json.loads(l)["latency_ms"] for l in audit.read_text().splitlines() if '"upstream"' in l][0]
        token = (state / "token").read_text()
        time.sleep(1)
        idle_rss = rss_kib(sidecar.pid)
        idle_own = own_kib(sidecar.pid)
        request = urllib.request.Request("http://127.0.0.1:%d/v1/credentials" % port, headers={"Authorization": token})
        body = urllib.request.urlopen(request).read().decode()
        calls_before = len(fake.calls())
        audit_before = audit.read_text().count('"path":"/v1/credentials","status":200')

        nginx_port = port + 1 if port < 65000 else port - 1
        (state / "nginx").mkdir()
        conf = state / "nginx" / "nginx.conf"
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
""" % {"dir": state / "nginx", "port": nginx_port, "body": body})
        nginx = subprocess.Popen(["nginx", "-c", str(conf), "-e", str(state / "nginx" / "error.log")])
        processes.append(nginx)
        time.sleep(0.5)

        peak = [idle_rss]
        stop = threading.Event()
        def sample():
            while not stop.is_set():
                peak.append(rss_kib(sidecar.pid))
                time.sleep(0.2)
        sampler = threading.Thread(target=sample)
        sampler.start()

        results = {}  # (level, round) -> (jobcreds, nginx)
        round_peaks = []
        served = 0
        wall = time.time()
        for round_ in range(args.rounds):
            mark = len(peak)
            for level in levels:
                a = wrk("http://127.0.0.1:%d/v1/credentials" % port, level, args.seconds, token)
                b = wrk("http://127.0.0.1:%d/v1/credentials" % nginx_port, level, args.seconds, token)
                served += a["requests"]
                results[(level, round_)] = (a, b)
            round_peaks.append(max(peak[mark:] or [0]))
        duration = time.time() - wall
        stop.set()
        sampler.join()
        time.sleep(0.2)
        audited = audit.read_text().count('"path":"/v1/credentials","status":200') - audit_before
        calls = len(fake.calls()) - calls_before
        refreshes = audit.read_text().count('"event":"refresh"')

        print("\njobcreds serve vs nginx (return 200, same body, access log off, 2 workers), wrk %ds per run, "
              "A B alternating, %d rounds, %d cores" % (args.seconds, args.rounds, os.cpu_count()))
        print("%5s %5s | %10s %8s %8s | %10s %8s %8s | %6s" % ("conns", "round", "jobcreds/s", "p50 ms", "p99 ms",
                                                               "nginx/s", "p50 ms", "p99 ms", "ratio"))
        medians = {}
        for level in levels:
            ratios = []
            for round_ in range(args.rounds):
                a, b = results[(level, round_)]
                ratio = a["rps"] / b["rps"]
                ratios.append(ratio)
                print("%5d %5d | %10.0f %8.3f %8.3f | %10.0f %8.3f %8.3f | %6.2f" % (
                    level, round_ + 1, a["rps"], a["p50"], a["p99"], b["rps"], b["p50"], b["p99"], ratio))
            medians[level] = statistics.median(ratios)
        print("\nmedian ratio jobcreds/nginx: " + ", ".join("%d conns %.2f" % (l, medians[l]) for l in levels))
        p99 = {l: (statistics.median(results[(l, r)][0]["p99"] for r in range(args.rounds)),
                   statistics.median(results[(l, r)][1]["p99"] for r in range(args.rounds))) for l in levels}
        print("median p99 ms jobcreds vs nginx: " + ", ".join("%d conns %.3f vs %.3f" % (l, *p99[l]) for l in levels))
        errors = sum(a["errors"] + a["non2xx"] for a, _ in results.values())
        print("jobcreds RSS: %.1f MiB idle, %.1f MiB peak; peak per round: %s MiB" % (
            idle_rss / 1024, max(peak) / 1024, ", ".join("%.1f" % (p / 1024) for p in round_peaks)))
        print("jobcreds own memory (anonymous pages): %.1f MiB idle, %.1f MiB after the run" % (
            idle_own / 1024, own_kib(sidecar.pid) / 1024))
        print("start-up to /readyz = 200: %.1f ms (of which one upstream round trip: %d ms)" % (startup_ms, upstream_ms))
        print("upstream calls during the run: %d over %.0f s (refresh windows: %d refreshes)" % (calls, duration, refreshes))
        print("audit lines %d vs requests served %d (wrk counts completed responses); errors and non-2xx: %d" % (
            audited, served, errors))
    finally:
        for process in reversed(processes):
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
        shutil.rmtree(state, ignore_errors=True)


if __name__ == "__main__":
    main()
