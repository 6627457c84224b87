"""Unit tests of the bandit policies: learning, bad input, priors, forgetting, merge, linear algebra."""

from __future__ import annotations

import math

import numpy as np
import pytest

from toolrouter.errors import DuplicateToolError, InvalidOutcomeError, UnknownToolError
from toolrouter.policies import (
    POLICIES,
    ArmPrior,
    LinearThompson,
    LinUCB,
    make_policy,
    policy_from_state,
)
from toolrouter.serialization import MAX_SAVED_WINDOW

NON_CONTEXTUAL = [n for n, c in POLICIES.items() if not c.contextual]
CONTEXTUAL = [n for n, c in POLICIES.items() if c.contextual]
D = 4


def build(name: str, arms=("a", "b", "c"), seed: int = 0, **options):
    if POLICIES[name].contextual:
        options.setdefault("context_dim", D)
    policy = make_policy(name, seed=seed, **options)
    for arm in arms:
        policy.add_arm(arm)
    return policy


def context_for(policy, rng=None):
    if not policy.contextual:
        return None
    x = np.ones(policy.context_dim) if rng is None else rng.normal(size=policy.context_dim)
    return x / np.linalg.norm(x)


def snapshot(policy):
    state = policy.state_dict()
    return state["config"], {k: v.copy() for k, v in state["arrays"].items()}


def assert_same_state(a, b):
    (ca, aa), (cb, ab) = a, b
    assert ca == cb
    assert aa.keys() == ab.keys()
    for k in aa:
        np.testing.assert_array_equal(aa[k], ab[k])


def test_registry_has_the_contract_names():
    assert set(POLICIES) == {"beta_ts", "gaussian_ts", "ucb1", "epsilon_greedy", "linucb", "lin_ts", "neural_linear"}
    with pytest.raises(KeyError, match="no_such"):
        make_policy("no_such")
    with pytest.raises(ValueError, match="bogus"):
        make_policy("ucb1", bogus=1)
    with pytest.raises(ValueError, match="context_dim"):
        make_policy("linucb", context_dim=0)
    with pytest.raises(ValueError, match="discount"):
        make_policy("gaussian_ts", discount=1.5)
    with pytest.raises(ValueError, match="window"):
        make_policy("ucb1", window=0)
    with pytest.raises(ValueError, match="discount and window"):
        make_policy("ucb1", window=5, discount=0.9)


@pytest.mark.parametrize("name", list(POLICIES))
def test_learns_the_best_arm(name):
    """Arm 'b' pays 0.9, the others 0.2 and 0.5 (Bernoulli, so beta_ts applies too)."""
    rng = np.random.default_rng(1)
    policy = build(name, seed=3)
    means = {"a": 0.2, "b": 0.9, "c": 0.5}
    picks = []
    for _ in range(400):
        x = context_for(policy)
        arm = policy.select(["a", "b", "c"], x)
        picks.append(arm)
        policy.update(arm, float(rng.random() < means[arm]), x)
    assert picks[-100:].count("b") >= 80, name
    x = context_for(policy)
    assert int(np.argmax(policy.expected(["a", "b", "c"], x))) == 1


@pytest.mark.parametrize("name", list(POLICIES))
@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, 1e12])
def test_bad_reward_raises_and_changes_nothing(name, bad):
    policy = build(name)
    x = context_for(policy)
    policy.update("a", 1.0, x)
    before = snapshot(policy)
    with pytest.raises(InvalidOutcomeError, match="reward"):
        policy.update("a", bad, x)
    assert_same_state(before, snapshot(policy))


@pytest.mark.parametrize("name", list(POLICIES))
@pytest.mark.parametrize("bad", ["1", True, np.bool_(True), None, 1j])
def test_a_reward_that_is_not_a_real_number_raises_naming_it_and_changes_nothing(name, bad):
    # float() read "1" and True as 1.0: a string or a flag was learned as a reward
    policy = build(name)
    x = context_for(policy)
    before = snapshot(policy)
    with pytest.raises(TypeError, match="reward: expected a real number, got"):
        policy.update("a", bad, x)
    assert_same_state(before, snapshot(policy))
    policy.update("a", np.float32(0.5), x)  # numpy numbers are real numbers


