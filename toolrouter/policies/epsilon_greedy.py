"""Epsilon-greedy: the best mean with probability 1 - epsilon, a uniformly random arm otherwise."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from toolrouter._checks import check_real
from toolrouter.policies._counting import CountingPolicy

__all__ = ["EpsilonGreedy"]


class EpsilonGreedy(CountingPolicy):
    """Epsilon-greedy over posterior means; untried arms whose prior is worth no observations (an
    arm added without one) score ``+inf`` on a decision that exploits (tried first then; one that
    explores ranks every arm at random), and their ``expected`` is the prior's mean.

    ``sample`` returns the means, or, with probability ``epsilon``, uniform random scores (so the
    router's ranking, not just its first choice, is random when exploring).

    Example:
        >>> p = EpsilonGreedy(epsilon=0.0)
        >>> for arm in ("a", "b"): p.add_arm(arm)
        >>> p.update("a", 0.1); p.update("b", 0.9)
        >>> p.select(["a", "b"])
        'b'
    """

    name = "epsilon_greedy"

    def __init__(
        self,
        *,
        seed: int | None = None,
        discount: float | None = None,
        window: int | None = None,
        epsilon: float = 0.1,
    ) -> None:
        super().__init__(seed=seed, discount=discount, window=window)
        self.epsilon = epsilon = check_real("epsilon", epsilon, low=0, high=1)
        self.options["epsilon"] = epsilon

    def sample(self, arm_ids: Sequence[str], context: np.ndarray | None = None) -> np.ndarray:
        """Means (exploit) or random scores (explore)."""
        idx = self._positions(arm_ids)
        if self.rng.random() < self.epsilon:
            return self.rng.random(idx.shape[0])
        st = self._stats
        return np.where(st["prior_n"][idx] + st["n"][idx] > 0, self._posterior_mean(idx), np.inf)

    def expected(self, arm_ids: Sequence[str], context: np.ndarray | None = None) -> np.ndarray:
        """Mean reward per arm (the prior's mean for an untried arm, 0 without a prior)."""
        return self._posterior_mean(self._positions(arm_ids))
