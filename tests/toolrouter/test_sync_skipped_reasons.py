"""An attempt a contextual router cannot learn from is skipped with a warning that says why: one
recorded by a router whose policy takes no context has none (the warning said its context did not
match ``context_dim``, as for one of another size, and sent the reader looking for a wrong
dimension where there was no context at all)."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import structlog

from toolrouter import ExecutionResult, ToolMetaLearner, ToolProfile
from toolrouter.store import AttemptRecord, open_store

TOOLS = [ToolProfile(tool_id="web", capabilities=["search"])]


@pytest.fixture
def warnings_logged(caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.WARNING, logger="toolrouter")
    yield caplog
    structlog.reset_defaults()
    logging.getLogger("toolrouter").setLevel(logging.NOTSET)


def skipped(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [rec.fields["reason"] for rec in caplog.records if rec.getMessage().startswith("sync_skipped")]


def test_an_attempt_without_a_context_is_skipped_as_one_without_a_context(warnings_logged) -> None:
    store = open_store("memory://")
    plain = ToolMetaLearner(TOOLS, store=store, seed=0)  # the store's first router: no context
    plain.record_attempt(ExecutionResult(tool_id="web", step="search", success=True), capability="search")
    ToolMetaLearner(TOOLS, policy="lin_ts", context_dim=4, store=store, seed=0)
    assert skipped(warnings_logged) == ["no context: recorded by a router whose policy takes none"]


def test_a_context_of_another_size_is_skipped_as_one(warnings_logged) -> None:
    store = open_store("memory://")
    store.append([AttemptRecord(
        task_id="t", task_type="default", step="search", capability="search", tool_id="web", success=True,
        quality=1.0, cost=0.0, latency_s=0.0, utility=1.0, context=np.ones(3),
    )])
    ToolMetaLearner(TOOLS, policy="lin_ts", context_dim=4, store=store, seed=0)
    assert skipped(warnings_logged) == ["context does not match context_dim"]
