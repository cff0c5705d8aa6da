"""`jobcreds worker` against the fake CodePipeline: each job taken once, run beside its own
sidecar, reported once with the right outcome, whatever the build, the network or a restart does."""
import json
import os
import signal
import subprocess
import time

import pytest

from conftest import CANARY
import other_user
from worker import Worker, lifecycle, queue, reports, results, wait_reported

# A build that fetches the artifact credentials the way every SDK does and prints them: the
# secret values must be scrubbed from everything that leaves the worker.
PRINT_CREDENTIALS = ('curl -s -H "Authorization: $(cat $AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE)" '
                     '"$AWS_CONTAINER_CREDENTIALS_FULL_URI"; echo')


@pytest.fixture
def worker(jobcreds_bin, fake, tmp_path):
    started = []

    def make(*command, args=(), env=None, once=False, root=None, artifacts="none"):
        instance = Worker(jobcreds_bin, fake, root or tmp_path / ("worker%d" % len(started)), command, args=args,
                          env=env, once=once, artifacts=artifacts)
        started.append(instance)
        return instance

    yield make
    for instance in started:
        instance.stop()


def alive(pid):
    """Whether `pid` runs (a zombie waiting for a reaper does not)."""
    try:
        with open("/proc/%d/stat" % pid) as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def artifact_secrets(fake, job_id):
    credentials = fake.control("/_control/jobs")[job_id]["jobDetails"]["data"]["artifactCredentials"]
    return [credentials["secretAccessKey"], credentials["sessionToken"]]


def assert_nothing_secret(fake, worker, job_id):
    written = worker.everything_written() + json.dumps(fake.control("/_control/lifecycle"))
    for secret in [CANARY, fake.worker["secret"]] + artifact_secrets(fake, job_id):
        assert secret not in written, secret


# -- outcomes ------------------------------------------------------------------------------------

def test_a_success_is_reported_with_its_summary_and_output_variables(worker, fake):
    job_id, = queue(fake)
    run = worker("sh", "-c", PRINT_CREDENTIALS + '; env > "$JOBCREDS_RESULT_DIR/../env.txt"; cp "$JOBCREDS_RESULT_DIR/../env.txt" /dev/stdout;'
                 'echo "built it" > "$JOBCREDS_RESULT_DIR/summary";'
                 'echo \'{"IMAGE_TAG": "v1.2", "COMMIT": "abc"}\' > "$JOBCREDS_RESULT_DIR/output-variables.json"',
                 once=True).start()
    assert run.wait() == 0, run.stderr
    result = results(fake)[job_id]
    assert result["status"] == "Succeeded"
    assert result["executionDetails"]["summary"] == "built it"
    assert result["executionDetails"]["externalExecutionId"].endswith("/" + job_id)
    assert result["outputVariables"] == {"IMAGE_TAG": "v1.2", "COMMIT": "abc"}
    assert lifecycle(fake, job_id) == ["created", "dispatched", "acknowledged", "reported"]
    # The build's environment: made from nothing, the worker's identity nowhere.
    names = {line.split("=", 1)[0] for line in run.stderr.split("line=")[1:]}
    assert "AWS_SECRET_ACCESS_KEY" not in run.stderr and "AWS_ACCESS_KEY_ID=" not in run.stderr
    assert "AWS_CONTAINER_CREDENTIALS_FULL_URI" in names and "CODEPIPELINE_PIPELINE_NAME" in names
    assert [line["event"] for line in run.audit() if line.get("job_id") == job_id and line["event"] in (
        "job_acknowledged", "build_started", "build_finished", "job_reported")] == [
        "job_acknowledged", "build_started", "build_finished", "job_reported"]
    assert not (run.work / job_id).exists()  # the workspace is gone after the report
    assert_nothing_secret(fake, run, job_id)


