"""The fake CodePipeline's job lifecycle, driven by boto3 (the real SDK parses every answer): the
worker tests can trust it only if it refuses what CodePipeline refuses and hands out what it does."""
import time
import uuid

import boto3
import botocore.config
import pytest
from botocore.exceptions import ClientError

from conftest import CANARY
from worker import queue

TYPE = {"category": "Build", "owner": "Custom", "provider": "JobCredsTest", "version": "1"}
THIRD = dict(TYPE, owner="ThirdParty")


@pytest.fixture
def codepipeline(fake):
    def client(validate=True):
        return boto3.client(
            "codepipeline", region_name="us-east-1", endpoint_url=fake.https, verify=fake.ca_bundle,
            aws_access_key_id=fake.worker["id"], aws_secret_access_key=fake.worker["secret"],
            config=botocore.config.Config(parameter_validation=validate, retries={"mode": "standard"}))
    return client


def code(error):
    return error.value.response["Error"]["Code"]


def history(fake, job_id):
    return [event["event"] for event in fake.control("/_control/lifecycle")[job_id]["history"]]


def test_a_job_is_dispatched_once_taken_once_and_reported_once(fake, codepipeline):
    client = codepipeline()
    job_id, = queue(fake)
    jobs = client.poll_for_jobs(actionTypeId=TYPE, maxBatchSize=5)["jobs"]
    assert [job["id"] for job in jobs] == [job_id]
    assert CANARY in jobs[0]["nonce"] and jobs[0]["data"]["artifactCredentials"]["secretAccessKey"]
    assert client.poll_for_jobs(actionTypeId=TYPE, maxBatchSize=5)["jobs"] == []  # reserved while dispatched
    assert client.acknowledge_job(jobId=job_id, nonce=jobs[0]["nonce"])["status"] == "InProgress"
    # An acknowledge whose answer was lost, sent again with the same nonce: the job is ours.
    assert client.acknowledge_job(jobId=job_id, nonce=jobs[0]["nonce"])["status"] == "InProgress"
    client.put_job_success_result(jobId=job_id, executionDetails={"summary": "ok", "percentComplete": 100},
                                  outputVariables={"TAG": "v1"})
    with pytest.raises(ClientError) as again:
        client.put_job_failure_result(jobId=job_id, failureDetails={"type": "JobFailed", "message": "late"})
    assert code(again) == "InvalidJobStateException"
    assert history(fake, job_id) == ["created", "dispatched", "acknowledged", "reacknowledged", "reported",
                                    "result_refused"]
    assert fake.control("/_control/results")[job_id]["outputVariables"] == {"TAG": "v1"}


def test_a_dispatch_not_acknowledged_in_time_goes_to_the_next_poll_with_a_new_nonce(fake, codepipeline):
    client = codepipeline()
    job_id, = queue(fake, redispatch_after=0.3)
    first = client.poll_for_jobs(actionTypeId=TYPE, maxBatchSize=1)["jobs"][0]["nonce"]
    time.sleep(0.5)
    second = client.poll_for_jobs(actionTypeId=TYPE, maxBatchSize=1)["jobs"][0]["nonce"]
    assert second != first
    with pytest.raises(ClientError) as late:
        client.acknowledge_job(jobId=job_id, nonce=first)
    assert code(late) == "InvalidNonceException"
    assert client.acknowledge_job(jobId=job_id, nonce=second)["status"] == "InProgress"


def test_strict_mode_refuses_a_second_acknowledge(fake, codepipeline):
    client = codepipeline()
    job_id, = queue(fake, reack="strict")
    nonce = client.poll_for_jobs(actionTypeId=TYPE, maxBatchSize=1)["jobs"][0]["nonce"]
    assert client.acknowledge_job(jobId=job_id, nonce=nonce)["status"] == "InProgress"
    with pytest.raises(ClientError) as again:
        client.acknowledge_job(jobId=job_id, nonce=nonce)
    assert code(again) == "InvalidNonceException"


def test_a_job_past_its_action_timeout_takes_no_result(fake, codepipeline):
    client = codepipeline()
    job_id, = queue(fake, action_timeout=0.3)
    nonce = client.poll_for_jobs(actionTypeId=TYPE, maxBatchSize=1)["jobs"][0]["nonce"]
    assert client.acknowledge_job(jobId=job_id, nonce=nonce)["status"] == "InProgress"
    time.sleep(0.5)
    assert client.acknowledge_job(jobId=job_id, nonce=nonce)["status"] == "TimedOut"
    with pytest.raises(ClientError) as late:
        client.put_job_success_result(jobId=job_id)
    assert code(late) == "InvalidJobStateException"


def test_query_params_pick_the_jobs_whose_configuration_matches(fake, codepipeline):
    client = codepipeline()
    mine, = queue(fake, query={"ProjectName": "mine"})
    queue(fake, query={"ProjectName": "theirs"})
    jobs = client.poll_for_jobs(actionTypeId=TYPE, maxBatchSize=5, queryParam={"ProjectName": "mine"})["jobs"]
    assert [job["id"] for job in jobs] == [mine]


