#!/usr/bin/env python3
"""A local fake of the AWS endpoints jobcreds talks to, for tests and the demo.

One process serves, on loopback:
  * HTTPS (a CA and server certificate it makes itself): CodePipeline GetJobDetails,
    GetThirdPartyJobDetails and ListActionTypes (AWS JSON 1.1), the job worker's PollForJobs, AcknowledgeJob,
    PutJobSuccessResult and PutJobFailureResult, STS AssumeRoleWithWebIdentity and
    GetCallerIdentity, and S3 GetObject, HeadObject and PutObject (path-style) on the job's
    artifacts: reads of the input artifacts and writes of the output artifacts only, with the
    job's artifact credentials only, and writes only with SSE-KMS under the job's key (as an
    artifact bucket policy demands).
  * plain HTTP: the EC2 instance metadata service (IMDSv2) and a container credentials endpoint.

Every CodePipeline request's SigV4 signature is verified with botocore, the independent oracle:
a request signed wrongly, with an unknown key, with a stale date or a missing session token is
refused as AWS refuses it. Credentials handed out by the fake STS, container and IMDS endpoints
become known keys, so the whole chain is verified end to end.

Control endpoints (on either port) let a test script behaviour:
  POST /_control/configure  {"jobs": {...}, "keys": {...}, "faults": [...], "clear_faults": true,
                             "action_types": [...] (what ListActionTypes lists), ...}
  GET  /_control/calls       every CodePipeline call seen, with the verification verdict
  GET  /_control/s3          every S3 call seen, with its verdict
  GET  /_control/objects     the stored objects: {"bucket/key": {"body" (text), "sse", "kms_key"}}
  POST /_control/objects     {"bucket/key": "base64 body", ...}: objects to plant (input artifacts)
  POST /_control/copy        {"from": "bucket/key", "to": "bucket/key"}: a server-side copy
  POST /_control/fill        {"name": "bucket/key", "size": N}: an object of N bytes of text
  GET  /_control/digest?name=bucket/key   one object's size and SHA-256
  GET  /_control/uploads     the open multipart uploads: {upload_id: {"object", "parts"}}
  GET  /_control/results     the job worker's results: {job_id: {"status", ...}}
  POST /_control/reset

Usage: fake_aws.py --state-dir DIR [--job-id ID]... prints one JSON line
{"https_port", "http_port", "ca_bundle", "worker": {"id", "secret"}} on stdout once listening:
where it listens, the CA to trust, and the worker key it knows (so that nothing copies it).
Start it through fake.py (Python), scripts/fake.sh (shell) or FakeAWSProcess (Swift tests).
"""
import argparse
import base64
import datetime
import hashlib
import io
import json
import os
import secrets
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

import model_check
from fake_pipeline import Pipeline, Refusal
from sigv4_oracle import presign_with_botocore

# Planted in every field jobcreds must never hand out, log or echo.
CANARY = "CANARY-7f3a9c"

WORKER_OPERATIONS = ("PollForJobs", "AcknowledgeJob", "PutJobSuccessResult", "PutJobFailureResult",
                     "PollForThirdPartyJobs", "AcknowledgeThirdPartyJob", "PutThirdPartyJobSuccessResult",
                     "PutThirdPartyJobFailureResult")
# The clientId of third-party jobs unless a job names its own (the model's ClientId is a UUID).
CLIENT_ID = "0c6f5a52-8f6b-4d4e-9a52-3f1d2c3b4a50"

WORKER_KEY = {"id": "AKIAFAKEWORKER000001", "secret": "worker-secret-" + CANARY, "token": None}


def action_type(owner, version, properties):
    """A ListActionTypes entry for the test provider; `properties` maps a name to its `secret`."""
    return {"id": {"category": "Build", "owner": owner, "provider": "JobCredsTest", "version": version},
            "settings": {"entityUrlTemplate": "https://example.invalid/"},
            "actionConfigurationProperties": [
                {"name": name, "required": True, "key": False, "secret": secret, "queryable": False,
                 "description": "the " + name, "type": "String"} for name, secret in properties.items()],
            "inputArtifactDetails": {"minimumCount": 1, "maximumCount": 1},
            "outputArtifactDetails": {"minimumCount": 1, "maximumCount": 1}}


# What ListActionTypes lists, two to a page: the jobs' type declares ProjectName not secret and
# ApiKey secret, and not Password at all. Its neighbours with other versions declare more, so
# only an exact match of the action type id may be used.
ACTION_TYPES = [
    action_type("Custom", "2", {"ProjectName": False, "ApiKey": False, "Password": False}),
    action_type("Custom", "0", {"ApiKey": False}),
    action_type("Custom", "1", {"ProjectName": False, "ApiKey": True}),
    action_type("ThirdParty", "1", {"ProjectName": False, "ApiKey": True}),
]


def job_document(job_id, third_party=False, expiration_ms=None, access_key_id="ASIAFAKEARTIFACT0001",
                 input_name="SourceOutput", input_key="demo/SourceOutput/src.zip", output_key="demo/BuildOutput/out.zip"):
    """A GetJobDetails answer as CodePipeline shapes it, with a canary in every secret field.
    Of its configuration, ProjectName is declared not secret (no canary), ApiKey secret and
    Password not declared (canaries both)."""
    credentials = {
        "accessKeyId": access_key_id,
        "secretAccessKey": "artifact-secret-" + secrets.token_hex(8),
        "sessionToken": "artifact-token-" + secrets.token_hex(16),
    }
    if expiration_ms is not None:
        credentials["expirationTime"] = expiration_ms
    data = {
        "actionTypeId": {"category": "Build", "owner": "ThirdParty" if third_party else "Custom",
                         "provider": "JobCredsTest", "version": "1"},
        "actionConfiguration": {
            "configuration": {
                "ApiKey": "config-secret-" + CANARY,
                "Password": CANARY + "-password",
                "ProjectName": "demo-project",
            }
        },
        "pipelineContext": {
            "pipelineName": "demo-pipeline",
            "stage": {"name": "Build"},
            "action": {"name": "CustomBuild", "actionExecutionId": "11111111-2222-3333-4444-555555555555"},
            "pipelineArn": "arn:aws:codepipeline:us-east-1:123456789012:demo-pipeline",
            "pipelineExecutionId": "66666666-7777-8888-9999-000000000000",
            "client": {"url": "https://example.invalid/" + CANARY},
        },
        "inputArtifacts": [
            {
                "name": input_name,
                "revision": "0123456789abcdef0123456789abcdef01234567",
                "location": {
                    "type": "S3",
                    "s3Location": {"bucketName": "codepipeline-us-east-1-artifacts", "objectKey": input_key},
                },
            }
        ],
        "outputArtifacts": [
            {
                "name": "BuildOutput",
                "location": {
                    "type": "S3",
                    "s3Location": {"bucketName": "codepipeline-us-east-1-artifacts", "objectKey": output_key},
                },
            }
        ],
        "artifactCredentials": credentials,
        "continuationToken": "continuation-" + CANARY,
        "encryptionKey": {"id": "arn:aws:kms:us-east-1:123456789012:key/demo-key", "type": "KMS"},
        "unknownFutureField": {"secretish": "unknown-" + CANARY},
        "__type": "JobData",
    }
    details = {"id": job_id, "data": data}
    if third_party:
        data["nonce"] = "nonce-" + CANARY
        details["nonce"] = "nonce-" + CANARY
    else:
        details["accountId"] = "123456789012"
    return {"jobDetails": details}


