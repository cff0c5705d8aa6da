"""Archives for `jobcreds artifacts pull`: foreign ones it must read as their makers meant
(FOREIGN: name -> maker(tmp) -> (bytes, expected `find -printf '%m %y %l %P'` lines)) and hostile
ones it must refuse (HOSTILE: name -> maker() -> (bytes, error code, exit status)).

`raw_zip` writes a zip field by field, so a test can make exactly the lie it needs (a local header
that disagrees, an overlap, a flag, a method); the rest come from Python's zipfile, tarfile and
Info-ZIP's zip."""
import io
import os
import stat
import struct
import subprocess
import tarfile
import zipfile
import zlib


def raw_zip(entries, eocd_disk=0, tail=b""):
    """entries: dicts with name (bytes), data (bytes, stored as given), and optionally
    method, flags, mode (a Unix st_mode: made by Unix), crc, size (declared), local_name,
    offset_of (reuse another entry's local header: an overlap)."""
    out = bytearray()
    central = bytearray()
    offsets = []
    for entry in entries:
        name = entry["name"]
        data = entry.get("data", b"")
        method = entry.get("method", 0)
        flags = entry.get("flags", 0)
        crc = entry.get("crc", zlib.crc32(entry.get("plain", data)))
        size = entry.get("size", len(entry.get("plain", data)))
        if "offset_of" in entry:
            offset = offsets[entry["offset_of"]]
        else:
            offset = len(out)
            local = entry.get("local_name", name)
            out += struct.pack("<IHHHHHIIIHH", 0x04034b50, 20, flags, method, 0, 0x5921, crc, len(data), size,
                               len(local), 0) + local + data
        offsets.append(offset)
        mode = entry.get("mode")
        made_by = (3 << 8 | 20) if mode is not None else 20
        external = (mode << 16) if mode is not None else entry.get("external", 0)
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014b50, made_by, 20, flags, method, 0, 0x5921, crc,
                               len(data), size, len(name), 0, 0, 0, 0, external, offset) + name
    directory_offset = len(out)
    out += central
    out += struct.pack("<IHHHHIIH", 0x06054b50, eocd_disk, eocd_disk, len(entries), len(entries), len(central),
                       directory_offset, 0)
    return bytes(out + tail)


def file(name, data=b"x", mode=0o100644, **extra):
    return dict(name=name.encode() if isinstance(name, str) else name, data=data, mode=mode, **extra)


def link(name, target):
    return file(name, target.encode(), mode=0o120777)


def directory(name, mode=0o40755):
    return file(name, b"", mode=mode)


def python_zip(writes):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as made:
        for name, data in writes:
            made.writestr(name, data)
    return buffer.getvalue()


def deflated(name, plain, size=None):
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    data = compressor.compress(plain) + compressor.flush()
    return file(name, data, method=8, plain=plain, **({"size": size} if size is not None else {}))


def tar_with(*members, gz=False):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz" if gz else "w") as made:
        for info, data in members:
            made.addfile(info, io.BytesIO(data) if data is not None else None)
    return buffer.getvalue()


def tar_info(name, kind=tarfile.REGTYPE, size=0, linkname="", mode=0o644):
    info = tarfile.TarInfo(name)
    info.type, info.size, info.linkname, info.mode = kind, size, linkname, mode
    return info


# -- foreign archives ---------------------------------------------------------------------------

def info_zip(tmp):
    source = tmp / "izsource"
    (source / "bin").mkdir(parents=True)
    (source / "bin" / "run.sh").write_text("#!/bin/sh\n")
    os.chmod(source / "bin" / "run.sh", 0o755)
    (source / "empty").mkdir()
    os.chmod(source / "empty", 0o700)
    os.symlink("bin/run.sh", source / "link")
    (source / "ünï.txt").write_text("utf-8 name\n")
    subprocess.run(["zip", "-qry", str(tmp / "iz.zip"), "."], cwd=source, check=True)
    return (tmp / "iz.zip").read_bytes(), ["700 d  empty", "755 d  bin", "755 f  bin/run.sh",
                                           "644 f  ünï.txt", "777 l bin/run.sh link"]


