"""The files in deploy/: each one parsed and its wiring asserted, so a manifest cannot drift from
what the binary expects (its flags, variables, probes, user and token directory)."""
import json
import re
import shutil
import subprocess
from pathlib import Path

import botocore.session
import kubernetes_validate
import pytest
import yaml
from botocore.validate import validate_parameters

import dockerfile
from conftest import ROOT

DEPLOY = ROOT / "deploy"
TWO_VARIABLES = {"AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:9911/v1/credentials",
                 "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": "/run/jobcreds/token"}
# Packages every debian:bookworm-slim image has (libc, and what apt itself needs).
DEBIAN_SLIM_BASE = {"libc6", "libgcc-s1", "libstdc++6", "zlib1g"}


# -- Dockerfile ----------------------------------------------------------------------------

def dockerfile_stages():
    return dockerfile.stages(DEPLOY / "Dockerfile")


def test_the_dockerfile_builds_static_and_runs_slim_non_root_without_a_shell():
    stages = dockerfile_stages()
    assert len(stages) == 2
    (build_from, build), (runtime_from, runtime) = stages
    assert build_from.endswith("AS build") and "SWIFT_IMAGE" in build_from
    assert any(i == "RUN" and "--static-swift-stdlib" in a and "-c release" in a for i, a in build)
    assert "RUNTIME_IMAGE" in runtime_from
    assert re.search(r"ARG RUNTIME_IMAGE=debian:bookworm-slim", (DEPLOY / "Dockerfile").read_text())
    runtime_packages = set().union(*(dockerfile.apt_packages(a) for i, a in runtime if i == "RUN"))
    assert runtime_packages == {"libmicrohttpd12", "libcurl4", "libssl3", "libarchive13", "ca-certificates"}
    assert "--no-install-recommends" in " ".join(a for i, a in runtime if i == "RUN")
    assert ("COPY", "--from=build /out/ /") in runtime
    user = [a for i, a in runtime if i == "USER"]
    assert user == ["65532:65532"]
    # Exec form everywhere: nothing at run time needs /bin/sh.
    entrypoint = dockerfile.exec_form([a for i, a in runtime if i == "ENTRYPOINT"][0])
    assert entrypoint == ["/usr/local/bin/jobcreds"]
    assert dockerfile.exec_form([a for i, a in runtime if i == "CMD"][0]) == ["serve"]
    command = dockerfile.exec_form([a for i, a in runtime if i == "HEALTHCHECK"][0])
    assert command == ["/usr/local/bin/jobcreds", "probe", "--path", "/healthz"]
    env = dockerfile.environment(runtime)
    assert env["JOBCREDS_LISTEN"] == "127.0.0.1:9911"
    volume = dockerfile.exec_form([a for i, a in runtime if i == "VOLUME"][0])
    assert volume == [str(Path(env["JOBCREDS_TOKEN_FILE"]).parent)]
    # The volume's directory is created for the runtime user, so it can write the token there.
    assert any(i == "RUN" and "install -d -o 65532 -g 65532 -m 0750 /run/jobcreds" in a for i, a in runtime)


def test_the_runtime_image_installs_every_library_the_binary_links(jobcreds_bin):
    """The binary's direct dependencies, minus the Swift toolchain's own libraries (the runtime,
    linked in statically by --static-swift-stdlib; a sanitizer's runtime in `make sanitize`),
    must come from the runtime stage's apt line or the slim base."""
    if not shutil.which("dpkg") or not shutil.which("readelf"):
        pytest.skip("needs dpkg and readelf (Debian)")
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]",
                        subprocess.run(["readelf", "-d", jobcreds_bin], capture_output=True, text=True).stdout)
    linked = subprocess.run(["ldd", jobcreds_bin], capture_output=True, text=True).stdout
    paths = dict(re.findall(r"^\s*(\S+) => (\S+)", linked, re.M))
    paths.update({Path(path).name: path for path in re.findall(r"^\s*(/\S+) \(", linked, re.M)})  # the loader
    toolchain = Path(shutil.which("swiftc")).resolve().parents[1]
    system = [name for name in needed if toolchain not in Path(paths[name]).resolve().parents]
    assert {"libcurl.so.4", "libmicrohttpd.so.12", "libcrypto.so.3"} <= set(system)
    runtime_packages = set().union(*(dockerfile.apt_packages(a) for i, a in dockerfile_stages()[1][1] if i == "RUN"))
    for name in system:
        # dpkg knows a library by the path its package installed (/lib or /usr/lib: merged /usr).
        candidates = {paths[name], str(Path(paths[name]).resolve())}
        candidates |= {path.replace("/usr/lib/", "/lib/") for path in candidates}
        owners = [subprocess.run(["dpkg", "-S", path], capture_output=True, text=True).stdout for path in candidates]
        package = next(owner.split(":")[0] for owner in owners + ["?:"] if owner)
        assert package in runtime_packages | DEBIAN_SLIM_BASE, "%s comes from %s" % (name, package)


