#!/usr/bin/env python3
"""A fake Kubernetes API server for the worker's tests (issue 22), since no real kube-apiserver
can be installed on this machine or in CI (../shared/notes/kubernetes.md §3.1).

What it is: a small, honest stand-in for the parts of the API the worker uses, held to the wire
shapes by real clients (kubectl and the official Python client run unmodified against it in
test_fake_kube.py) and to the schema by `kubernetes-validate` (strict) on every body it accepts.

- HTTPS with a test CA; bearer tokens the test hands out and takes back (a token taken back is
  `401 Unauthorized`).
- Discovery: `/version`, `/api`, `/apis`, `/api/v1`, `/apis/batch/v1` (legacy discovery: a client
  asking for the aggregated kind gets plain JSON and falls back, as it does against old servers).
- Jobs, Pods, Events and PodTemplates in namespaces: create (uid, creationTimestamp, generation,
  a monotonic integer `resourceVersion`, Job defaults; `dryRun=All`; `fieldValidation=Strict`
  answers an unknown field `400`), `409 AlreadyExists`, `422 Invalid` (schema, names, labels,
  immutable fields), get, list (`labelSelector`, `fieldSelector`, `limit`/`continue`),
  merge-patch (a `metadata.resourceVersion` in the patch is a precondition: `409 Conflict`),
  delete (`preconditions.uid`/`resourceVersion`; finalizers set `deletionTimestamp` and the object
  goes when the last finalizer does; `propagationPolicy` Background/Foreground deletes the Job's
  pods).
- Watch: NDJSON over chunked HTTP, from a `resourceVersion` within a bounded history (older is an
  `ERROR` event with Status `410 Expired`); `allowWatchBookmarks` sends BOOKMARK events;
  `timeoutSeconds` ends the stream; the test can drop every open watch. Each event may be split
  across two chunks, mid-line (`split_chunks`), as proxies do.
- RBAC: a user may be bound to a Role read from YAML (the shipped one): any request outside its
  rules is `403 Forbidden`, worded as the real server words it. Users without a Role may do
  anything (the test's own admin).
- Faults: a scripted status (`429` with `Retry-After`, `500`, ...) for matching requests, a
  connection reset, the API down for N seconds (connections closed at once).
- A Job controller and a scripted "kubelet": an unsuspended Job gets one pod (owned by it, labelled
  `batch.kubernetes.io/job-name`) whose life follows the test's script (Pending with a reason and
  its Warning event, unschedulable, Running, Succeeded/Failed with an exit code, `OOMKilled`, a
  termination message, eviction); a terminal pod ends its Job as the Job controller would
  (`podFailurePolicy` FailJob/Ignore, `backoffLimit: 0`, `Complete`), `activeDeadlineSeconds`
  fails it (`DeadlineExceeded`), `ttlSecondsAfterFinished` deletes it (waiting on finalizers). A
  pod deleted out of band is not replaced.
- Every API request is recorded (method, path, query, user, status, body) for the tests' checks.

Documented, not observed: the 410 window's size, the bookmark cadence, the Job defaults and the
wording of messages follow the Kubernetes documentation and API types, not a recorded server.

Control endpoints (no token needed; under /_control):
  POST /_control/tokens   {"TOKEN": "USER", ...} replaces the valid tokens
  POST /_control/rbac     {"user": USER, "role": YAML text of a Role or null}
  POST /_control/faults   [{"verb", "resource", "name", "status", "reason", "retry_after", "kind",
                            "count", "seconds"}, ...]  (kind: "status" (default), "reset", "down")
  POST /_control/script   {"job": NAME, "steps": [{"after": S, "phase", "reason", "message", "exit",
                            "oom", "termination_message", "container", "unschedulable", "evicted"}, ...]}
  POST /_control/drop_watches
  POST /_control/compact  {"keep": N}: only the last N changes stay watchable
  POST /_control/settings {"history": N, "bookmark_seconds": S, "split_chunks": bool}
  GET  /_control/objects  every stored object
  GET  /_control/requests every API request seen
  GET  /_control/open_watches  how many watch streams are open
  POST /_control/reset

Usage: fake_kube.py --state-dir DIR prints one JSON line {"port", "ca_bundle"} once listening.
"""
import argparse
import base64
import collections
import copy
import datetime
import json
import os
import re
import select
import socket
import ssl
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import kubernetes_validate
import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fake_aws import make_certificates, tls, wait  # noqa: E402

SCHEMA_VERSION = "1.33.0"

# (group, version, plural) -> kind, short names
RESOURCES = {
    ("batch", "v1", "jobs"): ("Job", ["job"]),
    ("", "v1", "pods"): ("Pod", ["po"]),
    ("", "v1", "events"): ("Event", ["ev"]),
    ("", "v1", "podtemplates"): ("PodTemplate", []),
}
VERBS = ["create", "delete", "get", "list", "patch", "watch"]
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")


def now_text():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Refusal(Exception):
    """A request refused with a Kubernetes Status."""

    def __init__(self, code, reason, message, details=None, headers=None):
        super().__init__(message)
        self.code, self.reason, self.message = code, reason, message
        self.details, self.headers = details or {}, headers or {}

    def status(self):
        return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": self.message,
                "reason": self.reason, "details": self.details, "code": self.code}


