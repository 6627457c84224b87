"""Neural-linear Thompson sampling: linear Thompson sampling on the features of a neural encoder.

The reward of arm ``a`` at context ``x`` is modelled as ``phi(x)^T w_a``, where ``phi`` is a small
tanh network (``context_dim -> hidden -> features``, plus a constant feature) and each arm's head
``w_a`` has a Gaussian posterior kept exactly, with rank-1 updates, by ``LinearThompson`` (so the
uncertainty stays calibrated, unlike a network trained to a point estimate; Riquelme et al., 2018).

Where ``phi`` and the heads' priors come from:

- alone (``make_policy("neural_linear", context_dim=d)``), ``phi`` is a random tanh network (seeded by
  ``init_seed``): a random-feature linear bandit, which already learns;
- with a meta-trained reward model (``toolrouter.reward_model``), ``phi`` is the model's encoder
  (``set_feature_map``) and each arm's prior is the model's head for that tool, with the covariance
  and noise level measured across task types, so that a new task type or a new tool starts from
  what the others taught.

Decision cost: one small matrix-vector product for ``phi(x)`` (``hidden * (context_dim + features)``
multiply-adds) plus linear Thompson sampling in ``features + 1`` dimensions.

Example:
    >>> import numpy as np
    >>> p = NeuralLinearThompson(context_dim=4, features=8, hidden=16, seed=0)
    >>> p.add_arm("a"); p.add_arm("b")
    >>> x = np.array([1.0, 0.0, 0.0, 0.0])
    >>> for _ in range(30):
    ...     p.update("a", 1.0, x); p.update("b", 0.0, x)
    >>> p.select(["a", "b"], x)
    'a'
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from toolrouter._checks import check_count, real_array
from toolrouter.errors import CorruptStateError
from toolrouter.policies.base import ArmPrior, Policy, PolicyState, prior_field
from toolrouter.policies.linear import LinearThompson, checked_context
from toolrouter.serialization import MAX_SAVED_DIM, short_repr

__all__ = ["NeuralLinearThompson", "FEATURE_MAP_ARRAYS"]

#: Names and roles of the encoder's arrays: h = tanh(W1 x + b1), phi = [tanh(W2 h + b2), 1].
FEATURE_MAP_ARRAYS = ("W1", "b1", "W2", "b2")


class NeuralLinearThompson(Policy):
    """Linear Thompson sampling on ``phi(x)``, the features of a small tanh encoder.

    Arguments:
        context_dim: dimension of the raw context ``x``.
        features: number of learned features (the head has ``features + 1`` weights).
        hidden: width of the encoder's hidden layer.
        init_seed: seeds the random encoder used until ``set_feature_map`` installs a trained one.
        regularization, exploration, refresh_arms, exact, exact_budget: those of the head,
            ``LinearThompson`` (``exploration`` is the posterior scale, about the reward noise's
            standard deviation).
    """

    name = "neural_linear"
    contextual = True

    def __init__(
        self,
        *,
        context_dim: int,
        seed: int | None = None,
        features: int = 32,
        hidden: int = 64,
        init_seed: int = 0,
        regularization: float = 1.0,
        exploration: float = 0.5,
        refresh_arms: int = 2,
        exact: bool | None = None,
        exact_budget: int = 1 << 18,
    ) -> None:
        super().__init__(seed=seed)
        # no larger than a saved state may be: a router could save a larger one but never load it
        self.context_dim = check_count("context_dim", context_dim, low=1, high=MAX_SAVED_DIM)
        self.features = check_count("features", features, low=1, high=MAX_SAVED_DIM)
        self.hidden = check_count("hidden", hidden, low=1, high=MAX_SAVED_DIM)
        init_seed = check_count("init_seed", init_seed)
        # the head shares this policy's generator, so one seed makes every decision reproducible
        self.head = LinearThompson(
            context_dim=self.features + 1,
            regularization=regularization,
            exploration=exploration,
            refresh_arms=refresh_arms,
            exact=exact,
            exact_budget=exact_budget,
            intercept=False,  # phi's constant feature is the intercept
        )
        self.head.rng = self.rng
        self.options = {
            "context_dim": self.context_dim,
            "features": self.features,
            "hidden": self.hidden,
            "init_seed": init_seed,
            **{k: v for k, v in self.head.options.items() if k not in ("context_dim", "intercept")},
        }
        self._map = self.random_feature_map(self.context_dim, self.hidden, self.features, init_seed)

    # --- the feature map ---------------------------------------------------------------------
    @staticmethod
    def random_feature_map(context_dim: int, hidden: int, features: int, seed: int) -> dict[str, np.ndarray]:
        """Glorot-scaled random encoder weights (the map used before a trained one is installed)."""
        g = np.random.default_rng(seed)
        return {
            "W1": g.normal(0.0, np.sqrt(1.0 / context_dim), (hidden, context_dim)),
            "b1": np.zeros(hidden),
            "W2": g.normal(0.0, np.sqrt(1.0 / hidden), (features, hidden)),
            "b2": np.zeros(features),
        }

    def _map_shapes(self) -> dict[str, tuple[int, ...]]:
        d, h, f = self.context_dim, self.hidden, self.features
        return {"W1": (h, d), "b1": (h,), "W2": (f, h), "b2": (f,)}

    def _checked_map(self, weights: Mapping[str, Any], field: str) -> dict[str, np.ndarray]:
        """A saved state's encoder arrays, or a ``CorruptStateError`` naming the array."""
        unknown = sorted(str(name) for name in weights if name not in FEATURE_MAP_ARRAYS)
        if unknown:
            raise CorruptStateError(f"{field}: unexpected {unknown}, the encoder's arrays are {list(FEATURE_MAP_ARRAYS)}")
        return {name: self._checked_array(weights, name, shape, field=field) for name, shape in self._map_shapes().items()}

    @property
    def feature_map(self) -> dict[str, np.ndarray]:
        """The encoder's weights (copies)."""
        return {k: v.copy() for k, v in self._map.items()}

    def set_feature_map(self, weights: Mapping[str, Any]) -> None:
        """Install trained encoder weights: ``W1, b1, W2, b2`` (arrays, lists or tensors of real
        numbers, kept as float64) of the shapes this policy was built with, and nothing else. Only
        before the first update: the heads' statistics live in the old feature space. A mapping with
        another key, a missing one, or an array of another shape, of entries that are no real
        numbers or not finite raises (TypeError or ValueError naming the key) and changes nothing."""
        if self.t:
            raise ValueError(f"weights: the feature map can only change before the first update (t={self.t})")
        if not isinstance(weights, Mapping):
            raise TypeError(f"weights: expected a mapping of {list(FEATURE_MAP_ARRAYS)} to arrays, got {short_repr(weights)}")
        shapes = self._map_shapes()
        # a misspelt or extra key would be ignored, and the policy run on a map its caller did not mean
        if set(weights) != set(shapes):
            unknown = sorted(str(k) for k in weights if k not in shapes)
            missing = [k for k in FEATURE_MAP_ARRAYS if k not in weights]
            found = "; ".join(f"{what} {keys}" for what, keys in (("unexpected", unknown), ("missing", missing)) if keys)
            raise ValueError(f"weights: {found}; the encoder's arrays are {list(FEATURE_MAP_ARRAYS)}")
        feature_map = {}
        for name, shape in shapes.items():
            field = f"weights[{name!r}]"
            array = real_array(field, weights[name])
            if array.shape != shape:
                raise ValueError(
                    f"{field}: expected shape {shape} (context_dim={self.context_dim}, hidden={self.hidden}, "
                    f"features={self.features}), got {array.shape}"
                )
            if not np.isfinite(array).all():
                raise ValueError(f"{field}: holds NaN or infinite values")
            feature_map[name] = array
        self._map = feature_map

    def featurize(self, context: np.ndarray | None) -> np.ndarray:
        """``phi(x)``: the encoder's features of a raw context, with the constant feature last."""
        x = checked_context(context, self.context_dim, self.name)
        m = self._map
        h = np.tanh(m["W1"] @ x + m["b1"])
        return np.append(np.tanh(m["W2"] @ h + m["b2"]), 1.0)

    # --- the policy interface, delegated to the head -----------------------------------------
    @property
    def t(self) -> int:
        """Number of updates."""
        return self.head.t

    def sample(self, arm_ids: Sequence[str], context: np.ndarray | None = None) -> np.ndarray:
        """One posterior draw of each arm's reward at ``context``."""
        return self.head.sample(arm_ids, self.featurize(context))

    def expected(self, arm_ids: Sequence[str], context: np.ndarray | None = None) -> np.ndarray:
        """Posterior mean reward per arm."""
        return self.head.expected(arm_ids, self.featurize(context))

    def sample_and_expected(
        self, arm_ids: Sequence[str], context: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Both, featurising the context once."""
        z = self.featurize(context)
        return self.head.sample(arm_ids, z), self.head.expected(arm_ids, z)

    def stddev(self, arm_ids: Sequence[str], context: np.ndarray | None = None) -> np.ndarray:
        """Posterior standard deviation of each arm's reward at ``context`` (before exploration)."""
        return self.head.stddev(arm_ids, self.featurize(context))

    def update(self, arm_id: str, reward: float, context: np.ndarray | None = None) -> None:
        """Rank-1 update of the arm's head at ``phi(context)``."""
        z = self.featurize(context)
        self.head.update(arm_id, self._check_reward(reward), z)

    def _head_prior(self, prior: ArmPrior | None) -> ArmPrior | None:
        """``prior`` over the head's weights: a scalar mean is the arm's expected reward, the
        weight of the constant feature (the others start at 0)."""
        if not isinstance(prior, ArmPrior):
            return prior  # None, or refused by the head
        mean = prior_field(prior, "mean")
        if mean.ndim or not np.isfinite(mean):  # the head refuses it, naming the mean as given
            return prior
        return dataclasses.replace(prior, mean=np.append(np.zeros(self.features), mean))

    def add_arm(self, arm_id: str, prior: ArmPrior | None = None) -> None:
        """Add an arm; ``prior`` is over the head's ``features + 1`` weights (a scalar mean is
        the constant feature's)."""
        self.head.add_arm(arm_id, self._head_prior(prior))
        self._arm_ids, self._index = self.head._arm_ids, self.head._index

    def remove_arm(self, arm_id: str) -> None:
        """Forget an arm and its head."""
        self.head.remove_arm(arm_id)
        self._arm_ids, self._index = self.head._arm_ids, self.head._index

    def reset_arm(self, arm_id: str, prior: ArmPrior | None = None) -> ArmPrior | None:
        """Restart an arm's head from ``prior`` (over the ``features + 1`` weights, a scalar mean
        the constant feature's; default the population prior of the heads), in place."""
        return self.head.reset_arm(arm_id, self._head_prior(prior))

    def restart_arm(self, arm_id: str, prior: ArmPrior | None = None) -> None:
        """Restart an arm's head from ``prior`` as if just added (see ``Policy.restart_arm``)."""
        self.head.restart_arm(arm_id, self._head_prior(prior))

    def population_prior(self, exclude: str | None = None) -> ArmPrior:
        """The heads' population prior (``LinearThompson.population_prior`` in feature space)."""
        return self.head.population_prior(exclude)

    def decision_state(self) -> Any:
        """The head's (which shares this policy's generator)."""
        return self.head.decision_state()

    def restore_decision_state(self, state: Any) -> None:
        self.head.restore_decision_state(state)

    def _grow(self, prior: ArmPrior | None) -> None:  # arms live in the head
        raise AssertionError("unreachable: add_arm delegates to the head")

    def _drop(self, position: int) -> None:
        raise AssertionError("unreachable: remove_arm delegates to the head")

    # --- state -------------------------------------------------------------------------------
    def state_dict(self) -> PolicyState:
        """The head's state plus the encoder's arrays (prefixed ``map.``)."""
        head = self.head.state_dict()
        config = {"policy": self.name, "options": dict(self.options), "arm_ids": list(self._arm_ids), "t": self.t, "head": head["config"]}
        arrays = {**head["arrays"], **{f"map.{k}": v.copy() for k, v in self._map.items()}}
        return {"config": config, "arrays": arrays}

    def load_state_dict(self, state: PolicyState) -> None:
        """Restore a ``state_dict``; a malformed state raises ``CorruptStateError`` (a
        ``ValueError``) naming the key or array, and changes nothing."""
        config = self._check_config(state)
        arrays = state["arrays"]
        names = [k for k in arrays if not isinstance(k, str)]
        if names:
            raise CorruptStateError(f"state.arrays: names must be strings, got {short_repr(names)}")
        feature_map = self._checked_map({k[4:]: v for k, v in arrays.items() if k.startswith("map.")}, "state.arrays.map")
        twin = LinearThompson(**self.head.options)
        try:
            twin.load_state_dict({"config": config.get("head"), "arrays": {k: v for k, v in arrays.items() if not k.startswith("map.")}})
        except CorruptStateError as exc:
            raise exc.within("head") from None
        if twin.arm_ids != tuple(config["arm_ids"]) or twin.t != self._checked_t(config):
            raise CorruptStateError("state.config: arm_ids or t differ from the head's")
        self.head, self.rng, self._map = twin, twin.rng, feature_map
        self._arm_ids, self._index = twin._arm_ids, twin._index

    def merge(self, other: Policy, base: Policy | PolicyState | None = None) -> None:
        """Add another process's observations (same feature map) into this policy's heads."""
        self._check_mergeable(other)
        assert isinstance(other, NeuralLinearThompson)
        if any(not np.array_equal(self._map[k], other._map[k]) for k in FEATURE_MAP_ARRAYS):
            raise ValueError("other: its feature map differs from this policy's; statistics cannot be merged")
        base_head = None
        if base is not None:
            base_policy = self._as_policy(base)
            assert isinstance(base_policy, NeuralLinearThompson)
            base_head = base_policy.head
        self.head.merge(other.head, base=base_head)
        self._arm_ids, self._index = self.head._arm_ids, self.head._index
