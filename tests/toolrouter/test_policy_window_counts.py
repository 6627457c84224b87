"""A windowed policy's weights are the numbers of outcomes its window holds per arm: a saved state
that says otherwise is refused naming the arm (it would never come right: each outcome leaving the
window takes one away), and every state the policy saves itself loads."""

from __future__ import annotations

import numpy as np
import pytest

from toolrouter.errors import CorruptStateError
from toolrouter.policies import make_policy, policy_from_state


def windowed(name: str = "gaussian_ts"):
    policy = make_policy(name, seed=0, window=6)
    for arm in ("a", "b", "c"):
        policy.add_arm(arm)
    for k in range(9):
        policy.update("abc"[k % 3], float(k))
    return policy


@pytest.mark.parametrize("weight", [1.0, 7.0, 2.5])
def test_a_weight_the_window_does_not_hold_is_refused(weight):
    state = windowed().state_dict()
    state["arrays"]["n"] = np.array([weight, 2.0, 2.0])
    policy = windowed("gaussian_ts")
    before = policy.state_dict()
    with pytest.raises(CorruptStateError, match=r"^state\.arrays\.n: arm 'a' has weight .* but the window holds 2 of its outcomes"):
        policy.load_state_dict(state)
    assert policy.state_dict()["config"] == before["config"]
    np.testing.assert_array_equal(policy.state_dict()["arrays"]["n"], before["arrays"]["n"])


@pytest.mark.parametrize("name", ["gaussian_ts", "ucb1", "beta_ts", "epsilon_greedy"])
def test_every_state_a_windowed_policy_saves_loads(name):
    policy = make_policy(name, seed=0, window=5)
    for arm in ("a", "b", "c", "d"):
        policy.add_arm(arm)
    rng = np.random.default_rng(0)
    for k in range(40):
        policy.update("abcd"[int(rng.integers(len(policy.arm_ids)))] if "d" in policy.arm_ids else "abc"[k % 3], float(rng.random()))
        if k == 12:
            policy.reset_arm("b")
        if k == 20:
            policy.remove_arm("d")
        again = policy_from_state(policy.state_dict())
        assert again.state_dict()["arrays"]["n"].tolist() == policy.state_dict()["arrays"]["n"].tolist()
