"""Who tests the tester: the fake Kubernetes API server (fake_kube.py) against real clients that
were written against real servers — kubectl from the machine's image and the official Python
client, unmodified — and the semantics the worker will lean on (resourceVersion, watch from a
version, 410 past the history, bookmarks, merge-patch preconditions, finalizers, strict fields,
RBAC from the shipped Role)."""
import json
import os
import shutil
import ssl
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import kubernetes
import pytest
from kubernetes.client.rest import ApiException

from fake import FakeKube

ROOT = Path(__file__).resolve().parent.parent
ADMIN, WORKER = "admin-token-0123456789", "worker-token-0123456789"
WORKER_USER = "system:serviceaccount:jobcreds:jobcreds-worker"


@pytest.fixture(scope="module")
def kube_server(tmp_path_factory):
    server = FakeKube.start(tmp_path_factory.mktemp("fake-kube"))
    yield server
    server.stop()


@pytest.fixture
def kube(kube_server):
    kube_server.control("/_control/reset", {})
    kube_server.control("/_control/tokens", {ADMIN: "admin", WORKER: WORKER_USER})
    return kube_server


def job(name, labels=None, suspend=True, **extra):
    body = {"apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": name, "labels": labels or {"app.kubernetes.io/managed-by": "jobcreds-worker"}},
            "spec": {"suspend": suspend, "backoffLimit": 0, "template": {"spec": {
                "restartPolicy": "Never", "containers": [{"name": "build", "image": "busybox", "command": ["true"]}]}}}}
    body["spec"].update(extra)
    return body


def client(kube, token=ADMIN):
    configuration = kubernetes.client.Configuration()
    configuration.host = kube.url
    configuration.ssl_ca_cert = kube.ca_bundle
    configuration.api_key = {"authorization": "Bearer " + token}
    return kubernetes.client.ApiClient(configuration)


