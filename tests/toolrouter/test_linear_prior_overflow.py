"""A linear policy refuses a prior so wide that an update with a large context overflows: the arm's
weights would turn NaN and the saved state would never load."""

import numpy as np
import pytest

from toolrouter.errors import CorruptStateError
from toolrouter.policies import ArmPrior, make_policy, policy_from_state
from toolrouter.policies.linear import MAX_ABS_CONTEXT

LINEAR = ["linucb", "lin_ts", "neural_linear"]


@pytest.mark.parametrize("name", LINEAR)
def test_a_regularization_too_small_for_an_update_is_refused(name: str) -> None:
    with pytest.raises(ValueError, match="regularization.*1e-320"):
        make_policy(name, context_dim=2, regularization=1e-320)


@pytest.mark.parametrize("variance", [1e300, np.diag([1e300, 1.0, 1.0])])
def test_a_prior_variance_too_large_for_an_update_is_refused(variance) -> None:
    p = make_policy("lin_ts", context_dim=2, seed=0)
    p.add_arm("a")
    before = p.state_dict()
    with pytest.raises(ValueError, match="prior.variance"):
        p.add_arm("b", ArmPrior(mean=0.0, variance=variance))
    with pytest.raises(ValueError, match="prior.variance"):
        p.reset_arm("a", ArmPrior(mean=0.0, variance=variance))
    after = p.state_dict()
    assert p.arm_ids == ("a",)
    assert all(np.array_equal(before["arrays"][k], after["arrays"][k]) for k in before["arrays"])


@pytest.mark.parametrize("name", ["linucb", "lin_ts"])
def test_a_wide_prior_that_is_taken_learns_from_the_largest_context(name: str) -> None:
    p = make_policy(name, context_dim=2, regularization=1e-200, seed=0)
    p.add_arm("a"), p.add_arm("b", ArmPrior(mean=1.0, variance=1e200))
    x = np.full(2, MAX_ABS_CONTEXT)
    for arm in ("a", "b"):
        p.update(arm, 1e9, x)
        p.update(arm, -1e9, -x)
    assert np.all(np.isfinite(p.expected(["a", "b"], x)))
    assert np.all(np.isfinite(policy_from_state(p.state_dict()).expected(["a", "b"], x)))


@pytest.mark.parametrize("name", LINEAR)
def test_a_saved_covariance_wider_than_any_prior_is_refused_naming_the_arm(name) -> None:
    options = {"features": 2, "hidden": 3} if name == "neural_linear" else {}
    policy = make_policy(name, seed=0, context_dim=2, **options)
    policy.add_arm("a"), policy.add_arm("b")
    state = policy.state_dict()
    state["arrays"]["R"][1, 0, 1] = 1e300
    before = policy.state_dict()
    # it loaded, and the arm's next scores and weights were NaN (the policy's own state never loaded again)
    with pytest.raises(CorruptStateError, match=r"state\.arrays\.R: arm 'b': a variance this large \(trace inf\) overflows an update"):
        policy.load_state_dict(state)
    assert repr(policy.state_dict()) == repr(before)
