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

Resets: ``reset_arm(arm_id)`` forgets what an arm has learned (its tool changed) and restarts it, in
its place, from ``population_prior``: what the *other* arms say a tool on this route is worth, with
the spread between them added to the uncertainty, so that Thompson sampling and UCB try the reset
arm again within a few decisions instead of writing it off (a zero-mean prior would, where the
others earn more than zero). ``reset_arm(arm_id, prior)`` restarts it from a given prior.

Merging across processes: two processes that start from the same snapshot (the *base*) and each
learn from their own outcomes are combined with ``a.merge(b, base=snapshot)``: ``a`` gains ``b``'s
statistics minus the base's, so the base is counted once. Only additive statistics can be merged;
discounted or windowed statistics depend on the order of outcomes and raise ``NotImplementedError``.
Every arm counts its resets (``state_dict``'s ``config.resets``), so a merge sees an arm that either
side reset since the base and honours the reset (see ``Policy.merge``).
"""

from __future__ import annotations

import math
import numbers
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from toolrouter._checks import check_count, real_array, same_settings
from toolrouter.errors import CorruptStateError, DuplicateToolError, InvalidOutcomeError, UnknownToolError
from toolrouter.serialization import checked_array, generator_from_state, short_repr

__all__ = ["ArmPrior", "Policy", "PolicyState", "MAX_ABS_REWARD"]

#: Rewards beyond this magnitude are rejected: their squares would overflow the statistics.
MAX_ABS_REWARD = 1e9
#: A saved mean of rewards beyond this magnitude is refused (its next update would overflow): none
#: of rewards within ``MAX_ABS_REWARD`` is, but for rounding (a window takes outcomes away again).
MAX_ABS_MEAN = MAX_ABS_REWARD * (1 + 1e-6)

PolicyState = dict[str, Any]
"""``{"config": <JSON-able dict>, "arrays": {name: np.ndarray}}``; see ``Policy.state_dict``."""


@dataclass(frozen=True)
class ArmPrior:
    """Prior belief about one arm's reward.

    ``mean``: the expected reward, a scalar; linear policies also take a weight vector (a
    scalar is then the intercept's, the context's weights starting at 0; see
    ``LinUCB``). ``variance``: a scalar, or a diagonal or covariance for linear ones; ``None``: the
    policy's own, that of an arm added without a prior (``1 / regularization`` per weight for linear
    ones), so that a prior of the mean alone keeps the policy's options. ``pseudo_count``: how many
    observations the prior is worth (non-contextual policies; every policy refuses one that is
    negative or not finite). A prior worth none (``0``) has no weight once the arm has outcomes: its
    mean is the arm's estimate (``expected``) until the first outcome replaces it, and the arm counts
    as untried (``ucb1`` tries it first, ``epsilon_greedy`` on each decision that does not
    explore); ``gaussian_ts`` refuses it (its posterior needs ``pseudo_count > 0``), and
    ``beta_ts`` adds the prior's pseudo-observations to its uniform ``Beta(1, 1)``, so there it
    adds nothing. ``variance_pseudo_count``: how many
    observations the reward variance is worth where it is learned (``gaussian_ts``); ``None``: as
    many as the mean. A reset gives it its own weight: the mean is worth a tenth of an observation
    (the tool is tried soon), the variance a few, so that two equal outcomes after the reset do
    not make its posterior confident.
    """

    mean: float | np.ndarray = 0.0
    variance: float | np.ndarray | None = 1.0
    pseudo_count: float = 1.0
    variance_pseudo_count: float | None = None


class Policy(ABC):
    """Base class of the bandit policies. Subclasses keep per-arm statistics in arrays indexed by
    ``self._index[arm_id]`` and grow them in ``_grow``."""

    name: ClassVar[str] = "policy"
    contextual: ClassVar[bool] = False
    #: (low, high) for policies whose rewards must lie in a range (Beta-Bernoulli: (0, 1)).
    reward_bounds: ClassVar[tuple[float, float] | None] = None

    def __init__(self, *, seed: int | None = None) -> None:
        # numpy would take a bool for 0 or 1 and refuse a float without naming the seed
        self.rng = np.random.default_rng(None if seed is None else check_count("seed", seed))
        self._arm_ids: list[str] = []
        self._index: dict[str, int] = {}
        #: constructor options (JSON-able, without the seed); ``type(p)(**p.options)`` is a twin.
        self.options: dict[str, Any] = {}
        #: resets per arm (arms never reset left out), so that a merge can tell a reset arm
        self._resets: dict[str, int] = {}

    # --- arms --------------------------------------------------------------------------------
    @property
    def arm_ids(self) -> tuple[str, ...]:
        """The arms, in the order they were added (one tuple until the arms change: the router
        asks for them at every decision)."""
        cache = self.__dict__.get("_arm_tuple")
        if cache is None or cache[0] is not self._index or len(cache[1]) != len(self._arm_ids):
            cache = self._arm_tuple = (self._index, tuple(self._arm_ids))
        return cache[1]

    def add_arm(self, arm_id: str, prior: ArmPrior | None = None) -> None:
        """Add an arm, optionally with a prior; an existing id raises ``DuplicateToolError``, an
        id that is not a string or a prior that is not an ``ArmPrior`` a ``TypeError``."""
        if not isinstance(arm_id, str):  # the saved state holds string ids only: it would not load
            raise TypeError(f"arm_id: expected a string, got {short_repr(arm_id)}")
        _check_prior_type(prior)
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
        self._resets.pop(arm_id, None)

    def reset_arm(self, arm_id: str, prior: ArmPrior | None = None) -> ArmPrior | None:
        """Forget what ``arm_id`` has learned and restart it from ``prior``, in its place among the
        arms; returns the prior used.

        ``prior=None`` takes ``population_prior(exclude=arm_id)``. An unknown arm raises
        ``UnknownToolError``, a prior the policy cannot take ``ValueError``; either way nothing changes.

        Example:
            >>> from toolrouter.policies import make_policy
            >>> p = make_policy("gaussian_ts", seed=0)
            >>> for arm in ("a", "b", "c"): p.add_arm(arm)
            >>> for _ in range(20): p.update("a", 1.0); p.update("b", 2.0); p.update("c", 0.0)
            >>> prior = p.reset_arm("c")  # restarts at the others' mean
            >>> p.arm_ids, round(float(p.expected(["c"])[0]), 2)
            (('a', 'b', 'c'), 1.43)
        """
        i = self._position(arm_id)
        _check_prior_type(prior)
        if prior is None:
            prior = self.population_prior(exclude=arm_id)
        self._reset(i, prior)
        self._resets[arm_id] = self._resets.get(arm_id, 0) + 1
        return prior

    def restart_arm(self, arm_id: str, prior: ArmPrior | None = None) -> None:
        """Restart ``arm_id`` from ``prior`` as if it had just been added (``None``: the policy's
        prior for an arm added without one), in its place among the arms; unlike ``reset_arm``
        not counted as a reset. What a router does when the profile of a tool it has learned
        nothing of changes. An unknown arm raises ``UnknownToolError``, a prior the policy cannot
        take ``ValueError``; either way nothing changes."""
        i = self._position(arm_id)
        _check_prior_type(prior)
        self._reset(i, prior)

    def population_prior(self, exclude: str | None = None) -> ArmPrior | None:
        """A prior for a tool of this policy's population: the mean of the arms' posterior means
        (all but ``exclude``; the excluded arm's own estimate when it is the only one), with an
        uncertainty that covers the spread between them. ``None`` (this base class): the policy's
        prior for an arm added without one. An ``exclude`` that is no arm raises ``UnknownToolError``."""
        return None

    def _population_arms(self, exclude: str | None) -> np.ndarray:
        """Which arms a population prior is taken over (a mask): all but ``exclude``, or ``exclude``
        itself when it is the only one. An ``exclude`` that is no arm raises ``UnknownToolError``:
        a misspelt one would leave no arm out."""
        if exclude is not None and exclude not in self._index:
            raise UnknownToolError(exclude, field="exclude")
        others = np.array([a != exclude for a in self._arm_ids], dtype=bool)
        return others if others.any() else ~others  # alone on its route: its own long-run estimate

    def _reset(self, position: int, prior: ArmPrior | None) -> None:
        """Restart the statistics at ``position`` from ``prior`` (validated before any change).
        This fallback drops and re-adds the arm, so it moves last; the built-in families
        overwrite its statistics in place."""
        arm_id = self._arm_ids[position]
        self._grow(prior)  # validates; a bad prior leaves state unchanged
        self._drop(position)
        del self._arm_ids[position]
        self._arm_ids.append(arm_id)
        self._index = {a: k for k, a in enumerate(self._arm_ids)}

    def _position(self, arm_id: str) -> int:
        try:
            return self._index[arm_id]
        except KeyError:
            raise UnknownToolError(arm_id, field="arm_id") from None

    def _positions(self, arm_ids: Sequence[str]) -> np.ndarray:
        """Positions of ``arm_ids`` (read-only array). The router asks for the same candidate
        lists over and over, so they are cached until the arms change."""
        return self._lookup(arm_ids)[0]

    def _lookup(self, arm_ids: Sequence[str]) -> tuple[np.ndarray, bool]:
        """``(positions, every arm in order)`` of ``arm_ids``, cached as ``_positions`` says. An arm
        given twice raises ``ValueError``: it would get two draws, two chances to be chosen."""
        if not isinstance(arm_ids, tuple) and isinstance(arm_ids, str):  # its characters are no arms
            raise TypeError(f"arm_ids: expected a sequence of arm ids, got the string {short_repr(arm_ids)}")
        key = arm_ids if isinstance(arm_ids, tuple) else tuple(arm_ids)
        cache = self.__dict__.get("_pos_cache")
        if cache is None or cache[0] is not self._index or cache[1] != len(self._arm_ids):
            cache = (self._index, len(self._arm_ids), {}, (None, None))
            self._pos_cache = cache
        if key is cache[3][0]:  # the arm_ids tuple itself, asked for again: no hashing (a
            return cache[3][1]  # tuple does not cache its hash, and 50 ids cost more than the rest)
        hit = cache[2].get(key)
        if hit is None:
            positions = np.fromiter((self._position(a) for a in key), dtype=np.intp, count=len(key))
            if len(set(key)) != len(key):  # checked once per list, as it is cached
                seen: set[str] = set()
                twice = next(a for a in key if a in seen or seen.add(a))  # type: ignore[func-returns-value]
                raise ValueError(f"arm_ids: {twice!r} is given more than once, got {short_repr(list(key))}; each arm is a candidate once")
            positions.flags.writeable = False
            every = len(key) == len(self._arm_ids) and bool(np.array_equal(positions, np.arange(len(key))))
            if len(cache[2]) >= 256:
                cache[2].clear()
            hit = cache[2][key] = (positions, every)
        if hit[1]:
            self._pos_cache = (*cache[:3], (key, hit))
        return hit

    def _check_reward(self, reward: float) -> float:
        if type(reward) is not float and (isinstance(reward, (bool, np.bool_)) or not isinstance(reward, numbers.Real)):
            # float() read "1" as 1.0 and True as 1.0
            raise TypeError(f"reward: expected a real number, got {short_repr(reward)}")
        reward = float(reward)
        if not math.isfinite(reward):
            raise InvalidOutcomeError(f"reward must be finite, got {reward!r}")
        if abs(reward) > MAX_ABS_REWARD:
            raise InvalidOutcomeError(
                f"reward must lie within +-{MAX_ABS_REWARD:g}, got {reward!r}"
            )
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

    def advance(self) -> None:
        """Count one outcome of an arm this policy does not hold (a tool removed since, or one
        this router never registered): a policy that forgets (``discount``, ``window``) moves on as
        for an outcome it learns, so that its arms' statistics are the same whether or not the
        tool had an arm here when its outcome came. Others have nothing to count."""

    def sample_and_expected(
        self, arm_ids: Sequence[str], context: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(sample(...), expected(...))`` in one call; policies override it to share the
        posterior computation (the router needs both for every decision)."""
        return self.sample(arm_ids, context), self.expected(arm_ids, context)

    def select(self, arm_ids: Sequence[str], context: np.ndarray | None = None) -> str:
        """The arm with the highest sampled score, a ``str`` (numpy's ids too); no arms, or an arm
        given twice, raise ``ValueError`` and sample nothing."""
        if not len(arm_ids):
            raise ValueError("arm_ids: empty; select needs at least one arm to choose from")
        scores = self.sample(arm_ids, context)
        return str(arm_ids[int(np.argmax(scores))])  # a numpy array's id is an np.str_

    def decision_state(self) -> Any:
        """What a decision (``sample``, ``select``) changes, for ``restore_decision_state``: the
        generator's state here, with the arms it holds for; a policy that caches draws adds them."""
        return self.arm_ids, self.rng.bit_generator.state

    def restore_decision_state(self, state: Any) -> None:
        """Undo every decision made since ``decision_state()`` returned ``state``, so that the next
        decision is the one it would have been: a router does this when a plan fails after its
        tools were sampled. Arms added, removed or reordered since raise ``ValueError`` and change
        nothing: what a decision state holds per arm (cached draws) would land on other arms."""
        arms, rng = state
        if arms != self.arm_ids:
            raise ValueError(
                f"state: taken with arms {short_repr(list(arms))}, the policy now has {short_repr(list(self.arm_ids))}; "
                "a decision state restores the decisions made since it on the same arms"
            )
        self.rng.bit_generator.state = rng  # in place: a part of the policy may share the generator

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
        """Restore what ``state_dict`` returned; a malformed state raises
        ``toolrouter.errors.CorruptStateError`` (a ``ValueError``) naming the key or array, and
        changes nothing."""

    def merge(self, other: "Policy", base: "Policy | PolicyState | None" = None) -> None:
        """Add another policy's statistics into this one (same class and configuration).

        ``base``: the snapshot both started from (a policy or a ``state_dict``); its statistics are
        subtracted from ``other``'s so that they are not counted twice. Only for policies whose
        statistics are additive; the others raise ``NotImplementedError``.

        Resets are honoured: an arm that one side reset since ``base`` (``reset_arm``, a drift
        reset; each arm counts its resets) keeps that side's statistics since its reset, and the
        other side's outcomes of it since ``base`` are dropped, as they may predate the change the
        reset answered: ``other``'s reset replaces this policy's statistics of the arm with
        ``other``'s, this policy's reset keeps its own. When both reset it, this policy's are kept.
        An arm removed and added again since ``base`` is not recognised as such. The router never
        merges (several processes learn together by replaying the shared attempt log).
        """
        raise NotImplementedError(f"{self.name} statistics cannot be merged")

    # --- helpers for subclasses --------------------------------------------------------------
    def _rng_state(self) -> dict[str, Any]:
        return self.rng.bit_generator.state

    @staticmethod
    def _new_rng(state: Any) -> np.random.Generator:
        """A generator restored from a saved ``state`` (validated before any assignment)."""
        return generator_from_state(state, "state.config.rng")

    @staticmethod
    def _checked_array(
        arrays: dict[str, Any], name: str, shape: tuple[int, ...], dtype: type = np.float64, field: str = "state.arrays"
    ) -> np.ndarray:
        """``arrays[name]`` as a fresh array of ``dtype`` and ``shape``, all finite, or a
        ``CorruptStateError`` naming it (``toolrouter.serialization.checked_array``)."""
        return checked_array(arrays, name, shape, dtype, field=field)

    @staticmethod
    def _checked_counter(config: dict[str, Any], key: str) -> int:
        """A non-negative int counter of a saved config (``t``, ``decisions``), or an error naming it."""
        return check_count(f"state.config.{key}", config.get(key), high=2**63 - 1, error=CorruptStateError)

    @classmethod
    def _checked_t(cls, config: dict[str, Any]) -> int:
        """The update counter of a saved state, or a ``CorruptStateError`` naming it."""
        return cls._checked_counter(config, "t")

    def _check_config(self, state: PolicyState) -> dict[str, Any]:
        """The ``config`` of ``state`` after checking that it belongs to this policy; a malformed
        state raises ``CorruptStateError`` (a ``ValueError``) naming the key."""
        if not isinstance(state, dict) or not isinstance(state.get("config"), dict) or "arrays" not in state:
            raise CorruptStateError("state must be a dict with a 'config' dict and 'arrays'")
        config, arrays = state["config"], state["arrays"]
        if not isinstance(arrays, dict):
            raise CorruptStateError(f"state.arrays must be a dict, got {type(arrays).__name__}")
        if config.get("policy") != self.name:
            raise CorruptStateError(f"state.config.policy: expected {self.name!r}, got {short_repr(config.get('policy'))}")
        if not same_settings(config.get("options"), self.options):
            raise CorruptStateError(
                f"state.config.options: {short_repr(config.get('options'))} differ from this policy's {self.options!r}"
            )
        arm_ids = config.get("arm_ids")
        if (
            not isinstance(arm_ids, list)
            or not all(isinstance(a, str) for a in arm_ids)
            or len(set(arm_ids)) != len(arm_ids)
        ):
            raise CorruptStateError(f"state.config.arm_ids: expected a list of unique ids, got {short_repr(arm_ids)}")
        return config

    def _as_policy(self, state: "Policy | PolicyState") -> "Policy":
        if isinstance(state, Policy):
            if type(state) is not type(self) or state.options != self.options:
                raise ValueError(
                    f"base: expected a {type(self).__name__} with options {self.options!r}, got "
                    f"{type(state).__name__} with {getattr(state, 'options', None)!r}"
                )
            return state
        twin = type(self)(**self.options)
        twin.load_state_dict(state)
        return twin

    def _reset_since(self, other: "Policy", base: "Policy | None", arm_id: str) -> str | None:
        """Which side reset ``arm_id`` (an arm of both) since ``base``: ``"self"`` (``other``'s
        outcomes of it are dropped), ``"other"`` (its statistics replace this policy's) or None."""
        in_base = 0 if base is None or arm_id not in base._index else base._resets.get(arm_id, 0)
        if self._resets.get(arm_id, 0) != in_base:
            return "self"
        if other._resets.get(arm_id, 0) != in_base:
            return "other"
        return None

    def _resets_config(self) -> dict[str, Any]:
        """``{"resets": {arm: count}}`` for ``state_dict``'s config; nothing while no arm was reset."""
        return {"resets": dict(self._resets)} if self._resets else {}

    def _checked_resets(self, config: dict[str, Any]) -> dict[str, int]:
        """The reset counts of a saved config (none in states saved before they were kept), or a
        ``CorruptStateError`` naming them."""
        resets = config.get("resets", {})
        if not isinstance(resets, dict) or not set(resets) <= set(config["arm_ids"]):
            raise CorruptStateError(f"state.config.resets: expected a dict of arm id -> count, got {short_repr(resets)}")
        return {arm: check_count(f"state.config.resets[{arm!r}]", n, low=1, error=CorruptStateError) for arm, n in resets.items()}

    def _check_mergeable(self, other: "Policy") -> None:
        if other is self:  # its outcomes would count twice
            raise ValueError("other: a policy cannot be merged into itself; merge a second process's policy")
        if type(other) is not type(self) or other.options != self.options:
            raise ValueError(
                f"other: can only merge a {type(self).__name__} with options {self.options!r}, got "
                f"{type(other).__name__} with {getattr(other, 'options', None)!r}"
            )


def prior_field(prior: ArmPrior, field: str) -> np.ndarray:
    """``prior.<field>`` as a float64 array; a string, bytes or a bool, which ``float()`` and numpy
    read as numbers (``"2"`` as 2.0, ``True`` as 1.0), raise a ``ValueError`` naming the field."""
    value = getattr(prior, field)
    x = real_array(f"prior.{field}", value)
    if np.asarray(value).dtype.kind == "b":
        raise ValueError(f"prior.{field}: expected real numbers, got {short_repr(value)}")
    return x


def prior_count(prior: ArmPrior, field: str) -> float:
    """``prior.<field>`` (``pseudo_count`` or ``variance_pseudo_count``) as a finite number >= 0,
    or a ``ValueError`` naming the field. Every policy checks them, also those that do not read
    them (the linear ones), so that a prior is refused or taken alike whichever policy gets it."""
    x = prior_field(prior, field)
    if x.size != 1:
        raise ValueError(f"prior.{field}: expected a number, got {short_repr(getattr(prior, field))}")
    value = float(x.reshape(()))
    if not math.isfinite(value):
        raise ValueError(f"prior.{field} must be finite, got {value!r}")
    if value < 0:
        raise ValueError(f"prior.{field} must be >= 0, got {value!r}")
    return value


def _check_prior_type(prior: Any) -> None:
    """``prior`` an ``ArmPrior`` or ``None``, else a ``TypeError`` naming it (not an
    ``AttributeError`` from inside the policy)."""
    if prior is not None and not isinstance(prior, ArmPrior):
        raise TypeError(f"prior: expected an ArmPrior or None, got {type(prior).__name__}")