def test_the_docker_build_context_keeps_build_output_out():
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".build", ".venv", ".git"} <= set(ignored)


# -- Kubernetes ----------------------------------------------------------------------------

def kubernetes(name):
    documents = list(yaml.safe_load_all((DEPLOY / "kubernetes" / name).read_text()))
    return {document["kind"]: document for document in documents}


def pod_spec(name):
    objects = kubernetes(name)
    return objects["Pod"]["spec"] if "Pod" in objects else objects["Job"]["spec"]["template"]["spec"]


def pod_metadata(name):
    objects = kubernetes(name)
    return objects["Pod"]["metadata"] if "Pod" in objects else objects["Job"]["spec"]["template"]["metadata"]


@pytest.mark.parametrize("manifest", ["pod.yaml", "job.yaml"])
def test_kubernetes_runs_jobcreds_as_a_native_sidecar_with_probes(manifest):
    spec = pod_spec(manifest)
    [sidecar] = spec["initContainers"]
    assert sidecar["name"] == "jobcreds" and sidecar["restartPolicy"] == "Always"
    assert sidecar["args"] == ["serve"]
    for probe, path in [("startupProbe", "/readyz"), ("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")]:
        assert sidecar[probe]["exec"]["command"] == ["/usr/local/bin/jobcreds", "probe", "--path", path]
    env = {item["name"]: item["value"] for item in sidecar["env"]}
    assert env["JOBCREDS_LISTEN"] == "127.0.0.1:9911"
    assert env["JOBCREDS_TOKEN_FILE"] == TWO_VARIABLES["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"]
    assert env["JOBCREDS_TOKEN_FILE_MODE"] == "0640"
    assert {"JOBCREDS_JOB_ID", "JOBCREDS_REGION"} <= set(env)
    assert env["JOBCREDS_METRICS_LISTEN"].endswith(":%d" % sidecar["ports"][0]["containerPort"])


