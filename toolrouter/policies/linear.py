"""Contextual linear bandits: LinUCB and linear Thompson sampling, with rank-1 updates only.

Each arm ``a`` keeps a Bayesian linear model of the reward given a context (dimension ``d``). With
``intercept=True`` (the default) the model reads ``x = [context, 1]`` (``d + 1`` weights): the last
weight is the arm's reward before the context says anything, so that what a tool earns on average is
learned from every request, and a prior can say what a tool is expected to earn (a scalar prior mean
is that weight's). Precision ``A_a = A0_a + sum x x^T``, ``b_a = A0_a m0_a + sum r x``, mean
``theta_a = A_a^{-1} b_a``.
Instead of ``A_a^{-1}`` we keep an upper square-root factor ``R_a`` with ``A_a^{-1} = R_a^T R_a``
(Potter's square-root form), updated in O(d^2) per outcome:

    phi = R x,  P x = R^T phi,  a = 1 / (1 + |phi|^2),  c = a / (1 + sqrt(a))
    R <- R - c phi (P x)^T,      theta <- theta + a (r - x^T theta) P x

No matrix is ever inverted on the hot path (only ``merge`` inverts, once per arm). ``A_a`` is kept
too (a rank-1 add), because it is additive and so can be merged across processes.

Cost of one decision with ``K`` candidate arms:

- LinUCB needs ``|R_a x|`` for every arm: one (K d x d) matrix-vector product, K d^2 multiply-adds
  (memory-bound: at d = 384, K = 50 it streams 59 MB per decision, milliseconds).
- Linear Thompson sampling, ``exact=True``: the same product; the score ``x^T theta_a + v |R_a x| z_a``
  is an exact draw of ``x^T theta~_a`` with ``theta~_a ~ N(theta_a, v^2 A_a^{-1})``.
- Linear Thompson sampling, cached draws (``exact=False``; the default above a cost budget): each
  arm keeps a posterior draw ``theta~_a = theta_a + v R_a^T z`` (one O(d^2) product). A draw is refreshed when its arm is
  updated (its posterior changed), and on every decision the ``refresh_arms`` candidates whose draws
  are oldest are redrawn. A decision is then one (K x d) product plus ``refresh_arms`` redraws,
  K d + r d^2 multiply-adds: about twenty times less work than the exact form at d = 384, K = 50.

Trade-off of the cached draws: a draw is reused for up to ``K / refresh_arms`` decisions (like
batched or delayed Thompson sampling), so consecutive decisions are correlated; every draw is still
an exact sample of the arm's current posterior, since a posterior changes only when its arm is
updated, and then the draw is refreshed at once. Exploration cannot stall for good: an arm whose
draw was unlucky gets a new one within ``ceil(K / refresh_arms)`` decisions even if it is never
chosen. But it is slower: an arm that is behind gets ``refresh_arms / K`` fresh chances per
decision instead of one. Measured with ``toolrouter bench routing`` (docs/benchmarks/routing.md):
when the context barely changes (a constant context, i.e. a non-contextual problem), cached draws
can stay on a second-best tool for hundreds of decisions in some seeds, where exact draws do not;
with varying contexts they do about as well as exact draws, since a new context already changes
every score. (A bank of several pre-drawn noise vectors per arm would not help: it spreads the
same ``refresh_arms`` fresh draws per decision over more decisions.) So the default (``exact=None``) draws exactly whenever that is cheap (``K d^2`` up to
``exact_budget``, which covers small context dimensions) and uses the cached draws only for
large ones, where contexts are rich (text embeddings) and exact draws cost milliseconds.

Example:
    >>> import numpy as np
    >>> p = LinearThompson(context_dim=2, seed=0)
    >>> for arm in ("left", "right"): p.add_arm(arm)
    >>> for _ in range(50):
    ...     p.update("left", 1.0, np.array([1.0, 0.0])); p.update("right", 1.0, np.array([0.0, 1.0]))
    ...     p.update("left", 0.0, np.array([0.0, 1.0])); p.update("right", 0.0, np.array([1.0, 0.0]))
    >>> p.select(["left", "right"], np.array([0.0, 1.0]))
    'right'
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.linalg.blas import dger

from toolrouter._checks import check_count, check_real, no_bools, real_array
from toolrouter.errors import CorruptStateError
from toolrouter.policies.base import MAX_ABS_REWARD, ArmPrior, Policy, PolicyState, prior_count, prior_field
from toolrouter.serialization import MAX_SAVED_DIM, short_repr


__all__ = ["LinUCB", "LinearThompson"]

#: Context entries beyond this magnitude are rejected: their outer products would overflow.
MAX_ABS_CONTEXT = 1e6


def checked_context(context: Any, d: int, policy: str, field: str = "context") -> np.ndarray:
    """``context`` as a float64 vector of length ``d``, or a ValueError naming ``field``: a bool
    entry is refused, not read as 1.0 (``no_bools``), as the router refuses it in features."""
    if context is None:
        raise ValueError(f"{field}: {policy} needs a context vector of dimension {d}, got None")
    x = real_array(field, no_bools(field, context))
    if x.shape != (d,):
        raise ValueError(f"{field}: expected {d} numbers, shape ({d},) (context_dim={d}), got shape {x.shape}")
    if not np.all(np.abs(x) <= MAX_ABS_CONTEXT):  # also catches NaN
        raise ValueError(f"{field}: entries must be finite and within +-{MAX_ABS_CONTEXT:g}")
    return x


def is_symmetric(cov: np.ndarray) -> bool:
    """Whether a square matrix is symmetric up to rounding, relative to its largest entry (an
    absolute tolerance would take any matrix of small entries, however lopsided)."""
    return bool(np.all(np.abs(cov - cov.T) <= 1e-8 * np.abs(cov).max()))


def _add_outer(a: np.ndarray, alpha: float, x: np.ndarray, y: np.ndarray) -> None:
    """``a += alpha * outer(x, y)`` in place with BLAS's rank-1 update: no d x d temporary, about
    9x faster than the numpy expression at d = 384 (the update's whole cost)."""
    out = dger(alpha, y, x, a=a.T, overwrite_a=True)  # a.T: the Fortran-ordered view BLAS updates
    if not np.may_share_memory(out, a):  # BLAS had to copy (a not contiguous): write back
        a[...] = out.T


class _LinearPolicy(Policy):
    """Shared statistics and updates of the linear policies."""

    contextual = True

    def __init__(
        self,
        *,
        context_dim: int,
        seed: int | None = None,
        regularization: float = 1.0,
        exploration: float = 1.0,
        intercept: bool = True,
    ) -> None:
        super().__init__(seed=seed)
        if not isinstance(intercept, bool):
            raise ValueError(f"intercept must be True or False, got {short_repr(intercept)}")
        # no larger than a saved state may be: a router could save a larger one but never load it
        self.context_dim = check_count("context_dim", context_dim, low=1, high=MAX_SAVED_DIM - intercept)
        self.regularization = check_real("regularization", regularization, low=0, low_open=True)
        self.exploration = check_real("exploration", exploration, low=0)
        self.intercept = intercept
        self.options = {
            "context_dim": self.context_dim,
            "regularization": self.regularization,
            "exploration": self.exploration,
            "intercept": intercept,
        }
        #: number of weights per arm: the context's, and the intercept's
        self.dim = d = self.context_dim + intercept
        self._check_spread(d / self.regularization, "regularization", regularization)
        self.t = 0
        self._A = np.zeros((0, d, d))
        self._b = np.zeros((0, d))
        self._R = np.zeros((0, d, d))
        self._theta = np.zeros((0, d))

    # --- input checks ------------------------------------------------------------------------
    def _check_context(self, context: np.ndarray | None) -> np.ndarray:
        """The model's input: the checked context, with the intercept's constant 1 appended."""
        x = checked_context(context, self.context_dim, self.name)
        if not self.intercept:
            return x
        z = np.empty(self.dim)  # cheaper than np.append, on every decision and update
        z[:-1] = x
        z[-1] = 1.0
        return z

    def _candidates(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
        """(R, theta) of the candidates, as views when they are all arms in order."""
        k = self._theta.shape[0]
        if idx.shape[0] == k and np.array_equal(idx, np.arange(k)):
            return self._R, self._theta, True
        return self._R[idx], self._theta[idx], False

    def _stddev(self, R: np.ndarray, x: np.ndarray) -> np.ndarray:
        """sqrt(x^T A_a^{-1} x) per arm, as one (K d x d) matrix-vector product."""
        k, d = R.shape[0], self.dim
        phi = (R.reshape(k * d, d) @ x).reshape(k, d)
        return np.sqrt(np.einsum("kd,kd->k", phi, phi))

    # --- priors and arms ---------------------------------------------------------------------
    def _check_spread(self, trace: float, field: str, value: Any, error: type[ValueError] = ValueError) -> None:
        """Refuse a covariance of ``trace`` (a prior's, or a saved arm's) that the largest context
        (``x^T cov x`` up to ``trace * dim * MAX_ABS_CONTEXT**2``) would overflow: the first update
        would make the arm's weights NaN, and the state would never load again."""
        if not math.isfinite(trace * self.dim * MAX_ABS_CONTEXT**2):
            raise error(
                f"{field}: a variance this large (trace {trace:g}) overflows an update with contexts "
                f"up to +-{MAX_ABS_CONTEXT:g} in {self.dim} weights, got {short_repr(value)}"
            )

    def _prior_arrays(self, prior: ArmPrior | None) -> tuple[np.ndarray, ...]:
        """(A0, b0, R0, theta0) of one arm.

        ``prior.mean``: a scalar is the intercept's (the arm's expected reward, with no effect of
        the context yet; without an intercept, every weight's), shape ``(context_dim,)`` the
        context's weights (intercept 0), shape ``(dim,)`` all weights. ``prior.variance``: a
        scalar (every weight's), a diagonal or a covariance over the context's weights (the
        intercept's is then ``1 / regularization``) or over all ``dim`` weights, or ``None``
        (``1 / regularization``, every weight's)."""
        d, c, lam = self.dim, self.context_dim, self.regularization
        if prior is None:
            return np.eye(d) * lam, np.zeros(d), np.eye(d) / math.sqrt(lam), np.zeros(d)
        for field in ("pseudo_count", "variance_pseudo_count"):  # not read here, but never nonsense
            if getattr(prior, field) is not None:
                prior_count(prior, field)
        mean = prior_field(prior, "mean")
        if mean.ndim == 0:
            mean = np.append(np.zeros(c), float(mean)) if self.intercept else np.full(d, float(mean))
        elif mean.shape == (c,) and self.intercept:
            mean = np.append(mean, 0.0)
        shapes = f"({c},) or ({d},)" if self.intercept else f"({d},)"
        if mean.shape != (d,):
            raise ValueError(f"prior.mean: expected a scalar or shape {shapes}, got shape {mean.shape}")
        if not np.all(np.isfinite(mean)):
            raise ValueError(f"prior.mean must be finite, got {short_repr(prior.mean)}")
        # None: the policy's own, as for an arm added without a prior
        var = np.full(d, 1.0 / lam) if prior.variance is None else prior_field(prior, "variance")
        if not np.all(np.isfinite(var)):
            raise ValueError("prior.variance: contains non-finite values")
        if self.intercept and var.shape in ((c,), (c, c)):  # over the context's weights: the intercept's own
            var = np.append(var, 1.0 / lam) if var.ndim == 1 else np.block(
                [[var, np.zeros((c, 1))], [np.zeros((1, c)), np.full((1, 1), 1.0 / lam)]]
            )
        if var.ndim == 0 or var.shape == (d,):
            diag = np.broadcast_to(var, (d,))
            if np.any(diag <= 0):
                raise ValueError(f"prior.variance must be > 0, got {short_repr(prior.variance)}")
            with np.errstate(over="ignore"):  # an overflow is refused below
                A0, R0 = np.diag(1.0 / diag), np.diag(np.sqrt(diag))
        elif var.shape == (d, d):
            if not is_symmetric(var):
                raise ValueError("prior.variance: a covariance matrix must be symmetric")
            var = 0.5 * (var + var.T)  # the factor and the precision of one matrix
            try:
                R0 = np.linalg.cholesky(var).T
                A0 = np.linalg.inv(var)
            except np.linalg.LinAlgError:
                raise ValueError("prior.variance: the covariance matrix must be positive definite") from None
        else:
            square = f"({c}, {c}) or ({d}, {d})" if self.intercept else f"({d}, {d})"
            raise ValueError(
                f"prior.variance: expected a scalar or shape {shapes} or {square}, got shape {var.shape}"
            )
        with np.errstate(over="ignore"):  # an overflow is refused
            trace = float(np.sum(R0 * R0))
        self._check_spread(trace, "prior.variance", prior.variance)
        with np.errstate(over="ignore", invalid="ignore"):
            b0 = A0 @ mean
        if not (np.all(np.isfinite(A0)) and np.all(np.isfinite(b0))):  # a state holding them would never load
            raise ValueError(
                f"prior: its precision (the inverse of variance) or precision @ mean overflows, got "
                f"variance={short_repr(prior.variance)}, mean={short_repr(prior.mean)}"
            )
        return A0, b0, R0, mean.copy()

    def _grow(self, prior: ArmPrior | None) -> None:
        self._append_rows(self._new_rows(prior))

    def _new_rows(self, prior: ArmPrior | None) -> dict[str, Any]:
        """The new arm's row of each per-arm array, by name (validates ``prior``)."""
        return dict(zip(("A", "b", "R", "theta"), self._prior_arrays(prior)))

    def _append_rows(self, rows: dict[str, Any]) -> None:
        """Append one arm's row to each array ``self._<name>``, O(d^2): each array is a view of the
        first rows of a buffer with spare rows, so the other arms' d x d matrices are not copied
        (only when a buffer is full; it then grows by half, so the copies average out to a few rows
        per arm). Every row is written first and the views assigned last, so a failure leaves the
        policy unchanged. Arrays assigned elsewhere (load, merge, removal) are fresh: the first add
        after them moves the rows into a new buffer."""
        views = {}
        for name, row in rows.items():
            a = getattr(self, f"_{name}")
            k, buf = a.shape[0], a.base
            if not (
                isinstance(buf, np.ndarray) and buf.base is None and buf.flags.c_contiguous and buf.shape[0] > k
                and buf.shape[1:] == a.shape[1:] and buf.dtype == a.dtype and buf.ctypes.data == a.ctypes.data
            ):  # not the first rows of a buffer with room: a new one
                buf = np.empty((k + k // 2 + 4, *a.shape[1:]), dtype=a.dtype)
                buf[:k] = a
            buf[k] = row
            views[name] = buf[: k + 1]
        for name, view in views.items():
            setattr(self, f"_{name}", view)

    def _drop(self, position: int) -> None:
        for name in ("_A", "_b", "_R", "_theta"):
            setattr(self, name, np.delete(getattr(self, name), position, axis=0))

    def _reset(self, position: int, prior: ArmPrior | None) -> None:
        A0, b0, R0, theta0 = self._prior_arrays(prior)
        self._A[position], self._b[position], self._R[position], self._theta[position] = A0, b0, R0, theta0

    def population_prior(self, exclude: str | None = None) -> ArmPrior:
        """The other arms' mean weights, with a diagonal covariance of the prior's own
        ``1 / regularization`` plus the variance of each weight between the arms (a reset arm
        predicts what the others predict on average, and explores where they differ).

        Example:
            >>> import numpy as np
            >>> p = LinUCB(context_dim=2); p.add_arm("a"); p.add_arm("b")
            >>> for _ in range(50): p.update("a", 1.0, np.array([1.0, 0.0]))
            >>> prior = p.population_prior(exclude="b"); np.round(prior.mean, 2).tolist()  # weights, intercept
            [0.5, 0.0, 0.5]
        """
        others = self._population_arms(exclude)
        # within the rewards a policy learns from, as the counting policies' population prior: an
        # extreme prior weight (1e200) overflowed the spread, and the prior built was refused
        thetas = np.clip(self._theta[others], -MAX_ABS_REWARD, MAX_ABS_REWARD)
        spread = thetas.var(axis=0) if len(thetas) > 1 else np.zeros(self.dim)
        if not len(thetas):
            return ArmPrior(mean=0.0, variance=1.0 / self.regularization)
        return ArmPrior(mean=thetas.mean(axis=0), variance=1.0 / self.regularization + spread)

    # --- learning ----------------------------------------------------------------------------
    def expected(self, arm_ids: Sequence[str], context: np.ndarray | None = None) -> np.ndarray:
        """Posterior mean reward ``x^T theta_a`` per arm."""
        x = self._check_context(context)
        return self._theta[self._positions(arm_ids)] @ x

    def stddev(self, arm_ids: Sequence[str], context: np.ndarray | None = None) -> np.ndarray:
        """Posterior standard deviation of ``x^T theta_a`` per arm (before ``exploration``)."""
        x = self._check_context(context)
        R, _, _ = self._candidates(self._positions(arm_ids))
        return self._stddev(R, x)

    def update(self, arm_id: str, reward: float, context: np.ndarray | None = None) -> None:
        """Rank-1 update of the arm's factor, precision and mean; O(d^2)."""
        x = self._check_context(context)
        reward = self._check_reward(reward)
        i = self._position(arm_id)
        R, theta = self._R[i], self._theta[i]
        phi = R @ x
        px = phi @ R
        a = 1.0 / (1.0 + float(phi @ phi))
        c = a / (1.0 + math.sqrt(a))
        err = reward - float(x @ theta)
        _add_outer(R, -c, phi, px)
        _add_outer(self._A[i], 1.0, x, x)
        self._b[i] += reward * x
        theta += (a * err) * px
        self.t += 1
        self._after_update(i)

    def _after_update(self, i: int) -> None:
        """Hook for subclasses that cache per-arm draws."""

    # --- state -------------------------------------------------------------------------------
    _ARRAYS = ("A", "b", "R", "theta")

    def _extra_config(self) -> dict[str, Any]:
        return {}

    def state_dict(self) -> PolicyState:
        """``config``: name, options, arm ids, counters, RNG state; ``arrays``: A, b, R, theta
        (and the cached draws of linear Thompson sampling)."""
        config: dict[str, Any] = {
            "policy": self.name,
            "options": dict(self.options),
            "arm_ids": list(self._arm_ids),
            "t": self.t,
            "rng": self._rng_state(),
            **self._extra_config(),
            **self._resets_config(),
        }
        arrays = {name: getattr(self, f"_{name}").copy() for name in self._ARRAYS}
        return {"config": config, "arrays": arrays}

    def _shape(self, name: str, k: int) -> tuple[int, ...]:
        d = self.dim
        return {"A": (k, d, d), "R": (k, d, d), "stamp": (k,)}.get(name, (k, d))

    def load_state_dict(self, state: PolicyState) -> None:
        """Restore a ``state_dict``; a malformed state raises ``CorruptStateError`` (a
        ``ValueError``) naming the key or array, and changes nothing. A state saved before linear
        policies had an intercept loads too (see ``_with_intercept``)."""
        state = self._with_intercept(state)
        config = self._check_config(state)
        k = len(config["arm_ids"])
        loaded = {
            name: self._checked_array(
                state["arrays"], name, self._shape(name, k), np.int64 if name == "stamp" else np.float64
            )
            for name in self._ARRAYS
        }
        with np.errstate(over="ignore"):  # an overflow is refused
            traces = np.einsum("kij,kij->k", loaded["R"], loaded["R"])
        for i, (arm, trace) in enumerate(zip(config["arm_ids"], traces.tolist())):
            # updates only narrow an arm's covariance (R^T R): one wider than any prior taken is damaged
            self._check_spread(trace, f"state.arrays.R: arm {arm!r}", loaded["R"][i], CorruptStateError)
        t = self._checked_t(config)
        extra = self._check_extra_config(config)
        rng = self._new_rng(config.get("rng", {}))
        resets = self._checked_resets(config)
        self.rng = rng
        self._resets = resets
        for name, a in loaded.items():
            setattr(self, f"_{name}", a)
        self.t = t
        for key, value in extra.items():
            setattr(self, key, value)
        self._arm_ids = list(config["arm_ids"])
        self._index = {a: i for i, a in enumerate(self._arm_ids)}

    def _check_extra_config(self, config: dict[str, Any]) -> dict[str, Any]:
        return {}

    def _with_intercept(self, state: PolicyState) -> PolicyState:
        """``state`` as this policy saves it, if it was saved before linear policies had an
        intercept (its options do not say): its arms read the context alone. Into a policy with an
        intercept, each arm gets one that has seen nothing (mean 0, variance ``1 /
        regularization``, independent of the weights) and learns from the next outcomes on; what
        the weights learned is kept exactly. Anything else is returned as it is, for the checks."""
        config = state.get("config") if isinstance(state, dict) else None
        options = config.get("options") if isinstance(config, dict) else None
        if not isinstance(options, dict) or "intercept" in options:
            return state
        config = {**config, "options": {**options, "intercept": self.intercept}}
        arrays = state.get("arrays")
        if not self.intercept or not isinstance(arrays, dict):
            return {**state, "config": config}
        c, lam = self.context_dim, self.regularization
        padded = dict(arrays)
        for name, corner in (("A", lam), ("R", 1.0 / math.sqrt(lam)), ("b", None), ("theta", None), ("draw", None)):
            try:
                a = np.asarray(arrays[name], dtype=np.float64)
            except (KeyError, TypeError, ValueError):
                continue  # missing or malformed: the checks name it
            if corner is not None and a.ndim == 3 and a.shape[1:] == (c, c):
                square = np.zeros((a.shape[0], c + 1, c + 1))
                square[:, :c, :c], square[:, c, c] = a, corner
                padded[name] = square
            elif corner is None and a.ndim == 2 and a.shape[1] == c:
                padded[name] = np.concatenate([a, np.zeros((a.shape[0], 1))], axis=1)
        return {**state, "config": config, "arrays": padded}

    def merge(self, other: Policy, base: Policy | PolicyState | None = None) -> None:
        """Add ``other``'s observations (``A`` and ``b`` minus ``base``'s) into this policy.

        ``A`` and ``b`` are additive; ``R`` and ``theta`` are recomputed from them (one inversion
        and one Cholesky factorisation per changed arm). An arm in ``base`` gets ``other``'s delta
        since the base; an arm only ``other`` has is copied (with its prior); an arm added in both
        since the base (or, without a base, present in both) cannot be split into prior and
        observations and raises ``ValueError``: pass the common snapshot as ``base``. An arm either
        side reset since ``base`` is merged as :meth:`Policy.merge` says (the reset is honoured).

        Example:
            >>> import numpy as np
            >>> a = LinUCB(context_dim=2); a.add_arm("x")
            >>> snapshot = a.state_dict()
            >>> b = LinUCB(context_dim=2); b.load_state_dict(snapshot)
            >>> a.update("x", 1.0, np.array([1.0, 0.0])); b.update("x", 1.0, np.array([0.0, 1.0]))
            >>> a.merge(b, base=snapshot); a.state_dict()["arrays"]["A"][0].tolist()
            [[2.0, 0.0, 1.0], [0.0, 2.0, 1.0], [1.0, 1.0, 3.0]]
        """
        self._check_mergeable(other)
        assert isinstance(other, _LinearPolicy)
        base_policy = self._as_policy(base) if base is not None else None
        A, b = self._A.copy(), self._b.copy()
        arm_ids = list(self._arm_ids)
        resets = dict(self._resets)
        changed: list[int] = []
        for j, arm in enumerate(other._arm_ids):
            in_base = base_policy is not None and arm in base_policy._index
            reset = self._reset_since(other, base_policy, arm) if arm in self._index else None
            if reset == "self":
                continue  # other's outcomes of it since base may predate the change the reset answered
            if reset == "other":  # its statistics since its reset replace this policy's
                i = self._index[arm]
                A[i], b[i] = other._A[j], other._b[j]
                resets[arm] = other._resets[arm]
                changed.append(i)
                continue
            if in_base:
                assert base_policy is not None
                jb = base_policy._index[arm]
                if arm not in self._index:
                    continue  # this process removed the arm since the snapshot: keep it removed
                i = self._index[arm]
                A[i] += other._A[j] - base_policy._A[jb]
                b[i] += other._b[j] - base_policy._b[jb]
            elif arm in self._index:
                raise ValueError(
                    f"other: arm {arm!r} is in both policies but not in base; its prior cannot be told "
                    "apart from its observations: pass the common snapshot as base"
                )
            else:
                i = len(arm_ids)
                arm_ids.append(arm)
                if arm in other._resets:
                    resets[arm] = other._resets[arm]
                A = np.concatenate([A, other._A[j][None]])
                b = np.concatenate([b, other._b[j][None]])
            changed.append(i)
        R = np.concatenate([self._R, np.zeros((len(arm_ids) - len(self._arm_ids),) + self._R.shape[1:])])
        theta = np.concatenate([self._theta, np.zeros((len(arm_ids) - len(self._arm_ids), self.dim))])
        for i in changed:
            try:
                cov = np.linalg.inv(A[i])
                cov = 0.5 * (cov + cov.T)
                R[i] = np.linalg.cholesky(cov).T
            except np.linalg.LinAlgError:
                raise ValueError(
                    f"base: merged precision of arm {arm_ids[i]!r} is not positive definite; is base a "
                    "snapshot that other started from?"
                ) from None
            theta[i] = cov @ b[i]
        n_new = len(arm_ids) - len(self._arm_ids)
        self._A, self._b, self._R, self._theta = A, b, R, theta
        self.t += other.t - (base_policy.t if base_policy is not None else 0)
        self.t = max(self.t, 0)
        self._arm_ids = arm_ids
        self._index = {a: i for i, a in enumerate(arm_ids)}
        self._resets = resets
        self._after_merge(changed, n_new)

    def _after_merge(self, changed: list[int], n_new: int) -> None:
        """Hook for subclasses that cache per-arm draws."""


class LinUCB(_LinearPolicy):
    """LinUCB (Li et al., 2010; disjoint model): ``x^T theta_a + alpha sqrt(x^T A_a^{-1} x)``.

    ``exploration`` is ``alpha``; ``regularization`` is the prior precision ``lambda`` of an arm
    added without a prior; ``intercept`` adds a weight for a constant feature (see the module
    docstring). Deterministic given its statistics; K d^2 work per decision.

    Example:
        >>> import numpy as np
        >>> p = LinUCB(context_dim=3)
        >>> p.add_arm("a"); p.add_arm("b")
        >>> p.update("a", 1.0, np.ones(3))
        >>> p.sample(["a", "b"], np.ones(3)).shape
        (2,)
    """

    name = "linucb"

    def sample(self, arm_ids: Sequence[str], context: np.ndarray | None = None) -> np.ndarray:
        """The upper confidence bound of each arm's reward at ``context``."""
        x = self._check_context(context)
        R, theta, _ = self._candidates(self._positions(arm_ids))
        return theta @ x + self.exploration * self._stddev(R, x)


class LinearThompson(_LinearPolicy):
    """Linear Thompson sampling (Agrawal and Goyal, 2013) with cached per-arm posterior draws.

    ``exploration`` scales the posterior's spread (``v``, about the standard deviation of the
    reward noise; default 0.5, which suits utilities of a few units, as measured on the synthetic
    contextual stream of ``toolrouter bench routing``); ``refresh_arms`` is how many of the
    oldest candidate draws are redrawn per decision (default 2). ``exact``: ``True`` draws every
    score afresh from its exact marginal (K d^2 work per decision), ``False`` uses the cached
    draws, ``None`` (default) chooses per decision: exact while ``K d^2 <= exact_budget``
    (2^18 multiply-adds, tens of microseconds), cached above. See the module docstring for the
    trade-off. ``intercept`` adds a weight for a constant feature (see the module docstring).

    Example:
        >>> import numpy as np
        >>> p = LinearThompson(context_dim=3, seed=0)
        >>> p.add_arm("a"); p.add_arm("b")
        >>> p.update("a", 1.0, np.ones(3))
        >>> p.select(["a", "b"], np.ones(3)) in ("a", "b")
        True
    """

    name = "lin_ts"
    _ARRAYS = ("A", "b", "R", "theta", "draw", "stamp")

    def __init__(
        self,
        *,
        context_dim: int,
        seed: int | None = None,
        regularization: float = 1.0,
        exploration: float = 0.5,
        refresh_arms: int = 2,
        exact: bool | None = None,
        exact_budget: int = 1 << 18,
        intercept: bool = True,
    ) -> None:
        super().__init__(
            context_dim=context_dim,
            seed=seed,
            regularization=regularization,
            exploration=exploration,
            intercept=intercept,
        )
        refresh_arms = check_count("refresh_arms", refresh_arms, low=1)
        if exact is not None and not isinstance(exact, bool):
            raise ValueError(f"exact must be True, False or None (automatic), got {exact!r}")
        exact_budget = check_count("exact_budget", exact_budget)
        self.refresh_arms = refresh_arms
        self.exact = exact
        self.exact_budget = exact_budget
        self.options.update(refresh_arms=self.refresh_arms, exact=exact, exact_budget=self.exact_budget)
        self.decisions = 0
        self._draw = np.zeros((0, self.dim))
        self._stamp = np.zeros(0, dtype=np.int64)

    def _redraw(self, i: int) -> None:
        z = self.rng.standard_normal(self.dim)
        self._draw[i] = self._theta[i] + self.exploration * (z @ self._R[i])
        self._stamp[i] = self.decisions

    def _new_rows(self, prior: ArmPrior | None) -> dict[str, Any]:
        rows = super()._new_rows(prior)
        return {**rows, "draw": rows["theta"], "stamp": 0}

    def _grow(self, prior: ArmPrior | None) -> None:
        super()._grow(prior)
        self._redraw(self._theta.shape[0] - 1)

    def _drop(self, position: int) -> None:
        super()._drop(position)
        self._draw = np.delete(self._draw, position, axis=0)
        self._stamp = np.delete(self._stamp, position)

    def _reset(self, position: int, prior: ArmPrior | None) -> None:
        super()._reset(position, prior)
        self._redraw(position)  # the cached draw must come from the new posterior

    def _after_update(self, i: int) -> None:
        if self.exact is not True:  # the cached draw must follow the posterior it came from
            self._redraw(i)

    def _after_merge(self, changed: list[int], n_new: int) -> None:
        self._draw = np.concatenate([self._draw, np.zeros((n_new, self.dim))])
        self._stamp = np.concatenate([self._stamp, np.full(n_new, -1, dtype=np.int64)])
        for i in changed:
            self._redraw(i)

    def decision_state(self) -> Any:
        """The generator's state, the decision counter and the cached draws with their stamps
        (a decision redraws some)."""
        return super().decision_state(), self.decisions, self._draw.copy(), self._stamp.copy()

    def restore_decision_state(self, state: Any) -> None:
        base, decisions, draw, stamp = state
        super().restore_decision_state(base)  # first: it refuses a state of other arms
        # copies: decisions redraw in place, and the same state may be restored again
        self.decisions, self._draw, self._stamp = decisions, draw.copy(), stamp.copy()

    def _extra_config(self) -> dict[str, Any]:
        return {"decisions": self.decisions}

    def _check_extra_config(self, config: dict[str, Any]) -> dict[str, Any]:
        return {"decisions": self._checked_counter(config, "decisions")}

    def sample(self, arm_ids: Sequence[str], context: np.ndarray | None = None) -> np.ndarray:
        """One posterior draw of each arm's reward at ``context``."""
        x = self._check_context(context)
        idx = self._positions(arm_ids)
        k = idx.shape[0]
        exact = self.exact if self.exact is not None else k * self.dim**2 <= self.exact_budget
        if exact:
            R, theta, _ = self._candidates(idx)
            return theta @ x + self.exploration * self._stddev(R, x) * self.rng.standard_normal(idx.shape[0])
        r = min(self.refresh_arms, k)
        self.decisions += 1  # first, so that the draws made now are stamped newer than any before
        if r:
            stamps = self._stamp[idx]
            oldest = idx if r == k else idx[np.argpartition(stamps, r - 1)[:r]]
            for i in oldest:
                self._redraw(int(i))
        return self._draw[idx] @ x