class State:
    def __init__(self):
        self.lock = threading.Condition()
        self.open_watches = 0  # live streams, not state: a reset leaves it alone
        self.reset()

    def reset(self):
        with self.lock:
            self.revision = 1000
            self.objects = {}  # (group, plural, namespace, name) -> object
            self.history = collections.deque(maxlen=1000)  # (revision, type, key, object, old object)
            self.oldest = self.revision  # changes after this revision are watchable
            self.tokens = {}
            self.roles = {}  # user -> rules
            self.faults = []
            self.down_until = 0
            self.requests = []
            self.bookmark_seconds = 1.0
            self.split_chunks = False
            self.watch_generation = 0  # bumped to drop every open watch
            # The Job controller's and kubelet's memory: scripts by Job name, pods' timelines by uid.
            self.scripts, self.timelines = {}, {}
            self.started, self.finished, self.launched = {}, {}, set()
            self.lock.notify_all()

    def change(self, kind, key, obj, old=None):
        """Stores (or removes, for DELETED) `obj` under a new resourceVersion; caller holds the lock."""
        self.revision += 1
        obj["metadata"]["resourceVersion"] = str(self.revision)
        if kind == "DELETED":
            self.objects.pop(key, None)
        else:
            self.objects[key] = obj
        if len(self.history) == self.history.maxlen:
            self.oldest = self.history[0][0]
        self.history.append((self.revision, kind, key, copy.deepcopy(obj), copy.deepcopy(old)))
        self.lock.notify_all()
        return obj

    def take_fault(self, verb, resource, name):
        for fault in self.faults:
            if fault.get("count", 1) <= 0:
                continue
            if fault.get("verb", verb) != verb or fault.get("resource", resource) != resource \
                    or fault.get("name", name) != name:
                continue
            fault["count"] = fault.get("count", 1) - 1
            return dict(fault)
        return None


STATE = State()


# -- selectors ----------------------------------------------------------------------------------

def parse_label_selector(text):
    """Equality- and set-based terms: a=b, a==b, a!=b, a, !a, a in (x,y), a notin (x,y)."""
    terms = []
    for term in re.findall(r"[^,(]+(?:\([^)]*\))?", text or ""):
        term = term.strip()
        if not term:
            continue
        match = re.match(r"^([^\s!=]+)\s+(in|notin)\s+\(([^)]*)\)$", term)
        if match:
            values = {value.strip() for value in match.group(3).split(",") if value.strip()}
            terms.append((match.group(1), match.group(2), values))
        elif "!=" in term:
            key, value = term.split("!=", 1)
            terms.append((key.strip(), "!=", value.strip()))
        elif "=" in term:
            key, value = re.split(r"==?", term, maxsplit=1)
            terms.append((key.strip(), "=", value.strip()))
        elif term.startswith("!"):
            terms.append((term[1:].strip(), "!", None))
        else:
            terms.append((term, "exists", None))
    for key, _, _ in terms:
        if not re.match(r"^([a-z0-9.-]+/)?[A-Za-z0-9][-A-Za-z0-9_.]*$", key):
            raise Refusal(400, "BadRequest", "unable to parse requirement: invalid label key %r" % key)
    return terms


def labels_match(terms, labels):
    for key, operator, value in terms:
        present, actual = key in labels, labels.get(key)
        if operator == "=" and actual != value or operator == "!=" and present and actual == value \
                or operator == "exists" and not present or operator == "!" and present \
                or operator == "in" and actual not in value or operator == "notin" and present and actual in value:
            return False
    return True


def parse_field_selector(text):
    terms = []
    for term in (text or "").split(","):
        if not term:
            continue
        negate = "!=" in term
        key, value = term.split("!=" if negate else ("==" if "==" in term else "="), 1) if ("=" in term) else (term, None)
        if value is None:
            raise Refusal(400, "BadRequest", "invalid field selector: %r" % term)
        terms.append((key.strip(), negate, value.strip()))
    return terms


def field(obj, path):
    for part in path.split("."):
        obj = obj.get(part) if isinstance(obj, dict) else None
    return "" if obj is None else str(obj)


def fields_match(terms, obj):
    return all((field(obj, key) == value) != negate for key, negate, value in terms)


# -- object rules -------------------------------------------------------------------------------

