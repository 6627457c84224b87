"""Simulated tool ecosystems with known ground truth, for the demo, tests and benchmarks.

Each simulated tool has a true success probability (optionally depending on a context vector), a
quality distribution, a cost and a latency distribution, and may drift: at a given call index its
success probability changes. Because the truth is known, the expected utility of every tool at every
moment is known too, so regret against the oracle and against the best fixed tool can be computed.

Latency is simulated (reported, not slept), so a thousand calls take milliseconds.

Example:
    >>> env = SyntheticEnvironment.make(n_tools=10, capabilities=("search", "code", "llm"), seed=0)
    >>> tool = env.tools[0]
    >>> result = env.call(tool.profile.tool_id, step=tool.profile.capabilities[0])
    >>> result.tool_id == tool.profile.tool_id
    True
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from toolrouter._checks import check_count, check_real, real_array
from toolrouter.errors import UnknownToolError
from toolrouter.serialization import short_repr
from toolrouter.models import ExecutionResult, ToolProfile, ToolType, UtilityWeights, checked_weights

__all__ = ["QUALITY_SD", "Drift", "SimulatedTool", "SimulatedToolError", "SyntheticEnvironment"]

_TYPE_OF_CAPABILITY = {t.value: t for t in ToolType}

#: Standard deviation of a successful call's quality around the tool's ``quality_mean``, before the
#: draw is clipped to [0, 1].
QUALITY_SD = 0.1


class SimulatedToolError(RuntimeError):
    """What a simulated tool raises when called as a plain function and it fails."""


@dataclass(frozen=True)
class Drift:
    """From call ``at_call`` on (counted over the whole environment), the tool succeeds with
    probability ``success_prob`` instead of its usual one."""

    at_call: int
    success_prob: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "at_call", check_count("at_call", self.at_call))
        object.__setattr__(self, "success_prob", check_real("success_prob", self.success_prob, low=0, high=1))


@dataclass
class SimulatedTool:
    """A tool whose behaviour is known.

    Success probability is ``sigmoid(logit(success_prob) + context @ context_weights)`` when the
    tool has context weights and a context is given, else ``success_prob`` (a context given is
    checked either way: a vector of finite numbers, as long as the weights). A successful call's
    quality is ``clip(normal(quality_mean, QUALITY_SD), 0, 1)``; ``expected_quality`` is its mean.
    """

    profile: ToolProfile
    success_prob: float
    quality_mean: float
    latency_mean_s: float
    cost: float
    context_weights: np.ndarray | None = None
    drift: Drift | None = None

    def __post_init__(self) -> None:
        # a profile's fields as a mapping are taken, as routers take them; anything else failed
        # later, in the environment, as "'dict' object has no attribute 'tool_id'"
        if isinstance(self.profile, Mapping):
            self.profile = ToolProfile.model_validate(self.profile)
        elif not isinstance(self.profile, ToolProfile):
            raise TypeError(f"profile: expected a ToolProfile or a mapping of its fields, got {short_repr(self.profile)}")
        # a probability outside [0, 1] or a negative latency would be drawn from silently (or fail
        # inside numpy at the first call): refuse it here, naming the field
        self.success_prob = check_real("success_prob", self.success_prob, low=0, high=1)
        self.quality_mean = check_real("quality_mean", self.quality_mean, low=0, high=1)
        self.latency_mean_s = check_real("latency_mean_s", self.latency_mean_s, low=0)
        self.cost = check_real("cost", self.cost, low=0)
        if self.context_weights is not None:
            # a NaN weight makes every success probability NaN, and a call with it fails silently
            weights = real_array("context_weights", self.context_weights)
            if weights.ndim != 1 or weights.size == 0 or not np.isfinite(weights).all():
                raise ValueError(
                    f"context_weights: expected a non-empty vector of finite numbers, got {short_repr(self.context_weights)}"
                )
            self.context_weights = weights
        if self.drift is not None and not isinstance(self.drift, Drift):
            raise TypeError(f"drift: expected a Drift or None, got {short_repr(self.drift)}")

    def __eq__(self, other: object) -> bool:
        # the generated comparison compared the context weights with ==, whose array result has no
        # truth value: comparing two tools with weights raised instead of answering
        if not isinstance(other, SimulatedTool):
            return NotImplemented
        mine, theirs = self.context_weights, other.context_weights
        same_weights = mine is theirs or (mine is not None and theirs is not None and np.array_equal(mine, theirs))
        return same_weights and all(
            getattr(self, f.name) == getattr(other, f.name) for f in fields(self) if f.name != "context_weights"
        )

    def success_probability(self, call_index: int, context: np.ndarray | None = None) -> float:
        p = self.success_prob
        if self.drift is not None and call_index >= self.drift.at_call:
            p = self.drift.success_prob
        if context is None:
            return p
        # checked whether or not the tool reads it: one without context weights took any value
        # (text, NaN, a matrix) without a word
        weights = self.context_weights
        try:
            x = np.asarray(context)
        except ValueError:  # a ragged list
            x = np.asarray(None)
        if x.ndim != 1 or (weights is not None and x.shape != weights.shape) or x.dtype.kind not in "biuf" \
                or not np.isfinite(x).all():
            expected = "a vector of" if weights is None else str(weights.size)
            raise ValueError(f"context: expected {expected} finite numbers, got {short_repr(context)}")
        if weights is not None:
            p = float(np.clip(p, 1e-6, 1 - 1e-6))
            z = math.log(p / (1 - p)) + float(x @ weights)
            # the logistic function in the form whose exp cannot overflow: exp(-z) did for z < -709,
            # a context of a few hundred, and the call raised OverflowError
            e = math.exp(-abs(z))
            p = 1.0 / (1.0 + e) if z >= 0 else e / (1.0 + e)
        return p

    @property
    def expected_quality(self) -> float:
        """The mean quality of a successful call: that of ``clip(normal(quality_mean, QUALITY_SD), 0, 1)``,
        which the clipping pulls towards 0.5 (0.937, not 0.96, for a ``quality_mean`` of 0.96)."""
        return _clipped_normal_mean(self.quality_mean, QUALITY_SD)

    def expected_utility(
        self, weights: UtilityWeights, call_index: int, context: np.ndarray | None = None
    ) -> float:
        weights = checked_weights(weights)
        p = self.success_probability(call_index, context)
        # quality is drawn only on success; a failure has quality 0
        return weights.utility(True, self.expected_quality, self.cost, self.latency_mean_s) * p + (
            weights.utility(False, 0.0, self.cost, self.latency_mean_s) * (1 - p)
        )


@dataclass
class SyntheticEnvironment:
    """A set of simulated tools over some capabilities, with a shared call counter and RNG."""

    tools: list[SimulatedTool]
    seed: int = 0
    calls: int = 0
    rng: np.random.Generator = field(init=False)

    def __post_init__(self) -> None:
        if isinstance(self.tools, (str, bytes, SimulatedTool)) or not isinstance(self.tools, Iterable):
            raise TypeError(f"tools: expected a list of SimulatedTool, got {short_repr(self.tools)}")
        self.tools = list(self.tools)  # a generator would be used up by the checks below
        if not self.tools:  # nothing to call: every oracle and every call would fail later
            raise ValueError("tools: need at least one SimulatedTool, got none")
        bad = next((t for t in self.tools if not isinstance(t, SimulatedTool)), None)
        if bad is not None:
            raise TypeError(f"tools: expected SimulatedTool objects, got {short_repr(bad)}")
        self.seed = check_count("seed", self.seed)
        self.calls = check_count("calls", self.calls)
        self.rng = np.random.default_rng(self.seed)
        self._by_id = {t.profile.tool_id: t for t in self.tools}
        if len(self._by_id) < len(self.tools):
            ids = [t.profile.tool_id for t in self.tools]
            raise ValueError(f"tools: tool ids must be distinct, got {short_repr(ids)}")

    def __eq__(self, other: object) -> bool:
        # the generated comparison compared the generators, each equal only to itself: two
        # environments made alike, or one and its copy, were never equal; they are equal when
        # their tools, call counters and generators' states are
        if not isinstance(other, SyntheticEnvironment):
            return NotImplemented
        return (self.tools, self.seed, self.calls) == (other.tools, other.seed, other.calls) and _same_state(
            self.rng.bit_generator.state, other.rng.bit_generator.state
        )

    @classmethod
    def make(
        cls,
        n_tools: int = 10,
        capabilities: Sequence[str] = ("search", "code", "llm"),
        *,
        context_dim: int = 0,
        drifting: int = 0,
        drift_at_call: int = 500,
        seed: int = 0,
    ) -> "SyntheticEnvironment":
        """Random tools spread round-robin over ``capabilities``.

        A string for ``capabilities`` is one capability, as for ``ToolProfile``; the names must be
        distinct (tool ids are made from them). ``context_dim > 0`` gives each tool context weights, so the best tool depends on the
        context. ``drifting`` of the tools (the best one of each capability first) drop to a 10%
        success rate from call ``drift_at_call`` on.
        """
        n_tools = check_count("n_tools", n_tools, low=1)
        context_dim = check_count("context_dim", context_dim)
        drifting = check_count("drifting", drifting)
        drift_at_call = check_count("drift_at_call", drift_at_call)
        seed = check_count("seed", seed)
        if drifting > n_tools:
            raise ValueError(f"drifting: at most n_tools ({n_tools}) tools can drift, got {drifting!r}")
        capabilities = _capabilities(capabilities)
        rng = np.random.default_rng(seed)
        tools = []
        for i in range(n_tools):
            capability = capabilities[i % len(capabilities)]
            success_prob = float(rng.uniform(0.35, 0.95))
            cost = float(np.round(rng.uniform(0.0, 1.0), 3))
            latency = float(np.round(rng.uniform(0.1, 2.0), 3))
            profile = ToolProfile(
                tool_id=f"{capability}_{i // len(capabilities)}",
                tool_type=_TYPE_OF_CAPABILITY.get(capability, ToolType.OTHER),
                capabilities=(capability,),
                cost_per_use=cost,
                reliability=0.8,  # the same uninformative prior for every tool
                expected_latency_s=latency,
                description=f"simulated {capability} tool number {i // len(capabilities)}",
            )
            weights = rng.normal(0.0, 1.0, context_dim) if context_dim > 0 else None
            tools.append(
                SimulatedTool(
                    profile=profile,
                    success_prob=success_prob,
                    quality_mean=float(rng.uniform(0.5, 1.0)),
                    latency_mean_s=latency,
                    cost=cost,
                    context_weights=weights,
                )
            )
        env = cls(tools=tools, seed=seed)
        if drifting:
            weights = UtilityWeights()
            utility = {t.profile.tool_id: t.expected_utility(weights, 0) for t in tools}
            place = {}  # a tool's place in its capability, best first
            for capability in capabilities:
                ids = sorted((t.profile.tool_id for t in tools if t.profile.serves(capability)), key=lambda i: -utility[i])
                place.update((tool_id, k) for k, tool_id in enumerate(ids))
            # the best tool of each capability first, then the second best of each, and so on
            ranked = sorted(tools, key=lambda t: (place[t.profile.tool_id], -utility[t.profile.tool_id]))
            for tool in ranked[:drifting]:
                tool.drift = Drift(at_call=drift_at_call, success_prob=0.1)
        return env

    @property
    def profiles(self) -> dict[str, ToolProfile]:
        """The tools' profiles by id, as a router takes them."""
        return {t.profile.tool_id: t.profile for t in self.tools}

    def tool(self, tool_id: str) -> SimulatedTool:
        """The simulated tool ``tool_id``; ``UnknownToolError`` for an id of no tool."""
        if not isinstance(tool_id, str):  # a list failed the lookup as "unhashable type", naming nothing
            raise TypeError(f"tool_id: expected a string, got {short_repr(tool_id)}")
        try:
            return self._by_id[tool_id]
        except KeyError:
            raise UnknownToolError(tool_id) from None

    def call(
        self, tool_id: str, step: str = "main", context: np.ndarray | None = None
    ) -> ExecutionResult:
        """Call a tool once and return the outcome; advances the call counter."""
        tool = self.tool(tool_id)
        p = tool.success_probability(self.calls, context)  # checks the context before the draw
        # a call refused (a bad step) leaves the environment as it was: its draws are given back,
        # else the outcomes of every later call would shift
        state = self.rng.bit_generator.state
        try:
            success = bool(self.rng.random() < p)
            quality = float(np.clip(self.rng.normal(tool.quality_mean, QUALITY_SD), 0.0, 1.0)) if success else 0.0
            latency = float(max(0.0, self.rng.gamma(4.0, tool.latency_mean_s / 4.0)))
            result = ExecutionResult(
                tool_id=tool_id,
                step=step,
                success=success,
                quality=quality,
                cost=tool.cost,
                latency_s=latency,
                error=None if success else "simulated failure",
            )
        except BaseException:
            self.rng.bit_generator.state = state
            raise
        self.calls += 1
        return result

    def expected_utility(
        self, tool_id: str, weights: UtilityWeights, context: np.ndarray | None = None
    ) -> float:
        """Expected utility of calling ``tool_id`` now."""
        return self.tool(tool_id).expected_utility(weights, self.calls, context)

    def best_expected_utility(
        self, capability: str | None, weights: UtilityWeights, context: np.ndarray | None = None
    ) -> float:
        """The oracle's expected utility for one call of ``capability`` now."""
        weights = checked_weights(weights)
        utilities = [t.expected_utility(weights, self.calls, context) for t in self.tools if t.profile.serves(capability)]
        if not utilities:
            raise ValueError(f"capability: no simulated tool serves {capability!r}")
        return max(utilities)

    def as_function(self, tool_id: str) -> Callable[..., Any]:
        """The tool as a plain Python function: returns a result on success, raises
        ``SimulatedToolError`` on failure. For wrapping with the middleware."""
        tool = self.tool(tool_id)

        def simulated_tool(*args: Any, **kwargs: Any) -> dict[str, Any]:
            result = self.call(tool_id, step=tool.profile.capabilities[0])
            if not result.success:
                raise SimulatedToolError(f"{tool_id} failed")
            return {"tool_id": tool_id, "quality": result.quality, "args": args, "kwargs": kwargs}

        simulated_tool.__name__ = tool_id
        return simulated_tool


