"""Priors a policy cannot hold are refused when the arm is added, naming the prior, and the policy
is left as it was: a Normal-Gamma prior with no weight on the reward variance (an untried arm's
variance was 0 / 0, NaN) or whose terms overflow (its draws were infinite), a linear prior whose
precision overflows (the policy could save its state but never load it again)."""

from __future__ import annotations

import numpy as np
import pytest

from toolrouter.policies import ArmPrior, make_policy, policy_from_state


def test_gaussian_ts_refuses_a_prior_whose_variance_weighs_nothing() -> None:
    policy = make_policy("gaussian_ts", seed=0)
    policy.add_arm("a")
    before = policy.state_dict()
    with pytest.raises(ValueError, match=r"^prior\.variance_pseudo_count must be > 0 for gaussian_ts, got 0\.0"):
        policy.add_arm("b", ArmPrior(mean=0.0, variance=1.0, pseudo_count=1.0, variance_pseudo_count=0.0))
    assert policy.arm_ids == ("a",) and policy.state_dict()["config"] == before["config"]
    # a small weight is a prior all the same: a finite, positive variance and draws that move
    policy.add_arm("b", ArmPrior(mean=0.0, variance=1.0, pseudo_count=1.0, variance_pseudo_count=1e-3))
    assert 0 < policy.variance(["b"])[0] < np.inf
    assert len({float(policy.sample(["b"])[0]) for _ in range(3)}) == 3


@pytest.mark.parametrize("prior", [ArmPrior(mean=0.0, variance=1e300, pseudo_count=1.0, variance_pseudo_count=1e10),
                                   ArmPrior(mean=1e200, variance=1.0, pseudo_count=1.0)])
def test_gaussian_ts_refuses_a_prior_whose_posterior_terms_overflow(prior) -> None:
    policy = make_policy("gaussian_ts", seed=0)
    with pytest.raises(ValueError, match=r"^prior: variance \* variance_pseudo_count and pseudo_count \* mean\*\*2 must be finite"):
        policy.add_arm("a", prior)
    assert policy.arm_ids == ()


@pytest.mark.parametrize("name", ["linucb", "lin_ts"])
@pytest.mark.parametrize("prior", [ArmPrior(mean=0.0, variance=1e-320), ArmPrior(mean=1e200, variance=1e-200),
                                   ArmPrior(mean=0.0, variance=np.array([1.0, 1e-320]))])
def test_a_linear_prior_whose_precision_overflows_is_refused(name, prior) -> None:
    policy = make_policy(name, seed=0, context_dim=2)
    policy.add_arm("a")
    with pytest.raises(ValueError, match=r"^prior: its precision .* overflows"):
        policy.add_arm("b", prior)
    with pytest.raises(ValueError, match=r"^prior: its precision .* overflows"):
        policy.reset_arm("a", prior)
    assert policy.arm_ids == ("a",)
    policy_from_state(policy.state_dict())  # what it holds still loads


def test_a_tiny_but_representable_linear_prior_still_saves_and_loads() -> None:
    policy = make_policy("linucb", context_dim=2)
    policy.add_arm("a", ArmPrior(mean=1.0, variance=1e-200))
    x = np.array([1.0, 2.0])
    assert policy_from_state(policy.state_dict()).expected(["a"], x).tolist() == policy.expected(["a"], x).tolist()


@pytest.mark.parametrize("name, options", [("gaussian_ts", {}), ("beta_ts", {}), ("ucb1", {}), ("lin_ts", {"context_dim": 2})])
@pytest.mark.parametrize("field, value", [("mean", "0.5"), ("variance", True), ("mean", [True, False])])
def test_a_prior_field_that_is_a_string_or_a_bool_is_refused_naming_it(name, options, field, value) -> None:
    # float() and numpy read "0.5" as 0.5 and True as 1.0
    policy = make_policy(name, **options)
    with pytest.raises(ValueError, match=rf"^prior\.{field}: expected real numbers"):
        policy.add_arm("a", ArmPrior(**{field: value}))
    assert policy.arm_ids == ()


@pytest.mark.parametrize("field, value", [("pseudo_count", "2"), ("pseudo_count", True), ("variance_pseudo_count", "3")])
def test_the_counts_of_a_non_contextual_prior_are_numbers(field, value) -> None:
    policy = make_policy("gaussian_ts")
    with pytest.raises(ValueError, match=rf"^prior\.{field}: expected real numbers"):
        policy.add_arm("a", ArmPrior(**{field: value}))
    policy.add_arm("a", ArmPrior(mean=np.array(0.5), pseudo_count=np.int64(3), variance_pseudo_count=np.float32(2.0)))
    assert policy.expected(["a"]).tolist() == [0.5]
