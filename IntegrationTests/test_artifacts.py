"""`jobcreds artifacts pull|push` end to end: the real sidecar issues the URLs, the fake's S3
verifies every one (and serves ranges), and the archives are read and made by independent tools
(Info-ZIP zip/unzip, Python's zipfile, bsdtar). The hostile corpus (hostile_zips.py) hits every
refusal; nothing is written outside the sandbox and DIR never appears."""
import base64
import hashlib
import io
import json
import os
import stat
import subprocess
import zipfile

import pytest

import hostile_zips
from conftest import CANARY

INPUT = "codepipeline-us-east-1-artifacts/demo/SourceOutput/src.zip"
OUTPUT = "codepipeline-us-east-1-artifacts/demo/BuildOutput/out.zip"


@pytest.fixture
def artifacts(serve, fake, tmp_path, jobcreds_bin):
    """Runs `jobcreds artifacts ...` beside a sidecar with a `download,upload` token."""
    steps = tmp_path / "steps"
    sidecar = serve("--token-file", "%s:download,upload" % steps, "--s3-endpoint-url", fake.https)
    env = {"PATH": os.environ["PATH"], "JOBCREDS_URL": sidecar.base, "JOBCREDS_TOKEN_FILE": str(steps),
           "AWS_CA_BUNDLE": fake.ca_bundle, "TMPDIR": str(tmp_path)}

    def run(*args, extra_env=None, timeout=120):
        completed = subprocess.run([jobcreds_bin, "artifacts", *args], env=dict(env, **(extra_env or {})),
                                   capture_output=True, text=True, timeout=timeout)
        completed.summary = json.loads(completed.stdout.strip().splitlines()[-1]) if completed.returncode == 0 else None
        return completed
    run.sidecar = sidecar
    return run


def plant(fake, body, name=INPUT):
    fake.control("/_control/objects", {name: base64.b64encode(body).decode()})


def listing(root):
    """`find -printf '%m %y %l %P'` sorted, and each file's SHA-256."""
    found = subprocess.run(["find", ".", "-mindepth", "1", "-printf", "%m %y %l %P\\n"], cwd=root,
                           capture_output=True, text=True, check=True).stdout
    lines = sorted(found.splitlines())
    sums = {}
    for directory, _, files in os.walk(root):
        for name in files:
            path = os.path.join(directory, name)
            if not os.path.islink(path):
                with open(path, "rb") as handle:
                    sums[os.path.relpath(path, root)] = hashlib.sha256(handle.read()).hexdigest()
    return lines, sums


def make_tree(root):
    """The issue's tree: a 0755 script, a 0600 file, a 0555 directory holding a 0444 file, an
    empty 0700 directory, an in-tree link, nesting, a zero-byte and a random file, a non-ASCII name."""
    (root / "bin").mkdir(parents=True)
    (root / "bin" / "run.sh").write_text("#!/bin/sh\necho hi\n")
    os.chmod(root / "bin" / "run.sh", 0o755)
    (root / "secret").write_text("only mine\n")
    os.chmod(root / "secret", 0o600)
    (root / "ro").mkdir()
    (root / "ro" / "f").write_text("read only\n")
    os.chmod(root / "ro" / "f", 0o444)
    (root / "empty").mkdir()
    os.chmod(root / "empty", 0o700)
    os.symlink("bin/run.sh", root / "link")
    (root / "a" / "b" / "c").mkdir(parents=True)
    (root / "a" / "b" / "c" / "d.txt").write_text("deep\n")
    (root / "zero").write_bytes(b"")
    (root / "random.bin").write_bytes(os.urandom(1 << 20))
    (root / "ünï.txt").write_text("non-ASCII name\n")
    os.chmod(root / "ro", 0o555)


def stored(fake, name=OUTPUT):
    entry = fake.control("/_control/objects")[name]
    return entry, entry["body"].encode("latin-1")


