"""Running a test's helper as user nobody, wherever the checkout lives.

A checkout may sit in a directory only its owner can enter (`git clone` into /root, mode 0700),
so nothing that nobody runs is taken from it: scripts and binaries are copied into a fresh
directory anyone can enter, and the interpreter is one nobody can execute. A helper that fails
to start says so, with what it printed, instead of leaving the test an empty line."""
import os
import pwd
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

NOBODY = pwd.getpwnam("nobody")


def reachable(path):
    """Whether others can execute `path`: every directory above it enterable, the file executable."""
    path = Path(path).resolve()
    for directory in path.parents:
        if not os.stat(directory).st_mode & stat.S_IXOTH:
            return False
    return bool(os.stat(path).st_mode & stat.S_IXOTH)


def python():
    """A Python 3 that nobody can execute: this one's own binary, else the system's. Helpers run
    with it use the standard library only (a virtual environment may be out of nobody's reach)."""
    for candidate in (os.path.realpath(sys.executable), shutil.which("python3", path="/usr/bin:/bin")):
        if candidate and reachable(candidate):
            return candidate
    raise AssertionError("no Python interpreter that user nobody can execute")


def directory():
    """A fresh directory anyone can enter (pytest's own folders are private to root)."""
    made = Path(tempfile.mkdtemp(prefix="jobcreds-nobody-"))
    made.chmod(0o755)
    return made


def copy(path, mode=0o755):
    """A copy of `path` with `mode`, in a directory of its own that nobody can enter."""
    target = directory() / Path(path).name
    target.write_bytes(Path(path).read_bytes())
    target.chmod(mode)
    assert reachable(target) or not mode & stat.S_IXOTH, target
    return target


def argv(*command):
    """`command` run through setpriv as nobody, with no supplementary groups."""
    return ["setpriv", "--reuid=%d" % NOBODY.pw_uid, "--regid=%d" % NOBODY.pw_gid, "--clear-groups",
            *map(str, command)]


def start(*command, **popen):
    """Starts `command` as nobody; stdout and stderr are text pipes unless `popen` says otherwise."""
    options = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True, **popen}
    return subprocess.Popen(argv(*command), **options)


def first_line(process, what):
    """The first line `process` prints; if it prints none, fails naming `what` and its stderr."""
    line = process.stdout.readline()
    if not line.strip():
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        raise AssertionError("%s, run as user nobody, printed nothing (exit %s): %s"
                             % (what, process.returncode, process.stderr.read()))
    return line
