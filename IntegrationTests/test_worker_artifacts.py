"""`jobcreds worker --artifacts stage` (the default): the worker pulls the inputs before the
build and pushes the outputs after it, so the build holds neither a token nor credentials; a
job succeeds only once every output is stored, and a refused or missing artifact fails the job
with the type CodePipeline should show."""
import base64
import json
import os
import pathlib
import stat
import subprocess
import uuid

import pytest

import hostile_zips
import other_user
from conftest import CANARY
from worker import Worker, results, wait_reported

BUCKET = "codepipeline-us-east-1-artifacts"

# The build: says where it is, waits to be looked at, then turns the input into an output tree
# with a 0755 script, a 0600 file, an empty 0700 directory and an in-tree link.
BUILD = r"""
set -e
echo $$ > "{shared}/pid"
while [ ! -e "{shared}/go" ]; do sleep 0.05; done
out="$CODEPIPELINE_OUTPUT_DIR/BuildOutput"
mkdir -p "$out/bin" "$out/empty"
cp "$CODEPIPELINE_PRIMARY_INPUT_DIR/hello.txt" "$out/hello.txt"
printf '#!/bin/sh\necho built\n' > "$out/bin/run.sh"
chmod 0755 "$out/bin/run.sh"
echo mine > "$out/secret"; chmod 0600 "$out/secret"
chmod 0700 "$out/empty"
ln -s bin/run.sh "$out/link"
"""


@pytest.fixture
def staged(jobcreds_bin, fake, tmp_path):
    started = []

    def make(*command, args=(), root=None):
        instance = Worker(jobcreds_bin, fake, root or tmp_path / ("worker%d" % len(started)), command,
                          args=("--s3-endpoint-url", fake.https, *args), artifacts=None)
        started.append(instance)
        return instance.start()

    yield make
    for instance in started:
        instance.stop()


def unique_job(fake, **options):
    """A job whose artifacts live at keys of its own."""
    job_id = str(uuid.uuid4())
    options = dict({"queued": True, "input_key": "in/%s.zip" % job_id, "output_key": "out/%s.zip" % job_id}, **options)
    fake.configure(jobs={job_id: options})
    return job_id, "%s/%s" % (BUCKET, options["input_key"]), "%s/%s" % (BUCKET, options["output_key"])


def shared_directory():
    path = other_user.directory() / ("shared-%s" % uuid.uuid4().hex[:8])
    path.mkdir(mode=0o777)
    os.chmod(path, 0o777)
    return path


def failure(fake, job_id):
    result = results(fake)[job_id]
    assert result["status"] == "Failed", result
    return result["failureDetails"]["type"], result["failureDetails"]["message"]