def merge_patch(target, patch):
    """RFC 7386."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def validate(obj, kind, strict_fields):
    """The schema (strict: unknown fields refused) and the rules the schema does not hold."""
    name = obj.get("metadata", {}).get("name", "")
    details = {"name": name, "kind": kind.lower() + "s"}
    try:
        kubernetes_validate.validate(obj, SCHEMA_VERSION, strict=True)
    except kubernetes_validate.ValidationError as error:
        where = ".".join(str(part) for part in error.absolute_path) or "(root)"
        if error.validator == "additionalProperties":
            if strict_fields:
                raise Refusal(400, "BadRequest", "strict decoding error: unknown field in %s: %s" % (where, error.message),
                              details)
        else:
            raise Refusal(422, "Invalid", '%s "%s" is invalid: %s: %s' % (kind, name, where, error.message), details)
    if not name or not DNS_SUBDOMAIN.match(name) or len(name) > 253 or (kind == "Job" and len(name) > 63):
        raise Refusal(422, "Invalid", '%s "%s" is invalid: metadata.name: Invalid value: "%s": must be no more than '
                      '63 characters and a lowercase RFC 1123 subdomain' % (kind, name, name), details)
    for key, value in obj["metadata"].get("labels", {}).items():
        if not isinstance(value, str) or len(value) > 63 or not LABEL_VALUE.match(value) or len(key) > 316:
            raise Refusal(422, "Invalid", '%s "%s" is invalid: metadata.labels: Invalid value: "%s"' % (kind, name, value),
                          details)


def job_defaults(job):
    spec = job.setdefault("spec", {})
    spec.setdefault("suspend", False)
    spec.setdefault("parallelism", 1)
    spec.setdefault("completions", 1)
    spec.setdefault("backoffLimit", 6)
    spec.setdefault("completionMode", "NonIndexed")
    uid = job["metadata"]["uid"]
    spec["selector"] = {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}
    labels = spec.setdefault("template", {}).setdefault("metadata", {}).setdefault("labels", {})
    labels.update({"batch.kubernetes.io/controller-uid": uid, "batch.kubernetes.io/job-name": job["metadata"]["name"],
                   "controller-uid": uid, "job-name": job["metadata"]["name"]})
    job.setdefault("status", {})


# -- the handler --------------------------------------------------------------------------------

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.handle_any()

    def do_POST(self):
        self.handle_any()

    def do_PATCH(self):
        self.handle_any()

    def do_DELETE(self):
        self.handle_any()

    def do_PUT(self):
        self.handle_any()

    def reply(self, code, payload, headers=None):
        data = json.dumps(payload).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def handle_any(self):
        parts = urllib.parse.urlsplit(self.path)
        query = {key: values[-1] for key, values in urllib.parse.parse_qs(parts.query, keep_blank_values=True).items()}
        raw = self.body()
        if parts.path.startswith("/_control/"):
            return self.control(parts.path, raw)
        if time.time() < STATE.down_until:
            return self.drop()
        record = {"method": self.command, "path": parts.path, "query": query, "body": raw.decode("utf-8", "replace"),
                  "time": time.time()}
        with STATE.lock:
            STATE.requests.append(record)
        try:
            user = self.authenticate()
            record["user"] = user
            if parts.path in ("/version", "/api", "/apis", "/api/v1", "/apis/batch/v1", "/healthz", "/readyz"):
                record["status"] = 200
                return self.reply(200, discovery(parts.path, self.headers.get("Host", "")))
            namespace = re.match(r"^/api/v1/namespaces/([a-z0-9-]+)$", parts.path)
            if namespace and self.command == "GET":  # every namespace exists (kubectl asks after a 404)
                record["status"] = 200
                return self.reply(200, {"kind": "Namespace", "apiVersion": "v1",
                                        "metadata": {"name": namespace.group(1), "uid": str(uuid.uuid5(
                                            uuid.NAMESPACE_DNS, namespace.group(1))), "resourceVersion": "1"},
                                        "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}})
            route = parse_path(parts.path)
            if route is None:
                raise Refusal(404, "NotFound", "the server could not find the requested resource")
            verb = verb_of(self.command, route, query)
            self.authorize(user, verb, route)
            fault = STATE.take_fault(verb, route["plural"], route["name"])
            if fault is not None:
                kind = fault.get("kind", "status")
                if kind == "reset":
                    record["status"] = "reset"
                    return self.drop()
                if kind == "down":
                    STATE.down_until = time.time() + fault.get("seconds", 5)
                    record["status"] = "down"
                    return self.drop()
                headers = {"Retry-After": str(fault["retry_after"])} if "retry_after" in fault else {}
                raise Refusal(fault.get("status", 500), fault.get("reason", "InternalError"),
                              fault.get("message", "scripted fault"), headers=headers)
            if verb == "watch":
                record["status"] = 200
                return self.watch(route, query)
            code, payload = API[verb](route, query, raw, self.headers.get("Content-Type", ""))
            record["status"] = code
            self.reply(code, payload)
        except Refusal as refusal:
            record["status"] = refusal.code
            self.reply(refusal.code, refusal.status(), refusal.headers)

    def drop(self):
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        except OSError:
            pass
        self.close_connection = True
        self.connection.close()

    def authenticate(self):
        header = self.headers.get("Authorization", "")
        token = header[len("Bearer "):] if header.startswith("Bearer ") else None
        with STATE.lock:
            user = STATE.tokens.get(token) if token else None
        if user is None:
            raise Refusal(401, "Unauthorized", "Unauthorized")
        return user

    def authorize(self, user, verb, route):
        with STATE.lock:
            rules = STATE.roles.get(user)
        if rules is None:
            return
        for rule in rules:
            if route["group"] in rule.get("apiGroups", []) and route["plural"] in rule.get("resources", []) \
                    and (verb in rule.get("verbs", []) or "*" in rule.get("verbs", [])) \
                    and (not rule.get("resourceNames") or route["name"] in rule["resourceNames"]):
                return
        resource = route["plural"] + ("." + route["group"] if route["group"] else "")
        subject = '%s "%s"' % (resource, route["name"]) if route["name"] else resource
        group = route["group"]
        raise Refusal(403, "Forbidden",
                      '%s is forbidden: User "%s" cannot %s resource "%s" in API group "%s" in the namespace "%s"'
                      % (subject, user, verb, route["plural"], group, route["namespace"]),
                      {"name": route["name"], "group": group, "kind": route["plural"]})

    # -- watch --------------------------------------------------------------------------------
    def watch(self, route, query):
        labels = parse_label_selector(query.get("labelSelector"))
        fields = parse_field_selector(query.get("fieldSelector"))
        bookmarks = query.get("allowWatchBookmarks") in ("true", "1")
        deadline = time.time() + int(query["timeoutSeconds"]) if query.get("timeoutSeconds") else None
        since = query.get("resourceVersion", "")
        kind = RESOURCES[(route["group"], route["version"], route["plural"])][0]
        api_version = (route["group"] + "/" if route["group"] else "") + route["version"]
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

        def matches(obj):
            return obj is not None and obj["metadata"].get("namespace") == route["namespace"] \
                and labels_match(labels, obj["metadata"].get("labels", {})) and fields_match(fields, obj)

        def send(event_type, obj):
            line = json.dumps({"type": event_type, "object": obj}).encode() + b"\n"
            pieces = [line[:len(line) // 2], line[len(line) // 2:]] if STATE.split_chunks else [line]
            for piece in pieces:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            self.wfile.flush()

        with STATE.lock:
            STATE.open_watches += 1
        try:
            with STATE.lock:
                generation = STATE.watch_generation
                if since in ("", "0"):
                    start = STATE.revision
                    initial = [copy.deepcopy(obj) for key, obj in sorted(STATE.objects.items())
                               if key[1] == route["plural"] and matches(obj)]
                else:
                    if not since.isdigit():
                        raise Refusal(400, "BadRequest", "invalid resourceVersion %r" % since)
                    start = int(since)
                    initial = []
                    if start < STATE.oldest:
                        expired = Refusal(410, "Expired", "too old resource version: %d (%d)" % (start, STATE.oldest + 1))
                        initial = None
            if initial is None:
                send("ERROR", expired.status())
                return self.end_chunks()
            for obj in initial:
                send("ADDED", dict(obj, kind=kind, apiVersion=api_version))
            position = start
            last_bookmark = time.time()
            while True:
                with STATE.lock:
                    pending = [entry for entry in STATE.history if entry[0] > position]
                    if not pending:
                        STATE.lock.wait(timeout=0.2)
                        pending = [entry for entry in STATE.history if entry[0] > position]
                    dropped = STATE.watch_generation != generation
                    current = STATE.revision
                if dropped:
                    return self.drop()
                if select.select([self.connection], [], [], 0)[0]:  # a watcher sends nothing: it closed
                    self.close_connection = True
                    return
                for revision, event_type, key, obj, old in pending:
                    position = revision
                    if key[1] != route["plural"]:
                        continue
                    now_matches, was_matching = matches(obj), matches(old)
                    if event_type == "DELETED":
                        if now_matches:
                            send("DELETED", obj)
                    elif now_matches:
                        send("MODIFIED" if was_matching else "ADDED", obj)
                    elif was_matching:
                        send("DELETED", obj)
                position = max(position, current) if not pending else position
                if bookmarks and time.time() - last_bookmark >= STATE.bookmark_seconds:
                    send("BOOKMARK", {"kind": kind, "apiVersion": api_version,
                                      "metadata": {"resourceVersion": str(position),
                                                   "annotations": {"k8s.io/initial-events-end": "true"}}})
                    last_bookmark = time.time()
                if deadline is not None and time.time() >= deadline:
                    return self.end_chunks()
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            self.close_connection = True
        finally:
            with STATE.lock:
                STATE.open_watches -= 1

    def end_chunks(self):
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()
        self.close_connection = True

    # -- control ------------------------------------------------------------------------------
    def control(self, path, raw):
        payload = json.loads(raw) if raw else None
        with STATE.lock:
            if path == "/_control/tokens":
                STATE.tokens = dict(payload)
            elif path == "/_control/rbac":
                if payload["role"] is None:
                    STATE.roles.pop(payload["user"], None)
                else:  # the Role of a manifest that may hold other documents too (its binding)
                    (role,) = [doc for doc in yaml.safe_load_all(payload["role"]) if doc and doc.get("kind") == "Role"]
                    STATE.roles[payload["user"]] = role["rules"]
            elif path == "/_control/faults":
                STATE.faults = list(payload)
            elif path == "/_control/script":  # the life of the Job's pod: steps, each "after" s the one before
                STATE.scripts[payload["job"]] = payload["steps"]
            elif path == "/_control/drop_watches":
                STATE.watch_generation += 1
                STATE.lock.notify_all()
            elif path == "/_control/compact":
                keep = payload.get("keep", 0)
                while len(STATE.history) > keep:
                    STATE.oldest = STATE.history.popleft()[0]
                if keep == 0:
                    STATE.oldest = STATE.revision
            elif path == "/_control/settings":
                if "history" in payload:
                    STATE.history = collections.deque(STATE.history, maxlen=payload["history"])
                STATE.bookmark_seconds = payload.get("bookmark_seconds", STATE.bookmark_seconds)
                STATE.split_chunks = payload.get("split_chunks", STATE.split_chunks)
            elif path == "/_control/objects":
                return self.reply(200, [obj for _, obj in sorted(STATE.objects.items())])
            elif path == "/_control/requests":
                return self.reply(200, STATE.requests)
            elif path == "/_control/open_watches":
                return self.reply(200, STATE.open_watches)
            elif path == "/_control/reset":
                STATE.reset()
            else:
                return self.reply(404, {"error": "no such control endpoint"})
        return self.reply(200, {"ok": True})


def discovery(path, host):
    if path == "/version":
        return {"major": "1", "minor": "33", "gitVersion": "v1.33.0-jobcreds-fake", "platform": "linux/amd64"}
    if path in ("/healthz", "/readyz"):
        return "ok"
    if path == "/api":
        return {"kind": "APIVersions", "versions": ["v1"],
                "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": host}]}
    if path == "/apis":
        version = {"groupVersion": "batch/v1", "version": "v1"}
        return {"kind": "APIGroupList", "apiVersion": "v1",
                "groups": [{"name": "batch", "versions": [version], "preferredVersion": version}]}
    group_version = "v1" if path == "/api/v1" else "batch/v1"
    resources = []
    for (group, version, plural), (kind, short) in sorted(RESOURCES.items()):
        if (group + "/" if group else "") + version == group_version:
            resources.append({"name": plural, "singularName": kind.lower(), "namespaced": True, "kind": kind,
                              "verbs": VERBS, "shortNames": short})
    if group_version == "v1":
        resources.append({"name": "namespaces", "singularName": "namespace", "namespaced": False,
                          "kind": "Namespace", "verbs": ["get"], "shortNames": ["ns"]})
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": resources}


def parse_path(path):
    match = re.match(r"^/(?:api/(v1)|apis/([a-z0-9.-]+)/(v1))/namespaces/([a-z0-9-]+)/([a-z]+)(?:/([^/]+))?$", path)
    if not match:
        return None
    version = match.group(1) or match.group(3)
    group = match.group(2) or ""
    route = {"group": group, "version": version, "namespace": match.group(4), "plural": match.group(5),
             "name": urllib.parse.unquote(match.group(6)) if match.group(6) else ""}
    return route if (group, version, route["plural"]) in RESOURCES else None


def verb_of(method, route, query):
    if method == "GET":
        if query.get("watch") in ("1", "true"):
            return "watch"
        return "get" if route["name"] else "list"
    verb = {"POST": "create", "PATCH": "patch", "DELETE": "delete", "PUT": "update"}.get(method)
    if verb is None or (verb == "create") == bool(route["name"]) or verb == "update":
        raise Refusal(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")
    return verb


def key_of(route, name=None):
    return (route["group"], route["plural"], route["namespace"], name if name is not None else route["name"])


def kind_of(route):
    return RESOURCES[(route["group"], route["version"], route["plural"])][0]


def not_found(route):
    resource = route["plural"] + ("." + route["group"] if route["group"] else "")
    return Refusal(404, "NotFound", '%s "%s" not found' % (resource, route["name"]),
                   {"name": route["name"], "group": route["group"], "kind": route["plural"]})


def api_create(route, query, raw, _content_type):
    try:
        obj = json.loads(raw)
    except ValueError:
        raise Refusal(400, "BadRequest", "the body of the request was in an unknown format")
    kind = kind_of(route)
    api_version = (route["group"] + "/" if route["group"] else "") + route["version"]
    if not isinstance(obj, dict) or obj.get("kind") != kind or obj.get("apiVersion") != api_version:
        raise Refusal(400, "BadRequest", "the object is not a %s of %s" % (kind, api_version))
    metadata = obj.setdefault("metadata", {})
    if metadata.get("namespace", route["namespace"]) != route["namespace"]:
        raise Refusal(400, "BadRequest", "the namespace of the provided object does not match the namespace sent on the request")
    for server_field in ("uid", "resourceVersion", "creationTimestamp", "deletionTimestamp", "generation"):
        metadata.pop(server_field, None)
    validate(obj, kind, query.get("fieldValidation", "Strict") == "Strict")
    metadata.update({"namespace": route["namespace"], "uid": str(uuid.uuid4()), "creationTimestamp": now_text(),
                     "generation": 1})
    if kind == "Job":
        job_defaults(obj)
    key = key_of(route, metadata["name"])
    with STATE.lock:
        if key in STATE.objects:
            resource = route["plural"] + ("." + route["group"] if route["group"] else "")
            raise Refusal(409, "AlreadyExists", '%s "%s" already exists' % (resource, metadata["name"]),
                          {"name": metadata["name"], "group": route["group"], "kind": route["plural"]})
        if query.get("dryRun") == "All":
            return 201, obj
        return 201, copy.deepcopy(STATE.change("ADDED", key, obj))


def api_get(route, _query, _raw, _content_type):
    with STATE.lock:
        obj = STATE.objects.get(key_of(route))
        if obj is None:
            raise not_found(route)
        return 200, copy.deepcopy(obj)


def api_list(route, query, _raw, _content_type):
    labels = parse_label_selector(query.get("labelSelector"))
    fields = parse_field_selector(query.get("fieldSelector"))
    limit = int(query["limit"]) if query.get("limit", "").isdigit() and int(query["limit"]) > 0 else None
    start_after, revision = "", None
    if query.get("continue"):
        try:
            token = json.loads(base64.urlsafe_b64decode(query["continue"]))
            start_after, revision = token["after"], token["rv"]
        except (ValueError, KeyError):
            raise Refusal(400, "BadRequest", "invalid continue token")
    with STATE.lock:
        revision = revision or STATE.revision
        items = [copy.deepcopy(obj) for key, obj in sorted(STATE.objects.items())
                 if key[:3] == key_of(route)[:3] and key[3] > start_after
                 and labels_match(labels, obj["metadata"].get("labels", {})) and fields_match(fields, obj)]
    metadata = {"resourceVersion": str(revision)}
    if limit is not None and len(items) > limit:
        items = items[:limit]
        metadata["continue"] = base64.urlsafe_b64encode(json.dumps(
            {"after": items[-1]["metadata"]["name"], "rv": revision}).encode()).decode()
    kind = kind_of(route)
    return 200, {"kind": kind + "List", "apiVersion": (route["group"] + "/" if route["group"] else "") + route["version"],
                 "metadata": metadata, "items": items}


def api_patch(route, query, raw, content_type):
    if content_type.split(";")[0].strip() not in ("application/merge-patch+json", "application/strategic-merge-patch+json"):
        raise Refusal(415, "UnsupportedMediaType", "the body of the request was in an unknown format: %s" % content_type)
    try:
        patch = json.loads(raw)
    except ValueError:
        raise Refusal(400, "BadRequest", "the body of the request was in an unknown format")
    kind = kind_of(route)
    with STATE.lock:
        old = STATE.objects.get(key_of(route))
        if old is None:
            raise not_found(route)
        wanted = (patch.get("metadata") or {}).get("resourceVersion")
        if wanted is not None and wanted != old["metadata"]["resourceVersion"]:
            raise Refusal(409, "Conflict", 'Operation cannot be fulfilled on %s "%s": the object has been modified; please '
                          "apply your changes to the latest version and try again" % (route["plural"], route["name"]),
                          {"name": route["name"], "group": route["group"], "kind": route["plural"]})
        new = merge_patch(old, patch)
        for fixed in ("uid", "name", "namespace", "creationTimestamp", "deletionTimestamp"):
            if new["metadata"].get(fixed) != old["metadata"].get(fixed):
                raise Refusal(422, "Invalid", '%s "%s" is invalid: metadata.%s: field is immutable' % (kind, route["name"], fixed))
        if kind == "Job":
            template_changed = new["spec"].get("template") != old["spec"].get("template")
            if template_changed and not old["spec"].get("suspend"):
                raise Refusal(422, "Invalid", 'Job.batch "%s" is invalid: spec.template: Invalid value: field is immutable'
                              % route["name"])
            if new["spec"].get("selector") != old["spec"].get("selector"):
                raise Refusal(422, "Invalid", 'Job.batch "%s" is invalid: spec.selector: field is immutable' % route["name"])
        if old["metadata"].get("deletionTimestamp") and set(new["metadata"].get("finalizers", [])) - set(
                old["metadata"].get("finalizers", [])):
            raise Refusal(422, "Invalid", "no new finalizers can be added if the object is being deleted")
        validate(new, kind, query.get("fieldValidation", "Strict") == "Strict")
        if new.get("spec") != old.get("spec"):
            new["metadata"]["generation"] = old["metadata"].get("generation", 1) + 1
        if query.get("dryRun") == "All":
            return 200, new
        if new["metadata"].get("deletionTimestamp") and not new["metadata"].get("finalizers"):
            return 200, copy.deepcopy(remove(route, new, old))
        return 200, copy.deepcopy(STATE.change("MODIFIED", key_of(route), new, old))


def remove(route, obj, old):
    """Deletes `obj` and, for a Job, its pods; caller holds the lock."""
    removed = STATE.change("DELETED", key_of(route), obj, old)
    if route["plural"] == "jobs":
        uid = obj["metadata"]["uid"]
        for key, pod in list(STATE.objects.items()):
            if key[1] == "pods" and any(owner.get("uid") == uid for owner in pod["metadata"].get("ownerReferences", [])):
                delete_object(dict(route, group="", plural="pods", name=key[3]), pod)
    return removed


def delete_object(route, obj):
    if obj["metadata"].get("finalizers"):
        if not obj["metadata"].get("deletionTimestamp"):
            new = copy.deepcopy(obj)
            new["metadata"]["deletionTimestamp"] = now_text()
            new["metadata"]["deletionGracePeriodSeconds"] = 0
            return STATE.change("MODIFIED", key_of(route), new, obj)
        return obj
    return remove(route, copy.deepcopy(obj), obj)


def api_delete(route, query, raw, _content_type):
    try:
        options = json.loads(raw) if raw else {}
    except ValueError:
        raise Refusal(400, "BadRequest", "the body of the request was in an unknown format")
    preconditions = options.get("preconditions") or {}
    with STATE.lock:
        obj = STATE.objects.get(key_of(route))
        if obj is None:
            raise not_found(route)
        for name in ("uid", "resourceVersion"):
            if preconditions.get(name) is not None and preconditions[name] != obj["metadata"].get(name):
                raise Refusal(409, "Conflict", "Precondition failed: %s in precondition: %s, %s in object meta: %s"
                              % (name.upper() if name == "uid" else name, preconditions[name],
                                 name.upper() if name == "uid" else name, obj["metadata"].get(name)),
                              {"name": route["name"], "group": route["group"], "kind": route["plural"]})
        if query.get("dryRun") == "All":
            return 200, copy.deepcopy(obj)
        result = delete_object(route, obj)
        if key_of(route) in STATE.objects or route["plural"] == "pods":  # held by finalizers; a pod's last state
            return 200, copy.deepcopy(result)
    return 200, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                 "details": {"name": route["name"], "group": route["group"], "kind": route["plural"],
                             "uid": obj["metadata"]["uid"]}}


API = {"create": api_create, "get": api_get, "list": api_list, "patch": api_patch, "delete": api_delete}


# -- the Job controller and the "kubelet": documented behaviour, scripted pods ----------------

DEFAULT_TIMELINE = [{"after": 0.1, "phase": "Running"}, {"after": 0.3, "phase": "Succeeded", "exit": 0}]


def job_route(namespace, plural="jobs", group="batch", name=""):
    return {"group": group, "version": "v1", "namespace": namespace, "plural": plural, "name": name}


def owned_pods(job):
    uid = job["metadata"]["uid"]
    return [pod for key, pod in STATE.objects.items() if key[1] == "pods"
            and any(owner.get("uid") == uid for owner in pod["metadata"].get("ownerReferences", []))]


def set_status(route, obj, status):
    new = copy.deepcopy(obj)
    new["status"] = status
    STATE.change("MODIFIED", key_of(route), new, obj)
    return new


def finish_job(job, condition, reason=None, message=None):
    """The Job's terminal conditions, as the Job controller writes them (caller holds the lock)."""
    route = job_route(job["metadata"]["namespace"], name=job["metadata"]["name"])
    status = copy.deepcopy(job.get("status", {}))
    now = now_text()
    conditions = []
    if condition == "Complete":
        conditions.append({"type": "SuccessCriteriaMet", "status": "True", "lastTransitionTime": now})
        status["succeeded"] = 1
        status["completionTime"] = now
    else:
        conditions.append({"type": "FailureTarget", "status": "True", "reason": reason, "message": message,
                           "lastTransitionTime": now})
        status["failed"] = status.get("failed", 0) + 1
    conditions.append(dict({"type": condition, "status": "True", "lastTransitionTime": now},
                           **({"reason": reason, "message": message} if reason else {})))
    status["conditions"] = status.get("conditions", []) + conditions
    status["active"] = 0
    STATE.finished[job["metadata"]["uid"]] = time.time()
    set_status(route, job, status)