@pytest.mark.parametrize("manifest", ["pod.yaml", "job.yaml"])
def test_kubernetes_gives_the_build_two_variables_and_the_token_only(manifest):
    spec = pod_spec(manifest)
    [build] = spec["containers"]
    assert {item["name"]: item["value"] for item in build["env"]} == TWO_VARIABLES
    assert "envFrom" not in build
    [mount] = build["volumeMounts"]
    assert mount["readOnly"] is True and mount["mountPath"] == "/run/jobcreds"
    [volume] = spec["volumes"]
    assert volume["name"] == mount["name"] and volume["emptyDir"]["medium"] == "Memory"
    sidecar_mounts = {m["name"]: m["mountPath"] for m in spec["initContainers"][0]["volumeMounts"]}
    assert sidecar_mounts == {volume["name"]: "/run/jobcreds"}
    # No service-account token anywhere; the IRSA webhook skips the build container.
    assert spec["automountServiceAccountToken"] is False
    assert pod_metadata(manifest)["annotations"]["eks.amazonaws.com/skip-containers"] == "build"
    account = kubernetes(manifest)["ServiceAccount"]
    assert spec["serviceAccountName"] == account["metadata"]["name"]
    assert account["automountServiceAccountToken"] is False
    assert re.fullmatch(r"arn:aws:iam::\d{12}:role/[\w+=,.@-]+",
                        account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"])


@pytest.mark.parametrize("manifest", ["pod.yaml", "job.yaml"])
def test_kubernetes_security_context_is_locked_down(manifest):
    spec = pod_spec(manifest)
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
    # The token's group: the build reads a 0640 file through the pod's fsGroup.
    assert spec["securityContext"]["fsGroup"] == 65532
    sidecar, build = spec["initContainers"][0], spec["containers"][0]
    context = sidecar["securityContext"]
    assert context["readOnlyRootFilesystem"] is True and context["allowPrivilegeEscalation"] is False
    assert context["capabilities"]["drop"] == ["ALL"] and context["runAsNonRoot"] is True
    assert context["runAsUser"] == 65532 and context["runAsUser"] != build["securityContext"]["runAsUser"]
    assert build["securityContext"]["allowPrivilegeEscalation"] is False
    assert sidecar["resources"]["limits"]["memory"]


def test_the_least_privilege_pod_gives_each_step_one_scoped_token_and_no_credentials():
    spec = pod_spec("pod-least-privilege.yaml")
    sidecar, fetch = spec["initContainers"]
    [build] = spec["containers"]
    assert sidecar["name"] == "jobcreds" and sidecar["restartPolicy"] == "Always" and "restartPolicy" not in fetch
    env = {item["name"]: item["value"] for item in sidecar["env"]}
    assert "JOBCREDS_TOKEN_FILE" not in env and env["JOBCREDS_EXPOSE_CONFIGURATION"] == "true"
    files = dict(item.rsplit(":", 1) for item in env["JOBCREDS_TOKEN_FILES"].split())
    assert files == {"/run/jobcreds/steps/steps": "download,upload",
                     "/run/jobcreds/settings/settings": "configuration"}
    mounts = {m["name"]: m["mountPath"] for m in sidecar["volumeMounts"]}
    assert {path.rsplit("/", 1)[0] for path in files} == set(mounts.values())
    tokens = set(mounts)
    for container, token, variable in [(build, "jobcreds-steps", "JOBCREDS_TOKEN_FILE"),
                                       (fetch, "jobcreds-settings", None)]:
        variables = {item["name"]: item["value"] for item in container.get("env", [])}
        assert not [name for name in variables if name.startswith("AWS_")], container["name"]
        held = [m for m in container["volumeMounts"] if m["name"] in tokens]
        assert [(m["name"], m.get("readOnly")) for m in held] == [(token, True)], container["name"]
        if variable:
            assert variables[variable].startswith(held[0]["mountPath"] + "/")
    assert "/v1/configuration" in " ".join(fetch["args"]) and "/v1/credentials" not in " ".join(fetch["args"])
    assert pod_metadata("pod-least-privilege.yaml")["annotations"]["eks.amazonaws.com/skip-containers"] \
        == "fetch-settings,build"
    assert spec["automountServiceAccountToken"] is False
    # The sidecar's own settings are pod.yaml's but for the tokens.
    plain = pod_spec("pod.yaml")["initContainers"][0]
    for key in ("image", "args", "startupProbe", "readinessProbe", "livenessProbe", "resources", "securityContext"):
        assert sidecar[key] == plain[key], key


@pytest.mark.parametrize("manifest", ["pod.yaml", "job.yaml", "pod-exec.yaml", "pod-least-privilege.yaml",
                                      "worker/role.yaml"])
@pytest.mark.parametrize("version", ["1.29.0", "1.33.0"])
def test_kubernetes_manifests_validate_strictly_against_the_api_schema(manifest, version):
    """Every object against Kubernetes' own OpenAPI schema, unknown fields refused (native
    sidecars need 1.29 or later)."""
    for document in yaml.safe_load_all((DEPLOY / "kubernetes" / manifest).read_text()):
        kubernetes_validate.validate(document, version, strict=True)


def test_the_job_template_is_the_pod():
    pod, job = pod_spec("pod.yaml"), pod_spec("job.yaml")
    assert pod == job
    assert kubernetes("job.yaml")["Job"]["spec"]["backoffLimit"] == 0
    assert kubernetes("pod.yaml")["ServiceAccount"] == kubernetes("job.yaml")["ServiceAccount"]


def test_the_exec_pod_is_the_pod_plus_the_binary_for_jobcreds_exec():
    pod, exec_pod = pod_spec("pod.yaml"), pod_spec("pod-exec.yaml")
    copy, sidecar = exec_pod["initContainers"]
    assert sidecar == pod["initContainers"][0]
    # The binary comes from the sidecar's own image, copied by a locked-down init container.
    assert copy["image"] == sidecar["image"] and copy["command"] == ["cp", "/usr/local/lib/jobcreds/jobcreds",
                                                                     "/jobcreds/bin/jobcreds"]
    assert "restartPolicy" not in copy  # runs to completion before the sidecar starts
    assert copy["securityContext"] == sidecar["securityContext"]
    [copy_mount] = copy["volumeMounts"]
    [build] = exec_pod["containers"]
    assert build["command"][:6] == ["/jobcreds/bin/jobcreds", "exec", "--wait-ready", "60s", "--", "/bin/sh"]
    assert {item["name"]: item["value"] for item in build["env"]} == TWO_VARIABLES
    mounts = {mount["name"]: mount for mount in build["volumeMounts"]}
    assert mounts[copy_mount["name"]]["mountPath"] == "/jobcreds/bin" and mounts[copy_mount["name"]]["readOnly"]
    assert mounts["jobcreds-token"]["readOnly"] is True
    assert build["securityContext"] == pod["containers"][0]["securityContext"]
    assert exec_pod["volumes"][:1] == pod["volumes"] and exec_pod["volumes"][1]["name"] == copy_mount["name"]
    same = {key: value for key, value in exec_pod.items() if key not in ("initContainers", "containers", "volumes")}
    assert same == {key: value for key, value in pod.items() if key not in ("initContainers", "containers", "volumes")}


def test_the_kubernetes_manifests_mark_the_three_values_to_edit():
    for name in ("pod.yaml", "job.yaml", "pod-exec.yaml"):
        edits = [line for line in (DEPLOY / "kubernetes" / name).read_text().splitlines() if "# EDIT" in line]
        assert [re.search(r"(role-arn|JOB_ID|job id|region)", line, re.I) is not None for line in edits] == [True] * 3


# -- ECS -----------------------------------------------------------------------------------

def test_ecs_task_starts_the_build_once_the_sidecar_is_healthy():
    task = json.loads((DEPLOY / "ecs" / "task-definition.json").read_text())
    assert task["networkMode"] == "awsvpc"  # one network namespace: 127.0.0.1 is shared
    containers = {c["name"]: c for c in task["containerDefinitions"]}
    sidecar, build = containers["jobcreds"], containers["build"]
    assert build["dependsOn"] == [{"containerName": "jobcreds", "condition": "HEALTHY"}]
    assert sidecar["healthCheck"]["command"] == ["CMD", "/usr/local/bin/jobcreds", "probe", "--path", "/readyz"]
    env = {item["name"]: item["value"] for item in sidecar["environment"]}
    assert {"JOBCREDS_JOB_ID", "JOBCREDS_REGION"} <= set(env)
    assert env["JOBCREDS_TOKEN_FILE"] == TWO_VARIABLES["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"]
    assert env["JOBCREDS_TOKEN_FILE_MODE"] == "0640"
    assert {item["name"]: item["value"] for item in build["environment"]} == TWO_VARIABLES
    assert sidecar["user"] == "65532:65532" and sidecar["readonlyRootFilesystem"] is True
    assert build["user"].endswith(":65532")  # the token file's group
    [volume] = task["volumes"]
    assert {"sourceVolume": volume["name"], "containerPath": "/run/jobcreds", "readOnly": True} in build["mountPoints"]
    assert {"sourceVolume": volume["name"], "containerPath": "/run/jobcreds", "readOnly": False} in \
        sidecar["mountPoints"]
    assert re.fullmatch(r"arn:aws:iam::\d{12}:role/[\w+=,.@-]+", task["taskRoleArn"])


def test_ecs_task_definition_validates_against_the_ecs_api_model():
    """The file is `aws ecs register-task-definition --cli-input-json` input: checked against
    botocore's model of RegisterTaskDefinition (unknown keys and wrong types are refused)."""
    task = json.loads((DEPLOY / "ecs" / "task-definition.json").read_text())
    model = botocore.session.get_session().get_service_model("ecs")
    validate_parameters(task, model.operation_model("RegisterTaskDefinition").input_shape)


def test_the_ecs_exec_task_is_the_task_plus_the_binary_for_jobcreds_exec():
    task = json.loads((DEPLOY / "ecs" / "task-definition.json").read_text())
    exec_task = json.loads((DEPLOY / "ecs" / "task-definition-exec.json").read_text())
    model = botocore.session.get_session().get_service_model("ecs")
    validate_parameters(exec_task, model.operation_model("RegisterTaskDefinition").input_shape)
    containers = {c["name"]: c for c in exec_task["containerDefinitions"]}
    original = {c["name"]: c for c in task["containerDefinitions"]}
    copier, sidecar, build = containers["jobcreds-bin"], containers["jobcreds"], containers["build"]
    assert sidecar == original["jobcreds"]
    assert copier["image"] == sidecar["image"] and copier["essential"] is False
    assert copier["entryPoint"] + copier["command"] == ["cp", "/usr/local/lib/jobcreds/jobcreds", "/jobcreds/bin/jobcreds"]
    assert copier["linuxParameters"]["capabilities"]["drop"] == ["ALL"]
    assert build["dependsOn"] == [{"containerName": "jobcreds-bin", "condition": "SUCCESS"},
                                  {"containerName": "jobcreds", "condition": "HEALTHY"}]
    assert build["entryPoint"] == ["/jobcreds/bin/jobcreds", "exec", "--"]
    assert {item["name"]: item["value"] for item in build["environment"]} == TWO_VARIABLES
    assert {"sourceVolume": "jobcreds-bin", "containerPath": "/jobcreds/bin", "readOnly": True} in build["mountPoints"]
    assert {key: value for key, value in exec_task.items() if key not in ("family", "volumes", "containerDefinitions")} \
        == {key: value for key, value in task.items() if key not in ("family", "volumes", "containerDefinitions")}


def test_ecs_build_never_sees_the_task_role():
    """The ECS agent gives every container the task role's AWS_CONTAINER_CREDENTIALS_RELATIVE_URI,
    which SDKs prefer; the build's entry point removes it before the build runs."""
    build = {c["name"]: c for c in json.loads((DEPLOY / "ecs" / "task-definition.json").read_text())
             ["containerDefinitions"]}["build"]
    assert build["entryPoint"] == ["/usr/bin/env", "-u", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "--"]
    # What that entry point does, for real: the variable is gone, the two stay.
    environment = dict(TWO_VARIABLES, AWS_CONTAINER_CREDENTIALS_RELATIVE_URI="/v2/credentials/task-role-id",
                       PATH="/usr/bin:/bin")
    seen = subprocess.run(build["entryPoint"] + ["env"], env=environment, capture_output=True, text=True).stdout
    assert "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI" not in seen
    assert all("%s=%s" % item in seen for item in TWO_VARIABLES.items())


# -- systemd -------------------------------------------------------------------------------

def unit_settings(name="jobcreds@.service"):
    """A unit's settings: each key's values in order (comments left out)."""
    settings = {}
    for line in (DEPLOY / "systemd" / name).read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            settings.setdefault(key, []).append(value)
    return settings


def test_the_systemd_unit_is_sandboxed_and_wired():
    unit = unit_settings()
    for key, value in [("DynamicUser", "yes"), ("ProtectSystem", "strict"), ("NoNewPrivileges", "yes"),
                       ("MemoryDenyWriteExecute", "yes"), ("PrivateTmp", "yes"), ("PrivateDevices", "yes"),
                       ("ProtectHome", "yes"), ("CapabilityBoundingSet", ""), ("RestrictNamespaces", "yes")]:
        assert unit[key] == [value], key
    # AF_NETLINK: sock_diag, which user owns each connection (per-user fairness).
    assert unit["RestrictAddressFamilies"] == ["AF_INET AF_INET6 AF_UNIX AF_NETLINK"]
    assert unit["ExecStart"] == ["/usr/local/bin/jobcreds serve"]
    environment = dict(item.split("=", 1) for item in unit["Environment"])
    assert environment["JOBCREDS_JOB_ID"] == "%i"
    assert environment["JOBCREDS_TOKEN_FILE"] == "/run/jobcreds/%i/token"
    assert unit["RuntimeDirectory"] == ["jobcreds/%i"]
    assert environment["JOBCREDS_TOKEN_FILE_MODE"] == "0640" and unit["Group"] == ["jobcreds-build"]
    assert unit["EnvironmentFile"] == ["/etc/jobcreds/jobcreds.env"]
    env_file = dict(line.split("=", 1) for line in (DEPLOY / "systemd" / "jobcreds.env").read_text().splitlines()
                    if line and not line.startswith("#"))
    assert set(env_file) <= {"JOBCREDS_REGION", "JOBCREDS_LISTEN", "JOBCREDS_LOG_FORMAT", "JOBCREDS_LOG_LEVEL"}
    assert env_file["JOBCREDS_LISTEN"] == "127.0.0.1:9911"


@pytest.mark.parametrize("variant", ["as shipped", "with LoadCredential"])
def test_systemd_analyze_verifies_the_unit_and_rates_it_ok(jobcreds_bin, tmp_path, variant):
    if not shutil.which("systemd-analyze"):
        pytest.skip("systemd-analyze is not installed")
    # The unit as installed for one job, with ExecStart pointing at the binary under test; the
    # second variant uncomments the credentials-file lines jobcreds.env tells operators to use.
    text = (DEPLOY / "systemd" / "jobcreds@.service").read_text().replace("/usr/local/bin/jobcreds", jobcreds_bin)
    if variant == "with LoadCredential":
        assert "#LoadCredential=" in text and "#Environment=AWS_SHARED_CREDENTIALS_FILE=%d/" in text
        text = text.replace("#LoadCredential=", "LoadCredential=").replace(
            "#Environment=AWS_SHARED_CREDENTIALS_FILE", "Environment=AWS_SHARED_CREDENTIALS_FILE")
    unit = tmp_path / "jobcreds@f4f4ff82-2d11-4b3c-9e2d-0123456789ab.service"
    unit.write_text(text)
    verified = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True)
    assert verified.returncode == 0, verified.stderr
    assert verified.stderr.strip() == "", verified.stderr
    security = subprocess.run(["systemd-analyze", "security", "--offline=yes", str(unit)], capture_output=True,
                              text=True)
    level = re.search(r"Overall exposure level for \S+: (\d+\.\d+) (\w+)", security.stdout)
    assert level, security.stdout + security.stderr
    assert float(level.group(1)) <= 2.0 and level.group(2) == "OK", level.group(0)


