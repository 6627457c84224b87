"""The routers the routing benchmark compares, behind one tiny interface: ``choose(x) -> arm index``
and ``learn(arm, reward, x)``. Our policies, Vowpal Wabbit (``--cb_explore_adf``) and MABWiser
(LinUCB), each given the same contexts and rewards."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from toolrouter.bench._report import console
from toolrouter.policies import POLICIES, make_policy

__all__ = [
    "Agent",
    "AgentSpec",
    "PolicyAgent",
    "VowpalAgent",
    "MabwiserAgent",
    "peer_available",
    "policy_specs",
    "peer_specs",
]


class Agent(Protocol):
    """A router under test."""

    def choose(self, x: np.ndarray | None) -> int:
        """The arm to pull for context ``x``."""
        ...

    def learn(self, arm: int, reward: float, x: np.ndarray | None) -> None:
        """Learn the reward of ``arm`` at context ``x``."""
        ...


@dataclass(frozen=True)
class AgentSpec:
    """A named way to build an agent for ``n_arms`` arms, contexts of ``context_dim`` (0: none),
    rewards within ``reward_bounds`` and a seed."""

    name: str
    build: Callable[[int, int, tuple[float, float], int], Agent]


class PolicyAgent:
    """One of our policies. The streams append a constant feature to their contexts (the peers'
    intercept): a linear policy, which has its own, sees the context without it, and on a stream
    without context its intercept alone (the constant context ``[1.0]`` with no second
    intercept); other contextual policies see the context as given, ``[1.0]`` where there is none.
    Beta-Bernoulli TS sees rewards rescaled from ``reward_bounds`` into [0, 1]."""

    def __init__(
        self, name: str, n_arms: int, context_dim: int, reward_bounds: tuple[float, float], seed: int, **options: Any
    ) -> None:
        cls = POLICIES[name]
        self.contextual = cls.contextual
        self.bias_only = cls.contextual and context_dim == 0
        self.strip = cls.contextual and "intercept" in inspect.signature(cls).parameters and not self.bias_only
        if cls.contextual:
            options["context_dim"] = max(context_dim - self.strip, 1)
        if self.bias_only and "intercept" in inspect.signature(cls).parameters:
            options["intercept"] = False  # [1.0] is the intercept
        self.policy = make_policy(name, seed=seed, **options)
        self.arm_ids = [f"arm{i}" for i in range(n_arms)]
        for arm in self.arm_ids:
            self.policy.add_arm(arm)
        self.rescale = cls.reward_bounds == (0.0, 1.0)
        self.lo, self.hi = reward_bounds
        self._one = np.ones(1)

    def seen(self, x: np.ndarray | None) -> np.ndarray | None:
        """The stream's context ``x`` as the policy reads it."""
        if not self.contextual:
            return None
        if self.bias_only:
            return self._one
        return x[:-1] if self.strip and x is not None else x

    def choose(self, x: np.ndarray | None) -> int:
        """The arm with the highest sampled score."""
        return int(np.argmax(self.policy.sample(self.arm_ids, self.seen(x))))

    def learn(self, arm: int, reward: float, x: np.ndarray | None) -> None:
        """Update the policy (rescaling the reward for Beta-Bernoulli TS)."""
        if self.rescale:
            reward = min(max((reward - self.lo) / (self.hi - self.lo), 0.0), 1.0)
        self.policy.update(self.arm_ids[arm], reward, self.seen(x))


#: The peers' names, for the line that says one is left out.
PEERS = {"vowpalwabbit": "Vowpal Wabbit", "mabwiser": "MABWiser"}
#: The peers said to be missing in this process: the line is printed once.
_SAID_MISSING: set[str] = set()


def peer_available(module: str) -> bool:
    """Whether an optional peer library is installed. A missing one is said once per process (its
    rows are left out: without the line, a table read as if that peer had never been compared)."""
    import importlib.util

    if importlib.util.find_spec(module) is not None:
        return True
    if module not in _SAID_MISSING:
        _SAID_MISSING.add(module)
        console.print(
            f"{PEERS.get(module, module)} ({module}) is not installed: its rows are left out "
            '(pip install "toolrouter[bench]")',
            markup=False,
        )
    return False


