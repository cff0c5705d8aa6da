"""examples/, run for real against the fake: the shell build step with the AWS CLI, the same in
Python with boto3, and the whole job worker lifecycle. The fake's S3 verifies every signature
and lets the job's artifact credentials read its inputs and write its outputs (SSE-KMS under the
pipeline's key) and nothing else."""
import io
import os
import subprocess
import sys
import zipfile

from conftest import CANARY, JOB_ID, ROOT, free_port

EXAMPLES = ROOT / "examples"
VENV_BIN = os.path.dirname(sys.executable)
OUTPUT = "codepipeline-us-east-1-artifacts/demo/BuildOutput/out.zip"
KMS_KEY = "arn:aws:kms:us-east-1:123456789012:key/demo-key"


def build_environment(sidecar, fake, tmp_path):
    """The two variables, plus what pointing the AWS CLI at the fake takes (not credentials)."""
    environment = sidecar.client_env()
    environment.update({"PATH": VENV_BIN + os.pathsep + environment["PATH"], "HOME": str(tmp_path),
                        "AWS_ENDPOINT_URL_S3": fake.https, "AWS_CA_BUNDLE": fake.ca_bundle})
    return environment


def uploaded(fake):
    objects = fake.control("/_control/objects")
    assert OUTPUT in objects, "nothing was uploaded; S3 calls: %s" % fake.control("/_control/s3")
    stored = objects[OUTPUT]
    with zipfile.ZipFile(io.BytesIO(stored["body"].encode("latin-1"))) as archive:
        files = {name: archive.read(name).decode() for name in archive.namelist()}
    return stored, files


def assert_signed_with_the_artifact_credentials_only(fake):
    calls = fake.control("/_control/s3")
    assert calls and all(call["signature"] == "ok" and call["verdict"] == "ok" for call in calls), calls
    assert {call["access_key"] for call in calls} == {"ASIAFAKEARTIFACT0001"}
    assert {call["operation"] for call in calls} >= {"GetObject", "PutObject"}