def pod_failure_rule(job, pod):
    """The first podFailurePolicy rule the failed pod matches: (index, action, exit code) or None."""
    states = {status["name"]: status.get("state", {}) for status in pod["status"].get("containerStatuses", [])}
    disrupted = any(c.get("type") == "DisruptionTarget" and c.get("status") == "True"
                    for c in pod["status"].get("conditions", []))
    for index, rule in enumerate((job["spec"].get("podFailurePolicy") or {}).get("rules", [])):
        codes = rule.get("onExitCodes")
        if codes:
            for name, state in states.items():
                if codes.get("containerName") not in (None, name) or "terminated" not in state:
                    continue
                code = state["terminated"]["exitCode"]
                inside = code in codes.get("values", [])
                if code != 0 and (inside if codes.get("operator") == "In" else not inside):
                    return index, rule["action"], code, name
        for condition in rule.get("onPodConditions", []):
            if condition.get("type") == "DisruptionTarget" and disrupted:
                return index, rule["action"], None, None
    return None


def start_pod(job):
    metadata = job["spec"]["template"].get("metadata", {})
    name = "%s-%s" % (job["metadata"]["name"], uuid.uuid4().hex[:5])
    pod = {"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": name, "namespace": job["metadata"]["namespace"], "uid": str(uuid.uuid4()),
                        "creationTimestamp": now_text(), "labels": dict(metadata.get("labels", {})),
                        "annotations": dict(metadata.get("annotations", {})),
                        "ownerReferences": [{"apiVersion": "batch/v1", "kind": "Job", "name": job["metadata"]["name"],
                                             "uid": job["metadata"]["uid"], "controller": True,
                                             "blockOwnerDeletion": True}]},
           "spec": copy.deepcopy(job["spec"]["template"]["spec"]),
           "status": {"phase": "Pending", "conditions": [], "containerStatuses": []}}
    STATE.change("ADDED", ("", "pods", pod["metadata"]["namespace"], name), pod)
    steps = copy.deepcopy(STATE.scripts.get(job["metadata"]["name"], DEFAULT_TIMELINE))
    STATE.timelines[pod["metadata"]["uid"]] = {"due": time.time() + (steps[0].get("after", 0) if steps else 0),
                                               "steps": steps}