def source_zip(job_id):
    """The input artifact: a zip with one file, as a source action leaves it."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "hello from the source stage of job %s\n" % job_id)
    return buffer.getvalue()


def aws_chunked(body):
    """The payload of an `aws-chunked` body (`size;ext\r\ndata\r\n`..., `0\r\n`, trailers)."""
    payload, position = [], 0
    while True:
        end = body.index(b"\r\n", position)
        size = int(body[position:end].split(b";")[0], 16)
        if size == 0:
            return b"".join(payload)
        payload.append(body[end + 2:end + 2 + size])
        position = end + 2 + size + 2


class State:
    """Everything the fake knows; guarded by one lock."""

    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        with getattr(self, "lock", threading.Lock()):
            self.keys = {WORKER_KEY["id"]: {"secret": WORKER_KEY["secret"], "token": WORKER_KEY["token"]}}
            self.jobs = {}
            self.client_tokens = {}
            self.faults = []
            self.calls = []
            self.web_identity = {"token": "web-identity-token-" + CANARY, "role_arn": "arn:aws:iam::123456789012:role/jobcreds-worker"}
            self.container_token = "container-token-" + CANARY
            self.imds_role = "jobcreds-worker-role"
            self.imds_tokens = set()
            self.credential_lifetime = 3600
            self.max_skew = 300
            self.clock_offset = 0
            self.minted = 0
            self.objects = {}
            self.uploads = {}
            self.s3_calls = []
            self.pipeline = Pipeline()
            self.action_types = ACTION_TYPES

    def issue_key(self, prefix):
        key_id = prefix + secrets.token_hex(8).upper()
        secret = "issued-secret-" + secrets.token_hex(12)
        token = "issued-token-" + secrets.token_hex(24)
        expiration = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=self.credential_lifetime)
        with self.lock:
            self.keys[key_id] = {"secret": secret, "token": token}
        return key_id, secret, token, expiration.strftime("%Y-%m-%dT%H:%M:%SZ")

    def mint(self, job_id, options):
        """A fresh job document for `job_id`; its artifact key becomes a known key (caller holds the lock)."""
        self.minted += 1
        key_id = "ASIAFAKEARTIFACT%04d" % (self.minted if options.get("rotate") else 1)
        # "credential_seconds": each set expires that long after it is minted, and S3 then refuses it.
        lifetime = options.get("credential_seconds")
        expires = time.time() + lifetime if lifetime is not None else None
        document = job_document(job_id, options.get("third_party", False),
                                expires if expires is not None else options.get("expiration_ms"), key_id,
                                options.get("input_name", "SourceOutput"),
                                options.get("input_key", "demo/SourceOutput/src.zip"),
                                options.get("output_key", "demo/BuildOutput/out.zip"))
        credentials = document["jobDetails"]["data"]["artifactCredentials"]
        self.keys[key_id] = {"secret": credentials["secretAccessKey"], "token": credentials["sessionToken"],
                             "expires": expires}
        # A job's earlier sets keep reaching its artifacts until they expire, as STS credentials do.
        earlier = self.jobs.get(job_id, {}).get("artifact_keys", set())
        self.jobs[job_id] = {"options": options, "document": document, "artifact_keys": earlier | {key_id}}
        for artifact in document["jobDetails"]["data"]["inputArtifacts"] if not options.get("no_input_object") else []:
            location = artifact["location"]["s3Location"]
            self.objects.setdefault("%s/%s" % (location["bucketName"], location["objectKey"]),
                                    {"body": source_zip(job_id), "sse": "aws:kms", "kms_key": None})
        return document

    def take_fault(self, operation, job_id=None, explicit=False, condition=None):
        """The next scripted fault for `operation` (explicit: only one that names it, as S3's must;
        a fault with "when" applies only to a request in that condition, e.g. "if_match")."""
        with self.lock:
            for fault in self.faults:
                if explicit and fault.get("operation") != operation:
                    continue
                if fault.get("when") is not None and fault["when"] != condition:
                    continue
                if fault.get("operation", operation) == operation and fault.get("job", job_id) == job_id \
                        and fault.get("count", 1) > 0:
                    fault["count"] = fault.get("count", 1) - 1
                    return dict(fault)
        return None


STATE = State()


def verify_sigv4(handler, body, service):
    """Verifies the request's SigV4 signature with botocore; returns (ok, reason, access_key)."""
    return verify_signature(handler, body, service, S3SigV4Auth if service == "s3" else SigV4Auth)


def verify_signature(handler, body, service, auth_class):
    auth_header = handler.headers.get("Authorization", "")
    if not auth_header.startswith("AWS4-HMAC-SHA256 "):
        return False, "MissingAuthenticationToken", None
    fields = dict(part.strip().split("=", 1) for part in auth_header[len("AWS4-HMAC-SHA256 "):].split(","))
    key_id, date, region, scope_service, terminator = fields["Credential"].split("/")
    signed_headers = fields["SignedHeaders"].split(";")
    amz_date = handler.headers.get("X-Amz-Date", "")
    with STATE.lock:
        key = STATE.keys.get(key_id)
    if key is None:
        return False, "UnrecognizedClientException", key_id
    if scope_service != service or terminator != "aws4_request" or not amz_date.startswith(date):
        return False, "IncompleteSignature", key_id
    for required in ("host", "x-amz-date"):
        if required not in signed_headers:
            return False, "IncompleteSignature", key_id
    if key["token"] is not None:
        if handler.headers.get("X-Amz-Security-Token") != key["token"] or "x-amz-security-token" not in signed_headers:
            return False, "UnrecognizedClientException", key_id
    if key.get("expires") is not None and time.time() + STATE.clock_offset > key["expires"]:
        return False, "ExpiredToken", key_id
    sent = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
    now = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=STATE.clock_offset)
    if abs((now - sent).total_seconds()) > STATE.max_skew:
        return False, "SignatureExpired", key_id
    headers = {}
    for name in signed_headers:
        values = handler.headers.get_all(name) or []
        headers[name] = ",".join(values)
    path = handler.path.split("?", 1)[0]
    request = AWSRequest(method=handler.command, url="https://" + handler.headers["Host"] + handler.path, data=body, headers=headers)
    request.context["timestamp"] = amz_date
    signer = auth_class(Credentials(key_id, key["secret"], key["token"]), service, region)
    canonical = signer.canonical_request(request)
    expected = signer.signature(signer.string_to_sign(request, canonical), request)
    if not secrets.compare_digest(expected, fields["Signature"]):
        return False, "InvalidSignatureException", key_id
    del path
    return True, "ok", key_id