def python_writestr(tmp):
    # No directory entries: "a" is implied (0755); writestr's files are 0600.
    return python_zip([("a/b.txt", b"b"), ("c.txt", b"c")]), ["600 f  a/b.txt", "600 f  c.txt", "755 d  a"]


def java_style(tmp):
    # Made by MS-DOS with no Unix attributes (commons-compress's ZipArchiveEntry(file, name)).
    entries = [dict(name=b"d/", data=b"", external=0x10), dict(name=b"d/x.txt", data=b"x")]
    return raw_zip(entries), ["644 f  d/x.txt", "755 d  d"]


def data_descriptors(tmp):
    class Unseekable(io.RawIOBase):
        def __init__(self):
            self.chunks = []

        def writable(self):
            return True

        def write(self, data):
            self.chunks.append(bytes(data))
            return len(data)
    stream = Unseekable()
    with zipfile.ZipFile(stream, "w", zipfile.ZIP_DEFLATED) as made:
        made.writestr("streamed.txt", b"streamed " * 1000)
        made.writestr("dir/also.txt", b"also")
    body = b"".join(stream.chunks)
    assert zipfile.ZipFile(io.BytesIO(body)).infolist()[0].flag_bits & 0x08, "made with data descriptors"
    return body, ["600 f  dir/also.txt", "600 f  streamed.txt", "755 d  dir"]


def zip64(tmp):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as made:
        with made.open("z64.bin", "w", force_zip64=True) as handle:
            handle.write(b"zip64 " * 5000)
    return buffer.getvalue(), ["600 f  z64.bin"]


def tar_and_tgz(tmp, gz):
    return tar_with((tar_info("./top/", tarfile.DIRTYPE, mode=0o750), None),
                    (tar_info("./top/run", size=2, mode=0o755), b"hi"),
                    (tar_info("./top/l", tarfile.SYMTYPE, linkname="run", mode=0o777), None), gz=gz), \
        ["750 d  top", "755 f  top/run", "777 l run top/l"]


FOREIGN = {
    "info-zip-zip-ry": info_zip,
    "python-writestr-no-directories": python_writestr,
    "java-no-unix-attributes": java_style,
    "data-descriptors": data_descriptors,
    "zip64-fields": zip64,
    "tar": lambda tmp: tar_and_tgz(tmp, False),
    "tgz": lambda tmp: tar_and_tgz(tmp, True),
}


# -- hostile archives: (bytes, code, exit status) -----------------------------------------------

def refused(code, status=5):
    def wrap(make):
        return lambda: (make(), code, status)
    return wrap


def good_zip():
    return raw_zip([file("a.txt", b"hello world")])


def directory_offset_off_by_one():
    """The end record says the central directory starts a byte later than it does."""
    body = bytearray(good_zip())
    end = body.rfind(b"PK\x05\x06")
    offset = struct.unpack_from("<I", body, end + 16)[0]
    struct.pack_into("<I", body, end + 16, offset + 1)
    return bytes(body)


