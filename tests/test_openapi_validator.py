"""The OpenAPI validator must be able to fail, and must accept what the Hub really sends.

Why: every acceptance test trusts ``tests/openapi.py`` to flag a wrong response body. A validator that
passes everything (a template that never matches, a ``$ref`` that resolves to ``{}``) would make those
tests vacuous, so this file shows it rejects missing fields, wrong types and ``+00:00`` timestamps, and
accepts the documented examples: the document's own (the 2026-08-17 snapshot has none) and the wire
protocol's (§2.2, §5.1, §5.3, §5.5), adapted only where the wire doc abbreviates with ``…``.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from tests import openapi

OWNER_ID = "5e9ecfc04957053f60648a3e"
AVATAR = "https://cdn-avatars.huggingface.co/v1/production/uploads/alice.png"

# wire-protocol.md §5.1 (owner/initiator avatarUrl filled in).
JOB_INFO: dict[str, Any] = {
    "id": "687fb701029421ae5549d998",
    "type": "job",
    "createdAt": "2025-07-22T16:06:25.079Z",
    "startedAt": "2025-07-22T16:06:31.079Z",
    "dockerImage": "python:3.12",
    "command": ["python", "-c", "print('hi')"],
    "arguments": [],
    "environment": {},
    "secrets": ["HF_TOKEN"],
    "flavor": "cpu-basic",
    "labels": {"name": "python-3-12-3212e188"},
    "status": {"stage": "RUNNING", "message": None},
    "durations": {"schedulingSecs": 6, "runningSecs": 2, "totalSecs": 8},
    "owner": {"id": OWNER_ID, "name": "lhoestq", "type": "user", "avatarUrl": AVATAR},
    "createdBy": {"id": OWNER_ID, "name": "lhoestq"},
    "initiator": {"type": "user", "id": OWNER_ID, "name": "lhoestq", "avatarUrl": AVATAR},
}

# wire-protocol.md §5.3 (ids and avatarUrl filled in).
SCHEDULED_JOB_INFO: dict[str, Any] = {
    "id": "68a0c0ffee0123456789abcd",
    "type": "scheduled-job",
    "createdAt": "2025-07-22T16:06:25.079Z",
    "schedule": "@hourly",
    "suspend": False,
    "concurrency": False,
    "status": {
        "lastJob": {"id": "687fb701029421ae5549d998", "at": "2025-07-22T16:06:25.079Z"},
        "nextJobRunAt": "2025-07-22T17:00:00.000Z",
    },
    "owner": {"id": OWNER_ID, "name": "alice", "type": "user", "avatarUrl": AVATAR},
    "jobSpec": {
        "dockerImage": "python:3.12",
        "command": ["echo", "hi"],
        "arguments": [],
        "environment": {},
        "secrets": [],
        "flavor": "cpu-basic",
        "timeout": 300,
        "labels": {"name": "x"},
    },
}

# wire-protocol.md §5.5, the client docstring's example.
HARDWARE = [
    {
        "name": "cpu-basic",
        "prettyName": "CPU Basic",
        "cpu": "2 vCPU",
        "ram": "16 GB",
        "ephemeralStorage": "20 GB",
        "accelerator": None,
        "unitCostMicroUSD": 167,
        "unitCostUSD": 0.000167,
        "unitLabel": "minute",
    }
]

# wire-protocol.md §2.2 (org id filled in).
WHOAMI = {
    "type": "user",
    "id": OWNER_ID,
    "name": "alice",
    "fullname": "Alice",
    "email": "a@x.io",
    "emailVerified": True,
    "isPro": True,
    "canPay": True,
    "avatarUrl": AVATAR,
    "periodEnd": None,
    "orgs": [
        {
            "type": "org",
            "id": "5e9ecfc04957053f60648a3f",
            "name": "myorg",
            "fullname": "My Org",
            "avatarUrl": AVATAR,
            "roleInOrg": "admin",
        }
    ],
    "auth": {
        "type": "access_token",
        "accessToken": {"displayName": "my-token", "role": "write", "createdAt": "2025-01-01T00:00:00.000Z"},
    },
}

TRIGGER_CONFLICT = {
    "error": "Another job is already running at the same time, set `concurrency` to allow multiple instances "
    "of scheduled jobs to run concurrently"
}


def _mismatch(method: str, path: str, status: int, body: Any) -> str:
    with pytest.raises(openapi.OpenAPIMismatch) as info:
        openapi.validate_response(method, path, status, body)
    return str(info.value)


# --- path matching -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "template"),
    [
        ("GET", "/api/jobs/hardware", "/api/jobs/hardware"),
        ("GET", "/api/jobs/alice", "/api/jobs/{namespace}"),
        ("GET", "/api/jobs/alice?stage=RUNNING&label=a%3Db", "/api/jobs/{namespace}"),
        ("GET", "http://127.0.0.1:8765/api/jobs/alice/count", "/api/jobs/{namespace}/count"),
        ("GET", "/api/jobs/alice/687fb701029421ae5549d998", "/api/jobs/{namespace}/{jobId}"),
        ("POST", "/api/jobs/alice/687fb701029421ae5549d998/cancel", "/api/jobs/{namespace}/{jobId}/cancel"),
        ("POST", "/api/scheduled-jobs/alice/abc/run", "/api/scheduled-jobs/{namespace}/{jobId}/run"),
        ("DELETE", "/api/scheduled-jobs/alice/abc", "/api/scheduled-jobs/{namespace}/{jobId}"),
        ("GET", "/api/whoami-v2", "/api/whoami-v2"),
        ("GET", "/api/jobs/{namespace}/{jobId}", "/api/jobs/{namespace}/{jobId}"),  # a template names itself
        ("PUT", "/api/scheduled-jobs/{namespace}/{jobId}/labels", "/api/scheduled-jobs/{namespace}/{jobId}/labels"),
    ],
)
def test_concrete_paths_find_their_operation(method: str, path: str, template: str) -> None:
    assert openapi.find_operation(method, path).template == template


def test_unknown_operation_is_reported() -> None:
    with pytest.raises(openapi.UnknownOperation, match="no operation"):
        openapi.find_operation("DELETE", "/api/jobs/alice/abc")
    with pytest.raises(openapi.UnknownOperation):
        openapi.find_operation("GET", "/api/agent-harnesses")


# --- accepts what the Hub sends ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "status", "body"),
    [
        ("GET", "/api/jobs/alice/687fb701029421ae5549d998", 200, JOB_INFO),
        ("POST", "/api/jobs/alice", 200, JOB_INFO),
        ("GET", "/api/jobs/alice", 200, [JOB_INFO, JOB_INFO]),
        ("GET", "/api/jobs/alice", 200, []),
        ("GET", "/api/scheduled-jobs/alice/68a0c0ffee0123456789abcd", 200, SCHEDULED_JOB_INFO),
        ("GET", "/api/scheduled-jobs/alice", 200, [SCHEDULED_JOB_INFO]),
        ("GET", "/api/jobs/hardware", 200, HARDWARE),
        ("GET", "/api/whoami-v2", 200, WHOAMI),
        ("POST", "/api/scheduled-jobs/alice/68a0c0ffee0123456789abcd/run", 409, TRIGGER_CONFLICT),
        ("GET", "/api/jobs/alice/count", 200, {"count": 3}),
    ],
    ids=["job", "created", "list", "empty-list", "scheduled", "scheduled-list", "hardware", "whoami", "409", "count"],
)
def test_documented_examples_validate(method: str, path: str, status: int, body: Any) -> None:
    openapi.validate_response(method, path, status, body)


def test_job_with_every_initiator_and_finished_fields_validates() -> None:
    for initiator in ({"type": "scheduled-job", "id": "s1"}, {"type": "duplicated-job", "id": "j0"}):
        body = copy.deepcopy(JOB_INFO) | {"initiator": initiator, "finishedAt": "2025-07-22T16:07:00Z"}
        body["status"] = {"stage": "ERROR", "message": "Job failed with exit code: 1"}
        openapi.validate_response("GET", "/api/jobs/alice/x", 200, body)


def test_bodies_the_client_ignores_are_not_checked() -> None:
    # DELETE/suspend/resume declare no body (wire §1: only the status counts).
    openapi.validate_response("DELETE", "/api/scheduled-jobs/alice/s1", 200, None)
    openapi.validate_response("POST", "/api/scheduled-jobs/alice/s1/suspend", 200, {"anything": 1})


# --- rejects what the Hub would not send --------------------------------------------------------------------


def test_missing_required_field_is_caught() -> None:
    body = copy.deepcopy(JOB_INFO)
    del body["owner"]
    message = _mismatch("GET", "/api/jobs/alice/x", 200, body)
    assert "'owner' is a required property" in message
    assert "GET /api/jobs/alice/x -> 200" in message


def test_wrong_type_is_caught_with_its_location() -> None:
    body = copy.deepcopy(JOB_INFO)
    body["command"] = "python -c 1"
    body["secrets"] = {"HF_TOKEN": None}  # the old docs' shape; the OAS says an array of names
    message = _mismatch("POST", "/api/jobs/alice", 200, body)
    assert "body['command']" in message
    assert "body['secrets']" in message


def test_snake_case_and_unknown_keys_are_caught() -> None:
    body = copy.deepcopy(JOB_INFO) | {"created_at": JOB_INFO["createdAt"]}
    assert "Additional properties" in _mismatch("GET", "/api/jobs/alice/x", 200, body)


def test_offset_timestamp_is_caught() -> None:
    body = copy.deepcopy(JOB_INFO) | {"createdAt": "2025-07-22T16:06:25.079+00:00"}
    assert "body['createdAt']" in _mismatch("GET", "/api/jobs/alice/x", 200, body)


def test_bad_owner_id_and_stage_are_caught() -> None:
    body = copy.deepcopy(JOB_INFO)
    body["owner"]["id"] = "alice"
    body["status"]["stage"] = "CANCELLED"  # two Ls: not a Hub stage
    message = _mismatch("GET", "/api/jobs/alice/x", 200, body)
    assert "body['owner']['id']" in message
    assert "body['status']['stage']" in message


def test_list_items_are_each_checked() -> None:
    bad = copy.deepcopy(JOB_INFO)
    del bad["status"]
    assert "body[1]" in _mismatch("GET", "/api/jobs/alice", 200, [JOB_INFO, bad])


def test_scheduled_job_spec_with_timeout_seconds_is_caught() -> None:
    # wire §5.3: the scheduled jobSpec is echoed with `timeout`, not `timeoutSeconds`.
    body = copy.deepcopy(SCHEDULED_JOB_INFO)
    body["jobSpec"]["timeoutSeconds"] = body["jobSpec"].pop("timeout")
    assert "timeoutSeconds" in _mismatch("GET", "/api/scheduled-jobs/alice/s", 200, body)


def test_anyof_failures_say_why() -> None:
    body = copy.deepcopy(SCHEDULED_JOB_INFO)
    body["status"]["lastJob"] = {"id": "x"}
    message = _mismatch("GET", "/api/scheduled-jobs/alice/s", 200, body)
    assert "closest alternative" in message
    assert "'at' is a required property" in message


def test_wrong_409_message_is_caught() -> None:
    assert "body['error']" in _mismatch("POST", "/api/scheduled-jobs/alice/s/run", 409, {"error": "busy"})


def test_undeclared_success_status_is_caught() -> None:
    assert "status 201 is not declared" in _mismatch("POST", "/api/jobs/alice", 201, JOB_INFO)


def test_error_bodies_follow_the_project_convention() -> None:
    openapi.validate_response("GET", "/api/jobs/alice/x", 404, {"error": "Job not found"})
    openapi.validate_response("POST", "/api/jobs/alice", 400, {"error": "flavor: required"})
    assert "convention" in _mismatch("GET", "/api/jobs/alice/x", 401, {"detail": "Unauthorized"})


def test_nullable_is_rewritten_for_oas_30_documents() -> None:
    schema = {"type": "string", "nullable": True, "properties": {"x": {"enum": ["a"], "nullable": True}}}
    assert openapi._rewrite_nullable(schema) == {"type": ["string", "null"], "properties": {"x": {"enum": ["a", None]}}}


def test_vendored_copy_is_the_shared_snapshot() -> None:
    # The copy must stay byte-for-byte what the shared folder holds, when that folder exists.
    shared = openapi.OAS_FILE.parents[3] / "shared" / "hf-api" / "openapi-jobs.json"
    if not shared.exists():
        pytest.skip("shared/hf-api is not beside this clone")
    assert json.loads(shared.read_text(encoding="utf-8")) == json.loads(openapi.OAS_FILE.read_text(encoding="utf-8"))
