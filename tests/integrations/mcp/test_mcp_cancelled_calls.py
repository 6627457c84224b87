"""A ``tools/call`` its MCP client cancels, or leaves behind by going away, is the client's choice:
the gateway records the attempt (nothing is lost) but does not learn it as a failure of the server,
neither live nor when a router catches up from the store."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import anyio
import pytest
from mcp.shared.exceptions import MCPError

from mcp_harness import Wire, gateway, leave, open_gateway_process, tool_call, upstream, write_config
from toolrouter import ToolMetaLearner

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]

CANCELLED = "CancelledError: run cancelled"  # toolrouter.models.CANCELLED_BY_CALLER


def recorded_and_learned(store: Path) -> tuple[list[tuple[str, int, str]], int, int]:
    """The attempts of the slow server's search in the store, and how many calls of it a router
    learned: one resumed from the gateway's snapshot, one that relearns the whole attempt log."""
    with sqlite3.connect(store) as db:
        rows = db.execute("SELECT tool_id, success, error FROM attempts WHERE tool_id = 'slow/search'").fetchall()
    url = f"sqlite:///{store}"
    resumed = ToolMetaLearner(store=url)
    tools = list(resumed.tools.values())
    resumed_calls = resumed.tool_statistics()["slow/search"].calls
    resumed.close()
    relearned = ToolMetaLearner(tools, store=url, snapshot_name="relearned")
    relearned_calls = relearned.tool_statistics()["slow/search"].calls
    relearned.close()
    return rows, resumed_calls, relearned_calls


async def test_a_call_the_client_cancels_is_recorded_but_not_learned_as_the_servers_failure(tmp_path: Path, pid_dir: Path) -> None:
    # it was learned as a failure of the server: a client that gave up early taught the router to
    # avoid a server that did nothing wrong
    store = tmp_path / "gateway.db"
    config = write_config(tmp_path, {"slow": upstream("slow", pid_dir, "--name", "slow", "--delay", "20")},
                          router={"store": f"sqlite:///{store}"})  # fmt: skip
    async with gateway(config, tmp_path) as gw:
        await gw.session.list_tools()
        with pytest.raises(MCPError):  # the client gives up and tells the gateway (notifications/cancelled)
            await gw.session.call_tool("search", {"query": "q"}, read_timeout_seconds=0.5)
        with anyio.fail_after(10):  # the server hears of it once the gateway has cancelled the attempt
            while "1 cancelled" not in (await gw.session.call_tool("slow_status", {})).content[0].text:
                await anyio.sleep(0.05)
    rows, resumed, relearned = recorded_and_learned(store)
    assert rows == [("slow/search", 0, CANCELLED)]
    assert resumed == relearned == 0


async def test_a_call_left_behind_by_a_client_that_goes_away_is_recorded_but_not_learned(tmp_path: Path, pid_dir: Path) -> None:
    store = tmp_path / "gateway.db"
    config = write_config(tmp_path, {"slow": upstream("slow", pid_dir, "--name", "slow", "--delay", "20")},
                          router={"store": f"sqlite:///{store}"})  # fmt: skip
    process = await open_gateway_process(config)
    wire = Wire(process)
    try:
        await wire.handshake()
        await wire.send(tool_call("s", "search", {"query": "q"}))  # 20 s upstream: in flight when the client leaves
        for i in range(200):
            await wire.send(tool_call(i, "slow_status", {}))
            if "served 1 searches" in (await wire.answer())["result"]["content"][0]["text"]:
                break
            await anyio.sleep(0.05)
    finally:
        await leave(process)  # the client goes away with the call in flight: no answer can reach it
        with anyio.fail_after(30):
            await process.wait()
    rows, resumed, relearned = recorded_and_learned(store)
    assert rows == [("slow/search", 0, CANCELLED)]
    assert resumed == relearned == 0
