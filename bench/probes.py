"""What `make bench` measures besides throughput: instructions per request (callgrind), memory,
the idle cost, and what the sidecar adds to an AWS call made by boto3."""
import http.client
import json
import os
import re
import shutil
import statistics
import subprocess
import time

from servers import CServer, Sidecar


def rss_kib(pid):
    for line in open("/proc/%d/status" % pid):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def own_kib(pid):
    """Memory that is the process's alone: its anonymous pages (heap, stacks, relocated data).
    RSS also counts file pages of the binary and the shared libraries."""
    for line in open("/proc/%d/smaps_rollup" % pid):
        if line.startswith("Anonymous:"):
            return int(line.split()[1])
    return 0


def rss_by_file(pid, top=8):
    """Resident KiB per mapped file (anonymous memory as one entry), largest first."""
    sizes = {}
    current = None
    for line in open("/proc/%d/smaps" % pid):
        fields = line.split()
        if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
            current = os.path.basename(fields[5]) if len(fields) > 5 and fields[5].startswith("/") else "[anonymous]"
        elif fields[0] == "Rss:":
            sizes[current] = sizes.get(current, 0) + int(fields[1])
    return sorted(sizes.items(), key=lambda item: -item[1])[:top]


def burst(port, token, count):
    """`count` requests, each on its own connection (`Connection: close`; http.client reconnects)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for _ in range(count):
        connection.request("GET", "/v1/credentials", headers={"Authorization": token, "Connection": "close"})
        response = connection.getresponse()
        response.read()
        assert response.status == 200, response.status
    connection.close()


def callgrind_total(dump):
    text = subprocess.run(["callgrind_annotate", str(dump)], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"([\d,]+) \(100\.0%\) +PROGRAM TOTALS", text).group(1).replace(",", ""))


def instructions(start, port_of, token_of, state, name, count):
    """Instructions per /v1/credentials request (a connection each) of a server started by `start(wrapper)`
    under callgrind: instrumentation switched on after a warm-up, then `count` requests."""
    out = state / ("%s.callgrind" % name)
    server = start(("valgrind", "--tool=callgrind", "--instr-atstart=no", "--callgrind-out-file=%s" % out, "-q"))
    try:
        burst(port_of(server), token_of(server), 200)
        subprocess.run(["callgrind_control", "-i", "on", str(server.process.pid)], capture_output=True, check=True)
        burst(port_of(server), token_of(server), count)
        subprocess.run(["callgrind_control", "-d", str(server.process.pid)], capture_output=True, check=True)
        time.sleep(1)
    finally:
        server.stop()
    dumps = sorted(state.glob("%s.callgrind.*" % name))
    return callgrind_total(dumps[0]) / count


def jobcreds_instructions(binary, fake, state, count):
    # A copy without DWARF 5 debug information, which this valgrind cannot read (names stay).
    copy = state / "jobcreds-nodebug"
    shutil.copy(binary, copy)
    subprocess.run(["strip", "--strip-debug", str(copy)], check=True)
    return instructions(lambda wrapper: Sidecar(str(copy), fake, state, wrapper=wrapper, name="callgrind"),
                        lambda s: s.port, lambda s: s.token, state, "jobcreds", count)


def c_instructions(binary, body, port, state, count):
    return instructions(lambda wrapper: CServer(binary, body, port, state, wrapper=wrapper),
                        lambda s: s.port, lambda s: "x" * 64, state, "c", count)


def thread_switches(pid):
    """Per thread: name, voluntary + involuntary context switches so far."""
    threads = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            name = open("/proc/%d/task/%s/comm" % (pid, tid)).read().strip()
            status = open("/proc/%d/task/%s/status" % (pid, tid)).read()
        except OSError:
            continue
        switches = sum(int(n) for n in re.findall(r"^(?:non)?voluntary_ctxt_switches:\s+(\d+)", status, re.M))
        threads[tid] = (name, switches)
    return threads


def cpu_seconds(pid):
    fields = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def idle_cost(pid, seconds):
    """CPU time and wake-ups (context switches) over `seconds` of nobody calling."""
    before, cpu = thread_switches(pid), cpu_seconds(pid)
    time.sleep(seconds)
    after = thread_switches(pid)
    per_thread = {tid: (name, (after[tid][1] - before.get(tid, (name, 0))[1]) / seconds)
                  for tid, (name, _) in after.items()}
    return {"cpu_ms": (cpu_seconds(pid) - cpu) * 1000, "threads": len(after),
            "wakeups": sum(rate for _, rate in per_thread.values()),
            "busiest": sorted(per_thread.values(), key=lambda item: -item[1])[:4]}


def aws_call_overhead(sidecar, fake, calls):
    """boto3 `HeadObject` on the job's input artifact against the fake's S3, `calls` times with
    the artifact credentials in the environment, then as many through the sidecar; per-call
    latency percentiles and the credential requests made per call."""
    import boto3
    import botocore.config

    _, body = sidecar.get("/v1/credentials")
    credentials = json.loads(body)
    static = {"AWS_ACCESS_KEY_ID": credentials["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": credentials["SecretAccessKey"],
              "AWS_SESSION_TOKEN": credentials["Token"]}
    through = {"AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:%d/v1/credentials" % sidecar.port,
               "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": str(sidecar.state / "token")}
    results = {}
    saved = dict(os.environ)
    try:
        for label, variables in (("static", static), ("sidecar", through)):
            os.environ.clear()
            os.environ.update(variables, PATH=saved["PATH"], HOME=str(sidecar.state), AWS_CA_BUNDLE=fake.ca_bundle,
                              AWS_DEFAULT_REGION="us-east-1", AWS_EC2_METADATA_DISABLED="true")
            client = boto3.session.Session().client("s3", endpoint_url=fake.https,
                                                    config=botocore.config.Config(retries={"max_attempts": 1}))
            for _ in range(20):
                client.head_object(Bucket="codepipeline-us-east-1-artifacts", Key="demo/SourceOutput/src.zip")
            served = sidecar.lines('"path":"/v1/credentials","status":200')
            latencies = []
            for _ in range(calls):
                started = time.perf_counter()
                client.head_object(Bucket="codepipeline-us-east-1-artifacts", Key="demo/SourceOutput/src.zip")
                latencies.append((time.perf_counter() - started) * 1000)
            latencies.sort()
            results[label] = {"p50": statistics.median(latencies), "p99": latencies[int(len(latencies) * 0.99) - 1],
                              "per_call": (sidecar.lines('"path":"/v1/credentials","status":200') - served) / calls}
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return results