@pytest.mark.parametrize("name", list(POLICIES))
def test_an_arm_the_saved_state_could_not_hold_is_refused_when_added(name):
    # an int id was added, and then the policy's state_dict did not load again
    policy = build(name)
    x = context_for(policy)
    before = snapshot(policy)
    with pytest.raises(TypeError, match="arm_id: expected a string, got 5"):
        policy.add_arm(5)
    with pytest.raises(TypeError, match="prior: expected an ArmPrior or None, got dict"):
        policy.add_arm("d", {"mean": 1.0})
    with pytest.raises(TypeError, match="prior: expected an ArmPrior or None, got dict"):
        policy.reset_arm("a", {"mean": 1.0})
    with pytest.raises(TypeError, match="arm_ids: expected a sequence of arm ids, got the string 'ab'"):
        policy.select("ab", x)  # its characters "a" and "b" were taken for arms
    assert_same_state(before, snapshot(policy))
    policy_from_state(policy.state_dict())


def test_beta_reward_out_of_range():
    policy = build("beta_ts")
    before = snapshot(policy)
    with pytest.raises(InvalidOutcomeError, match=r"\[0.0, 1.0\]"):
        policy.update("a", 1.5)
    assert_same_state(before, snapshot(policy))


@pytest.mark.parametrize("name", list(POLICIES))
def test_unknown_and_duplicate_arms(name):
    policy = build(name)
    x = context_for(policy)
    with pytest.raises(UnknownToolError, match="zz"):
        policy.update("zz", 0.5, x)
    with pytest.raises(UnknownToolError, match="zz"):
        policy.sample(["a", "zz"], x)
    with pytest.raises(DuplicateToolError, match="'a'"):
        policy.add_arm("a")
    assert policy.arm_ids == ("a", "b", "c")


@pytest.mark.parametrize("name", CONTEXTUAL)
def test_context_is_checked(name):
    policy = build(name)
    before = snapshot(policy)
    with pytest.raises(ValueError, match=r"context.*\(4,\).*\(5,\)"):
        policy.sample(["a"], np.ones(5))
    with pytest.raises(ValueError, match="context.*None"):
        policy.update("a", 1.0, None)
    with pytest.raises(ValueError, match="context"):
        policy.update("a", 1.0, np.array([1.0, np.nan, 0.0, 0.0]))
    with pytest.raises(ValueError, match=r"context.*\(4,\)"):
        policy.update("a", 1.0, np.ones((2, 2)))
    assert_same_state(before, snapshot(policy))


@pytest.mark.parametrize("name", list(POLICIES))
def test_bad_prior_leaves_arms_unchanged(name):
    policy = build(name)
    before = snapshot(policy)
    with pytest.raises(ValueError, match="prior"):
        policy.add_arm("d", prior=ArmPrior(mean=0.5, variance=-1.0))
    with pytest.raises(ValueError, match="prior"):
        policy.add_arm("d", prior=ArmPrior(mean=math.nan))
    assert_same_state(before, snapshot(policy))
    assert "d" not in policy.arm_ids


def test_prior_shapes_the_estimate():
    policy = make_policy("gaussian_ts", seed=0)
    policy.add_arm("known", prior=ArmPrior(mean=0.8, variance=0.01, pseudo_count=50))
    policy.add_arm("new")
    assert policy.expected(["known", "new"]).tolist() == [0.8, 0.0]
    assert policy.variance(["known"])[0] < policy.variance(["new"])[0] / 10
    beta = make_policy("beta_ts")
    beta.add_arm("x", prior=ArmPrior(mean=0.9, pseudo_count=8))
    assert beta.expected(["x"])[0] == pytest.approx((1 + 0.9 * 8) / (2 + 8))
    with pytest.raises(ValueError, match="prior.mean"):
        beta.add_arm("y", prior=ArmPrior(mean=1.5))


