"""The counting policies keep centred statistics (weight, mean, sum of squared deviations), so
rewards around a large offset keep their spread, and states saved with raw sums still load."""

from __future__ import annotations

import numpy as np
import pytest

from toolrouter.policies import ArmPrior, make_policy, policy_from_state

OFFSET = 1e8
REWARDS = (np.random.default_rng(0).standard_normal(200)).tolist()


def fed(offset: float, rewards=REWARDS, **options):
    policy = make_policy("gaussian_ts", seed=0, **options)
    policy.add_arm("a", ArmPrior(mean=offset))
    policy.add_arm("b", ArmPrior(mean=offset))
    for k, r in enumerate(rewards):
        policy.update("ab"[k % 2], offset + r)
    return policy


@pytest.mark.parametrize("options", [{}, {"window": 50}, {"discount": 0.99}], ids=["plain", "window", "discount"])
def test_variance_around_a_large_offset_matches_that_around_zero(options):
    far, near = fed(OFFSET, **options), fed(0.0, **options)
    np.testing.assert_allclose(far.variance(["a", "b"]), near.variance(["a", "b"]), rtol=1e-4)
    np.testing.assert_allclose(far.expected(["a", "b"]) - OFFSET, near.expected(["a", "b"]), atol=1e-6)


def test_merge_around_a_large_offset_counts_every_outcome_once():
    base = fed(OFFSET, rewards=REWARDS[:20])
    snapshot = base.state_dict()
    one, two = policy_from_state(snapshot), policy_from_state(snapshot)
    for k, r in enumerate(REWARDS[20:]):
        (one if k % 3 else two).update("ab"[k % 2], OFFSET + r)
    one.merge(two, base=snapshot)
    whole = fed(OFFSET)
    np.testing.assert_allclose(one.state_dict()["arrays"]["n"], whole.state_dict()["arrays"]["n"])
    np.testing.assert_allclose(one.variance(["a", "b"]), whole.variance(["a", "b"]), rtol=1e-4)
    assert one.population_prior(exclude="a").variance == pytest.approx(
        whole.population_prior(exclude="a").variance, rel=1e-4
    )


def raw_sums(state: dict) -> dict:
    """``state`` as saved before the statistics were centred: ``s`` and ``ss`` for ``mean`` and ``m2``."""
    arrays = dict(state["arrays"])
    n, mean, m2 = arrays.pop("n"), arrays.pop("mean"), arrays.pop("m2")
    return {"config": state["config"], "arrays": {"n": n, "s": n * mean, "ss": m2 + n * mean * mean, **arrays}}


@pytest.mark.parametrize(
    "name, options",
    [("gaussian_ts", {}), ("gaussian_ts", {"window": 7}), ("beta_ts", {}), ("ucb1", {"discount": 0.9}), ("epsilon_greedy", {})],
)
def test_states_saved_with_raw_sums_load_and_decide_the_same(name, options):
    rng = np.random.default_rng(1)
    policy = make_policy(name, seed=3, **options)
    for arm in ("a", "b", "c"):
        policy.add_arm(arm)
    for _ in range(40):
        policy.update(str(rng.choice(["a", "b", "c"])), float(rng.random()))
    old = raw_sums(policy.state_dict())
    assert {"s", "ss"} <= set(old["arrays"]) and not {"mean", "m2"} & set(old["arrays"])
    loaded = policy_from_state(old)
    np.testing.assert_allclose(loaded.state_dict()["arrays"]["mean"], policy.state_dict()["arrays"]["mean"], atol=1e-12)
    np.testing.assert_allclose(loaded.state_dict()["arrays"]["m2"], policy.state_dict()["arrays"]["m2"], atol=1e-12)
    for _ in range(30):
        arm = policy.select(["a", "b", "c"])
        assert loaded.select(["a", "b", "c"]) == arm
        r = float(rng.random())
        policy.update(arm, r)
        loaded.update(arm, r)
    np.testing.assert_allclose(loaded.expected(["a", "b", "c"]), policy.expected(["a", "b", "c"]), atol=1e-12)


def test_a_raw_sum_state_with_a_negative_sum_of_squares_is_refused():
    policy = make_policy("gaussian_ts", seed=0)
    policy.add_arm("a")
    policy.update("a", 1.0)
    old = raw_sums(policy.state_dict())
    old["arrays"]["ss"] = np.array([-1.0])
    with pytest.raises(ValueError, match="state.arrays.ss"):
        policy.load_state_dict(old)
    assert policy.state_dict()["arrays"]["n"].tolist() == [1.0]


def test_a_prior_far_from_the_outcomes_keeps_a_finite_posterior():
    # pseudo_count * mean**2 is finite (the prior is taken); the squared distance alone is not
    policy = make_policy("gaussian_ts", seed=0)
    policy.add_arm("a", ArmPrior(mean=1e154, pseudo_count=1.0))
    for _ in range(5):
        policy.update("a", 0.0)
    assert np.isfinite(policy.variance(["a"])).all() and np.isfinite(policy.sample(["a"])).all()
    fresh = policy_from_state(policy.state_dict())  # the cached posterior and a fresh one agree
    assert fresh.variance(["a"]).tolist() == policy.variance(["a"]).tolist()


@pytest.mark.parametrize("name, value", [("mean", 1e300), ("mean", -2e9), ("window_reward", 1e300), ("s", 1e300)])
def test_a_saved_reward_mean_beyond_the_reward_bound_is_refused_naming_it(name, value):
    policy = fed(0.0, REWARDS[:8], window=4)
    state = raw_sums(policy.state_dict()) if name == "s" else policy.state_dict()
    state["arrays"][name][1] = value
    before = policy.state_dict()
    # it loaded; the next draws of the arm were NaN and the next update's m2 infinite, so the
    # policy's own state never loaded again
    with pytest.raises(ValueError, match=rf"^state\.arrays\.{name}: rewards and their means lie within \+-1e\+09"):
        policy.load_state_dict(state)
    assert repr(policy.state_dict()) == repr(before)
    at_bound = fed(1e9, [0.0] * 8, window=4).state_dict()
    at_bound["arrays"]["mean"][0] = 1000000000.0000035  # a window's mean of rewards of 1e9, rounded
    policy_from_state(at_bound)
