"""The AWS clients build images carry, old ones included, each reading the job's input artifact
from the fake's S3 (which verifies every signature) with what the sidecar served, in the mode it
needs; and each run once without its mode, to show the mode did the work.

- Debian 12's AWS CLI v2 (2.9.19), SDK for Go v1 (1.44.133) and v2 (1.17.1) and awscrt (0.16.8)
  read the token only from AWS_CONTAINER_AUTHORIZATION_TOKEN: `jobcreds exec`.
- Debian 12's SDK for Ruby (aws-sdk-core 3.168.1) has no full-URI container provider:
  `jobcreds credential-process` in a generated config file (and the instance-metadata listener,
  in test_imds.py).
- Current botocore (the project's .venv): the token file as it is, and `credential-process`.
"""
import json
import os
import subprocess
import sys

import pytest

from conftest import CANARY, HERE

CLIENTS = HERE / "clients"
BUCKET = "codepipeline-us-east-1-artifacts"
INPUT = "demo/SourceOutput/src.zip"
PROBE_ARGS = (BUCKET, INPUT)
SYSTEM_PYTHON = "/usr/bin/python3"  # Debian's, with python3-awscrt


@pytest.fixture(scope="session")
def go_probes(tmp_path_factory):
    """The Go probes, built with Debian's Go in GOPATH mode against Debian's SDK packages."""
    out = tmp_path_factory.mktemp("go-probes")
    environment = dict(os.environ, GOPATH="/usr/share/gocode", GO111MODULE="off", GOFLAGS="",
                       GOCACHE=str(out / "cache"))
    built = {}
    for name in ("go-sdk-v1", "go-sdk-v2"):
        binary = out / name
        subprocess.run(["go", "build", "-o", str(binary), str(CLIENTS / name / "main.go")], env=environment,
                       check=True, capture_output=True, timeout=600)
        built[name] = str(binary)
    return built


def client_environment(sidecar, fake, tmp_path, **extra):
    """What the build container has: the two variables, the fake's CA, a region; no identity."""
    environment = sidecar.client_env()
    environment.update({"HOME": str(tmp_path), "AWS_CA_BUNDLE": fake.ca_bundle, "AWS_DEFAULT_REGION": "us-east-1",
                        "AWS_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true"})
    environment.update(extra)
    return environment


def run(argv, environment, timeout=120):
    return subprocess.run(argv, env=environment, capture_output=True, text=True, errors="replace", timeout=timeout)


def assert_read_with_the_artifact_key(result, fake, sidecar, path="/v1/credentials"):
    assert result.returncode == 0, result.stdout + result.stderr
    calls = [call for call in fake.control("/_control/s3") if call["operation"] == "GetObject"]
    assert calls and all(call["signature"] == "ok" and call["verdict"] == "ok" for call in calls), calls
    assert {call["access_key"] for call in calls} == {"ASIAFAKEARTIFACT0001"}
    assert {call["object"] for call in calls} == {BUCKET + "/" + INPUT}
    served = [line for line in sidecar.audit() if line.get("path") == path and line["status"] == 200]
    assert served, "the client never fetched the credentials from the sidecar"
    assert CANARY not in result.stdout + result.stderr


def assert_failed_for_want_of_the_token(result, fake, sidecar):
    assert result.returncode != 0, result.stdout
    assert not [call for call in fake.control("/_control/s3") if call.get("verdict") == "ok"]
    refused = [line for line in sidecar.audit() if line.get("path") == "/v1/credentials"]
    assert refused and all(line["reason"] == "MissingToken" for line in refused), refused


def old_clients(go_probes, fake):
    """Debian 12's clients that read the token from the environment only: (name, argv)."""
    return {
        "aws-cli-v2": ["/usr/bin/aws", "s3", "cp", "s3://%s/%s" % PROBE_ARGS, "-", "--endpoint-url", fake.https],
        "go-sdk-v1": [go_probes["go-sdk-v1"], fake.https, *PROBE_ARGS],
        "go-sdk-v2": [go_probes["go-sdk-v2"], fake.https, *PROBE_ARGS],
        "awscrt": [SYSTEM_PYTHON, str(CLIENTS / "awscrt_probe.py"), fake.https, *PROBE_ARGS],
    }


@pytest.mark.parametrize("client", ["aws-cli-v2", "go-sdk-v1", "go-sdk-v2", "awscrt"])
def test_debian_12s_old_clients_fail_on_the_token_file_alone(serve, fake, tmp_path, go_probes, client):
    sidecar = serve()
    result = run(old_clients(go_probes, fake)[client], client_environment(sidecar, fake, tmp_path))
    assert_failed_for_want_of_the_token(result, fake, sidecar)