@pytest.mark.parametrize("script,failure_type,message", [
    ("echo one; echo two >&2; exit 3", "JobFailed", "the build exited with status 3; its last output:\n{"),
    ("kill -KILL $$", "JobFailed", "the build was killed by SIGKILL"),
    ("echo '[1]' > \"$JOBCREDS_RESULT_DIR/output-variables.json\"", "ConfigurationError", "is not a JSON object"),
    ("echo '{\"bad key\": \"v\"}' > \"$JOBCREDS_RESULT_DIR/output-variables.json\"", "ConfigurationError",
     "is not made of letters, digits"),
    ("ln -s /etc/shadow \"$JOBCREDS_RESULT_DIR/summary\"", "ConfigurationError", "summary cannot be opened"),
])
def test_each_failure_is_reported_with_its_type(worker, fake, script, failure_type, message):
    job_id, = queue(fake)
    run = worker("sh", "-c", PRINT_CREDENTIALS + "; " + script, once=True).start()
    assert run.wait() == 1, run.stderr
    details = results(fake)[job_id]["failureDetails"]
    assert details["type"] == failure_type and message in details["message"], details
    if "exit 3" in script:
        assert details["message"].endswith("\none\ntwo"), details  # stdout and stderr in their order
    assert details["externalExecutionId"].endswith("/" + job_id)
    assert_nothing_secret(fake, run, job_id)


# The build puts the artifact secret key it fetched into $secret.
GRAB_SECRET = ('secret=$(curl -s -H "Authorization: $(cat $AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE)" '
               '"$AWS_CONTAINER_CREDENTIALS_FULL_URI" | jq -r .SecretAccessKey); ')


def test_what_the_build_writes_for_the_result_is_scrubbed_too(worker, fake):
    job_id, = queue(fake)
    run = worker("sh", "-c", GRAB_SECRET + 'echo "built with $secret" > "$JOBCREDS_RESULT_DIR/summary"; '
                 'echo "run-$secret" > "$JOBCREDS_RESULT_DIR/external-execution-id"; '
                 'printf \'{"LEAK": "%s"}\' "$secret" > "$JOBCREDS_RESULT_DIR/output-variables.json"', once=True).start()
    assert run.wait() == 0, run.stderr
    result = results(fake)[job_id]
    assert result["executionDetails"]["summary"] == "built with (redacted)", result
    assert result["executionDetails"]["externalExecutionId"] == "run-(redacted)", result
    assert result["outputVariables"] == {"LEAK": "(redacted)"}, result
    assert_nothing_secret(fake, run, job_id)
    # A key cannot be scrubbed and stay a key: the job fails instead.
    job_id, = queue(fake)
    run = worker("sh", "-c", GRAB_SECRET + 'printf \'{"%s": "v"}\' "$secret" > "$JOBCREDS_RESULT_DIR/output-variables.json"',
                 once=True).start()
    assert run.wait() == 1, run.stderr
    details = results(fake)[job_id]["failureDetails"]
    assert details["type"] == "ConfigurationError" and "a key holds a value the worker keeps secret" in details["message"]
    assert_nothing_secret(fake, run, job_id)


def test_a_command_that_cannot_run_is_a_configuration_error(worker, fake):
    job_id, = queue(fake)
    run = worker("no-such-build-command", once=True).start()
    assert run.wait() == 1
    details = results(fake)[job_id]["failureDetails"]
    assert details["type"] == "ConfigurationError" and "command not found" in details["message"], details


def test_credentials_refused_to_the_worker_while_the_build_runs_are_a_permission_error(worker, fake):
    # The sidecar serves the polled job's credentials at once; their refresh (due after about 2 s
    # of a 4 s lifetime) is refused: the build that then fails was refused its credentials.
    job_id, = queue(fake)
    fake.configure(faults=[{"kind": "access_denied", "operation": "GetJobDetails", "count": 1000}])
    run = worker("sh", "-c", "sleep 3; exit 3", args=("--credential-lifetime", "4s"), once=True).start()
    assert run.wait() == 1
    details = results(fake)[job_id]["failureDetails"]
    assert details["type"] == "PermissionError" and "while the build ran" in details["message"], details
    assert "exited with status 3" in details["message"]