def test_linear_prior_mean_and_covariance():
    d = 3
    cov = np.array([[2.0, 0.5, 0.0], [0.5, 1.0, 0.0], [0.0, 0.0, 0.5]])
    mean = np.array([0.1, -0.2, 0.3])
    policy = LinUCB(context_dim=d, regularization=4.0)
    policy.add_arm("a", prior=ArmPrior(mean=mean, variance=cov))
    state = policy.state_dict()["arrays"]
    # a prior over the context's weights: the intercept is independent, mean 0, variance 1 / regularization
    full = np.block([[cov, np.zeros((3, 1))], [np.zeros((1, 3)), np.full((1, 1), 0.25)]])
    np.testing.assert_allclose(state["R"][0].T @ state["R"][0], full)
    np.testing.assert_allclose(state["A"][0], np.linalg.inv(full))
    x = np.array([1.0, 1.0, 0.0])
    assert policy.expected(["a"], x)[0] == pytest.approx(mean @ x)
    assert policy.stddev(["a"], x)[0] == pytest.approx(math.sqrt(x @ cov @ x + 0.25))
    no_intercept = LinUCB(context_dim=d, intercept=False)
    no_intercept.add_arm("a", prior=ArmPrior(mean=mean, variance=cov))
    np.testing.assert_allclose(no_intercept.state_dict()["arrays"]["A"][0], np.linalg.inv(cov))
    assert no_intercept.stddev(["a"], x)[0] == pytest.approx(math.sqrt(x @ cov @ x))
    with pytest.raises(ValueError, match="positive definite"):
        policy.add_arm("b", prior=ArmPrior(mean=0.0, variance=np.diag([1.0, -1.0, 1.0]) + 0.0))
    with pytest.raises(ValueError, match="prior.mean"):
        policy.add_arm("b", prior=ArmPrior(mean=np.zeros(5)))


@pytest.mark.parametrize("intercept", [True, False])
@pytest.mark.parametrize("cls", [LinUCB, LinearThompson])
def test_rank_one_updates_match_the_batch_solution(cls, intercept):
    rng = np.random.default_rng(0)
    d = 6
    policy = cls(context_dim=d, regularization=2.0, seed=0, intercept=intercept)
    policy.add_arm("a")
    X = rng.normal(size=(200, d))
    y = X @ rng.normal(size=d) + 1.5 + 0.1 * rng.normal(size=200)
    for x, r in zip(X, y):
        policy.update("a", float(r), x)
    Z = np.hstack([X, np.ones((200, 1))]) if intercept else X  # what the model reads
    A = 2.0 * np.eye(Z.shape[1]) + Z.T @ Z
    state = policy.state_dict()["arrays"]
    np.testing.assert_allclose(state["A"][0], A, rtol=1e-10)
    np.testing.assert_allclose(state["R"][0].T @ state["R"][0], np.linalg.inv(A), rtol=1e-6, atol=1e-10)
    np.testing.assert_allclose(state["theta"][0], np.linalg.solve(A, Z.T @ y), rtol=1e-6, atol=1e-8)
    x = rng.normal(size=d)
    z = np.append(x, 1.0) if intercept else x
    if cls is LinUCB:
        expected = z @ np.linalg.solve(A, Z.T @ y) + math.sqrt(z @ np.linalg.solve(A, z))
        assert policy.sample(["a"], x)[0] == pytest.approx(expected, rel=1e-6)


def test_exact_linear_thompson_draws_from_the_posterior():
    rng = np.random.default_rng(0)
    policy = LinearThompson(context_dim=3, exact=True, exploration=0.5, seed=0)
    policy.add_arm("a")
    for _ in range(20):
        x = rng.normal(size=3)
        policy.update("a", float(x[0]), x)
    x = np.array([0.3, -1.0, 0.5])
    draws = np.array([policy.sample(["a"], x)[0] for _ in range(4000)])
    assert draws.mean() == pytest.approx(policy.expected(["a"], x)[0], abs=0.02)
    assert draws.std() == pytest.approx(0.5 * policy.stddev(["a"], x)[0], rel=0.06)


def test_cached_draws_are_refreshed_round_robin():
    policy = LinearThompson(context_dim=2, refresh_arms=1, exact=False, seed=0)
    arms = [f"t{i}" for i in range(5)]
    for arm in arms:
        policy.add_arm(arm)
    x = np.array([1.0, 0.0])
    first = policy.state_dict()["arrays"]["draw"].copy()
    for _ in range(5):
        policy.sample(arms, x)
    after = policy.state_dict()["arrays"]
    assert (after["stamp"] >= 1).all()  # every arm redrawn within K / refresh_arms decisions
    assert not np.any(np.all(first == after["draw"], axis=1))


