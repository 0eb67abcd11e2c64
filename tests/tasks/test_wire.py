"""The extension's wire names and shapes, as the spec text spells them."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from asyncmcp_cli.tasks import wire

pytestmark = pytest.mark.timeout(10)


def test_the_capability_is_read_only_from_its_exact_place_in_meta() -> None:
    declared = {"_meta": wire.with_tasks_capability({"other": 1})}
    assert wire.declares_tasks(declared)
    assert declared["_meta"]["other"] == 1
    for odd in (
        None,
        [],
        {"_meta": None},
        {"_meta": {wire.CLIENT_CAPABILITIES_META_KEY: []}},
        {"_meta": {wire.CLIENT_CAPABILITIES_META_KEY: {"extensions": {wire.TASKS_EXTENSION_ID: True}}}},
        {"_meta": {wire.CLIENT_CAPABILITIES_META_KEY: {"extensions": ["io.modelcontextprotocol/tasks"]}}},
        {"_meta": {"io.modelcontextprotocol/tasks": {}}},
    ):
        assert not wire.declares_tasks(odd)  # type: ignore[arg-type]


def test_create_and_get_results_carry_their_result_types_and_a_null_ttl() -> None:
    created = wire.CreateTaskResult(
        task_id="t",
        status="working",
        created_at="2026-01-01T00:00:00Z",
        last_updated_at="2026-01-01T00:00:00Z",
        ttl_ms=None,
    ).to_wire()
    assert created["resultType"] == "task" and created["ttlMs"] is None and created["taskId"] == "t"
    assert wire.is_create_task_result(created)
    got = wire.GetTaskResult.model_validate(created | {"resultType": "complete", "status": "completed", "result": {}})
    assert got.to_wire()["resultType"] == "complete"
    assert not wire.is_create_task_result(got.to_wire())


def test_task_id_params_refuse_odd_ids() -> None:
    for odd in ("", "x" * (wire.MAX_TASK_ID_LENGTH + 1), 5, None):
        with pytest.raises(ValidationError):
            wire.TaskIdParams.model_validate({"taskId": odd})
    with pytest.raises(ValidationError):
        wire.UpdateTaskParams.model_validate({"taskId": "t", "inputResponses": []})


def test_the_missing_capability_error_names_the_extension() -> None:
    error = wire.missing_capability_error()
    assert error["code"] == -32021
    assert error["data"] == {"requiredCapabilities": {"extensions": {"io.modelcontextprotocol/tasks": {}}}}