@pytest.mark.parametrize("client", ["aws-cli-v2", "go-sdk-v1", "go-sdk-v2", "awscrt"])
def test_debian_12s_old_clients_read_the_artifact_through_jobcreds_exec(serve, fake, tmp_path, go_probes,
                                                                       jobcreds_bin, client):
    sidecar = serve()
    # The image's own environment may carry an identity and the ECS variable: exec removes them.
    environment = client_environment(sidecar, fake, tmp_path, AWS_ACCESS_KEY_ID="AKIAIMAGEKEY",
                                     AWS_SECRET_ACCESS_KEY="image-secret", AWS_PROFILE="image",
                                     AWS_CONTAINER_CREDENTIALS_RELATIVE_URI="/v2/credentials/ecs-trap")
    result = run([jobcreds_bin, "exec", "--wait-ready", "10s", "--", *old_clients(go_probes, fake)[client]],
                 environment)
    assert_read_with_the_artifact_key(result, fake, sidecar)


def ruby_probe(fake):
    return ["ruby", str(CLIENTS / "ruby_probe.rb"), fake.https, *PROBE_ARGS]


def credential_process_config(tmp_path, jobcreds_bin):
    config = tmp_path / "aws-config"
    config.write_text("[default]\ncredential_process = %s credential-process\n" % jobcreds_bin)
    return str(config)


def test_debian_12s_ruby_sdk_finds_no_credentials_without_a_mode(serve, fake, tmp_path):
    sidecar = serve()
    result = run(ruby_probe(fake), client_environment(sidecar, fake, tmp_path))
    assert result.returncode != 0
    assert "MissingCredentials" in result.stderr or "unable to sign request without credentials" in result.stderr
    assert not [line for line in sidecar.audit() if line.get("path") == "/v1/credentials"]  # it never asked


def test_debian_12s_ruby_sdk_reads_the_artifact_through_credential_process(serve, fake, tmp_path, jobcreds_bin):
    sidecar = serve()
    environment = client_environment(sidecar, fake, tmp_path,
                                     AWS_CONFIG_FILE=credential_process_config(tmp_path, jobcreds_bin))
    result = run(ruby_probe(fake), environment)
    assert_read_with_the_artifact_key(result, fake, sidecar)


def test_current_botocore_reads_the_artifact_with_the_token_file(serve, fake, tmp_path):
    sidecar = serve()
    script = ("import boto3, sys; s3 = boto3.client('s3', endpoint_url=sys.argv[1]); "
              "print('read', len(s3.get_object(Bucket=sys.argv[2], Key=sys.argv[3])['Body'].read()), 'bytes')")
    result = run([sys.executable, "-c", script, fake.https, *PROBE_ARGS], client_environment(sidecar, fake, tmp_path))
    assert_read_with_the_artifact_key(result, fake, sidecar)


def test_current_botocore_reads_the_artifact_through_credential_process(serve, fake, tmp_path, jobcreds_bin):
    sidecar = serve()
    environment = client_environment(sidecar, fake, tmp_path,
                                     AWS_CONFIG_FILE=credential_process_config(tmp_path, jobcreds_bin))
    # botocore asks credential_process before the container provider: the document is what it signs with.
    script = ("import boto3, sys; s3 = boto3.client('s3', endpoint_url=sys.argv[1]); "
              "method = s3._request_signer._credentials.method; assert method == 'custom-process', method; "
              "print('read', len(s3.get_object(Bucket=sys.argv[2], Key=sys.argv[3])['Body'].read()), 'bytes')")
    result = run([sys.executable, "-c", script, fake.https, *PROBE_ARGS], environment)
    assert_read_with_the_artifact_key(result, fake, sidecar)


# -- jobcreds exec and credential-process on their own ---------------------------------------

def test_exec_gives_the_command_the_token_and_nothing_of_another_identity(serve, fake, tmp_path, jobcreds_bin):
    sidecar = serve()
    environment = client_environment(sidecar, fake, tmp_path, AWS_ACCESS_KEY_ID="AKIAIMAGEKEY",
                                     AWS_SECRET_ACCESS_KEY="image-secret", AWS_SESSION_TOKEN="image-token",
                                     AWS_PROFILE="p", AWS_DEFAULT_PROFILE="p", AWS_ROLE_ARN="arn:aws:iam::1:role/r",
                                     AWS_WEB_IDENTITY_TOKEN_FILE="/var/run/token",
                                     AWS_CONTAINER_CREDENTIALS_RELATIVE_URI="/v2/credentials/x", KEEP_ME="yes")
    result = run([jobcreds_bin, "exec", "--", "env"], environment)
    assert result.returncode == 0, result.stderr
    seen = dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
    assert seen["AWS_CONTAINER_AUTHORIZATION_TOKEN"] == sidecar.token
    assert seen["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"] == str(sidecar.token_path)
    assert seen["AWS_CONTAINER_CREDENTIALS_FULL_URI"] == sidecar.base + "/v1/credentials"
    assert seen["KEEP_ME"] == "yes"
    for removed in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                    "AWS_DEFAULT_PROFILE", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE",
                    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"):
        assert removed not in seen, removed


