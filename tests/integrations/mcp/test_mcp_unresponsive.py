"""A server that is alive but does not answer (stopped, wedged) is noticed after a call times
out: the gateway pings it, and one that does not answer that either is taken as lost and
connected again, so the calls after it fail at once instead of each waiting out its timeout."""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path

import anyio
import pytest

from integrations.mcp import McpBackends
from mcp_harness import pids_in, upstream
from toolrouter import ToolMiddleware

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


async def test_a_stopped_server_is_taken_as_lost_after_a_call_times_out(pid_dir: Path) -> None:
    tools = ToolMiddleware(seed=0, store="memory://")
    async with McpBackends(tools, {"stuck": upstream("reliable", pid_dir, "--name", "stuck", timeout_s=0.3)}) as mcp:
        (pid,) = pids_in(pid_dir)
        stuck = mcp.upstreams["stuck"]
        os.kill(pid, signal.SIGSTOP)
        try:
            assert (await mcp.call("search", {"query": "q"})).is_error  # it times out
            with anyio.fail_after(10):  # it was "ready" for ever, every call waiting out its timeout
                while "unresponsive" not in (stuck.last_error or ""):
                    await anyio.sleep(0.02)
            assert "no answer to a ping after a call went unanswered within timeout_s (0.3 s)" in stuck.last_error
            assert (await mcp.call("search", {"query": "q"})).is_error
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)
    errors = [a.error for a in tools.learner.store.attempts() if a.tool_id == "stuck/search"]
    assert errors[0].startswith("TimeoutError")
    assert errors[1].startswith("UpstreamUnavailableError: server 'stuck' is down (unresponsive: ")


async def test_a_call_right_after_a_connection_is_taken_as_lost_is_refused_as_the_server_being_down(
    pid_dir: Path,
) -> None:
    # the connection's end runs in a task of its own: a call between the loss and that end went to
    # the connection being closed and failed as "Connection closed", the server taken for broken
    tools = ToolMiddleware(seed=0, store="memory://")
    async with McpBackends(tools, {"lost": upstream("reliable", pid_dir, "--name", "lost")}) as mcp:
        mcp.upstreams["lost"]._lost("unresponsive: a ping went unanswered")
        assert (await mcp.call("search", {"query": "q"})).is_error
    (error,) = [a.error for a in tools.learner.store.attempts() if a.tool_id == "lost/search"]
    assert error.startswith("UpstreamUnavailableError: server 'lost' is down (unresponsive: ")
