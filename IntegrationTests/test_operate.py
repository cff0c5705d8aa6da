"""Operating the sidecar: Prometheus metrics, the operational log's formats, `jobcreds probe`, the CLI."""
import json
import os
import subprocess

import pytest

from prometheus_client.parser import text_string_to_metric_families

from conftest import CANARY, JOB_ID, WORKER
from sidecar import serve_environment

ROUTES = {"/v1/credentials", "/v1/artifacts", "/v1/artifacts/{name}/download", "/v1/artifacts/{name}/upload",
          "/v1/configuration", "/healthz", "/readyz", "other"}
REASONS = {"Starting", "HostNotAllowed", "ClientNotAllowed", "ForwardedRequestRefused", "HeadersTooLarge", "BodyNotAllowed",
           "RateLimited", "MethodNotAllowed", "MissingToken", "InvalidToken", "NotFound", "CredentialsUnavailable",
           "JobEnded", "Other", "InvalidTokenTTL", "ScopeNotGranted", "ArtifactNotFound", "InvalidQuery",
           "ConfigurationUnavailable", "MalformedRequest", "HTTPVersionNotSupported", "InvalidUpload", "UploadNotFound",
           "UploadIncomplete", "TooManyUploads", "UploadFailed"}


def families(text):
    """The scrape parsed by prometheus-client's own parser (it raises on anything malformed)."""
    return {family.name: family for family in text_string_to_metric_families(text)}


def sample(parsed, family, name=None, **labels):
    """The value of one sample; 0 if that label set was never seen."""
    for candidate in parsed[family].samples:
        if candidate.name == (name or family) and all(candidate.labels.get(k) == v for k, v in labels.items()):
            return candidate.value
    return 0


# -- metrics ------------------------------------------------------------------------------

def test_metrics_are_off_unless_asked_for(serve, fake):
    sidecar = serve()
    assert sidecar.metrics_port is None
    start = [line for line in sidecar.audit() if line["event"] == "start"][0]
    assert "metrics_listen" not in start


def test_metrics_parse_as_prometheus_and_count_what_happened(serve, fake):
    sidecar = serve("--metrics-listen", "127.0.0.1:0")
    assert sidecar.get("/v1/credentials")[0] == 200
    assert sidecar.get("/v1/credentials")[0] == 200
    assert sidecar.get("/v1/artifacts")[0] == 200
    assert sidecar.get("/v1/credentials", token=None)[0] == 401
    assert sidecar.get("/v1/credentials", token="wrong")[0] == 403
    assert sidecar.get("/elsewhere")[0] == 404
    status, headers, text = sidecar.scrape()
    assert status == 200
    assert headers["Content-Type"].startswith("text/plain; version=0.0.4")
    parsed = families(text)
    # Counters: prometheus-client strips `_total` from the family name, keeps it on the sample.
    assert parsed["jobcreds_requests"].type == "counter"
    assert sample(parsed, "jobcreds_requests", "jobcreds_requests_total", route="/v1/credentials", status="200") == 2
    assert sample(parsed, "jobcreds_requests", "jobcreds_requests_total", route="/v1/artifacts", status="200") == 1
    assert sample(parsed, "jobcreds_requests", "jobcreds_requests_total", route="/v1/credentials", status="401") == 1
    assert sample(parsed, "jobcreds_requests", "jobcreds_requests_total", route="other", status="404") == 1
    denied = "jobcreds_requests_denied"
    assert sample(parsed, denied, denied + "_total", reason="MissingToken") == 1
    assert sample(parsed, denied, denied + "_total", reason="InvalidToken") == 1
    assert sample(parsed, denied, denied + "_total", reason="NotFound") == 1
    assert sample(parsed, denied, denied + "_total", reason="RateLimited") == 0
    upstream = "jobcreds_upstream_calls"
    assert sample(parsed, upstream, upstream + "_total", operation="GetJobDetails", outcome="success") == 1
    latency = parsed["jobcreds_upstream_call_duration_seconds"]
    assert latency.type == "histogram"
    assert sample(parsed, "jobcreds_upstream_call_duration_seconds", "jobcreds_upstream_call_duration_seconds_count",
                  operation="GetJobDetails") == 1
    assert sample(parsed, "jobcreds_refreshes", "jobcreds_refreshes_total") == 1
    assert sample(parsed, "jobcreds_refresh_failures", "jobcreds_refresh_failures_total") == 0
    assert sample(parsed, "jobcreds_audit_write_failures", "jobcreds_audit_write_failures_total") == 0
    assert 600 < sample(parsed, "jobcreds_credentials_expiry_seconds") <= 3600
    assert sample(parsed, "jobcreds_job_active") == 1
    assert sample(parsed, "jobcreds_ready") == 1
    assert sample(parsed, "jobcreds_build_info", version="0.1.0") == 1
    # Scrapes are not requests for credentials: the audit log has no line for them.
    assert not [line for line in sidecar.audit() if line.get("path") == "/metrics"]