def event(pod, reason, message, kind="Warning"):
    namespace = pod["metadata"]["namespace"]
    name = "%s.%s" % (pod["metadata"]["name"], uuid.uuid4().hex[:8])
    STATE.change("ADDED", ("", "events", namespace, name), {
        "apiVersion": "v1", "kind": "Event", "metadata": {"name": name, "namespace": namespace},
        "involvedObject": {"kind": "Pod", "name": pod["metadata"]["name"], "namespace": namespace,
                           "uid": pod["metadata"]["uid"]},
        "reason": reason, "message": message, "type": kind, "count": 1, "firstTimestamp": now_text(),
        "lastTimestamp": now_text(), "source": {"component": "kubelet"}})


def apply_step(pod, step):
    """One scripted moment of a pod's life: what the kubelet (or scheduler) would write."""
    route = job_route(pod["metadata"]["namespace"], "pods", "", pod["metadata"]["name"])
    status = copy.deepcopy(pod["status"])
    containers = [container["name"] for container in pod["spec"].get("containers", [])]
    phase = step.get("phase", status["phase"])
    if step.get("unschedulable"):
        status["conditions"] = [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                                 "message": step.get("message", "0/3 nodes are available")}]
        event(pod, "FailedScheduling", step.get("message", "0/3 nodes are available"))
    elif step.get("reason"):  # a container that cannot start: ErrImagePull, CreateContainerConfigError, ...
        status["containerStatuses"] = [{"name": name, "ready": False, "restartCount": 0, "image": "",
                                        "imageID": "", "state": {"waiting": {"reason": step["reason"],
                                                                             "message": step.get("message", "")}}}
                                       for name in containers]
        event(pod, "Failed", step.get("message", step["reason"]))
    elif phase == "Running":
        status["containerStatuses"] = [{"name": name, "ready": True, "restartCount": 0, "image": "", "imageID": "",
                                        "state": {"running": {"startedAt": now_text()}}} for name in containers]
    elif phase in ("Succeeded", "Failed"):
        code = step.get("exit", 0 if phase == "Succeeded" else 1)
        terminated = {"exitCode": code, "reason": "OOMKilled" if step.get("oom") else ("Completed" if code == 0 else "Error"),
                      "startedAt": now_text(), "finishedAt": now_text()}
        if step.get("termination_message") is not None:
            terminated["message"] = step["termination_message"]
        status["containerStatuses"] = [{"name": name, "ready": False, "restartCount": 0, "image": "", "imageID": "",
                                        "state": {"terminated": dict(terminated) if name == step.get("container", "build")
                                                  else {"exitCode": 0, "reason": "Completed"}}}
                                       for name in containers]
    if step.get("evicted"):
        status["conditions"] = status.get("conditions", []) + [
            {"type": "DisruptionTarget", "status": "True", "reason": "EvictionByEvictionAPI"}]
        phase = "Failed"
    status["phase"] = phase
    return set_status(route, pod, status)


