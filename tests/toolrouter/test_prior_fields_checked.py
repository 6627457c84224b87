"""Every policy checks every field of an ``ArmPrior`` with a message naming the field and what is
wrong with it, also the counts the linear policies do not read, and a refused prior changes nothing."""

from __future__ import annotations

import numpy as np
import pytest

from toolrouter.policies import ArmPrior, make_policy

POLICIES = [("gaussian_ts", {}), ("ucb1", {}), ("lin_ts", {"context_dim": 2}), ("linucb", {"context_dim": 2}),
            ("neural_linear", {"context_dim": 2})]


@pytest.mark.parametrize("name, options", POLICIES)
@pytest.mark.parametrize(
    "prior, message",
    [
        (ArmPrior(mean=0.5, pseudo_count=-1.0), r"^prior\.pseudo_count must be >= 0, got -1\.0"),
        (ArmPrior(mean=0.5, pseudo_count=float("inf")), r"^prior\.pseudo_count must be finite, got inf"),
        (ArmPrior(mean=0.5, variance_pseudo_count=-2.0), r"^prior\.variance_pseudo_count must be >= 0, got -2\.0"),
        (ArmPrior(mean=0.5, pseudo_count=np.array([1.0, 2.0])), r"^prior\.pseudo_count: expected a number"),
        (ArmPrior(mean=float("nan")), r"^prior\.mean must be finite, got nan"),
    ],
)
def test_a_bad_prior_field_is_refused_naming_it(name, options, prior, message):
    policy = make_policy(name, seed=0, **options)
    policy.add_arm("a")
    before = policy.state_dict()
    with pytest.raises(ValueError, match=message):
        policy.add_arm("b", prior)
    with pytest.raises(ValueError, match=message):
        policy.reset_arm("a", prior)
    after = policy.state_dict()
    assert after["config"] == before["config"]
    for k, a in before["arrays"].items():
        np.testing.assert_array_equal(after["arrays"][k], a)


@pytest.mark.parametrize("name", ["lin_ts", "linucb"])
def test_a_linear_prior_mean_with_a_nan_weight_says_it_is_not_finite(name):
    policy = make_policy(name, seed=0, context_dim=2)
    with pytest.raises(ValueError, match=r"^prior\.mean must be finite, got array\(\[ 1\., nan\]\)"):
        policy.add_arm("a", ArmPrior(mean=np.array([1.0, np.nan])))
    with pytest.raises(ValueError, match=r"^prior\.mean: expected a scalar or shape \(2,\) or \(3,\), got shape \(4,\)"):
        policy.add_arm("a", ArmPrior(mean=np.zeros(4)))
    assert policy.arm_ids == ()
