"""Thompson sampling for non-contextual arms: Beta-Bernoulli and Normal-Gamma (continuous utility).

Each decision draws one plausible mean reward per arm from its posterior and the router takes the
largest draw, so arms are explored in proportion to the chance that they are the best. Both are
conjugate, so a decision is two vectorised draws over all candidates and an update is O(1)
(O(arms) with ``discount``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from toolrouter.policies._counting import CountingPolicy
from toolrouter.policies.base import ArmPrior

__all__ = ["BetaThompson", "GaussianThompson"]


class BetaThompson(CountingPolicy):
    """Beta-Bernoulli Thompson sampling; rewards in [0, 1] (a success, or a fractional quality).

    An arm starts at ``Beta(1, 1)``; a prior ``ArmPrior(mean=m, pseudo_count=c)`` adds ``c``
    pseudo-observations of mean ``m``: ``Beta(1 + m c, 1 + (1 - m) c)``. A fractional reward ``r``
    adds ``r`` to alpha and ``1 - r`` to beta.

    Example:
        >>> p = BetaThompson(seed=0)
        >>> for arm in ("a", "b"): p.add_arm(arm)
        >>> for _ in range(20): p.update("a", 1.0); p.update("b", 0.0)
        >>> p.select(["a", "b"])
        'a'
    """

    name = "beta_ts"
    reward_bounds = (0.0, 1.0)
    default_prior = (0.0, 0.5, 1.0)

    #: a reset arm restarts as Beta(1 + 2m, 1 + 2(1 - m)) around the others' success rate m
    population_pseudo_count = 2.0

    def _check_prior(self, n0: float, m0: float, v0: float, vn: float) -> None:
        if not 0.0 <= m0 <= 1.0:
            raise ValueError(f"prior.mean must lie in [0, 1] for {self.name}, got {m0!r}")

    def _population(self, mean: float, variance: float) -> ArmPrior:
        return ArmPrior(mean=min(max(mean, 0.0), 1.0), variance=1.0, pseudo_count=self.population_pseudo_count)

    def _alpha_beta(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        st = self._stats
        n0, m0 = st["prior_n"][idx], st["prior_mean"][idx]
        n = st["n"][idx]
        s = n * st["mean"][idx]
        alpha = 1.0 + m0 * n0 + s
        beta = 1.0 + (1.0 - m0) * n0 + (n - s)
        # rounding under discount/window could leave a hair below 1; the posterior never is
        return np.maximum(alpha, 1e-9), np.maximum(beta, 1e-9)

    def sample(self, arm_ids: Sequence[str], context: np.ndarray | None = None) -> np.ndarray:
        """One draw of each arm's success probability."""
        alpha, beta = self._alpha_beta(self._positions(arm_ids))
        return self.rng.beta(alpha, beta)

    def expected(self, arm_ids: Sequence[str], context: np.ndarray | None = None) -> np.ndarray:
        """Posterior mean success probability."""
        alpha, beta = self._alpha_beta(self._positions(arm_ids))
        return alpha / (alpha + beta)

    def sample_and_expected(
        self, arm_ids: Sequence[str], context: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        alpha, beta = self._alpha_beta(self._positions(arm_ids))
        return self.rng.beta(alpha, beta), alpha / (alpha + beta)


class GaussianThompson(CountingPolicy):
    """Thompson sampling for a continuous reward with unknown mean and variance (Normal-Gamma).

    The default policy of the router: utilities are continuous and their scale is not known in
    advance, so the noise variance is learned per arm. The prior ``ArmPrior(mean=mu0,
    variance=v0, pseudo_count=k0)`` says: the arm's mean reward is about ``mu0``, worth ``k0``
    observations, and single rewards scatter with variance about ``v0``, worth ``nu0``
    observations (``variance_pseudo_count``, by default ``k0``): ``kappa0 = k0``,
    ``alpha0 = 1 + nu0 / 2``, ``beta0 = v0 * nu0 / 2``. Without a prior: ``ArmPrior(0.0, 1.0, 1.0)``.

    A reset restarts an arm from ``population_prior``: a mean worth a tenth of an observation (the
    arm is tried again soon) and the route's reward variance worth ``population_variance_count``
    (4) observations. Tying the variance's weight to the mean's would leave it almost
    uninformative, and two equal outcomes after a reset (two more failures of a tool in a short
    glitch) would make the posterior of its mean narrow (a scale of about 0.1 utility) and the tool
    would not be tried again; with its own weight the arm stays uncertain until it has a few
    outcomes (tested in tests/toolrouter/test_learner_recovery.py over several seeds).

    A draw: precision ``tau ~ Gamma(alpha_n, beta_n)``, mean ``~ Normal(mu_n, 1 / (kappa_n tau))``.
    With ``discount`` the weighted sums enter the same formulas (a discounted Normal-Gamma).

    Example:
        >>> p = GaussianThompson(seed=0)
        >>> for arm in ("slow", "good"): p.add_arm(arm)
        >>> for _ in range(30): p.update("slow", 0.2); p.update("good", 0.8)
        >>> p.select(["slow", "good"])
        'good'
    """

    name = "gaussian_ts"
    default_prior = (1.0, 0.0, 1.0)
    population_variance_count = 4.0

    def _check_prior(self, n0: float, m0: float, v0: float, vn: float) -> None:
        if n0 <= 0:
            raise ValueError(f"prior.pseudo_count must be > 0 for {self.name}, got {n0!r}")
        if vn <= 0:  # alpha0 = 1 and beta0 = 0: an untried arm's variance is 0 / 0 and its draws never move
            raise ValueError(f"prior.variance_pseudo_count must be > 0 for {self.name}, got {vn!r}")
        if not (math.isfinite(v0 * vn) and math.isfinite(n0 * m0 * m0)):  # the posterior's terms
            raise ValueError(
                f"prior: variance * variance_pseudo_count and pseudo_count * mean**2 must be finite for {self.name}, "
                f"got variance={v0!r}, variance_pseudo_count={vn!r}, pseudo_count={n0!r}, mean={m0!r}"
            )

    def _posterior(self, idx: np.ndarray) -> tuple[np.ndarray, ...]:
        st = self._stats
        k0, mu0, v0, nu0 = st["prior_n"][idx], st["prior_mean"][idx], st["prior_var"][idx], st["prior_vn"][idx]
        n, mean, m2 = st["n"][idx], st["mean"][idx], st["m2"][idx]
        kappa = k0 + n
        mu = (k0 * mu0 + n * mean) / kappa
        alpha = 1.0 + 0.5 * (nu0 + n)
        # the spread of the outcomes plus that of their mean from the prior's, both centred: no
        # difference of large sums, which would lose the spread of rewards around a large offset
        d = mean - mu0
        beta = 0.5 * (v0 * nu0 + (m2 + k0 * n / kappa * d * d))
        return kappa, mu, alpha, beta

    def sample(self, arm_ids: Sequence[str], context: np.ndarray | None = None) -> np.ndarray:
        """One draw of each arm's mean reward."""
        return self.sample_and_expected(arm_ids, context)[0]

    def sample_and_expected(
        self, arm_ids: Sequence[str], context: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        idx, every = self._lookup(arm_ids)
        if every:  # every arm in order (a route ranking its tools): the cached posterior, no gathering
            kappa, mu, alpha, beta = self._cached_posterior()
            mu = mu.copy()  # handed out: the cache is patched in place by the next update
        else:
            kappa, mu, alpha, beta = self._posterior(idx)
        # mu + z / sqrt(kappa * tau), tau = gamma / beta: the same operations in place on the
        # fresh draws (a routed call makes this draw; temporaries cost as much as the arithmetic)
        scale = self.rng.standard_gamma(alpha)
        scale /= beta
        scale *= kappa
        np.sqrt(scale, out=scale)
        draw = self.rng.standard_normal(mu.shape[0])
        draw /= scale
        draw += mu
        return draw, mu

    def _cached_posterior(self) -> tuple[np.ndarray, ...]:
        """(kappa, mu, alpha, beta) of every arm, kept while the statistics are unchanged (the
        statistics dict is replaced when arms come and go, and ``t`` counts updates)."""
        cache = self.__dict__.get("_post_cache")
        if cache is None or cache[0] is not self._stats or cache[1] != self.t:
            cache = (self._stats, self.t, self._posterior(slice(None)))
            self._post_cache = cache
        return cache[2]

    def update(self, arm_id: str, reward: float, context: np.ndarray | None = None) -> None:
        """Learn from one outcome; without forgetting, only this arm's cached posterior changes."""
        st = self._stats
        cache = self.__dict__.get("_post_cache")
        fresh = cache is not None and cache[0] is st and cache[1] == self.t
        reward = self._check_reward(reward)
        i = self._position(arm_id)
        n, mean, m2, _ = self._count(i, reward)
        if fresh and not self.forgets:
            # the formulas of _posterior for one arm, on Python floats, with the prior's terms
            # computed once per statistics dict (a reset replaces the dict)
            terms = self.__dict__.get("_prior_terms")
            if terms is None or terms[0] is not st:
                terms = self._prior_terms = (st, _prior_terms(st))
            k0, mu0, k0_mu0, v0_nu0, nu0 = terms[1][i]
            kappa_a, mu_a, alpha_a, beta_a = cache[2]
            kappa = k0 + n
            d = mean - mu0
            kappa_a[i], mu_a[i], alpha_a[i] = kappa, (k0_mu0 + n * mean) / kappa, 1.0 + 0.5 * (nu0 + n)
            beta_a[i] = 0.5 * (v0_nu0 + (m2 + k0 * n / kappa * d * d))
            self._post_cache = (st, self.t, cache[2])

    def expected(self, arm_ids: Sequence[str], context: np.ndarray | None = None) -> np.ndarray:
        """Posterior mean of each arm's mean reward."""
        return self._posterior(self._positions(arm_ids))[1]

    def variance(self, arm_ids: Sequence[str]) -> np.ndarray:
        """Posterior variance of each arm's mean reward (``beta / ((alpha - 1) kappa)``)."""
        kappa, _, alpha, beta = self._posterior(self._positions(arm_ids))
        return beta / ((alpha - 1.0) * kappa)


def _prior_terms(stats: dict[str, np.ndarray]) -> list[tuple[float, float, float, float, float]]:
    """Per arm, the prior's terms of the posterior as ``_posterior`` computes them (the same
    operations in the same order, so the incremental update gives the same floats):
    ``(k0, mu0, k0 mu0, v0 nu0, nu0)``."""
    k0, mu0, v0, nu0 = (stats[k].tolist() for k in ("prior_n", "prior_mean", "prior_var", "prior_vn"))
    return [(a, m, a * m, v * b, b) for a, m, v, b in zip(k0, mu0, v0, nu0)]
