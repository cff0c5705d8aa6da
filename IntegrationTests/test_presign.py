"""Presigned artifact URLs end to end: the real sidecar issues them, botocore's S3 query signer
recomputes every one independently, and the fake's S3 (which verifies query signatures with
botocore) accepts them for exactly the object, method, bytes and time they were signed for."""
import hashlib
import http.client
import json
import ssl
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from conftest import CANARY, JOB_ID
from sidecar import serve_environment
from sigv4_oracle import presign_with_botocore

INPUT = "codepipeline-us-east-1-artifacts/demo/SourceOutput/src.zip"
OUTPUT = "codepipeline-us-east-1-artifacts/demo/BuildOutput/out.zip"
SCOPES = ("credentials", "artifacts", "download", "upload", "configuration")
ROUTES = {"/v1/credentials": "credentials", "/v1/artifacts": "artifacts",
          "/v1/artifacts/SourceOutput/download": "download", "/v1/artifacts/BuildOutput/upload": "upload",
          "/v1/configuration": "configuration"}


@pytest.fixture
def presigning(serve, fake, tmp_path):
    """A sidecar whose URLs point at the fake's S3, with a `download,upload` token file `steps`
    besides the default (whole-credentials) one; returns (sidecar, steps token)."""
    def start(*args):
        steps = tmp_path / ("steps%d" % len(list(tmp_path.glob("steps*"))))
        sidecar = serve("--token-file", "%s:download,upload" % steps, "--s3-endpoint-url", fake.https, *args)
        return sidecar, steps.read_text()
    return start


def s3(fake, url, method="GET", data=None, headers=None):
    """A plain HTTPS request to a presigned URL: (status, body); no AWS anything."""
    request = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
    context = ssl.create_default_context(cafile=fake.ca_bundle)
    try:
        with urllib.request.urlopen(request, context=context, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def botocore_url(sidecar, answer):
    """The URL botocore's S3 query signer makes for the same request, credentials and time."""
    _, _, credentials = sidecar.get_json("/v1/credentials")
    parts = urllib.parse.urlsplit(answer["url"])
    query = urllib.parse.parse_qs(parts.query)
    return presign_with_botocore(answer["method"], "%s://%s%s" % (parts.scheme, parts.netloc, parts.path),
                                 answer["headers"], credentials["AccessKeyId"], credentials["SecretAccessKey"],
                                 credentials["Token"], "us-east-1", query["X-Amz-Date"][0],
                                 int(query["X-Amz-Expires"][0]))


def last_s3_call(fake):
    return fake.control("/_control/s3")[-1]


# -- the URLs ---------------------------------------------------------------------------------

def test_a_download_url_is_botocores_and_fetches_the_input(presigning, fake):
    sidecar, steps = presigning()
    status, headers, answer = sidecar.get_json("/v1/artifacts/SourceOutput/download", token=steps)
    assert status == 200 and headers["Cache-Control"] == "no-store"
    assert set(answer) == {"artifact", "bucket", "key", "method", "url", "headers", "expiration"}
    assert (answer["artifact"], "%s/%s" % (answer["bucket"], answer["key"])) == ("SourceOutput", INPUT)
    assert answer["method"] == "GET" and answer["headers"] == {}
    assert answer["url"] == botocore_url(sidecar, answer)
    assert answer["url"].startswith("%s/%s?X-Amz-Algorithm=AWS4-HMAC-SHA256&" % (fake.https, INPUT))
    status, body = s3(fake, answer["url"])
    assert status == 200 and body == fake.control("/_control/objects")[INPUT]["body"].encode("latin-1")
    call = last_s3_call(fake)
    assert call["presigned"] and call["verdict"] == "ok" and call["object"] == INPUT


def test_an_upload_url_is_botocores_and_stores_the_output_under_the_jobs_key(presigning, fake):
    sidecar, steps = presigning()
    status, _, answer = sidecar.get_json("/v1/artifacts/BuildOutput/upload", token=steps)
    assert status == 200 and answer["method"] == "PUT"
    assert answer["headers"] == {"x-amz-server-side-encryption": "aws:kms",
                                 "x-amz-server-side-encryption-aws-kms-key-id":
                                     "arn:aws:kms:us-east-1:123456789012:key/demo-key"}
    assert answer["url"] == botocore_url(sidecar, answer)
    status, _ = s3(fake, answer["url"], "PUT", b"any bytes", answer["headers"])
    assert status == 200
    stored = fake.control("/_control/objects")[OUTPUT]
    assert stored["body"] == "any bytes" and stored["kms_key"].endswith("key/demo-key")


def test_a_bound_upload_url_takes_those_bytes_and_no_others(presigning, fake):
    sidecar, steps = presigning()
    body = b"the build's output"
    status, _, answer = sidecar.get_json("/v1/artifacts/BuildOutput/upload?sha256=%s&length=%d"
                                         % (hashlib.sha256(body).hexdigest(), len(body)), token=steps)
    assert status == 200 and answer["headers"]["content-length"] == str(len(body))
    assert answer["url"] == botocore_url(sidecar, answer)
    same_length = b"the build's OUTPUT"
    assert s3(fake, answer["url"], "PUT", same_length, answer["headers"])[0] == 400
    assert last_s3_call(fake)["verdict"] == "BadDigest"
    longer = dict(answer["headers"], **{"content-length": str(len(body) + 1)})
    assert s3(fake, answer["url"], "PUT", body + b"!", longer)[0] == 403  # the length is signed
    unsigned = {k: v for k, v in answer["headers"].items() if k != "x-amz-checksum-sha256"}
    assert s3(fake, answer["url"], "PUT", body, unsigned)[0] == 403  # a signed header left out
    assert OUTPUT not in fake.control("/_control/objects")
    assert s3(fake, answer["url"], "PUT", body, answer["headers"])[0] == 200
    assert fake.control("/_control/objects")[OUTPUT]["body"] == body.decode()


def test_a_url_works_for_its_object_and_method_only(presigning, fake):
    sidecar, steps = presigning()
    _, _, download = sidecar.get_json("/v1/artifacts/SourceOutput/download", token=steps)
    _, _, upload = sidecar.get_json("/v1/artifacts/BuildOutput/upload", token=steps)
    other_key = download["url"].replace("/SourceOutput/src.zip?", "/BuildOutput/out.zip?")
    assert s3(fake, other_key)[0] == 403
    assert s3(fake, download["url"], "PUT", b"x", upload["headers"])[0] == 403
    assert s3(fake, upload["url"], "GET")[0] == 403
    assert s3(fake, download["url"].replace("X-Amz-Expires=300", "X-Amz-Expires=3600"))[0] == 403
    verdicts = [call["verdict"] for call in fake.control("/_control/s3")[-4:]]
    assert verdicts == ["SignatureDoesNotMatch"] * 4
    assert s3(fake, download["url"])[0] == 200


def test_a_url_stops_working_when_it_expires(presigning, fake):
    sidecar, steps = presigning("--presign-ttl", "1s")
    _, _, answer = sidecar.get_json("/v1/artifacts/SourceOutput/download", token=steps)
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(answer["url"]).query)
    assert query["X-Amz-Expires"] == ["1"]
    time.sleep(2.2)
    assert s3(fake, answer["url"])[0] == 403
    assert last_s3_call(fake)["verdict"] == "RequestExpired"