def control_loop():
    """Every 50 ms: unsuspended Jobs get their pod, pods follow their script, terminal pods end
    their Job (podFailurePolicy, backoffLimit 0), deadlines and TTLs run."""
    while True:
        time.sleep(0.05)
        with STATE.lock:
            now = time.time()
            for key, job in list(STATE.objects.items()):
                if key[1] != "jobs" or key not in STATE.objects:
                    continue
                job = STATE.objects[key]
                route = job_route(key[2], name=key[3])
                finished = STATE.finished.get(job["metadata"]["uid"])
                ttl = job["spec"].get("ttlSecondsAfterFinished")
                if finished is not None:
                    if ttl is not None and now >= finished + ttl and not job["metadata"].get("deletionTimestamp"):
                        delete_object(route, job)
                    continue
                if job["metadata"].get("deletionTimestamp") or job["spec"].get("suspend"):
                    continue
                if "startTime" not in job.get("status", {}):
                    job = set_status(route, job, dict(job.get("status", {}), startTime=now_text(), active=1))
                    STATE.started[job["metadata"]["uid"]] = now
                deadline = job["spec"].get("activeDeadlineSeconds")
                if deadline is not None and now >= STATE.started.get(job["metadata"]["uid"], now) + deadline:
                    for pod in owned_pods(job):
                        delete_object(job_route(key[2], "pods", "", pod["metadata"]["name"]), pod)
                    finish_job(job, "Failed", "DeadlineExceeded", "Job was active longer than specified deadline")
                    continue
                pods = owned_pods(job)
                if not pods:
                    if job["metadata"]["uid"] in STATE.launched:
                        continue  # its pod was deleted out of band: this controller does not start another
                    STATE.launched.add(job["metadata"]["uid"])
                    start_pod(job)
                    continue
                for pod in pods:
                    if pod["status"]["phase"] == "Failed":
                        rule = pod_failure_rule(job, pod)
                        if rule is not None and rule[1] == "FailJob":
                            finish_job(job, "Failed", "PodFailurePolicy",
                                       "Container %s for pod %s/%s failed with exit code %d matching FailJob rule at "
                                       "index %d" % (rule[3], key[2], pod["metadata"]["name"], rule[2], rule[0]))
                        elif rule is not None and rule[1] == "Ignore":
                            delete_object(job_route(key[2], "pods", "", pod["metadata"]["name"]), pod)
                            STATE.launched.discard(job["metadata"]["uid"])
                        elif job["spec"].get("backoffLimit", 6) == 0:
                            finish_job(job, "Failed", "BackoffLimitExceeded", "Job has reached the specified backoff limit")
                    elif pod["status"]["phase"] == "Succeeded":
                        finish_job(job, "Complete")
            for key, pod in list(STATE.objects.items()):
                timeline = STATE.timelines.get(pod["metadata"]["uid"]) if key[1] == "pods" else None
                while timeline is not None and timeline["steps"] and now >= timeline["due"] and key in STATE.objects:
                    step = timeline["steps"].pop(0)
                    apply_step(STATE.objects[key], step)
                    if timeline["steps"]:
                        timeline["due"] = now + timeline["steps"][0].get("after", 0)


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], (ConnectionError, ssl.SSLError, TimeoutError, OSError)):
            super().handle_error(request, client_address)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--state-dir", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--exit-on-stdin-eof", action="store_true")
    args = parser.parse_args()
    os.makedirs(args.state_dir, exist_ok=True)
    ca_cert, cert, key = make_certificates(args.state_dir)
    server = tls(Server(("127.0.0.1", args.port), Handler), cert, key)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    threading.Thread(target=control_loop, daemon=True).start()
    print(json.dumps({"port": server.server_address[1], "ca_bundle": ca_cert}), flush=True)
    wait(args.exit_on_stdin_eof)


if __name__ == "__main__":
    sys.exit(main())
