"""A server's progress notifications during a call reach the client that asked for them (a
``progressToken`` in the call's ``_meta``), with the client's token, before the answer, whether
the gateway answers the call itself or the SDK's server does; an agent in-process is told too."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from integrations.mcp import McpBackends
from mcp_harness import gateway, served_by, upstream, write_config
from toolrouter import ToolMiddleware

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]

STEPS = [(1.0, 3.0, "busy step 1"), (2.0, 3.0, "busy step 2"), (3.0, 3.0, "busy step 3")]


def progressing(pid_dir: Path) -> dict[str, dict[str, Any]]:
    return {"busy": upstream("progressing", pid_dir, "--name", "busy", "--after", "3")}


async def test_progress_reaches_the_client_with_its_token_before_the_answer(tmp_path: Path, pid_dir: Path) -> None:
    async with gateway(write_config(tmp_path, progressing(pid_dir)), tmp_path) as gw:
        # the first call is the SDK's to answer (the connection is not known to be set up); once
        # the client has listed the tools, the gateway answers calls itself: both tell progress
        for listed in (False, True):
            if listed:
                await gw.session.list_tools()
            told: list[tuple[float, float | None, str | None]] = []

            async def progress(value: float, total: float | None, message: str | None) -> None:
                told.append((value, total, message))

            result = await gw.session.call_tool("search", {"query": "q"}, progress_callback=progress)
            assert not result.is_error and served_by(result)[0] == "busy"
            assert told == STEPS  # all of them came before the answer
        gw.notifications.clear()
        assert not (await gw.search("q")).is_error  # no token: none asked for, none sent
        assert gw.notifications == []


async def test_a_progress_that_is_not_a_function_is_named(pid_dir: Path) -> None:
    mcp = McpBackends(ToolMiddleware(seed=0), progressing(pid_dir))  # not entered: nothing starts
    with pytest.raises(TypeError, match="progress: expected a function of .progress, total, message., got 'yes'"):
        await mcp.call("search", {"query": "q"}, progress="yes")  # type: ignore[arg-type]