def test_the_worker_unit_is_root_for_the_uid_range_only():
    unit = unit_settings("jobcreds-worker.service")
    assert unit["ExecStart"][0].startswith("/usr/local/bin/jobcreds worker -- ")
    assert unit["User"] == ["root"]
    # The capabilities starting builds as their own uids takes, and no other.
    assert set(unit["CapabilityBoundingSet"][0].split()) == {
        "CAP_SETUID", "CAP_SETGID", "CAP_CHOWN", "CAP_KILL", "CAP_DAC_OVERRIDE", "CAP_FOWNER"}
    for key, value in [("NoNewPrivileges", "yes"), ("ProtectSystem", "strict"), ("PrivateTmp", "yes"),
                       ("ProtectHome", "yes"), ("RestrictSUIDSGID", "yes"), ("KillMode", "mixed")]:
        assert unit[key] == [value], key
    # sock_diag (which user owns a connection) is a netlink socket: without it no build's
    # connection could be told from another's.
    assert "AF_NETLINK" in unit["RestrictAddressFamilies"][0].split()
    environment = dict(item.split("=", 1) for item in unit["Environment"])
    assert environment["JOBCREDS_WORKER_STATE_DIR"].startswith("/var/lib/jobcreds/")
    env_file = dict(line.split("=", 1) for line in (DEPLOY / "systemd" / "jobcreds-worker.env").read_text()
                    .splitlines() if line and not line.startswith("#"))
    assert "JOBCREDS_WORKER_BUILD_UID_RANGE" in env_file and "JOBCREDS_WORKER_PROVIDER" in env_file
    # The drain fits in the stop timeout.
    assert unit["TimeoutStopSec"] == ["11min"]


