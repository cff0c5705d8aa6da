"""The request gate and the server's limits over real sockets: hostile bytes from the build
container get a clear refusal, and the sidecar keeps answering good clients."""
import json
import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

import other_user
from conftest import CANARY, JOB_ID
from sidecar import Sidecar, serve_environment


def raw(sidecar, data, wait=0.3, timeout=3):
    """Sends raw bytes on a fresh connection; returns what came back before the server closed or went quiet."""
    connection = socket.create_connection(("127.0.0.1", sidecar.port), timeout=timeout)
    try:
        connection.sendall(data)
        time.sleep(wait)
        chunks = []
        connection.settimeout(1)
        while True:
            try:
                chunk = connection.recv(65536)
            except (socket.timeout, ConnectionResetError):
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        connection.close()


def status_of(reply):
    return int(reply.split(b" ", 2)[1]) if reply.startswith(b"HTTP/1.") else None


def good(sidecar):
    return sidecar.get("/v1/credentials")[0] == 200


def request(sidecar, extra=b"", host=None, method=b"GET", path=b"/v1/credentials"):
    host = host if host is not None else ("127.0.0.1:%d" % sidecar.port).encode()
    return (method + b" " + path + b" HTTP/1.1\r\nHost: " + host + b"\r\nAuthorization: " + sidecar.token.encode()
            + b"\r\n" + extra + b"\r\n")


HOLD = Path(__file__).resolve().parent / "hold.py"


def hold_as_nobody(*args):
    """Starts hold.py as user nobody (a copy and an interpreter nobody can reach); returns the process."""
    return other_user.start(other_user.python(), other_user.copy(HOLD, 0o644), *args)


@pytest.mark.parametrize("host,status", [
    (b"evil.example", 403), (b"evil.example:%d", 403), (b"localhost:%d", 200), (b"127.0.0.1", 200),
])
def test_dns_rebinding_is_refused_by_host(serve, host, status):
    sidecar = serve()
    if b"%d" in host:
        host = host % sidecar.port
    reply = raw(sidecar, request(sidecar, host=host))
    assert status_of(reply) == status, reply
    if status == 403:
        assert b'"code":"HostNotAllowed"' in reply
        assert sidecar.audit()[-1]["reason"] == "HostNotAllowed"


@pytest.mark.parametrize("header", [b"X-Forwarded-For: 10.0.0.1", b"Forwarded: for=10.0.0.1", b"Origin: http://evil.example"])
def test_proxied_and_browser_requests_are_refused(serve, header):
    sidecar = serve()
    reply = raw(sidecar, request(sidecar, extra=header + b"\r\n"))
    assert status_of(reply) == 403 and b"ForwardedRequestRefused" in reply
    assert b"Access-Control" not in reply


def test_oversized_headers_are_refused(serve):
    sidecar = serve()
    reply = raw(sidecar, request(sidecar, extra=b"X-Pad: " + b"a" * 9000 + b"\r\n"))
    assert status_of(reply) == 431 and b"HeadersTooLarge" in reply
    huge = raw(sidecar, request(sidecar, extra=b"X-Pad: " + b"a" * 200_000 + b"\r\n"))
    assert status_of(huge) in (None, 413, 414, 431)  # MHD refuses past its buffer, before the gate
    assert good(sidecar)


@pytest.mark.parametrize("extra", [b"Content-Length: 5\r\n", b"Transfer-Encoding: chunked\r\n",
                                   b"Content-Length: 99999999999999999999999\r\n", b"Content-Length: -1\r\n",
                                   b"Content-Length: 1\r\nContent-Length: 2\r\n"])
def test_bodies_are_refused_unread(serve, extra):
    sidecar = serve()
    reply = raw(sidecar, request(sidecar, extra=extra) + b"hello")
    assert status_of(reply) in (400, 413), reply
    assert b"SecretAccessKey" not in reply
    assert good(sidecar)


def test_rate_limit_answers_429_with_retry_after(serve):
    """Refusals are limited per address; a request with the token never is."""
    sidecar = serve("--rate-limit", "5", "--rate-burst", "5")
    statuses = [sidecar.get("/v1/credentials", token="wrong-" + CANARY)[0] for _ in range(5)]
    status, headers, _ = sidecar.get_json("/v1/credentials", token="wrong-" + CANARY)
    assert statuses == [403] * 5 and status == 429 and headers["Retry-After"] == "1"
    assert sidecar.audit()[-1]["reason"] == "RateLimited"
    assert [sidecar.get("/v1/credentials")[0] for _ in range(100)] == [200] * 100
    assert sidecar.get("/v1/credentials", token=None)[0] == 429
    time.sleep(1.1)
    assert sidecar.get("/v1/credentials", token=None)[0] == 401


