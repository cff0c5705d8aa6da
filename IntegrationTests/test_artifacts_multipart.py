"""Multipart uploads through the sidecar: it creates the upload itself (SSE-KMS under the job's
key), presigns each `UploadPart` bound to its number, length and SHA-256, checks every part
before it completes, aborts what is left open; `jobcreds artifacts push` drives it. The fake's S3
enforces S3's rules (no SSE header on UploadPart, each part's checksum, 5 MiB parts, the total)
and the presigned URLs' expiry."""
import hashlib
import io
import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
import ssl
import zipfile

import pytest

from conftest import JOB_ID
from sigv4_oracle import presign_with_botocore

OUTPUT = "codepipeline-us-east-1-artifacts/demo/BuildOutput/out.zip"
MIB = 1 << 20


@pytest.fixture
def sidecar(serve, fake, tmp_path):
    def start(*args):
        steps = tmp_path / ("steps%d" % len(list(tmp_path.glob("steps*"))))
        running = serve("--token-file", "%s:download,upload" % steps, "--s3-endpoint-url", fake.https, *args)
        running.steps = steps
        return running
    return start


def push(jobcreds_bin, fake, running, source, *args, wait=True):
    env = {"PATH": os.environ["PATH"], "JOBCREDS_URL": running.base, "JOBCREDS_TOKEN_FILE": str(running.steps),
           "AWS_CA_BUNDLE": fake.ca_bundle, "TMPDIR": str(source.parent)}
    argv = [jobcreds_bin, "artifacts", "push", "BuildOutput", str(source), "--level", "0", *args]
    if not wait:
        return subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=180)


def calls(fake, operation):
    return [call for call in fake.control("/_control/s3") if call["operation"] == operation]


def tree_of(tmp_path, size):
    source = tmp_path / "source"
    source.mkdir()
    payload = os.urandom(size)
    (source / "big.bin").write_bytes(payload)
    return source, payload


def test_a_21_mib_push_goes_in_5_mib_parts_and_reads_back(sidecar, fake, jobcreds_bin, tmp_path):
    running = sidecar()
    source, payload = tree_of(tmp_path, 21 * MIB)
    pushed = push(jobcreds_bin, fake, running, source, "--multipart-threshold", "5M", "--part-size", "5M")
    assert pushed.returncode == 0, pushed.stderr
    summary = json.loads(pushed.stdout)
    assert summary["parts"] == 5 and summary["kms_key_id"].endswith("demo-key")
    stored = fake.control("/_control/objects")[OUTPUT]
    body = stored["body"].encode("latin-1")
    assert stored["sse"] == "aws:kms" and stored["parts"] == 5 and len(body) == summary["bytes"]
    assert hashlib.sha256(body).hexdigest() == summary["sha256"]
    with zipfile.ZipFile(io.BytesIO(body)) as opened:
        assert opened.read("big.bin") == payload
    parts = calls(fake, "UploadPart")
    assert sorted(call["part"] for call in parts) == [1, 2, 3, 4, 5]
    assert all(call["presigned"] and call["verdict"] == "ok" for call in parts)
    sizes = {call["part"]: call["bytes"] for call in parts}
    assert all(sizes[n] == 5 * MIB for n in range(1, 5)) and 0 < sizes[5] < 5 * MIB
    (create,) = calls(fake, "CreateMultipartUpload")
    assert not create["presigned"] and create["verdict"] == "ok"
    assert [call["verdict"] for call in calls(fake, "CompleteMultipartUpload")] == ["ok"]
    assert fake.control("/_control/uploads") == {}
    lines = [line for line in running.audit() if line["event"] == "request" and "upload_id" in line]
    assert [line["reason"] for line in lines] == ["upload_created", "part_urls", "upload_completed"]
    assert lines[1]["first_part"] == 1 and lines[1]["last_part"] == 5
    assert {line["upload_id"] for line in lines} == {create["upload_id"]} and lines[0]["key"] == "demo/BuildOutput/out.zip"
    assert not any("X-Amz-Signature" in json.dumps(line) for line in running.audit())


