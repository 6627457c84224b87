"""Where a sync tool runs with ``ExecutorConfig(timeout_s=None)``, as its docs now say: in the
calling thread for a synchronous call without a deadline; in a worker for a call with a
``deadline_s`` (which a worker lets it keep) and for an async call."""

from __future__ import annotations

import asyncio
import threading

import pytest

from toolrouter import AllToolsFailedError, ExecutorConfig, ToolMiddleware


def test_a_sync_tool_without_a_timeout_runs_inline_only_where_nothing_bounds_its_call() -> None:
    tools = ToolMiddleware(seed=0, config=ExecutorConfig(timeout_s=None, circuit_breaker=None))
    tools.register(threading.get_ident, "where", tool_id="where")
    here = threading.get_ident()
    assert tools.call("where") == here
    assert tools.route("where", deadline_s=60).run().value != here
    assert asyncio.run(tools.acall("where")) != here
    release = threading.Event()
    tools.register(release.wait, "hang", tool_id="hang")
    try:  # the deadline holds: the call stops waiting for a tool nothing could stop inline
        with pytest.raises(AllToolsFailedError, match="deadline"):
            tools.route("hang", deadline_s=0.05).run()
    finally:
        release.set()
