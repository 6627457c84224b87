"""Decision-overhead part of the routing benchmark: median time per decision and per decision plus
update, our policies and the peers on the same contexts, and a full routed call through the
middleware with a no-op tool."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from toolrouter.bench._report import median_time_s
from toolrouter.bench._routing_agents import MabwiserAgent, VowpalAgent, peer_available
from toolrouter.features import HashingFeaturizer
from toolrouter.policies import POLICIES, make_policy

__all__ = [
    "Timing", "policy_timing", "route_build_timing", "peer_timings", "middleware_timing", "featurizer_timing", "handoff_timing",
]

SAMPLE_PROMPT = (
    "Please answer with the letter of the correct answer. Ian volunteered to eat Dennis's menudo "
    "after already having a bowl because _ despised eating intestine. A) Ian B) Dennis. Print only "
    "a single choice from A or B without explanation."
)


@dataclass
class Timing:
    """Median seconds per decision and per decision plus update (NaN: not measured)."""

    router: str
    context_dim: int
    decision_s: float
    decision_update_s: float


def _cycler(items: list[Any]) -> Callable[[], Any]:
    return itertools.cycle(items).__next__


def _contexts(dim: int, seed: int, n: int = 64) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    xs = rng.normal(size=(n, dim))
    return list(xs / np.linalg.norm(xs, axis=1, keepdims=True))


def policy_timing(
    name: str, n_tools: int, dim: int, repeats: int, seed: int = 0, label: str | None = None, **options: Any
) -> Timing:
    """Our policy ``name`` with ``n_tools`` arms (contextual ones at context dimension ``dim``),
    after 4 updates per arm."""
    contextual = POLICIES[name].contextual
    if contextual:
        options["context_dim"] = dim
    policy = make_policy(name, seed=seed, **options)
    arms = [f"tool{i}" for i in range(n_tools)]
    for arm in arms:
        policy.add_arm(arm)
    rng = np.random.default_rng(seed)
    next_x = _cycler(_contexts(dim, seed) if contextual else [None])
    next_r = _cycler(list(rng.random(97)))
    for i in range(4 * n_tools):
        policy.update(arms[i % n_tools], next_r(), next_x())

    def decide() -> None:
        policy.select(arms, next_x())

    def decide_update() -> None:
        x = next_x()
        policy.update(policy.select(arms, x), next_r(), x)

    return Timing(
        label or name,
        dim if contextual else 0,
        median_time_s(decide, repeats=repeats),
        median_time_s(decide_update, repeats=repeats),
    )


def route_build_timing(name: str, n_tools: int, dim: int, repeats: int) -> float:
    """Median seconds to build policy ``name`` with ``n_tools`` arms, one ``add_arm`` each (what a
    router does when it builds a route; contextual ones at context dimension ``dim``)."""
    options = {"context_dim": dim} if POLICIES[name].contextual else {}
    arms = [f"tool{i}" for i in range(n_tools)]

    def build() -> None:
        policy = make_policy(name, seed=0, **options)
        for arm in arms:
            policy.add_arm(arm)

    return median_time_s(build, repeats=repeats, warmup=1)


def _agent_timing(label: str, agent: Any, dim: int, repeats: int, warmup: int, seed: int) -> Timing:
    next_x = _cycler(_contexts(dim, seed))
    next_r = _cycler(list(np.random.default_rng(seed).random(97)))

    def decide() -> None:
        agent.choose(next_x())
        agent._last = None

    def decide_update() -> None:
        x = next_x()
        agent.learn(agent.choose(x), next_r(), x)

    update_first = median_time_s(decide_update, repeats=repeats, warmup=warmup)  # trains it a little
    return Timing(label, dim, median_time_s(decide, repeats=repeats, warmup=warmup), update_first)


def peer_timings(n_tools: int, dim: int, repeats: int, slow_repeats: int, seed: int = 0) -> list[Timing]:
    """Vowpal Wabbit (text examples through the Workspace API, as a user would call it) and
    MABWiser LinUCB, on the same contexts, where installed."""
    out = []
    if peer_available("vowpalwabbit"):
        vw = VowpalAgent(n_tools, dim, seed)
        out.append(_agent_timing("vw cb_explore_adf", vw, dim, repeats, 20, seed))
        vw.close()
    if peer_available("mabwiser"):
        mab = MabwiserAgent(n_tools, dim, seed)
        out.append(_agent_timing("mabwiser LinUCB", mab, dim, slow_repeats, 2, seed))
    return out


def middleware_timing(
    n_tools: int, repeats: int, context: str | None = None, config: Any = None, **learner_options: Any
) -> tuple[float, float] | None:
    """(median seconds of a routed call through ``ToolMiddleware`` with no-op tools, median
    seconds of calling the no-op directly); ``None`` when the middleware is not installed.
    ``context``: request text (featurized by the learner for contextual policies); ``config``:
    the middleware's ``ExecutorConfig`` (default: its own); ``learner_options``: ``policy=``,
    ``context_dim=``... for the learner."""
    try:
        from toolrouter.middleware import ToolMiddleware
    except ImportError:
        return None
    tools = ToolMiddleware(seed=0, config=config, **learner_options)

    def noop() -> None:
        return None

    for i in range(n_tools):
        tools.register(noop, "noop", tool_id=f"noop{i}")
    routed_call = tools.route("noop", context=context)
    routed = median_time_s(routed_call, repeats=repeats)
    direct = median_time_s(noop, repeats=repeats)
    return routed, direct


def featurizer_timing(dim: int, repeats: int) -> float:
    """Median seconds to featurize a typical prompt without the cache."""
    featurize = HashingFeaturizer(dim=dim, cache_size=0)
    return median_time_s(lambda: featurize(SAMPLE_PROMPT), repeats=repeats)


def handoff_timing(repeats: int) -> float:
    """Median seconds to run a no-op in the middleware's worker thread and wait for it: what a
    sync tool's timeout costs (the caller must be able to stop waiting for a hung tool)."""
    from toolrouter.attempts import default_runner

    runner = default_runner()

    def noop() -> None:
        return None

    return median_time_s(lambda: runner.call(noop, (), {}, 30.0), repeats=repeats)
