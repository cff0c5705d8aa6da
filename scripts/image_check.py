#!/usr/bin/env python3
"""The runtime stage of deploy/Dockerfile, replayed in a chroot and run (see scripts/image-check).

1. A Debian bookworm minbase root (debootstrap; cached in .build-image/base), copied fresh.
2. The runtime stage's RUN instructions, run in it with /bin/sh as Docker would; COPY --from=build
   puts the static binary where the build stage's `install` puts it.
3. The image's ENTRYPOINT + CMD, with its ENV, as its USER, against IntegrationTests/fake_aws.py on the
   host's loopback (a chroot shares the network): it must become ready, serve the credentials
   to botocore's container provider, and pass the HEALTHCHECK command.
Prints each step; exits non-zero on the first failure.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "IntegrationTests"))
import dockerfile  # noqa: E402
from fake import Fake  # noqa: E402

MIRROR = "http://deb.debian.org/debian"
JOB = "f4f4ff82-2d11-4b3c-9e2d-0123456789ab"
CHROOT = shutil.which("chroot") or "/usr/sbin/chroot"


def step(message):
    print("== " + message, flush=True)


def run(argv, **kwargs):
    return subprocess.run(argv, check=True, **kwargs)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    arguments = parser.parse_args()
    work = ROOT / ".build-image"
    base, root = work / "base", work / "root"
    if not (base / "bin" / "sh").exists():
        step("debootstrap --variant=minbase bookworm (once; cached in .build-image/base)")
        shutil.rmtree(base, ignore_errors=True)
        run(["debootstrap", "--variant=minbase", "bookworm", str(base), MIRROR], stdout=subprocess.DEVNULL)
    if root.exists():
        run(["rm", "-rf", str(root)])
    run(["cp", "-a", str(base), str(root)])
    (root / "etc" / "resolv.conf").write_text(Path("/etc/resolv.conf").read_text())
    mounts = []
    try:
        for source, target, kind in [("proc", "proc", "proc"), ("/dev", "dev", None), ("/sys", "sys", None)]:
            (root / target).mkdir(exist_ok=True)
            run(["mount", "-t", kind, source, str(root / target)] if kind else
                ["mount", "--bind", source, str(root / target)])
            mounts.append(root / target)
        return replay(root, Path(arguments.binary))
    finally:
        for mount in reversed(mounts):
            subprocess.run(["umount", "-l", str(mount)])


def replay(root, binary):
    (build_from, build), (runtime_from, runtime) = dockerfile.stages(ROOT / "deploy" / "Dockerfile")
    for instruction, argument in runtime:
        if instruction == "RUN":
            step("RUN " + argument[:100] + ("…" if len(argument) > 100 else ""))
            run([CHROOT, str(root), "/bin/sh", "-c", argument], stdout=subprocess.DEVNULL,
                env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root"})
        elif instruction == "COPY":
            assert argument == "--from=build /out/ /", argument
            step("COPY the static binary: /usr/local/bin/jobcreds 0711 (execute-only: non-dumpable from exec), "
                 "/usr/local/lib/jobcreds/jobcreds 0755 (what init containers copy) (the build stage's install -D)")
            for target, mode in ((root / "usr/local/bin/jobcreds", 0o711),
                                 (root / "usr/local/lib/jobcreds/jobcreds", 0o755)):
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(binary, target)
                os.chmod(target, mode)
    user = [a for i, a in runtime if i == "USER"][0]
    command = dockerfile.exec_form([a for i, a in runtime if i == "ENTRYPOINT"][0]) + \
        dockerfile.exec_form([a for i, a in runtime if i == "CMD"][0])
    healthcheck = dockerfile.exec_form([a for i, a in runtime if i == "HEALTHCHECK"][0])
    image_env = dockerfile.environment(runtime)

    step("ldd in the image: every library found")
    linked = subprocess.run([CHROOT, str(root), "/usr/bin/ldd", "/usr/local/bin/jobcreds"], capture_output=True,
                            text=True).stdout
    print(linked, end="")
    assert "not found" not in linked, "a library is missing from the runtime stage"

    step("the fake CodePipeline on the host's loopback")
    state = root / "tmp" / "fake"
    fake = Fake.start(state, "--job-id", JOB)
    sidecar = None
    try:
        # The fake's CA as the image sees it: its state is inside the root.
        environment = dict(image_env, PATH="/usr/local/bin:/usr/bin:/bin", JOBCREDS_JOB_ID=JOB,
                           JOBCREDS_REGION="us-east-1", JOBCREDS_ENDPOINT_URL=fake.https,
                           AWS_CA_BUNDLE="/" + str(Path(fake.ca_bundle).relative_to(root)),
                           AWS_EC2_METADATA_DISABLED="true", **fake.worker_environment())
        step("%s as %s: %s" % ("ENTRYPOINT+CMD", user, " ".join(command)))
        sidecar = subprocess.Popen([CHROOT, "--userspec=" + user, str(root), *command], env=environment,
                                   stdout=subprocess.PIPE, text=True)
        deadline = time.time() + 30
        while True:
            probe = subprocess.run([CHROOT, "--userspec=" + user, str(root), *healthcheck[:-1], "/readyz"],
                                   env=environment, capture_output=True, text=True)
            if probe.returncode == 0:
                break
            assert sidecar.poll() is None, "jobcreds exited with %s" % sidecar.returncode
            assert time.time() < deadline, "not ready in 30 s: " + probe.stdout + probe.stderr
            time.sleep(0.2)
        step("HEALTHCHECK: " + " ".join(healthcheck))
        health = subprocess.run([CHROOT, "--userspec=" + user, str(root), *healthcheck], env=environment,
                                capture_output=True, text=True)
        print(health.stdout, end="")
        assert health.returncode == 0

        step("botocore's container provider on the host, with the token from the image's volume")
        token_file = root / image_env["JOBCREDS_TOKEN_FILE"].lstrip("/")
        stat = token_file.stat()
        assert (stat.st_uid, stat.st_mode & 0o777) == (int(user.split(":")[0]), 0o600), (stat.st_uid, oct(stat.st_mode))
        from botocore.credentials import ContainerProvider
        credentials = ContainerProvider(environ={
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://%s/v1/credentials" % image_env["JOBCREDS_LISTEN"],
            "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": str(token_file)}).load()
        assert credentials is not None and credentials.method == "container-role"
        assert credentials.get_frozen_credentials().access_key == "ASIAFAKEARTIFACT0001"
        print("credentials served: %s" % credentials.get_frozen_credentials().access_key)
    finally:
        if sidecar is not None:
            sidecar.terminate()
            audit = sidecar.communicate(timeout=15)[0]
            events = [json.loads(line)["event"] for line in audit.splitlines() if line.startswith("{")]
            print("audit events: %s" % ", ".join(dict.fromkeys(events)))
        fake.stop()
    step("the runtime stage works: image check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
