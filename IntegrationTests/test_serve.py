"""`jobcreds serve` end to end: the real server on loopback, the real libcurl client against the
signature-verifying fake, and botocore's and the AWS CLI's own container-credentials providers as
clients."""
import json
import os
import re
import signal
import socket
import stat
import subprocess
import sys
import threading
import time

import pytest

from conftest import CANARY, JOB_ID, WORKER

SECRET_MARKERS = (CANARY, "artifact-secret", "artifact-token", "worker-secret", "continuation", "nonce-")


def served_document(fake, job_id=JOB_ID):
    return fake.control("/_control/jobs")[job_id]["jobDetails"]["data"]["artifactCredentials"]


# -- the real clients -------------------------------------------------------------------------

def test_botocore_container_provider_gets_exactly_the_artifact_credentials(serve, fake):
    sidecar = serve()
    script = ("import botocore.session, json; c = botocore.session.get_session().get_credentials();"
              "f = c.get_frozen_credentials(); print(json.dumps([c.method, f.access_key, f.secret_key, f.token]))")
    env = dict(sidecar.client_env(), HOME=str(sidecar.audit_path.parent))
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    method, key, secret, token = json.loads(out.stdout)
    expected = served_document(fake)
    assert method == "container-role"
    assert (key, secret, token) == (expected["accessKeyId"], expected["secretAccessKey"], expected["sessionToken"])


