"""`/v1/configuration` end to end: the real sidecar, the fake's GetJobDetails (whose configuration
holds a declared non-secret property, a declared secret one and an undeclared one, the last two
holding canaries) and its ListActionTypes (paginated, with neighbouring versions that declare
more)."""
import json

import pytest

from conftest import CANARY, JOB_ID
from fake_aws import ACTION_TYPES, action_type

CUSTOM_TYPE = {"category": "Build", "owner": "Custom", "provider": "JobCredsTest", "version": "1"}
SHOWN = {"actionTypeId": CUSTOM_TYPE, "configuration": {"ProjectName": "demo-project"},
         "withheld": ["ApiKey", "Password"]}


@pytest.fixture
def exposing(serve, tmp_path):
    """A sidecar with --expose-configuration and a `configuration`-only token file `settings`;
    returns (sidecar, its token)."""
    def start(*args, **kwargs):
        settings = tmp_path / ("settings%d" % len(list(tmp_path.glob("settings*"))))
        sidecar = serve("--expose-configuration", "--token-file", "%s:configuration" % settings, *args, **kwargs)
        return sidecar, settings.read_text()
    return start


def assert_no_canary_anywhere(sidecar, *answers):
    """Not in any answer, audit line, operational log line or metric."""
    for answer in answers:
        assert CANARY not in json.dumps(answer)
    assert CANARY not in sidecar.audit_path.read_text()
    if sidecar.metrics_port:
        assert CANARY not in sidecar.scrape()[2]
    sidecar.stop()
    assert CANARY not in sidecar.stdout + sidecar.stderr
    assert "config-secret" not in sidecar.stdout + sidecar.stderr + sidecar.audit_path.read_text()


def operations(fake):
    return [call["operation"] for call in fake.calls()]


def test_the_declared_non_secret_value_is_shown_and_the_others_withheld(exposing, fake):
    sidecar, token = exposing("--metrics-listen", "127.0.0.1:0", "--log-level", "trace")
    status, headers, body = sidecar.get_json("/v1/configuration", token=token)
    assert status == 200 and headers["Cache-Control"] == "no-store"
    assert body == SHOWN
    # The job first without any value, the declaration (two pages), then the declared value.
    assert operations(fake) == ["GetJobDetails", "ListActionTypes", "ListActionTypes", "GetJobDetails"]
    assert all(call["signature"] == "ok" for call in fake.calls())
    line = sidecar.audit()[-1]
    assert (line["path"], line["status"], line["reason"], line["token"]) == (
        "/v1/configuration", 200, "configuration", "settings0")
    upstream = [line["operation"] for line in sidecar.audit() if line["event"] == "upstream"]
    assert upstream == ["GetJobDetails", "ListActionTypes", "ListActionTypes", "GetJobDetails"]
    start = [line for line in sidecar.audit() if line["event"] == "start"][0]
    assert start["expose_configuration"] == "true"
    assert 'jobcreds_requests_total{route="/v1/configuration",status="200"} 1' in sidecar.scrape()[2]
    assert_no_canary_anywhere(sidecar, body)


def test_a_third_party_jobs_own_type_declares_it(exposing, fake, tmp_path):
    client_token = tmp_path / "client-token"
    client_token.write_text("partner-client-token")
    client_token.chmod(0o600)
    fake.configure(jobs={JOB_ID: {"third_party": True, "client_token": "partner-client-token"}})
    sidecar, token = exposing("--client-token-file", str(client_token))
    status, _, body = sidecar.get_json("/v1/configuration", token=token)
    assert status == 200 and body == dict(SHOWN, actionTypeId=dict(CUSTOM_TYPE, owner="ThirdParty"))
    assert operations(fake)[:2] == ["GetThirdPartyJobDetails", "ListActionTypes"]
    assert_no_canary_anywhere(sidecar, body)