def test_the_polled_job_is_served_at_once_and_refreshed_credentials_are_scrubbed_too(worker, fake):
    job_id, = queue(fake, rotate=True)
    run = worker("sh", "-c", PRINT_CREDENTIALS + "; sleep 3; " + PRINT_CREDENTIALS + "; exit 5",
                 args=("--credential-lifetime", "4s"), once=True).start()
    assert run.wait() == 1
    operations = [call["operation"] for call in fake.calls()]
    # No GetJobDetails before the build: the poll's answer was enough; one (or more) to refresh.
    assert operations.index("GetJobDetails") > operations.index("AcknowledgeJob")
    events = [line["event"] if line["event"] != "upstream" else line["operation"] for line in run.audit()
              if line.get("job_id") == job_id]
    assert events.index("build_started") < events.index("GetJobDetails"), events
    message = results(fake)[job_id]["failureDetails"]["message"]
    assert message.count("(redacted)") >= 4, message  # both keys and both tokens, the second pair refreshed
    written = run.everything_written() + json.dumps(fake.control("/_control/lifecycle"))
    assert "artifact-secret-" not in written and "artifact-token-" not in written


def test_a_long_message_is_clamped_and_scrubbed(worker, fake):
    job_id, = queue(fake)
    run = worker("sh", "-c", PRINT_CREDENTIALS + "; for i in $(seq 1 400); do echo line-$i-"
                 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx; done; " + PRINT_CREDENTIALS + "; exit 9",
                 once=True).start()
    assert run.wait() == 1
    message = results(fake)[job_id]["failureDetails"]["message"]
    assert len(message) <= 5000 and message.startswith("the build exited with status 9")
    assert "(redacted)" in message  # the last lines quoted the credentials, scrubbed
    assert_nothing_secret(fake, run, job_id)


def test_a_build_past_its_timeout_is_killed_with_what_it_left_behind(worker, fake, tmp_path):
    job_id, = queue(fake)
    pids = tmp_path / "pids"
    run = worker("sh", "-c", "sleep 300 & echo $! > %s; trap '' TERM; sleep 300" % pids,
                 args=("--build-timeout", "1s"), once=True).start()
    assert run.wait(timeout=60) == 1
    details = results(fake)[job_id]["failureDetails"]
    assert details == dict(details, type="JobFailed", message="the build ran longer than 1s"), details
    assert not alive(int(pids.read_text()))
    finished = run.audit("build_finished")[0]
    assert finished["stopped"] == "timeout"


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small filesystem takes root")
def test_a_workspace_that_cannot_be_made_is_system_unavailable(worker, fake):
    job_id, = queue(fake)
    run = worker("true", once=True)
    run.work.mkdir(parents=True)
    # A filesystem with no inode left: as full as a disk can be for mkdir.
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k,nr_inodes=1,mode=0711", "tmpfs", str(run.work)],
                   check=True)
    try:
        assert run.start().wait() == 1
    finally:
        subprocess.run(["umount", "-l", str(run.work)], check=True)
    details = results(fake)[job_id]["failureDetails"]
    assert details["type"] == "SystemUnavailable" and "the workspace cannot be made" in details["message"], details
    assert "No space left on device" in details["message"]


def test_once_exits_0_for_a_success_and_1_for_a_failure(worker, fake):
    queue(fake)
    assert worker("true", once=True).start().wait() == 0
    queue(fake)
    assert worker("false", once=True).start().wait() == 1