def test_unlucky_arm_is_tried_again():
    """Arm 'good' (reward 1) had three unlucky zeros; 'meh' pays 0.5. Exploration must not stall."""
    policy = LinearThompson(context_dim=2, exploration=0.5, refresh_arms=1, exact=False, seed=4)
    for arm in ("meh", "good"):
        policy.add_arm(arm)
    x = np.array([1.0, 0.0])
    for _ in range(3):
        policy.update("good", 0.0, x)
    for _ in range(5):
        policy.update("meh", 0.5, x)
    picks = []
    for _ in range(300):
        arm = policy.select(["meh", "good"], x)
        picks.append(arm)
        policy.update(arm, 1.0 if arm == "good" else 0.5, x)
    assert "good" in picks[:100]
    assert picks[-50:].count("good") >= 45


@pytest.mark.parametrize("name", ["gaussian_ts", "ucb1", "beta_ts"])
@pytest.mark.parametrize("forget", [{"discount": 0.95}, {"window": 60}])
def test_forgetting_follows_a_drifting_tool(name, forget):
    rng = np.random.default_rng(0)
    policy = build(name, arms=("a", "b"), seed=1, **forget)
    plain = build(name, arms=("a", "b"), seed=1)
    late = {id(policy): [], id(plain): []}
    for t in range(800):
        means = {"a": 0.9, "b": 0.4} if t < 400 else {"a": 0.1, "b": 0.4}
        for p in (policy, plain):
            arm = p.select(["a", "b"])
            p.update(arm, float(rng.random() < means[arm]))
            if t >= 600:
                late[id(p)].append(arm)
    assert late[id(policy)].count("b") >= 120
    assert late[id(policy)].count("b") > late[id(plain)].count("b")


def test_window_keeps_only_the_last_outcomes():
    policy = make_policy("ucb1", window=3)
    policy.add_arm("a")
    policy.add_arm("b")
    for arm, r in [("a", 1.0), ("b", 5.0), ("a", 2.0), ("a", 3.0), ("a", 4.0)]:
        policy.update(arm, r)
    arrays = policy.state_dict()["arrays"]
    assert arrays["n"].tolist() == [3.0, 0.0]
    assert arrays["mean"].tolist() == [3.0, 0.0]
    assert arrays["m2"].tolist() == [2.0, 0.0]
    policy.remove_arm("a")
    policy.update("b", 1.0)
    assert policy.state_dict()["arrays"]["n"].tolist() == [1.0]


def test_discount_decays_every_arm():
    policy = make_policy("gaussian_ts", discount=0.5)
    for arm in ("a", "b"):
        policy.add_arm(arm)
    policy.update("a", 1.0)
    policy.update("b", 1.0)
    policy.update("b", 1.0)
    assert policy.state_dict()["arrays"]["n"].tolist() == [0.25, 1.5]


@pytest.mark.parametrize("name", list(POLICIES))
def test_remove_arm_keeps_the_others(name):
    policy = build(name)
    x = context_for(policy)
    for arm, r in [("a", 0.1), ("b", 0.9), ("c", 0.5)]:
        policy.update(arm, r, x)
    before = policy.expected(["b", "c"], x)
    policy.remove_arm("a")
    assert policy.arm_ids == ("b", "c")
    np.testing.assert_array_equal(policy.expected(["b", "c"], x), before)
    with pytest.raises(UnknownToolError):
        policy.remove_arm("a")
    policy.add_arm("a")
    assert policy.select(["a", "b", "c"], x) in ("a", "b", "c")


