#!/usr/bin/env python3
"""botocore as an independent SigV4 oracle.

Reads a JSON list of requests on stdin, each with method, host, path, query (already
percent-encoded, as botocore expects a URL), headers, body, region, service, the key and the
X-Amz-Date; prints the JSON list of the Authorization headers botocore computes for them.
"""
import json
import sys

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


def authorization(case):
    url = "https://" + case["host"] + case["path"] + ("?" + case["query"] if case["query"] else "")
    headers = dict(case["headers"])
    headers["X-Amz-Date"] = case["amz_date"]
    if case.get("token"):
        headers["X-Amz-Security-Token"] = case["token"]
    request = AWSRequest(method=case["method"], url=url, data=case["body"].encode(), headers=headers)
    request.context["timestamp"] = case["amz_date"]
    auth = SigV4Auth(Credentials(case["key"], case["secret"], case.get("token")), case["service"], case["region"])
    canonical = auth.canonical_request(request)
    signature = auth.signature(auth.string_to_sign(request, canonical), request)
    scope = "/".join([case["amz_date"][:8], case["region"], case["service"], "aws4_request"])
    return "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s" % (
        case["key"], scope, auth.signed_headers(auth.headers_to_sign(request)), signature)


if __name__ == "__main__":
    json.dump([authorization(case) for case in json.load(sys.stdin)], sys.stdout)