def test_a_tree_round_trips_with_modes_links_and_empty_directories(artifacts, fake, tmp_path):
    source = tmp_path / "source"
    make_tree(source)
    pushed = artifacts("push", "BuildOutput", str(source))
    assert pushed.returncode == 0, pushed.stderr
    entry, body = stored(fake)
    assert entry["sse"] == "aws:kms" and entry["kms_key"]
    summary = pushed.summary
    assert summary["artifact"] == "BuildOutput" and "%s/%s" % (summary["bucket"], summary["key"]) == OUTPUT
    assert summary["bytes"] == len(body) and summary["sha256"] == hashlib.sha256(body).hexdigest()
    assert summary["parts"] == 1 and summary["entries"] == 14 and summary["kms_key_id"].endswith(entry["kms_key"])
    # Pulled elsewhere: the same tree, modes, links and bytes.
    plant(fake, body)
    pulled = artifacts("pull", "SourceOutput", str(tmp_path / "pulled"))
    assert pulled.returncode == 0, pulled.stderr
    assert listing(tmp_path / "pulled") == listing(source)
    assert pulled.summary["files"] == 7 and pulled.summary["symlinks"] == 1 and pulled.summary["dirs"] == 6
    assert pulled.summary["etag"] == '"%s"' % hashlib.md5(body).hexdigest() and pulled.summary["format"] == "zip"
    os.chmod(source / "ro", 0o755)


def test_the_pushed_zip_is_read_alike_by_python_info_zip_and_bsdtar(artifacts, fake, tmp_path):
    source = tmp_path / "source"
    make_tree(source)
    assert artifacts("push", "BuildOutput", str(source)).returncode == 0
    _, body = stored(fake)
    archive = tmp_path / "out.zip"
    archive.write_bytes(body)
    with zipfile.ZipFile(archive) as opened:
        assert opened.testzip() is None
        infos = {info.filename: info for info in opened.infolist()}
    assert all(info.create_system == 3 for info in infos.values())
    modes = {name: info.external_attr >> 16 for name, info in infos.items()}
    assert modes["bin/run.sh"] == stat.S_IFREG | 0o755 and modes["secret"] == stat.S_IFREG | 0o600
    assert modes["ro/"] == stat.S_IFDIR | 0o555 and modes["ro/f"] == stat.S_IFREG | 0o444
    assert modes["empty/"] == stat.S_IFDIR | 0o700 and stat.S_ISLNK(modes["link"])
    assert infos["ünï.txt"].flag_bits & 0x800, "a non-ASCII name is flagged UTF-8"
    assert list(infos) == sorted(infos, key=lambda name: name.encode()), "entries are sorted by name"
    assert subprocess.run(["unzip", "-tq", str(archive)], capture_output=True).returncode == 0
    for tool, argv in (("unzip", ["unzip", "-q", str(archive), "-d"]), ("bsdtar", ["bsdtar", "-xpf", str(archive), "-C"])):
        target = tmp_path / tool
        target.mkdir()
        subprocess.run(argv + [str(target)], check=True, capture_output=True)
        os.chmod(target, 0o755)
        assert listing(target) == listing(source), tool
    os.chmod(source / "ro", 0o755)


def test_source_date_epoch_makes_the_same_bytes_from_the_same_tree(artifacts, fake, tmp_path):
    source = tmp_path / "source"
    make_tree(source)
    bodies = []
    for _ in range(2):
        assert artifacts("push", "BuildOutput", str(source), extra_env={"SOURCE_DATE_EPOCH": "1700000000"}).returncode == 0
        bodies.append(stored(fake)[1])
        os.utime(source / "secret")  # a newer time is capped at the epoch
    assert bodies[0] == bodies[1]
    with zipfile.ZipFile(io.BytesIO(bodies[0])) as opened:
        assert max(info.date_time for info in opened.infolist()) <= (2023, 11, 15, 0, 0, 0)
    os.chmod(source / "ro", 0o755)


def test_a_file_is_pushed_as_the_one_entry_of_a_zip(artifacts, fake, tmp_path):
    (tmp_path / "app.jar").write_bytes(b"PK-not-really" * 100)
    assert artifacts("push", "BuildOutput", str(tmp_path / "app.jar")).returncode == 0
    with zipfile.ZipFile(io.BytesIO(stored(fake)[1])) as opened:
        (info,) = opened.infolist()
        assert info.filename == "app.jar" and info.compress_type == zipfile.ZIP_STORED  # already compressed