def verify_presigned(handler, body):
    """Verifies a query-signed S3 request (a presigned URL); returns (ok, reason, access_key)."""
    parts = urllib.parse.urlsplit(handler.path)
    query = urllib.parse.parse_qs(parts.query, keep_blank_values=True)
    if any(len(values) != 1 for values in query.values()):
        return False, "AuthorizationQueryParametersError", None
    params = {name: values[0] for name, values in query.items()}
    try:
        key_id, date, region, scope_service, terminator = params["X-Amz-Credential"].split("/")
        amz_date, expires = params["X-Amz-Date"], int(params["X-Amz-Expires"])
        signed_headers = params["X-Amz-SignedHeaders"].split(";")
        signature = params["X-Amz-Signature"]
    except (KeyError, ValueError):
        return False, "AuthorizationQueryParametersError", None
    if set(params) - {"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders",
                      "X-Amz-Security-Token", "X-Amz-Signature", "partNumber", "uploadId"}:
        return False, "AuthorizationQueryParametersError", key_id
    with STATE.lock:
        key = STATE.keys.get(key_id)
    if key is None:
        return False, "InvalidAccessKeyId", key_id
    if scope_service != "s3" or terminator != "aws4_request" or not amz_date.startswith(date) \
            or "host" not in signed_headers or not 1 <= expires <= 604800:
        return False, "AuthorizationQueryParametersError", key_id
    if params.get("X-Amz-Security-Token") != key["token"]:
        return False, "InvalidToken", key_id
    if key.get("expires") is not None and time.time() + STATE.clock_offset > key["expires"]:
        return False, "ExpiredToken", key_id
    signed_at = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
    now = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=STATE.clock_offset)
    if (now - signed_at).total_seconds() > expires:
        return False, "RequestExpired", key_id
    headers = {}
    for name in signed_headers:
        values = handler.headers.get_all(name) or []
        if name != "host":
            if not values:
                return False, "SignatureDoesNotMatch", key_id  # a signed header not sent
            headers[name] = ",".join(values)
    # The operation's own parameters (UploadPart's partNumber and uploadId) lead the query, as sent.
    own = "&".join(item for item in parts.query.split("&") if not item.startswith("X-Amz-"))
    url = "https://%s%s%s" % (handler.headers["Host"], parts.path, "?" + own if own else "")
    expected = presign_with_botocore(handler.command, url, headers, key_id, key["secret"], key["token"], region,
                                     amz_date, expires)
    if not secrets.compare_digest(urllib.parse.parse_qs(urllib.parse.urlsplit(expected).query)["X-Amz-Signature"][0],
                                  signature):
        return False, "SignatureDoesNotMatch", key_id
    # Stricter than S3: the URL itself must be the one botocore makes, byte for byte (parameter
    # order and encoding included), so every presigned URL a test uses is checked against it.
    if urllib.parse.urlsplit(expected).query != parts.query:
        return False, "NotBotocoresURL", key_id
    checksum = handler.headers.get("x-amz-checksum-sha256")
    if checksum is not None and checksum != base64.b64encode(hashlib.sha256(body).digest()).decode():
        return False, "BadDigest", key_id
    return True, "ok", key_id


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_version = "fake-aws"

    def log_message(self, fmt, *args):  # quiet; the calls log is the record
        pass

    def date_time_string(self, timestamp=None):
        """The Date header, on the fake's own (possibly skewed) clock."""
        return super().date_time_string(time.time() + STATE.clock_offset)

    # -- plumbing ---------------------------------------------------------------------------
    def body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():  # S3 uploads stream
            data = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(data)
                data.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length", "0") or "0")
        return self.rfile.read(length) if length else b""

    def reply(self, status, payload, content_type="application/x-amz-json-1.1", headers=None):
        if getattr(self, "reset_instead_of_reply", False):  # a "reset_after" fault: applied, answer lost
            self.reset_instead_of_reply = False
            return self.reset()
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amzn-RequestId", "req-" + secrets.token_hex(6))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def reset(self):
        """Ends the connection with a reset (SO_LINGER 0), no answer."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        self.connection.close()
        self.close_connection = True

    def aws_error(self, status, code, message):
        self.reply(status, {"__type": "com.amazonaws.codepipeline#" + code, "message": message})

    # -- routing ----------------------------------------------------------------------------
    def transport_probe(self, body):
        """Routes for testing the HTTP client itself: echo, sleep, a body of n bytes."""
        parsed = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(parsed.query))
        if parsed.path == "/_probe/echo":
            self.reply(200, {"method": self.command, "headers": dict(self.headers.items()), "body": body.decode(),
                             "client_port": self.client_address[1]}, "application/json")
        elif parsed.path == "/_probe/sleep":
            time.sleep(float(query.get("seconds", "5")))
            self.reply(200, {"slept": True}, "application/json")
        elif parsed.path == "/_probe/bytes":
            self.reply(200, b"x" * int(query.get("n", "0")), "application/octet-stream")
        elif parsed.path == "/_probe/stream":  # chunked: `pieces` lines "piece N\n", `delay` s apart
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            try:
                for index in range(int(query.get("pieces", "3"))):
                    piece = b"piece %d\n" % index
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                    self.wfile.flush()
                    time.sleep(float(query.get("delay", "0.2")))
                self.wfile.write(b"0\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
                pass
            self.close_connection = True
        else:
            return False
        return True

    def is_s3(self):
        return "/s3/aws4_request" in self.headers.get("Authorization", "") or self.is_presigned()

    def is_presigned(self):
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        return "/s3/aws4_request" in (query.get("X-Amz-Credential") or [""])[0]

    def do_DELETE(self):
        body = self.body()
        if self.is_s3():
            return self.s3(body)
        self.reply(404, {"code": "NotFound"}, "application/json")

    def do_HEAD(self):
        if self.is_s3():
            return self.s3(b"")
        self.reply(404, b"", "text/plain")

    def do_GET(self):
        if self.transport_probe(b""):
            return
        if self.is_s3():
            return self.s3(b"")
        if self.path in ("/_control/s3", "/_control/objects", "/_control/results", "/_control/uploads"):
            with STATE.lock:
                if self.path == "/_control/uploads":
                    view = {upload_id: {"object": upload["object"], "parts": sorted(upload["parts"])}
                            for upload_id, upload in STATE.uploads.items()}
                elif self.path == "/_control/s3":
                    view = STATE.s3_calls
                elif self.path == "/_control/results":
                    view = STATE.pipeline.results()
                else:
                    view = {name: dict(entry, body=entry["body"].decode("latin-1"))
                            for name, entry in STATE.objects.items()}
                return self.reply(200, view, "application/json")
        if self.path.startswith("/_control/digest?"):  # one object's size and SHA-256, not its bytes
            name = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)["name"][0]
            with STATE.lock:
                stored = STATE.objects.get(name)
            if stored is None:
                return self.reply(404, {"code": "NoSuchKey"}, "application/json")
            return self.reply(200, {"size": len(stored["body"]), "sha256": hashlib.sha256(stored["body"]).hexdigest(),
                                    "sse": stored.get("sse"), "kms_key": stored.get("kms_key")}, "application/json")
        if self.path == "/_control/calls":
            with STATE.lock:
                return self.reply(200, STATE.calls, "application/json")
        if self.path == "/_control/lifecycle":
            with STATE.lock:
                return self.reply(200, STATE.pipeline.dump(), "application/json")
        if self.path == "/_control/jobs":
            with STATE.lock:
                return self.reply(200, {job_id: job["document"] for job_id, job in STATE.jobs.items()}, "application/json")
        if self.path.startswith("/latest/meta-data/iam/security-credentials/"):
            return self.imds_credentials()
        if self.path.startswith("/container-credentials"):
            return self.container_credentials()
        self.reply(404, {"code": "NotFound", "message": "no such path"}, "application/json")

    def do_PUT(self):
        body = self.body()
        if self.transport_probe(body):
            return
        if self.is_s3():
            return self.s3(body)
        if self.path == "/latest/api/token":
            token = "imds-" + secrets.token_hex(16)
            with STATE.lock:
                STATE.imds_tokens.add(token)
            return self.reply(200, token.encode(), "text/plain")
        self.reply(404, {"code": "NotFound"}, "application/json")

    def do_POST(self):
        body = self.body()
        if self.transport_probe(body):
            return
        if self.is_s3():
            return self.s3(body)
        if self.path == "/_control/configure":
            return self.configure(json.loads(body or b"{}"))
        if self.path == "/_control/fill":  # {"name": "bucket/key", "size": N}: an object of N bytes of text
            settings = json.loads(body)
            line = b"not an archive, just a large object of text\n"
            content = (line * (settings["size"] // len(line) + 1))[:settings["size"]]
            etag = '"%s"' % hashlib.md5(content).hexdigest()  # now, not in the first GET's time
            with STATE.lock:
                STATE.objects[settings["name"]] = {"body": content, "sse": None, "kms_key": None, "etag": etag}
            return self.reply(200, {"ok": True}, "application/json")
        if self.path == "/_control/copy":  # {"from": "bucket/key", "to": "bucket/key"}: a server-side copy
            settings = json.loads(body)
            with STATE.lock:
                STATE.objects[settings["to"]] = dict(STATE.objects[settings["from"]])
            return self.reply(200, {"ok": True}, "application/json")
        if self.path == "/_control/objects":
            with STATE.lock:
                for name, encoded in json.loads(body).items():
                    STATE.objects[name] = {"body": base64.b64decode(encoded), "sse": None, "kms_key": None}
            return self.reply(200, {"ok": True}, "application/json")
        if self.path == "/_control/reset":
            STATE.reset()
            return self.reply(200, {"ok": True}, "application/json")
        target = self.headers.get("X-Amz-Target", "")
        if target.startswith("CodePipeline_20150709."):
            return self.codepipeline(target.split(".", 1)[1], body)
        if b"Action=AssumeRoleWithWebIdentity" in body:
            return self.sts(body)
        if b"Action=GetCallerIdentity" in body:
            return self.caller_identity(body)
        self.reply(404, {"code": "NotFound"}, "application/json")

    def configure(self, settings):
        with STATE.lock:
            for job_id, options in settings.get("jobs", {}).items():
                STATE.mint(job_id, options)
                STATE.pipeline.add(job_id, options)
                if options.get("client_token"):
                    STATE.client_tokens[job_id] = options["client_token"]
            for key_id, key in settings.get("keys", {}).items():
                STATE.keys[key_id] = key
            if settings.get("clear_faults"):  # in the same locked step, so no call sees a half-healed fake
                STATE.faults = []
            STATE.faults.extend(settings.get("faults", []))
            for name in ("web_identity", "container_token", "imds_role", "credential_lifetime", "max_skew",
                         "clock_offset", "action_types"):
                if name in settings:
                    setattr(STATE, name, settings[name])
        self.reply(200, {"ok": True}, "application/json")

    # -- CodePipeline -----------------------------------------------------------------------
    def codepipeline(self, operation, body):
        ok, reason, key_id = verify_sigv4(self, body, "codepipeline")
        call = {"operation": operation, "signature": reason, "access_key": key_id, "time": time.time()}
        with STATE.lock:
            STATE.calls.append(call)
        if not ok:
            messages = {
                "UnrecognizedClientException": "The security token included in the request is invalid.",
                "InvalidSignatureException": "The request signature we calculated does not match the signature you provided.",
                "SignatureExpired": "Signature expired: %s is now earlier than the allowed window (5 min.)"
                                    % self.headers.get("X-Amz-Date", ""),
            }
            code = "InvalidSignatureException" if reason == "SignatureExpired" else reason
            return self.aws_error(403 if reason != "MissingAuthenticationToken" else 400, code, messages.get(reason, reason))
        if self.headers.get("Content-Type") != "application/x-amz-json-1.1":
            return self.aws_error(400, "SerializationException", "bad content type")
        request = json.loads(body)
        fault = STATE.take_fault(operation, request.get("jobId"))
        if fault and self.inject(fault, request):
            return
        problem = model_check.violation(operation, request)
        if problem:
            with STATE.lock:
                call["violation"] = problem
            return self.aws_error(400, "ValidationException", problem)
        if operation in WORKER_OPERATIONS:
            return self.job_worker(operation, request)
        if operation == "ListActionTypes":
            return self.list_action_types(request)
        job_id = request.get("jobId")
        with STATE.lock:
            job = STATE.jobs.get(job_id)
            document = None
            if job is not None:
                document = STATE.mint(job_id, job["options"]) if job["options"].get("rotate") else job["document"]
            expected_token = STATE.client_tokens.get(job_id)
        if document is None:
            return self.aws_error(400, "JobNotFoundException", "The job was specified in an invalid format or cannot be found.")
        if operation == "GetThirdPartyJobDetails":
            if request.get("clientToken") != expected_token:
                return self.aws_error(400, "InvalidClientTokenException", "The client token was specified in an invalid format")
            with STATE.lock:
                nonce = STATE.pipeline.jobs[job_id].nonce if job_id in STATE.pipeline.jobs else None
            if nonce is not None:  # the nonce comes with the details of a dispatched third-party job
                document = json.loads(json.dumps(document))
                document["jobDetails"]["nonce"] = nonce
        self.reply(200, document)

    def list_action_types(self, request):
        """The declared action types of one owner, two to a page."""
        owner = request.get("actionOwnerFilter")
        if owner not in (None, "AWS", "ThirdParty", "Custom"):
            return self.aws_error(400, "ValidationException", "Value at 'actionOwnerFilter' failed to satisfy constraint")
        with STATE.lock:
            listed = [t for t in STATE.action_types if owner is None or t["id"]["owner"] == owner]
        start = int(request.get("nextToken", "page-0")[5:])
        answer = {"actionTypes": listed[start:start + 2]}
        if start + 2 < len(listed):
            answer["nextToken"] = "page-%d" % (start + 2)
        self.reply(200, answer)

    def job_worker(self, operation, request):
        """The job worker's side of an action type: poll, acknowledge, report (fake_pipeline.py)."""
        third_party = "ThirdParty" in operation
        try:
            with STATE.lock:
                if operation in ("PollForJobs", "PollForThirdPartyJobs"):
                    taken = STATE.pipeline.poll(lambda job_id: STATE.jobs[job_id]["document"]["jobDetails"]["data"],
                                                request["actionTypeId"], request.get("maxBatchSize", 1),
                                                request.get("queryParam", {}), third_party)
                    if third_party:
                        answer = {"jobs": [{"clientId": job.options.get("client_id", CLIENT_ID), "jobId": job.id}
                                           for job in taken]}
                    else:
                        answer = {"jobs": [{"id": job.id, "data": STATE.jobs[job.id]["document"]["jobDetails"]["data"],
                                            "nonce": job.nonce, "accountId": "123456789012"} for job in taken]}
                else:
                    job_id = request["jobId"]
                    if job_id not in STATE.jobs:
                        raise Refusal("JobNotFoundException",
                                      "The job was specified in an invalid format or cannot be found.")
                    if third_party and request.get("clientToken") != STATE.client_tokens.get(job_id):
                        raise Refusal("InvalidClientTokenException", "The client token was specified in an invalid format")
                    if operation.startswith("Acknowledge"):
                        answer = {"status": STATE.pipeline.acknowledge(job_id, request["nonce"])}
                    else:
                        STATE.pipeline.result(job_id, "success" if "Success" in operation else "failure", request)
                        answer = {}
                        # A finished job is no longer served: GetJobDetails now says so.
                        STATE.faults.append({"kind": "invalid_job", "count": 1_000_000, "job": job_id,
                                             "operation": "GetThirdPartyJobDetails" if third_party else "GetJobDetails"})
        except Refusal as refusal:
            return self.aws_error(400, refusal.code, refusal.message)
        model_check.parse_answer(operation, answer)
        return self.reply(200, answer)

    # -- S3 ---------------------------------------------------------------------------------
    def s3(self, body):
        """GetObject, HeadObject and PutObject on the jobs' artifacts, path-style."""
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query, keep_blank_values=True)
        if "uploadId" in query or "uploads" in query:
            operation = {"POST": "CompleteMultipartUpload" if "uploadId" in query else "CreateMultipartUpload",
                         "PUT": "UploadPart", "GET": "ListParts", "DELETE": "AbortMultipartUpload"}.get(self.command)
        else:
            operation = {"GET": "GetObject", "HEAD": "HeadObject", "PUT": "PutObject"}.get(self.command)
        if operation is None:
            return self.reply(405, b"<Error><Code>MethodNotAllowed</Code></Error>", "application/xml")
        name = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path.lstrip("/"))
        presigned = self.is_presigned()
        ok, reason, key_id = verify_presigned(self, body) if presigned else verify_sigv4(self, body, "s3")
        call = {"operation": operation, "object": name, "signature": reason, "access_key": key_id,
                "presigned": presigned, "time": time.time(),
                "key_expires": STATE.keys.get(key_id, {}).get("expires") if key_id else None}
        with STATE.lock:
            STATE.s3_calls.append(call)
            documents = [job["document"]["jobDetails"]["data"] for job in STATE.jobs.values()
                         if key_id in job.get("artifact_keys", ())]
        def deny(status, code, message):
            call["verdict"] = code
            payload = b"" if self.command == "HEAD" else (
                "<Error><Code>%s</Code><Message>%s</Message></Error>" % (code, message)).encode()
            self.reply(status, payload, "application/xml")
        if not ok:
            status = 400 if reason in ("BadDigest", "ExpiredToken") else 403
            message = "The provided token has expired." if reason == "ExpiredToken" else reason
            return deny(status, "SignatureDoesNotMatch" if reason == "InvalidSignatureException" else reason, message)
        # The artifact credentials of a job reach its own artifacts only: inputs to read, outputs to write.
        # (Jobs minted without "rotate" share one artifact key: it reaches the artifacts of all of them.)
        holders = documents
        if not holders:
            return deny(403, "AccessDenied", "Access Denied")
        job = holders[0]
        side = "inputArtifacts" if operation in ("GetObject", "HeadObject") else "outputArtifacts"
        allowed = {"%s/%s" % (a["location"]["s3Location"]["bucketName"], a["location"]["s3Location"]["objectKey"])
                   for holder in holders for a in holder[side]}
        if name not in allowed:
            return deny(403, "AccessDenied", "Access Denied")
        fault = STATE.take_fault(operation, explicit=True,
                                 condition="if_match" if self.headers.get("If-Match") else None)
        if fault is not None and fault["kind"] == "delay":  # a slow S3: answered normally, late
            time.sleep(fault.get("seconds", 1))
            fault = None
        if fault is not None and fault["kind"] == "change":  # the object is replaced (same length) now
            with STATE.lock:
                old = STATE.objects[name]["body"]
                STATE.objects[name] = {"body": bytes(b ^ 0xff for b in old[:64]) + old[64:], "sse": None, "kms_key": None}
            fault = None
        no_sse = fault is not None and fault["kind"] == "no_sse"  # stored, but the answer names no encryption
        if no_sse:
            fault = None
        if fault is not None:
            if fault["kind"] == "reset":
                call["verdict"] = "reset"
                return self.reset()
            if fault["kind"] == "expired_token":  # as S3 answers a request signed with an expired session
                return deny(400, "ExpiredToken", "The provided token has expired.")
            status = int(fault["kind"][4:])
            return deny(status, "AccessDenied" if status == 403 else "InternalError", "scripted fault")
        if operation not in ("GetObject", "HeadObject", "PutObject"):
            return self.multipart(operation, name, query, body, job, call, deny)
        if operation == "PutObject":
            content_sha = self.headers.get("x-amz-content-sha256", "")
            if "aws-chunked" in self.headers.get("Content-Encoding", "") or content_sha.startswith("STREAMING-"):
                body = aws_chunked(body)
            elif content_sha not in ("", "UNSIGNED-PAYLOAD") and content_sha != hashlib.sha256(body).hexdigest():
                return deny(400, "XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match")
            sse = self.headers.get("x-amz-server-side-encryption")
            kms_key = self.headers.get("x-amz-server-side-encryption-aws-kms-key-id")
            if sse != "aws:kms" or kms_key != job["encryptionKey"]["id"]:
                return deny(403, "AccessDenied", "Access Denied (uploads must use SSE-KMS with the pipeline's key)")
            with STATE.lock:
                STATE.objects[name] = {"body": body, "sse": sse, "kms_key": kms_key}
            call["verdict"] = "ok"
            # S3 answers with the key's ARN whether the request named its id or its ARN.
            arn = kms_key if kms_key.startswith("arn:") else "arn:aws:kms:us-east-1:123456789012:key/" + kms_key
            if no_sse:
                return self.reply(200, b"", "application/xml", {"ETag": '"%s"' % hashlib.md5(body).hexdigest()})
            return self.reply(200, b"", "application/xml", {"ETag": '"%s"' % hashlib.md5(body).hexdigest(),
                                                             "x-amz-server-side-encryption": sse,
                                                             "x-amz-server-side-encryption-aws-kms-key-id": arn})
        with STATE.lock:
            stored = STATE.objects.get(name)
        if stored is None:
            return deny(404, "NoSuchKey", "The specified key does not exist.")
        content = stored["body"]
        if "etag" not in stored:  # once per object, not once per range of a large one
            stored["etag"] = '"%s"' % hashlib.md5(content).hexdigest()
        etag = stored["etag"]
        headers = {"ETag": etag, "Last-Modified": "Sat, 28 Nov 2026 12:00:00 GMT", "Accept-Ranges": "bytes"}
        if_match = self.headers.get("If-Match")
        if if_match is not None and if_match != etag:
            return deny(412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold")
        status = 200
        ranged = self.headers.get("Range")
        if ranged is not None:
            first, _, last = ranged[len("bytes="):].partition("-") if ranged.startswith("bytes=") else ("x", "", "")
            if not first.isdigit() or (last and not last.isdigit()):
                return deny(400, "InvalidArgument", "Invalid Range")
            first = int(first)
            if first >= len(content):
                call["verdict"] = "InvalidRange"
                return self.reply(416, b"<Error><Code>InvalidRange</Code></Error>", "application/xml",
                                  {"Content-Range": "bytes */%d" % len(content), "ETag": etag})
            end = min(int(last) if last else len(content) - 1, len(content) - 1)
            headers["Content-Range"] = "bytes %d-%d/%d" % (first, end, len(content))
            content = content[first:end + 1]
            status = 206
        call["verdict"] = "ok"
        call["range"] = ranged
        if self.command == "HEAD":
            self.send_response(200)
            for header, value in dict(headers, **{"Content-Type": "application/zip",
                                                  "Content-Length": str(len(content))}).items():
                self.send_header(header, value)
            self.end_headers()
            return
        self.reply(status, content, "application/zip", headers)

    def multipart(self, operation, name, query, body, job, call, deny):
        """CreateMultipartUpload, UploadPart, ListParts, CompleteMultipartUpload and
        AbortMultipartUpload, with S3's rules: SSE-KMS under the job's key on Create (as the bucket
        policy), none on UploadPart (400), each part's SHA-256 checked, parts of 5 MiB but the last,
        in order, their ETags and the total (x-amz-mp-object-size) checked at Complete."""
        upload_id = query.get("uploadId", [None])[0]
        kms = job["encryptionKey"]["id"]
        if operation == "CreateMultipartUpload":
            sse = self.headers.get("x-amz-server-side-encryption")
            kms_key = self.headers.get("x-amz-server-side-encryption-aws-kms-key-id")
            if sse != "aws:kms" or kms_key != kms:
                return deny(403, "AccessDenied", "Access Denied (uploads must use SSE-KMS with the pipeline's key)")
            upload_id = "upl-" + secrets.token_urlsafe(24)
            with STATE.lock:
                STATE.uploads[upload_id] = {"object": name, "parts": {}, "sse": sse, "kms_key": kms_key,
                                            "checksum": self.headers.get("x-amz-checksum-algorithm")}
            call.update(verdict="ok", upload_id=upload_id)
            bucket, _, key = name.partition("/")
            return self.reply(200, ("<InitiateMultipartUploadResult><Bucket>%s</Bucket><Key>%s</Key>"
                                    "<UploadId>%s</UploadId></InitiateMultipartUploadResult>" % (bucket, key, upload_id)
                                    ).encode(), "application/xml")
        with STATE.lock:
            upload = STATE.uploads.get(upload_id)
        if upload is None or upload["object"] != name:
            return deny(404, "NoSuchUpload", "The specified upload does not exist.")
        call["upload_id"] = upload_id
        if operation == "UploadPart":
            content_sha = self.headers.get("x-amz-content-sha256", "")
            if "aws-chunked" in self.headers.get("Content-Encoding", "") or content_sha.startswith("STREAMING-"):
                body = aws_chunked(body)  # the AWS CLI's parts, with a checksum trailer
            if any(header.lower().startswith("x-amz-server-side-encryption") for header in self.headers.keys()):
                return deny(400, "InvalidArgument", "x-amz-server-side-encryption header is not supported for this operation.")
            try:
                number = int(query["partNumber"][0])
            except (KeyError, ValueError):
                return deny(400, "InvalidArgument", "Part number must be an integer between 1 and 10000")
            if not 1 <= number <= 10000:
                return deny(400, "InvalidArgument", "Part number must be an integer between 1 and 10000")
            checksum = self.headers.get("x-amz-checksum-sha256")
            if upload["checksum"] == "SHA256" and checksum is None:
                return deny(400, "InvalidRequest", "the upload needs x-amz-checksum-sha256 on every part")
            if checksum is not None and checksum != base64.b64encode(hashlib.sha256(body).digest()).decode():
                return deny(400, "BadDigest", "The SHA256 you specified did not match the calculated checksum.")
            etag = '"%s"' % hashlib.md5(body).hexdigest()
            with STATE.lock:
                upload["parts"][number] = {"body": body, "etag": etag, "checksum": checksum}
            call.update(verdict="ok", part=number, bytes=len(body))
            return self.reply(200, b"", "application/xml", {"ETag": etag})
        if operation == "ListParts":
            with STATE.lock:
                parts = sorted(upload["parts"].items())
            listed = "".join("<Part><PartNumber>%d</PartNumber><ETag>%s</ETag><Size>%d</Size>%s</Part>" % (
                number, part["etag"].replace('"', "&quot;"), len(part["body"]),
                "<ChecksumSHA256>%s</ChecksumSHA256>" % part["checksum"] if part["checksum"] else "")
                for number, part in parts)
            call["verdict"] = "ok"
            return self.reply(200, ("<ListPartsResult><UploadId>%s</UploadId><IsTruncated>false</IsTruncated>%s"
                                    "</ListPartsResult>" % (upload_id, listed)).encode(), "application/xml")
        if operation == "AbortMultipartUpload":
            with STATE.lock:
                STATE.uploads.pop(upload_id, None)
            call["verdict"] = "ok"
            return self.reply(204, b"", "application/xml")
        # CompleteMultipartUpload
        import xml.etree.ElementTree as ElementTree
        try:
            root = ElementTree.fromstring(body)
            asked = [(int(part.findtext("{*}PartNumber") or part.findtext("PartNumber")),
                      part.findtext("{*}ETag") or part.findtext("ETag"),
                      part.findtext("{*}ChecksumSHA256") or part.findtext("ChecksumSHA256"))
                     for part in list(root)]
        except (ElementTree.ParseError, TypeError, ValueError):
            return deny(400, "MalformedXML", "The XML you provided was not well-formed")
        numbers = [number for number, _, _ in asked]
        if not asked or numbers != sorted(set(numbers)):
            return deny(400, "InvalidPartOrder", "The list of parts was not in ascending order.")
        with STATE.lock:
            stored = dict(upload["parts"])
        for number, etag, checksum in asked:
            part = stored.get(number)
            if part is None or part["etag"] != etag or (checksum is not None and checksum != part["checksum"]):
                return deny(400, "InvalidPart", "One or more of the specified parts could not be found.")
        for number, _, _ in asked[:-1]:
            if len(stored[number]["body"]) < 5 * 1024 * 1024:
                return deny(400, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed object size.")
        whole = b"".join(stored[number]["body"] for number, _, _ in asked)
        declared = self.headers.get("x-amz-mp-object-size")
        if declared is not None and declared != str(len(whole)):
            return deny(400, "InvalidRequest", "The provided 'x-amz-mp-object-size' header does not match")
        with STATE.lock:
            STATE.objects[name] = {"body": whole, "sse": upload["sse"], "kms_key": upload["kms_key"],
                                   "parts": len(asked),
                                   "etag": '"%s-%d"' % (hashlib.md5(b"".join(
                                       bytes.fromhex(stored[n]["etag"].strip('"')) for n in numbers)).hexdigest(),
                                       len(asked))}
            STATE.uploads.pop(upload_id, None)
        call.update(verdict="ok", parts=len(asked), bytes=len(whole))
        arn = kms if kms.startswith("arn:") else "arn:aws:kms:us-east-1:123456789012:key/" + kms
        etag = STATE.objects[name]["etag"]
        return self.reply(200, ("<CompleteMultipartUploadResult><ETag>%s</ETag></CompleteMultipartUploadResult>"
                                % etag.replace('"', "&quot;")).encode(), "application/xml",
                          {"x-amz-server-side-encryption": upload["sse"],
                           "x-amz-server-side-encryption-aws-kms-key-id": arn})

    def inject(self, fault, request):
        """Answers with the scripted fault; returns False to answer normally after all."""
        kind = fault["kind"]
        if kind == "throttle":
            self.aws_error(400, "ThrottlingException", "Rate exceeded")
        elif kind.startswith("http"):
            status = int(kind[4:])
            self.aws_error(status, "InternalFailure" if status == 500 else "ServiceUnavailable", "try again")
        elif kind == "not_found":
            self.aws_error(400, "JobNotFoundException", "The job was specified in an invalid format or cannot be found.")
        elif kind == "invalid_job":
            self.aws_error(400, "InvalidJobException", "The job is not in a valid state")
        elif kind == "access_denied":
            self.aws_error(400, "AccessDeniedException", "User: arn:aws:iam::123456789012:user/worker is not authorized to perform: codepipeline:GetJobDetails")
        elif kind == "validation_echo":
            # As AWS does, echo the offending input: jobcreds must never repeat it.
            self.aws_error(400, "ValidationException", "Value '%s' at 'clientToken' failed to satisfy constraint" % request.get("clientToken", request.get("jobId")))
        elif kind == "garbage":
            self.reply(200, b"<html>definitely not json " + CANARY.encode() + b"</html>")
        elif kind == "truncated":
            self.reply(200, json.dumps(job_document(request["jobId"])).encode()[:200])
        elif kind == "wrong_shape":
            self.reply(200, {"jobDetails": [CANARY]})
        elif kind == "no_credentials":
            document = job_document(request["jobId"])
            del document["jobDetails"]["data"]["artifactCredentials"]
            self.reply(200, document)
        elif kind == "big":
            self.reply(200, b'{"jobDetails": {"id": "' + b"x" * (10 * 1024 * 1024) + b'"}}')
        elif kind == "expiration":
            # `value` is the JSON text of expirationTime as sent (1e22, -1e22, "1970-01-01T00:00:00Z", ...).
            document = job_document(request["jobId"])
            document["jobDetails"]["data"]["artifactCredentials"]["expirationTime"] = "@EXPIRATION@"
            self.reply(200, json.dumps(document).replace('"@EXPIRATION@"', fault["value"]).encode())
        elif kind == "signature_date":
            # A signature refused for skew, with the answer's Date (and request id) as scripted.
            data = json.dumps({"__type": "com.amazonaws.codepipeline#InvalidSignatureException",
                               "message": "Signature expired"}).encode()
            self.send_response_only(403)
            for name, value in (("Content-Type", "application/x-amz-json-1.1"), ("Content-Length", str(len(data))),
                                ("Date", fault["date"]),
                                ("x-amzn-RequestId", fault.get("request_id", "req-" + secrets.token_hex(6)))):
                self.send_header(name, value)  # as given: control characters included
            self.end_headers()
            self.wfile.write(data)
        elif kind == "hang":
            time.sleep(fault.get("seconds", 30))
            return False
        elif kind == "reset_mid_body":
            body = json.dumps(job_document(request["jobId"])).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/x-amz-json-1.1")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            self.connection.close()
            self.close_connection = True
        elif kind == "reset":
            self.reset()
        elif kind == "reset_after":
            self.reset_instead_of_reply = True  # the call is applied; its answer is a reset
            return False
        else:
            return False
        return True

    # -- STS --------------------------------------------------------------------------------
    def sts(self, body):
        form = urllib.parse.parse_qs(body.decode())
        token = form.get("WebIdentityToken", [""])[0]
        role = form.get("RoleArn", [""])[0]
        if token != STATE.web_identity["token"] or role != STATE.web_identity["role_arn"]:
            xml = ("<ErrorResponse><Error><Type>Sender</Type><Code>InvalidIdentityToken</Code>"
                   "<Message>Incorrect token audience</Message></Error></ErrorResponse>")
            return self.reply(400, xml.encode(), "text/xml")
        key_id, secret, session, expiration = STATE.issue_key("ASIAFAKESTS")
        xml = (
            "<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult><Credentials>"
            f"<AccessKeyId>{key_id}</AccessKeyId><SecretAccessKey>{secret}</SecretAccessKey>"
            f"<SessionToken>{session}</SessionToken><Expiration>{expiration}</Expiration>"
            "</Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>"
        )
        self.reply(200, xml.encode(), "text/xml")

    def caller_identity(self, body):
        """STS GetCallerIdentity, signed: proves which key a client (the AWS CLI) signed with."""
        ok, reason, key_id = verify_sigv4(self, body, "sts")
        with STATE.lock:
            STATE.calls.append({"operation": "GetCallerIdentity", "signature": reason, "access_key": key_id,
                                "time": time.time()})
        if not ok:
            xml = "<ErrorResponse><Error><Type>Sender</Type><Code>%s</Code><Message>denied</Message></Error></ErrorResponse>" % reason
            return self.reply(403, xml.encode(), "text/xml")
        xml = ("<GetCallerIdentityResponse><GetCallerIdentityResult>"
               "<Arn>arn:aws:sts::123456789012:assumed-role/codepipeline-artifacts/%s</Arn>"
               "<UserId>AROAFAKE:%s</UserId><Account>123456789012</Account>"
               "</GetCallerIdentityResult></GetCallerIdentityResponse>") % (key_id, key_id)
        self.reply(200, xml.encode(), "text/xml")

    # -- container and IMDS -----------------------------------------------------------------
    def container_credentials(self):
        if self.headers.get("Authorization") != STATE.container_token:
            return self.reply(403, {"code": "AccessDenied", "message": "bad token"}, "application/json")
        key_id, secret, session, expiration = STATE.issue_key("ASIAFAKECTR")
        self.reply(200, {"AccessKeyId": key_id, "SecretAccessKey": secret, "Token": session, "Expiration": expiration}, "application/json")

    def imds_credentials(self):
        with STATE.lock:
            known = self.headers.get("X-aws-ec2-metadata-token") in STATE.imds_tokens
        if not known:
            return self.reply(401, b"", "text/plain")
        role = self.path[len("/latest/meta-data/iam/security-credentials/"):]
        if role == "":
            return self.reply(200, STATE.imds_role.encode(), "text/plain")
        if role != STATE.imds_role:
            return self.reply(404, b"", "text/plain")
        key_id, secret, session, expiration = STATE.issue_key("ASIAFAKEIMDS")
        self.reply(200, {"Code": "Success", "Type": "AWS-HMAC", "AccessKeyId": key_id, "SecretAccessKey": secret,
                         "Token": session, "Expiration": expiration}, "application/json")


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A client that gave up (a timeout test, a reset) is expected; anything else is printed.
        if not isinstance(sys.exc_info()[1], (ConnectionError, ssl.SSLError, TimeoutError)):
            super().handle_error(request, client_address)


def make_certificates(directory):
    """A CA and a server certificate for 127.0.0.1 and localhost, made with the openssl CLI."""
    ca_key, ca_cert = os.path.join(directory, "ca.key"), os.path.join(directory, "ca.pem")
    key, csr, cert = (os.path.join(directory, n) for n in ("server.key", "server.csr", "server.pem"))
    ext = os.path.join(directory, "server.ext")
    if os.path.exists(cert):
        return ca_cert, cert, key
    def run(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True)
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca_cert, "-days", "2",
        "-subj", "/CN=jobcreds test CA")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=localhost")
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n")
    run("x509", "-req", "-in", csr, "-CA", ca_cert, "-CAkey", ca_key, "-CAcreateserial", "-out", cert, "-days", "2",
        "-extfile", ext)
    return ca_cert, cert, key


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--state-dir", required=True)
    parser.add_argument("--job-id", action="append", default=[], help="a custom action job to know from the start")
    parser.add_argument("--https-port", type=int, default=0)
    parser.add_argument("--http-port", type=int, default=0)
    parser.add_argument("--exit-on-stdin-eof", action="store_true",
                        help="stop when standard input closes (the parent test process ended)")
    args = parser.parse_args()
    os.makedirs(args.state_dir, exist_ok=True)
    ca_cert, cert, key = make_certificates(args.state_dir)
    for job_id in args.job_id:
        STATE.mint(job_id, {})
        STATE.pipeline.add(job_id, {})

    https = tls(Server(("127.0.0.1", args.https_port), Handler), cert, key)
    http = Server(("127.0.0.1", args.http_port), Handler)
    for server in (https, http):
        threading.Thread(target=server.serve_forever, daemon=True).start()
    print(json.dumps({"https_port": https.server_address[1], "http_port": http.server_address[1], "ca_bundle": ca_cert,
                      "worker": {"id": WORKER_KEY["id"], "secret": WORKER_KEY["secret"]}}), flush=True)
    wait(args.exit_on_stdin_eof)


def tls(server, cert, key):
    """`server` serving HTTPS with `cert` and `key`."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    return server


def wait(until_stdin_eof):
    """Serves until standard input closes (the parent test process ended), or forever."""
    try:
        if until_stdin_eof:
            sys.stdin.read()
        else:
            while True:
                time.sleep(3600)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
