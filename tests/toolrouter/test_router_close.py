"""Closing a router its owner passed to a middleware, or runs plans with, while calls are in flight:
each call ends as it would have, with its value and its attempts recorded, before the store
closes; new calls are refused meanwhile."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from toolrouter import TaskProfile, ToolMetaLearner, ToolMiddleware, ToolProfile
from close_during_a_call import close_during_a_call, close_on_the_loop, stored


def test_close_waits_for_a_middleware_call_in_flight_and_refuses_new_ones(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    router = ToolMetaLearner(store=url, seed=0)
    tools = ToolMiddleware(router)  # the router is its owner's to close
    outcome, probes = close_during_a_call(tools, router.close, "closed by ToolMetaLearner.close()")
    assert outcome == {"value": "answer"}  # not the closed store's error, after the tool ran
    assert router.closed
    assert sorted(stored(url)) == sorted([("slow", True)] + [("probe", True)] * probes)


def test_close_on_the_event_loop_leaves_the_closing_to_the_last_call(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    router = ToolMetaLearner(store=url, seed=0)
    tools = ToolMiddleware(router)
    assert close_on_the_loop(tools, router.close, "closed by ToolMetaLearner.close()", 3) == [0, 1, 2]
    assert router.closed  # closed by the last call to end
    assert stored(url) == [("fetch", True)] * 3


def test_close_waits_for_a_plan_run_in_flight(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    router = ToolMetaLearner([ToolProfile(tool_id="web", capabilities=["search"])], store=url, seed=0)
    started, release = threading.Event(), threading.Event()

    def web(request) -> str:
        started.set()
        release.wait(30)
        return "pages"

    router.functions["web"] = web
    runs = []
    runner = threading.Thread(
        target=lambda: runs.append(router.execute(TaskProfile(task_id="t", required_capabilities=["search"])))
    )
    runner.start()
    assert started.wait(30)
    closer = threading.Thread(target=router.close)
    closer.start()
    closer.join(0.1)
    assert closer.is_alive() and not router.closed  # waiting for the run
    release.set()
    runner.join(30)
    closer.join(30)
    (execution,) = runs
    assert execution.run.succeeded and execution.unlearned == [] and execution.run.callback_errors == []
    assert router.closed and stored(url) == [("web", True)]
    with pytest.raises(ValueError, match="closed by ToolMetaLearner.close()"):
        router.execute(TaskProfile(task_id="t2", required_capabilities=["search"]))


def test_background_meta_training_after_close_is_refused_and_starts_no_thread(tmp_path: Path) -> None:
    # it started a thread that read the closed store at every round, logging the failure, for good
    router = ToolMetaLearner(policy="neural_linear", store=f"sqlite:///{tmp_path / 'r.db'}", seed=0)
    router.close()
    before = set(threading.enumerate())
    with pytest.raises(ValueError, match="closed by ToolMetaLearner.close()"):
        router.start_background_meta_training(60)
    assert set(threading.enumerate()) - before == set()
