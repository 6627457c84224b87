"""Bandit policies, one module per family, behind the interface in ``base``.

| name | class | context | decision cost (K arms, dimension d) | use when |
|---|---|---|---|---|
| ``gaussian_ts`` (default) | ``GaussianThompson`` | no | O(K), two vector draws | continuous utility, unknown scale |
| ``beta_ts`` | ``BetaThompson`` | no | O(K), one vector draw | success/failure (the router feeds it success alone; used directly, any reward in [0, 1]) |
| ``ucb1`` | ``UCB1`` | no | O(K), deterministic | reproducible choices, rewards in a known range |
| ``epsilon_greedy`` | ``EpsilonGreedy`` | no | O(K) | a simple baseline |
| ``linucb`` | ``LinUCB`` | yes | O(K d^2) | the best tool depends on the request |
| ``lin_ts`` | ``LinearThompson`` | yes | O(K d^2) while that is small, else O(K d + r d^2) | the same, cheaper per decision at large d |
| ``neural_linear`` | ``NeuralLinearThompson`` | yes | O(H d) encoder + ``lin_ts`` in ``features + 1`` dims | rich contexts; meta-learned priors (``toolrouter.reward_model``) |

The non-contextual ones take ``discount`` (exponential forgetting) or ``window`` (sliding window)
for drifting tools; the contextual ones take ``context_dim`` (required), ``regularization`` and
``exploration``. Build one by name with ``make_policy``; restore a saved one with
``policy_from_state``.

Example:
    >>> policy = make_policy("gaussian_ts", seed=0, discount=0.99)
    >>> policy.add_arm("search_a"); policy.add_arm("search_b")
    >>> policy.update("search_a", 0.7)
    >>> policy.select(["search_a", "search_b"]) in ("search_a", "search_b")
    True
"""

from __future__ import annotations

import inspect
from typing import Any

from toolrouter.errors import CorruptStateError
from toolrouter.policies.base import MAX_ABS_REWARD, ArmPrior, Policy, PolicyState
from toolrouter.policies.epsilon_greedy import EpsilonGreedy
from toolrouter.policies.linear import LinearThompson, LinUCB
from toolrouter.policies.neural_linear import NeuralLinearThompson
from toolrouter.policies.thompson import BetaThompson, GaussianThompson
from toolrouter.policies.ucb import UCB1
from toolrouter.serialization import short_repr

__all__ = [
    "ArmPrior",
    "BetaThompson",
    "DEFAULT_POLICY",
    "EpsilonGreedy",
    "GaussianThompson",
    "LinUCB",
    "LinearThompson",
    "MAX_ABS_REWARD",
    "NeuralLinearThompson",
    "POLICIES",
    "Policy",
    "PolicyState",
    "UCB1",
    "make_policy",
    "policy_from_state",
]

#: Policy classes by name.
POLICIES: dict[str, type[Policy]] = {
    cls.name: cls for cls in (
        BetaThompson, GaussianThompson, UCB1, EpsilonGreedy, LinUCB, LinearThompson, NeuralLinearThompson
    )
}

DEFAULT_POLICY = "gaussian_ts"


def make_policy(name: str = DEFAULT_POLICY, /, *, seed: int | None = None, **options: Any) -> Policy:
    """Build a policy by name; options go to its constructor.

    An unknown name raises ``KeyError`` listing the known ones; an unknown or invalid option raises
    ``ValueError`` naming it.

    Example:
        >>> make_policy("lin_ts", seed=0, context_dim=8).contextual
        True
    """
    cls = POLICIES.get(name) if isinstance(name, str) else None  # a list is no name either (not hashable)
    if cls is None:
        raise KeyError(f"name: unknown policy {short_repr(name)}; choose from {sorted(POLICIES)}")
    try:
        return cls(seed=seed, **options)
    except TypeError as exc:
        # name the options it does not take, not every option given (callers add their own, such as context_dim)
        takes = [p for p in inspect.signature(cls).parameters if p != "seed"]
        unknown = [o for o in sorted(options) if o not in takes]
        if not unknown:  # a TypeError of the constructor itself: its message names the option
            raise
        raise ValueError(f"options: {name} does not accept {unknown} (it takes {takes}): {exc}") from None


def policy_from_state(state: PolicyState) -> Policy:
    """A policy rebuilt from ``Policy.state_dict()``: class and options from its config, then
    ``load_state_dict``. A state that is not one raises ``CorruptStateError`` (a ``ValueError``)
    naming the key: a ``config.policy`` or ``config.options`` that build no policy as well as
    what ``load_state_dict`` refuses.

    Example:
        >>> p = make_policy("ucb1"); p.add_arm("a"); p.update("a", 0.5)
        >>> policy_from_state(p.state_dict()).expected(["a"]).tolist()
        [0.5]
    """
    config = state.get("config") if isinstance(state, dict) else None
    if not isinstance(config, dict) or "policy" not in config or not isinstance(config.get("options"), dict):
        raise CorruptStateError("state: expected a state_dict with config.policy and a config.options dict")
    name = config["policy"]
    if not isinstance(name, str) or name not in POLICIES:
        raise CorruptStateError(f"state.config.policy: unknown policy {short_repr(name)}; choose from {sorted(POLICIES)}")
    try:
        policy = make_policy(name, **config["options"])
    except (TypeError, ValueError) as exc:  # an option missing, unknown, of a bad value, or a key no string
        raise CorruptStateError(f"state.config.options: {exc}") from None
    policy.load_state_dict(state)
    return policy
