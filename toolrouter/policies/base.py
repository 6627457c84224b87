"""The one small interface every bandit policy implements.

A policy keeps, per arm (tool), sufficient statistics of the rewards it has seen. It answers two
questions on the hot path and learns from one:

- ``sample(arm_ids, context)``: one exploratory score per arm (a Thompson draw, a UCB index, an
  epsilon-greedy value). The router ranks candidates by it.
- ``expected(arm_ids, context)``: the posterior mean reward per arm, for predictions and reports.
- ``update(arm_id, reward, context)``: learn from one outcome, in O(1) or O(d^2); never a refit.

State is plain arrays (``state_dict`` / ``load_state_dict``), so it can be saved with safetensors and
JSON, and merged across processes (``merge``) where the statistics are additive. Every policy owns a
``numpy.random.Generator``; its state is part of ``state_dict`` so that save, load and continue gives
the same decisions as never stopping.

Priors: ``add_arm(arm_id, prior=ArmPrior(...))`` seeds an arm's statistics (a mean and a variance or
covariance, worth ``pseudo_count`` observations). The meta-learned router fills these in.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from toolrouter.errors import DuplicateToolError, InvalidOutcomeError, UnknownToolError

__all__ = ["ArmPrior", "Policy", "PolicyState"]

PolicyState = dict[str, Any]
"""``{"config": <JSON-able dict>, "arrays": {name: np.ndarray}}``; see ``Policy.state_dict``."""


@dataclass(frozen=True)
class ArmPrior:
    """Prior belief about one arm's reward.

    ``mean``: a scalar for non-contextual policies, a (d,) weight vector for linear ones.
    ``variance``: a scalar, or a (d, d) covariance for linear ones. ``pseudo_count``: how many
    observations the prior is worth (non-contextual policies).
    """

    mean: float | np.ndarray = 0.0
    variance: float | np.ndarray = 1.0
    pseudo_count: float = 1.0


class Policy(ABC):
    """Base class of the bandit policies. Subclasses keep per-arm statistics in arrays indexed by
    ``self._index[arm_id]`` and grow them in ``_grow``."""

    name: ClassVar[str] = "policy"
    contextual: ClassVar[bool] = False
    #: (low, high) for policies whose rewards must lie in a range (Beta-Bernoulli: (0, 1)).
    reward_bounds: ClassVar[tuple[float, float] | None] = None

    def __init__(self, *, seed: int | None = None) -> None:
        self.rng = np.random.default_rng(seed)
        self._arm_ids: list[str] = []
        self._index: dict[str, int] = {}

    # --- arms --------------------------------------------------------------------------------
    @property
    def arm_ids(self) -> tuple[str, ...]:
        return tuple(self._arm_ids)

    def add_arm(self, arm_id: str, prior: ArmPrior | None = None) -> None:
        """Add an arm, optionally with a prior; an existing id raises ``DuplicateToolError``."""
        if arm_id in self._index:
            raise DuplicateToolError(f"arm_id: {arm_id!r} is already an arm of this policy")
        self._grow(prior)  # validate and allocate first, so a bad prior leaves state unchanged
        self._index[arm_id] = len(self._arm_ids)
        self._arm_ids.append(arm_id)

    def remove_arm(self, arm_id: str) -> None:
        """Forget an arm and its statistics."""
        i = self._position(arm_id)
        self._drop(i)
        del self._arm_ids[i]
        self._index = {a: k for k, a in enumerate(self._arm_ids)}

    def _position(self, arm_id: str) -> int:
        try:
            return self._index[arm_id]
        except KeyError:
            raise UnknownToolError(arm_id, field="arm_id") from None

    def _positions(self, arm_ids: Sequence[str]) -> np.ndarray:
        return np.fromiter((self._position(a) for a in arm_ids), dtype=np.intp, count=len(arm_ids))

    def _check_reward(self, reward: float) -> float:
        reward = float(reward)
        if not math.isfinite(reward):
            raise InvalidOutcomeError(f"reward must be finite, got {reward!r}")
        if self.reward_bounds is not None:
            lo, hi = self.reward_bounds
            if not lo <= reward <= hi:
                raise InvalidOutcomeError(
                    f"reward must lie in [{lo}, {hi}] for {self.name}, got {reward!r}"
                )
        return reward

    # --- the hot path ------------------------------------------------------------------------
    @abstractmethod
    def sample(self, arm_ids: Sequence[str], context: np.ndarray | None = None) -> np.ndarray:
        """One exploratory score per arm, in the order of ``arm_ids``."""

    @abstractmethod
    def expected(self, arm_ids: Sequence[str], context: np.ndarray | None = None) -> np.ndarray:
        """Posterior mean reward per arm, in the order of ``arm_ids``."""

    @abstractmethod
    def update(self, arm_id: str, reward: float, context: np.ndarray | None = None) -> None:
        """Learn from one outcome of ``arm_id``. Invalid input raises and changes nothing."""

    def select(self, arm_ids: Sequence[str], context: np.ndarray | None = None) -> str:
        """The arm with the highest sampled score."""
        scores = self.sample(arm_ids, context)
        return arm_ids[int(np.argmax(scores))]

    # --- state -------------------------------------------------------------------------------
    @abstractmethod
    def _grow(self, prior: ArmPrior | None) -> None:
        """Append statistics for one new arm (validating ``prior``)."""

    @abstractmethod
    def _drop(self, position: int) -> None:
        """Delete the statistics at ``position``."""

    @abstractmethod
    def state_dict(self) -> PolicyState:
        """Config (JSON-able, including arm ids and the RNG state) and statistic arrays."""

    @abstractmethod
    def load_state_dict(self, state: PolicyState) -> None:
        """Restore what ``state_dict`` returned; a malformed state raises and changes nothing."""

    def merge(self, other: "Policy") -> None:
        """Add another policy's statistics into this one (same class and configuration).

        Only for policies whose statistics are additive; the others raise ``NotImplementedError``.
        """
        raise NotImplementedError(f"{self.name} statistics cannot be merged")