def test_content_that_is_compressed_already_is_stored_whatever_its_name(artifacts, fake, tmp_path):
    source = tmp_path / "source"
    source.mkdir()
    random_bytes = os.urandom(300_000)
    (source / "layer").write_bytes(random_bytes)  # no suffix: an image layer, an unnamed tarball
    (source / "notes.txt").write_bytes(b"the same line again and again\n" * 10_000)
    (source / "half").write_bytes(b"text text text\n" * 10_000 + os.urandom(150_000))  # deflate still gains
    (source / "tiny").write_bytes(os.urandom(4000))  # too small to look at: deflated
    assert artifacts("push", "BuildOutput", str(source)).returncode == 0
    with zipfile.ZipFile(io.BytesIO(stored(fake)[1])) as opened:
        methods = {info.filename: info.compress_type for info in opened.infolist()}
        assert opened.read("layer") == random_bytes and opened.testzip() is None
    assert methods == {"layer": zipfile.ZIP_STORED, "notes.txt": zipfile.ZIP_DEFLATED,
                       "half": zipfile.ZIP_DEFLATED, "tiny": zipfile.ZIP_DEFLATED}, methods


@pytest.mark.parametrize("maker", sorted(hostile_zips.FOREIGN), ids=str)
def test_foreign_zips_are_pulled_as_their_makers_meant(artifacts, fake, tmp_path, maker):
    body, expected = hostile_zips.FOREIGN[maker](tmp_path)
    plant(fake, body)
    pulled = artifacts("pull", "SourceOutput", str(tmp_path / "pulled"))
    assert pulled.returncode == 0, pulled.stderr
    assert listing(tmp_path / "pulled")[0] == sorted(expected)


@pytest.mark.parametrize("case", sorted(hostile_zips.HOSTILE), ids=str)
def test_a_hostile_archive_is_refused_with_its_code_and_leaves_nothing(artifacts, fake, tmp_path, case):
    body, code, status = hostile_zips.HOSTILE[case]()
    plant(fake, body)
    sandbox = tmp_path / "sandbox"
    sandbox.mkdir()
    before = sorted(os.listdir(tmp_path))
    pulled = artifacts("pull", "SourceOutput", str(sandbox / "dir"), *hostile_zips.FLAGS.get(case, ()))
    assert pulled.returncode == status, (pulled.returncode, pulled.stderr)
    assert "jobcreds artifacts pull: %s:" % code in pulled.stderr, pulled.stderr
    assert os.listdir(sandbox) == [], "nothing is left beside DIR"
    assert sorted(os.listdir(tmp_path)) == before, "nothing is written outside the sandbox"
    assert not os.path.exists("/tmp/evil.txt") and CANARY not in pulled.stderr


def test_a_large_file_that_is_not_an_archive_is_refused_after_its_first_range(artifacts, fake, tmp_path):
    plant(fake, b"\x00not an archive" * (3 << 20))  # 45 MiB: six ranges
    pulled = artifacts("pull", "SourceOutput", str(tmp_path / "dir"))
    assert pulled.returncode == 5 and "NotAnArchive" in pulled.stderr
    ranges = [call.get("range") for call in fake.control("/_control/s3") if call["operation"] == "GetObject"]
    assert ranges == ["bytes=0-8388607"], "only the first range was fetched"
    raw = artifacts("pull", "SourceOutput", str(tmp_path / "raw"), "--format", "raw")
    assert raw.returncode == 0, raw.stderr
    assert (tmp_path / "raw" / "SourceOutput").read_bytes() == b"\x00not an archive" * (3 << 20)
    assert raw.summary["bytes"] == 45 << 20


def test_a_download_in_ranges_is_bound_to_the_first_etag(artifacts, fake, tmp_path):
    payload = io.BytesIO()
    with zipfile.ZipFile(payload, "w") as made:
        made.writestr("big.bin", os.urandom(20 << 20))
    plant(fake, payload.getvalue())
    pulled = artifacts("pull", "SourceOutput", str(tmp_path / "dir"))
    assert pulled.returncode == 0, pulled.stderr
    gets = [call for call in fake.control("/_control/s3") if call["operation"] == "GetObject"]
    assert len(gets) == 3 and gets[0]["range"] == "bytes=0-8388607"
    assert (tmp_path / "dir" / "big.bin").stat().st_size == 20 << 20


