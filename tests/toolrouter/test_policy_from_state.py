"""policy_from_state refuses a state whose config builds no policy with a CorruptStateError naming
the key, as load_state_dict does for the rest of the state."""

import pytest

from toolrouter.errors import CorruptStateError
from toolrouter.policies import make_policy, policy_from_state


def _state(**config):
    good = make_policy("ucb1")
    good.add_arm("a")
    state = good.state_dict()
    state["config"].update(config)
    return state


@pytest.mark.parametrize(
    "state, key",
    [
        (_state(policy=["ucb1"]), "state.config.policy"),
        (_state(policy="nope"), "state.config.policy"),
        (_state(options="ab"), "state: expected"),
        (_state(options=[["exploration", 1.0]]), "state: expected"),
        (_state(options={"exploration": "x", "discount": None, "window": None}), "state.config.options: exploration"),
        (_state(options={1: 2}), "state.config.options"),
        (_state(policy="lin_ts"), "state.config.options: .*context_dim"),
        (None, "state: expected"),
    ],
)
def test_a_config_that_builds_no_policy_is_a_corrupt_state_naming_the_key(state, key) -> None:
    with pytest.raises(CorruptStateError, match=key):
        policy_from_state(state)
