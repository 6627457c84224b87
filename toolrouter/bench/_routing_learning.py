"""Learning part of the routing benchmark: cumulative regret against the oracle on replayable
streams (synthetic stationary, drifting and contextual tools; RouterBench replay)."""

from __future__ import annotations

import io
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from toolrouter.bench._routing_agents import AgentSpec
from toolrouter.data import RouterBenchData
from toolrouter.features import HashingFeaturizer
from toolrouter.models import UtilityWeights
from toolrouter.serialization import write_atomically
from toolrouter.simulation import SyntheticEnvironment

__all__ = ["Stream", "SyntheticStream", "RouterBenchStream", "RunResult", "run_stream"]


class Stream:
    """A replayable decision problem: per step a context (or None), and for a chosen arm a reward
    and its expected regret against the oracle."""

    name: str
    n_arms: int
    horizon: int
    context_dim: int
    reward_bounds: tuple[float, float]

    def reset(self, seed: int) -> None:
        """Start a run: the same seed gives the same tools, contexts and order."""
        raise NotImplementedError

    def context(self, t: int) -> np.ndarray | None:
        """The context the routers see at step ``t`` (None: no context)."""
        raise NotImplementedError

    def step(self, t: int, arm: int) -> tuple[float, float]:
        """(observed reward, regret of this choice against the oracle)."""
        raise NotImplementedError

    def extra(self) -> dict[str, float]:
        """Stream-specific totals of the last run (for RouterBench: quality and cost)."""
        return {}


class SyntheticStream(Stream):
    """``SyntheticEnvironment`` tools all serving one capability; regret is expected utility of
    the oracle's tool minus that of the chosen one, at the current call and context."""

    def __init__(
        self, name: str, *, n_tools: int, horizon: int, context_dim: int = 0, drifting: int = 0
    ) -> None:
        self.name, self.n_arms, self.horizon = name, n_tools, horizon
        self.env_dim = context_dim
        # the routers see the context plus a constant feature, so a linear model has an intercept
        self.context_dim = context_dim + 1 if context_dim else 0
        self.drifting = drifting
        self.weights = UtilityWeights()
        # utility = success + quality - 0.1 cost - 0.1 latency lies in about [-0.6, 2] here
        self.reward_bounds = (-0.6, 2.0)

    def reset(self, seed: int) -> None:
        """New environment and contexts for ``seed``."""
        self.env = SyntheticEnvironment.make(
            n_tools=self.n_arms,
            capabilities=("main",),
            context_dim=self.env_dim,
            drifting=self.drifting,
            drift_at_call=self.horizon // 2,
            seed=seed,
        )
        self.ids = [t.profile.tool_id for t in self.env.tools]
        rng = np.random.default_rng(seed + 10_000)
        self.contexts = (
            rng.normal(0.0, 1.0 / np.sqrt(self.env_dim), (self.horizon, self.env_dim)) if self.env_dim else None
        )
        self.seen = (
            np.hstack([self.contexts, np.ones((self.horizon, 1))]) if self.contexts is not None else None
        )

    def context(self, t: int) -> np.ndarray | None:
        """The step's context with a constant feature appended."""
        return None if self.seen is None else self.seen[t]

    def step(self, t: int, arm: int) -> tuple[float, float]:
        """Call the chosen tool: its utility, and its expected regret at this call."""
        x = None if self.contexts is None else self.contexts[t]
        best = self.env.best_expected_utility(None, self.weights, x)
        regret = best - self.env.expected_utility(self.ids[arm], self.weights, x)
        result = self.env.call(self.ids[arm], step="main", context=x)
        return self.weights.of(result), regret