def test_part_urls_that_expire_between_parts_are_issued_again_and_none_is_accepted_late(
        sidecar, fake, jobcreds_bin, tmp_path):
    running = sidecar("--presign-ttl", "3s")
    source, _ = tree_of(tmp_path, 16 * MIB)
    # Each part is slow to answer; and the first one S3 refuses as an expired URL would be.
    fake.configure(faults=[{"operation": "UploadPart", "kind": "delay", "seconds": 2, "count": 4},
                           {"operation": "UploadPart", "kind": "http403", "count": 1}])
    pushed = push(jobcreds_bin, fake, running, source, "--multipart-threshold", "5M", "--part-size", "5M")
    assert pushed.returncode == 0, pushed.stderr
    issued = [line for line in running.audit() if line.get("reason") == "part_urls"]
    assert len(issued) >= 4, "a URL near its end or refused is asked for again: %s" % issued
    parts = calls(fake, "UploadPart")
    assert sorted(call["part"] for call in parts if call["verdict"] == "ok") == [1, 2, 3, 4]
    assert all(call["signature"] == "ok" for call in parts if call["verdict"] == "ok"), "nothing accepted past expiry"
    assert fake.control("/_control/uploads") == {}
    fake.configure(clear_faults=True)


def test_credentials_that_expire_between_parts_are_fetched_again_and_no_part_is_signed_by_an_expired_set(
        sidecar, fake, jobcreds_bin, tmp_path):
    # Each set of artifact credentials lives 68 s; S3 refuses one past that (400 ExpiredToken). URLs
    # end a minute before their credentials, so the sidecar must fetch a fresh set every few seconds
    # to keep signing; and a part S3 answers ExpiredToken is sent again with a fresh URL.
    fake.configure(jobs={JOB_ID: {"rotate": True, "credential_seconds": 68}})
    running = sidecar()
    source, payload = tree_of(tmp_path, 21 * MIB)
    fake.configure(faults=[{"operation": "UploadPart", "kind": "expired_token", "count": 1},
                           {"operation": "UploadPart", "kind": "delay", "seconds": 3, "count": 5}])
    pushed = push(jobcreds_bin, fake, running, source, "--multipart-threshold", "5M", "--part-size", "5M")
    assert pushed.returncode == 0, pushed.stderr
    parts = calls(fake, "UploadPart")
    accepted = [call for call in parts if call["verdict"] == "ok"]
    assert sorted(call["part"] for call in accepted) == [1, 2, 3, 4, 5]
    assert [call["verdict"] for call in parts].count("ExpiredToken") == 1
    assert len({call["access_key"] for call in accepted}) >= 2, "the parts were signed by fresh sets as they came"
    every = [call for call in fake.control("/_control/s3") if call["verdict"] == "ok"]
    assert all(call["key_expires"] is not None and call["time"] < call["key_expires"] for call in every), \
        "nothing accepted past its credentials' expiry"
    refreshes = [line for line in running.audit() if line["event"] == "refresh"]
    assert len(refreshes) >= 2, refreshes
    with zipfile.ZipFile(io.BytesIO(fake.control("/_control/objects")[OUTPUT]["body"].encode("latin-1"))) as opened:
        assert opened.read("big.bin") == payload
    assert fake.control("/_control/uploads") == {}
    fake.configure(clear_faults=True)


def test_the_fake_s3_refuses_a_url_signed_by_expired_credentials(fake):
    # What the test above leans on: S3's own check of the signing credentials, not the sidecar's arithmetic.
    url = fake.https + "/codepipeline-us-east-1-artifacts/demo/SourceOutput/src.zip"
    now = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    answers = []
    for key_id, expires in (("ASIAEXPIREDSET00001", time.time() - 1), ("ASIALIVINGSET00001", time.time() + 600)):
        fake.configure(keys={key_id: {"secret": "secret-" + key_id, "token": "token-" + key_id, "expires": expires}})
        signed = presign_with_botocore("GET", url, {}, key_id, "secret-" + key_id, "token-" + key_id, "us-east-1",
                                       now, 300)
        try:
            with urllib.request.urlopen(signed, context=ssl.create_default_context(cafile=fake.ca_bundle), timeout=30):
                answers.append((200, b""))
        except urllib.error.HTTPError as error:
            answers.append((error.code, error.read()))
    assert answers[0][0] == 400 and b"<Code>ExpiredToken</Code>" in answers[0][1], answers
    assert answers[1][0] == 403 and b"<Code>AccessDenied</Code>" in answers[1][1], answers  # signed well, no job's