@pytest.mark.parametrize("name", ["beta_ts", "gaussian_ts", "ucb1", "epsilon_greedy", "linucb", "lin_ts", "neural_linear"])
def test_merge_with_base_equals_one_process(name):
    """Two processes from one snapshot, each with its own outcomes, merge to what one process
    that saw every outcome would hold (the base counted once)."""
    rng = np.random.default_rng(0)
    base = build(name, arms=("a", "b"))
    for _ in range(10):
        x = context_for(base, rng)
        base.update("a", float(rng.random() < 0.5), x)
    snap = base.state_dict()
    one, two, whole = (policy_from_state(snap) for _ in range(3))
    for p in (one, two, whole):
        p.add_arm("c") if p is not two else None
    two.add_arm("d")
    whole.add_arm("d")
    for p, arms in ((one, ("a", "b", "c")), (two, ("a", "b", "d"))):
        for _ in range(15):
            arm = arms[int(rng.integers(3))]
            x = context_for(p, rng)
            r = float(rng.random() < 0.5)
            p.update(arm, r, x)
            whole.update(arm, r, x)
    one.merge(two, base=snap)
    assert set(one.arm_ids) == {"a", "b", "c", "d"}
    got, want = one.state_dict(), whole.state_dict()
    order = [whole.arm_ids.index(a) for a in one.arm_ids]
    keys = ("n", "mean", "m2", "prior_n", "prior_mean") if not one.contextual else ("A", "b", "theta")
    for k in keys:
        np.testing.assert_allclose(got["arrays"][k], want["arrays"][k][order], rtol=1e-7, atol=1e-9)
    assert got["config"]["t"] == want["config"]["t"]
    if one.contextual:
        R = got["arrays"]["R"]
        np.testing.assert_allclose(
            np.einsum("kji,kjl->kil", R, R), np.linalg.inv(want["arrays"]["A"][order]), rtol=1e-6, atol=1e-9
        )


def test_merge_without_base_adds_observations_once_per_prior():
    a = make_policy("gaussian_ts")
    b = make_policy("gaussian_ts")
    for p, r in ((a, 1.0), (b, 3.0)):
        p.add_arm("x", prior=ArmPrior(mean=2.0, pseudo_count=1.0))
        p.update("x", r)
    a.merge(b)
    assert a.expected(["x"])[0] == pytest.approx((2.0 + 1.0 + 3.0) / 3)


def test_merge_refusals():
    with pytest.raises(NotImplementedError, match="discount"):
        build("gaussian_ts", discount=0.9).merge(build("gaussian_ts", discount=0.9))
    with pytest.raises(NotImplementedError, match="window"):
        build("ucb1", window=9).merge(build("ucb1", window=9))
    with pytest.raises(ValueError, match="other"):
        build("ucb1").merge(build("gaussian_ts"))
    with pytest.raises(ValueError, match="other"):
        build("epsilon_greedy", epsilon=0.2).merge(build("epsilon_greedy", epsilon=0.3))
    one, two = build("linucb"), build("linucb")
    before = snapshot(one)
    with pytest.raises(ValueError, match="base"):
        one.merge(two)
    assert_same_state(before, snapshot(one))


def test_load_state_dict_rejects_malformed_state():
    policy = build("gaussian_ts")
    policy.update("a", 0.5)
    good = policy.state_dict()
    other = build("gaussian_ts", arms=("z",))
    before = snapshot(other)
    bad_shape = {"config": good["config"], "arrays": {**good["arrays"], "n": np.zeros(2)}}
    with pytest.raises(ValueError, match="arrays.n"):
        other.load_state_dict(bad_shape)
    bad_nan = {"config": good["config"], "arrays": {**good["arrays"], "mean": np.array([np.nan, 0, 0])}}
    with pytest.raises(ValueError, match="non-finite"):
        other.load_state_dict(bad_nan)
    with pytest.raises(ValueError, match="policy"):
        build("ucb1").load_state_dict(good)
    with pytest.raises(ValueError, match="options"):
        build("gaussian_ts", discount=0.9).load_state_dict(good)
    assert_same_state(before, snapshot(other))
    lin = build("lin_ts")
    lin_state = lin.state_dict()
    with pytest.raises(ValueError, match="arrays.R"):
        build("lin_ts").load_state_dict(
            {"config": lin_state["config"], "arrays": {**lin_state["arrays"], "R": np.zeros((3, 2, 2))}}
        )


def test_ucb1_tries_every_arm_first_and_is_deterministic():
    policy = make_policy("ucb1")
    arms = ["a", "b", "c"]
    for arm in arms:
        policy.add_arm(arm)
    seen = []
    for _ in range(3):
        arm = policy.select(arms)
        seen.append(arm)
        policy.update(arm, 0.5)
    assert sorted(seen) == arms
    assert np.all(np.isfinite(policy.sample(arms)))


