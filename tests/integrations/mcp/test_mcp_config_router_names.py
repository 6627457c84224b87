"""The router's snapshot name and task type in a gateway config are checked as the file is read,
the error naming the file and the field: a blank one passed, and failed only when the gateway
built its router, naming neither (``snapshot_name must be a non-empty string``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from integrations.mcp import load_config
from mcp_harness import config_error


@pytest.mark.parametrize(
    ("router", "message"),
    [
        ({"snapshot": ""}, "router.snapshot: snapshot_name must be a non-empty string"),
        ({"snapshot": "learner.reward_model"}, "router.snapshot: snapshot_name: 'learner.reward_model' names the reward model"),
        ({"task_type": "   "}, "router.task_type: task_type must be a non-empty string"),
        ({"task_type": "a\x00b"}, "router.task_type: task_type must be text a store can keep (no NUL character)"),
    ],
)
def test_a_name_the_router_refuses_is_a_config_error_naming_the_file_and_field(
    tmp_path: Path, router: dict[str, str], message: str
) -> None:
    path, error = config_error(tmp_path, {"mcpServers": {"a": {"command": "x"}}, "router": router})
    assert error.startswith(f"{path}: {message}")


def test_names_the_router_takes_are_kept_as_written(tmp_path: Path) -> None:
    path = tmp_path / "gateway.json"
    path.write_text(json.dumps({"mcpServers": {"a": {"command": "x"}}, "router": {"snapshot": "gw-1", "task_type": "mcp.prod"}}))
    router = load_config(path).router
    assert (router.snapshot, router.task_type) == ("gw-1", "mcp.prod")