@pytest.mark.skipif(os.geteuid() != 0, reason="builds of their own uids take root")
def test_a_staged_job_gives_the_build_no_token_and_no_credentials_and_stores_its_output(staged, fake, tmp_path):
    job_id, _, output = unique_job(fake)
    shared = shared_directory()
    run = staged("sh", "-c", BUILD.format(shared=shared), args=("--build-uid-range", "203000-203000"),
                 root=other_user.directory() / ("w-%s" % uuid.uuid4().hex[:8]))
    run.wait_for(lambda: (shared / "pid").exists(), timeout=30, what="the build to start")
    pid = int((shared / "pid").read_text())
    environ = open("/proc/%d/environ" % pid, "rb").read().split(b"\0")
    names = {line.split(b"=", 1)[0].decode() for line in environ if line}
    assert not {name for name in names if name.startswith(("AWS_CONTAINER", "AWS_ACCESS", "AWS_SECRET", "AWS_SESSION",
                                                           "JOBCREDS_URL", "JOBCREDS_TOKEN"))}, names
    assert {"CODEPIPELINE_INPUT_DIR", "CODEPIPELINE_OUTPUT_DIR", "CODEPIPELINE_PRIMARY_INPUT_DIR"} <= names
    variables = dict(line.decode().split("=", 1) for line in environ if line)
    workspace = variables["HOME"]
    assert variables["CODEPIPELINE_PRIMARY_INPUT_DIR"] == workspace + "/input/SourceOutput"
    # Nothing in the workspace holds a token or the artifact credentials.
    document = fake.control("/_control/jobs")[job_id]["jobDetails"]["data"]["artifactCredentials"]
    tokens = [path.read_bytes() for path in (run.state / "run").rglob("*token*") if path.is_file()]
    assert tokens, "the sidecar's staging token exists (outside the workspace)"
    for path in [p for p in pathlib.Path(workspace).rglob("*") if p.is_file() and not p.is_symlink()]:
        data = path.read_bytes()
        for secret in [document["secretAccessKey"].encode(), document["sessionToken"].encode()] + tokens:
            assert secret not in data, path
    for secret in [document["secretAccessKey"].encode(), document["sessionToken"].encode()] + tokens:
        assert all(secret not in line for line in environ)
    # The input was pulled for the build's user.
    hello = pathlib.Path(workspace) / "input" / "SourceOutput" / "hello.txt"
    assert hello.stat().st_uid == 203000 and b"hello from the source stage" in hello.read_bytes()
    (shared / "go").write_text("")
    wait_reported(fake, job_id, timeout=60)
    assert results(fake)[job_id]["status"] == "Succeeded", results(fake)[job_id]
    stored = fake.control("/_control/objects")[output]
    assert stored["sse"] == "aws:kms" and stored["kms_key"].endswith("demo-key")
    archive = tmp_path / "out.zip"
    archive.write_bytes(stored["body"].encode("latin-1"))
    extracted = tmp_path / "unzipped"
    subprocess.run(["unzip", "-q", str(archive), "-d", str(extracted)], check=True)
    assert stat.S_IMODE((extracted / "bin" / "run.sh").stat().st_mode) == 0o755
    assert stat.S_IMODE((extracted / "secret").stat().st_mode) == 0o600
    assert stat.S_IMODE((extracted / "empty").stat().st_mode) == 0o700
    assert os.readlink(extracted / "link") == "bin/run.sh"
    pulled, pushed = run.audit("artifact_pulled"), run.audit("artifact_pushed")
    assert [line["artifact"] for line in pulled] == ["SourceOutput"] and pulled[0]["entries"] == 1
    assert [line["artifact"] for line in pushed] == ["BuildOutput"] and pushed[0]["entries"] == 6
    assert run.audit("build_started")[0]["build_access"] == "none"
    urls = [line for line in run.audit("request") if line.get("path", "").startswith("/v1/artifacts/")]
    assert {line["path"].split("?")[0] for line in urls} == {"/v1/artifacts/SourceOutput/download",
                                                             "/v1/artifacts/BuildOutput/upload"}
    assert {line["token"] for line in urls} == {"staging-token"}
    # Success was reported after the output was stored.
    calls = fake.control("/_control/s3")
    put = [call for call in calls if call["operation"] == "PutObject" and call["object"] == output][-1]
    reported = [event for event in fake.control("/_control/lifecycle")[job_id]["history"] if event["event"] == "reported"]
    assert put["time"] <= reported[0]["time"]
    run.stop()


def test_a_missing_output_is_a_configuration_error_naming_it(staged, fake):
    job_id, _, output = unique_job(fake)
    run = staged("true")
    wait_reported(fake, job_id, timeout=60)
    kind, message = failure(fake, job_id)
    assert kind == "ConfigurationError" and "output/BuildOutput" in message and "MissingOutput" in message
    assert output not in fake.control("/_control/objects")
    assert [line["code"] for line in run.audit("artifact_failed")] == ["MissingOutput"]


def test_a_missing_input_object_is_revision_unavailable_and_the_build_never_runs(staged, fake, tmp_path):
    job_id, _, _ = unique_job(fake, no_input_object=True)
    marker = tmp_path / "ran"
    run = staged("touch", str(marker))
    wait_reported(fake, job_id, timeout=60)
    kind, message = failure(fake, job_id)
    assert kind == "RevisionUnavailable" and "ObjectNotFound" in message and "SourceOutput" in message
    assert not marker.exists() and not run.audit("build_started")


@pytest.mark.parametrize("case", ["zip-slip", "link-climbs-out", "overlapping-entries"])
def test_a_hostile_input_is_a_configuration_error_and_nothing_escapes(staged, fake, tmp_path, case):
    job_id, input_object, _ = unique_job(fake, no_input_object=True)
    body, code, _ = hostile_zips.HOSTILE[case]()
    fake.control("/_control/objects", {input_object: base64.b64encode(body).decode()})
    run = staged("true")
    wait_reported(fake, job_id, timeout=60)
    kind, message = failure(fake, job_id)
    assert kind == "ConfigurationError" and code in message
    assert not os.path.exists("/tmp/evil.txt")
    assert CANARY not in run.everything_written()