def test_a_destination_that_is_not_empty_is_refused_before_any_download(artifacts, fake, tmp_path):
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "keep").write_text("mine")
    pulled = artifacts("pull", "SourceOutput", str(tmp_path / "dir"))
    assert pulled.returncode == 6 and "DestinationExists" in pulled.stderr
    assert os.listdir(tmp_path / "dir") == ["keep"]
    assert not [call for call in fake.control("/_control/s3") if call["operation"] == "GetObject"]


@pytest.mark.parametrize("make, code, flags", [
    (lambda root: os.mkfifo(root / "fifo"), "SpecialFile", ()),
    (lambda root: os.symlink("/etc/passwd", root / "out"), "SymlinkEscapes", ()),
    (lambda root: os.symlink("../../x", root / "up"), "SymlinkEscapes", ()),
    (lambda root: os.symlink("inside", root / "l"), "SymlinkInTree", ("--symlinks", "refuse")),
    (lambda root: (root / b"bad\xffname".decode("utf-8", "surrogateescape")).write_text("x"), "InvalidUTF8Name", ()),
    (lambda root: (root / "tab\tname").write_text("x"), "UnsafeName", ()),
    (lambda root: (root / "back\\slash").write_text("x"), "BackslashInName", ()),
], ids=["fifo", "absolute-link", "escaping-link", "refused-link", "invalid-utf8", "control", "backslash"])
def test_a_tree_push_refuses_what_cannot_go_into_an_archive(artifacts, fake, tmp_path, make, code, flags):
    source = tmp_path / "source"
    source.mkdir()
    (source / "inside").write_text("fine")
    make(source)
    pushed = artifacts("push", "BuildOutput", str(source), *flags)
    assert pushed.returncode == 5, pushed.stderr
    assert "jobcreds artifacts push: %s:" % code in pushed.stderr
    assert OUTPUT not in fake.control("/_control/objects")


def test_push_follows_links_when_told_and_refuses_a_source_that_is_a_link(artifacts, fake, tmp_path):
    (tmp_path / "outside.txt").write_text("followed")
    source = tmp_path / "source"
    source.mkdir()
    os.symlink(str(tmp_path / "outside.txt"), source / "l")
    assert artifacts("push", "BuildOutput", str(source), "--symlinks", "follow").returncode == 0
    with zipfile.ZipFile(io.BytesIO(stored(fake)[1])) as opened:
        assert opened.read("l") == b"followed" and not stat.S_ISLNK(opened.getinfo("l").external_attr >> 16)
    os.symlink(str(source), tmp_path / "alias")
    pushed = artifacts("push", "BuildOutput", str(tmp_path / "alias"))
    assert pushed.returncode == 6 and "SourceUnusable" in pushed.stderr


def test_an_upload_the_bucket_refuses_is_an_error_and_nothing_is_reported_stored(artifacts, fake, tmp_path):
    source = tmp_path / "source"
    source.mkdir()
    (source / "f").write_text("x")
    pushed = artifacts("push", "NoSuchOutput", str(source))
    assert pushed.returncode == 3 and "ArtifactNotFound" in pushed.stderr
    pushed = artifacts("push", "SourceOutput", str(source))  # an input, not an output
    assert pushed.returncode == 3 and "ArtifactNotFound" in pushed.stderr
    assert OUTPUT not in fake.control("/_control/objects")


# -- the remaining codes, each from its cause ------------------------------------------------------

def test_an_object_that_changes_between_ranges_is_refused_not_mixed(artifacts, fake, tmp_path):
    payload = io.BytesIO()
    with zipfile.ZipFile(payload, "w") as made:
        made.writestr("big.bin", os.urandom(20 << 20))
    plant(fake, payload.getvalue())
    # The first request bound to the ETag finds the object replaced.
    fake.configure(faults=[{"operation": "GetObject", "kind": "change", "when": "if_match", "count": 1}])
    pulled = artifacts("pull", "SourceOutput", str(tmp_path / "dir"))
    assert pulled.returncode == 4 and "SourceChanged" in pulled.stderr, pulled.stderr
    assert not (tmp_path / "dir").exists()
    fake.configure(clear_faults=True)