def test_s3_refusing_the_create_fails_the_push_and_leaves_nothing(sidecar, fake, jobcreds_bin, tmp_path):
    running = sidecar()
    source, _ = tree_of(tmp_path, 6 * MIB)
    fake.configure(faults=[{"operation": "CreateMultipartUpload", "kind": "http403", "count": 1}])
    pushed = push(jobcreds_bin, fake, running, source, "--multipart-threshold", "5M", "--part-size", "5M")
    assert pushed.returncode == 4 and "AccessDenied" in pushed.stderr and "UploadFailed" in pushed.stderr
    assert OUTPUT not in fake.control("/_control/objects") and fake.control("/_control/uploads") == {}


def test_a_part_refused_for_good_aborts_the_upload(sidecar, fake, jobcreds_bin, tmp_path):
    running = sidecar()
    source, _ = tree_of(tmp_path, 11 * MIB)
    fake.configure(faults=[{"operation": "UploadPart", "kind": "http400", "count": 1}])
    pushed = push(jobcreds_bin, fake, running, source, "--multipart-threshold", "5M", "--part-size", "5M")
    assert pushed.returncode == 4 and "TransferFailed" in pushed.stderr, pushed.stderr
    assert [call["verdict"] for call in calls(fake, "AbortMultipartUpload")] == ["ok"]
    assert OUTPUT not in fake.control("/_control/objects") and fake.control("/_control/uploads") == {}
    fake.configure(clear_faults=True)


class Api:
    """The sidecar's multipart routes, asked directly."""

    def __init__(self, running, fake):
        self.running, self.fake = running, fake
        self.token = running.steps.read_text()

    def ask(self, method, path):
        request = urllib.request.Request(self.running.base + path, method=method, data=b"" if method != "GET" else None,
                                         headers={"Authorization": self.token})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    def put(self, part, body, extra=None):
        request = urllib.request.Request(part["url"], data=body, method="PUT", headers=dict(part["headers"], **(extra or {})))
        try:
            with urllib.request.urlopen(request, context=ssl.create_default_context(cafile=self.fake.ca_bundle),
                                        timeout=30) as response:
                return response.status, b""
        except urllib.error.HTTPError as error:
            return error.code, error.read()


