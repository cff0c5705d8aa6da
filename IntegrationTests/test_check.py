"""`jobcreds check` end to end: real libcurl, real TLS, a fake CodePipeline that verifies every
SigV4 signature with botocore, and every provider of the credential chain against its fake."""

import pytest

from conftest import CANARY, JOB_ID, WORKER


def field(run, label):
    """The value of the report line `label:   value` (the first one)."""
    for line in run.out.splitlines():
        name, _, value = line.partition(":")
        if name == label:
            return value.strip()
    raise AssertionError("no %r line in\n%s" % (label, run))


def assert_no_secret(run, *extra):
    for needle in (CANARY, "artifact-secret", "artifact-token", "issued-secret", "issued-token") + extra:
        assert needle not in run.all, (needle, run)


def assert_all_signatures_verified(fake, minimum=1):
    calls = fake.calls()
    assert len(calls) >= minimum
    assert [c["signature"] for c in calls] == ["ok"] * len(calls), calls


# -- the verdicts the issue names ------------------------------------------------------------

def test_worker_keys_in_the_environment_serve_the_job(check, fake, worker_env):
    run = check("--job-id", JOB_ID, env=worker_env)
    assert run.code == 0, run
    assert field(run, "identity").startswith("environment (access key %s)" % WORKER["id"])
    assert "s3://codepipeline-us-east-1-artifacts/demo/SourceOutput/src.zip" in run.out
    assert "s3://codepipeline-us-east-1-artifacts/demo/BuildOutput/out.zip" in run.out
    assert field(run, "artifact key").startswith("ASIAFAKEARTIFACT0001")
    assert field(run, "verdict").startswith("OK")
    assert_no_secret(run, WORKER["secret"])
    assert_all_signatures_verified(fake)


def test_a_job_the_fake_does_not_know_is_not_found(check, fake, worker_env):
    run = check("--job-id", "00000000-1111-2222-3333-444444444444", env=worker_env)
    assert run.code == 6, run
    assert "jobNotFound" in run.out and "does not know this job" in run.out
    assert len(fake.calls()) == 1  # never retried


def test_no_credentials_anywhere_says_so(check, fake):
    run = check("--job-id", JOB_ID)
    assert run.code == 3, run
    assert "no AWS credentials found" in run.out
    assert fake.calls() == []


def test_no_credentials_with_imds_unreachable_says_so(check, fake):
    run = check("--job-id", JOB_ID, env={"AWS_EC2_METADATA_DISABLED": "false",
                                         "AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:1"})
    assert run.code == 3, run
    assert "no AWS credentials found" in run.out and "instance metadata service is not reachable" in run.out


def test_a_wrong_secret_is_refused_by_the_signature_check(check, fake):
    run = check("--job-id", JOB_ID, env={"AWS_ACCESS_KEY_ID": WORKER["id"], "AWS_SECRET_ACCESS_KEY": "wrong"})
    assert run.code == 5, run
    assert "InvalidSignatureException" in run.out
    assert fake.calls()[0]["signature"] == "InvalidSignatureException"


def test_an_unknown_key_is_refused(check, fake):
    run = check("--job-id", JOB_ID, env={"AWS_ACCESS_KEY_ID": "AKIANOBODY", "AWS_SECRET_ACCESS_KEY": "x"})
    assert run.code == 5, run
    assert "UnrecognizedClientException" in run.out


# -- every provider of the chain, over the network ---------------------------------------------

def test_shared_credentials_file_profile(check, fake, home):
    (home / ".aws").mkdir()
    (home / ".aws" / "credentials").write_text(
        "[ci]\naws_access_key_id = %s\naws_secret_access_key = %s\n" % (WORKER["id"], WORKER["secret"]))
    run = check("--job-id", JOB_ID, env={"AWS_PROFILE": "ci"})
    assert run.code == 0, run
    assert field(run, "identity").startswith("profile:ci (access key %s)" % WORKER["id"])
    assert_all_signatures_verified(fake)


def test_config_file_profile(check, fake, tmp_path):
    config = tmp_path / "config"
    config.write_text("[profile ci]\nregion = us-east-1\naws_access_key_id=%s\naws_secret_access_key=%s\n"
                      % (WORKER["id"], WORKER["secret"]))
    run = check("--job-id", JOB_ID, env={"AWS_PROFILE": "ci", "AWS_CONFIG_FILE": str(config)})
    assert run.code == 0, run
    assert "profile:ci" in run.out


def test_web_identity_through_sts(check, fake, tmp_path):
    token = tmp_path / "token"
    token.write_text("web-identity-token-" + CANARY)
    env = {"AWS_WEB_IDENTITY_TOKEN_FILE": str(token), "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/jobcreds-worker",
           "AWS_ENDPOINT_URL_STS": fake.https}
    run = check("--job-id", JOB_ID, env=env)
    assert run.code == 0, run
    assert field(run, "identity").startswith("web-identity (access key ASIAFAKESTS")
    assert_no_secret(run)
    calls = fake.calls()
    assert calls[0]["access_key"].startswith("ASIAFAKESTS") and calls[0]["signature"] == "ok"