def test_without_an_endpoint_override_the_url_is_virtual_hosted_on_the_regions_endpoint(serve, tmp_path):
    steps = tmp_path / "steps"
    sidecar = serve("--token-file", "%s:download" % steps)
    _, _, answer = sidecar.get_json("/v1/artifacts/SourceOutput/download", token=steps.read_text())
    assert answer["url"].startswith("https://codepipeline-us-east-1-artifacts.s3.us-east-1.amazonaws.com"
                                    "/demo/SourceOutput/src.zip?X-Amz-Algorithm=AWS4-HMAC-SHA256&")
    assert answer["url"] == botocore_url(sidecar, answer)


@pytest.mark.parametrize("ttl", ["0s", "61m", "2h", "soon"])
def refused_at_start(jobcreds_bin, fake, tmp_path, *args):
    out = subprocess.run([jobcreds_bin, "serve", "--job-id", JOB_ID, "--token-file", str(tmp_path / "t"), *args],
                         env=serve_environment(fake, tmp_path), capture_output=True, text=True, timeout=20)
    assert out.returncode == 64, out
    return out.stderr


@pytest.mark.parametrize("ttl", ["0s", "61m", "2h", "soon"])
def test_a_presign_ttl_outside_one_second_to_an_hour_is_a_usage_error(jobcreds_bin, fake, tmp_path, ttl):
    assert "--presign-ttl" in refused_at_start(jobcreds_bin, fake, tmp_path, "--presign-ttl", ttl)


@pytest.mark.parametrize("url", ["http://s3.example.com", "ftp://127.0.0.1", "https://s3.example.com/?x=1"])
def test_an_s3_endpoint_that_would_leak_urls_is_a_usage_error(jobcreds_bin, fake, tmp_path, url):
    assert "--s3-endpoint-url" in refused_at_start(jobcreds_bin, fake, tmp_path, "--s3-endpoint-url", url)


# -- names and scopes -------------------------------------------------------------------------