@pytest.mark.parametrize("args,env,message", [
    (["--concurrency", "0"], {}, "--concurrency must be 1 to 256"),
    ([], {"JOBCREDS_WORKER_CONCURRENCY": "many"}, "--concurrency takes a whole number"),
    (["--build-access", "all"], {}, "--build-access takes credentials, presign or none"),
    (["--pass-env", "AWS_SECRET_ACCESS_KEY"], {}, "never reach the build"),
    (["--pass-env", "JOBCREDS_WORKER_PROVIDER"], {}, "never reach the build"),
    (["--build-uid-range", "10-20"], {}, "uids of 1000 and above"),
    (["--build-user", "no-such-user-here"], {}, "no such user"),
    (["--third-party"], {}, "--third-party and --client-tokens go together"),
    (["--poll-interval", "soon"], {}, "is not a duration"),
    (["--query", "=x"], {}, "--query takes NAME=VALUE"),
])
def test_a_bad_option_exits_64_naming_the_fix(worker, fake, args, env, message):
    run = worker("true", args=args, env=env).start()
    assert run.wait(timeout=20) == 64, run.stderr
    assert message in run.stderr, run.stderr
    assert not fake.calls()


def test_the_provider_and_the_command_are_required(jobcreds_bin, fake, tmp_path):
    from sidecar import serve_environment
    for argv, message in ((["worker", "--", "true"], "missing --provider"),
                          (["worker", "--provider", "P"], "missing COMMAND")):
        run = subprocess.run([jobcreds_bin, *argv], env=serve_environment(fake, tmp_path), capture_output=True,
                             text=True, timeout=20)
        assert run.returncode == 64 and message in run.stderr, run


# -- taking jobs ---------------------------------------------------------------------------------

def test_a_job_acknowledged_too_late_is_never_run_and_taken_again(worker, fake, tmp_path):
    # The first acknowledge hangs past the re-dispatch window: CodePipeline has handed the job
    # out again with a new nonce, so the late answer is InvalidNonceException and that take is
    # dropped; the next poll takes the job again, and it runs once.
    job_id, = queue(fake, redispatch_after=0.5)
    fake.configure(faults=[{"kind": "hang", "seconds": 1.5, "operation": "AcknowledgeJob", "count": 1}])
    ran = tmp_path / "ran"
    run = worker("sh", "-c", "echo x >> %s" % ran, once=True).start()
    assert run.wait() == 0, run.stderr
    assert ran.read_text() == "x\n"
    dropped = run.audit("job_dropped")
    assert [line["reason"] for line in dropped] == ["invalid_nonce"], dropped
    assert [event["event"] for event in reports(fake, job_id)] == ["reported"]


def test_two_workers_and_one_job_run_it_once(worker, fake, tmp_path):
    job_id, = queue(fake, redispatch_after=0.5)
    fake.configure(faults=[{"kind": "hang", "seconds": 1.5, "operation": "AcknowledgeJob", "count": 1}])
    ran = tmp_path / "ran"
    first = worker("sh", "-c", "echo a >> %s" % ran).start()
    time.sleep(0.3)  # the first has polled and hangs in its acknowledge
    second = worker("sh", "-c", "echo b >> %s" % ran).start()
    wait_reported(fake, job_id)
    time.sleep(1.5)
    assert ran.read_text() in ("a\n", "b\n")
    assert len(reports(fake, job_id)) == 1
    assert [line["reason"] for line in first.audit("job_dropped") + second.audit("job_dropped")] == ["invalid_nonce"]


def test_throttling_and_resets_after_apply_on_every_call_still_report_once(worker, fake):
    # A poll applied and its answer lost dispatches the job to nobody: it comes back after the
    # re-dispatch window (1 s here) with a new nonce.
    job_id, = queue(fake, redispatch_after=1)
    faults = []
    for operation in ("ListActionTypes", "PollForJobs", "AcknowledgeJob", "GetJobDetails", "PutJobSuccessResult"):
        faults.append({"kind": "throttle", "operation": operation, "count": 2})
        faults.append({"kind": "http503", "operation": operation, "count": 1})
        faults.append({"kind": "reset_after", "operation": operation, "count": 1})
    fake.configure(faults=faults)
    run = worker("true", once=True).start()
    assert run.wait(timeout=120) == 0, run.stderr
    assert results(fake)[job_id]["status"] == "Succeeded"
    assert len(reports(fake, job_id)) == 1
    reported = run.audit("job_reported")
    # The result's answer was lost after it was applied: the retry meets InvalidJobState, the
    # job is over, and nothing is sent again.
    assert [line["outcome"] for line in reported] == ["over"], reported