def test_systemd_analyze_verifies_the_worker_unit_and_rates_it_ok(jobcreds_bin, tmp_path):
    if not shutil.which("systemd-analyze"):
        pytest.skip("systemd-analyze is not installed")
    text = (DEPLOY / "systemd" / "jobcreds-worker.service").read_text().replace(
        "/usr/local/bin/jobcreds", jobcreds_bin)
    unit = tmp_path / "jobcreds-worker.service"
    unit.write_text(text)
    verified = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True)
    assert verified.returncode == 0 and verified.stderr.strip() == "", verified.stderr
    security = subprocess.run(["systemd-analyze", "security", "--offline=yes", str(unit)], capture_output=True,
                              text=True)
    level = re.search(r"Overall exposure level for \S+: (\d+\.\d+) (\w+)", security.stdout)
    assert level, security.stdout + security.stderr
    # Root with six capabilities, by design (the uid range): still "OK", nothing else loosened.
    assert float(level.group(1)) <= 2.6 and level.group(2) == "OK", level.group(0)


# -- IAM -----------------------------------------------------------------------------------

def test_the_worker_policy_allows_reading_jobs_and_nothing_else():
    policy = json.loads((DEPLOY / "iam" / "worker-policy.json").read_text())
    assert policy["Version"] == "2012-10-17"
    actions = set()
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow"
        assert "NotAction" not in statement and "NotResource" not in statement
        actions |= set(statement["Action"])
    assert actions == {"codepipeline:GetJobDetails", "codepipeline:GetThirdPartyJobDetails",
                       "codepipeline:ListActionTypes"}
    # ListActionTypes (--expose-configuration only) is a statement of its own, to drop without the flag.
    listing = [s for s in policy["Statement"] if "codepipeline:ListActionTypes" in s["Action"]]
    assert len(listing) == 1 and listing[0]["Action"] == ["codepipeline:ListActionTypes"]
    # Every CodePipeline call the sidecar makes is allowed by it (the worker's calls are not).
    client = (ROOT / "Sources" / "CodePipeline" / "CodePipelineOperation.swift").read_text()
    called = set(re.findall(r'case \w+ = "(\w+)"', client))
    assert {"codepipeline:" + name for name in called} - JOB_WORKER_ONLY == actions


JOB_WORKER_ONLY = {"codepipeline:" + name for name in (
    "PollForJobs", "AcknowledgeJob", "PutJobSuccessResult", "PutJobFailureResult", "PollForThirdPartyJobs",
    "AcknowledgeThirdPartyJob", "PutThirdPartyJobSuccessResult", "PutThirdPartyJobFailureResult")}


def test_the_job_worker_policy_allows_every_call_the_client_makes_and_nothing_else():
    policy = json.loads((DEPLOY / "iam" / "job-worker-policy.json").read_text())
    actions = set()
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow" and statement["Resource"] == "*"
        assert "NotAction" not in statement and "NotResource" not in statement
        actions |= set(statement["Action"])
    client = (ROOT / "Sources" / "CodePipeline" / "CodePipelineOperation.swift").read_text()
    assert actions == {"codepipeline:" + name for name in re.findall(r'case \w+ = "(\w+)"', client)}
    third = [s for s in policy["Statement"] if any("ThirdParty" in action for action in s["Action"])]
    assert len(third) == 1 and all("ThirdParty" in action for action in third[0]["Action"])  # one to drop
