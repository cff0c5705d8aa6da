#!/usr/bin/env python3
"""`make bench-artifacts`: `jobcreds artifacts pull|push` against the AWS CLI and Info-ZIP, on
the same artifacts in the fake's S3 over loopback.

Three artifacts: a tree of 20,000 files (1 GiB in all) and a single 1 GiB file, their bytes random
(content compressed already: Info-ZIP deflates it at level 6 all the same, jobcreds sees from a
sample that deflate would gain nothing and stores it); and, so that the figures do not rest on
that alone, a tree of 20,000 text files (1 GiB of log-like lines, which deflate shrinks about
three times; both sides deflate at level 6). For each:

  push: `jobcreds artifacts push` (through the sidecar's URLs; multipart above 64 MiB)
        vs `zip -qry` + `aws s3 cp --sse aws:kms --sse-kms-key-id KEY`;
  pull: `jobcreds artifacts pull`
        vs `aws s3 cp` + `unzip -q`.

Each command runs under GNU time: wall seconds, CPU seconds (user + system) and peak RSS; a
pair's figures are summed (wall, CPU) and maxed (RSS). Targets (issue 21): pull and push each at
least 1.5 times faster than the pair, and jobcreds's peak RSS at most 64 MiB whatever the size.
The fake itself is Python and shares the machine's two cores with the commands measured, so the
absolute figures are the loopback's and the fake's as much as the tools'; the ratios compare like
with like.
"""
import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "IntegrationTests"))

from fake import Fake  # noqa: E402

JOB_ID = "b3b3b3b3-2d11-4b3c-9e2d-0123456789ab"
BUCKET = "codepipeline-us-east-1-artifacts"
INPUT = BUCKET + "/demo/SourceOutput/src.zip"
OUTPUT = BUCKET + "/demo/BuildOutput/out.zip"
MIB = 1 << 20