def test_a_put_s3_does_not_say_is_encrypted_is_not_a_success(artifacts, fake, tmp_path):
    (tmp_path / "source").mkdir()
    (tmp_path / "source" / "f").write_text("x")
    fake.configure(faults=[{"operation": "PutObject", "kind": "no_sse", "count": 1}])
    pushed = artifacts("push", "BuildOutput", str(tmp_path / "source"))
    assert pushed.returncode == 4 and "UploadNotEncrypted" in pushed.stderr and pushed.stdout == ""
    fake.configure(clear_faults=True)


def test_a_sidecar_that_does_not_answer_or_refuses_the_token_is_told(artifacts, tmp_path):
    (tmp_path / "source").mkdir()
    closed = artifacts("pull", "SourceOutput", str(tmp_path / "d"), extra_env={"JOBCREDS_URL": "http://127.0.0.1:9"})
    assert closed.returncode == 3 and "SidecarUnavailable" in closed.stderr
    wrong = tmp_path / "wrong-token"
    wrong.write_text("0" * 64)
    refused = artifacts("pull", "SourceOutput", str(tmp_path / "d"), extra_env={"JOBCREDS_TOKEN_FILE": str(wrong)})
    assert refused.returncode == 3 and "SidecarRefused" in refused.stderr and "InvalidToken" in refused.stderr
    assert "0" * 64 not in refused.stderr


@pytest.mark.parametrize("args, env", [
    (("pull", "SourceOutput", "d", "--format", "rar"), {}),
    (("pull", "SourceOutput", "d", "--max-size", "1.5G"), {}),
    (("push", "BuildOutput", ".", "--part-size", "1M"), {}),
    (("push", "BuildOutput", ".", "--symlinks", "maybe"), {}),
    (("push", "BuildOutput", "."), {"SOURCE_DATE_EPOCH": "yesterday"}),
    (("pull", "Bad/Name", "d"), {}),
    (("pull", "SourceOutput", "d"), {"JOBCREDS_URL": ""}),
], ids=["format", "size", "part-size", "symlinks", "epoch", "artifact-name", "no-url"])
def test_a_bad_flag_or_variable_is_a_usage_error(artifacts, tmp_path, args, env):
    run = artifacts(*args, extra_env=env)
    assert run.returncode == 64 and "Usage:" in run.stderr, run.stderr


def test_a_file_that_changes_while_it_is_read_is_refused(artifacts, fake, tmp_path):
    # /proc files say they are empty and then read as text: a file that changed under the reader.
    (tmp_path / "source").mkdir()
    os.symlink("/proc/self/status", tmp_path / "source" / "status")
    pushed = artifacts("push", "BuildOutput", str(tmp_path / "source"), "--symlinks", "follow")
    assert pushed.returncode == 5 and "FileChanged" in pushed.stderr, pushed.stderr


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small filesystem takes root")
def test_a_destination_without_room_or_writes_is_refused_before_anything_is_written(artifacts, fake, tmp_path):
    small, frozen = tmp_path / "small", tmp_path / "frozen"
    small.mkdir()
    frozen.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(small)], check=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m,ro", "tmpfs", str(frozen)], check=True)
    try:
        payload = io.BytesIO()
        with zipfile.ZipFile(payload, "w", zipfile.ZIP_DEFLATED) as made:
            made.writestr("zeros", b"\0" * (8 << 20))  # 8 MiB from a few KiB
        plant(fake, payload.getvalue())
        full = artifacts("pull", "SourceOutput", str(small / "dir"))
        assert full.returncode == 7 and "NotEnoughSpace" in full.stderr, full.stderr
        assert os.listdir(small) == []
        denied = artifacts("pull", "SourceOutput", str(frozen / "dir"))
        assert denied.returncode == 6 and "FileSystemError" in denied.stderr, denied.stderr
    finally:
        subprocess.run(["umount", "-l", str(small)], check=True)
        subprocess.run(["umount", "-l", str(frozen)], check=True)