def test_web_identity_refused_by_sts(check, fake, tmp_path):
    token = tmp_path / "token"
    token.write_text("a-token-sts-does-not-accept-" + CANARY)
    env = {"AWS_WEB_IDENTITY_TOKEN_FILE": str(token), "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/jobcreds-worker",
           "AWS_ENDPOINT_URL_STS": fake.https}
    run = check("--job-id", JOB_ID, env=env)
    assert run.code == 4, run
    assert "InvalidIdentityToken" in run.out
    assert_no_secret(run)


def test_container_full_uri_with_token_file(check, fake, tmp_path):
    token = tmp_path / "token"
    token.write_text("container-token-" + CANARY)
    env = {"AWS_CONTAINER_CREDENTIALS_FULL_URI": fake.http + "/container-credentials",
           "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": str(token)}
    run = check("--job-id", JOB_ID, env=env)
    assert run.code == 0, run
    assert field(run, "identity").startswith("container (access key ASIAFAKECTR")
    assert_all_signatures_verified(fake)


def test_container_with_a_wrong_token_is_denied(check, fake):
    env = {"AWS_CONTAINER_CREDENTIALS_FULL_URI": fake.http + "/container-credentials",
           "AWS_CONTAINER_AUTHORIZATION_TOKEN": "wrong"}
    run = check("--job-id", JOB_ID, env=env)
    assert run.code == 4, run
    assert "HTTP 403" in run.out


def test_instance_metadata_v2(check, fake):
    run = check("--job-id", JOB_ID, env={"AWS_EC2_METADATA_DISABLED": "false",
                                         "AWS_EC2_METADATA_SERVICE_ENDPOINT": fake.http})
    assert run.code == 0, run
    assert field(run, "identity").startswith("instance-metadata (access key ASIAFAKEIMDS")
    assert_all_signatures_verified(fake)


# -- third-party jobs -------------------------------------------------------------------------

def test_third_party_job_with_its_client_token(check, fake, worker_env, tmp_path):
    fake.configure(jobs={"partner-job-42": {"third_party": True, "client_token": "client-token-" + CANARY}})
    token = tmp_path / "client-token"
    token.write_text("client-token-%s\n" % CANARY)
    token.chmod(0o600)
    run = check("--job-id", "partner-job-42", "--client-token-file", str(token), env=worker_env)
    assert run.code == 0, run
    assert "(third-party action)" in run.out
    assert_no_secret(run)
    assert fake.calls()[0]["operation"] == "GetThirdPartyJobDetails"


@pytest.mark.parametrize("mode", [0o644, 0o604])
def test_a_client_token_file_others_can_read_is_refused(check, fake, worker_env, tmp_path, mode):
    # Before: accepted, though the client token is a secret like the token file.
    fake.configure(jobs={"partner-job-42": {"third_party": True, "client_token": "client-token-" + CANARY}})
    token = tmp_path / "client-token"
    token.write_text("client-token-" + CANARY)
    token.chmod(mode)
    run = check("--job-id", "partner-job-42", "--client-token-file", str(token), env=worker_env)
    assert run.code == 64, run
    assert "%s is readable by others (mode %o)" % (token, mode) in run.all and "chmod 0640" in run.all, run
    assert_no_secret(run)
    assert fake.calls() == []


def test_a_rejected_client_token_never_appears_in_the_output(check, fake, worker_env, tmp_path):
    fake.configure(jobs={"partner-job-42": {"third_party": True, "client_token": "the-right-one"}},
                   faults=[{"kind": "validation_echo", "count": 1}])
    token = tmp_path / "client-token"
    token.write_text("client-token-" + CANARY)
    token.chmod(0o600)
    echoed = check("--job-id", "partner-job-42", "--client-token-file", str(token), env=worker_env)
    assert echoed.code == 64, echoed
    assert "ValidationException" in echoed.out
    assert_no_secret(echoed)
    rejected = check("--job-id", "partner-job-42", "--client-token-file", str(token), env=worker_env)
    assert rejected.code == 6, rejected
    assert "rejected the client token" in rejected.out
    assert_no_secret(rejected)


# -- retries and faults -----------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["throttle", "http500", "http503", "reset"])
def test_transient_failures_are_retried(check, fake, worker_env, kind):
    fake.configure(faults=[{"kind": kind, "count": 2}])
    run = check("--job-id", JOB_ID, env=worker_env)
    assert run.code == 0, run
    assert len(fake.calls()) == 3


