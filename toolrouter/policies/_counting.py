"""Sufficient statistics shared by the non-contextual policies, with forgetting for drifting tools.

Per arm the policies keep centred statistics of the rewards seen: ``n`` (weight), ``mean``, ``m2``
(the weighted sum of squared deviations from the mean) and ``w2`` (the sum of the squared weights,
for the variance's degrees of freedom: ``n`` unless a discount weighs outcomes unequally), plus the
arm's prior (``prior_n`` pseudo-observations with mean ``prior_mean``, and a prior reward variance
``prior_var`` worth ``prior_vn`` observations). The prior is kept apart from the
observations, so forgetting never erases it and merging never counts it twice. Centred statistics
keep the spread of rewards around a large offset (1e8 +- 1), which a raw sum of squares loses to
rounding; outcomes are added, removed and merged by Chan et al.'s pairwise combination (``_combine``).

Forgetting, for tools whose behaviour drifts (at most one of the two):

- ``discount=g``: before each update every arm's sums are multiplied by ``g`` (exponential
  forgetting over the whole policy, as in discounted UCB / discounted Thompson sampling), so an arm
  that is not pulled slowly returns to its prior and gets explored again.
- ``window=w``: only the last ``w`` updates of the whole policy count (sliding-window UCB); the
  outgoing outcome is subtracted when a new one comes in.

Both count an outcome of a tool the policy holds no arm for as well (``advance``): its router
counted it while the tool had one, and forgot only the arm's statistics when the tool left.

Both are O(number of arms) vectorised work per update, O(1) per decision.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from toolrouter._checks import check_count, check_real
from toolrouter.errors import CorruptStateError
from toolrouter.policies.base import MAX_ABS_MEAN, MAX_ABS_REWARD, ArmPrior, Policy, PolicyState, prior_count, prior_field
from toolrouter.serialization import MAX_SAVED_WINDOW, short_repr

__all__ = ["CountingPolicy"]

_STAT_NAMES = ("n", "mean", "m2", "w2", "prior_n", "prior_mean", "prior_var", "prior_vn")
#: the statistics of an arm's outcomes, and the prior ones it brings with it
_OUTCOME_NAMES, _PRIOR_NAMES = _STAT_NAMES[:4], _STAT_NAMES[4:]


def _combine(
    n_a: float, mean_a: float, m2_a: float, w2_a: float, n_b: float, mean_b: float, m2_b: float, w2_b: float
) -> tuple[float, float, float, float]:
    """``(n, mean, m2, w2)`` of two groups of outcomes together (Chan, Golub and LeVeque's pairwise
    update; the squared weights add up); a group given with negative ``n_b``, ``m2_b`` and ``w2_b``
    is taken away instead. One outcome ``r`` is the group ``(1, r, 0, 1)``. Nothing left gives zeros
    (no rounding drift survives)."""
    n = n_a + n_b
    if n <= 0.0:
        return 0.0, 0.0, 0.0, 0.0
    delta = mean_b - mean_a
    return n, mean_a + delta * (n_b / n), max(m2_a + m2_b + delta * delta * (n_a * n_b / n), 0.0), max(w2_a + w2_b, 0.0)


def _check_rewards(values: np.ndarray, name: str) -> None:
    """Refuse a saved array of rewards or of their means with an entry no rewards ``update`` takes
    can give (``MAX_ABS_MEAN``), naming it."""
    if np.any(np.abs(values) > MAX_ABS_MEAN):
        raise CorruptStateError(f"state.arrays.{name}: rewards and their means lie within +-{MAX_ABS_REWARD:g}, got {short_repr(values.tolist())}")


#: The largest reward variance of a population prior: that of rewards within ``MAX_ABS_REWARD``.
MAX_POPULATION_VARIANCE = MAX_ABS_REWARD**2


class CountingPolicy(Policy):
    """Base class of the non-contextual policies: weighted reward sums per arm, optional forgetting.

    Subclasses define ``sample`` and ``expected`` from the statistics; ``update``, arms, state and
    merge live here.
    """

    #: (pseudo_count, mean, variance) of an arm added without a prior.
    default_prior: tuple[float, float, float] = (0.0, 0.0, 1.0)

    def __init__(
        self, *, seed: int | None = None, discount: float | None = None, window: int | None = None
    ) -> None:
        super().__init__(seed=seed)
        if discount is not None and window is not None:
            raise ValueError(
                f"discount and window: choose one way of forgetting, got discount={discount!r}, window={window!r}"
            )
        if discount is not None:
            discount = check_real("discount", discount, low=0, high=1, low_open=True)
        if window is not None:
            window = check_count("window", window, low=1)
            if window > MAX_SAVED_WINDOW:  # the ring is allocated up front, and must load again once saved
                raise ValueError(
                    f"window must be at most {MAX_SAVED_WINDOW:_} (each route keeps that many outcomes in memory), got {window!r}"
                )
        self.discount = discount
        self.window = window
        #: whether updates forget (the sums of every arm change, not just the updated one's)
        self.forgets = (discount is not None and discount < 1.0) or window is not None
        self.options = {"discount": discount, "window": window}
        self.t = 0  # updates seen
        self._stats = {k: np.zeros(0) for k in _STAT_NAMES}
        if window is not None:
            self._win_arm = np.full(window, -1, dtype=np.int64)
            self._win_reward = np.zeros(window)
            self._win_pos = 0

    # --- priors --------------------------------------------------------------------------------
    def _prior_values(self, prior: ArmPrior | None) -> tuple[float, float, float, float]:
        """(pseudo_count, mean, variance, variance_pseudo_count) of ``prior``, validated."""
        if prior is None:
            n0, m0, v0 = self.default_prior
            return n0, m0, v0, n0
        n0 = prior_count(prior, "pseudo_count")
        vn = n0 if prior.variance_pseudo_count is None else prior_count(prior, "variance_pseudo_count")
        if prior.variance is None:  # the policy's own
            prior = dataclasses.replace(prior, variance=self.default_prior[2])
        values = [prior_field(prior, field) for field in ("mean", "variance")]
        if any(v.size != 1 for v in values):
            raise ValueError(
                f"prior: {self.name} takes a scalar mean and variance, got mean={prior.mean!r}, "
                f"variance={prior.variance!r}"
            )
        m0, v0 = (float(v.reshape(())) for v in values)
        for field, value in (("mean", m0), ("variance", v0)):
            if not math.isfinite(value):
                raise ValueError(f"prior.{field} must be finite, got {value!r}")
        if v0 <= 0:
            raise ValueError(f"prior.variance must be > 0, got {v0!r}")
        self._check_prior(n0, m0, v0, vn)
        return n0, m0, v0, vn

    def _check_prior(self, n0: float, m0: float, v0: float, vn: float) -> None:
        """Extra checks of a subclass (for example a mean in [0, 1])."""

    def _grow(self, prior: ArmPrior | None) -> None:
        n0, m0, v0, vn = self._prior_values(prior)
        values = {"n": 0.0, "mean": 0.0, "m2": 0.0, "w2": 0.0, "prior_n": n0, "prior_mean": m0, "prior_var": v0, "prior_vn": vn}
        self._stats = {k: np.append(a, values[k]) for k, a in self._stats.items()}

    def _reset(self, position: int, prior: ArmPrior | None) -> None:
        values = (0.0, 0.0, 0.0, 0.0, *self._prior_values(prior))
        # fresh arrays rather than writes in place: caches keyed on the statistics dict see a change
        stats = {k: a.copy() for k, a in self._stats.items()}
        for k, value in zip(_STAT_NAMES, values):
            stats[k][position] = value
        self._stats = stats
        if self.window is not None:  # its outcomes in the window no longer count, nor leave
            self._win_arm[self._win_arm == position] = -1

    #: pseudo-observations the population prior of a reset arm is worth: a tenth of one, so that
    #: its first draw can land anywhere (it is tried soon) and its first outcomes, not the other
    #: tools, decide where it goes next
    population_pseudo_count: float = 0.1
    #: observations the reward variance of that prior is worth (where the policy learns it):
    #: ``None``, as many as the mean
    population_variance_count: float | None = None

    def population_prior(self, exclude: str | None = None) -> ArmPrior:
        """The mean of the other arms' posterior means (``expected``; the excluded arm's own when
        it is alone), worth ``population_pseudo_count`` observations, with reward variance the arms'
        pooled outcome variance (unbiased, over the effective number of outcomes under ``discount``;
        the arms' prior variance while no arm shows a spread) plus the variance between their means
        (so a draw of the reset arm can land anywhere the others are). Each mean is taken within
        ``+-MAX_ABS_REWARD`` and the variance is at most ``MAX_POPULATION_VARIANCE`` (the rewards an
        arm learns from): the prior built is always one the policy takes.

        Example:
            >>> from toolrouter.policies import make_policy
            >>> p = make_policy("gaussian_ts")
            >>> for arm in ("a", "b"): p.add_arm(arm)
            >>> for r in (0.0, 2.0) * 10: p.update("a", r); p.update("b", r + 1.0)
            >>> prior = p.population_prior(exclude="a"); round(prior.mean, 2), round(prior.variance, 2)
            (1.9, 1.05)
        """
        st = self._stats
        # every other arm, one whose prior is worth no observations too: what it is worth is its
        # ``expected``, as the decisions rank it (that prior's mean, or beta_ts's Beta(1, 1))
        known = self._population_arms(exclude)
        if not known.any():
            n0, m0, v0 = self.default_prior
            return ArmPrior(
                mean=m0, variance=v0, pseudo_count=max(n0, self.population_pseudo_count),
                variance_pseudo_count=self.population_variance_count,
            )
        idx = np.flatnonzero(known)
        # within the rewards a policy learns from: an extreme prior that an arm was given (a mean
        # of 1e200, a variance of 1e308) overflowed the mean and spread taken here, or built a prior
        # its policy refuses, and a reset (the router's, on a drift) failed half-way
        means = np.clip(self.expected([self._arm_ids[i] for i in idx]), -MAX_ABS_REWARD, MAX_ABS_REWARD)
        n, m2, w2 = st["n"][idx], st["m2"][idx], st["w2"][idx]
        # each arm's degrees of freedom, n - w2 / n: n - 1 (Bessel's), or under ``discount``
        # n (1 - 1 / ESS) with ESS = n**2 / w2 the effective number of outcomes, so that the pooled
        # m2 over them is unbiased (m2 / n was low by 1 - 1 / ESS: half, with a discount of 0.5).
        # None before a second outcome (a window leaves rounding in the m2 of one outcome); an
        # idle arm's weight rounds away under discount (below the smallest normal float, then to 0)
        live = n >= np.finfo(float).tiny
        dof = np.where(live, n - w2 / np.where(live, n, 1.0), 0.0)
        seen = dof > 0
        if np.sum(m2[seen]) > 0:  # pooled within-arm variance of the outcomes
            within = float(np.sum(m2[seen]) / np.sum(dof[seen]))
        else:
            # no spread seen (no arm has two outcomes, or the others' rewards are constant), so no
            # scale known: the arms' prior variance. 0 restarted the arm at the mean of peers alike
            # with a variance of 1e-6 worth 4 outcomes, and its first bad outcome wrote it off
            within = float(np.mean(np.minimum(st["prior_var"][idx], MAX_POPULATION_VARIANCE)))
        between = float(np.var(means)) if len(idx) > 1 else 0.0
        variance = min(max(within + between, 1e-6), MAX_POPULATION_VARIANCE)
        return self._population(float(np.mean(means)), variance)

    def _population(self, mean: float, variance: float) -> ArmPrior:
        """The population prior from its mean and variance (subclasses bound the mean)."""
        return ArmPrior(
            mean=mean, variance=variance, pseudo_count=self.population_pseudo_count,
            variance_pseudo_count=self.population_variance_count,
        )

    def _drop(self, position: int) -> None:
        self._stats = {k: np.delete(a, position) for k, a in self._stats.items()}
        if self.window is not None:
            # forget the removed arm's outcomes in the window and shift the positions after it
            arm = self._win_arm
            arm[arm == position] = -1
            arm[arm > position] -= 1

    # --- derived statistics ------------------------------------------------------------------
    def _posterior_mean(self, idx: np.ndarray) -> np.ndarray:
        """(prior_n * prior_mean + n * mean) / (prior_n + n); ``prior_mean`` where both weights are
        zero: a prior worth no observations is the arm's estimate until its first outcome replaces it."""
        st = self._stats
        weight = st["prior_n"][idx] + st["n"][idx]
        total = st["prior_n"][idx] * st["prior_mean"][idx] + st["n"][idx] * st["mean"][idx]
        return np.where(weight > 0, total / np.where(weight > 0, weight, 1.0), st["prior_mean"][idx])

    # --- learning ----------------------------------------------------------------------------
    def update(self, arm_id: str, reward: float, context: np.ndarray | None = None) -> None:
        """Learn from one outcome; ``context`` is ignored by non-contextual policies."""
        reward = self._check_reward(reward)
        self._count(self._position(arm_id), reward)

    def _count(self, i: int, reward: float) -> tuple[float, float, float, float]:
        """Forget (discount or window), then add ``reward`` to arm ``i``'s statistics; returns the
        arm's new ``(n, mean, m2, w2)`` (on Python floats: numpy scalars are slower, and the values are the same)."""
        st = self._stats
        n, mean, m2, w2 = st["n"], st["mean"], st["m2"], st["w2"]
        if self.forgets:
            self._forget(n, mean, m2, w2, i, reward)
        new = _combine(n.item(i), mean.item(i), m2.item(i), w2.item(i), 1.0, reward, 0.0, 1.0)
        n[i], mean[i], m2[i], w2[i] = new
        self.t += 1
        return new

    def advance(self) -> None:
        st = self._stats
        if self.forgets:  # an empty slot enters the window: what leaves it is taken away
            self._forget(st["n"], st["mean"], st["m2"], st["w2"], -1, 0.0)
        self.t += 1  # as for an update: the statistics may have changed (caches key on it)

    def _forget(self, n: np.ndarray, mean: np.ndarray, m2: np.ndarray, w2: np.ndarray, i: int, reward: float) -> None:
        """Before arm ``i`` gets ``reward``: discount every weight (the means stay), or move the window on."""
        if self.discount is not None and self.discount < 1.0:
            n *= self.discount
            m2 *= self.discount
            w2 *= self.discount * self.discount
        if self.window is not None:
            old = int(self._win_arm[self._win_pos])
            if old >= 0:  # take the outgoing outcome away
                r_old = float(self._win_reward[self._win_pos])
                n[old], mean[old], m2[old], w2[old] = _combine(
                    n.item(old), mean.item(old), m2.item(old), w2.item(old), -1.0, r_old, 0.0, -1.0
                )
            self._win_arm[self._win_pos] = i
            self._win_reward[self._win_pos] = reward
            self._win_pos = (self._win_pos + 1) % self.window

    # --- state -------------------------------------------------------------------------------
    def state_dict(self) -> PolicyState:
        """``config``: policy name, options, arm ids, update count, RNG state; ``arrays``: the
        per-arm statistics (and the window's buffer)."""
        config: dict[str, Any] = {
            "policy": self.name,
            "options": dict(self.options),
            "arm_ids": list(self._arm_ids),
            "t": self.t,
            "rng": self._rng_state(),
            **self._resets_config(),
        }
        arrays = {k: a.copy() for k, a in self._stats.items()}
        if self.window is not None:
            config["window_pos"] = self._win_pos
            arrays["window_arm"] = self._win_arm.copy()
            arrays["window_reward"] = self._win_reward.copy()
        return {"config": config, "arrays": arrays}

    def load_state_dict(self, state: PolicyState) -> None:
        """Restore a ``state_dict``; a malformed state raises ``CorruptStateError`` (a
        ``ValueError``) naming the key or array, and changes nothing."""
        config = self._check_config(state)
        arrays = state["arrays"]
        k = len(config["arm_ids"])
        # states saved before the variance had its own prior weight (prior_vn), or before the squared
        # weights were kept (w2): made up below
        names = [name for name in _STAT_NAMES if name not in ("prior_vn", "w2") or name in arrays]
        # states saved with raw sums (s, ss) rather than centred statistics: converted below
        raw = "mean" not in arrays and "m2" not in arrays
        if raw:
            names = [{"mean": "s", "m2": "ss"}.get(name, name) for name in names]
        stats = {name: self._checked_array(arrays, name, (k,)) for name in names}
        stats.setdefault("prior_vn", stats["prior_n"].copy())
        for name in ("n", "ss" if raw else "m2", "w2"):
            negative = np.flatnonzero(stats[name] < 0) if name in stats else ()
            if len(negative):
                i = int(negative[0])
                raise CorruptStateError(
                    f"state.arrays.{name}: weights and sums of squares must be >= 0, got {stats[name].item(i)!r} "
                    f"for arm {config['arm_ids'][i]!r}"
                )
        # without forgetting every weight is 1 (w2 = n); under discount the largest w2 the weights
        # allow (each at most 1, and w2 <= n**2), so that the variance taken from them is never low
        stats.setdefault("w2", np.minimum(stats["n"], stats["n"] ** 2))
        if raw:
            n, s, ss = stats["n"], stats.pop("s"), stats.pop("ss")
            stats["mean"] = np.divide(s, n, out=np.zeros(k), where=n > 0)
        # a mean of rewards, each within +-MAX_ABS_REWARD: one far beyond made the next draws NaN and
        # the next update's m2 infinite (a state that never loaded again)
        _check_rewards(stats["mean"], "s" if raw else "mean")
        if raw:
            stats["m2"] = np.maximum(ss - s * stats["mean"], 0.0)
            stats = {name: stats[name] for name in _STAT_NAMES}
        if self.discount is None or self.discount == 1.0:  # a discounted weight rounds to 0 before its spread
            # an arm with no outcomes has no spread (taking its last one away leaves zeros); a saved
            # one stayed in m2 through the arm's next outcomes, widening its draws
            empty = np.flatnonzero((stats["n"] == 0) & (stats["m2"] != 0))
            if empty.size:
                i = int(empty[0])
                raise CorruptStateError(
                    f"state.arrays.{'ss' if raw else 'm2'}: arm {config['arm_ids'][i]!r} has no outcomes (n = 0), "
                    f"so no spread, got {stats['m2'].item(i)!r}"
                )
        for arm, n0, m0, v0, vn in zip(config["arm_ids"], *(stats[name] for name in _PRIOR_NAMES)):
            try:  # the checks add_arm applies to a prior
                self._prior_values(
                    ArmPrior(mean=float(m0), variance=float(v0), pseudo_count=float(n0), variance_pseudo_count=float(vn))
                )
            except ValueError as exc:
                raise CorruptStateError(f"state.arrays.prior_*: arm {arm!r}: {exc}") from None
        t = self._checked_t(config)
        if self.window is not None:
            win_arm = self._checked_array(arrays, "window_arm", (self.window,), np.int64)
            win_reward = self._checked_array(arrays, "window_reward", (self.window,))
            _check_rewards(win_reward, "window_reward")
            pos = check_count(
                "state.config.window_pos", config.get("window_pos"), high=self.window - 1, error=CorruptStateError
            )
            if np.any(win_arm >= k) or np.any(win_arm < -1):
                raise CorruptStateError(f"state.arrays.window_arm: arm positions must lie in [-1, {k}) ({k} arms)")
            # an arm's weight is the number of its outcomes in the window; one that differs would
            # never come right (outcomes leaving the window take away one each)
            held = np.bincount(win_arm[win_arm >= 0], minlength=k)
            for name, what in (("n", "weight"), ("w2", "squared weights")):  # each outcome's weight is 1
                wrong = np.flatnonzero(stats[name] != held)
                if wrong.size:
                    i = int(wrong[0])
                    raise CorruptStateError(
                        f"state.arrays.{name}: arm {config['arm_ids'][i]!r} has {what} {stats[name].item(i)!r}, but the "
                        f"window holds {int(held[i])} of its outcomes"
                    )
        rng = self._new_rng(config.get("rng", {}))
        resets = self._checked_resets(config)
        # everything validated: assign
        self.rng = rng
        self._stats = stats
        self._resets = resets
        self.t = t
        self._arm_ids = list(config["arm_ids"])
        self._index = {a: i for i, a in enumerate(self._arm_ids)}
        if self.window is not None:
            self._win_arm, self._win_reward, self._win_pos = win_arm, win_reward, pos

    def merge(self, other: Policy, base: Policy | PolicyState | None = None) -> None:
        """Add ``other``'s observations (minus ``base``'s, when given) into this policy.

        Arms only ``other`` knows are added with its prior. Priors are kept apart from the
        observations, so they are never counted twice. An arm either side reset since ``base`` is
        merged as :meth:`Policy.merge` says (the reset is honoured). Discounted or windowed statistics depend on
        the order of outcomes, so merging them raises ``NotImplementedError``.

        Example:
            >>> from toolrouter.policies import make_policy
            >>> a = make_policy("gaussian_ts", seed=0); a.add_arm("x")
            >>> snapshot = a.state_dict()
            >>> b = make_policy("gaussian_ts", seed=1); b.load_state_dict(snapshot)
            >>> a.update("x", 1.0); b.update("x", 0.0)
            >>> a.merge(b, base=snapshot); float(a.state_dict()["arrays"]["n"][0])
            2.0
        """
        self._check_mergeable(other)
        if self.forgets:
            raise NotImplementedError(
                f"{self.name} with discount={self.discount!r}, window={self.window!r}: forgetting makes the "
                "statistics depend on the order of outcomes, so they cannot be merged; merge policies "
                "without discount or window, or keep one writer"
            )
        assert isinstance(other, CountingPolicy)
        base_policy = self._as_policy(base) if base is not None else None
        stats = {k: a.copy() for k, a in self._stats.items()}
        arm_ids = list(self._arm_ids)
        resets = dict(self._resets)
        t = self.t + other.t - (base_policy.t if base_policy is not None else 0)
        for j, arm in enumerate(other._arm_ids):
            if arm not in self._index and base_policy is not None and arm in base_policy._index:
                continue  # this process removed the arm since the snapshot: keep it removed
            reset = self._reset_since(other, base_policy, arm) if arm in self._index else None
            if reset == "self":
                continue  # other's outcomes of it since base may predate the change the reset answered
            if reset == "other":  # its statistics since its reset replace this policy's
                for k in _STAT_NAMES:
                    stats[k][self._index[arm]] = other._stats[k][j]
                resets[arm] = other._resets[arm]
                continue
            delta = tuple(other._stats[k].item(j) for k in _OUTCOME_NAMES)
            if base_policy is not None and arm in base_policy._index:
                b = base_policy._index[arm]
                n_b, mean_b, m2_b, w2_b = (base_policy._stats[k].item(b) for k in _OUTCOME_NAMES)
                if delta[0] - n_b < -1e-9:
                    raise ValueError(
                        f"base: arm {arm!r} has more observations in base than in other; base is not "
                        "a snapshot other started from"
                    )
                delta = _combine(*delta, -n_b, mean_b, -m2_b, -w2_b)  # other's outcomes since base
            if arm in self._index:
                i = self._index[arm]
            else:
                i = len(arm_ids)
                arm_ids.append(arm)
                if arm in other._resets:
                    resets[arm] = other._resets[arm]
                for k in _PRIOR_NAMES:
                    stats[k] = np.append(stats[k], other._stats[k][j])
                for k in _OUTCOME_NAMES:
                    stats[k] = np.append(stats[k], 0.0)
            merged = _combine(*(stats[k].item(i) for k in _OUTCOME_NAMES), *delta)
            for k, value in zip(_OUTCOME_NAMES, merged):
                stats[k][i] = value
        self._stats = stats
        self._arm_ids = arm_ids
        self._index = {a: i for i, a in enumerate(arm_ids)}
        self._resets = resets
        self.t = max(t, 0)

    # --- helpers -----------------------------------------------------------------------------
    def counts(self, arm_ids: Sequence[str]) -> np.ndarray:
        """Weighted number of observations per arm (after forgetting), without the prior."""
        return self._stats["n"][self._positions(arm_ids)].copy()
