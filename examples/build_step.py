#!/usr/bin/env python3
"""The build step of build-step.sh in Python with boto3: the same two variables, nothing else.

boto3's default credential chain reads AWS_CONTAINER_CREDENTIALS_FULL_URI and
AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE and gets the job's artifact credentials from jobcreds;
this script only asks jobcreds where the artifacts are.
"""
import hashlib
import io
import json
import os
import sys
import urllib.request
import zipfile

import boto3


def artifacts():
    """The job's artifact locations and encryption key, from the sidecar's /v1/artifacts."""
    base = os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"].removesuffix("/v1/credentials")
    with open(os.environ["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"]) as token_file:
        token = token_file.read()
    request = urllib.request.Request(base + "/v1/artifacts", headers={"Authorization": token})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never a proxy
    with opener.open(request, timeout=5) as response:
        return json.load(response)


def build(source):
    """The "build": a manifest of the sources' checksums, packed with them."""
    output = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(source)) as inputs, zipfile.ZipFile(output, "w") as outputs:
        manifest = []
        for name in sorted(inputs.namelist()):
            data = inputs.read(name)
            outputs.writestr(name, data)
            manifest.append("%s  ./%s" % (hashlib.sha256(data).hexdigest(), name))
        outputs.writestr("MANIFEST", "\n".join(manifest) + "\n")
    return output.getvalue()


def main():
    job = artifacts()
    source, target = job["inputArtifacts"][0], job["outputArtifacts"][0]
    s3 = boto3.client("s3")
    print("build_step.py: downloading %s" % source["uri"])
    body = s3.get_object(Bucket=source["bucket"], Key=source["key"])["Body"].read()
    print("build_step.py: building")
    packed = build(body)
    encryption = {"ServerSideEncryption": "aws:kms"}
    if job.get("encryptionKey", {}).get("id"):
        encryption["SSEKMSKeyId"] = job["encryptionKey"]["id"]
    print("build_step.py: uploading %s" % target["uri"])
    s3.put_object(Bucket=target["bucket"], Key=target["key"], Body=packed, **encryption)
    print("build_step.py: done")


if __name__ == "__main__":
    sys.exit(main())