def test_epsilon_greedy_explores_at_rate_epsilon():
    policy = make_policy("epsilon_greedy", epsilon=0.3, seed=0)
    for arm in ("a", "b"):
        policy.add_arm(arm)
    policy.update("a", 1.0)
    policy.update("b", 0.0)
    picks = [policy.select(["a", "b"]) for _ in range(4000)]
    assert picks.count("b") / 4000 == pytest.approx(0.15, abs=0.025)


@pytest.mark.parametrize("name", ["gaussian_ts", "lin_ts"])
def test_candidate_positions_follow_arm_changes(name):
    """Candidate lists are cached by the policy; adding and removing arms must not confuse them."""
    policy = build(name, arms=("a", "b"))
    x = context_for(policy)
    policy.update("a", 0.9, x)
    candidates = ("a", "b")
    first = policy.expected(candidates, x)
    policy.remove_arm("a")
    policy.add_arm("c")
    policy.add_arm("a")
    policy.update("c", 0.3, x)
    again = policy.expected(("c", "b", "a"), x)
    assert again[1] == first[1]
    assert again[2] == policy.expected(["a"], x)[0] != first[0]
    with pytest.raises(UnknownToolError):
        build(name, arms=("b",)).expected(candidates, x)


def test_lin_ts_chooses_exact_draws_when_they_are_cheap():
    x = np.ones(4) / 2
    cheap = LinearThompson(context_dim=4, seed=0)  # 3 arms * 16 <= budget: exact
    cached = LinearThompson(context_dim=4, seed=0, exact_budget=10)
    for p in (cheap, cached):
        for arm in ("a", "b", "c"):
            p.add_arm(arm)
        p.sample(["a", "b", "c"], x)
    assert cheap.decisions == 0 and cached.decisions == 1  # only the cached path counts decisions
    with pytest.raises(ValueError, match="exact"):
        LinearThompson(context_dim=4, exact="yes")


def test_blas_rank1_update_matches_numpy_in_place_and_on_a_strided_view():
    from toolrouter.policies.linear import _add_outer

    rng = np.random.default_rng(0)
    x, y = rng.standard_normal(7), rng.standard_normal(7)
    stack = rng.standard_normal((3, 7, 7))
    expected = stack[1] + 0.5 * np.outer(x, y)
    _add_outer(stack[1], 0.5, x, y)  # contiguous slice: updated in place
    np.testing.assert_allclose(stack[1], expected, rtol=1e-12)
    strided = rng.standard_normal((7, 14))[:, ::2]  # not contiguous: BLAS copies, the helper writes back
    expected = strided + 2.0 * np.outer(x, y)
    _add_outer(strided, 2.0, x, y)
    np.testing.assert_allclose(strided, expected, rtol=1e-12)


@pytest.mark.parametrize("name", ["gaussian_ts", "beta_ts", "ucb1", "epsilon_greedy"])
def test_a_window_too_large_to_keep_in_memory_is_refused_naming_it(name):
    """The window's outcomes are allocated up front: a window of 10**10 used to try for 160 GB
    per route and die of it (or take the host's memory) instead of saying what was wrong."""
    with pytest.raises(ValueError, match=r"window must be at most 16_777_216 .*, got 10000000000"):
        make_policy(name, window=10**10)
    saved = make_policy(name, window=10)
    saved.add_arm("a")
    state = saved.state_dict()
    state["config"]["options"]["window"] = 10**10  # a damaged file must not allocate it either
    with pytest.raises(ValueError, match="window must be at most"):
        policy_from_state(state)
    with pytest.raises(ValueError, match=f"got {MAX_SAVED_WINDOW + 1}"):  # more than a saved router may hold
        make_policy(name, window=MAX_SAVED_WINDOW + 1)


@pytest.mark.parametrize("name", list(POLICIES))
def test_select_among_no_arms_is_an_error_naming_them_and_draws_nothing(name):
    policy = build(name)
    before = policy.state_dict()["config"]  # the generator's state and the decision counters
    with pytest.raises(ValueError, match="arm_ids: empty"):
        policy.select([], context_for(policy))
    assert policy.state_dict()["config"] == before
