"""The scene that the close tests of the middleware and of the router share: a call in flight in
another thread while ``close`` runs in a third, and new calls probing until they are refused."""

from __future__ import annotations

import threading
from collections.abc import Callable

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