def timed(argv, env, cwd=None):
    """Runs `argv` under GNU time; (wall s, cpu s, peak RSS MiB)."""
    with tempfile.NamedTemporaryFile("r") as report:
        started = time.monotonic()
        completed = subprocess.run(["/usr/bin/time", "-o", report.name, "-f", "%U %S %M", *argv], env=env, cwd=cwd,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wall = time.monotonic() - started
        if completed.returncode != 0:
            raise SystemExit("%s failed (%d): %s" % (argv[0], completed.returncode, completed.stderr[-2000:]))
        user, system, rss = report.read().split()[-3:]
    return wall, float(user) + float(system), int(rss) / 1024


def pair(*runs):
    return sum(r[0] for r in runs), sum(r[1] for r in runs), max(r[2] for r in runs)


def make_tree(root, files, total, text=False):
    root.mkdir(parents=True)
    size = total // files
    corpus = log_lines(8 * MIB) if text else None
    generator = random.Random(21)
    for index in range(files):
        directory = root / ("d%03d" % (index // 200))
        directory.mkdir(exist_ok=True)
        if text:
            start = generator.randrange(len(corpus) - size)
            (directory / ("f%05d.log" % index)).write_bytes(corpus[start:start + size])
        else:
            (directory / ("f%05d.bin" % index)).write_bytes(os.urandom(size))


def log_lines(size):
    """`size` bytes of build-log-like text: timestamps, levels, paths, numbers, a few hundred words."""
    generator = random.Random(8)
    words = ["".join(generator.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(generator.randint(2, 10)))
             for _ in range(400)]
    lines, length = [], 0
    while length < size:
        line = "2026-12-02T%02d:%02d:%02d.%03dZ %s [%s] %s/%s.swift:%d %s\n" % (
            generator.randrange(24), generator.randrange(60), generator.randrange(60), generator.randrange(1000),
            generator.choice(["INFO", "DEBUG", "WARN", "ERROR"]), generator.choice(words),
            generator.choice(words), generator.choice(words), generator.randrange(2000),
            " ".join(generator.choice(words) for _ in range(generator.randint(3, 14))))
        lines.append(line)
        length += len(line)
    return "".join(lines).encode()[:size]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=str(ROOT / ".build-static/release/jobcreds"))
    parser.add_argument("--files", type=int, default=20000)
    parser.add_argument("--size", type=int, default=1024, help="MiB per artifact")
    parser.add_argument("--work", default=None, help="where the trees go (default: a temporary directory)")
    options = parser.parse_args()
    aws = shutil.which("aws", path=str(ROOT / ".venv/bin")) or shutil.which("aws")
    work = Path(tempfile.mkdtemp(prefix="bench-artifacts-", dir=options.work))
    fake = Fake.start(work / "fake")
    try:
        fake.configure(jobs={JOB_ID: {}}, credential_lifetime=3600)
        document = fake.control("/_control/jobs")[JOB_ID]["jobDetails"]["data"]
        credentials = document["artifactCredentials"]
        key = document["encryptionKey"]["id"]
        token = work / "steps"
        base_env = {"PATH": os.environ["PATH"], "HOME": str(work), "AWS_CA_BUNDLE": fake.ca_bundle,
                    "AWS_EC2_METADATA_DISABLED": "true", "AWS_REGION": "us-east-1"}
        sidecar = subprocess.Popen(
            [options.binary, "serve", "--job-id", JOB_ID, "--region", "us-east-1", "--endpoint-url", fake.https,
             "--s3-endpoint-url", fake.https, "--token-file", "%s:download,upload" % token, "--listen", "127.0.0.1:0",
             "--audit-log", str(work / "audit.log"), "--log-level", "warning"],
            env=dict(base_env, **fake.worker_environment()), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        port = None
        deadline = time.time() + 20
        while port is None and time.time() < deadline:
            if (work / "audit.log").exists():
                for line in (work / "audit.log").read_text().splitlines():
                    event = json.loads(line)
                    if event["event"] == "listening":
                        port = int(event["address"].rsplit(":", 1)[1])
            time.sleep(0.05)
        if port is None:
            raise SystemExit("the sidecar did not start: %s" % sidecar.stderr.read())
        jobcreds_env = dict(base_env, JOBCREDS_URL="http://127.0.0.1:%d" % port, JOBCREDS_TOKEN_FILE=str(token),
                            TMPDIR=str(work))
        aws_env = dict(base_env, AWS_ACCESS_KEY_ID=credentials["accessKeyId"],
                       AWS_SECRET_ACCESS_KEY=credentials["secretAccessKey"],
                       AWS_SESSION_TOKEN=credentials["sessionToken"])
        s3 = lambda name: "s3://" + name  # noqa: E731
        endpoint = ["--endpoint-url", fake.https]
        results = []
        artifacts = [("tree of %d files" % options.files, lambda path: make_tree(path, options.files, options.size * MIB)),
                     ("one file", lambda path: (path.mkdir(), (path / "big.bin").write_bytes(os.urandom(options.size * MIB)))),
                     ("tree of %d text files" % options.files,
                      lambda path: make_tree(path, options.files, options.size * MIB, text=True))]
        for label, make in artifacts:
            source = work / "source"
            make(source)
            print("== %s, %d MiB" % (label, options.size), flush=True)
            ours = timed([options.binary, "artifacts", "push", "BuildOutput", str(source)], jobcreds_env)
            stored = fake.control("/_control/digest?name=" + OUTPUT)
            archive = work / "theirs.zip"
            zipped = timed(["zip", "-qry", str(archive), "."], base_env, cwd=source)
            copied = timed([aws, "s3", "cp", str(archive), s3(OUTPUT), "--sse", "aws:kms", "--sse-kms-key-id", key,
                            "--only-show-errors", *endpoint], aws_env)
            theirs = pair(zipped, copied)
            results.append(("push", label, ours, theirs, stored["size"]))
            archive.unlink()
            # The input is the archive jobcreds pushed, so both pulls read the same bytes.
            fake.control("/_control/copy", {"from": OUTPUT, "to": INPUT})
            pulled = work / "pulled"
            ours = timed([options.binary, "artifacts", "pull", "SourceOutput", str(pulled)], jobcreds_env)
            downloaded = timed([aws, "s3", "cp", s3(INPUT), str(archive), "--only-show-errors", *endpoint], aws_env)
            unzipped = timed(["unzip", "-q", str(archive), "-d", str(work / "unzipped")], base_env)
            theirs = pair(downloaded, unzipped)
            results.append(("pull", label, ours, theirs, stored["size"]))
            for path in (source, pulled, work / "unzipped"):
                subprocess.run(["chmod", "-R", "u+rwx", str(path)], check=False)
                shutil.rmtree(path, ignore_errors=True)
            archive.unlink()
        sidecar.terminate()
        sidecar.wait(timeout=10)
    finally:
        fake.stop()
        shutil.rmtree(work, ignore_errors=True)
    report(results)


def report(results):
    print()
    print("| operation | artifact | jobcreds wall / CPU / peak RSS | AWS CLI + Info-ZIP wall / CPU / peak RSS | speed-up | target (≥ 1.5 ×, RSS ≤ 64 MiB) |")
    print("| --- | --- | --- | --- | --- | --- |")
    for operation, label, ours, theirs, size in results:
        speedup = theirs[0] / ours[0]
        met = speedup >= 1.5 and ours[2] <= 64
        print("| %s | %s (%d MiB zip) | %.1f s / %.1f s / %.1f MiB | %.1f s / %.1f s / %.1f MiB | %.2f × | %s |" % (
            operation, label, size / MIB, ours[0], ours[1], ours[2], theirs[0], theirs[1], theirs[2], speedup,
            "met" if met else "**missed** (%s)" % ", ".join(
                part for part, failed in (("speed", speedup < 1.5), ("RSS", ours[2] > 64)) if failed)))


if __name__ == "__main__":
    main()