def test_refresh_failures_and_the_end_of_the_job_show_in_the_metrics(serve, fake):
    sidecar = serve("--metrics-listen", "127.0.0.1:0", "--credential-lifetime", "4s")
    fake.configure(faults=[{"kind": "throttle", "count": 6}])  # more than one fetch retries
    sidecar.wait_until(lambda: sample(families(sidecar.scrape()[2]), "jobcreds_refresh_failures",
                                      "jobcreds_refresh_failures_total") >= 1, what="a failed refresh counted")
    parsed = families(sidecar.scrape()[2])
    assert sample(parsed, "jobcreds_upstream_calls", "jobcreds_upstream_calls_total", operation="GetJobDetails",
                  outcome="throttled") >= 1
    fake.configure(faults=[{"kind": "not_found", "count": 10_000}])
    sidecar.wait_until(lambda: sample(families(sidecar.scrape()[2]), "jobcreds_job_active") == 0, what="job end")
    parsed = families(sidecar.scrape()[2])
    assert sample(parsed, "jobcreds_ready") == 0
    assert sample(parsed, "jobcreds_credentials_expiry_seconds") == 0


def test_no_secret_and_no_client_string_reaches_the_metrics(serve, fake):
    sidecar = serve("--metrics-listen", "127.0.0.1:0")
    secrets = [sidecar.token, WORKER["secret"]]
    status, _, body = sidecar.get_json("/v1/credentials")
    secrets += [body["SecretAccessKey"], body["Token"]]
    # Client-supplied strings that a careless exporter would turn into labels.
    sidecar.get("/v1/" + CANARY, headers={"User-Agent": "agent-" + CANARY})
    sidecar.get("/v1/credentials", token="token-" + CANARY)
    sidecar.get("/v1/credentials", method="DELETE", headers={"X-Anything": CANARY})
    sidecar.get("/v1/credentials", headers={"Host": "evil-" + CANARY + ".example"})
    _, _, text = sidecar.scrape()
    assert CANARY not in text
    for secret in secrets:
        assert secret not in text
    for family in families(text).values():
        for entry in family.samples:
            assert entry.labels.get("route", "other") in ROUTES
            assert entry.labels.get("reason", "Other") in REASONS
            assert set(entry.labels) <= {"route", "status", "reason", "operation", "outcome", "le", "version"}


def test_the_metrics_listener_serves_only_metrics(serve, fake):
    sidecar = serve("--metrics-listen", "127.0.0.1:0")
    status, _, text = sidecar.scrape("/v1/credentials")
    assert status == 404 and json.loads(text)["code"] == "NotFound"
    status, headers, text = sidecar.scrape("/metrics", method="POST")
    assert status == 405 and headers["Allow"] == "GET, HEAD"