@pytest.mark.parametrize("fault, why", [
    ({"operation": "ListActionTypes", "kind": "access_denied", "count": 10_000},
     "ListActionTypes failed (accessDenied): the worker identity needs codepipeline:ListActionTypes"),
    ({"operation": "ListActionTypes", "kind": "http500", "count": 10_000}, "ListActionTypes failed (unavailable)"),
    ({"operation": "ListActionTypes", "kind": "garbage", "count": 10_000},
     "ListActionTypes failed (malformedResponse)"),
])
def test_a_denied_or_failing_lookup_withholds_everything(exposing, fake, fault, why):
    fake.configure(faults=[fault])
    sidecar, token = exposing()
    status, _, body = sidecar.get_json("/v1/configuration", token=token)
    assert (status, body["code"]) == (503, "ConfigurationUnavailable")
    assert body["message"] == "no configuration value is shown: " + why
    line = sidecar.audit()[-1]
    assert line["status"] == 503 and line["reason"] == "ConfigurationUnavailable"
    assert sidecar.get("/v1/credentials")[0] == 200  # the job itself is served as ever
    assert operations(fake).count("GetJobDetails") == 1  # no value was ever asked for
    assert_no_canary_anywhere(sidecar, body)


def test_a_type_not_listed_withholds_everything(exposing, fake):
    fake.configure(action_types=[t for t in ACTION_TYPES if t["id"]["version"] != "1"])
    sidecar, token = exposing()
    status, _, body = sidecar.get_json("/v1/configuration", token=token)
    assert (status, body["code"]) == (503, "ConfigurationUnavailable")
    assert "lists no action type Custom/Build/JobCredsTest/1" in body["message"]
    assert_no_canary_anywhere(sidecar, body)


def test_the_declaration_is_looked_up_again_with_every_refresh(exposing, fake):
    sidecar, token = exposing("--credential-lifetime", "4s")
    assert sidecar.get_json("/v1/configuration", token=token)[2] == SHOWN
    # The type now declares ProjectName secret: the next refresh withholds it.
    fake.configure(action_types=[action_type("Custom", "1", {"ProjectName": True, "ApiKey": True})])
    sidecar.wait_until(lambda: sidecar.get_json("/v1/configuration", token=token)[2]["configuration"] == {},
                       what="the narrower declaration")
    assert sidecar.get_json("/v1/configuration", token=token)[2]["withheld"] == ["ApiKey", "Password", "ProjectName"]
    # A lookup failing later keeps the declaration found before; nothing is guessed wider.
    fake.configure(faults=[{"operation": "ListActionTypes", "kind": "access_denied", "count": 10_000}])
    refreshes = len([line for line in sidecar.audit() if line["event"] == "refresh"])
    sidecar.wait_until(lambda: len([line for line in sidecar.audit() if line["event"] == "refresh"]) > refreshes + 1,
                       what="two more refreshes")
    assert sidecar.get_json("/v1/configuration", token=token)[2]["configuration"] == {}
    assert_no_canary_anywhere(sidecar)


def test_without_the_flag_there_is_no_configuration_and_no_lookup(serve, fake, tmp_path):
    settings = tmp_path / "settings"
    sidecar = serve("--token-file", "%s:configuration" % settings)
    status, _, body = sidecar.get_json("/v1/configuration", token=settings.read_text())
    assert (status, body["code"]) == (404, "NotFound") and "--expose-configuration" in body["message"]
    assert "ListActionTypes" not in operations(fake)
    assert "expose_configuration" not in [line for line in sidecar.audit() if line["event"] == "start"][0]


def test_only_the_configuration_scope_reaches_it(exposing, tmp_path):
    sidecar, token = exposing()
    assert sidecar.get_json("/v1/credentials", token=token)[2]["code"] == "ScopeNotGranted"
    assert sidecar.get_json("/v1/artifacts/SourceOutput/download", token=token)[2]["code"] == "ScopeNotGranted"
    status, _, body = sidecar.get_json("/v1/configuration")  # the whole-credentials token
    assert (status, body["code"]) == (403, "ScopeNotGranted")
