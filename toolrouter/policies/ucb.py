"""UCB1: the optimistic index ``mean + c * sqrt(2 ln N / n)``; deterministic given the statistics."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from toolrouter._checks import check_real
from toolrouter.policies._counting import CountingPolicy

__all__ = ["UCB1"]


class UCB1(CountingPolicy):
    """UCB1 (Auer et al., 2002) with a prior worth ``pseudo_count`` plays; ``N`` is the weight of
    every arm's plays and priors, whichever arms are asked.

    ``exploration`` scales the bonus; UCB1's guarantee assumes rewards in [0, 1], so for utilities
    on a wider scale raise it to about the reward range. An arm never played and without a prior
    has an infinite index, so every arm is tried once first; so has one whose prior is worth no
    observations (``pseudo_count=0``), whose mean is then only its ``expected`` until its first
    outcome. With ``discount`` or ``window`` this is discounted / sliding-window UCB (Garivier and
    Moulines, 2011).

    Example:
        >>> p = UCB1()
        >>> for arm in ("a", "b"): p.add_arm(arm)
        >>> p.select(["a", "b"])  # untried arms first
        'a'
    """

    name = "ucb1"

    def __init__(
        self,
        *,
        seed: int | None = None,
        discount: float | None = None,
        window: int | None = None,
        exploration: float = 1.0,
    ) -> None:
        super().__init__(seed=seed, discount=discount, window=window)
        self.exploration = exploration = check_real("exploration", exploration, low=0)
        self.options["exploration"] = exploration

    def sample(self, arm_ids: Sequence[str], context: np.ndarray | None = None) -> np.ndarray:
        """The UCB index of each arm (no randomness)."""
        idx = self._positions(arm_ids)
        st = self._stats
        weight = st["prior_n"][idx] + st["n"][idx]
        mean = self._posterior_mean(idx)
        # N counts the plays of every arm, not only of those asked (Auer et al.): an arm's index,
        # and so the order of two arms, does not depend on which others are candidates
        total = max(float((st["prior_n"] + st["n"]).sum()), 1.0)
        # the roots apart: a weight discounted to almost nothing (1e-310) overflowed the quotient to
        # inf, with a warning, and with exploration=0 made the index NaN, which argmax chose
        with np.errstate(divide="ignore", invalid="ignore"):
            bonus = self.exploration * math.sqrt(2.0 * math.log(total)) / np.sqrt(weight)
        return np.where(weight > 0, mean + bonus, np.inf)

    def expected(self, arm_ids: Sequence[str], context: np.ndarray | None = None) -> np.ndarray:
        """Mean reward per arm (the prior's mean for an untried arm, 0 without a prior)."""
        return self._posterior_mean(self._positions(arm_ids))