def test_slowloris_connections_are_cut_by_the_idle_timeout(serve):
    sidecar = serve("--idle-timeout", "1s")
    connection = socket.create_connection(("127.0.0.1", sidecar.port))
    connection.sendall(b"GET /v1/credentials HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    connection.settimeout(5)
    started = time.time()
    assert connection.recv(1024) == b""  # closed by the server
    assert time.time() - started < 4
    connection.close()
    assert good(sidecar)


@pytest.mark.skipif(os.geteuid() != 0, reason="running as another user takes root")
def test_the_connection_limit_holds_and_frees_up(serve):
    sidecar = serve("--max-connections", "4", "--idle-timeout", "30s", "--request-head-timeout", "30s")
    holder = hold_as_nobody(str(sidecar.port), "-", "6", "3", "127.0.0.1")
    held = json.loads(other_user.first_line(holder, "hold.py"))
    assert held == {"held": 4, "closed": 2}, held
    assert good(sidecar)  # the sidecar's own user (root here) has the reserve
    holder.wait()
    refused = [line["reason"] for line in sidecar.audit() if line["event"] == "connection_refused"]
    assert refused == ["connection_limit", "connection_limit"], refused
    sidecar.wait_until(lambda: good(sidecar), what="a free connection")


MALFORMED = [
    b"\r\n\r\n",
    b"GET\r\n\r\n",
    b"GET /v1/credentials\r\n\r\n",
    b"GET /v1/credentials HTTP/9.9\r\nHost: x\r\n\r\n",
    b"G\x00T /v1/credentials HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    b"GET /v1/cred\x00entials HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    b"GET /v1/credentials HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Nul: a\x00b\r\n\r\n",
    b"GET /v1/credentials HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: evil.example\r\n\r\n",
    b"GET /v1/credentials HTTP/1.1\r\n\r\n",
    b"GET /v1/credentials HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header Name: x\r\n\r\n",
    b"GET /v1/credentials HTTP/1.1\r\nHost: 127.0.0.1\r\n no-name-continuation\r\n\r\n",
    b"GET /v1/credentials HTTP/1.1\nHost: 127.0.0.1\n\n",
    b"GET /" + b"a" * 100_000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    b"GET /v1/credentials HTTP/1.1\r\nHost: 127.0.0.1\r\n" + b"X-Many: 1\r\n" * 5000 + b"\r\n",
    b"\xff\xfe\xfd\xfc" * 1000,
    b"CONNECT 127.0.0.1:443 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    b"GET http://evil.example/v1/credentials HTTP/1.1\r\nHost: evil.example\r\n\r\n",
    b"GET /v1/credentials HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n",
]


@pytest.mark.parametrize("data", MALFORMED, ids=range(len(MALFORMED)))
def test_malformed_http_never_takes_the_sidecar_down(serve, data):
    sidecar = serve()
    reply = raw(sidecar, data)
    assert b"SecretAccessKey" not in reply and b"<html" not in reply.lower()
    assert sidecar.process.poll() is None
    assert good(sidecar)


def test_pipelined_requests_get_one_answer_and_a_close(serve):
    # One request per connection (issue 14, finding 5): a request behind the first would reach
    # libmicrohttpd without the accept loop's check, so it is never read; the client sends it again
    # on a new connection, as HTTP/1.1 clients do after `Connection: close`.
    sidecar = serve()
    before = len(sidecar.audit())
    reply = raw(sidecar, request(sidecar, path=b"/healthz") + request(sidecar) + b"GET / HTTP/2.0\r\n\r\n",
                wait=0.5)
    statuses = [int(code) for code in re.findall(rb"HTTP/1\.1 (\d{3}) ", reply)]
    assert statuses == [200] and b"Connection: close\r\n" in reply, reply
    time.sleep(0.3)
    assert [line["path"] for line in sidecar.audit()[before:]] == ["/healthz"]


# -- process hygiene ----------------------------------------------------------------------------

def test_no_core_dumps_and_not_dumpable(jobcreds_bin, fake, tmp_path):
    """Run as an unprivileged user: /proc/PID files of a non-dumpable process belong to root."""
    tmp_path = other_user.directory()
    tmp_path.chmod(0o777)
    os.chmod(os.path.dirname(fake.ca_bundle), 0o755)
    process = other_user.start(
        other_user.copy(jobcreds_bin), "serve", "--job-id", JOB_ID, "--listen", "127.0.0.1:0", "--token-file",
        tmp_path / "token", "--audit-log", tmp_path / "audit.log", env=serve_environment(fake, tmp_path), text=False)
    try:
        audit = tmp_path / "audit.log"
        deadline = time.time() + 20
        while not (audit.exists() and b'"ready"' in audit.read_bytes()):
            assert process.poll() is None, process.stderr.read()
            assert time.time() < deadline, "not ready"
            time.sleep(0.05)
        limits = open("/proc/%d/limits" % process.pid).read()
        core = [line for line in limits.splitlines() if line.startswith("Max core file size")][0].split()
        assert core[4:6] == ["0", "0"], core
        assert os.stat("/proc/%d/status" % process.pid).st_uid == 0  # not dumpable
        assert os.stat("/proc/%d/environ" % process.pid).st_uid == 0
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert process.returncode == 0


def test_sighup_rotates_the_token_and_reopens_the_audit_log(serve):
    sidecar = serve()
    old = sidecar.token
    rotated = sidecar.token_path.with_name("token.new")
    rotated.write_text("rotated-token-0123456789abcdef0123456789")
    rotated.chmod(0o600)
    rotated.rename(sidecar.token_path)
    sidecar.audit_path.rename(sidecar.audit_path.with_name("audit.log.1"))
    sidecar.process.send_signal(signal.SIGHUP)
    sidecar.wait_until(lambda: sidecar.audit_path.exists() and any(
        line["event"] == "reload" for line in sidecar.audit()), what="reload")
    assert sidecar.get("/v1/credentials", token=old)[0] == 403
    assert sidecar.get("/v1/credentials", token="rotated-token-0123456789abcdef0123456789")[0] == 200
    assert [line["status"] for line in sidecar.audit() if line["event"] == "request"] == [403, 200]


def test_sighup_keeps_the_token_when_the_new_file_is_bad(serve):
    sidecar = serve()
    old = sidecar.token
    sidecar.token_path.write_text("bad-" + CANARY + "\n")  # a line break: refused, and never repeated
    sidecar.process.send_signal(signal.SIGHUP)
    sidecar.wait_until(lambda: any(line["event"] == "reload_failed" for line in sidecar.audit()), what="reload_failed")
    assert sidecar.get("/v1/credentials", token=old)[0] == 200
    assert CANARY not in sidecar.audit_path.read_text()


# -- paths as sent, and HEAD (issue 14, finding 8) --------------------------------------------

@pytest.mark.parametrize("path", [b"/v1/%63redentials", b"%2Fv1/credentials", b"/v1/credentials%00.json",
                                  b"/v1/credentials%2F", b"/v1//credentials", b"/v1/./credentials",
                                  b"/v1/credentials/", b"/V1/credentials"])
def test_only_the_exact_path_is_routed(serve, path):
    sidecar = serve()
    reply = raw(sidecar, request(sidecar, path=path))
    assert status_of(reply) in (400, 404), reply[:200]
    assert b"SecretAccessKey" not in reply and b"AccessKeyId" not in reply
    line = [line for line in sidecar.audit() if line["event"] == "request"][-1]
    # The audit log records the target as received, not a decoded one.
    assert line["path"] == path.decode(), line
    assert "access_key_id" not in line


def test_head_is_audited_as_what_it_is(serve):
    sidecar = serve()
    reply = raw(sidecar, request(sidecar, method=b"HEAD"))
    assert status_of(reply) == 200, reply[:200]
    assert b"SecretAccessKey" not in reply  # no body
    line = [line for line in sidecar.audit() if line["event"] == "request"][-1]
    assert line["method"] == "HEAD" and line["decision"] != "credentials", line
    assert "access_key_id" not in line, line


# -- files trusted only when they can be (issue 14, finding 6) ---------------------------------

LONG_TOKEN = "planted-token-0123456789abcdef0123456789"


def start_refused(jobcreds_bin, fake, tmp_path, *args, token=None, audit=None, timeout=10):
    """Runs `jobcreds serve` that must refuse to start: returns what it printed (exit 64, promptly)."""
    argv = [jobcreds_bin, "serve", "--job-id", JOB_ID, "--listen", "127.0.0.1:0",
            "--token-file", str(token or tmp_path / "token"), "--audit-log", str(audit or tmp_path / "audit.log"),
            *args]
    run = subprocess.run(argv, env=serve_environment(fake, tmp_path), capture_output=True, text=True,
                         timeout=timeout)
    assert run.returncode == 64, run
    return run.stderr


def planted(path, content, mode, uid=None):
    path.write_text(content)
    path.chmod(mode)
    if uid is not None:
        os.chown(path, uid, uid)
    return path


@pytest.mark.skipif(os.geteuid() != 0, reason="planting a file of another user takes root")
def test_a_token_file_of_another_user_is_refused(jobcreds_bin, fake, tmp_path):
    # Before: used, so the planter's known token got 200.
    token = planted(tmp_path / "token", LONG_TOKEN, 0o600, uid=65534)
    message = start_refused(jobcreds_bin, fake, tmp_path, token=token)
    assert "%s is owned by user 65534" % token in message, message


@pytest.mark.parametrize("content,mode,why", [("x", 0o600, "fewer than 32"),
                                              (LONG_TOKEN, 0o620, "writable by its group")])
def test_a_weak_token_file_is_refused(jobcreds_bin, fake, tmp_path, content, mode, why):
    token = planted(tmp_path / "token", content, mode)
    message = start_refused(jobcreds_bin, fake, tmp_path, token=token)
    assert str(token) in message and why in message, message


@pytest.mark.parametrize("which", ["token", "audit"])
def test_a_fifo_is_refused_at_once_not_waited_on(jobcreds_bin, fake, tmp_path, which):
    # Before: the open blocked forever, and SIGTERM was then ignored.
    fifo = tmp_path / ("fifo-" + which)
    os.mkfifo(fifo, 0o600)
    message = start_refused(jobcreds_bin, fake, tmp_path, **{which: fifo})
    assert str(fifo) in message, message


@pytest.mark.parametrize("mode,uid,why", [(0o666, None, "writable by its group or others"),
                                          (0o644, None, "is readable by others (mode 644)"),
                                          (0o604, None, "is readable by others (mode 604)"),
                                          (0o600, 65534, "is owned by user 65534")])
def test_a_client_token_file_is_checked_like_a_token_file(jobcreds_bin, fake, tmp_path, mode, uid, why):
    if uid is not None and os.geteuid() != 0:
        pytest.skip("planting a file of another user takes root")
    client = planted(tmp_path / "client-token", "client-token-" + CANARY, mode, uid)
    message = start_refused(jobcreds_bin, fake, tmp_path, "--client-token-file", str(client))
    assert str(client) in message and why in message, message
    assert CANARY not in message


@pytest.mark.skipif(os.geteuid() != 0, reason="planting a file of another user takes root")
def test_an_audit_log_of_another_user_writable_by_all_is_refused(jobcreds_bin, fake, tmp_path):
    audit = planted(tmp_path / "audit.log", "", 0o666, uid=65534)
    os.chmod(audit, 0o666)  # chown cleared nothing, but be explicit
    message = start_refused(jobcreds_bin, fake, tmp_path, audit=audit)
    assert str(audit) in message, message
    assert audit.read_text() == ""


def fill(path):
    """Writes `path` until the filesystem under it is full; its own pages are whole."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            os.write(descriptor, b"f" * 4096)
    except OSError as error:
        assert error.errno == 28, error  # ENOSPC
    finally:
        os.close(descriptor)


def metric(sidecar, name):
    text = sidecar.scrape()[2]
    return float(re.search(r"^%s (\S+)$" % name, text, re.M).group(1))


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small filesystem takes root")
def test_an_audit_log_on_a_disk_that_fills_up_keeps_every_later_line_whole(jobcreds_bin, fake, tmp_path):
    # Before: the line the full disk cut short stayed unterminated, and the first hand-out after
    # the disk had room again was appended to it: that hand-out's audit line was not JSON.
    small = tmp_path / "small"
    small.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k,mode=0700", "tmpfs", str(small)], check=True)
    try:
        sidecar = Sidecar(jobcreds_bin, fake, small, args=("--job-id", JOB_ID, "--metrics-listen", "127.0.0.1:0"),
                          token_file=tmp_path / "token")
        try:
            assert good(sidecar)
            # Filled, the only room left is the rest of the audit log's last page (tmpfs counts
            # pages). A line longer than what is left, but not a multiple of it, tears; a line
            # of another length shifts the end until one will.
            line = len(sidecar.audit_path.read_bytes().splitlines()[-1]) + 1
            while (4096 - sidecar.audit_path.stat().st_size % 4096) % line == 0:
                sidecar.get("/healthz", token=None)
            fill(small / "filler")
            statuses = []
            while not statuses or statuses[-1] == 200:
                status, _, body = sidecar.get("/v1/credentials")
                statuses.append(status)
                assert len(statuses) < 40, statuses
            assert statuses[-1] == 503 and json.loads(body)["code"] == "AuditUnavailable", (statuses, body)
            torn = sidecar.audit_path.read_bytes()
            assert not torn.endswith(b"\n"), "the full disk cut no line short: the test shows nothing"
            assert sidecar.get("/v1/credentials")[0] == 503  # still full: refused, nothing handed out
            assert sidecar.get("/healthz", token=None)[0] == 200  # and the process keeps serving
            (small / "filler").unlink()
            assert good(sidecar)
            assert sidecar.get("/v1/credentials")[0] == 200
            lines = sidecar.audit_path.read_bytes().split(b"\n")
            assert lines[-1] == b""
            first_after = torn.count(b"\n") + 1  # the torn line is the one before
            with pytest.raises(ValueError):
                json.loads(lines[first_after - 1])
            later = [json.loads(text) for text in lines[first_after:-1]]
            served = [entry for entry in later if entry.get("path") == "/v1/credentials"]
            assert [entry["status"] for entry in served] == [200, 200], later
            assert metric(sidecar, "jobcreds_audit_torn_lines_total") == 1
            assert metric(sidecar, "jobcreds_audit_write_failures_total") >= 2
        finally:
            sidecar.process.terminate()  # not stop(): it reads the audit log, torn line and all, as JSON
            sidecar.process.communicate(timeout=15)
    finally:
        subprocess.run(["umount", "-l", str(small)], check=True)


def test_a_token_file_swapped_for_a_fifo_before_sighup(serve):
    sidecar = serve()
    old = sidecar.token
    sidecar.token_path.unlink()
    os.mkfifo(sidecar.token_path, 0o600)
    sidecar.process.send_signal(signal.SIGHUP)
    sidecar.wait_until(lambda: any(line["event"] == "reload_failed" for line in sidecar.audit()), what="reload_failed")
    assert sidecar.get("/v1/credentials", token=old)[0] == 200
    started = time.time()
    assert sidecar.stop() == 0
    assert time.time() - started < 5


# -- the worker's keys at start-up (issue 14, finding 3) --------------------------------------

@pytest.mark.skipif(os.geteuid() != 0, reason="reading a non-dumpable process's environ takes root")
def test_the_worker_secret_is_scrubbed_from_proc_environ(serve):
    sidecar = serve()
    environ = open("/proc/%d/environ" % sidecar.process.pid, "rb").read()
    secret = serve_environment_secret(sidecar)
    # Before: the key stayed in the block the kernel shows for the process's whole life.
    assert secret.encode() not in environ
    assert b"AWS_ACCESS_KEY_ID=" in environ  # the block is there, only the secret values are gone
    assert sidecar.get("/v1/credentials")[0] == 200  # the chain read them first


def serve_environment_secret(sidecar):
    return [value for name, value in sidecar.environment.items() if name == "AWS_SECRET_ACCESS_KEY"][0]


@pytest.mark.skipif(os.geteuid() != 0, reason="running as another user takes root")
def test_every_command_is_not_dumpable_from_main(jobcreds_bin, tmp_path):
    # `exec` never reaches the sidecar's own hygiene: before, it stayed dumpable while it waited.
    binary = other_user.copy(jobcreds_bin, 0o755)  # readable: the kernel does not make it non-dumpable
    token = other_user.directory() / "token"
    token.write_text("t" * 64)
    token.chmod(0o644)
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    process = other_user.start(
        binary, "exec", "--wait-ready", "20s", "--", "true",
        env={"PATH": os.environ["PATH"], "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:%d/v1/credentials" % port,
             "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": str(token), "AWS_SECRET_ACCESS_KEY": "x-" + CANARY},
    )
    try:
        time.sleep(0.5)
        assert process.poll() is None, process.stderr.read()
        assert os.stat("/proc/%d/status" % process.pid).st_uid == 0  # not dumpable
    finally:
        process.kill()
        process.wait(timeout=10)


POLLER = r"""
import os, subprocess, sys, time
secret = sys.stdin.readline().strip().encode()
argv, runs, seen = sys.argv[1:], 10, 0
environment = {"PATH": os.environ["PATH"], "AWS_SECRET_ACCESS_KEY": secret.decode()}
for _ in range(runs):
    child = subprocess.Popen(argv, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    path, deadline = "/proc/%d/environ" % child.pid, time.time() + 0.3
    while time.time() < deadline:
        try:
            with open(path, "rb") as f:
                if secret in f.read():
                    seen += 1
                    break
        except OSError:
            pass
    child.kill()
    child.wait()
print(seen)
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="running as another user takes root")
def test_an_execute_only_binary_is_never_readable_from_proc(jobcreds_bin):
    # SECURITY.md and deploy/Dockerfile: installed 0711, the process is non-dumpable from exec on.
    if os.environ.get("JOBCREDS_SANITIZER"):  # `make sanitize` sets it
        pytest.skip("a sanitizer's runtime makes the process dumpable while it starts, before jobcreds runs")
    binary = other_user.copy(jobcreds_bin, 0o711)
    run = subprocess.run(
        other_user.argv(other_user.python(), "-c", POLLER, binary, "serve", "--job-id", JOB_ID, "--region",
                        "us-east-1"),
        input="worker-secret-" + CANARY + "\n", capture_output=True, text=True, timeout=60,
        env={"PATH": os.environ["PATH"]})
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "0", run


# -- fairness between local users, not source addresses (issue 14, finding 4) ------------------

@pytest.mark.skipif(os.geteuid() != 0, reason="running as another user takes root")
def test_another_user_holding_300_connections_from_many_addresses_takes_only_its_share(serve, jobcreds_bin):
    # Before: fairness per address: 128 from each of two addresses took all 256 slots, and
    # everybody else, the liveness probe included, got nothing.
    sidecar = serve("--idle-timeout", "30s", "--request-head-timeout", "30s")
    holder = hold_as_nobody(str(sidecar.port), "-", "300", "30", "127.0.0.2", "127.0.0.3", "127.0.0.4")
    try:
        held = json.loads(other_user.first_line(holder, "hold.py"))
        assert held == {"held": 128, "closed": 172}, held  # its share; the rest closed at once
        started = time.time()
        assert sidecar.get("/v1/credentials")[0] == 200
        assert time.time() - started < 2
        probe = subprocess.run([jobcreds_bin, "probe", "--listen", "127.0.0.1:%d" % sidecar.port, "--path", "/healthz"],
                               capture_output=True, text=True, timeout=10)
        assert probe.returncode == 0, probe
    finally:
        holder.kill()
        holder.wait()
    nobody = other_user.NOBODY.pw_uid
    # The heads nobody left cut short are refused as the server notices the closed connections:
    # wait for their lines rather than read the log the instant the holder is killed.
    sidecar.wait_until(lambda: any(line["event"] == "request" and line.get("client_uid") == nobody
                                   for line in sidecar.audit()), timeout=10, what="nobody's refused heads")
    refused = [line for line in sidecar.audit() if line["event"] == "connection_refused"]
    assert len(refused) == 172 and {line["reason"] for line in refused} == {"per_client_limit"}, refused[:3]
    assert {line["client_uid"] for line in refused} == {nobody}
    requests = {(line["client_uid"], line["status"]) for line in sidecar.audit() if line["event"] == "request"}
    # nobody's heads were cut short when it exited: each refused, none served. (Ours include the
    # readiness polls, 503 until ready.)
    assert {status for uid, status in requests if uid == nobody} == {400}, requests
    assert (os.geteuid(), 200) in requests and {uid for uid, _ in requests} == {nobody, os.geteuid()}, requests


@pytest.mark.skipif(os.geteuid() != 0, reason="running as another user takes root")
def test_a_wrong_token_flood_from_another_user_is_throttled_as_one_client(serve):
    sidecar = serve("--rate-limit", "1", "--rate-burst", "5")
    # 30 wrong-token requests over three addresses, 127.0.0.1 included: one user, one bucket.
    flood = hold_as_nobody(str(sidecar.port), "wrong-" + "x" * 60, "30", "0", "127.0.0.1", "127.0.0.2", "127.0.0.3")
    statuses = json.loads(other_user.first_line(flood, "hold.py"))
    flood.wait()
    assert statuses.get("403", 0) <= 6 and statuses.get("429", 0) >= 24, statuses
    # Another user, on the same address: its own bucket, and a valid token is never throttled.
    assert sidecar.get("/v1/credentials", token="wrong-" + "y" * 60)[0] == 403
    assert sidecar.get("/v1/credentials")[0] == 200


def test_a_request_head_dribbled_slower_than_the_deadline_is_cut(serve):
    # Before: each byte restarted the idle timeout, so a dribbling client held its slot for ever.
    sidecar = serve("--idle-timeout", "10s")
    connection = socket.create_connection(("127.0.0.1", sidecar.port))
    started = time.time()
    closed = False
    for byte in b"GET /v1/credentials HTTP/1.1\r\nHost: 127.0.0.1\r\n":
        try:
            connection.sendall(bytes([byte]))
        except OSError:
            closed = True
            break
        time.sleep(0.25)
        if time.time() - started > 6:
            break
    connection.settimeout(2)
    try:
        closed = closed or connection.recv(1024) == b""
    except (ConnectionResetError, socket.timeout):
        closed = closed or False
    connection.close()
    assert closed and time.time() - started < 6
    line = [line for line in sidecar.audit() if line["event"] == "connection_refused"][-1]
    assert line["reason"] == "no_request_head" and line["client_uid"] == os.geteuid(), line
    assert good(sidecar)


# -- every refusal is the sidecar's JSON, with one audit line (issue 14, finding 5) -------------

HEADS_LIBMICROHTTPD_WOULD_REFUSE = [
    # (bytes, status, code, path in the audit line); before: libmicrohttpd's HTML page or a dropped
    # connection, and no audit line.
    (b"GET /v1/credentials HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: +0\r\n\r\n", 400, "MalformedRequest",
     "/v1/credentials"),
    (b"GET /v1/credentials HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0 \r\n\r\n", 400, "MalformedRequest",
     "/v1/credentials"),
    (b"GET /v1/credentials HTTP/1.1\r\nHost: 127.0.0.1\r\n" + b"X-Many: 1\r\n" * 5000 + b"\r\n", 431,
     "HeadersTooLarge", "/v1/credentials"),
    (b"GET /v1/credentials HTTP/1.1\r\nHost: 127.0.0.1\r\n" + b"X-Many: 1\r\n" * 64 + b"\r\n", 431,
     "HeadersTooLarge", "/v1/credentials"),
    (b"GET /v1/credentials?" + b"&".join(b"a%d=1" % n for n in range(70)) + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
     431, "HeadersTooLarge", "/v1/credentials?a0=1&a1=1&"),
    (b"GET /v1/credentials HTTP/2.0\r\nHost: 127.0.0.1\r\n\r\n", 505, "HTTPVersionNotSupported", "/v1/credentials"),
    (b"GET /v1/credentials HTTP/0.9\r\nHost: 127.0.0.1\r\n\r\n", 505, "HTTPVersionNotSupported", "/v1/credentials"),
    (b"GET /v1/credentials HTTP/1.x\r\nHost: 127.0.0.1\r\n\r\n", 400, "MalformedRequest", "/v1/credentials"),
    (b"GET /v1/credentials\r\n\r\n", 400, "MalformedRequest", "/v1/credentials"),  # HTTP/0.9
    (b"GET /" + b"a" * 100_000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 431, "HeadersTooLarge", None),
    (b"GET /v1/credentials HTTP/1.1\nHost: 127.0.0.1\n\n", 400, "MalformedRequest", None),  # bare LF
    (b"GET /v1/credentials HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: a\rb\r\n\r\n", 400, "MalformedRequest",
     "/v1/credentials"),
    (b"GET /v1/credentials HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Nul: a\x00b\r\n\r\n", 400, "MalformedRequest",
     "/v1/credentials"),
    (b"GET /v1/credentials HTTP/1.1\r\nHost: 127.0.0.1\r\nNo colon\r\n\r\n", 400, "MalformedRequest",
     "/v1/credentials"),
    (b"GET /v1/credentials HTTP/1.1\r\nHost: 127.0.0.1\r\n folded\r\n\r\n", 400, "MalformedRequest",
     "/v1/credentials"),
    (b"GET /v1/cred entials HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 400, "MalformedRequest", None),
    (b"GET  /v1/credentials HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 400, "MalformedRequest", None),
    (b"\xff\xfe\xfd\xfc" * 1000, 400, "MalformedRequest", None),
]


@pytest.mark.parametrize("data,status,code,path", HEADS_LIBMICROHTTPD_WOULD_REFUSE,
                         ids=range(len(HEADS_LIBMICROHTTPD_WOULD_REFUSE)))
def test_every_head_libmicrohttpd_would_refuse_is_a_json_refusal_with_one_audit_line(serve, data, status, code, path):
    sidecar = serve()
    before = len(sidecar.audit())
    reply = raw(sidecar, data)
    assert status_of(reply) == status, reply[:300]
    head, body = reply.split(b"\r\n\r\n", 1)
    assert json.loads(body) == {"code": code, "message": json.loads(body)["message"]}, body
    assert b"Content-Type: application/json" in head and b"X-Request-Id: " in head and b"<html" not in reply.lower()
    sidecar.wait_until(lambda: len(sidecar.audit()) > before, timeout=5, what="an audit line")
    time.sleep(0.3)
    lines = sidecar.audit()[before:]
    assert len(lines) == 1 and lines[0]["event"] == "request", lines
    line = lines[0]
    assert (line["status"], line["reason"], line["decision"]) == (status, code, "deny"), line
    assert line.get("path") == path or (path and line["path"].startswith(path)), line
    assert line["client_uid"] == os.geteuid() and line["request_id"] in head.decode()
    assert good(sidecar)


def test_a_request_without_host_is_the_gates_json_refusal(serve):
    # Before issue 14: libmicrohttpd's strict mode answered it with an HTML 400 and no audit line.
    sidecar = serve()
    reply = raw(sidecar, b"GET /v1/credentials HTTP/1.1\r\nAuthorization: %s\r\n\r\n" % sidecar.token.encode())
    assert status_of(reply) == 403 and b'"code":"HostNotAllowed"' in reply, reply[:300]
    line = [line for line in sidecar.audit() if line["event"] == "request"][-1]
    assert (line["status"], line["reason"]) == (403, "HostNotAllowed"), line


def test_a_head_the_client_ends_half_way_is_refused_and_audited(serve):
    sidecar = serve()
    before = len(sidecar.audit())
    connection = socket.create_connection(("127.0.0.1", sidecar.port))
    connection.sendall(b"GET /v1/credentials HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    connection.shutdown(socket.SHUT_WR)
    connection.settimeout(3)
    reply = b""
    while chunk := connection.recv(65536):
        reply += chunk
    connection.close()
    assert status_of(reply) == 400 and b'"code":"MalformedRequest"' in reply, reply
    sidecar.wait_until(lambda: len(sidecar.audit()) > before, timeout=5, what="an audit line")
    assert [line["reason"] for line in sidecar.audit()[before:]] == ["MalformedRequest"]


def test_the_largest_heads_the_limits_allow_are_served_not_refused_by_libmicrohttpd(serve):
    # The accept loop lets these through; libmicrohttpd's buffer is sized for the worst of them
    # (a cookie as long as the head allows, all 64 fields), so it answers none with its own page.
    sidecar = serve()
    base = b"GET /v1/credentials HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: " + sidecar.token.encode() + b"\r\n"
    cookie = b"Cookie: " + b"c" * (8192 - len(base) - len(b"Cookie: \r\n\r\n")) + b"\r\n"
    fields = base + b"".join(b"X-%d: v\r\n" % n for n in range(62))
    for data in (base + cookie + b"\r\n", fields + b"\r\n"):
        reply = raw(sidecar, data)
        assert status_of(reply) == 200 and b"<html" not in reply.lower(), (len(data), reply[:300])