def most_at_once(lines):
    """The most builds running at once, from their `start TIME [UID]` and `end TIME [UID]` lines;
    fails if two running builds had one uid."""
    spans = sorted((float(fields[1]), fields[0], fields[2:]) for fields in (line.split() for line in lines))
    running, users, most = 0, [], 0
    for _, kind, uid in spans:
        if kind == "start":
            assert not uid or uid not in users, spans  # no two running builds on one uid
            running += 1
            users += uid
        else:
            running -= 1
            users = [held for held in users if held not in uid]
        most = max(most, running)
    return most


def test_concurrency_4_with_8_jobs_never_runs_more_than_4(worker, fake, tmp_path):
    jobs = queue(fake, 8)
    log = tmp_path / "spans"
    worker("sh", "-c", 'echo "start $(date +%%s.%%N)" >> %s; sleep 1; echo "end $(date +%%s.%%N)" >> %s'
           % (log, log), args=("--concurrency", "4")).start()
    for job_id in jobs:
        wait_reported(fake, job_id, timeout=60)
    assert most_at_once(log.read_text().splitlines()) == 4
    assert all(results(fake)[job_id]["status"] == "Succeeded" for job_id in jobs)


# -- stopping and restarting ---------------------------------------------------------------------

def test_sigterm_mid_build_lets_it_finish_then_reports_it(worker, fake, tmp_path):
    job_id, = queue(fake)
    started = tmp_path / "started"
    run = worker("sh", "-c", "touch %s; sleep 2" % started).start()
    run.wait_for(started.exists, what="the build")
    run.signal(signal.SIGTERM)
    assert run.wait(timeout=60) == 0
    assert results(fake)[job_id]["status"] == "Succeeded"


def test_sigterm_past_the_drain_timeout_stops_the_build_and_says_so(worker, fake, tmp_path):
    job_id, = queue(fake)
    started = tmp_path / "started"
    run = worker("sh", "-c", "touch %s; sleep 300" % started, args=("--drain-timeout", "1s")).start()
    run.wait_for(started.exists, what="the build")
    run.signal(signal.SIGTERM)
    assert run.wait(timeout=60) == 0
    details = results(fake)[job_id]["failureDetails"]
    assert details["type"] == "SystemUnavailable" and details["message"] == "the worker was stopped", details


def test_kill_9_mid_build_then_a_restart_reports_the_lost_build_once(worker, fake, tmp_path):
    job_id, = queue(fake)
    started = tmp_path / "started"
    first = worker("sh", "-c", "echo $$ > %s; sleep 300" % started).start()
    first.wait_for(lambda: started.exists() and started.read_text().strip(), what="the build")
    build = int(started.read_text())
    first.kill()
    restarted = worker("true", root=first.root).start()
    wait_reported(fake, job_id)
    details = results(fake)[job_id]["failureDetails"]
    assert details["type"] == "SystemUnavailable" and "restarted while the build ran" in details["message"]
    time.sleep(0.3)
    assert not alive(build)  # the lost build was killed, not left running
    assert len(reports(fake, job_id)) == 1
    restarted.stop()


