"""A probe with Debian 12's awscrt (python3-awscrt): credentials from awscrt's default chain, one S3
GetObject signed by awscrt's SigV4 signer, sent over TLS that trusts AWS_CA_BUNDLE."""
import http.client
import os
import ssl
import sys
from urllib.parse import urlsplit

from awscrt import auth, http as crt_http, io

endpoint, bucket, key = sys.argv[1:4]
bootstrap = io.ClientBootstrap(io.EventLoopGroup(1), io.DefaultHostResolver(io.EventLoopGroup(1)))
provider = auth.AwsCredentialsProvider.new_default_chain(bootstrap)
credentials = provider.get_credentials().result(timeout=10)
url = urlsplit(endpoint)
path = "/%s/%s" % (bucket, key)
request = crt_http.HttpRequest("GET", path, crt_http.HttpHeaders([("Host", url.netloc)]))
config = auth.AwsSigningConfig(
    algorithm=auth.AwsSigningAlgorithm.V4, signature_type=auth.AwsSignatureType.HTTP_REQUEST_HEADERS,
    credentials_provider=auth.AwsCredentialsProvider.new_static(
        credentials.access_key_id, credentials.secret_access_key, credentials.session_token),
    region="us-east-1", service="s3", use_double_uri_encode=False, should_normalize_uri_path=False,
    signed_body_value=auth.AwsSignedBodyValue.EMPTY_SHA256,
    signed_body_header_type=auth.AwsSignedBodyHeaderType.X_AMZ_CONTENT_SHA_256)
auth.aws_sign_request(request, config).result(timeout=10)
connection = http.client.HTTPSConnection(url.hostname, url.port,
                                         context=ssl.create_default_context(cafile=os.environ["AWS_CA_BUNDLE"]))
connection.request("GET", path, headers=dict(request.headers))
response = connection.getresponse()
body = response.read()
if response.status != 200:
    sys.exit("GetObject: HTTP %d %s" % (response.status, body[:200]))
print("read %d bytes with %s" % (len(body), credentials.access_key_id))