def test_the_sidecar_completes_only_parts_bound_to_their_length_and_checksum(sidecar, fake):
    api = Api(sidecar(), fake)
    status, created = api.ask("POST", "/v1/artifacts/BuildOutput/multipart?length=%d&part_size=%d" % (12 * MIB, 5 * MIB))
    assert status == 200 and created["parts"] == 3, created
    upload = created["upload_id"]
    bodies = [os.urandom(5 * MIB), os.urandom(5 * MIB), os.urandom(2 * MIB)]
    sums = ",".join(hashlib.sha256(body).hexdigest() for body in bodies)
    status, answer = api.ask("GET", "/v1/artifacts/BuildOutput/multipart/%s/parts?first=1&sha256=%s" % (upload, sums))
    assert status == 200 and [part["length"] for part in answer["parts"]] == [5 * MIB, 5 * MIB, 2 * MIB]
    part1, part2, part3 = answer["parts"]
    assert "x-amz-server-side-encryption" not in json.dumps(answer).lower()
    # S3 refuses what the URL was not bound to, and an UploadPart carrying SSE.
    assert api.put(part1, bodies[1])[0] == 400  # another body: its checksum differs
    status, body = api.put(part1, bodies[0], {"x-amz-server-side-encryption": "aws:kms"})
    assert status == 400 and b"InvalidArgument" in body
    assert api.put(part1, bodies[0])[0] == 200 and api.put(part3, bodies[2])[0] == 200
    # Part 2 missing: the sidecar says so, S3 is never asked to complete.
    status, refused = api.ask("POST", "/v1/artifacts/BuildOutput/multipart/%s/complete" % upload)
    assert status == 409 and refused["code"] == "UploadIncomplete" and "part 2" in refused["message"]
    assert calls(fake, "CompleteMultipartUpload") == []
    # Another token, or another artifact's path, reaches no upload of this one.
    other = sidecar()
    assert Api(other, fake).ask("DELETE", "/v1/artifacts/BuildOutput/multipart/%s" % upload)[0] == 404
    assert api.ask("DELETE", "/v1/artifacts/SourceOutput/multipart/%s" % upload)[1]["code"] == "UploadNotFound"
    assert api.ask("GET", "/v1/artifacts/BuildOutput/multipart/%s/parts?first=3&sha256=%s" % (upload, "ab" * 32))[0] == 200
    assert api.ask("GET", "/v1/artifacts/BuildOutput/multipart/%s/parts?first=4&sha256=%s" % (upload, "ab" * 32))[0] == 400
    assert api.ask("DELETE", "/v1/artifacts/BuildOutput/multipart/%s" % upload) == (200, {"aborted": True})
    assert fake.control("/_control/uploads") == {}


@pytest.mark.parametrize("query", ["length=100&part_size=1024", "length=0&part_size=5242880",
                                   "length=%d&part_size=5242880" % (5242880 * 10001), "length=10", ""])
def test_a_multipart_upload_of_a_shape_s3_refuses_is_refused_first(sidecar, fake, query):
    api = Api(sidecar(), fake)
    status, answer = api.ask("POST", "/v1/artifacts/BuildOutput/multipart?" + query)
    assert status == 400 and answer["code"] == "InvalidUpload"
    assert calls(fake, "CreateMultipartUpload") == []


def test_uploads_only_for_output_artifacts_and_only_with_the_upload_scope(sidecar, fake, serve, tmp_path):
    api = Api(sidecar(), fake)
    status, answer = api.ask("POST", "/v1/artifacts/SourceOutput/multipart?length=10&part_size=5242880")
    assert status == 404 and answer["code"] == "ArtifactNotFound"
    plain = serve("--s3-endpoint-url", fake.https, token_file=tmp_path / "plain")
    request = urllib.request.Request(plain.base + "/v1/artifacts/BuildOutput/multipart?length=10&part_size=5242880",
                                     method="POST", data=b"", headers={"Authorization": plain.token})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 403 and json.loads(refused.value.read())["code"] == "ScopeNotGranted"
    assert api.ask("PUT", "/v1/artifacts/BuildOutput/multipart")[0] == 405


def test_a_push_killed_mid_upload_reports_nothing_and_the_sidecar_aborts_it_when_it_stops(
        sidecar, fake, jobcreds_bin, tmp_path):
    running = sidecar()
    source, _ = tree_of(tmp_path, 16 * MIB)
    fake.configure(faults=[{"operation": "UploadPart", "kind": "delay", "seconds": 3, "count": 4}])
    process = push(jobcreds_bin, fake, running, source, "--multipart-threshold", "5M", "--part-size", "5M", wait=False)
    running.wait_until(lambda: any(line.get("reason") == "part_urls" for line in running.audit()), what="part URLs")
    process.send_signal(signal.SIGKILL)
    stdout, _ = process.communicate(timeout=10)
    assert process.returncode != 0 and stdout == ""
    assert len(fake.control("/_control/uploads")) == 1
    running.stop()
    assert fake.control("/_control/uploads") == {}
    stop = [line for line in running.audit() if line["event"] == "stop"][-1]
    assert stop["uploads_aborted"] == 1
    assert OUTPUT not in fake.control("/_control/objects")
    fake.configure(clear_faults=True)
