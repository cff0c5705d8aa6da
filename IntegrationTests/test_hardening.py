"""The request gate and the server's limits over real sockets: hostile bytes from the build
container get a clear refusal, and the sidecar keeps answering good clients."""
import os
import pwd
import re
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from conftest import CANARY, JOB_ID
from sidecar import serve_environment


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


def test_the_connection_limit_holds_and_frees_up(serve):
    sidecar = serve("--max-connections", "4", "--idle-timeout", "3s")
    idle = [socket.create_connection(("127.0.0.1", sidecar.port)) for _ in range(6)]
    time.sleep(0.2)
    extra = socket.create_connection(("127.0.0.1", sidecar.port))
    extra.settimeout(1)
    extra.sendall(request(sidecar))
    try:
        held_off = extra.recv(1024) == b""  # closed
    except (ConnectionResetError, socket.timeout):
        held_off = True  # reset, or left unaccepted in the backlog
    assert held_off
    for connection in idle + [extra]:
        connection.close()
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
    assert b"SecretAccessKey" not in reply
    assert sidecar.process.poll() is None
    assert good(sidecar)


def test_pipelined_requests_are_answered_in_order(serve):
    sidecar = serve()
    reply = raw(sidecar, request(sidecar, path=b"/healthz") + request(sidecar) + request(sidecar, path=b"/nope"),
                wait=0.5)
    statuses = [int(code) for code in re.findall(rb"HTTP/1\.1 (\d{3}) ", reply)]
    assert statuses == [200, 200, 404]


# -- process hygiene ----------------------------------------------------------------------------

def test_no_core_dumps_and_not_dumpable(jobcreds_bin, fake, tmp_path):
    """Run as an unprivileged user: /proc/PID files of a non-dumpable process belong to root."""
    nobody = pwd.getpwnam("nobody")
    tmp_path = Path(tempfile.mkdtemp(prefix="jobcreds-nobody-"))  # pytest's own folders are private to root
    tmp_path.chmod(0o777)
    os.chmod(os.path.dirname(fake.ca_bundle), 0o755)
    process = subprocess.Popen(
        ["setpriv", "--reuid=%d" % nobody.pw_uid, "--regid=%d" % nobody.pw_gid, "--clear-groups", jobcreds_bin,
         "serve", "--job-id", JOB_ID, "--listen", "127.0.0.1:0", "--token-file", str(tmp_path / "token"),
         "--audit-log", str(tmp_path / "audit.log")], env=serve_environment(fake, tmp_path),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
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
    rotated.write_text("rotated-token")
    rotated.chmod(0o600)
    rotated.rename(sidecar.token_path)
    sidecar.audit_path.rename(sidecar.audit_path.with_name("audit.log.1"))
    sidecar.process.send_signal(signal.SIGHUP)
    sidecar.wait_until(lambda: sidecar.audit_path.exists() and any(
        line["event"] == "reload" for line in sidecar.audit()), what="reload")
    assert sidecar.get("/v1/credentials", token=old)[0] == 403
    assert sidecar.get("/v1/credentials", token="rotated-token")[0] == 200
    assert [line["status"] for line in sidecar.audit() if line["event"] == "request"] == [403, 200]


def test_sighup_keeps_the_token_when_the_new_file_is_bad(serve):
    sidecar = serve()
    old = sidecar.token
    sidecar.token_path.write_text("bad-" + CANARY + "\n")  # a line break: refused, and never repeated
    sidecar.process.send_signal(signal.SIGHUP)
    sidecar.wait_until(lambda: any(line["event"] == "reload_failed" for line in sidecar.audit()), what="reload_failed")
    assert sidecar.get("/v1/credentials", token=old)[0] == 200
    assert CANARY not in sidecar.audit_path.read_text()
