#!/usr/bin/env python3
"""`make bench`: jobcreds serve beside the minimal libmicrohttpd server in C (the library's own
ceiling on this machine) and nginx, all answering the same body from memory, in one run.

Alternates jobcreds, C and nginx over several rounds at 1, 16, 64 and 256 connections with wrk
(every request carrying the Authorization header and `Connection: close`: since issue 14 jobcreds
answers one request per connection, and the other two are made to as well) and prints requests/s, p50 and p99 for each,
jobcreds / C, C / nginx and jobcreds / nginx per round and their medians. Then: instructions per
request of jobcreds and of the C server (callgrind), the memory of the shipped binary (RSS idle
and at peak, its own anonymous memory, the largest resident files, the binary's size), the idle
cost (CPU time and wake-ups over a minute of nobody calling), what the sidecar adds to an AWS
call (boto3 HeadObject against the fake's S3, static credentials vs the sidecar), start-up time,
upstream calls during the run, and audit lines against requests served.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "IntegrationTests"))
sys.path.insert(0, str(HERE))

from fake import Fake  # noqa: E402
from probes import (aws_call_overhead, c_instructions, idle_cost, jobcreds_instructions, own_kib,  # noqa: E402
                    rss_by_file, rss_kib)
from servers import JOB, CServer, Nginx, Sidecar, build_c_server, wrk  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", default="1,16,64,256")
    parser.add_argument("--idle-seconds", type=int, default=60)
    parser.add_argument("--calls", type=int, default=1000, help="boto3 calls per side for the AWS-call overhead")
    parser.add_argument("--instruction-requests", type=int, default=3000)
    args = parser.parse_args()
    levels = [int(c) for c in args.connections.split(",")]

    # The binary deploy/Dockerfile ships: release, Swift standard library linked in statically.
    jobcreds = subprocess.run(["swift", "build", "-c", "release", "--static-swift-stdlib", "--scratch-path",
                               ".build-static", "--show-bin-path"], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip() + "/jobcreds"
    state = Path(tempfile.mkdtemp(prefix="jobcreds-bench-"))
    stoppable = []
    try:
        c_binary = build_c_server(state)
        fake = Fake.start(state / "fake", "--job-id", JOB)
        stoppable.append(fake)
        sidecar = Sidecar(jobcreds, fake, state)
        stoppable.append(sidecar)
        upstream_ms = [line for line in sidecar.audit.read_text().splitlines() if '"upstream"' in line][0]
        upstream_ms = int(upstream_ms.split('"latency_ms":')[1].split(",")[0])
        time.sleep(1)
        idle_rss, idle_own, idle_files = rss_kib(sidecar.process.pid), own_kib(sidecar.process.pid), \
            rss_by_file(sidecar.process.pid)
        print("== idle for %d s" % args.idle_seconds, flush=True)
        refreshes_before = sidecar.lines('"event":"refresh"')
        idle = idle_cost(sidecar.process.pid, args.idle_seconds)
        idle["refreshes"] = sidecar.lines('"event":"refresh"') - refreshes_before

        body = sidecar.get("/v1/credentials")[1].decode()
        c_port = sidecar.port + 1 if sidecar.port < 65000 else sidecar.port - 1
        nginx_port = sidecar.port + 2 if sidecar.port < 65000 else sidecar.port - 2
        (state / "c").mkdir()
        c_server = CServer(c_binary, body, c_port, state / "c")
        stoppable.append(c_server)
        nginx = Nginx(body, nginx_port, state)
        stoppable.append(nginx)
        # The attribution run: the C server plus one audit-sized write(2) per request, as jobcreds does.
        (state / "c-audit").mkdir()
        c_audit_port = sidecar.port + 3 if sidecar.port < 65000 else sidecar.port - 3
        c_audit = CServer(c_binary, body, c_audit_port, state / "c-audit",
                          options=["audit=%s" % (state / "c-audit" / "audit.log")])
        stoppable.append(c_audit)
        attribution_level = 64 if 64 in levels else levels[-1]
        attribution = []  # per round: (jobcreds, C, C + audit write) requests/s
        calls_before = len(fake.calls())
        audit_before = sidecar.lines('"path":"/v1/credentials","status":200')

        peak = [idle_rss]
        stop = threading.Event()

        def sample():
            while not stop.is_set():
                peak.append(rss_kib(sidecar.process.pid))
                time.sleep(0.2)
        sampler = threading.Thread(target=sample)
        sampler.start()
        results = {}  # (level, round) -> (jobcreds, C, nginx)
        round_peaks = []
        served = 0
        wall = time.time()
        print("== throughput: %d rounds x %s connections x 3 servers x %d s" % (args.rounds, args.connections,
                                                                                 args.seconds), flush=True)
        for round_ in range(args.rounds):
            mark = len(peak)
            for level in levels:
                a = wrk(sidecar.port, level, args.seconds, sidecar.token)
                b = wrk(c_port, level, args.seconds, sidecar.token)
                c = wrk(nginx_port, level, args.seconds, sidecar.token)
                served += a["requests"]
                results[(level, round_)] = (a, b, c)
                if level == attribution_level:
                    attribution.append((a["rps"], b["rps"], wrk(c_audit_port, level, args.seconds, sidecar.token)["rps"]))
            round_peaks.append(max(peak[mark:] or [0]))
        duration = time.time() - wall
        stop.set()
        sampler.join()
        time.sleep(0.2)
        audited = sidecar.lines('"path":"/v1/credentials","status":200') - audit_before
        calls = len(fake.calls()) - calls_before
        refreshes = sidecar.lines('"event":"refresh"')
        after_own = own_kib(sidecar.process.pid)
        nginx.stop()
        c_server.stop()
        c_audit.stop()

        print("== instructions per request (callgrind, %d requests each)" % args.instruction_requests, flush=True)
        jobcreds_ir = jobcreds_instructions(jobcreds, fake, state, args.instruction_requests)
        c_ir = c_instructions(c_binary, body, c_port, state / "c", args.instruction_requests)
        print("== what the sidecar adds to an AWS call (%d boto3 HeadObject calls each way)" % args.calls, flush=True)
        overhead = aws_call_overhead(sidecar, fake, args.calls)

        report(args, levels, results, jobcreds, idle_rss, idle_own, idle_files, peak, round_peaks, after_own, idle,
               jobcreds_ir, c_ir, overhead, sidecar.startup_ms, upstream_ms, calls, duration, refreshes, audited,
               served, attribution_level, attribution)
    finally:
        for process in reversed(stoppable):
            try:
                process.stop()
            except Exception:  # noqa: BLE001 (clean up the rest whatever one did)
                pass
        shutil.rmtree(state, ignore_errors=True)


def report(args, levels, results, jobcreds, idle_rss, idle_own, idle_files, peak, round_peaks, after_own, idle,
           jobcreds_ir, c_ir, overhead, startup_ms, upstream_ms, calls, duration, refreshes, audited, served,
           attribution_level, attribution):
    print("\njobcreds serve (audit log on) vs C libmicrohttpd (jobcreds's daemon settings, no gate, router or audit) "
          "vs nginx (return 200, access log off, 2 workers), same body; wrk %ds per run, A B C alternating, "
          "%d rounds, %d cores" % (args.seconds, args.rounds, os.cpu_count()))
    print("%5s %5s | %9s %7s %7s | %9s %7s %7s | %9s %7s %7s | %6s %6s %6s" % (
        "conns", "round", "jobcreds", "p50 ms", "p99 ms", "C MHD", "p50 ms", "p99 ms", "nginx", "p50 ms", "p99 ms",
        "jc/C", "C/ngx", "jc/ngx"))
    medians = {}
    for level in levels:
        ratios = []
        for round_ in range(args.rounds):
            a, b, c = results[(level, round_)]
            ratio = (a["rps"] / b["rps"], b["rps"] / c["rps"], a["rps"] / c["rps"])
            ratios.append(ratio)
            print("%5d %5d | %9.0f %7.3f %7.3f | %9.0f %7.3f %7.3f | %9.0f %7.3f %7.3f | %6.2f %6.2f %6.2f" % (
                level, round_ + 1, a["rps"], a["p50"], a["p99"], b["rps"], b["p50"], b["p99"], c["rps"], c["p50"],
                c["p99"], *ratio))
        medians[level] = [statistics.median(r[i] for r in ratios) for i in range(3)]
    print("\nmedian ratios: " + "; ".join("%d conns jobcreds/C %.2f, C/nginx %.2f, jobcreds/nginx %.2f" % (
        level, *medians[level]) for level in levels))
    jc, c, c_audit = (statistics.median(r[i] for r in attribution) for i in range(3))
    print("the gap at %d conns, by part (medians): C MHD %.0f/s; C MHD + one audit-sized write(2) per request %.0f/s "
          "(%.2f); jobcreds %.0f/s (%.2f): the audit write is %.0f%% of the gap between C and jobcreds, the rest is "
          "jobcreds's own code" % (attribution_level, c, c_audit, c_audit / c, jc, jc / c,
                                   100 * (c - c_audit) / (c - jc) if c > jc else 0))
    for index, name in ((0, "jobcreds"), (1, "C MHD")):
        p99 = {level: statistics.median(results[(level, r)][index]["p99"] for r in range(args.rounds))
               for level in levels}
        nginx99 = {level: statistics.median(results[(level, r)][2]["p99"] for r in range(args.rounds))
                   for level in levels}
        print("median p99 ms %s vs nginx: " % name + ", ".join(
            "%d conns %.3f vs %.3f" % (level, p99[level], nginx99[level]) for level in levels))
    print("instructions per /v1/credentials request (callgrind, a connection each): jobcreds %.0f, C libmicrohttpd %.0f "
          "(the difference, jobcreds's own: %.0f)" % (jobcreds_ir, c_ir, jobcreds_ir - c_ir))
    stripped = Path(tempfile.mkdtemp()) / "jobcreds"
    subprocess.run(["strip", "--strip-all", "-o", str(stripped), jobcreds], check=True)
    print("shipped binary: %.1f MiB (%.1f MiB stripped of symbols)" % (
        os.path.getsize(jobcreds) / 2**20, os.path.getsize(stripped) / 2**20))
    shutil.rmtree(stripped.parent, ignore_errors=True)
    print("jobcreds RSS: %.1f MiB idle, %.1f MiB peak; peak per round: %s MiB" % (
        idle_rss / 1024, max(peak) / 1024, ", ".join("%.1f" % (p / 1024) for p in round_peaks)))
    print("jobcreds own memory (anonymous pages): %.1f MiB idle, %.1f MiB after the run" % (
        idle_own / 1024, after_own / 1024))
    print("resident when idle, by file: " + ", ".join("%s %.1f" % (name, kib / 1024) for name, kib in idle_files)
          + " MiB")
    print("idle for %d s: %.0f ms of CPU, %.2f wake-ups/s over %d threads (%.2f per thread; busiest: %s); "
          "refreshes in the window: %d" % (
              args.idle_seconds, idle["cpu_ms"], idle["wakeups"], idle["threads"],
              idle["wakeups"] / idle["threads"], ", ".join("%s %.2f/s" % t for t in idle["busiest"]),
              idle["refreshes"]))
    static, through = overhead["static"], overhead["sidecar"]
    print("boto3 HeadObject against the fake's S3: static credentials p50 %.2f ms p99 %.2f ms; through the sidecar "
          "p50 %.2f ms p99 %.2f ms; added p50 %.2f ms, p99 %.2f ms; credential requests per call %.2f" % (
              static["p50"], static["p99"], through["p50"], through["p99"], through["p50"] - static["p50"],
              through["p99"] - static["p99"], through["per_call"]))
    print("start-up to /readyz = 200: %.1f ms (of which one upstream round trip: %d ms)" % (startup_ms, upstream_ms))
    print("upstream calls during the run: %d over %.0f s (refresh windows: %d refreshes)" % (calls, duration, refreshes))
    errors = sum(a["errors"] for a, _, _ in results.values())
    print("audit lines %d vs requests served %d (wrk counts completed responses); errors and non-2xx: %d" % (
        audited, served, errors))


if __name__ == "__main__":
    main()
