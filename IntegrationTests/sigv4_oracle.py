#!/usr/bin/env python3
"""botocore as an independent SigV4 oracle, for headers and for presigned URLs.

Reads a JSON list of requests on stdin, each with method, host, path, query (already
percent-encoded, as botocore expects a URL), headers, body, region, service, the key and the
X-Amz-Date; prints the JSON list of the Authorization headers botocore computes for them.
With `--presign`, each request instead has method, scheme, host, key (the object path, not yet
encoded), headers, region, key id, secret, token, X-Amz-Date and expires; the output is the
presigned URLs botocore's S3 query signer makes.
"""
import json
import sys

from botocore.auth import S3SigV4QueryAuth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.utils import percent_encode


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


def presign_with_botocore(method, url, headers, key_id, secret, token, region, amz_date, expires):
    """The presigned URL botocore's S3 query signer makes for `url` (path already encoded, no
    query) with `headers` signed besides Host, as of `amz_date`: the independent computation tests
    compare with, and the one the fake's S3 checks presigned requests against."""
    request = AWSRequest(method=method, url=url, headers=dict(headers))
    auth = S3SigV4QueryAuth(Credentials(key_id, secret, token), "s3", region, expires=expires)
    request.context["timestamp"] = amz_date
    auth._modify_request_before_signing(request)
    canonical = auth.canonical_request(request)
    auth._inject_signature_to_request(request, auth.signature(auth.string_to_sign(request, canonical), request))
    return request.url


def presigned(case):
    # The object path encoded the way botocore's S3 serializer encodes a Key.
    url = "%s://%s%s" % (case["scheme"], case["host"], percent_encode(case["path"], safe="/~"))
    return presign_with_botocore(case["method"], url, case["headers"], case["key"], case["secret"],
                                 case.get("token"), case["region"], case["amz_date"], case["expires"])


if __name__ == "__main__":
    cases = json.load(sys.stdin)
    json.dump([presigned(case) if "--presign" in sys.argv else authorization(case) for case in cases], sys.stdout)
