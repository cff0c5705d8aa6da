"""The instance-metadata listener (`--imds-listen`): IMDSv2 for clients that know nothing else.
Debian 12's SDK for Ruby and current botocore read the input artifact through it; everything it
refuses is refused as the EC2 service would, audited, and nothing secret but the credentials
document ever leaves it."""
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from conftest import CANARY, JOB_ID, free_port
from test_clients import PROBE_ARGS, assert_read_with_the_artifact_key, client_environment, ruby_probe, run

TTL = "X-aws-ec2-metadata-token-ttl-seconds"
TOKEN = "X-aws-ec2-metadata-token"
ROLES = "/latest/meta-data/iam/security-credentials/"


class Metadata:
    """A sidecar with the instance-metadata listener, and an HTTP client for that listener."""

    def __init__(self, sidecar, address):
        self.sidecar = sidecar
        self.base = "http://" + address

    def request(self, path, method="GET", headers=None):
        request = urllib.request.Request(self.base + path, method=method, headers=dict(headers or {}))
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return response.status, dict(response.headers), response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read().decode()

    def session(self, ttl="60"):
        status, _, token = self.request("/latest/api/token", "PUT", {TTL: ttl})
        assert status == 200, token
        return token

    def audited(self):
        return [line for line in self.sidecar.audit() if line.get("listener") == "imds"]


@pytest.fixture
def metadata(serve):
    address = "127.0.0.1:%d" % free_port()
    sidecar = serve("--imds-listen", address)
    return Metadata(sidecar, address)


def test_the_session_flow_of_imdsv2(metadata):
    token = metadata.session("21600")
    assert len(token) == 64
    status, headers, role = metadata.request(ROLES, headers={TOKEN: token})
    assert status == 200 and role == "jobcreds-artifacts" and headers["Content-Type"] == "text/plain"
    status, _, document = metadata.request(ROLES + role, headers={TOKEN: token})
    credentials = json.loads(document)
    assert status == 200 and credentials["Code"] == "Success" and credentials["Type"] == "AWS-HMAC"
    assert credentials["AccessKeyId"] == "ASIAFAKEARTIFACT0001" and credentials["Expiration"].endswith("Z")
    assert set(credentials) == {"Code", "LastUpdated", "Type", "AccessKeyId", "SecretAccessKey", "Token",
                                "Expiration"}
    assert metadata.request("/latest/meta-data/placement/region", headers={TOKEN: token})[2] == "us-east-1"
    served = [line for line in metadata.audited() if line["reason"] == "credentials"]
    assert served and served[0]["access_key_id"] == "ASIAFAKEARTIFACT0001" and served[0]["path"] == ROLES + role


@pytest.mark.parametrize("headers,status,code", [
    ({}, 401, "MissingToken"),
    ({TOKEN: "0" * 64}, 401, "InvalidToken"),
    ({TOKEN: "token-" + CANARY}, 401, "InvalidToken"),
])
def test_a_get_needs_a_valid_session_token(metadata, headers, status, code):
    for path in (ROLES, ROLES + "jobcreds-artifacts", "/latest/meta-data/placement/region", "/anything"):
        answer = metadata.request(path, headers=headers)
        assert (answer[0], code) == (status, code) and '"code":"%s"' % code in answer[2], answer
    assert {line["reason"] for line in metadata.audited()} == {code}
    assert all(line["decision"] == "deny" for line in metadata.audited())


def test_an_expired_session_token_is_refused(serve):
    address = "127.0.0.1:%d" % free_port()
    metadata = Metadata(serve("--imds-listen", address), address)
    token = metadata.session("1")
    assert metadata.request(ROLES, headers={TOKEN: token})[0] == 200
    time.sleep(1.2)
    status, _, body = metadata.request(ROLES, headers={TOKEN: token})
    assert status == 401 and "InvalidToken" in body
    assert metadata.audited()[-1]["reason"] == "InvalidToken"


@pytest.mark.parametrize("ttl", [None, "0", "21601", "-5", "sixty", "1e3", ""])
def test_a_session_token_needs_a_ttl_from_1_to_21600(metadata, ttl):
    headers = {} if ttl is None else {TTL: ttl}
    status, _, body = metadata.request("/latest/api/token", "PUT", headers)
    assert status == 400 and "InvalidTokenTTL" in body, body
    assert metadata.audited()[-1]["reason"] == "InvalidTokenTTL"