def raw(kube, method, path, body=None, token=ADMIN):
    """One request as the worker's own client will make it: its status and decoded answer."""
    request = urllib.request.Request(kube.url + path, method=method, data=json.dumps(body).encode() if body else None,
                                     headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, context=ssl.create_default_context(cafile=kube.ca_bundle),
                                    timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


# -- kubectl ---------------------------------------------------------------------------------

KUBECTL = shutil.which("kubectl")
needs_kubectl = pytest.mark.skipif(KUBECTL is None and not os.environ.get("CI"),
                                   reason="kubectl is not installed here")


def kubectl(kube, *args, token=ADMIN, timeout=30):
    config = kube.kubeconfig(token)
    return subprocess.run([KUBECTL, "--kubeconfig", str(config), *args], capture_output=True, text=True, timeout=timeout)


@needs_kubectl
def test_kubectl_creates_gets_lists_patches_watches_and_deletes_a_job(kube, tmp_path):
    manifest = tmp_path / "job.json"
    manifest.write_text(json.dumps(job("cp-one", {"app.kubernetes.io/managed-by": "jobcreds-worker", "tier": "a"})))
    created = kubectl(kube, "create", "-f", str(manifest), "--validate=false")
    assert created.returncode == 0 and "job.batch/cp-one created" in created.stdout, created.stderr
    watcher = subprocess.Popen([KUBECTL, "--kubeconfig", str(kube.kubeconfig(ADMIN, "watch-config")), "get", "jobs",
                                "--watch", "-o", "json", "--request-timeout", "6s"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.5)
    patched = kubectl(kube, "patch", "job", "cp-one", "--type", "merge", "-p", '{"spec":{"suspend":false}}')
    assert patched.returncode == 0, patched.stderr
    got = kubectl(kube, "get", "job", "cp-one", "-o", "json")
    assert got.returncode == 0, got.stderr
    fetched = json.loads(got.stdout)
    assert fetched["spec"]["suspend"] is False and fetched["metadata"]["generation"] == 2
    assert fetched["spec"]["template"]["metadata"]["labels"]["batch.kubernetes.io/job-name"] == "cp-one"
    listed = kubectl(kube, "get", "jobs", "-l", "tier=a", "-o", "name")
    assert listed.stdout.split() == ["job.batch/cp-one"], listed.stderr
    assert kubectl(kube, "get", "jobs", "-l", "tier=b", "-o", "name").stdout.strip() == ""
    deleted = kubectl(kube, "delete", "job", "cp-one", "--wait=true", "--timeout=10s")
    assert deleted.returncode == 0 and 'job.batch "cp-one" deleted' in deleted.stdout, deleted.stderr
    out, _ = watcher.communicate(timeout=20)
    versions = [json.loads(chunk)["metadata"]["resourceVersion"]
                for chunk in out.replace("}\n{", "}\x00{").split("\x00") if chunk.strip()]
    assert len(versions) >= 2 and versions == sorted(versions, key=int), out  # the job, then its change
    missing = kubectl(kube, "get", "job", "cp-one")
    assert missing.returncode != 0 and 'jobs.batch "cp-one" not found' in missing.stderr


@needs_kubectl
def test_kubectl_reads_the_fakes_refusals_as_it_reads_a_servers(kube, tmp_path):
    manifest = tmp_path / "job.json"
    manifest.write_text(json.dumps(job("cp-two")))
    kube.control("/_control/rbac", {"user": WORKER_USER, "role": (ROOT / "deploy/kubernetes/worker/role.yaml").read_text()})
    allowed = kubectl(kube, "get", "pods", "-l", "x=y", token=WORKER)  # listing pods is in the Role
    assert allowed.returncode == 0, allowed.stderr
    refused = kubectl(kube, "delete", "pod", "some-pod", token=WORKER)
    assert refused.returncode != 0 and 'pods "some-pod" is forbidden: User "%s" cannot delete resource "pods"' % WORKER_USER \
        in refused.stderr, refused.stderr
    unauthorized = kubectl(kube, "get", "jobs", token="a-token-taken-back")
    assert unauthorized.returncode != 0 and "Unauthorized" in unauthorized.stderr


# -- the official Python client --------------------------------------------------------------

def test_the_python_client_creates_lists_in_pages_patches_and_deletes_with_preconditions(kube):
    batch = kubernetes.client.BatchV1Api(client(kube))
    for index in range(5):
        batch.create_namespaced_job("builds", job("cp-%d" % index))
    with pytest.raises(ApiException) as exists:
        batch.create_namespaced_job("builds", job("cp-0"))
    assert exists.value.status == 409 and json.loads(exists.value.body)["reason"] == "AlreadyExists"
    names, token = [], None
    while True:
        page = batch.list_namespaced_job("builds", label_selector="app.kubernetes.io/managed-by=jobcreds-worker",
                                         limit=2, _continue=token)
        names += [item.metadata.name for item in page.items]
        token = page.metadata._continue
        if not token:
            break
    assert names == ["cp-%d" % index for index in range(5)]
    current = batch.read_namespaced_job("cp-1", "builds")
    assert current.metadata.uid and int(current.metadata.resource_version) > 1000
    patched = batch.patch_namespaced_job("cp-1", "builds", {"metadata": {"resourceVersion": current.metadata.resource_version},
                                                            "spec": {"suspend": False}})
    assert patched.spec.suspend is False
    with pytest.raises(ApiException) as stale:  # the same precondition again: the object moved on
        batch.patch_namespaced_job("cp-1", "builds", {"metadata": {"resourceVersion": current.metadata.resource_version},
                                                      "spec": {"activeDeadlineSeconds": 60}})
    assert stale.value.status == 409 and json.loads(stale.value.body)["reason"] == "Conflict"
    with pytest.raises(ApiException) as other:
        batch.delete_namespaced_job("cp-1", "builds", body=kubernetes.client.V1DeleteOptions(
            preconditions=kubernetes.client.V1Preconditions(uid="00000000-0000-0000-0000-000000000000")))
    assert other.value.status == 409 and "Precondition failed: UID" in json.loads(other.value.body)["message"]
    batch.delete_namespaced_job("cp-1", "builds", body=kubernetes.client.V1DeleteOptions(
        propagation_policy="Background", preconditions=kubernetes.client.V1Preconditions(uid=current.metadata.uid)))
    with pytest.raises(ApiException) as gone:
        batch.read_namespaced_job("cp-1", "builds")
    assert gone.value.status == 404


def test_the_python_client_watches_from_a_version_with_bookmarks_across_split_chunks(kube):
    kube.control("/_control/settings", {"split_chunks": True, "bookmark_seconds": 0.3})
    batch = kubernetes.client.BatchV1Api(client(kube))
    batch.create_namespaced_job("builds", job("cp-a"))
    start = batch.list_namespaced_job("builds").metadata.resource_version
    seen = []

    def later():
        time.sleep(0.5)
        batch.create_namespaced_job("builds", job("cp-b"))
        batch.patch_namespaced_job("cp-b", "builds", {"spec": {"activeDeadlineSeconds": 600}})
        batch.create_namespaced_job("builds", job("cp-other", {"app": "someone-else"}))
        batch.delete_namespaced_job("cp-b", "builds")

    threading.Thread(target=later).start()
    stream = kubernetes.watch.Watch().stream(batch.list_namespaced_job, "builds", resource_version=start,
                                             label_selector="app.kubernetes.io/managed-by=jobcreds-worker",
                                             allow_watch_bookmarks=True, timeout_seconds=3)
    for event in stream:
        seen.append((event["type"], event["raw_object"]["metadata"].get("name"),
                     int(event["raw_object"]["metadata"]["resourceVersion"])))
    kinds = [(kind, name) for kind, name, _ in seen if kind != "BOOKMARK"]
    assert kinds == [("ADDED", "cp-b"), ("MODIFIED", "cp-b"), ("DELETED", "cp-b")], seen
    assert any(kind == "BOOKMARK" for kind, _, _ in seen), "bookmarks were asked for"
    versions = [version for _, _, version in seen]
    assert versions == sorted(versions), "versions only move forward"


def test_a_watch_from_a_version_past_the_history_is_410_expired(kube):
    batch = kubernetes.client.BatchV1Api(client(kube))
    batch.create_namespaced_job("builds", job("cp-old"))
    old = batch.list_namespaced_job("builds").metadata.resource_version
    batch.patch_namespaced_job("cp-old", "builds", {"spec": {"suspend": False}})
    kube.control("/_control/compact", {"keep": 0})
    with pytest.raises(ApiException) as expired:
        for _ in kubernetes.watch.Watch().stream(batch.list_namespaced_job, "builds", resource_version=old,
                                                 timeout_seconds=2):
            pass
    assert expired.value.status == 410


def test_strict_fields_schema_names_and_dry_run(kube):
    batch = kubernetes.client.BatchV1Api(client(kube))
    unknown = job("cp-unknown")
    unknown["spec"]["template"]["spec"]["containers"][0]["imagePullPolicyy"] = "Always"
    status, answer = raw(kube, "POST", "/apis/batch/v1/namespaces/builds/jobs?fieldValidation=Strict", unknown)
    assert status == 400 and "strict decoding error: unknown field" in answer["message"], answer
    status, answer = raw(kube, "POST", "/apis/batch/v1/namespaces/builds/jobs?fieldValidation=Ignore", unknown)
    assert status == 201, answer  # what kubectl --validate=false asks for
    batch.delete_namespaced_job("cp-unknown", "builds")
    bad = job("cp-bad")
    bad["spec"]["backoffLimit"] = "zero"
    status, answer = raw(kube, "POST", "/apis/batch/v1/namespaces/builds/jobs", bad)
    assert status == 422 and answer["reason"] == "Invalid" and "backoffLimit" in answer["message"], answer
    with pytest.raises(ApiException) as long_name:
        batch.create_namespaced_job("builds", job("cp-" + "x" * 61))
    assert long_name.value.status == 422
    batch.create_namespaced_job("builds", job("cp-dry"), dry_run="All")
    assert kube.control("/_control/objects") == []


def test_a_finalizer_holds_a_deleted_job_until_it_is_removed(kube):
    batch = kubernetes.client.BatchV1Api(client(kube))
    held = job("cp-held")
    held["metadata"]["finalizers"] = ["jobcreds.dev/report"]
    batch.create_namespaced_job("builds", held)
    batch.delete_namespaced_job("cp-held", "builds")
    marked = batch.read_namespaced_job("cp-held", "builds")
    assert marked.metadata.deletion_timestamp is not None
    with pytest.raises(ApiException) as added:
        batch.patch_namespaced_job("cp-held", "builds", {"metadata": {"finalizers": ["jobcreds.dev/report", "more"]}})
    assert added.value.status == 422
    batch.patch_namespaced_job("cp-held", "builds", {"metadata": {"finalizers": None}})
    with pytest.raises(ApiException) as gone:
        batch.read_namespaced_job("cp-held", "builds")
    assert gone.value.status == 404


def test_the_shipped_role_is_what_the_fake_enforces(kube):
    kube.control("/_control/rbac", {"user": WORKER_USER, "role": (ROOT / "deploy/kubernetes/worker/role.yaml").read_text()})
    api = client(kube, WORKER)
    batch, core = kubernetes.client.BatchV1Api(api), kubernetes.client.CoreV1Api(api)
    batch.create_namespaced_job("builds", job("cp-rbac"))
    batch.patch_namespaced_job("cp-rbac", "builds", {"spec": {"suspend": False}})
    core.list_namespaced_pod("builds", label_selector="batch.kubernetes.io/job-name=cp-rbac")
    core.list_namespaced_event("builds", field_selector="involvedObject.name=cp-rbac")
    refusals = {}
    for what, call in [("create pods", lambda: core.create_namespaced_pod("builds", {
                            "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                            "spec": {"containers": [{"name": "c", "image": "busybox"}]}})),
                       ("get another template", lambda: core.read_namespaced_pod_template("not-allowed", "builds")),
                       ("get events", lambda: core.read_namespaced_event("e", "builds")),
                       ("delete pods", lambda: core.delete_namespaced_pod("p", "builds"))]:
        with pytest.raises(ApiException) as refused:
            call()
        refusals[what] = (refused.value.status, json.loads(refused.value.body)["reason"])
    assert set(refusals.values()) == {(403, "Forbidden")}, refusals
    with pytest.raises(ApiException) as missing:  # allowed by name: the template is simply not there
        core.read_namespaced_pod_template("jobcreds-build", "builds")
    assert missing.value.status == 404


def test_a_rotated_token_answers_401_and_scripted_faults_answer_as_told(kube):
    batch = kubernetes.client.BatchV1Api(client(kube))
    kube.control("/_control/faults", [{"verb": "create", "resource": "jobs", "status": 429, "reason": "TooManyRequests",
                                       "retry_after": 2, "count": 1}])
    with pytest.raises(ApiException) as throttled:
        batch.create_namespaced_job("builds", job("cp-throttled"))
    assert throttled.value.status == 429 and throttled.value.headers["Retry-After"] == "2"
    batch.create_namespaced_job("builds", job("cp-throttled"))
    kube.control("/_control/tokens", {"admin-token-rotated-0123": "admin"})
    with pytest.raises(ApiException) as unauthorized:
        batch.list_namespaced_job("builds")
    assert unauthorized.value.status == 401
    requests = kube.control("/_control/requests")
    assert [(r["method"], r["status"]) for r in requests if r["path"].endswith("/jobs")][-3:] == \
        [("POST", 429), ("POST", 201), ("GET", 401)]


# -- the Job controller and the scripted kubelet -----------------------------------------------

FAIL_ON_BUILD_EXIT = {"rules": [{"action": "FailJob", "onExitCodes": {"containerName": "build", "operator": "NotIn",
                                                                         "values": [0]}}]}


def wait_for(what, probe, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


def condition(batch, name):
    conditions = batch.read_namespaced_job(name, "builds").status.conditions or []
    terminal = [c for c in conditions if c.type in ("Complete", "Failed") and c.status == "True"]
    return terminal[0] if terminal else None


def pod_of(core, name):
    pods = core.list_namespaced_pod("builds", label_selector="batch.kubernetes.io/job-name=" + name).items
    return pods[0] if pods else None


def test_a_suspended_job_gets_no_pod_and_an_unsuspended_one_runs_its_script_to_complete(kube):
    api = client(kube)
    batch, core = kubernetes.client.BatchV1Api(api), kubernetes.client.CoreV1Api(api)
    kube.control("/_control/script", {"job": "cp-ok", "steps": [
        {"after": 0.1, "phase": "Running"},
        {"after": 0.2, "phase": "Succeeded", "exit": 0, "termination_message": '{"summary": "built"}'}]})
    batch.create_namespaced_job("builds", job("cp-ok", podFailurePolicy=FAIL_ON_BUILD_EXIT))
    time.sleep(0.5)
    assert pod_of(core, "cp-ok") is None, "a suspended Job has no pod"
    batch.patch_namespaced_job("cp-ok", "builds", {"spec": {"suspend": False}})
    done = wait_for("Complete", lambda: condition(batch, "cp-ok"))
    assert done.type == "Complete"
    pod = pod_of(core, "cp-ok")
    assert pod.metadata.owner_references[0].name == "cp-ok" and pod.status.phase == "Succeeded"
    assert pod.status.container_statuses[0].state.terminated.message == '{"summary": "built"}'


@pytest.mark.parametrize("step, reason, expected", [
    ({"phase": "Failed", "exit": 3}, "PodFailurePolicy", "failed with exit code 3 matching FailJob rule at index 0"),
    ({"phase": "Failed", "exit": 137, "oom": True}, "PodFailurePolicy", "exit code 137"),
])
def test_a_failing_build_fails_its_job_through_the_pod_failure_policy(kube, step, reason, expected):
    api = client(kube)
    batch, core = kubernetes.client.BatchV1Api(api), kubernetes.client.CoreV1Api(api)
    kube.control("/_control/script", {"job": "cp-bad", "steps": [{"after": 0.1, "phase": "Running"},
                                                                 dict(step, after=0.1)]})
    batch.create_namespaced_job("builds", job("cp-bad", suspend=False, podFailurePolicy=FAIL_ON_BUILD_EXIT))
    failed = wait_for("Failed", lambda: condition(batch, "cp-bad"))
    assert failed.type == "Failed" and failed.reason == reason and expected in failed.message, failed
    terminated = pod_of(core, "cp-bad").status.container_statuses[0].state.terminated
    assert terminated.reason == ("OOMKilled" if step.get("oom") else "Error")


def test_an_image_that_cannot_be_pulled_stays_pending_with_its_event_and_the_deadline_fails_the_job(kube):
    api = client(kube)
    batch, core = kubernetes.client.BatchV1Api(api), kubernetes.client.CoreV1Api(api)
    kube.control("/_control/script", {"job": "cp-pull", "steps": [
        {"after": 0.1, "reason": "ErrImagePull", "message": 'failed to pull image "nope:1": not found'}]})
    batch.create_namespaced_job("builds", job("cp-pull", suspend=False, activeDeadlineSeconds=2))
    waiting = wait_for("ErrImagePull", lambda: (pod_of(core, "cp-pull") and pod_of(core, "cp-pull").status.container_statuses
                                                 and pod_of(core, "cp-pull").status.container_statuses[0].state.waiting))
    assert waiting.reason == "ErrImagePull"
    events = core.list_namespaced_event("builds", field_selector="involvedObject.name=" + pod_of(core, "cp-pull").metadata.name)
    assert [e.message for e in events.items] == ['failed to pull image "nope:1": not found']
    failed = wait_for("DeadlineExceeded", lambda: condition(batch, "cp-pull"))
    assert failed.reason == "DeadlineExceeded"
    assert pod_of(core, "cp-pull") is None, "the deadline kills the pod"


def test_the_ttl_deletes_a_finished_job_only_once_its_finalizer_is_gone(kube):
    batch = kubernetes.client.BatchV1Api(client(kube))
    held = job("cp-ttl", suspend=False, ttlSecondsAfterFinished=0)
    held["metadata"]["finalizers"] = ["jobcreds.dev/report"]
    batch.create_namespaced_job("builds", held)
    wait_for("Complete", lambda: condition(batch, "cp-ttl"))
    marked = wait_for("deletionTimestamp", lambda: batch.read_namespaced_job("cp-ttl", "builds").metadata.deletion_timestamp)
    assert marked is not None
    assert condition(batch, "cp-ttl").type == "Complete", "the result is still readable"
    batch.patch_namespaced_job("cp-ttl", "builds", {"metadata": {"finalizers": None}})
    with pytest.raises(ApiException) as gone:
        batch.read_namespaced_job("cp-ttl", "builds")
    assert gone.value.status == 404


def test_a_pod_deleted_out_of_band_is_not_replaced(kube):
    api = client(kube)
    batch, core = kubernetes.client.BatchV1Api(api), kubernetes.client.CoreV1Api(api)
    kube.control("/_control/script", {"job": "cp-gone", "steps": [{"after": 0.1, "phase": "Running"}]})
    batch.create_namespaced_job("builds", job("cp-gone", suspend=False))
    pod = wait_for("pod", lambda: pod_of(core, "cp-gone"))
    core.delete_namespaced_pod(pod.metadata.name, "builds")
    time.sleep(0.5)
    assert pod_of(core, "cp-gone") is None and condition(batch, "cp-gone") is None
