"""A process forked after sync tools ran (a pre-forking server's workers, a multiprocessing pool)
calls sync tools too: the worker threads of the parent's runners are not in the child, which
counted them as idle, handed them its jobs and waited forever. A store opened before the fork is
refused in the child with the ValueError the docs promise, rather than never reached."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from toolrouter import ToolMiddleware

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")


def in_child(action: Callable[[], str], wait_s: float = 10.0) -> str:
    """``action()`` in a forked child: what it returned, or 'hung' if it did not end in ``wait_s``."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report, and leave without running the parent's cleanup
        try:
            os.write(write, action().encode())
        finally:
            os._exit(0)
    os.close(write)
    until = time.monotonic() + wait_s
    while os.waitpid(pid, os.WNOHANG) == (0, 0):
        if time.monotonic() > until:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            os.close(read)
            return "hung"
        time.sleep(0.01)
    with os.fdopen(read) as out:
        return out.read()


def middleware(**options) -> ToolMiddleware:
    tools = ToolMiddleware(seed=0, **options)

    @tools.tool("search")
    def search(query: str) -> str:
        return f"results for {query}"

    return tools


def test_a_forked_child_calls_sync_tools() -> None:
    parent = middleware()
    assert parent.call("search", "before") == "results for before"  # a worker thread now idles here

    def calls() -> str:
        child = middleware()  # the child's own router, as the docs advise a pre-forking server
        return child.call("search", "in the child")

    assert in_child(calls) == "results for in the child"
    assert in_child(lambda: parent.call("search", "again")) == "results for again"
    assert parent.call("search", "after") == "results for after"


def test_a_store_opened_before_the_fork_is_refused_in_the_child(tmp_path: Path) -> None:
    with middleware(store=f"sqlite:///{tmp_path / 'router.db'}") as parent:
        parent.call("search", "before")

        def calls() -> str:
            try:
                parent.call("search", "in the child")
            except ValueError as exc:
                return str(exc)
            return "no error"

        assert "after a fork" in in_child(calls)
        assert parent.learner.store.count() == 1