def test_kill_9_after_the_build_before_the_report_then_a_restart_sends_the_result_once(worker, fake, tmp_path):
    job_id, = queue(fake)
    fake.configure(faults=[{"kind": "hang", "seconds": 20, "operation": "PutJobSuccessResult", "count": 1}])
    first = worker("sh", "-c", "echo done > \"$JOBCREDS_RESULT_DIR/summary\"").start()
    first.wait_for(lambda: first.audit("build_finished"), what="the build's end")
    time.sleep(0.5)  # in the hanging report
    first.kill()
    fake.configure(clear_faults=True)
    before = len(first.audit())
    restarted = worker("false", root=first.root).start()  # a build that would fail: never run for this job
    wait_reported(fake, job_id)
    time.sleep(0.5)
    result = results(fake)[job_id]
    assert result["status"] == "Succeeded" and result["executionDetails"]["summary"] == "done", result
    assert len(reports(fake, job_id)) == 1
    assert not [line for line in restarted.audit()[before:] if line["event"] == "build_started"]
    restarted.stop()


@pytest.mark.parametrize("reack,outcome", [("idempotent", "lost build reported"), ("strict", "dropped")])
def test_kill_9_while_the_acknowledge_is_in_flight_then_a_restart_asks_again(worker, fake, tmp_path, reack, outcome):
    # The acknowledge hangs, is applied at the fake after the worker died: the restarted worker
    # acknowledges again with the journaled nonce. InProgress: the job is its own, its build never
    # ran: SystemUnavailable, once. InvalidNonceException (a CodePipeline that refuses a second
    # acknowledge): it cannot tell, and reports nothing rather than risk another worker's job.
    job_id, = queue(fake, reack=reack)
    fake.configure(faults=[{"kind": "hang", "seconds": 1.5, "operation": "AcknowledgeJob", "count": 1}])
    ran = tmp_path / "ran"
    first = worker("sh", "-c", "touch %s" % ran).start()
    first.wait_for(lambda: "dispatched" in lifecycle(fake, job_id), what="the dispatch")
    time.sleep(0.5)
    first.kill()
    deadline = time.time() + 10
    while "acknowledged" not in lifecycle(fake, job_id) and time.time() < deadline:
        time.sleep(0.1)  # the hung acknowledge lands
    restarted = worker("sh", "-c", "touch %s" % ran, root=first.root).start()
    if outcome == "dropped":
        restarted.wait_for(lambda: restarted.audit("job_dropped"), what="the drop")
        assert restarted.audit("job_dropped")[-1]["reason"] == "invalid_nonce"
        assert not reports(fake, job_id)
    else:
        details = wait_reported(fake, job_id)[0]["failureDetails"]
        assert details["type"] == "SystemUnavailable", details
        time.sleep(0.5)
        assert len(reports(fake, job_id)) == 1
    assert not ran.exists()  # never run
    restarted.stop()
    assert CANARY not in restarted.everything_written()  # the journaled nonce is gone with its entry


def test_a_second_signal_ends_the_retries_and_the_next_start_sends_the_result(worker, fake):
    job_id, = queue(fake)
    fake.configure(faults=[{"kind": "http500", "operation": "PutJobSuccessResult", "count": 100000}])
    run = worker("true").start()
    run.wait_for(lambda: run.audit("report_retry"), what="a retried report")
    run.signal(signal.SIGTERM)
    time.sleep(0.3)
    run.signal(signal.SIGTERM)
    assert run.wait(timeout=30) == 75, run.stderr  # stopped, a result owed
    assert "the next start sends it" in run.stderr
    assert not reports(fake, job_id)
    fake.configure(clear_faults=True)
    restarted = worker("false", root=run.root).start()
    assert wait_reported(fake, job_id)[0]["outcome"] == "success"
    time.sleep(0.3)
    assert len(reports(fake, job_id)) == 1
    restarted.stop()


# -- third-party jobs ----------------------------------------------------------------------------