def test_forwarded_puts_foreign_hosts_browsers_and_other_methods_are_refused(metadata):
    refused = [
        (metadata.request("/latest/api/token", "PUT", {TTL: "60", "X-Forwarded-For": "10.0.0.1"}), 403,
         "ForwardedRequestRefused"),
        (metadata.request("/latest/api/token", "PUT", {TTL: "60", "Origin": "http://evil.example"}), 403,
         "ForwardedRequestRefused"),
        (metadata.request("/latest/api/token", "PUT", {TTL: "60", "Host": "evil.example"}), 403, "HostNotAllowed"),
        (metadata.request("/latest/api/token", "GET", {TTL: "60"}), 405, "MethodNotAllowed"),
        (metadata.request(ROLES, "POST", {TOKEN: metadata.session()}), 405, "MethodNotAllowed"),
        (metadata.request(ROLES + "another-role", headers={TOKEN: metadata.session()}), 404, "NotFound"),
        (metadata.request("/latest/meta-data/instance-id", headers={TOKEN: metadata.session()}), 404, "NotFound"),
    ]
    for (status, _, body), expected, code in refused:
        assert status == expected and '"code":"%s"' % code in body, (status, body, code)
    reasons = [line["reason"] for line in metadata.audited() if line["decision"] == "deny"]
    assert reasons == [code for _, _, code in refused]


def test_no_canary_in_any_answer_and_the_metrics_count_the_listener(serve, fake):
    address = "127.0.0.1:%d" % free_port()
    sidecar = serve("--imds-listen", address, "--metrics-listen", "127.0.0.1:0")
    metadata = Metadata(sidecar, address)
    token = metadata.session()
    answers = [metadata.request(path, headers={TOKEN: token}) for path in
               (ROLES, ROLES + "jobcreds-artifacts", "/latest/meta-data/placement/region", "/latest/" + CANARY)]
    answers.append(metadata.request("/latest/api/token", "PUT", {TTL: CANARY}))
    for status, headers, body in answers:
        assert CANARY not in body and CANARY not in str(headers)
    for line in metadata.audited():
        assert CANARY not in str({k: v for k, v in line.items() if k not in ("path", "user_agent")})
    _, _, text = sidecar.scrape()
    assert 'jobcreds_requests_total{route="/latest/api/token",status="200"} 1' in text
    assert 'jobcreds_requests_total{route="/latest/meta-data/iam/security-credentials/{role}",status="200"} 1' in text
    assert CANARY not in text


@pytest.mark.parametrize("address", ["0.0.0.0:0", "10.1.2.3:80", "[::]:0", "localhost:80"])
def test_the_listener_binds_loopback_only(jobcreds_bin, tmp_path, address):
    result = subprocess.run([jobcreds_bin, "serve", "--job-id", JOB_ID, "--token-file", str(tmp_path / "t"),
                             "--imds-listen", address], env={"PATH": os.environ["PATH"]}, capture_output=True,
                            text=True, timeout=30)
    assert result.returncode == 64 and "--imds-listen" in result.stderr, result


def test_current_botocore_reads_the_artifact_through_the_listener(serve, fake, tmp_path):
    address = "127.0.0.1:%d" % free_port()
    sidecar = serve("--imds-listen", address)
    environment = client_environment(sidecar, fake, tmp_path, AWS_EC2_METADATA_SERVICE_ENDPOINT="http://" + address)
    for name in ("AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
                 "AWS_EC2_METADATA_DISABLED"):
        environment.pop(name)
    script = ("import boto3, sys; s3 = boto3.client('s3', endpoint_url=sys.argv[1]); "
              "method = s3._request_signer._credentials.method; assert method == 'iam-role', method; "
              "print('read', len(s3.get_object(Bucket=sys.argv[2], Key=sys.argv[3])['Body'].read()), 'bytes')")
    result = run([sys.executable, "-c", script, fake.https, *PROBE_ARGS], environment)
    assert_read_with_the_artifact_key(result, fake, sidecar, path=ROLES + "jobcreds-artifacts")


def test_debian_12s_ruby_sdk_reads_the_artifact_through_the_listener(serve, fake, tmp_path):
    # aws-sdk-core 3.168 ignores the port in AWS_EC2_METADATA_SERVICE_ENDPOINT and always dials 80:
    # the listener takes port 80 on a loopback address of its own.
    if os.geteuid() != 0:
        pytest.skip("binding port 80 needs root (CI runs as root)")
    sidecar = serve("--imds-listen", "127.0.0.2:80")
    environment = client_environment(sidecar, fake, tmp_path, AWS_EC2_METADATA_SERVICE_ENDPOINT="http://127.0.0.2")
    environment.pop("AWS_EC2_METADATA_DISABLED")
    result = run(ruby_probe(fake), environment)
    assert_read_with_the_artifact_key(result, fake, sidecar, path=ROLES + "jobcreds-artifacts")
    assert [line["path"] for line in Metadata(sidecar, "127.0.0.2:80").audited()] == [
        "/latest/api/token", ROLES, ROLES + "jobcreds-artifacts"]
