"""Several threads routing through one router: every attempt lands in the store, once."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from toolrouter import AllToolsFailedError, TaskProfile, ToolMetaLearner, ToolMiddleware
from toolrouter.simulation import SyntheticEnvironment


@pytest.mark.parametrize("store", ["memory", "sqlite"])
def test_threads_routing_through_one_router_record_every_attempt(tmp_path: Path, store: str) -> None:
    url = "memory://" if store == "memory" else f"sqlite:///{tmp_path / 'r.db'}"
    env = SyntheticEnvironment.make(n_tools=9, capabilities=("search", "code", "llm"), seed=4)
    env_lock = threading.Lock()  # the simulator itself is not thread-safe; the router must be
    router = ToolMetaLearner(env.profiles, store=url, seed=4, sync_every=50)
    mw = ToolMiddleware(router)
    for tool in env.tools:
        fn = env.as_function(tool.profile.tool_id)

        def locked(*args, _fn=fn):
            with env_lock:
                return _fn(*args)

        mw.attach(locked, tool.profile.tool_id)

    n_threads, calls = 8, 40
    counted = [0] * n_threads
    errors: list[BaseException] = []
    start = threading.Barrier(n_threads)

    def worker(k: int) -> None:
        try:
            start.wait()
            for i in range(calls):
                capability = ("search", "code", "llm")[(k + i) % 3]
                try:
                    counted[k] += len(mw.route(capability).run(k, i).attempts)
                except AllToolsFailedError as exc:
                    counted[k] += len(exc.attempts)
                if i % 10 == 0:  # plans and learning from other threads at the same time
                    task = TaskProfile(task_id=f"{k}-{i}", required_capabilities=["search", "llm"])
                    plan = router.optimize_task_execution(task)
                    assert len(plan) == 2
        except BaseException as exc:  # surfaced below: a thread's failure must fail the test
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    total = sum(counted)
    assert total >= n_threads * calls
    assert router.store.count() == total
    rows = router.store.attempts()
    assert [r.id for r in rows] == list(range(1, total + 1))
    assert sum(s.calls for s in router.tool_statistics().values()) == total
    # the in-memory policies saw each attempt exactly once: a replay of the log agrees
    replayed = ToolMetaLearner(env.profiles, seed=4, store=router.store) if store == "memory" else ToolMetaLearner(env.profiles, seed=4, store=url)
    assert {t: (s.calls, s.successes) for t, s in replayed.tool_statistics().items()} == {
        t: (s.calls, s.successes) for t, s in router.tool_statistics().items()
    }


def test_async_calls_through_one_middleware_record_every_attempt() -> None:
    mw = ToolMiddleware(store="memory://", seed=0)
    flaky_state = {"n": 0}

    @mw.tool("fetch", reliability=0.99)
    async def flaky(x: int) -> int:
        flaky_state["n"] += 1
        await asyncio.sleep(0)
        if flaky_state["n"] % 3 == 0:
            raise ConnectionError("reset")
        return x

    @mw.tool("fetch", reliability=0.5)
    def steady(x: int) -> int:
        return x

    async def main() -> list[int]:
        return await asyncio.gather(*(mw.acall("fetch", i) for i in range(60)))

    assert asyncio.run(main()) == list(range(60))
    stats = mw.learner.tool_statistics()
    assert mw.learner.store.count() == stats["flaky"].calls + stats["steady"].calls >= 60
