"""The closing of ``CallsInFlight`` runs once: a close from an event loop leaves it to the last
call, and a close from another thread that waited for that call ran it a second time (a router's
store closed twice)."""

from __future__ import annotations

import asyncio
import threading

from toolrouter.in_flight import CallsInFlight


def test_a_waiting_close_and_the_last_call_close_once() -> None:
    calls = CallsInFlight()
    ran: list[str] = []
    inside, release = threading.Event(), threading.Event()

    async def call() -> None:
        with calls.held(lambda: ValueError("closed")):
            calls.close(lambda: ran.append("by the last call"))  # from a loop: returns at once
            inside.set()
            await asyncio.to_thread(release.wait, 5)

    caller = threading.Thread(target=lambda: asyncio.run(call()))
    caller.start()
    assert inside.wait(5)
    closer = threading.Thread(target=calls.close, args=(lambda: ran.append("by the waiting close"),))
    closer.start()
    release.set()
    caller.join(5)
    closer.join(5)
    assert ran == ["by the last call"]
    calls.close(lambda: ran.append("again"))  # closed already
    assert ran == ["by the last call"]
