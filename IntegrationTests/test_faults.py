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
