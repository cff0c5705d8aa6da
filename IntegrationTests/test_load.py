"""boto3 as a real build uses it: threads making S3 calls through a sidecar with default flags.
botocore asks for credentials on almost every call; none of those requests may be throttled.
(`make load-boto3` runs the same with 5,000 calls.)"""
from pathlib import Path

from load_boto3 import load, report


def test_a_boto3_thread_pool_is_never_throttled(jobcreds_bin, tmp_path):
    # 1,500 calls in a few seconds ask the sidecar ~1,500 times: past the default burst (400) and
    # rate (200/s) that refusals draw from, so a limit on valid requests would show as 429.
    result = load(jobcreds_bin, threads=8, calls=1500, state=Path(tmp_path))
    print(report(result))
    assert result["errors"] == 0
    assert 429 not in result["statuses"], result["statuses"]
    assert result["s3_ok"] == 1500
    assert 0.9 <= result["per_call"] <= 1.2, result  # botocore: about one credential request per call
