"""Real-outcome drift replays for the ``drift`` section of ``toolrouter bench meta-router``.

A real ``ToolMetaLearner`` is replayed on RouterBench outcomes (``toolrouter.data.routerbench``): the
11 models of one split (MBPP or Winogrande) are its tools. Each call draws one of the split's prompts
at random; the router ranks the models for it (``rank_tool_ids``, context: the prompt's text without
the prefix every prompt of the split shares, hashed) and learns the recorded outcome of the model it
picked on that prompt (``record_attempt``: success = quality >= 0.5, the quality, the cost; the
router's default ``UtilityWeights``, so a utility is about 2 x quality). At call ``change_at`` one of
four scenarios begins:

* ``break``: the best model (highest mean utility over the split) fails every call from then on;
* ``repair``: the same for ``repair_after`` calls, then it works again;
* ``improve``: the weakest model answers every prompt correctly from then on;
* ``control``: nothing changes.

Every policy and detector sees the same prompts and the same changes (the seed draws the prompts and
seeds the router). Measured per run:

* calls to the broken tool from the break to the end, and how many of them were rechecks;
* calls from the repair until the repaired tool has half its former traffic (its share of the
  ``former`` calls before the break) in a window of ``window`` calls;
* calls from the change until the improved tool has half the traffic in a window of ``window`` calls;
* regret: per call, the mean utility of the best model of the current phase minus that of the
  chosen model (means over the split's prompts), summed over the stream; in every scenario;
* false resets per 1,000 calls: resets in the control, where nothing changes.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from toolrouter import ExecutionResult, ToolMetaLearner, ToolProfile
from toolrouter.bench._meta_router_routerbench import strip_shared_lines
from toolrouter.data import RouterBenchData
from toolrouter.features import HashingFeaturizer

__all__ = ["SCENARIOS", "ReplayConfig", "ReplayResult", "replay", "run_replays", "summarize"]

SCENARIOS = ("control", "break", "repair", "improve")
CAPABILITY = "answer"


@dataclass(frozen=True)
class ReplayConfig:
    """Sizes of one replay (the full bench's defaults)."""

    calls: int = 2000
    change_at: int = 600
    repair_after: int = 400
    former: int = 200
    window: int = 20
    context_dim: int = 256


@dataclass
class ReplayResult:
    """What one run measured (``None``: never within the stream)."""

    regret: float
    broken_calls: int | None = None
    broken_rechecks: int | None = None
    calls_to_half: int | None = None
    former_share: float | None = None
    resets: int = 0
    picks: list[int] = field(default_factory=list, repr=False)


class Replay:
    """One split's outcomes as a world: mean utilities per phase, outcomes per (prompt, model)."""

    def __init__(self, data: RouterBenchData, config: ReplayConfig) -> None:
        self.data, self.config = data, config
        self.ids = [m.replace("/", "_") for m in data.models]
        texts, _ = strip_shared_lines(list(data.prompts), [])
        self.texts = texts
        featurizer = HashingFeaturizer(dim=config.context_dim)
        self.features = np.stack([featurizer(t) for t in texts])
        self.utility = 2.0 * data.quality.mean(axis=0) - 0.1 * data.cost.mean(axis=0)  # default weights
        self.best, self.worst = int(np.argmax(self.utility)), int(np.argmin(self.utility))

    def changed(self, scenario: str, t: int, k: int) -> bool | None:
        """``False`` if model ``k`` fails at call ``t`` of ``scenario``, ``True`` if it succeeds
        whatever the prompt, ``None`` if it answers as recorded."""
        c = self.config
        if scenario in ("break", "repair") and k == self.best and t >= c.change_at:
            if scenario == "break" or t < c.change_at + c.repair_after:
                return False
        if scenario == "improve" and k == self.worst and t >= c.change_at:
            return True
        return None

    def phase_means(self, scenario: str, t: int) -> np.ndarray:
        """Mean utility of every model at call ``t`` of ``scenario``."""
        u = self.utility.copy()
        cost = 0.1 * self.data.cost.mean(axis=0)
        for k in (self.best, self.worst):
            state = self.changed(scenario, t, k)
            if state is not None:
                u[k] = (2.0 if state else 0.0) - cost[k]
        return u


def replay(world: Replay, scenario: str, policy: str, detector: Any, seed: int) -> ReplayResult:
    """One run of ``scenario`` with ``policy`` and ``detector`` (a ``drift_detection`` value)."""
    c, data = world.config, world.data
    tools = [ToolProfile(tool_id=i, capabilities=(CAPABILITY,), expected_latency_s=0.0) for i in world.ids]
    contextual = policy != "gaussian_ts"
    router = ToolMetaLearner(
        tools, policy=policy, seed=seed, drift_detection=detector, context_dim=c.context_dim if contextual else None
    )
    rows = np.random.default_rng(10_000 + seed).integers(len(data), size=c.calls)
    picks = np.empty(c.calls, dtype=np.intp)
    index = {t: k for k, t in enumerate(world.ids)}
    regret = 0.0
    means = world.phase_means(scenario, 0)
    for t, i in enumerate(rows):
        if t in (c.change_at, c.change_at + c.repair_after):
            means = world.phase_means(scenario, t)
        # a router without a context gets the prompt's text, as the middleware gives it: its
        # detectors judge each outcome by the request
        x = {"features": world.features[i]} if contextual else {"context": world.texts[i]}
        tool = router.rank_tool_ids(CAPABILITY, task_type="qa", **x)[0]
        k = index[tool]
        state = world.changed(scenario, t, k)
        quality = float(data.quality[i, k]) if state is None else float(state)
        router.record_attempt(
            ExecutionResult(tool_id=tool, step=CAPABILITY, success=quality >= 0.5, quality=quality, cost=float(data.cost[i, k])),
            capability=CAPABILITY, task_type="qa", **x,
        )
        picks[t] = k
        regret += float(means.max() - means[k])
    stats = router.tool_statistics()
    out = ReplayResult(regret=regret, resets=sum(s.resets for s in stats.values()), picks=picks.tolist())
    if scenario == "break":
        out.broken_calls = int(np.sum(picks[c.change_at :] == world.best))
        out.broken_rechecks = stats[world.ids[world.best]].rechecks
    elif scenario == "repair":
        out.former_share = float(np.mean(picks[c.change_at - c.former : c.change_at] == world.best))
        out.calls_to_half = _calls_to_share(picks, world.best, c.change_at + c.repair_after, 0.5 * out.former_share, c.window)
    elif scenario == "improve":
        out.calls_to_half = _calls_to_share(picks, world.worst, c.change_at, 0.5, c.window)
    return out


def _calls_to_share(picks: np.ndarray, k: int, start: int, share: float, window: int) -> int | None:
    """Calls from ``start`` until a window of ``window`` calls, all after ``start``, has at least
    ``share`` of them on ``k`` (``window`` at the least; ``None`` if never)."""
    hits = np.concatenate([[0], np.cumsum(picks[start:] == k)])
    for end in range(window, len(hits)):
        if hits[end] - hits[end - window] >= share * window:
            return end
    return None


def run_replays(
    world: Replay, policies: Sequence[str], detectors: Mapping[str, Any], seeds: Sequence[int]
) -> dict[tuple[str, str], dict[str, list[ReplayResult]]]:
    """Every (policy, detector) on every scenario and seed: ``{(policy, detector name): {scenario: [result per seed]}}``."""
    return {
        (policy, name): {s: [replay(world, s, policy, detector, seed) for seed in seeds] for s in SCENARIOS}
        for policy in policies
        for name, detector in detectors.items()
    }


def _median_max(values: Sequence[int | None]) -> str:
    """``median (max)``, with ``never`` for runs that never got there."""
    done = [v for v in values if v is not None]
    if not done:
        return "never"
    text = f"{statistics.median(done):.0f} (max {max(done)})"
    if len(done) < len(values):
        text += f", never in {len(values) - len(done)} of {len(values)}"
    return text


def summarize(runs: Mapping[str, list[ReplayResult]], calls: int) -> dict[str, Any]:
    """The figures of one (policy, detector) over its seeds."""
    broken = runs["break"]
    control = runs["control"]
    return {
        "broken": _median_max([r.broken_calls for r in broken]),
        "broken_rechecks": _median_max([r.broken_rechecks for r in broken]),
        "broken_max": max(r.broken_calls or 0 for r in broken),
        "repair": _median_max([r.calls_to_half for r in runs["repair"]]),
        "repair_values": [r.calls_to_half for r in runs["repair"]],
        "former": statistics.mean(r.former_share or 0.0 for r in runs["repair"]),
        "improve": _median_max([r.calls_to_half for r in runs["improve"]]),
        "improve_values": [r.calls_to_half for r in runs["improve"]],
        "regret": {s: statistics.mean(r.regret for r in runs[s]) for s in SCENARIOS},
        "regret_sd": {s: statistics.stdev(r.regret for r in runs[s]) if len(runs[s]) > 1 else 0.0 for s in SCENARIOS},
        "false_resets": 1000.0 * sum(r.resets for r in control) / (calls * len(control)),
    }
