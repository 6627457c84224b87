"""A regrouping the router refused is tried again, a few times after a backoff and then at each
list request, so that the tools a server added are served once the router accepts them; it was
applied only at the next change of some server's tools, which may never come, so the gateway
served its old tools indefinitely."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import anyio
import pytest

import integrations.mcp.backends as backends_module
from integrations.mcp import McpBackends
from mcp_harness import refuse, upstream
from toolrouter import ToolMiddleware

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


def events(caplog: Any, name: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith(name)]


async def churned(mcp: McpBackends, caplog: Any, times: int) -> None:
    """Have server ``a`` add tools t0... (``times`` of them) and wait for the refusal of a grouping."""
    failed = len(events(caplog, "mcp_grouping_failed"))
    await mcp.upstreams["a"].call_tool("churn", {"times": times})
    with anyio.fail_after(10):
        while len(events(caplog, "mcp_grouping_failed")) == failed:
            await anyio.sleep(0.01)
    assert f"t{times - 1}" not in mcp.capabilities


@pytest.fixture
def backends(pid_dir: Path, caplog: Any) -> McpBackends:
    caplog.set_level(logging.INFO, logger="integrations.mcp")
    return McpBackends(ToolMiddleware(seed=0), {"a": upstream("churning", pid_dir, "--name", "a")})


async def test_a_refused_grouping_is_applied_by_a_later_try_and_the_listeners_told(
    backends: McpBackends, caplog: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr(backends_module, "_REGROUP_RETRY_S", (0.05, 0.05, 0.05), raising=False)
    async with backends as mcp:
        told = []

        async def listener() -> None:
            told.append(sorted(t.name for t in mcp.tools()))

        mcp.on_change(listener)
        lift = refuse(mcp.middleware, "a/t0")
        await churned(mcp, caplog, 1)
        with anyio.fail_after(10):  # every try refused: three more, then none
            while len(events(caplog, "mcp_grouping_failed")) < 4:
                await anyio.sleep(0.01)
        await anyio.sleep(0.3)
        assert (len(events(caplog, "mcp_grouping_failed")), len(events(caplog, "mcp_grouping_retry"))) == (4, 3)
        assert told == []

        await churned(mcp, caplog, 2)  # a new change of its tools starts new tries
        lift()
        with anyio.fail_after(10):
            while "t1" not in mcp.capabilities:
                await anyio.sleep(0.01)
        assert len(events(caplog, "mcp_grouping_retry")) == 4
        assert told[-1] == sorted(["a_status", "churn", "listings", "noop", "search", "t0", "t1"])
        assert not (await mcp.call("t0", {})).is_error


async def test_a_list_request_or_a_call_applies_a_grouping_refused_before(
    backends: McpBackends, caplog: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr(backends_module, "_REGROUP_RETRY_S", (3600.0,), raising=False)
    async with backends as mcp:
        lift = refuse(mcp.middleware, "a/t0")
        await churned(mcp, caplog, 1)
        await mcp.start_lazy()  # refused again: the tools served stay
        assert "t0" not in mcp.capabilities and len(events(caplog, "mcp_grouping_failed")) == 2
        lift()
        await mcp.start_lazy()  # what the gateway does at each tools/list
        assert mcp.capabilities["t0"].members == ("a:t0",)

        lift = refuse(mcp.middleware, "a/t1")
        await churned(mcp, caplog, 2)
        lift()
        assert not (await mcp.call("t1", {})).is_error  # a call of a tool not served yet tries it too
        assert events(caplog, "mcp_grouping_retry") == []
