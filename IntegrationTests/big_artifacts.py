"""`make test-big`: artifacts past every 32-bit limit. A 6 GiB sparse file pushed with
`--level 0` is a ZIP64 entry over 4 GiB in an archive over 5 GiB, so the upload must go in parts
(384 of 16 MiB, and one for the headers past 6 GiB); Python's zipfile and Info-ZIP's `unzip -t`
read the stored archive, and `pull` extracts the same bytes. A 2 GB object that is not an archive
is refused after its first 8 MiB range. Not in `make test` (it moves 6 GiB through the fake's
memory and writes 12 GiB to disk); run by `scripts/test-big`, its output quoted in the issue's
note."""
import hashlib
import json
import os
import shutil
import subprocess
import time
import zipfile

OUTPUT = "codepipeline-us-east-1-artifacts/demo/BuildOutput/out.zip"
INPUT = "codepipeline-us-east-1-artifacts/demo/SourceOutput/src.zip"
SIZE = 6 << 30


def test_a_6_gib_sparse_file_is_a_zip64_multipart_artifact_every_reader_reads(serve, fake, jobcreds_bin, tmp_path):
    assert shutil.disk_usage(tmp_path).free > 3 * SIZE, "needs 18 GiB free"
    steps = tmp_path / "steps"
    sidecar = serve("--token-file", "%s:download,upload" % steps, "--s3-endpoint-url", fake.https)
    env = {"PATH": os.environ["PATH"], "JOBCREDS_URL": sidecar.base, "JOBCREDS_TOKEN_FILE": str(steps),
           "AWS_CA_BUNDLE": fake.ca_bundle, "TMPDIR": str(tmp_path)}
    source = tmp_path / "source"
    source.mkdir()
    with open(source / "sparse.img", "wb") as handle:
        handle.truncate(SIZE)
        handle.seek(SIZE // 2)
        handle.write(b"the middle of six gibibytes")
    pushed = subprocess.run([jobcreds_bin, "artifacts", "push", "BuildOutput", str(source), "--level", "0"],
                            env=env, capture_output=True, text=True, timeout=3600)
    assert pushed.returncode == 0, pushed.stderr
    summary = json.loads(pushed.stdout)
    print("push:", pushed.stdout.strip())
    assert summary["bytes"] > SIZE and summary["parts"] == -(-summary["bytes"] // (16 << 20)) == 385  # 384 full, one of the rest
    digest = fake.control("/_control/digest?name=" + OUTPUT)
    assert digest["size"] == summary["bytes"] and digest["sha256"] == summary["sha256"]
    fake.control("/_control/copy", {"from": OUTPUT, "to": INPUT})
    raw = subprocess.run([jobcreds_bin, "artifacts", "pull", "SourceOutput", str(tmp_path / "raw"), "--format", "raw"],
                         env=env, capture_output=True, text=True, timeout=3600)
    assert raw.returncode == 0, raw.stderr
    archive = tmp_path / "raw" / "SourceOutput"
    with zipfile.ZipFile(archive) as opened:
        (info,) = opened.infolist()
        assert info.filename == "sparse.img" and info.file_size == SIZE and info.compress_type == zipfile.ZIP_STORED
    tested = subprocess.run(["unzip", "-tq", str(archive)], capture_output=True, text=True, timeout=3600)
    print("unzip -tq:", tested.stdout.strip())
    assert tested.returncode == 0, tested.stdout + tested.stderr
    shutil.rmtree(tmp_path / "raw")
    pulled = subprocess.run([jobcreds_bin, "artifacts", "pull", "SourceOutput", str(tmp_path / "pulled")],
                            env=env, capture_output=True, text=True, timeout=3600)
    assert pulled.returncode == 0, pulled.stderr
    print("pull:", pulled.stdout.strip())
    hashes = []
    for path in (source / "sparse.img", tmp_path / "pulled" / "sparse.img"):
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 24), b""):
                digest.update(block)
        hashes.append(digest.hexdigest())
    assert hashes[0] == hashes[1]
    assert fake.control("/_control/uploads") == {}


def test_a_2_gb_object_that_is_not_an_archive_is_refused_after_its_first_range(serve, fake, jobcreds_bin, tmp_path):
    steps = tmp_path / "steps"
    sidecar = serve("--token-file", "%s:download,upload" % steps, "--s3-endpoint-url", fake.https)
    fake.control("/_control/fill", {"name": INPUT, "size": 2 * 10 ** 9})
    env = {"PATH": os.environ["PATH"], "JOBCREDS_URL": sidecar.base, "JOBCREDS_TOKEN_FILE": str(steps),
           "AWS_CA_BUNDLE": fake.ca_bundle}
    started = time.monotonic()
    pulled = subprocess.run([jobcreds_bin, "artifacts", "pull", "SourceOutput", str(tmp_path / "dir")],
                            env=env, capture_output=True, text=True, timeout=600)
    print("refused in %.2f s: %s" % (time.monotonic() - started, pulled.stderr.strip()))
    assert pulled.returncode == 5 and "NotAnArchive" in pulled.stderr
    ranges = [call.get("range") for call in fake.control("/_control/s3") if call["operation"] == "GetObject"]
    assert ranges == ["bytes=0-8388607"], ranges
    assert not (tmp_path / "dir").exists()