class VowpalAgent:
    """Vowpal Wabbit contextual bandit with action-dependent features (``--cb_explore_adf``):
    shared context features ``|s``, one indicator feature per action ``|a``, and their
    interactions, so each action gets its own linear model of the context. It minimises cost, so
    it learns ``-reward``; the action is drawn from the returned probabilities with our RNG."""

    def __init__(self, n_arms: int, context_dim: int, seed: int, args: str = "--epsilon 0.05") -> None:
        from vowpalwabbit import Workspace

        self.vw = Workspace(f"--cb_explore_adf --interactions sa {args} --quiet --random_seed {seed}")
        self.actions = [f"|a a{k}" for k in range(n_arms)]
        self.rng = np.random.default_rng(seed)
        self._last: tuple[list[str], float] | None = None

    @staticmethod
    def shared_line(x: np.ndarray | None) -> str:
        """The shared (context) line of a VW example: a bias and the non-zero features."""
        if x is None:
            return "shared |s bias:1"
        nz = np.flatnonzero(x)
        return "shared |s bias:1 " + " ".join(f"{i}:{x[i]:.6g}" for i in nz)

    def choose(self, x: np.ndarray | None) -> int:
        """Draw an action from VW's exploration distribution."""
        lines = [self.shared_line(x), *self.actions]
        pmf = np.asarray(self.vw.predict(lines), dtype=np.float64)
        pmf = pmf / pmf.sum()
        arm = int(self.rng.choice(len(pmf), p=pmf))
        self._last = (lines, float(pmf[arm]))
        return arm

    def learn(self, arm: int, reward: float, x: np.ndarray | None) -> None:
        """Teach VW the cost (``-reward``) of the last chosen action with its probability."""
        if self._last is None:
            raise RuntimeError("VowpalAgent.learn: call choose first")
        lines, prob = self._last
        labelled = list(lines)
        labelled[1 + arm] = f"0:{-reward:.6g}:{prob:.6g} {labelled[1 + arm]}"
        self.vw.learn(labelled)
        self._last = None

    def close(self) -> None:
        """Release VW's native workspace."""
        self.vw.finish()


class MabwiserAgent:
    """MABWiser's LinUCB (one ridge regression per arm). A stream without context gives it the
    constant context ``[1.0]``."""

    def __init__(self, n_arms: int, context_dim: int, seed: int, alpha: float = 1.0) -> None:
        from mabwiser.mab import MAB, LearningPolicy

        self.no_context = context_dim == 0
        self.dim = max(context_dim, 1)
        self.mab = MAB(arms=list(range(n_arms)), learning_policy=LearningPolicy.LinUCB(alpha=alpha), seed=seed)
        self.mab.fit(decisions=np.array([], dtype=int), rewards=np.array([]), contexts=np.zeros((0, self.dim)))

    def _x(self, x: np.ndarray | None) -> np.ndarray:
        return np.ones((1, 1)) if self.no_context or x is None else x.reshape(1, -1)

    def choose(self, x: np.ndarray | None) -> int:
        """MABWiser's LinUCB choice."""
        return int(self.mab.predict(self._x(x)))

    def learn(self, arm: int, reward: float, x: np.ndarray | None) -> None:
        """MABWiser's incremental fit on one outcome."""
        self.mab.partial_fit(np.array([arm]), np.array([reward]), self._x(x))


def policy_specs(with_forgetting: bool = True) -> list[AgentSpec]:
    """Every policy with its defaults, linear Thompson sampling forced to exact and to cached
    draws (to show what the cached draws cost in regret), and discounted / windowed variants."""
    specs = [
        AgentSpec(name, lambda k, d, b, s, name=name: PolicyAgent(name, k, d, b, s)) for name in POLICIES
    ]
    if with_forgetting:
        specs += [
            AgentSpec(
                "gaussian_ts(discount=0.999)",
                lambda k, d, b, s: PolicyAgent("gaussian_ts", k, d, b, s, discount=0.999),
            ),
            AgentSpec("ucb1(window=1000)", lambda k, d, b, s: PolicyAgent("ucb1", k, d, b, s, window=1000)),
        ]
    specs += [
        AgentSpec("lin_ts(exact=True)", lambda k, d, b, s: PolicyAgent("lin_ts", k, d, b, s, exact=True)),
        AgentSpec("lin_ts(exact=False)", lambda k, d, b, s: PolicyAgent("lin_ts", k, d, b, s, exact=False)),
    ]
    return specs


def peer_specs() -> list[AgentSpec]:
    """Vowpal Wabbit and MABWiser, where installed."""
    specs = []
    if peer_available("vowpalwabbit"):
        specs.append(AgentSpec("vw cb_explore_adf", lambda k, d, b, s: VowpalAgent(k, d, s)))
    if peer_available("mabwiser"):
        specs.append(AgentSpec("mabwiser LinUCB", lambda k, d, b, s: MabwiserAgent(k, d, s)))
    return specs