@pytest.mark.parametrize("path, code", [
    ("/v1/artifacts/BuildOutput/download", "ArtifactNotFound"),  # an output is not downloaded
    ("/v1/artifacts/SourceOutput/upload", "ArtifactNotFound"),  # an input is not uploaded
    ("/v1/artifacts/NoSuchArtifact/download", "ArtifactNotFound"),
    ("/v1/artifacts/sourceoutput/download", "ArtifactNotFound"),
    ("/v1/artifacts/%53ourceOutput/download", "ArtifactNotFound"),
    ("/v1/artifacts/SourceOutput%2f/download", "ArtifactNotFound"),
    ("/v1/artifacts/./download", "ArtifactNotFound"),
    ("/v1/artifacts/../download", "ArtifactNotFound"),
    ("/v1/artifacts/SourceOutput/../SourceOutput/download", "NotFound"),
    ("/v1/artifacts/x/../SourceOutput/download", "NotFound"),
    ("/v1/artifacts/SourceOutput/download%2F", "NotFound"),
    ("/v1/artifacts/SourceOutput/%64ownload", "NotFound"),
    ("/v1%2Fartifacts/SourceOutput/download", "NotFound"),
    ("/v1/artifacts//download", "NotFound"),
])
def test_a_name_is_matched_exactly_as_sent(presigning, path, code):
    sidecar, steps = presigning()
    # http.client sends the path as given: no normalisation, no re-encoding.
    connection = http.client.HTTPConnection("127.0.0.1", sidecar.port, timeout=5)
    connection.request("GET", path, headers={"Authorization": steps})
    response = connection.getresponse()
    body = json.loads(response.read())
    connection.close()
    assert response.status == 404 and body["code"] == code, (path, body)
    line = [line for line in sidecar.audit() if line.get("path") == path.split("?")[0]][-1]
    assert line["reason"] == code and "artifact" not in line and "key" not in line


@pytest.mark.parametrize("query", ["?sha256=00&length=1", "?length=1",
                                   "?sha256=%s&length=-1" % ("0" * 64), "?sha256=%s&length=1&acl=public-read" % ("0" * 64),
                                   "?sha256=%s&sha256=%s&length=1" % ("0" * 64, "1" * 64)])
def test_a_malformed_binding_is_refused(presigning, query):
    sidecar, steps = presigning()
    status, _, body = sidecar.get_json("/v1/artifacts/BuildOutput/upload" + query, token=steps)
    assert status == 400 and body["code"] == "InvalidQuery"
    assert sidecar.audit()[-1]["reason"] == "InvalidQuery"


def test_every_scope_against_every_route(serve, tmp_path):
    files = {scope: tmp_path / scope for scope in SCOPES}
    args = [arg for scope, path in files.items() for arg in ("--token-file", "%s:%s" % (path, scope))]
    sidecar = serve("--expose-configuration", *args)
    for scope, path in files.items():
        token = path.read_text()
        for route, needed in ROUTES.items():
            status, _, body = sidecar.get_json(route, token=token)
            if scope == needed:
                assert status == 200, (scope, route, body)
            else:
                assert (status, body["code"]) == (403, "ScopeNotGranted"), (scope, route)
                assert token not in json.dumps(body)
            line = sidecar.audit()[-1]
            assert line["path"] == route and line["token"] == scope and line["status"] == status


def test_a_download_only_token_gets_no_credentials_and_no_upload(serve, tmp_path):
    downloads = tmp_path / "downloads"
    sidecar = serve("--token-file", "%s:download" % downloads, "--expose-configuration")
    token = downloads.read_text()
    for path in ("/v1/credentials", "/v1/artifacts/BuildOutput/upload", "/v1/configuration", "/v1/artifacts"):
        status, _, body = sidecar.get_json(path, token=token)
        assert (status, body["code"]) == (403, "ScopeNotGranted"), path
    assert sidecar.get("/v1/artifacts/SourceOutput/download", token=token)[0] == 200


# -- audit and metrics ------------------------------------------------------------------------

def test_every_url_issued_is_audited_without_its_query_or_signature(presigning, fake):
    sidecar, steps = presigning("--metrics-listen", "127.0.0.1:0")
    _, _, download = sidecar.get_json("/v1/artifacts/SourceOutput/download", token=steps)
    _, _, upload = sidecar.get_json("/v1/artifacts/BuildOutput/upload?sha256=%s&length=3"
                                    % hashlib.sha256(b"abc").hexdigest(), token=steps)
    lines = [line for line in sidecar.audit() if line.get("reason") in ("download_url", "upload_url")]
    assert [(line["artifact"], line["url_method"], line["bucket"], line["key"]) for line in lines] == [
        ("SourceOutput", "GET", "codepipeline-us-east-1-artifacts", "demo/SourceOutput/src.zip"),
        ("BuildOutput", "PUT", "codepipeline-us-east-1-artifacts", "demo/BuildOutput/out.zip")]
    assert [line["expiration"] for line in lines] == [download["expiration"], upload["expiration"]]
    assert all(line["access_key_id"] == "ASIAFAKEARTIFACT0001" and line["token"] == "steps0" for line in lines)
    assert all(line["path"].startswith("/v1/artifacts/") and "?" not in line["path"] for line in lines)
    text = sidecar.audit_path.read_text()
    for answer in (download, upload):
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(answer["url"]).query)
        assert query["X-Amz-Signature"][0] not in text
        assert query["X-Amz-Security-Token"][0] not in text
    for marker in ("X-Amz-", "artifact-secret", "artifact-token", CANARY, steps, "sha256="):
        assert marker not in text, marker
    _, _, metrics = sidecar.scrape()
    assert 'jobcreds_requests_total{route="/v1/artifacts/{name}/download",status="200"} 1' in metrics
    assert 'jobcreds_requests_total{route="/v1/artifacts/{name}/upload",status="200"} 1' in metrics
    assert "X-Amz-" not in metrics and CANARY not in metrics
