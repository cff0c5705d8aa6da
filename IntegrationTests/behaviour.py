"""A record of what the sidecar did in the integration suite, to show that a restructuring kept
every behaviour: the HTTP answers the tests got, every audit line, every metrics scrape and what
`jobcreds check` printed, per test, with the values that change from run to run (times, ports,
request ids, temporary paths, latencies) replaced by placeholders.

    python3 IntegrationTests/behaviour.py record OUT [PYTEST ARGS...]   run the integration tests, recording into OUT
    python3 IntegrationTests/behaviour.py diff BEFORE AFTER             compare two records; exit 1 if they differ

The comparison is of each test's set of distinct events (after the replacements): how often a
poll saw the same answer, how a refresh interleaved with requests, and which retry succeeded once
a fault healed depend on timing, not on the code. Two records of the same binary differ only where a test's timing let it see a different
kind of event (a poll that caught a 503 before the first fetch finished); run it on two records
of the old binary to see that noise.

While the tests run, `record` is a no-op unless JOBCREDS_RECORD_DIR is set.
"""
import difflib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def record(kind, payload):
    """Appends one event of the running test to the record, if one is being made."""
    directory = os.environ.get("JOBCREDS_RECORD_DIR")
    test = os.environ.get("PYTEST_CURRENT_TEST")
    if not directory or not test:
        return
    name = re.sub(r"[^A-Za-z0-9_.\[\]-]+", "_", test.rsplit(" (", 1)[0])
    with open(Path(directory) / (name + ".jsonl"), "a") as out:
        out.write(json.dumps({"kind": kind, **payload}, sort_keys=True) + "\n")


# What varies between two runs of the same code, and what replaces it.
VOLATILE_TEXT = [
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d{4})"), "<time>"),
    (re.compile(r"artifact-(secret|token)-[0-9a-f]+"), r"artifact-\1-<random>"),
    (re.compile(r"ASIAFAKE(CTR|IMDS|STS)[0-9A-F]+"), r"ASIAFAKE\1<random>"),
    (re.compile(r"\b\d{8}T\d{6}Z\b"), "<amz-date>"),
    (re.compile(r"(127\.0\.0\.1|localhost|\[::1\]|0\.0\.0\.0):\d+"), r"\1:<port>"),
    (re.compile(r"/tmp/[^\s\"',)]+"), "<tmp>"),
    (re.compile(r"\b[0-9a-f]{8}-\d{6,}\b"), "<request-id>"),
    (re.compile(r"req-[0-9a-f]{12}"), "<aws-request-id>"),
    (re.compile(r"jobcreds-\d{10}"), "jobcreds-<epoch>"),
    (re.compile(r"\bport \d+ after \d+ ms"), "port <port> after <n> ms"),
    (re.compile(r"(delay_ms|offset_seconds)=\d+"), r"\1=<n>"),
]
VOLATILE_AUDIT_FIELDS = {"latency_ms": 0, "client_port": 0}
VOLATILE_HEADERS = {"Date", "date"}
VOLATILE_SCRAPE_HEADERS = VOLATILE_HEADERS | {"Content-Length"}  # the histogram's sums vary in length
VOLATILE_METRICS = re.compile(
    r"^(jobcreds_upstream_call_duration_seconds_(bucket|sum)|jobcreds_credentials_expiry_seconds)(\{[^}]*\})? .*$")


def text(value):
    for pattern, replacement in VOLATILE_TEXT:
        value = pattern.sub(replacement, value)
    return value


def scrub(value):
    if isinstance(value, str):
        return text(value)
    if isinstance(value, list):
        return [scrub(item) for item in value]
    if isinstance(value, dict):
        return {key: scrub(item) for key, item in value.items()}
    return value


def normalize(event):
    """One recorded event as lines of text, volatile values replaced."""
    kind = event["kind"]
    if kind == "stopped":
        lines = ["stopped exit=%s stdout=%s" % (event["exit"], json.dumps(text(event["stdout"])))]
        for line in event["audit"]:
            line = {**line, **{k: v for k, v in VOLATILE_AUDIT_FIELDS.items() if k in line}}
            if line.get("event") == "upstream" and line.get("outcome") == "success" and line.get("attempt", 1) > 1:
                line["attempt"] = "<retry>"  # which retry meets a healed fault is a matter of timing
            lines.append("audit " + json.dumps(scrub(line)))
        return lines
    if kind in ("answer", "scrape"):
        volatile = VOLATILE_SCRAPE_HEADERS if kind == "scrape" else VOLATILE_HEADERS
        headers = {k: v for k, v in event["headers"].items() if k not in volatile}
        body = event["body"]
        if kind == "scrape":  # the registry renders its families in hash order
            body = "\n".join(sorted(VOLATILE_METRICS.sub(r"\1\3 <value>", line) for line in body.splitlines()))
        return ["%s %s %s -> %s %s %s" % (kind, event["request"][0], text(event["request"][1]), event["status"],
                                          json.dumps(scrub(headers), sort_keys=True), json.dumps(text(body)))]
    if kind == "run":
        return ["run %s exit=%s stdout=%s stderr=%s" % (json.dumps(scrub(event["argv"])), event["exit"],
                                                         json.dumps(text(event["stdout"])),
                                                         json.dumps(text(event["stderr"])))]
    return [kind + " " + json.dumps(scrub(event), sort_keys=True)]


def load(directory):
    records = {}
    for path in sorted(Path(directory).glob("*.jsonl")):
        lines = []
        for raw in path.read_text().splitlines():
            lines.extend(normalize(json.loads(raw)))
        # Keyed by test file and name, whatever folder the suite lived in (tests/integration/ once).
        records[re.sub(r"^.*?(test_\w+\.py)", r"\1", path.stem)] = sorted(set(lines))
    return records


def diff(before, after):
    old, new = load(before), load(after)
    differing = 0
    for test in sorted(set(old) | set(new)):
        if old.get(test) == new.get(test):
            continue
        differing += 1
        print("".join(difflib.unified_diff([line + "\n" for line in old.get(test, [])],
                                           [line + "\n" for line in new.get(test, [])],
                                           "before/" + test, "after/" + test, n=1)))
    print("%d tests recorded before, %d after, %d differ" % (len(old), len(new), differing))
    return 1 if differing else 0


def main(argv):
    if len(argv) >= 2 and argv[0] == "record":
        out = Path(argv[1]).resolve()
        out.mkdir(parents=True, exist_ok=True)
        environment = {**os.environ, "JOBCREDS_RECORD_DIR": str(out)}
        return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "IntegrationTests",
                               *argv[2:]], cwd=ROOT, env=environment).returncode
    if len(argv) == 3 and argv[0] == "diff":
        return diff(argv[1], argv[2])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
