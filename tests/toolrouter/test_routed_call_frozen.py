"""A routed call's options are checked by ``route``; none can be set afterwards past the checks."""

import dataclasses

import pytest

from toolrouter import RoutedCall, ToolMiddleware
from toolrouter.executor import ExecutorConfig


def search(q: str) -> str:
    return q


def test_options_cannot_be_set_after_route() -> None:
    tools = ToolMiddleware(seed=0)
    tools.register(search, "search", inline=True)
    routed = tools.route("search", max_attempts=1)
    for field, value in [("config", ExecutorConfig.model_construct(timeout_s=-1.0)), ("max_attempts", 0), ("features", [True])]:
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(routed, field, value)
    assert routed.max_attempts == 1 and routed.config is tools._config
    assert routed("q") == "q"


def test_route_sets_every_field() -> None:
    tools = ToolMiddleware(seed=0)
    routed = tools.route("search", task_type="t", timeout_s=2.0)
    assert set(vars(routed)) == {f.name for f in dataclasses.fields(RoutedCall)}
    assert (routed.capability, routed.task_type, routed.timeout_s, routed.middleware) == ("search", "t", 2.0, tools)