def test_the_aws_cli_signs_with_the_served_credentials(serve, fake):
    sidecar = serve()
    aws = os.path.join(os.path.dirname(sys.executable), "aws")
    env = dict(sidecar.client_env(), HOME=str(sidecar.audit_path.parent), AWS_CA_BUNDLE=fake.ca_bundle,
               AWS_DEFAULT_REGION="us-east-1")
    out = subprocess.run([aws, "sts", "get-caller-identity", "--endpoint-url", fake.https, "--output", "json"],
                         env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    identity = json.loads(out.stdout)
    assert identity["Arn"].endswith("/ASIAFAKEARTIFACT0001")
    call = [c for c in fake.calls() if c["operation"] == "GetCallerIdentity"][-1]
    assert call["signature"] == "ok" and call["access_key"] == "ASIAFAKEARTIFACT0001"


# -- the HTTP interface -----------------------------------------------------------------------

def test_credentials_are_in_the_container_format(serve, fake):
    sidecar = serve()
    status, headers, body = sidecar.get_json("/v1/credentials")
    assert status == 200
    assert headers["Content-Type"] == "application/json"
    assert headers["Cache-Control"] == "no-store"
    assert set(body) == {"AccessKeyId", "SecretAccessKey", "Token", "Expiration", "AccountId"}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", body["Expiration"])
    expected = served_document(fake)
    assert body["SecretAccessKey"] == expected["secretAccessKey"]
    assert body["AccountId"] == "123456789012"
    assert CANARY not in json.dumps(body)  # configuration, continuation token, unknown keys: none of it


def test_artifacts_name_locations_key_and_context_only(serve):
    sidecar = serve()
    status, headers, body = sidecar.get_json("/v1/artifacts")
    assert status == 200 and headers["Cache-Control"] == "no-store"
    assert body["jobId"] == JOB_ID
    assert body["inputArtifacts"][0]["uri"] == "s3://codepipeline-us-east-1-artifacts/demo/SourceOutput/src.zip"
    assert body["outputArtifacts"][0]["bucket"] == "codepipeline-us-east-1-artifacts"
    assert body["outputArtifacts"][0]["key"] == "demo/BuildOutput/out.zip"
    assert body["encryptionKey"] == {"id": "arn:aws:kms:us-east-1:123456789012:key/demo-key", "type": "KMS"}
    assert body["pipelineContext"]["pipelineName"] == "demo-pipeline"
    text = json.dumps(body)
    for marker in SECRET_MARKERS:
        assert marker not in text


@pytest.mark.parametrize("token,method,path,status,code", [
    (None, "GET", "/v1/credentials", 401, "MissingToken"),
    ("wrong-token", "GET", "/v1/credentials", 403, "InvalidToken"),
    ("", "GET", "/v1/credentials", 403, "InvalidToken"),
    (True, "GET", "/v1/secrets", 404, "NotFound"),
    (True, "POST", "/v1/credentials", 405, "MethodNotAllowed"),
    (True, "DELETE", "/v1/credentials", 405, "MethodNotAllowed"),
    (None, "GET", "/v1/artifacts", 401, "MissingToken"),
])
def test_errors_are_json_and_never_look_like_credentials(serve, token, method, path, status, code):
    sidecar = serve()
    got, headers, body = sidecar.get_json(path, token=token, method=method)
    assert got == status
    assert headers["Content-Type"] == "application/json"
    assert set(body) == {"code", "message"} and body["code"] == code
    assert "AccessKeyId" not in json.dumps(body)
    assert sidecar.get_json("/healthz", token=None)[0] == 200  # still serving


def test_head_answers_without_a_body(serve):
    sidecar = serve()
    status, headers, body = sidecar.get("/v1/credentials", method="HEAD")
    assert status == 200 and body == b""


def test_health_and_readiness_need_no_token_and_show_no_secret(serve):
    sidecar = serve()
    assert sidecar.get_json("/healthz", token=None)[:1] == (200,)
    status, _, body = sidecar.get_json("/readyz", token=None)
    assert status == 200 and body == {"status": "ready"}


def test_one_request_per_connection(serve):
    # Since issue 14: every head is checked by the sidecar before libmicrohttpd parses it, and only
    # a connection's first one passes that check, so each answer closes its connection.
    sidecar = serve()
    connection = socket.create_connection(("127.0.0.1", sidecar.port))
    request = ("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").encode()
    connection.sendall(request)
    connection.settimeout(3)
    data = b""
    while chunk := connection.recv(65536):
        data += chunk
    connection.close()
    assert data.count(b"HTTP/1.1 200") == 1 and b"Connection: close\r\n" in data, data


# -- start-up -------------------------------------------------------------------------------

def test_not_ready_until_credentials_arrive_and_requests_never_wait(serve, fake):
    fake.configure(faults=[{"kind": "hang", "seconds": 2, "count": 1}])
    sidecar = serve(wait_ready=False)
    started = time.time()
    status, headers, body = sidecar.get_json("/v1/credentials")
    assert time.time() - started < 0.5
    assert status == 503 and body["code"] == "CredentialsUnavailable" and headers["Retry-After"] == "1"
    assert sidecar.get_json("/readyz", token=None)[0] == 503
    sidecar.wait_until(lambda: sidecar.get("/readyz", token=None)[0] == 200, what="ready")
    assert sidecar.get_json("/v1/credentials")[0] == 200


def test_a_created_token_file_is_256_bits_without_newline_and_private(serve):
    sidecar = serve()
    token = sidecar.token_path.read_bytes()
    assert re.fullmatch(rb"[0-9a-f]{64}", token)
    assert stat.S_IMODE(os.stat(sidecar.token_path).st_mode) == 0o600


def test_token_file_mode_for_a_shared_group(serve):
    sidecar = serve("--token-file-mode", "0640")
    assert stat.S_IMODE(os.stat(sidecar.token_path).st_mode) == 0o640


def test_an_existing_token_file_is_used(serve, tmp_path):
    token = tmp_path / "given-token"
    token.write_text("operator-chosen-token-0123456789abcdef")
    token.chmod(0o600)
    sidecar = serve(token_file=token)
    assert sidecar.get_json("/v1/credentials", token="operator-chosen-token-0123456789abcdef")[0] == 200
    assert token.read_text() == "operator-chosen-token-0123456789abcdef"


@pytest.mark.parametrize("content,mode,why", [("", 0o600, "is empty"), ("token\n", 0o600, "line break"),
                                              ("to\r\nken", 0o600, "line break"),
                                              ("token-0123456789abcdef0123456789abcdef", 0o644, "readable by others"),
                                              ("token-0123456789abcdef0123456789abcdef", 0o620, "writable by its group"),
                                              ("t", 0o600, "fewer than 32"),
                                              ("a token with spaces in it, long enough", 0o600, "a space")])
def test_a_bad_token_file_is_refused_at_start(jobcreds_bin, fake, tmp_path, content, mode, why):
    token = tmp_path / "token"
    token.write_text(content)
    token.chmod(mode)
    run = subprocess.run([jobcreds_bin, "serve", "--job-id", JOB_ID, "--token-file", str(token), "--region",
                          "us-east-1", "--listen", "127.0.0.1:0", "--audit-log", str(tmp_path / "a.log")],
                         env={"PATH": os.environ["PATH"], "AWS_ACCESS_KEY_ID": WORKER["id"],
                              "AWS_SECRET_ACCESS_KEY": "x"},
                         capture_output=True, text=True, timeout=30)
    assert run.returncode == 64, run
    assert why in run.stderr


@pytest.mark.parametrize("listen", ["0.0.0.0:9911", "10.1.2.3:9911", "[::]:9911", "169.254.169.254:80",
                                    "localhost.evil.com:9911", "127.0.0.1", "127.0.0.1:99999"])
def test_listen_refuses_addresses_sdks_would_not_use(jobcreds_bin, tmp_path, listen):
    run = subprocess.run([jobcreds_bin, "serve", "--job-id", JOB_ID, "--token-file", str(tmp_path / "t"),
                          "--listen", listen], env={"PATH": os.environ["PATH"]}, capture_output=True, text=True,
                         timeout=30)
    assert run.returncode == 64, run
    assert "--listen" in run.stderr
    assert not (tmp_path / "t").exists()


@pytest.mark.parametrize("variable,value", [("JOBCREDS_RATE_BURST", "1e300"), ("JOBCREDS_MAX_CONNECTIONS", "1e19"),
                                            ("JOBCREDS_MAX_CONNECTIONS_PER_CLIENT", "4294967296"),
                                            ("JOBCREDS_IDLE_TIMEOUT", "9999999h")])
def test_a_number_too_large_for_the_server_is_a_usage_error(jobcreds_bin, tmp_path, variable, value):
    """Numbers from the environment are range-checked before they become integers (they used to trap)."""
    run = subprocess.run([jobcreds_bin, "serve", "--job-id", JOB_ID, "--token-file", str(tmp_path / "t"),
                          "--region", "us-east-1"], env={"PATH": os.environ["PATH"], variable: value},
                         capture_output=True, text=True, timeout=30)
    assert run.returncode == 64, run
    assert "must be below 2147483647" in run.stderr and "Fatal error" not in run.stderr


def test_options_from_the_environment(serve, tmp_path):
    sidecar = serve(env={"JOBCREDS_CREDENTIAL_LIFETIME": "20m"})
    start = [line for line in sidecar.audit() if line["event"] == "start"][0]
    assert start["credential_lifetime"] == "20m"


# -- refresh, failure, job end ------------------------------------------------------------------

def test_refreshes_in_the_background_and_serves_the_new_credentials(serve, fake):
    fake.configure(jobs={JOB_ID: {"rotate": True}})
    sidecar = serve("--credential-lifetime", "4s")
    first = sidecar.get_json("/v1/credentials")[2]["AccessKeyId"]
    sidecar.wait_until(lambda: sidecar.get_json("/v1/credentials")[2]["AccessKeyId"] != first, what="rotation")
    refreshes = [line for line in sidecar.audit() if line["event"] == "refresh"]
    assert refreshes and refreshes[0]["access_key_id"] != first


def test_200_concurrent_clients_cause_at_most_one_upstream_call(serve, fake):
    # The first fetch is slow, so the clients arrive both before and after credentials are cached.
    fake.configure(faults=[{"kind": "hang", "seconds": 1, "count": 1}])
    sidecar = serve(wait_ready=False)
    barrier = threading.Barrier(200)
    statuses = []

    def client():
        barrier.wait()
        statuses.append(sidecar.get("/v1/credentials")[0])
        time.sleep(1.2)
        statuses.append(sidecar.get("/v1/credentials")[0])

    threads = [threading.Thread(target=client) for _ in range(200)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(statuses) == 400
    assert set(statuses) <= {200, 503} and statuses.count(200) >= 200
    assert len([c for c in fake.calls() if c["operation"] == "GetJobDetails"]) == 1
    requests = [line for line in sidecar.audit() if line["event"] == "request" and line["path"] == "/v1/credentials"]
    assert len(requests) == 400


def test_a_failing_refresh_keeps_serving_until_expiry_then_recovers(serve, fake):
    sidecar = serve("--credential-lifetime", "6s")
    fake.configure(faults=[{"kind": "http500", "count": 10_000}])
    assert sidecar.get_json("/v1/credentials")[0] == 200
    sidecar.wait_until(lambda: sidecar.get_json("/v1/credentials")[0] == 503, timeout=15, what="expiry")
    status, _, body = sidecar.get_json("/v1/credentials")
    assert body["code"] == "CredentialsUnavailable"
    assert any(line["event"] == "refresh_failed" for line in sidecar.audit())
    fake.configure(clear_faults=True)
    sidecar.wait_until(lambda: sidecar.get_json("/v1/credentials")[0] == 200, timeout=60, what="recovery")


def test_when_the_job_ends_credentials_stop(serve, fake):
    sidecar = serve("--credential-lifetime", "4s")
    fake.configure(faults=[{"kind": "not_found", "count": 10_000}])
    sidecar.wait_until(lambda: sidecar.get_json("/v1/credentials")[0] == 410, what="job end")
    status, _, body = sidecar.get_json("/readyz", token=None)
    assert status == 503 and body["code"] == "JobEnded"
    assert sidecar.get_json("/healthz", token=None)[0] == 200
    ended = [line for line in sidecar.audit() if line["event"] == "job_ended"]
    assert len(ended) == 1 and ended[0]["reason"] == "jobNotFound"
    calls = len(fake.calls())
    time.sleep(2)
    assert len(fake.calls()) == calls  # no more refreshing


# -- the audit log --------------------------------------------------------------------------

def test_every_request_is_audited_with_the_fields_and_no_secret(serve, fake):
    sidecar = serve()
    sidecar.get("/v1/credentials", headers={"User-Agent": 'aws-cli/1 "quoted" \\ back'})
    sidecar.get("/v1/credentials", token="wrong")
    sidecar.get("/v1/credentials", token=None)
    sidecar.get("/nowhere")
    sidecar.get("/v1/credentials", method="PUT")
    lines = sidecar.audit()
    requests = [line for line in lines if line["event"] == "request"]
    assert [line["status"] for line in requests[-5:]] == [200, 403, 401, 404, 405]
    served = requests[-5]
    assert served["decision"] == "allow" and served["access_key_id"] == "ASIAFAKEARTIFACT0001"
    assert served["user_agent"] == 'aws-cli/1 "quoted" \\ back'
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", served["time"])
    for key in ("request_id", "client_addr", "client_port", "client_uid", "method", "path", "reason", "job_id",
                "expiration"):
        assert key in served, key
    assert all(line["client_uid"] == os.geteuid() for line in requests)  # the user owning the client's socket
    assert served["client_addr"] == "127.0.0.1" and re.fullmatch(r"[0-9a-f]{8}-\d{6,}", served["request_id"])
    assert all(line["decision"] == "deny" for line in requests[-4:])
    upstream = [line for line in lines if line["event"] == "upstream"]
    assert upstream and upstream[0]["operation"] == "GetJobDetails" and upstream[0]["aws_request_id"].startswith("req-")
    text = sidecar.audit_path.read_text()
    expected = served_document(fake)
    for secret in (expected["secretAccessKey"], expected["sessionToken"], sidecar.token) + SECRET_MARKERS:
        assert secret not in text
    assert len(text.splitlines()) == len(lines)


@pytest.mark.parametrize("source", ["127.3.20.255", "127.100.0.9"])
def test_the_client_address_is_audited_as_the_kernel_reports_it(serve, source):
    sidecar = serve()
    with socket.socket() as client:
        client.bind((source, 0))
        client.connect(("127.0.0.1", sidecar.port))
        client.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n\r\n" % sidecar.port)
        while client.recv(4096):
            pass
        port = client.getsockname()[1]
    line = [line for line in sidecar.audit() if line.get("path") == "/healthz"][-1]
    assert (line["client_addr"], line["client_port"]) == (source, port)


def test_sigterm_stops_gracefully_with_a_final_line(serve):
    sidecar = serve()
    assert sidecar.stop(signal.SIGTERM) == 0
    assert sidecar.audit()[-1]["event"] == "stop"
    assert sidecar.audit()[-1]["reason"] == "SIGTERM"


def test_sigint_stops_gracefully_too(serve):
    sidecar = serve()
    assert sidecar.stop(signal.SIGINT) == 0
    assert sidecar.audit()[-1]["reason"] == "SIGINT"


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_nothing_secret_in_the_operational_log(serve, fake, log_format):
    fake.configure(faults=[{"kind": "http500", "count": 1}])
    sidecar = serve("--credential-lifetime", "3s", env={"JOBCREDS_LOG_LEVEL": "trace",
                                                        "JOBCREDS_LOG_FORMAT": log_format})
    body = sidecar.get_json("/v1/credentials")[2]
    sidecar.wait_until(lambda: any(line["event"] == "refresh" for line in sidecar.audit()), what="a refresh")
    assert sidecar.stop() == 0
    assert "serving" in sidecar.stderr and "retrying" in sidecar.stderr  # the log is really on
    for secret in (body["SecretAccessKey"], body["Token"], sidecar.token) + SECRET_MARKERS:
        assert secret not in sidecar.stderr and secret not in sidecar.stdout


def test_third_party_jobs_are_served(serve, fake, tmp_path):
    fake.configure(jobs={"partner-job-42": {"third_party": True, "client_token": "client-token-" + CANARY}})
    token = tmp_path / "client-token"
    token.write_text("client-token-" + CANARY)
    token.chmod(0o600)
    sidecar = serve("--client-token-file", str(token), job_id="partner-job-42")
    assert sidecar.get_json("/v1/credentials")[0] == 200
    assert fake.calls()[-1]["operation"] == "GetThirdPartyJobDetails"
    assert CANARY not in sidecar.audit_path.read_text()


# -- scoped tokens ------------------------------------------------------------------------------

def test_each_token_file_grants_its_scopes_and_is_audited_by_its_name(serve, tmp_path):
    locations = tmp_path / "locations"
    sidecar = serve("--token-file", "%s:artifacts" % locations)
    other = locations.read_text()
    assert sidecar.get("/v1/credentials")[0] == 200  # the first, bare: credentials and artifacts
    status, _, body = sidecar.get_json("/v1/credentials", token=other)
    assert status == 403 and body["code"] == "ScopeNotGranted" and other not in json.dumps(body)
    assert sidecar.get("/v1/artifacts", token=other)[0] == 200
    requests = [line for line in sidecar.audit() if line.get("path") in ("/v1/credentials", "/v1/artifacts")]
    assert [(line["token"], line["status"]) for line in requests[-3:]] == [("token", 200), ("locations", 403),
                                                                          ("locations", 200)]
    start = [line for line in sidecar.audit() if line["event"] == "start"][0]
    assert start["tokens"] == "token:credentials,artifacts locations:artifacts"
    text = sidecar.audit_path.read_text()
    assert sidecar.token not in text and other not in text


def test_a_sighup_rereads_every_token_file(serve, tmp_path):
    second = tmp_path / "second"
    sidecar = serve("--token-file", "%s:credentials" % second)
    old = second.read_text()
    assert sidecar.get("/v1/credentials", token=old)[0] == 200
    replacement = tmp_path / "second.new"
    replacement.write_text("rotated-second-token-0123456789abcdef")
    replacement.chmod(0o600)
    replacement.rename(second)
    sidecar.process.send_signal(signal.SIGHUP)
    sidecar.wait_until(lambda: any(line["event"] == "reload" for line in sidecar.audit()), what="reload")
    assert sidecar.get("/v1/credentials", token="rotated-second-token-0123456789abcdef")[0] == 200
    assert sidecar.get("/v1/credentials", token=old)[0] == 403
    assert sidecar.get("/v1/credentials")[0] == 200  # the first token file, read again unchanged
    reload = [line for line in sidecar.audit() if line["event"] == "reload"][0]
    assert reload["tokens"] == "token:credentials,artifacts second:credentials"


def test_token_files_from_the_environment(jobcreds_bin, fake, tmp_path):
    """Without --token-file: JOBCREDS_TOKEN_FILE and JOBCREDS_TOKEN_FILES together."""
    from sidecar import serve_environment
    environment = serve_environment(fake, tmp_path)
    environment.update({"JOBCREDS_TOKEN_FILE": str(tmp_path / "main"),
                        "JOBCREDS_TOKEN_FILES": "%s:download,upload\n  %s:configuration" % (tmp_path / "steps",
                                                                                           tmp_path / "config")})
    audit = tmp_path / "audit.log"
    process = subprocess.Popen([jobcreds_bin, "serve", "--job-id", JOB_ID, "--listen", "127.0.0.1:0", "--audit-log",
                                str(audit)], env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 20
        while not (audit.exists() and '"event":"listening"' in audit.read_text()) and time.time() < deadline:
            time.sleep(0.05)
        start = [json.loads(line) for line in audit.read_text().splitlines() if '"event":"start"' in line][0]
        assert start["tokens"] == "main:credentials,artifacts steps:download,upload config:configuration"
        assert all((tmp_path / name).exists() for name in ("main", "steps", "config"))
    finally:
        process.terminate()
        process.communicate(timeout=15)


@pytest.mark.parametrize("files,message", [
    (["{d}/a:credentials,everything"], "'everything' is not a scope"),
    (["{d}/x/token", "{d}/y/token"], "have one name, token"),
    (["{d}/a", "{d}/b"], "hold the same token"),
])
def test_bad_token_files_are_refused_at_start(jobcreds_bin, tmp_path, files, message):
    for sub in ("x", "y"):
        (tmp_path / sub).mkdir()
    for name in ("a", "b"):
        (tmp_path / name).write_text("one-token-for-both-0123456789abcdef")
        (tmp_path / name).chmod(0o600)
    argv = [jobcreds_bin, "serve", "--job-id", JOB_ID, "--region", "us-east-1", "--listen", "127.0.0.1:0",
            "--audit-log", str(tmp_path / "audit.log")]
    for text in files:
        argv += ["--token-file", text.format(d=tmp_path)]
    run = subprocess.run(argv, env={"PATH": os.environ["PATH"], "AWS_ACCESS_KEY_ID": WORKER["id"],
                                    "AWS_SECRET_ACCESS_KEY": "x"}, capture_output=True, text=True, timeout=30)
    assert run.returncode == 64 and message in run.stderr, run
    assert "one-token-for-both-0123456789abcdef" not in run.stderr