def test_metrics_listen_takes_literal_addresses_only(serve, fake, jobcreds_bin, tmp_path):
    result = subprocess.run([jobcreds_bin, "serve", "--job-id", JOB_ID, "--token-file", str(tmp_path / "t"),
                             "--metrics-listen", "localhost:9912"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 64
    assert "--metrics-listen localhost:9912 needs a literal IP address" in result.stderr


def test_a_metrics_port_in_use_is_a_clear_start_up_error(fake, jobcreds_bin, tmp_path):
    import socket
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run([jobcreds_bin, "serve", "--job-id", JOB_ID, "--listen", "127.0.0.1:0",
                                 "--token-file", str(tmp_path / "t"), "--audit-log", str(tmp_path / "audit.log"),
                                 "--metrics-listen", "127.0.0.1:%d" % port], env=serve_environment(fake, tmp_path),
                                capture_output=True, text=True, timeout=30)
    assert result.returncode == 64
    assert "cannot serve metrics on 127.0.0.1:%d" % port in result.stderr
    events = [json.loads(line)["event"] for line in (tmp_path / "audit.log").read_text().splitlines()]
    assert events[-1] == "stop"


# -- the operational log -------------------------------------------------------------------

def test_json_log_format_writes_one_object_per_line_and_no_secret(serve, fake):
    sidecar = serve("--log-format", "json", "--log-level", "debug")
    sidecar.get("/v1/credentials")
    sidecar.stop()
    lines = [line for line in sidecar.stderr.splitlines() if line.strip()]
    assert lines, "debug level logs something"
    for line in lines:
        entry = json.loads(line)
        assert entry["level"] in {"trace", "debug", "info", "notice", "warning", "error", "critical"}
        assert entry["logger"] and entry["message"] and entry["time"].endswith("Z")
    assert any(json.loads(line)["message"] == "serving" for line in lines)
    assert CANARY not in sidecar.stderr and sidecar.token not in sidecar.stderr


def test_text_log_format_is_the_default_and_levels_filter(serve, fake):
    sidecar = serve()
    sidecar.stop()
    assert "info jobcreds" in sidecar.stderr and "serving" in sidecar.stderr
    quiet = serve("--log-level", "error")
    quiet.stop()
    assert quiet.stderr.strip() == ""


def test_bad_log_options_are_usage_errors(jobcreds_bin, tmp_path):
    for option, value, message in [("--log-level", "loud", "--log-level loud is not a level"),
                                   ("--log-format", "xml", "--log-format xml is not a format")]:
        result = subprocess.run([jobcreds_bin, "serve", "--job-id", JOB_ID, "--token-file", str(tmp_path / "t"),
                                 option, value], capture_output=True, text=True, timeout=30)
        assert result.returncode == 64 and message in result.stderr


# -- jobcreds probe ------------------------------------------------------------------------

def test_probe_says_ready_and_healthy(serve, fake, jobcreds_bin):
    sidecar = serve()
    address = "127.0.0.1:%d" % sidecar.port
    # A proxy in the environment must not be used for loopback.
    env = {"PATH": "/usr/bin:/bin", "http_proxy": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9"}
    ready = subprocess.run([jobcreds_bin, "probe", "--listen", address], capture_output=True, text=True, env=env)
    assert ready.returncode == 0, ready.stdout + ready.stderr
    assert ready.stdout.startswith("/readyz 200")
    env["JOBCREDS_LISTEN"] = address
    healthy = subprocess.run([jobcreds_bin, "probe", "--path", "/healthz"], capture_output=True, text=True, env=env)
    assert healthy.returncode == 0 and healthy.stdout.startswith("/healthz 200")


def test_probe_fails_when_not_ready_or_not_there(serve, fake, jobcreds_bin):
    fake.configure(faults=[{"kind": "not_found", "count": 10_000}])
    sidecar = serve(wait_ready=False)
    sidecar.wait_until(lambda: sidecar.get_json("/readyz", token=None)[0] == 503, what="not ready")
    address = "127.0.0.1:%d" % sidecar.port
    result = subprocess.run([jobcreds_bin, "probe", "--listen", address], capture_output=True, text=True)
    assert result.returncode == 1 and "/readyz 503" in result.stdout
    sidecar.stop()
    gone = subprocess.run([jobcreds_bin, "probe", "--listen", address, "--timeout", "1s"], capture_output=True,
                          text=True)
    assert gone.returncode == 1 and "unreachable" in gone.stdout
    wrong = subprocess.run([jobcreds_bin, "probe", "--path", "/v1/credentials"], capture_output=True, text=True)
    assert wrong.returncode == 64 and "use /healthz or /readyz" in wrong.stderr


# -- the command line ----------------------------------------------------------------------

def test_help_names_every_option_with_its_environment_variable_and_default(jobcreds_bin):
    text = subprocess.run([jobcreds_bin, "serve", "--help"], capture_output=True, text=True).stdout
    options = [line.split()[0] for line in text.splitlines() if line.startswith("  --")]
    assert len(options) >= 20
    for option in options:
        if option in ("--help", "--version", "--fips"):
            continue
        name = option.lstrip("-").split()[0].upper().replace("-", "_")
        assert "JOBCREDS_" + name in text, option
    for default in ("default 127.0.0.1:9911", "default 15m", "default 200", "default info", "default text",
                    "default off"):
        assert default in text


@pytest.mark.parametrize("command", ["serve", "worker", "check", "probe", "exec", "credential-process"])
@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_every_command_prints_its_help_with_no_variable_set(jobcreds_bin, tmp_path, command, flag):
    # Before: `exec --help` exited 64 ("AWS_CONTAINER_CREDENTIALS_FULL_URI is not set"), and with
    # the variables set it would have run a command named --help.
    marker = tmp_path / "ran"
    result = subprocess.run([jobcreds_bin, command, flag], capture_output=True, text=True, timeout=10,
                            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path)})
    assert result.returncode == 0, result
    assert result.stdout.startswith("OVERVIEW: ") and "USAGE: jobcreds %s" % command in result.stdout, result
    assert not marker.exists()


def test_version_and_completions(jobcreds_bin):
    version = subprocess.run([jobcreds_bin, "--version"], capture_output=True, text=True)
    assert version.returncode == 0 and version.stdout.strip() == "0.1.0"
    for shell, marker in [("bash", "-F _jobcreds jobcreds"), ("zsh", "#compdef jobcreds"), ("fish", "complete -c 'jobcreds'")]:
        script = subprocess.run([jobcreds_bin, "--generate-completion-script", shell], capture_output=True, text=True)
        assert script.returncode == 0 and marker in script.stdout, shell
        assert "metrics-listen" in script.stdout and "probe" in script.stdout
