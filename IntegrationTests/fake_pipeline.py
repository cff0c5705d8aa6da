"""The job lifecycle as CodePipeline keeps it, for the fake's job worker operations.

    Created --poll--> Dispatched --acknowledge(nonce)--> InProgress --result--> Succeeded | Failed
       ^                  |                                  |
       +--- not acknowledged within the re-dispatch window   +--- past the action timeout --> TimedOut

Every dispatch hands out a new nonce; an acknowledge with any other nonce is
InvalidNonceException (the model lists no InvalidJobStateException for AcknowledgeJob). A second
acknowledge with the nonce that took the job answers InProgress ("idempotent", the default) or
InvalidNonceException ("strict"), as the test sets. An acknowledge of a job that has ended with
its last nonce answers the job's status. A result for a job not in progress is
InvalidJobStateException. A job's history records every dispatch, acknowledge and result, so a
test can assert that each job ran once and was reported once.

Options of a job (POST /_control/configure {"jobs": {ID: {...}}}): "queued" (pollable), "third_party",
"client_id", "query" ({name: value}, what a queryParam must match), "redispatch_after" (seconds a
dispatched job waits for its acknowledge, default 30), "action_timeout" (seconds from creation
to TimedOut, default 24 h), "reack" ("idempotent" or "strict"). Not thread-safe: the caller holds
the fake's lock."""
import json
import secrets
import time

CANARY = "CANARY-7f3a9c"  # as fake_aws.CANARY (which imports this module)
OUTPUT_VARIABLES_LIMIT = 122880
TERMINAL = ("Succeeded", "Failed", "TimedOut")


class Refusal(Exception):
    """An AWS error answer: its code and message."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


def not_found():
    return Refusal("JobNotFoundException", "The job was specified in an invalid format or cannot be found.")


class Job:
    def __init__(self, job_id, options, now):
        self.id = job_id
        self.options = options
        self.status = "Created" if options.get("queued") else "Queued"  # only queued jobs are ever polled
        self.created = now
        self.nonce = None
        self.dispatched = None
        self.taken_by = None  # the nonce of the acknowledge that took it
        self.history = [{"event": "created", "time": now}]

    def record(self, event, **fields):
        self.history.append(dict(fields, event=event, time=time.time()))

    def tick(self, now):
        """Time passes: a dispatch not acknowledged in time lapses, an action past its timeout ends."""
        if self.status not in TERMINAL and now - self.created > self.options.get("action_timeout", 86400):
            self.status = "TimedOut"
            self.record("timed_out")
        if self.status == "Dispatched" and now - self.dispatched > self.options.get("redispatch_after", 30):
            self.status = "Created"
            self.record("dispatch_lapsed")

    def view(self):
        return {"status": self.status, "history": self.history}


class Pipeline:
    """Every job of the fake, in the order they were created."""

    def __init__(self):
        self.jobs = {}

    def add(self, job_id, options):
        self.jobs[job_id] = Job(job_id, options, time.time())

    def job(self, job_id):
        job = self.jobs.get(job_id)
        if job is None:
            raise not_found()
        job.tick(time.time())
        return job

    def poll(self, data_of, action_type, max_batch, query, third_party):
        """Dispatches up to `max_batch` pollable jobs of `action_type` matching `query`; returns them."""
        now = time.time()
        taken = []
        for job in self.jobs.values():
            job.tick(now)
            if len(taken) >= max_batch or job.status != "Created":
                continue
            if bool(job.options.get("third_party")) != third_party:
                continue
            if any(data_of(job.id)["actionTypeId"].get(k) != v for k, v in action_type.items()):
                continue
            if query and any(job.options.get("query", {}).get(k) != v for k, v in query.items()):
                continue
            job.status, job.dispatched = "Dispatched", now
            job.nonce = "n-%s-%s" % (CANARY, secrets.token_hex(8))  # a canary: it must never be logged
            job.record("dispatched")
            taken.append(job)
        return taken

    def acknowledge(self, job_id, nonce):
        job = self.job(job_id)
        if nonce != job.nonce:
            job.record("acknowledge_refused", why="stale nonce")
            raise Refusal("InvalidNonceException", "The nonce was specified in an invalid format.")
        if job.status == "Dispatched":
            job.status, job.taken_by = "InProgress", nonce
            job.record("acknowledged")
            return "InProgress"
        if job.status == "InProgress" and job.options.get("reack", "idempotent") == "strict":
            job.record("acknowledge_refused", why="acknowledged already")
            raise Refusal("InvalidNonceException", "The nonce was specified in an invalid format.")
        if job.status == "Created":  # the dispatch lapsed: that nonce is no longer the job's
            job.record("acknowledge_refused", why="dispatch lapsed")
            raise Refusal("InvalidNonceException", "The nonce was specified in an invalid format.")
        job.record("reacknowledged", status=job.status)
        return job.status

    def result(self, job_id, outcome, request):
        job = self.job(job_id)
        if job.status != "InProgress":
            job.record("result_refused", outcome=outcome, status=job.status)
            raise Refusal("InvalidJobStateException", "The job state was specified in an invalid format.")
        variables = request.get("outputVariables")
        if variables is not None and request.get("continuationToken") is not None:
            raise Refusal("ValidationException", "outputVariables can be included only when there is no continuation token")
        if variables is not None and sum(len(k.encode()) + len(v.encode()) for k, v in variables.items()) \
                > OUTPUT_VARIABLES_LIMIT:
            job.record("result_refused", outcome=outcome, why="output variables too large")
            raise Refusal("OutputVariablesSizeExceededException",
                          "Exceeded the total size limit for all variables in the pipeline.")
        job.status = "Succeeded" if outcome == "success" else "Failed"
        details = {key: request[key] for key in ("executionDetails", "failureDetails", "outputVariables")
                   if key in request}
        job.record("reported", outcome=outcome, **details)
        return job

    def results(self):
        """What the old /_control/results gave: {job_id: {"status", "executionDetails"|"failureDetails", ...}}
        for every job a worker has acknowledged."""
        answer = {}
        for job in self.jobs.values():
            if job.taken_by is None:
                continue
            entry = {"status": job.status}
            for event in job.history:
                if event["event"] == "reported":
                    entry.update({k: v for k, v in event.items() if k not in ("event", "time", "outcome")})
            answer[job.id] = entry
        return answer

    def dump(self):
        return json.loads(json.dumps({job_id: job.view() for job_id, job in self.jobs.items()}))