@pytest.mark.parametrize("kind,code,text", [
    ("garbage", 1, "not a job document"),
    ("truncated", 1, "not a job document"),
    ("wrong_shape", 1, "wrong type at jobDetails"),
    ("no_credentials", 1, "no complete artifact credentials"),
    ("big", 7, "larger than"),
    ("access_denied", 5, "not authorized to perform: codepipeline:GetJobDetails"),
    ("invalid_job", 6, "invalidJob"),
])
def test_bad_answers_fail_clearly_once(check, fake, worker_env, kind, code, text):
    fake.configure(faults=[{"kind": kind, "count": 1}])
    run = check("--job-id", JOB_ID, env=worker_env)
    assert run.code == code, run
    assert text in run.out, run
    assert len(fake.calls()) == 1
    assert_no_secret(run)


def test_throttling_that_never_ends_gives_up(check, fake, worker_env):
    fake.configure(faults=[{"kind": "throttle", "count": 100}])
    run = check("--job-id", JOB_ID, env=worker_env)
    assert run.code == 7, run
    assert "throttled" in run.out
    assert len(fake.calls()) == 5


# -- transport and input checks ---------------------------------------------------------------

def test_an_untrusted_certificate_is_refused(check, fake, worker_env):
    run = check("--job-id", JOB_ID, env=worker_env, ca=False)
    assert run.code == 7, run
    assert "not trusted" in run.out and "--ca-bundle" in run.out
    assert fake.calls() == []


def test_ca_bundle_flag(check, fake, worker_env):
    run = check("--job-id", JOB_ID, "--ca-bundle", fake.ca_bundle, env=worker_env, ca=False)
    assert run.code == 0, run


@pytest.mark.parametrize("job_id", ["not-a-uuid", "F4F4FF82-2D11-4B3C-9E2D-0123456789AB", ""])
def test_a_malformed_job_id_is_refused_before_any_call(check, fake, worker_env, job_id):
    run = check("--job-id", job_id, env=worker_env)
    assert run.code == 64, run
    assert "UUID" in run.out or "job id" in run.out
    assert fake.calls() == []


def test_plain_http_upstream_is_refused_unless_loopback(check, fake, worker_env):
    run = check("--job-id", JOB_ID, "--endpoint-url", "http://codepipeline.example.com", env=worker_env,
                endpoint=False)
    assert run.code == 64, run
    assert "only https" in run.out


def test_fips_outside_a_fips_region_is_refused(check, fake, worker_env):
    run = check("--job-id", JOB_ID, "--fips", "--region", "eu-west-1", env=worker_env, endpoint=False)
    assert run.code == 64, run
    assert "no FIPS endpoint in eu-west-1" in run.out


def test_options_come_from_the_environment(check, fake, worker_env):
    env = dict(worker_env, JOBCREDS_JOB_ID=JOB_ID, JOBCREDS_ENDPOINT_URL=fake.https)
    run = check(env=env, endpoint=False)
    assert run.code == 0, run
    assert field(run, "endpoint") == "%s/" % fake.https


def test_a_hang_is_cut_by_the_timeout_and_retried(check, fake, worker_env):
    fake.configure(faults=[{"kind": "hang", "seconds": 12, "count": 1}])
    run = check("--job-id", JOB_ID, env=worker_env)
    assert run.code == 0, run
    assert len(fake.calls()) == 2


def test_https_proxy_from_the_environment_is_used(check, fake, worker_env):
    proxied = dict(worker_env, HTTPS_PROXY="http://127.0.0.1:1")
    run = check("--job-id", JOB_ID, env=proxied)
    assert run.code == 7, run
    assert "proxy" in run.out.lower() or "connect" in run.out.lower()
    assert fake.calls() == []
    bypassed = check("--job-id", JOB_ID, env=dict(proxied, NO_PROXY="127.0.0.1"))
    assert bypassed.code == 0, bypassed


# -- upstream text reaches no terminal raw (issue 14, finding 7) ------------------------------

def test_control_characters_in_artifact_names_are_escaped(check, fake, worker_env):
    forged = "Src\x1b[2J\x07\rverdict:      OK: forged\nverdict:      OK: forged\u202e"
    fake.configure(jobs={JOB_ID: {"input_name": forged}})
    run = check("--job-id", JOB_ID, env=worker_env)
    assert run.code == 0, run
    # Before: ESC, BEL, CR and the newline were printed raw, and a second verdict line with them.
    verdicts = [line for line in run.out.splitlines() if line.startswith("verdict:")]
    assert len(verdicts) == 1 and verdicts[0].endswith(" OK: jobcreds can serve this job"), run
    assert not any(ord(c) < 0x20 and c != "\n" for c in run.all), repr(run.all)
    assert "\u202e" not in run.all
    assert "Src\\u{1B}[2J\\u{7}\\u{D}verdict:      OK: forged\\u{A}verdict:      OK: forged\\u{202E}" in run.out, run
