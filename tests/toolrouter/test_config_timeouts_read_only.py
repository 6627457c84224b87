"""A config's per-tool timeouts cannot be changed in place: ``MIDDLEWARE_CONFIG`` is one frozen
config shared by every middleware built with the defaults, and its plain dict, changed by one
caller, changed the timeouts of all of them."""

from __future__ import annotations

import copy
import pickle

import pytest

from toolrouter.executor import ExecutorConfig
from toolrouter.middleware import MIDDLEWARE_CONFIG, ToolMiddleware


def test_the_defaults_timeouts_are_read_only_and_stay_as_they_were() -> None:
    for change in (
        lambda t: t.__setitem__("search", 0.001),
        lambda t: t.update(search=0.001),
        lambda t: t.setdefault("search", 0.001),
    ):
        with pytest.raises(TypeError, match="tool_timeouts_s is read-only"):
            change(MIDDLEWARE_CONFIG.tool_timeouts_s)
    assert MIDDLEWARE_CONFIG.tool_timeouts_s == {}
    with ToolMiddleware(seed=0) as tools:
        assert tools.config.timeout_for("search") == 30.0


def test_timeouts_read_copy_and_pickle_as_a_dict() -> None:
    config = ExecutorConfig(tool_timeouts_s={"search": 2})
    assert config.timeout_for("search") == 2.0 and config.timeout_for("llm") == 30.0
    assert config.model_dump()["tool_timeouts_s"] == {"search": 2.0}
    for again in (pickle.loads(pickle.dumps(config)), copy.deepcopy(config), ExecutorConfig.model_validate(config.model_dump())):
        assert again == config
        with pytest.raises(TypeError, match="read-only"):
            again.tool_timeouts_s["search"] = 1.0
