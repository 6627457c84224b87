"""Drift state: what judging outcomes by their request costs a router, in time per call and in state.

The change detectors remember each tool's record on up to ``REQUEST_MEMORY`` requests
(``toolrouter.drift``, ``request_prior``). Measured side by side with ``request_prior=None`` (the
tool's rate alone), same seed:

* per call: ``record_attempt`` on one route of ``--ds-tools`` tools, ``--ds-calls`` calls each on
  a fresh request, so that the records fill and then forget the oldest; CPU microseconds per call
  (after as many warm-up calls as a tool's memory holds). Two routers: ``lin_ts`` (context_dim 8,
  the request's features its context) and ``gaussian_ts`` (no context: its detectors know the
  request by its text, as the middleware gives it);
* state: ``--ds-routes`` task types of ``--ds-tools`` tools, each tool's detector fed
  ``--ds-requests`` distinct requests (through ``ChangeDetector.update``, as ``record_attempt``
  feeds it, to spare the policies' cost); the saved file's size, ``save(path)`` and ``load`` CPU
  seconds, a snapshot into a SQLite store (``save()``) CPU seconds, and the memory the records
  take (traced allocations).
"""

from __future__ import annotations

import argparse
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np

from toolrouter import ExecutionResult, ToolMetaLearner, ToolProfile
from toolrouter.bench._args import positive
from toolrouter.bench._report import print_table
from toolrouter.drift import REQUEST_MEMORY

PRIORS: dict[str, float | None] = {"requests judged (request_prior=1)": 1.0, "rate alone (request_prior=None)": None}


#: What ``--quick`` sets for this section, unless the command line gives the option.
QUICK = {"ds_tools": 3, "ds_routes": 2, "ds_requests": 300, "ds_calls": 300}


def add_arguments(group: argparse._ArgumentGroup) -> None:
    group.add_argument("--ds-tools", type=positive, default=20, help="tools per route (default 20)")
    group.add_argument("--ds-routes", type=positive, default=10, help="routes in the state part (default 10)")
    group.add_argument("--ds-requests", type=positive, default=5000, help="distinct requests per tool (default 5000)")
    group.add_argument("--ds-calls", type=positive, default=20000, help="timed calls in the per-call part (default 20000)")


def _router(tools: int, prior: float | None, store: str | None = None, policy: str = "lin_ts") -> ToolMetaLearner:
    profiles = [ToolProfile(tool_id=f"tool{i}", capabilities=("answer",), expected_latency_s=0.0) for i in range(tools)]
    return ToolMetaLearner(
        profiles, policy=policy, seed=0, context_dim=8 if policy == "lin_ts" else None,
        drift_detection={"request_prior": prior}, store=store,
    )  # fmt: skip


def _record(router: ToolMetaLearner, task_type: str, tool: str, success: bool, x: np.ndarray | str) -> None:
    """One outcome on request ``x``: its features, or its text (``context``)."""
    router.record_attempt(
        ExecutionResult(tool_id=tool, step="answer", success=success, quality=float(success)),
        capability="answer", task_type=task_type, **({"context": x} if isinstance(x, str) else {"features": x}),
    )


def per_call_us(tools: int, calls: int, prior: float | None, seed: int = 0, policy: str = "lin_ts") -> float:
    """CPU microseconds per ``record_attempt`` on fresh requests, after a warm-up that fills the
    records (each tool's memory is full when the timing starts); ``gaussian_ts`` is given each
    request's text (a sentence of about 60 characters), ``lin_ts`` its features."""
    router = _router(tools, prior, policy=policy)
    rng = np.random.default_rng(seed)
    warmup = min(REQUEST_MEMORY * tools, 4 * calls)
    xs = rng.normal(size=(warmup + calls, 8))
    requests = xs if policy == "lin_ts" else [f"Request {i}: summarise the report and list its open items." for i in range(len(xs))]
    picks = rng.integers(tools, size=warmup + calls)
    wins = rng.random(warmup + calls) < 0.7
    for i in range(warmup):
        _record(router, "qa", f"tool{picks[i]}", bool(wins[i]), requests[i])
    start = time.process_time()
    for i in range(warmup, warmup + calls):
        _record(router, "qa", f"tool{picks[i]}", bool(wins[i]), requests[i])
    return 1e6 * (time.process_time() - start) / max(calls, 1)


def state_costs(tools: int, routes: int, requests: int, prior: float | None, seed: int = 0) -> dict[str, Any]:
    """Size and CPU seconds of a router's saved state whose detectors saw ``requests`` distinct
    requests each, and the memory their records take."""
    rng = np.random.default_rng(seed)
    with tempfile.TemporaryDirectory() as folder:
        router = _router(tools, prior, store=f"sqlite:///{folder}/store.db")
        for r in range(routes):
            for i in range(tools):
                _record(router, f"type{r}", f"tool{i}", True, rng.normal(size=8))
        xs = rng.normal(size=(requests, 8))
        wins = rng.random(requests) < 0.7
        tracemalloc.start()
        for route in router._routes.values():
            for detector in route.detectors.values():
                for x, win in zip(xs, wins):
                    detector.update(1.0 if win else 0.0, bool(win), request=x)
        memory, _ = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        path = Path(folder) / "router.safetensors"
        start = time.process_time()
        router.save(path)
        saved = time.process_time() - start
        start = time.process_time()
        ToolMetaLearner.load(path)
        loaded = time.process_time() - start
        start = time.process_time()
        router.save()  # a snapshot in the store
        snapshot = time.process_time() - start
        router.close()
        return {"MB": path.stat().st_size / 1e6, "save": saved, "load": loaded, "snapshot": snapshot, "memory": memory / 1e6}


def run(args: argparse.Namespace) -> None:
    tools, routes, requests, calls = args.ds_tools, args.ds_routes, args.ds_requests, args.ds_calls
    rows = []
    for policy, request in (("lin_ts", "features"), ("gaussian_ts", "text")):
        costs = {name: per_call_us(tools, calls, prior, policy=policy) for name, prior in PRIORS.items()}
        base = costs["rate alone (request_prior=None)"]
        rows += [[f"{policy}, request's {request}", name, f"{us:.1f}", f"{us / base:.2f}"] for name, us in costs.items()]
    print_table(
        f"Drift state: CPU us per record_attempt, {tools} tools, {calls} calls on fresh requests",
        ["router", "detector", "us per call", "ratio"],
        rows,
    )
    rows = []
    for name, prior in PRIORS.items():
        c = state_costs(tools, routes, requests, prior)
        rows.append([name, f"{c['MB']:.2f}", f"{c['save']:.3f}", f"{c['load']:.3f}", f"{c['snapshot']:.3f}", f"{c['memory']:.1f}"])
    print_table(
        f"Drift state: {routes} routes x {tools} tools, {requests} distinct requests per tool",
        ["detector", "saved MB", "save s", "load s", "snapshot s", "records' memory MB"],
        rows,
    )
