"""A policy's saved options are compared type and all: one saved as 4.0 or true where the policy's is
4 or 1.0 is damage (Python's == takes them for equal), refused naming the options, the policy unchanged."""

from __future__ import annotations

import numpy as np
import pytest

from toolrouter.errors import CorruptStateError
from toolrouter.policies import EpsilonGreedy, NeuralLinearThompson


def fed(policy):
    rng = np.random.default_rng(0)
    for arm in ("a", "b"):
        policy.add_arm(arm)
    for _ in range(6):
        context = rng.random(3) if "context_dim" in policy.options else None
        policy.update(policy.select(["a", "b"], context), 1.0, context)
    return policy


@pytest.mark.parametrize("key, damage", [("window", float), ("epsilon", lambda v: True), ("epsilon", int)])
def test_a_saved_option_of_another_type_is_refused(key: str, damage) -> None:
    state = fed(EpsilonGreedy(window=4, epsilon=1.0)).state_dict()
    state["config"]["options"][key] = damage(state["config"]["options"][key])
    policy = EpsilonGreedy(window=4, epsilon=1.0)
    before = policy.state_dict()
    # it loaded: 4.0, true and 1 compared equal to 4 and 1.0
    with pytest.raises(CorruptStateError, match=r"^state\.config\.options: "):
        policy.load_state_dict(state)
    assert policy.state_dict()["config"] == before["config"]


@pytest.mark.parametrize("key, damage", [("context_dim", float), ("regularization", lambda v: True), ("refresh_arms", float)])
def test_a_head_option_of_another_type_is_refused_naming_the_head(key: str, damage) -> None:
    state = fed(NeuralLinearThompson(context_dim=3)).state_dict()
    options = state["config"]["head"]["options"]
    assert type(options[key]) is not type(damage(options[key]))
    options[key] = damage(options[key])
    # it loaded: 3.0 and true compared equal to the head's 3 and 1.0
    with pytest.raises(CorruptStateError, match=r"head.*options"):
        NeuralLinearThompson(context_dim=3).load_state_dict(state)


def test_a_state_loads_into_a_twin() -> None:
    policy = fed(EpsilonGreedy(window=4, epsilon=1.0))
    twin = EpsilonGreedy(window=4, epsilon=1.0)
    twin.load_state_dict(policy.state_dict())
    assert twin.state_dict()["config"] == policy.state_dict()["config"]