HOSTILE = {
    "zip-slip": (lambda: (python_zip([("../../../../../../../../tmp/evil.txt", b"evil")]), "DotDotComponent", 5)),
    "zip-slip-windows": (lambda: (raw_zip([file("..\\..\\evil.txt")]), "BackslashInName", 5)),
    "absolute-path": (lambda: (raw_zip([file("/etc/evil")]), "AbsolutePath", 5)),
    "dotdot-inside": (lambda: (raw_zip([file("a/../../x")]), "DotDotComponent", 5)),
    "empty-component": (lambda: (raw_zip([file("a//b")]), "UnsafeName", 5)),
    "nul-in-name": (lambda: (raw_zip([file(b"a\x00b")]), "UnsafeName", 5)),
    "newline-in-name": (lambda: (raw_zip([file("a\nb")]), "UnsafeName", 5)),
    "empty-name": (lambda: (raw_zip([file(b"")]), "UnsafeName", 5)),
    "invalid-utf8-flagged": (lambda: (raw_zip([file(b"\xff.txt", flags=0x800)]), "InvalidUTF8Name", 5)),
    "invalid-utf8-unflagged": (lambda: (raw_zip([file(b"caf\xe9.txt")]), "InvalidUTF8Name", 5)),
    "duplicate": (lambda: (raw_zip([file("a.txt"), file("a.txt")]), "DuplicateEntry", 5)),
    "file-beside-directory": (lambda: (raw_zip([file("x"), directory("x/")]), "DuplicateEntry", 5)),
    "file-as-parent": (lambda: (raw_zip([file("x"), file("x/y")]), "DuplicateEntry", 5)),
    "link-absolute": (lambda: (raw_zip([link("l", "/etc")]), "SymlinkEscapes", 5)),
    "link-climbs-out": (lambda: (raw_zip([link("d/l", "../../x")]), "SymlinkEscapes", 5)),
    "link-through-link": (lambda: (raw_zip([link("x/s", ".."), link("l", "x/s/..")]), "SymlinkEscapes", 5)),
    "path-through-link": (lambda: (raw_zip([link("l", "sub"), file("l/x")]), "PathThroughSymlink", 5)),
    "dot-link-chain": (lambda: (raw_zip([link("d", "."), file("d/d/d/x")]), "PathThroughSymlink", 5)),
    "fifo": (lambda: (raw_zip([file("p", b"", mode=stat.S_IFIFO | 0o644)]), "SpecialFile", 5)),
    "device": (lambda: (raw_zip([file("dev", b"", mode=stat.S_IFCHR | 0o644)]), "SpecialFile", 5)),
    "encrypted": (lambda: (raw_zip([file("a", flags=0x1)]), "EncryptedArchive", 5)),
    "bzip2-method": (lambda: (raw_zip([file("a", method=12)]), "UnsupportedCompression", 5)),
    "local-header-names-another": (lambda: (raw_zip([file("good", local_name=b"evil")]), "HeaderMismatch", 5)),
    "overlapping-entries": (lambda: (raw_zip([file("a", b"x" * 100), file("b", b"x" * 100, offset_of=0)]),
                                     "OverlappingEntries", 5)),
    "stored-sizes-disagree": (lambda: (raw_zip([file("a", b"xx", size=5)]), "EntrySizeMismatch", 5)),
    "declared-ratio-impossible": (lambda: (raw_zip([deflated("bomb", b"\0" * 1000, size=3 << 30)]),
                                           "EntrySizeMismatch", 5)),
    "inflates-past-its-size": (lambda: (raw_zip([deflated("a", b"y" * 5000, size=10)]), "EntrySizeMismatch", 5)),
    "crc-wrong": (lambda: (raw_zip([file("a", b"hello", crc=1234)]), "ChecksumMismatch", 5)),
    "multi-disk": (lambda: (raw_zip([file("a")], eocd_disk=1), "MultiDiskArchive", 5)),
    "truncated": (lambda: (good_zip()[:-30], "TruncatedArchive", 5)),
    "directory-offset-wrong": (lambda: (directory_offset_off_by_one(), "CorruptArchive", 5)),
    "garbage-after-the-end": (lambda: (good_zip() + os.urandom(70000), "TruncatedArchive", 5)),
    "not-an-archive": (lambda: (b"just some text, not an archive\n" * 10, "NotAnArchive", 5)),
    "too-many-entries": (lambda: (raw_zip([file("f%d" % n) for n in range(11)]), "TooManyEntries", 7)),
    "too-large": (lambda: (raw_zip([file("a", b"x" * 1000), file("b", b"x" * 1000)]), "TooLarge", 7)),
    "tar-hard-link": (lambda: (tar_with((tar_info("f", size=1), b"x"), (tar_info("h", tarfile.LNKTYPE, linkname="f"), None)),
                               "HardLink", 5)),
    "tar-dotdot": (lambda: (tar_with((tar_info("../up", size=1), b"x")), "DotDotComponent", 5)),
    "tgz-device": (lambda: (tar_with((tar_info("dev", tarfile.CHRTYPE), None), gz=True), "SpecialFile", 5)),
}

FLAGS = {
    "too-many-entries": ("--max-entries", "10"),
    "too-large": ("--max-size", "1K"),
}
