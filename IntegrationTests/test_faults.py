"""Fault injection: upstream misbehaves while the sidecar serves. After every fault the sidecar
is still up, has served only valid credentials (never expired, never half-parsed), has said what
happened in one clear audit line per failed refresh, and serves fresh credentials again, without a
restart, once upstream is healthy."""
import json
import tempfile
import time
from datetime import datetime, timezone

import pytest

from conftest import CANARY, JOB_ID, Fake, free_port
from sidecar import Sidecar


def assert_only_valid_answers(sidecar, seconds):
    """Polls for `seconds`: each answer is complete, unexpired credentials or a clean 503."""
    deadline = time.time() + seconds
    seen = set()
    while time.time() < deadline:
        status, _, body = sidecar.get("/v1/credentials")
        assert status in (200, 503), (status, body)
        document = json.loads(body)
        if status == 200:
            assert set(document) == {"AccessKeyId", "SecretAccessKey", "Token", "Expiration", "AccountId"}
            expires = datetime.strptime(document["Expiration"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
            assert expires > datetime.now(timezone.utc), document["Expiration"]
            seen.add(status)
        else:
            assert document["code"] == "CredentialsUnavailable"
            seen.add(status)
        time.sleep(0.05)
    return seen


def heal(fake):
    """Upstream healthy again, in one step: the job stays known throughout (a reset followed by a
    new job would let a retry in between meet JobNotFound, which rightly ends the job)."""
    fake.configure(clear_faults=True)


def refreshes_after(sidecar, moment):
    return [line for line in sidecar.audit() if line["event"] == "refresh" and line["time"] > moment]


FAULTS = ["throttle", "http500", "http503", "reset", "reset_mid_body", "garbage", "truncated", "big",
          "wrong_shape", "no_credentials"]


@pytest.mark.parametrize("kind", FAULTS)
def test_the_sidecar_rides_out_a_fault_and_recovers(serve, fake, kind):
    sidecar = serve("--credential-lifetime", "8s")
    fake.configure(faults=[{"kind": kind, "count": 100_000}])
    sidecar.wait_until(lambda: any(line["event"] == "refresh_failed" for line in sidecar.audit()), timeout=30,
                       what="a failed refresh")
    assert_only_valid_answers(sidecar, 1.0)  # asserts every answer itself
    failed = [line for line in sidecar.audit() if line["event"] == "refresh_failed"][0]
    assert failed["reason"] and failed["message"] and CANARY not in json.dumps(failed)
    healed_at = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    heal(fake)
    sidecar.wait_until(lambda: refreshes_after(sidecar, healed_at) and sidecar.get("/v1/credentials")[0] == 200,
                       timeout=60, what="recovery")
    assert sidecar.process.poll() is None
    assert CANARY not in sidecar.audit_path.read_text()


def test_valid_credentials_are_served_through_a_fault_and_expired_ones_never(serve, fake):
    sidecar = serve("--credential-lifetime", "6s")
    fake.configure(faults=[{"kind": "http503", "count": 100_000}])
    seen = assert_only_valid_answers(sidecar, 7)
    assert seen == {200, 503}  # served while valid, then refused: never expired
    heal(fake)
    sidecar.wait_until(lambda: sidecar.get("/v1/credentials")[0] == 200, timeout=60, what="recovery")


def test_a_hang_past_the_timeout(serve, fake):
    sidecar = serve("--credential-lifetime", "20s", "--upstream-timeout", "1s")
    fake.configure(faults=[{"kind": "hang", "seconds": 3, "count": 3}])
    sidecar.wait_until(lambda: any(line.get("outcome") == "network" for line in sidecar.audit()), timeout=30,
                       what="a timed-out attempt")
    assert 503 not in assert_only_valid_answers(sidecar, 1.0)
    sidecar.wait_until(lambda: refreshes_after(sidecar, "0"), timeout=60, what="a refresh after the hangs")


def test_clock_skew_is_corrected_from_the_date_header(serve, fake):
    fake.configure(clock_offset=3600)
    sidecar = serve()
    upstream = [line for line in sidecar.audit() if line["event"] == "upstream"]
    assert [line["outcome"] for line in upstream][:2] == ["clockSkew", "success"]
    calls = fake.calls()
    assert calls[0]["signature"] == "SignatureExpired" and calls[1]["signature"] == "ok"


def test_connection_refused_then_upstream_comes_back(jobcreds_bin, tmp_path):
    state = tempfile.mkdtemp(prefix="fake-aws-restart-")
    ports = (free_port(), free_port())

    def start_fake():
        return Fake.start(state, "--https-port", str(ports[0]), "--http-port", str(ports[1]), "--job-id", JOB_ID)

    upstream = start_fake()
    sidecar = Sidecar(jobcreds_bin, upstream, tmp_path, args=("--job-id", JOB_ID, "--credential-lifetime", "6s"))
    try:
        upstream.stop()  # upstream is gone: connections are refused
        sidecar.wait_until(lambda: any(line["event"] == "refresh_failed" for line in sidecar.audit()), timeout=30,
                           what="a refused refresh")
        assert any(line.get("outcome") == "network" for line in sidecar.audit())
        assert_only_valid_answers(sidecar, 1.0)
        upstream = start_fake()
        sidecar.wait_until(lambda: sidecar.get("/v1/credentials")[0] == 200 and refreshes_after(sidecar, "0"),
                           timeout=60, what="recovery")
        assert sidecar.process.poll() is None
    finally:
        sidecar.stop()
        if upstream.process.poll() is None:
            upstream.stop()


# -- A hostile upstream: numbers out of range (issue 14, findings 1 and 2) --------------------

OUT_OF_RANGE_EXPIRATIONS = ["1e22", "-1e22", "1e300", "-1", '"99999-01-01T00:00:00Z"', '"not a time"']


@pytest.mark.parametrize("value", OUT_OF_RANGE_EXPIRATIONS)
def test_an_out_of_range_expiration_at_start_up_is_a_failed_refresh(serve, fake, value):
    # Before: 1e22 trapped converting to Int when the credentials were rendered (SIGILL).
    fake.configure(faults=[{"kind": "expiration", "value": value, "count": 1}])
    sidecar = serve()  # the second fetch succeeds: ready
    assert sidecar.process.poll() is None
    failed = [line for line in sidecar.audit() if line["event"] == "refresh_failed"]
    assert len(failed) == 1 and failed[0]["reason"] == "malformedResponse", failed
    assert "expirationTime" in failed[0]["message"], failed[0]
    assert sidecar.get("/v1/credentials")[0] == 200


@pytest.mark.parametrize("value", ["1e22", "-1e22", "1e300"])
def test_an_out_of_range_expiration_on_refresh_keeps_the_valid_credentials(serve, fake, value):
    sidecar = serve("--credential-lifetime", "40s")
    first = json.loads(sidecar.get("/v1/credentials")[2])
    fake.configure(faults=[{"kind": "expiration", "value": value, "count": 100_000}])
    sidecar.wait_until(lambda: any(line["event"] == "refresh_failed" for line in sidecar.audit()), timeout=60,
                       what="a failed refresh")
    status, _, body = sidecar.get("/v1/credentials")
    assert sidecar.process.poll() is None
    assert status == 200 and json.loads(body)["AccessKeyId"] == first["AccessKeyId"]


@pytest.mark.parametrize("date", [
    "Sun, 06 Nov 9223372036854775807 08:49:37 GMT",   # the year
    "Sun, 9223372036854775807 Nov 1994 08:49:37 GMT",  # the day
    "Sun, 06 Nov 1994 9223372036854775807:49:37 GMT",  # the hour
    "Sun, 06 Nov 1994 08:49:-9223372036854775807 GMT",
    "Sun, 06 Nov 0000 08:49:37 GMT",
])
def test_a_skew_refusal_with_an_enormous_date_is_not_a_correction(serve, fake, date):
    # Before: the clock-skew correction overflowed computing the date (SIGILL).
    fake.configure(faults=[{"kind": "signature_date", "date": date, "count": 1}])
    sidecar = serve()
    assert sidecar.process.poll() is None
    outcomes = [line["outcome"] for line in sidecar.audit() if line["event"] == "upstream"]
    assert outcomes[:2] == ["accessDenied", "success"], outcomes
    assert sidecar.get("/v1/credentials")[0] == 200


def test_credentials_already_expired_are_a_failure_with_backoff_not_a_refresh_storm(serve, fake):
    sidecar = serve("--credential-lifetime", "30s")  # the first refresh 12-18 s in, servable until 27 s
    first = json.loads(sidecar.get("/v1/credentials")[2])
    fake.configure(faults=[{"kind": "expiration", "value": "1000", "count": 100_000}])  # 1970, in seconds
    sidecar.wait_until(lambda: any(line["event"] == "refresh_failed" for line in sidecar.audit()), timeout=30,
                       what="the first unusable answer")
    calls_before = len(fake.calls())
    time.sleep(8)
    calls = len(fake.calls()) - calls_before
    # Before: stored, then asked again about once a second, forever (8 here). With the failure
    # backoff (steps of 1, 2, 4, 8 s, each at least half its step): at most 4 more in 8 s.
    assert calls <= 4, calls
    failed = [line for line in sidecar.audit() if line["event"] == "refresh_failed"]
    assert all(line["reason"] == "malformedResponse" for line in failed), failed
    # The valid credentials were kept, never replaced by expired ones.
    status, _, body = sidecar.get("/v1/credentials")
    assert status == 200 and json.loads(body)["AccessKeyId"] == first["AccessKeyId"], (status, body)


def test_an_upstream_request_id_reaches_the_text_log_escaped(serve, fake):
    # Before: the x-amzn-RequestId (ESC, a bare CR) was copied into the text log raw.
    skewed = datetime.fromtimestamp(time.time() + 3600, timezone.utc).strftime("%a, %d %b %Y %H:%M:%S GMT")
    fake.configure(faults=[{"kind": "signature_date", "date": skewed, "request_id": "req\x1b[31m\rFORGED", "count": 1}])
    sidecar = serve("--log-format", "text")
    sidecar.stop()
    assert "\x1b" not in sidecar.stderr and "FORGED" in sidecar.stderr, sidecar.stderr
    assert "req\\u{1B}[31m\\u{D}FORGED" in sidecar.stderr, sidecar.stderr
    audited = [line["aws_request_id"] for line in sidecar.audit() if line["event"] == "upstream"]
    assert audited[0] == "req\x1b[31m\rFORGED"  # the audit log is JSON: escaped by the encoding
