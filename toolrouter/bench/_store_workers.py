"""The processes of ``toolrouter bench store``: routers that route for a while, raw writers, and a
router that reports when it has learned another host's outcome. Each runs in a process of its own
(multiprocessing, spawn), opens its store after it starts and reports through a queue."""

from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np

CAPABILITIES = ("search", "llm")


def environment(seed: int) -> Any:
    """Six simulated tools over two capabilities (the same tools for every router); ``seed``
    drives the outcomes of this router's calls."""
    from toolrouter.simulation import SyntheticEnvironment

    env = SyntheticEnvironment.make(n_tools=6, capabilities=CAPABILITIES, seed=0)
    env.rng = np.random.default_rng(seed)
    return env


def route_for(url: str | None, seed: int, duration_s: float, ready: Any, go: Any, out: Any) -> None:
    """Route calls through the middleware for ``duration_s`` after ``go`` is set; put (calls,
    attempts, elapsed_s, per-call latencies in seconds) on ``out``."""
    from toolrouter import AllToolsFailedError, ToolMetaLearner, ToolMiddleware

    env = environment(seed)
    router = ToolMetaLearner(env.profiles, store=url, seed=seed, sync_every=100)
    mw = ToolMiddleware(router)
    for tool_id in env.profiles:
        mw.attach(env.as_function(tool_id), tool_id)
    ready.put(seed)
    go.wait()
    calls = attempts = 0
    latencies = []
    start = time.perf_counter()
    while (now := time.perf_counter()) - start < duration_s:
        try:
            attempts += len(mw.route(CAPABILITIES[calls % 2]).run().attempts)
        except AllToolsFailedError as exc:
            attempts += len(exc.attempts)
        latencies.append(time.perf_counter() - now)
        calls += 1
    elapsed = time.perf_counter() - start
    router.close()
    out.put((calls, attempts, elapsed, latencies))


def append_for(url: str, mode: str, duration_s: float, ready: Any, go: Any, out: Any) -> None:
    """Append one attempt at a time for ``duration_s``: ``mode`` "store" through the store (ids a
    catch-up never steps over), "sequence" as plain inserts with ids from a sequence (no order
    guarantee)."""
    from toolrouter.store import AttemptRecord, open_store

    record = AttemptRecord(task_id="t", task_type="default", step="search", capability="search",
                           tool_id="search_0", success=True, quality=0.9, cost=0.1, latency_s=0.2, utility=0.5)
    if mode == "store":
        store = open_store(url)

        def write() -> None:
            store.append([record])
    else:
        import psycopg

        from toolrouter.store.postgres import split_options

        conn = psycopg.connect(split_options(url, {})[0], autocommit=True)  # without the store's own options

        def write() -> None:
            conn.execute(
                "INSERT INTO bench_unordered (writer, task_id, task_type, step, capability, tool_id, success, "
                "quality, cost, latency_s, utility, timestamp) VALUES ('', 't', 'default', 'search', 'search', "
                "'search_0', true, 0.9, 0.1, 0.2, 0.5, now())"
            )
    ready.put(mode)
    go.wait()
    n = 0
    start = time.perf_counter()
    while time.perf_counter() - start < duration_s:
        write()
        n += 1
    out.put((n, time.perf_counter() - start))


def watch(url: str, expected: int, ready: Any, out: Any) -> None:
    """A router on "host B": whenever its store says others appended, catch up at once and put
    (outcomes applied so far, wall-clock time) on ``out``; stop after ``expected`` outcomes."""
    from toolrouter import ToolMetaLearner

    env = environment(0)
    router = ToolMetaLearner(env.profiles, store=url, seed=1, sync_every=None)
    told = threading.Event()
    router.store.on_new_attempts(lambda last_id: told.set())
    ready.put("watching")
    applied = 0
    while applied < expected:
        if not told.wait(timeout=30):
            break
        told.clear()
        n = router.sync()
        if n:
            applied += n
            out.put((applied, time.time()))
    router.close()
