"""A ``RetryPolicy`` made with ``model_copy(update=...)`` holds the update unchecked. Given to
``route(retry=...)``, or inside a config given as a mapping, it was taken as it was:
``max_retries=-1`` tried no tool at all (the call failed with "no tool could be tried"), and
``max_retries=1000`` went past the policy's bound of 20. Each is now checked as one given as a
mapping, naming the field."""

from __future__ import annotations

import pytest

from toolrouter import RetryPolicy, ToolMiddleware
from toolrouter.executor import PlanExecutor

BAD = [({"max_retries": -1}, "max_retries"), ({"max_retries": 1000}, "max_retries"), ({"delay": 1.0}, "delay")]


@pytest.mark.parametrize("update, name", BAD)
def test_route_refuses_a_copied_retry_with_a_bad_update(update: dict, name: str) -> None:
    with ToolMiddleware(seed=0) as tools:
        with pytest.raises(ValueError, match=rf"^retry\.{name}: "):
            tools.route("search", retry=RetryPolicy().model_copy(update=update))


@pytest.mark.parametrize("update, name", BAD)
def test_a_config_mapping_refuses_a_copied_retry_with_a_bad_update(update: dict, name: str) -> None:
    config = {"retry": RetryPolicy().model_copy(update=update)}
    with pytest.raises(ValueError, match=rf"^config\.retry\.{name}: "):
        ToolMiddleware(seed=0, config=config)
    with pytest.raises(ValueError, match=rf"^config\.retry\.{name}: "):
        PlanExecutor({"a": lambda request: "done"}, config)


def test_a_sound_retry_is_kept() -> None:
    with ToolMiddleware(seed=0) as tools:
        tools.register(lambda query: "ok", "search", tool_id="web")
        routed = tools.route("search", retry=RetryPolicy().model_copy(update={"max_retries": 2}))
        assert routed.config.retry == RetryPolicy(max_retries=2) and routed("q") == "ok"
