"""A prior worth no observations (``pseudo_count=0``): its mean is the arm's estimate until the
first outcome replaces it, and the arm counts as untried."""

from __future__ import annotations

import numpy as np
import pytest

from toolrouter.policies import ArmPrior, make_policy, policy_from_state


@pytest.mark.parametrize("name", ["ucb1", "epsilon_greedy"])
def test_a_zero_weight_prior_is_the_estimate_until_the_first_outcome(name):
    policy = make_policy(name, seed=0)
    policy.add_arm("a", ArmPrior(mean=0.7, pseudo_count=0.0))
    policy.add_arm("b")
    policy.add_arm("c", ArmPrior(mean=0.2, pseudo_count=1.0))
    assert policy.expected(["a", "b", "c"]).tolist() == [0.7, 0.0, 0.2]
    assert policy_from_state(policy.state_dict()).expected(["a"]).tolist() == [0.7]
    if name == "ucb1":  # untried: an infinite index, tried before the arm whose prior has weight
        assert np.isinf(policy.sample(["a", "b", "c"])[:2]).all()
    policy.update("a", 0.1)
    assert policy.expected(["a"]).tolist() == [0.1]  # replaced, not averaged


def test_policies_agree_on_an_untried_arm_with_a_zero_weight_prior():
    estimates = {}
    for name in ("ucb1", "epsilon_greedy"):
        policy = make_policy(name, seed=0, discount=0.9)
        policy.add_arm("a", ArmPrior(mean=-3.0, pseudo_count=0.0))
        policy.add_arm("b")
        for _ in range(3):
            policy.update("b", 1.0)
        estimates[name] = float(policy.expected(["a"])[0])
    lin = make_policy("lin_ts", seed=0, context_dim=2)
    lin.add_arm("a", ArmPrior(mean=-3.0, pseudo_count=0.0))
    estimates["lin_ts"] = float(lin.expected(["a"], np.array([0.6, 0.8]))[0])
    assert estimates == {"ucb1": -3.0, "epsilon_greedy": -3.0, "lin_ts": pytest.approx(-3.0)}
