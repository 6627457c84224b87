"""A call the middleware refuses (a sync call of an async tool where an event loop runs; no
registered function serves the capability) is refused before the router ranks its tools: ranked
first, it could claim a due drift recheck whose outcome never came, so the tool was rechecked a
full ``recheck_after`` later."""

from __future__ import annotations

import asyncio

import pytest

from toolrouter import NoToolForCapabilityError, ToolMiddleware


async def good(query: str) -> str:
    return query


def bad(query: str) -> str:
    raise ConnectionError("down")


def refuse_sync_call(tools: ToolMiddleware) -> None:
    with pytest.raises(RuntimeError, match="is async and an event loop is running"):
        tools.call("search", "q")


def refuse_unbound_call(tools: ToolMiddleware) -> None:
    tools.detach("good")
    tools.detach("bad")
    with pytest.raises(NoToolForCapabilityError, match="no registered function serves 'search'"):
        tools.call("search", "q")
    tools.attach(good, "good")
    tools.attach(bad, "bad")


def first_tries(refuse) -> tuple[list[str], int]:  # type: ignore[no-untyped-def]
    """The tool each of 30 calls tried first, and the rechecks counted, with a refused call
    before each call when ``refuse`` makes one."""
    tools = ToolMiddleware(seed=0, drift_detection={"recheck_after": 4})
    tools.register(good, "search")
    tools.register(bad, "search")
    firsts = []

    async def calls() -> None:
        for _ in range(30):
            if refuse is not None:
                refuse(tools)
            firsts.append((await tools.route("search").arun("q")).attempts[0].tool_id)

    asyncio.run(calls())
    return firsts, tools.learner.tool_statistics()["bad"].rechecks


@pytest.mark.parametrize("refuse", [refuse_sync_call, refuse_unbound_call])
def test_a_refused_call_claims_no_recheck(refuse) -> None:  # type: ignore[no-untyped-def]
    firsts, rechecks = first_tries(None)
    assert rechecks >= 3 and firsts.count("bad") >= rechecks  # rechecks were due
    assert first_tries(refuse) == (firsts, rechecks)