def test_the_shell_build_step_downloads_builds_and_uploads_with_sse_kms(serve, fake, tmp_path):
    sidecar = serve()
    result = subprocess.run(["sh", str(EXAMPLES / "build-step.sh")], env=build_environment(sidecar, fake, tmp_path),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "build-step: done" in result.stdout
    stored, files = uploaded(fake)
    assert stored["sse"] == "aws:kms" and stored["kms_key"] == KMS_KEY
    assert files["hello.txt"] == "hello from the source stage of job %s\n" % JOB_ID
    assert "./hello.txt" in files["MANIFEST"]
    assert_signed_with_the_artifact_credentials_only(fake)
    # The CLI fetched its credentials from the sidecar, and the audit log says so.
    served = [line for line in sidecar.audit() if line.get("path") == "/v1/credentials"]
    assert served and all(line["status"] == 200 for line in served)
    assert CANARY not in result.stdout + result.stderr


def test_the_python_build_step_does_the_same_with_boto3(serve, fake, tmp_path):
    sidecar = serve()
    result = subprocess.run([sys.executable, str(EXAMPLES / "build_step.py")],
                            env=build_environment(sidecar, fake, tmp_path), capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    stored, files = uploaded(fake)
    assert stored["sse"] == "aws:kms" and stored["kms_key"] == KMS_KEY
    assert "hello.txt" in files and "./hello.txt" in files["MANIFEST"]
    assert_signed_with_the_artifact_credentials_only(fake)


def test_the_presigned_step_moves_the_artifacts_with_curl_alone_and_no_credentials(serve, fake, tmp_path):
    steps = tmp_path / "steps"
    sidecar = serve("--token-file", "%s:download,upload" % steps, "--s3-endpoint-url", fake.https)
    environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path),
                   "JOBCREDS_URL": sidecar.base, "JOBCREDS_TOKEN_FILE": str(steps),
                   "INPUT_ARTIFACT": "SourceOutput", "OUTPUT_ARTIFACT": "BuildOutput",
                   "CURL_CA_BUNDLE": fake.ca_bundle}  # the fake's CA; a real S3 endpoint needs none
    seen = tmp_path / "environment"
    step = ["sh", "-c", 'env > "%s" && exec sh "%s"' % (seen, EXAMPLES / "presigned-step.sh")]
    result = subprocess.run(step, env=environment, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "presigned-step: done" in result.stdout
    # Nothing AWS in the step's environment: no credentials, no credential endpoint, no profile.
    variables = dict(line.split("=", 1) for line in seen.read_text().splitlines() if "=" in line)
    assert not [name for name in variables if name.startswith("AWS_")], variables
    assert not any(value == sidecar.token or "artifact-secret" in value for value in variables.values())
    stored, files = uploaded(fake)
    assert stored["sse"] == "aws:kms" and stored["kms_key"] == KMS_KEY
    assert files["hello.txt"] == "hello from the source stage of job %s\n" % JOB_ID
    assert "./hello.txt" in files["MANIFEST"]
    calls = fake.control("/_control/s3")
    assert [(call["operation"], call["presigned"], call["verdict"]) for call in calls] == [
        ("GetObject", True, "ok"), ("PutObject", True, "ok")]
    # The audit log shows the two URLs issued and no credentials request.
    requests = [line for line in sidecar.audit() if line["event"] == "request" and line.get("token") == "steps"]
    assert [(line["reason"], line["artifact"], line["url_method"]) for line in requests] == [
        ("download_url", "SourceOutput", "GET"), ("upload_url", "BuildOutput", "PUT")]
    assert not [line for line in sidecar.audit() if line.get("path") == "/v1/credentials"]
    assert CANARY not in result.stdout + result.stderr


def test_the_build_step_fails_without_the_sidecar(fake, tmp_path):
    environment = {"PATH": VENV_BIN + os.pathsep + os.environ["PATH"], "HOME": str(tmp_path),
                   "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:9/v1/credentials",
                   "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": str(tmp_path / "missing")}
    result = subprocess.run(["sh", str(EXAMPLES / "build-step.sh")], env=environment, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode != 0
    assert fake.control("/_control/objects").get(OUTPUT) is None


def worker(jobcreds_bin, fake, tmp_path, build, listen):
    environment = {"PATH": os.path.dirname(jobcreds_bin) + os.pathsep + VENV_BIN + os.pathsep + os.environ["PATH"],
                   "HOME": str(tmp_path), "AWS_DEFAULT_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true",
                   **fake.worker_environment(), "AWS_ENDPOINT_URL_CODEPIPELINE": fake.https, "AWS_ENDPOINT_URL_S3": fake.https,
                   "AWS_CA_BUNDLE": fake.ca_bundle}
    return subprocess.run(
        [sys.executable, str(EXAMPLES / "job-worker" / "worker.py"), "--provider", "JobCredsTest", "--once",
         "--max-polls", "3", "--poll-interval", "0.2", "--listen", listen, "--pass-env", "AWS_ENDPOINT_URL_S3",
         "--pass-env", "AWS_CA_BUNDLE", "--", *build], env=environment, capture_output=True, text=True, timeout=180)


def test_the_job_worker_runs_a_job_from_poll_to_success(jobcreds_bin, fake, tmp_path):
    fake.configure(jobs={JOB_ID: {"queued": True}})
    seen = tmp_path / "build-environment"
    build = ["sh", "-c", 'env > "%s" && exec sh "%s"' % (seen, EXAMPLES / "build-step.sh")]
    result = worker(jobcreds_bin, fake, tmp_path, build, "127.0.0.1:%d" % free_port())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "worker: job %s acknowledged" % JOB_ID in result.stdout
    assert "worker: job %s succeeded" % JOB_ID in result.stdout
    assert fake.control("/_control/results")[JOB_ID]["status"] == "Succeeded"
    operations = [call["operation"] for call in fake.calls()]
    for earlier, later in [("PollForJobs", "AcknowledgeJob"), ("AcknowledgeJob", "GetJobDetails"),
                           ("GetJobDetails", "PutJobSuccessResult")]:
        assert operations.index(earlier) < operations.index(later), operations
    uploaded(fake)
    assert_signed_with_the_artifact_credentials_only(fake)
    # The build saw the two variables and none of the worker's identity.
    environment = dict(line.split("=", 1) for line in seen.read_text().splitlines() if "=" in line)
    assert "AWS_CONTAINER_CREDENTIALS_FULL_URI" in environment
    assert "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE" in environment
    assert not {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"} & set(environment)
    assert CANARY not in seen.read_text()


def test_the_job_worker_reports_a_failed_build(jobcreds_bin, fake, tmp_path):
    fake.configure(jobs={JOB_ID: {"queued": True}})
    result = worker(jobcreds_bin, fake, tmp_path, ["sh", "-c", "exit 3"], "127.0.0.1:%d" % free_port())
    assert result.returncode == 1, result.stdout + result.stderr
    outcome = fake.control("/_control/results")[JOB_ID]
    assert outcome["status"] == "Failed"
    assert outcome["failureDetails"] == {"type": "JobFailed", "message": "the build exited with status 3"}


def test_the_job_worker_waits_for_jobs_of_its_own_action_type(jobcreds_bin, fake, tmp_path):
    # The fake's job is of provider JobCredsTest; a job that is not queued is never handed out.
    fake.configure(jobs={JOB_ID: {}})
    result = worker(jobcreds_bin, fake, tmp_path, ["true"], "127.0.0.1:%d" % free_port())
    assert result.returncode == 2 and "no job after 3 polls" in result.stdout
    assert JOB_ID not in fake.control("/_control/results")