def test_exec_becomes_the_command_its_status_and_its_signals(serve, fake, tmp_path, jobcreds_bin):
    sidecar = serve()
    environment = client_environment(sidecar, fake, tmp_path)
    assert run([jobcreds_bin, "exec", "--", "sh", "-c", "exit 3"], environment).returncode == 3
    process = subprocess.Popen([jobcreds_bin, "exec", "--", "sh", "-c", "echo $$; exec sleep 30"], env=environment,
                               stdout=subprocess.PIPE, text=True)
    assert int(process.stdout.readline()) == process.pid  # the same process: nothing of jobcreds stays
    process.terminate()
    assert process.wait(timeout=10) == -15


@pytest.mark.parametrize("change,status,message", [
    ({"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": None}, 64, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE is not set"),
    ({"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": "/nonexistent/token"}, 64, "cannot be read"),
    ({"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": "/"}, 64, "is not a regular file"),
    ({"AWS_CONTAINER_CREDENTIALS_FULL_URI": None}, 64, "AWS_CONTAINER_CREDENTIALS_FULL_URI is not set"),
    ({"AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://example.com/v1/credentials"}, 64, "plain http"),
    ({"AWS_CONTAINER_CREDENTIALS_FULL_URI": "ftp://127.0.0.1/x"}, 64, "not an http(s) URL"),
])
def test_exec_and_credential_process_refuse_a_bad_setup_before_anything_runs(serve, fake, tmp_path, jobcreds_bin,
                                                                            change, status, message):
    sidecar = serve()
    environment = client_environment(sidecar, fake, tmp_path)
    for name, value in change.items():
        environment.pop(name) if value is None else environment.__setitem__(name, value)
    marker = tmp_path / "ran"
    result = run([jobcreds_bin, "exec", "--", "touch", str(marker)], environment)
    assert result.returncode == status and message in result.stderr, result
    assert not marker.exists()
    result = run([jobcreds_bin, "credential-process"], environment)
    assert result.returncode == status and message in result.stderr and result.stdout == "", result


def test_exec_help_before_the_separator_is_help_and_after_it_the_commands(serve, fake, tmp_path, jobcreds_bin):
    sidecar = serve()
    environment = client_environment(sidecar, fake, tmp_path)
    for argv in (["--help"], ["-h"], ["--wait-ready", "1s", "--help"]):
        helped = run([jobcreds_bin, "exec", *argv], environment)
        assert helped.returncode == 0 and "USAGE: jobcreds exec" in helped.stdout, helped
    echoed = run([jobcreds_bin, "exec", "--", "sh", "-c", "echo --help"], environment)
    assert echoed.returncode == 0 and echoed.stdout == "--help\n", echoed
    named = run([jobcreds_bin, "exec", "--", "--help"], environment)
    assert named.returncode == 127 and "command not found" in named.stderr, named


def test_exec_names_a_command_it_cannot_run(serve, fake, tmp_path, jobcreds_bin):
    sidecar = serve()
    environment = client_environment(sidecar, fake, tmp_path)
    missing = run([jobcreds_bin, "exec", "--", "no-such-command-here"], environment)
    assert missing.returncode == 127 and "command not found" in missing.stderr
    script = tmp_path / "script.sh"
    script.write_text("#!/bin/sh\n")
    plain = run([jobcreds_bin, "exec", "--", str(script)], environment)
    assert plain.returncode == 126 and "not executable" in plain.stderr
    nothing = run([jobcreds_bin, "exec"], environment)
    assert nothing.returncode == 64 and "missing COMMAND" in nothing.stderr


def test_exec_waits_for_readiness_and_gives_up_in_time(serve, fake, tmp_path, jobcreds_bin):
    fake.configure(faults=[{"kind": "throttle", "count": 1_000_000}])
    sidecar = serve(wait_ready=False)
    result = run([jobcreds_bin, "exec", "--wait-ready", "1s", "--", "true"], client_environment(sidecar, fake, tmp_path))
    assert result.returncode == 7 and "was not ready within 1s" in result.stderr, result
    fake.configure(clear_faults=True)
    result = run([jobcreds_bin, "exec", "--wait-ready", "20s", "--", "true"], client_environment(sidecar, fake, tmp_path))
    assert result.returncode == 0, result


def test_credential_process_prints_the_version_1_document_and_nothing_secret_elsewhere(serve, fake, tmp_path,
                                                                                      jobcreds_bin):
    sidecar = serve()
    result = run([jobcreds_bin, "credential-process"], client_environment(sidecar, fake, tmp_path))
    assert result.returncode == 0 and result.stderr == "", result
    document = json.loads(result.stdout)
    assert set(document) == {"Version", "AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"}
    assert document["Version"] == 1 and document["AccessKeyId"] == "ASIAFAKEARTIFACT0001"
    assert document["Expiration"].endswith("Z")
    wrong = tmp_path / "wrong-token"
    wrong.write_text("wrong-" + CANARY)
    refused = run([jobcreds_bin, "credential-process"],
                  client_environment(sidecar, fake, tmp_path, AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=str(wrong)))
    assert refused.returncode == 7 and refused.stdout == "" and "HTTP 403" in refused.stderr, refused
    assert CANARY not in refused.stderr