def test_third_party_jobs_run_with_their_client_token(worker, fake, tmp_path):
    job_id = "partner-job-" + CANARY[:6]
    token = "client-token-" + CANARY
    fake.configure(jobs={job_id: {"queued": True, "third_party": True, "client_token": token}})
    fake.configure(jobs={"partner-job-unknown": {"queued": True, "third_party": True, "client_token": "x",
                                                 "client_id": "9d5b3e8c-0000-4000-8000-000000000000"}})
    tokens = tmp_path / "client-tokens.json"
    tokens.write_text(json.dumps({"0c6f5a52-8f6b-4d4e-9a52-3f1d2c3b4a50": token}))
    tokens.chmod(0o600)
    run = worker("sh", "-c", PRINT_CREDENTIALS + "; echo '{\"A\": \"b\"}' > \"$JOBCREDS_RESULT_DIR/output-variables.json\"",
                 args=("--third-party", "--client-tokens", str(tokens))).start()
    wait_reported(fake, job_id)
    assert results(fake)[job_id]["status"] == "Succeeded"
    assert "outputVariables" not in results(fake)[job_id]
    run.wait_for(lambda: any(line["reason"] == "no_client_token" for line in run.audit("job_dropped")),
                 what="the unknown client's job dropped")
    assert "partner-job-unknown" not in results(fake)  # never acknowledged
    run.stop()
    assert "which a third-party action cannot have; they are not sent" in run.stderr  # a warning, not a silent drop
    assert token not in run.everything_written()


# -- isolation between jobs ----------------------------------------------------------------------

# Each build leaves its sidecar's URL and token file path in a shared directory; then, once its
# neighbours have too, asks every listener it finds with its own token and tries to read every
# token file, one line each in its own `.seen` file.
LEAVE_WHERE = r'''
me=$(id -u)-$CODEPIPELINE_JOB_ID
echo "$AWS_CONTAINER_CREDENTIALS_FULL_URI $AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE" > {shared}/$me.where
'''
ASK_EVERY_LISTENER = r'''
for f in {shared}/*.where; do
  set -- $(cat $f)
  rm -f {shared}/$me.body
  code=$(curl -s -o {shared}/$me.body -w '%{{http_code}}' -H "Authorization: $(cat $AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE)" "$1")
  if cat "$2" > /dev/null 2>&1; then readable=yes; else readable=no; fi
  echo "$me $(basename $f .where) $code $readable $(grep -o '"code":"[A-Za-z]*"' {shared}/$me.body)" >> {shared}/$me.seen
done
'''
# Two builds at once, each waiting for the other before it asks and before it ends.
CROSS = (LEAVE_WHERE + "while [ $(ls {shared}/*.where | wc -l) -lt 2 ]; do sleep 0.1; done\n" + ASK_EVERY_LISTENER
         + "touch {shared}/$me.done\nwhile [ $(ls {shared}/*.done | wc -l) -lt 2 ]; do sleep 0.1; done\n")
# Builds in waves: each notes when it ran and on which uid, and waits a second before it asks.
CONCURRENT = (LEAVE_WHERE + 'echo "start $(date +%s.%N) $(id -u)" >> {shared}/$me.span\nsleep 1\n' + ASK_EVERY_LISTENER
              + 'echo "end $(date +%s.%N) $(id -u)" >> {shared}/$me.span\n')


def writable_by_all():
    """A directory builds of any uid can write to (their notes to each other)."""
    directory = other_user.directory()
    directory.chmod(0o777)
    return directory


def crossings(shared):
    """(asker, listener's build, status, token file readable, error code) for every try."""
    rows = [line.split() for seen in sorted(shared.glob("*.seen")) for line in seen.read_text().splitlines()]
    return [(row[0], row[1], int(row[2]), row[3], row[4] if len(row) > 4 else None) for row in rows]


def test_a_jobs_token_is_refused_by_every_other_jobs_listener(worker, fake):
    jobs = queue(fake, 2)
    shared = writable_by_all()
    run = worker("sh", "-c", CROSS.format(shared=shared), args=("--concurrency", "2")).start()
    for job_id in jobs:
        wait_reported(fake, job_id, timeout=60)
    seen = crossings(shared)
    assert len(seen) == 4, seen
    for asker, listener, status, _, code in seen:
        if asker == listener:
            assert status == 200, seen
        else:
            assert (status, code) == (403, '"code":"InvalidToken"'), seen
    assert all(results(fake)[job_id]["status"] == "Succeeded" for job_id in jobs)
    run.stop()