class RouterBenchStream(Stream):
    """Replay of RouterBench: each model is an arm; reward = quality - cost_weight * cost; the
    context is the hashed prompt (plus a constant feature); regret is against the per-prompt
    oracle. The order of prompts is shuffled per seed; ``passes`` replays the data that often."""

    def __init__(
        self, data: RouterBenchData, *, cost_weight: float, feature_dim: int, passes: int = 1
    ) -> None:
        self.name = "routerbench"
        self.data = data
        self.n_arms = len(data.models)
        self.horizon = len(data) * passes
        self.passes = passes
        self.context_dim = feature_dim + 1
        self.cost_weight = cost_weight
        self.utility = data.utility(cost_weight)
        featurize = HashingFeaturizer(dim=feature_dim)
        self.features = np.hstack([featurize.transform(list(data.prompts)), np.ones((len(data), 1))])
        lo = float(self.utility.min())
        self.reward_bounds = (min(lo, 0.0), 1.0)

    def reset(self, seed: int) -> None:
        """A new shuffled order of the prompts for ``seed``."""
        rng = np.random.default_rng(seed)
        self.order = np.concatenate([rng.permutation(len(self.data)) for _ in range(self.passes)])
        self.quality_sum = 0.0
        self.cost_sum = 0.0

    def context(self, t: int) -> np.ndarray:
        """Hashed features of the prompt at step ``t``, plus a constant."""
        return self.features[self.order[t]]

    def step(self, t: int, arm: int) -> tuple[float, float]:
        """The chosen model's recorded outcome: its utility and the regret to the best model."""
        i = self.order[t]
        self.quality_sum += float(self.data.quality[i, arm])
        self.cost_sum += float(self.data.cost[i, arm])
        reward = float(self.utility[i, arm])
        return reward, float(self.utility[i].max()) - reward

    def extra(self) -> dict[str, float]:
        """Mean quality and total cost of the run's choices."""
        return {"mean_quality": self.quality_sum / self.horizon, "total_cost": self.cost_sum}

    def references(self) -> dict[str, dict[str, float]]:
        """Mean quality, total cost and mean utility of the best single model (by mean utility,
        in hindsight) and of the per-prompt oracle, over the same number of steps."""
        u = self.utility
        best = int(np.argmax(u.mean(axis=0)))
        oracle = np.argmax(u, axis=1)
        rows = np.arange(len(self.data))
        p = self.passes
        return {
            f"best single ({self.data.models[best]})": {
                "mean_quality": float(self.data.quality[:, best].mean()),
                "total_cost": float(self.data.cost[:, best].sum()) * p,
                "mean_utility": float(u[:, best].mean()),
                "regret": float((u.max(axis=1) - u[:, best]).sum()) * p,
            },
            "oracle": {
                "mean_quality": float(self.data.quality[rows, oracle].mean()),
                "total_cost": float(self.data.cost[rows, oracle].sum()) * p,
                "mean_utility": float(u.max(axis=1).mean()),
                "regret": 0.0,
            },
        }


@dataclass
class RunResult:
    """Cumulative regret curves (one per seed) and totals of one agent on one stream."""

    agent: str
    stream: str
    curves: list[np.ndarray] = field(default_factory=list)
    rewards: list[float] = field(default_factory=list)
    extras: list[dict[str, float]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def final_regret(self) -> np.ndarray:
        """Cumulative regret at the last step, per seed."""
        return np.array([c[-1] for c in self.curves])


def run_stream(stream: Stream, specs: list[AgentSpec], seeds: list[int]) -> list[RunResult]:
    """Every agent on the same stream (same tools, contexts and prompt order per seed)."""
    results = []
    for spec in specs:
        res = RunResult(spec.name, stream.name)
        t0 = time.perf_counter()
        for seed in seeds:
            stream.reset(seed)
            agent = spec.build(stream.n_arms, stream.context_dim, stream.reward_bounds, seed)
            regret = np.empty(stream.horizon)
            total = 0.0
            for t in range(stream.horizon):
                x = stream.context(t)
                arm = agent.choose(x)
                reward, regret[t] = stream.step(t, arm)
                agent.learn(arm, reward, x)
                total += reward
            close = getattr(agent, "close", None)
            if close is not None:
                close()
            res.curves.append(np.cumsum(regret))
            res.rewards.append(total / stream.horizon)
            res.extras.append(stream.extra())
        res.seconds = time.perf_counter() - t0
        results.append(res)
    return results


def plot_curves(
    results: list[RunResult], title: str, path: Path, reference: tuple[str, float] | None = None
) -> bool:
    """Mean cumulative regret (band: min to max over seeds) per agent, saved as PNG; False when
    matplotlib is not installed. ``reference``: (label, total regret) of a fixed choice, drawn as
    the straight line it follows on average over shuffled orders."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, ax = plt.subplots(figsize=(9, 5.5))
    colors = plt.get_cmap("tab20").colors
    for k, res in enumerate(results):
        curves = np.vstack(res.curves)
        steps = np.arange(1, curves.shape[1] + 1)
        peer = res.agent.startswith(("vw", "mabwiser"))
        line = ax.plot(
            steps, curves.mean(axis=0), label=res.agent, color=colors[(2 * k) % 20 + (k // 10) % 2],
            linestyle="--" if peer else "-",
        )[0]
        if curves.shape[0] > 1:
            ax.fill_between(steps, curves.min(axis=0), curves.max(axis=0), color=line.get_color(), alpha=0.12)
    if reference is not None:
        horizon = len(results[0].curves[0]) if results else 1
        ax.plot([0, horizon], [0, reference[1]], color="black", linestyle=":", label=reference[0])
    ax.set_xlabel("decision")
    ax.set_ylabel("cumulative regret vs oracle")
    ax.set_title(title)
    ax.legend(fontsize=7, loc="upper left")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    png = io.BytesIO()  # rendered whole first: a Ctrl-C or a full disk mid-save left half a PNG
    fig.savefig(png, format="png", dpi=110)
    plt.close(fig)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, png.getvalue())
    return True