def _same_state(a: Any, b: Any) -> bool:
    """Whether two bit generators' states (nested dicts of numbers and, for some, arrays) are equal."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same_state(a[k], b[k]) for k in a)
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.array_equal(a, b)
    return bool(a == b)


def _clipped_normal_mean(mean: float, sd: float) -> float:
    """``E[clip(X, 0, 1)]`` for ``X ~ normal(mean, sd)``: the mass below 0 counts 0, the mass above 1
    counts 1, and between them the truncated normal's first moment."""
    def pdf(z: float) -> float:
        return math.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)

    def cdf(z: float) -> float:
        return 0.5 * (1 + math.erf(z / math.sqrt(2)))

    lo, hi = (0.0 - mean) / sd, (1.0 - mean) / sd
    return mean * (cdf(hi) - cdf(lo)) + sd * (pdf(lo) - pdf(hi)) + (1 - cdf(hi))


def _capabilities(capabilities: Any) -> tuple[str, ...]:
    """``capabilities`` as a non-empty tuple of distinct, non-empty, stripped names, else a
    ``ValueError`` naming the field and the value (a string is one capability)."""
    names = (capabilities,) if isinstance(capabilities, str) else capabilities
    if not isinstance(names, Sequence) or not names:
        raise ValueError(f"capabilities: expected a non-empty sequence of names, got {capabilities!r}")
    if not all(isinstance(c, str) and c.strip() for c in names):
        raise ValueError(f"capabilities: expected non-empty strings, got {capabilities!r}")
    stripped = tuple(c.strip() for c in names)
    if len(set(stripped)) < len(stripped):
        raise ValueError(f"capabilities: names must be distinct (tool ids are made from them), got {capabilities!r}")
    return stripped
