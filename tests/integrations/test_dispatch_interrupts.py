"""A tool's KeyboardInterrupt among a response's concurrent calls stops the run once: the other
calls are cancelled with their tries recorded (as their callers' cancellations), none lost."""

from __future__ import annotations

import asyncio
import gc
import logging

import pytest

from integrations import ToolCall, Toolbox, adispatch_calls
from toolrouter.models import CANCELLED_BY_CALLER


def test_a_tools_interrupt_leaves_every_concurrent_calls_try_recorded(monkeypatch) -> None:
    # asyncio.run leaves the interrupted main task's exception unretrieved, which asyncio logs,
    # traceback and all, whenever the task is collected: here, not in some later test
    monkeypatch.setattr(logging.getLogger("asyncio"), "disabled", True)
    toolbox = Toolbox(seed=0, store="memory://")

    @toolbox.tool("stop")
    async def stop(text: str) -> str:
        await asyncio.sleep(0)
        raise KeyboardInterrupt

    @toolbox.tool("slow")
    async def slow(text: str) -> str:
        await asyncio.sleep(1)
        return "never"

    calls = [ToolCall("c1", "stop", '{"text": "x"}'), ToolCall("c2", "slow", '{"text": "y"}')]
    # the order asyncio cancels the other tasks in varies from run to run: a few runs
    for run in range(1, 6):
        with pytest.raises(KeyboardInterrupt):
            asyncio.run(adispatch_calls(toolbox, calls))
        attempts = sorted((a.tool_id, a.error) for a in toolbox.middleware.learner.store.attempts())
        assert attempts == sorted([("slow", CANCELLED_BY_CALLER), ("stop", CANCELLED_BY_CALLER)] * run)
    gc.collect()
