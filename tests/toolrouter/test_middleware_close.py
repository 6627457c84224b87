"""Closing a ToolMiddleware with calls in flight: each call ends as it would have, with its value and
its attempt recorded, before the router it built is closed; new calls are refused meanwhile."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from toolrouter import ToolMiddleware
from close_during_a_call import close_during_a_call, close_on_the_loop, stored


def test_close_lets_a_call_in_flight_in_another_thread_end_and_record(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    tools = ToolMiddleware(store=url, seed=0)
    outcome, probes = close_during_a_call(tools, tools.close, "closed by ToolMiddleware.close()")
    assert outcome == {"value": "answer"}  # not the closed store's error, after the tool ran
    assert tools.learner.closed
    assert sorted(stored(url)) == sorted([("slow", True)] + [("probe", True)] * probes)


def test_close_on_the_event_loop_lets_its_tasks_end_and_the_last_closes_the_router(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    tools = ToolMiddleware(store=url, seed=0)
    assert close_on_the_loop(tools, tools.close, "closed by ToolMiddleware.close()", 4) == [0, 1, 2, 3]
    assert tools.learner.closed  # closed by the last call to end
    assert stored(url) == [("fetch", True)] * 4


@pytest.mark.parametrize("inline", [False, True])
def test_a_tool_that_closes_its_own_middleware_returns_and_is_recorded(tmp_path: Path, inline: bool) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    tools = ToolMiddleware(store=url, seed=0)

    @tools.tool("shutdown", inline=inline)
    def shutdown() -> str:
        tools.close()  # from inside the call it would wait for: it must not
        return "bye"

    assert tools.call("shutdown") == "bye"
    assert tools.learner.closed
    assert stored(url) == [("shutdown", True)]
    with pytest.raises(ValueError, match=r"r\.db'?: closed"):
        tools.call("shutdown")


def test_registering_after_close_is_refused_and_changes_nothing() -> None:
    tools = ToolMiddleware(seed=0)
    tools.register(lambda: "ok", "x", tool_id="echo")
    tools.close()
    for register in (lambda: tools.register(lambda: "late", "x", tool_id="late"), lambda: tools.attach(lambda: "again", "echo")):
        with pytest.raises(ValueError, match=r"ToolMiddleware: closed by ToolMiddleware.close\(\)"):
            register()
    assert tools.tool_ids == ["echo"] and list(tools.learner.tools) == ["echo"]
    with pytest.raises(ValueError, match="closed"):
        tools.call("x")


def test_close_lets_the_workers_of_the_calls_it_waited_for_leave(tmp_path: Path) -> None:
    # the pool of its own was told to let its idle workers leave before the calls in flight ended:
    # their workers stayed, idle, for the pool's idle_s (a minute)
    before = set(threading.enumerate())
    tools = ToolMiddleware(store=f"sqlite:///{tmp_path / 'r.db'}", seed=0, max_workers=2)
    started = threading.Event()

    @tools.tool("slow")
    def slow() -> str:
        started.set()
        time.sleep(0.05)
        return "done"

    caller = threading.Thread(target=tools.call, args=("slow",))
    caller.start()
    started.wait()
    tools.close()  # waits for the call
    caller.join()
    left = set(threading.enumerate()) - before
    for thread in left:
        thread.join(timeout=5)
    assert [t.name for t in left if t.is_alive()] == []