@pytest.mark.parametrize("operation,request_,message", [
    ("poll_for_jobs", {"actionTypeId": TYPE, "maxBatchSize": 0}, "greater than or equal to 1"),
    ("poll_for_jobs", {"actionTypeId": TYPE, "queryParam": {"a": "b", "c": "d"}}, "less than or equal to 1"),
    ("poll_for_jobs", {"actionTypeId": dict(TYPE, category="Nope")}, "enum value set"),
    ("acknowledge_job", {"jobId": "not-a-uuid", "nonce": "n"}, "regular expression pattern"),
    ("acknowledge_job", {"jobId": str(uuid.uuid4()), "nonce": "n" * 51}, "less than or equal to 50"),
    ("put_job_failure_result", {"jobId": str(uuid.uuid4()), "failureDetails": {"type": "Bad", "message": "m"}},
     "enum value set"),
    ("put_job_failure_result", {"jobId": str(uuid.uuid4()), "failureDetails": {"type": "JobFailed", "message": ""}},
     "greater than or equal to 1"),
    ("put_job_failure_result", {"jobId": str(uuid.uuid4()),
                                "failureDetails": {"type": "JobFailed", "message": "m" * 5001}}, "less than or equal to 5000"),
    ("put_job_success_result", {"jobId": str(uuid.uuid4()), "executionDetails": {"summary": "s" * 2049}},
     "less than or equal to 2048"),
    ("put_job_success_result", {"jobId": str(uuid.uuid4()), "executionDetails": {"percentComplete": 101}},
     "less than or equal to 100"),
    ("put_job_success_result", {"jobId": str(uuid.uuid4()), "outputVariables": {"bad key": "v"}},
     "regular expression pattern"),
    ("put_job_success_result", {"jobId": str(uuid.uuid4())}, None),  # valid: JobNotFoundException instead
])
def test_requests_the_model_forbids_are_validation_errors(fake, codepipeline, operation, request_, message):
    with pytest.raises(ClientError) as refused:
        getattr(codepipeline(validate=False), operation)(**request_)
    if message is None:
        assert code(refused) == "JobNotFoundException"
    else:
        assert code(refused) == "ValidationException" and message in str(refused.value), refused.value


def test_output_variables_over_the_quota_are_refused(fake, codepipeline):
    client = codepipeline()
    job_id, = queue(fake)
    nonce = client.poll_for_jobs(actionTypeId=TYPE, maxBatchSize=1)["jobs"][0]["nonce"]
    client.acknowledge_job(jobId=job_id, nonce=nonce)
    with pytest.raises(ClientError) as big:
        client.put_job_success_result(jobId=job_id, outputVariables={"V%d" % i: "x" * 1000 for i in range(130)})
    assert code(big) == "OutputVariablesSizeExceededException"
    client.put_job_success_result(jobId=job_id, outputVariables={"V": "x" * 1000})


def test_a_result_applied_then_reset_is_retried_into_invalid_job_state(fake, codepipeline):
    client = codepipeline()
    job_id, = queue(fake)
    nonce = client.poll_for_jobs(actionTypeId=TYPE, maxBatchSize=1)["jobs"][0]["nonce"]
    client.acknowledge_job(jobId=job_id, nonce=nonce)
    fake.configure(faults=[{"kind": "reset_after", "operation": "PutJobSuccessResult", "count": 1}])
    with pytest.raises(ClientError) as retried:  # boto3 retries the reset; the job had already succeeded
        client.put_job_success_result(jobId=job_id)
    assert code(retried) == "InvalidJobStateException"
    assert fake.control("/_control/results")[job_id]["status"] == "Succeeded"


def test_third_party_jobs_come_with_their_nonce_only_to_their_client_token(fake, codepipeline):
    client = codepipeline()
    job_id = "partner-" + uuid.uuid4().hex
    fake.configure(jobs={job_id: {"queued": True, "third_party": True, "client_token": "client-token-" + CANARY}})
    listed = client.poll_for_third_party_jobs(actionTypeId=THIRD, maxBatchSize=5)["jobs"]
    assert [job["jobId"] for job in listed] == [job_id] and set(listed[0]) == {"clientId", "jobId"}
    with pytest.raises(ClientError) as wrong:
        client.get_third_party_job_details(jobId=job_id, clientToken="wrong")
    assert code(wrong) == "InvalidClientTokenException"
    details = client.get_third_party_job_details(jobId=job_id, clientToken="client-token-" + CANARY)["jobDetails"]
    ack = client.acknowledge_third_party_job(jobId=job_id, nonce=details["nonce"], clientToken="client-token-" + CANARY)
    assert ack["status"] == "InProgress"
    client.put_third_party_job_failure_result(jobId=job_id, clientToken="client-token-" + CANARY,
                                              failureDetails={"type": "JobFailed", "message": "m"})
    assert fake.control("/_control/results")[job_id]["status"] == "Failed"
