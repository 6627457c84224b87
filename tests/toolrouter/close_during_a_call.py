"""The scenes that the close tests of the middleware and of the router share: a call in flight in
another thread while ``close`` runs in a third, and calls in flight on the event loop that closes."""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Callable

import pytest

from toolrouter import ToolMiddleware
from toolrouter.store import open_store


def stored(url: str) -> list[tuple[str, bool]]:
    """(tool id, success) of every attempt the store at ``url`` holds."""
    store = open_store(url)
    try:
        return [(r.tool_id, r.success) for r in store.attempts()]
    finally:
        store.close()


def close_during_a_call(tools: ToolMiddleware, close: Callable[[], None], refused: str) -> tuple[dict[str, object], int]:
    """Call a tool ``slow`` on ``tools`` that waits to be released, ``close`` meanwhile, call a tool
    ``probe`` until a call is refused with ``refused`` in its message, check that the router is
    still open (``close`` waits for the call), release: (the slow call's outcome, the probes that
    ran)."""
    started, release = threading.Event(), threading.Event()

    def slow(q: str) -> str:
        started.set()
        release.wait(30)
        return q

    tools.register(slow, "slow", tool_id="slow")
    tools.register(lambda: "probe", "probe", tool_id="probe")
    outcome: dict[str, object] = {}
    caller = threading.Thread(target=lambda: outcome.update(value=tools.call("slow", "answer")))
    caller.start()
    assert started.wait(30)
    closer = threading.Thread(target=close)
    closer.start()
    probes = 0
    while True:  # until close() has begun: it refuses new calls at once
        try:
            tools.call("probe")
        except ValueError as exc:
            assert refused in str(exc)
            break
        probes += 1
    assert not tools.learner.closed  # waiting for the call in flight
    release.set()
    caller.join(30)
    closer.join(30)
    return outcome, probes


def close_on_the_loop(tools: ToolMiddleware, close: Callable[[], None], refused: str, calls: int) -> list[int]:
    """On an event loop: start ``calls`` calls of a tool ``fetch`` that wait to be released,
    ``close`` (which cannot wait there: it returns at once), check that a new call is refused with
    ``refused`` in its message and that the router is still open, release: the calls' values."""
    release = asyncio.Event()

    async def fetch(i: int) -> int:
        await release.wait()
        return i

    tools.register(fetch, "fetch", tool_id="fetch")

    async def main() -> list[int]:
        started = [asyncio.create_task(tools.acall("fetch", i)) for i in range(calls)]
        await asyncio.sleep(0)  # every call started: waiting in its tool
        close()  # waiting here would hold the loop these calls need: it returns at once
        with pytest.raises(ValueError, match=re.escape(refused)):
            await tools.acall("fetch", 99)
        assert not tools.learner.closed
        release.set()
        return await asyncio.gather(*started)

    return asyncio.run(main())