@pytest.mark.skipif(os.geteuid() != 0, reason="builds of their own uids take root")
def test_with_a_uid_range_a_build_reaches_neither_another_jobs_listener_nor_its_token(worker, fake):
    jobs = queue(fake, 2)
    shared = writable_by_all()
    run = worker("sh", "-c", CROSS.format(shared=shared),
                 args=("--concurrency", "2", "--build-uid-range", "202000-202001"), root=other_user.directory()).start()
    for job_id in jobs:
        wait_reported(fake, job_id, timeout=60)
    seen = crossings(shared)
    assert len(seen) == 4, seen
    for asker, listener, status, readable, code in seen:
        if asker == listener:
            assert (status, readable) == (200, "yes"), seen
        else:
            assert (status, readable, code) == (403, "no", '"code":"ClientNotAllowed"'), seen
    refused = [line for line in run.audit("request") if line.get("reason") == "ClientNotAllowed"]
    assert len(refused) == 2 and {line["client_uid"] for line in refused} == {202000, 202001}, refused
    run.stop()


@pytest.mark.skipif(os.geteuid() != 0, reason="builds of their own uids take root")
def test_concurrency_4_with_8_jobs_each_on_its_own_uid_and_listener_refusing_the_others(worker, fake):
    jobs = queue(fake, 8)
    shared = writable_by_all()
    run = worker("sh", "-c", CONCURRENT.format(shared=shared),
                 args=("--concurrency", "4", "--build-uid-range", "201000-201003"), root=other_user.directory()).start()
    for job_id in jobs:
        wait_reported(fake, job_id, timeout=90)
    assert most_at_once([line for log in shared.glob("*.span") for line in log.read_text().splitlines()]) == 4
    assert {line["uid"] for line in run.audit("build_started")} == {201000, 201001, 201002, 201003}
    seen = crossings(shared)
    mine = [row for row in seen if row[0] == row[1]]
    others = [row for row in seen if row[0] != row[1]]
    assert len(mine) == 8 and all(row[2:4] == (200, "yes") for row in mine), mine
    # Another job's listener: refused for the user, or already gone with its job; never served.
    assert all(row[3] == "no" and (row[2], row[4]) in ((403, '"code":"ClientNotAllowed"'), (0, None))
               for row in others), others
    assert sum(1 for row in others if row[2] == 403) >= 6, others
    assert all(results(fake)[job_id]["status"] == "Succeeded" for job_id in jobs)


# -- observability -------------------------------------------------------------------------------

def scrape(port, path):
    import urllib.error
    import urllib.request
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=5) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_metrics_health_and_readiness_say_what_the_worker_does_and_nothing_secret(worker, fake):
    job_id, = queue(fake)
    run = worker("sh", "-c", PRINT_CREDENTIALS + "; exit 4", args=("--metrics-listen", "127.0.0.1:0")).start()
    run.wait_for(lambda: run.audit("listening"), what="the metrics listener")
    port = int(run.audit("listening")[0]["metrics_address"].rsplit(":", 1)[1])
    wait_reported(fake, job_id)
    run.wait_for(lambda: 'jobcreds_worker_jobs_total{outcome="failed",failure_type="JobFailed"} 1' in
                 scrape(port, "/metrics")[1], what="the job counted")
    status, text = scrape(port, "/metrics")
    assert status == 200 and "jobcreds_worker_builds_running 0" in text and "jobcreds_worker_slots 1" in text
    assert 'jobcreds_worker_polls_total{result="jobs"} 1' in text
    assert scrape(port, "/healthz")[0] == 200 and scrape(port, "/readyz")[0] == 200
    assert scrape(port, "/v1/credentials")[0] == 404
    for secret in [CANARY, fake.worker["secret"], job_id] + artifact_secrets(fake, job_id):
        assert secret not in text
    run.stop()