def test_an_output_the_build_links_out_of_its_tree_is_refused(staged, fake):
    job_id, _, output = unique_job(fake)
    staged("sh", "-c", 'mkdir -p "$CODEPIPELINE_OUTPUT_DIR/BuildOutput" && '
                       'ln -s /etc/shadow "$CODEPIPELINE_OUTPUT_DIR/BuildOutput/shadow"')
    wait_reported(fake, job_id, timeout=60)
    kind, message = failure(fake, job_id)
    assert kind == "ConfigurationError" and "SymlinkEscapes" in message
    assert output not in fake.control("/_control/objects")


def test_a_failed_build_pushes_nothing(staged, fake):
    job_id, _, output = unique_job(fake)
    staged("sh", "-c", 'mkdir -p "$CODEPIPELINE_OUTPUT_DIR/BuildOutput" && echo x > "$CODEPIPELINE_OUTPUT_DIR/BuildOutput/f"'
                       ' && exit 3')
    wait_reported(fake, job_id, timeout=60)
    assert failure(fake, job_id)[0] == "JobFailed"
    assert output not in fake.control("/_control/objects")


def test_an_upload_the_bucket_refuses_fails_the_job_instead_of_reporting_success(staged, fake):
    job_id, _, output = unique_job(fake)
    # Every PUT is refused as a bucket policy would (AccessDenied).
    fake.configure(faults=[{"operation": "PutObject", "kind": "http403", "count": 5}])
    staged("sh", "-c", 'mkdir -p "$CODEPIPELINE_OUTPUT_DIR/BuildOutput" && echo x > "$CODEPIPELINE_OUTPUT_DIR/BuildOutput/f"')
    wait_reported(fake, job_id, timeout=60)
    kind, message = failure(fake, job_id)
    assert kind == "PermissionError" and "AccessDenied" in message
    assert output not in fake.control("/_control/objects")
    fake.configure(clear_faults=True)


FETCH = ('creds=$(curl -s -H "Authorization: $(cat $AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE)" '
         '"$AWS_CONTAINER_CREDENTIALS_FULL_URI"); '
         'secret=$(echo "$creds" | python3 -c "import json,sys; print(json.load(sys.stdin)[\'SecretAccessKey\'])"); '
         'token=$(echo "$creds" | python3 -c "import json,sys; print(json.load(sys.stdin)[\'Token\'])"); '
         'mkdir -p "$CODEPIPELINE_OUTPUT_DIR/BuildOutput" && ')


@pytest.mark.parametrize("make, outcome, code", [
    # a FIFO named after the secret key: refused, its path in the failure message
    ('mkfifo "$CODEPIPELINE_OUTPUT_DIR/BuildOutput/$secret"', "Failed", "SpecialFile"),
    # a stray folder named after the session token: an audit line naming it
    ('echo x > "$CODEPIPELINE_OUTPUT_DIR/BuildOutput/f" && mkdir "$CODEPIPELINE_OUTPUT_DIR/$token"', "Succeeded",
     "NotAnOutput"),
], ids=["refused-path", "stray-name"])
def test_what_a_build_names_after_its_credentials_never_leaves_the_worker(staged, fake, make, outcome, code):
    job_id, _, _ = unique_job(fake)
    run = staged("sh", "-c", FETCH + make, args=("--build-access", "credentials"))
    wait_reported(fake, job_id, timeout=60)
    result = results(fake)[job_id]
    assert result["status"] == outcome, result
    run.stop()
    lines = run.audit("artifact_failed")
    assert [line["code"] for line in lines] == [code]
    assert "(redacted)" in (result.get("failureDetails", {}).get("message", "") if outcome == "Failed"
                            else lines[0]["artifact"])
    credentials = fake.control("/_control/jobs")[job_id]["jobDetails"]["data"]["artifactCredentials"]
    written = run.everything_written() + json.dumps(result)
    for secret in (credentials["secretAccessKey"], credentials["sessionToken"]):
        assert secret not in written
