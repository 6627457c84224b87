"""Resetting an arm: every policy family restarts it in place from its route's population, where it
is tried again soon; a rejected reset changes nothing."""

from __future__ import annotations

import json

import numpy as np
import pytest

from toolrouter.errors import UnknownToolError
from toolrouter.policies import POLICIES, ArmPrior, make_policy, policy_from_state

D = 4
CONTEXTUAL = {name for name, cls in POLICIES.items() if cls.contextual}


def _policy(name: str, seed: int = 0, **options):
    if name in CONTEXTUAL:
        options.setdefault("context_dim", D)
    return make_policy(name, seed=seed, **options)


def _context(rng: np.random.Generator, name: str) -> np.ndarray | None:
    if name not in CONTEXTUAL:
        return None
    x = np.abs(rng.normal(size=D))
    return x / np.linalg.norm(x)


def _trained(name: str, seed: int = 0, **options):
    """Arms a, b, c: a and b earn about 1.0 and 0.8 (0/1 for beta_ts), c earns nothing."""
    p = _policy(name, seed, **options)
    for arm in ("a", "b", "c"):
        p.add_arm(arm)
    rng = np.random.default_rng(seed)
    for _ in range(60):
        for arm, mean in (("a", 0.9), ("b", 0.7), ("c", 0.0)):
            reward = float(rng.random() < mean) if name == "beta_ts" else mean + 0.1 * rng.normal()
            p.update(arm, reward, _context(rng, name))
    return p


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_a_reset_arm_keeps_its_place_restarts_near_its_peers_and_is_tried_again(name: str) -> None:
    p = _trained(name)
    rng = np.random.default_rng(1)
    x = _context(rng, name)
    before = p.expected(["a", "b", "c"], x)
    assert before[2] < 0.2 < before[1]  # learned: c is worthless
    picks_before = sum(p.select(["a", "b", "c"], _context(rng, name)) == "c" for _ in range(200))
    prior = p.reset_arm("c")
    assert p.arm_ids == ("a", "b", "c")
    after = p.expected(["a", "b", "c"], x)
    assert np.allclose(after[:2], before[:2])  # the others are untouched
    # it restarts at about its peers' level, not at zero: tried again, then judged on what it does
    assert after[2] > 0.5 * min(after[0], after[1]), (prior, after)
    if name == "epsilon_greedy":
        return  # it explores every arm at the rate epsilon / arms whatever their means
    picks_after = sum(p.select(["a", "b", "c"], _context(rng, name)) == "c" for _ in range(200))
    assert picks_after > max(5, 2 * picks_before), (picks_before, picks_after)


@pytest.mark.parametrize("name", ["gaussian_ts", "lin_ts", "neural_linear"])
def test_a_reset_arm_that_still_fails_is_left_again_after_a_few_calls(name: str) -> None:
    p = _trained(name)
    p.reset_arm("c")
    rng = np.random.default_rng(2)
    picks = []
    for _ in range(300):
        x = _context(rng, name)
        arm = p.select(["a", "b", "c"], x)
        picks.append(arm)
        p.update(arm, {"a": 0.9, "b": 0.7, "c": 0.0}[arm] + 0.1 * rng.normal(), x)
    assert 1 <= picks.count("c") <= 15, picks.count("c")
    assert picks[-100:].count("c") <= 2


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_population_prior_is_the_mean_of_the_other_arms(name: str) -> None:
    p = _trained(name)
    prior = p.population_prior(exclude="c")
    if name in ("lin_ts", "linucb"):
        thetas = p.state_dict()["arrays"]["theta"]
        assert np.allclose(prior.mean, thetas[:2].mean(axis=0))
        assert np.all(np.asarray(prior.variance) >= 1.0 / p.regularization)
    elif name == "neural_linear":
        thetas = p.head.state_dict()["arrays"]["theta"]
        assert np.allclose(prior.mean, thetas[:2].mean(axis=0))
    else:
        means = p.expected(["a", "b"])
        assert prior.mean == pytest.approx(float(np.mean(means)), abs=0.02)
        assert prior.pseudo_count < 5  # weak: the arm's own outcomes soon outweigh it


def test_population_prior_of_a_lone_arm_is_its_own_estimate_and_of_a_fresh_policy_the_default() -> None:
    p = make_policy("gaussian_ts")
    p.add_arm("only")
    for _ in range(20):
        p.update("only", 1.5)
    assert p.population_prior(exclude="only").mean == pytest.approx(1.5, abs=0.1)
    fresh = make_policy("gaussian_ts")
    fresh.add_arm("x")
    assert fresh.population_prior(exclude="x").mean == 0.0
    lin = make_policy("lin_ts", context_dim=3)
    lin.add_arm("x")
    assert np.allclose(lin.population_prior(exclude="x").mean, 0.0)


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_reset_to_a_given_prior_and_bad_resets_change_nothing(name: str) -> None:
    p = _trained(name)
    before = json.dumps({k: v for k, v in p.state_dict()["config"].items() if k != "head"}, default=str)
    arrays = {k: v.copy() for k, v in p.state_dict()["arrays"].items()}
    with pytest.raises(UnknownToolError, match="nope"):
        p.reset_arm("nope")
    bad = ArmPrior(mean=np.ones(D + 7), variance=1.0) if name in CONTEXTUAL else ArmPrior(mean=0.5, variance=-1.0)
    with pytest.raises(ValueError, match="prior"):
        p.reset_arm("c", bad)
    state = p.state_dict()
    assert json.dumps({k: v for k, v in state["config"].items() if k != "head"}, default=str) == before
    assert all(np.array_equal(arrays[k], v) for k, v in state["arrays"].items())
    mean = np.full(p.head.context_dim if name == "neural_linear" else D, 0.25) if name in CONTEXTUAL else 0.25
    p.reset_arm("c", ArmPrior(mean=mean, variance=0.5, pseudo_count=4.0))
    x = _context(np.random.default_rng(3), name)
    expected = p.expected(["c"], x)[0]
    if name in CONTEXTUAL:
        features = p.featurize(x) if name == "neural_linear" else x
        assert expected == pytest.approx(0.25 * features.sum())
    elif name == "beta_ts":
        assert expected == pytest.approx((1 + 0.25 * 4) / (2 + 4))
    else:
        assert expected == pytest.approx(0.25)


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_a_reset_survives_save_and_load(name: str) -> None:
    p = _trained(name, seed=4)
    p.reset_arm("a")
    q = policy_from_state(p.state_dict())
    rng = np.random.default_rng(5)
    for _ in range(20):
        x = _context(rng, name)
        assert p.select(["a", "b", "c"], x) == q.select(["a", "b", "c"], x)


def test_a_windowed_policy_forgets_the_reset_arms_outcomes_in_its_window() -> None:
    p = make_policy("gaussian_ts", window=10)
    for arm in ("a", "b"):
        p.add_arm(arm)
    for _ in range(5):
        p.update("a", 1.0)
        p.update("b", 0.0)
    p.reset_arm("b")
    for _ in range(10):  # the window turns over: the reset arm's old outcomes must not be subtracted
        p.update("a", 1.0)
    n = p.state_dict()["arrays"]["n"]
    assert n.tolist() == [10.0, 0.0]


def _reset_after_two_failures(prior_of):
    """gaussian_ts: "a" succeeds 90% of the time, "b" 60% (utility 2 or 0); "a" is reset from
    ``prior_of(population prior)`` and then fails twice."""
    p = make_policy("gaussian_ts", seed=0)
    for arm in ("a", "b"):
        p.add_arm(arm)
    rng = np.random.default_rng(0)
    for _ in range(100):
        p.update("a", 2.0 * (rng.random() < 0.9))
        p.update("b", 2.0 * (rng.random() < 0.6))
    p.reset_arm("a", prior_of(p.population_prior(exclude="a")))
    p.update("a", 0.0)
    p.update("a", 0.0)
    return p


def test_a_gaussian_reset_stays_uncertain_after_two_equal_outcomes() -> None:
    # the reset prior's noise variance has its own weight (a few observations): two failures in a
    # row leave the mean's posterior wide, so the tool is still tried now and then
    own = _reset_after_two_failures(lambda prior: prior)
    assert own.population_prior(exclude="a").variance_pseudo_count == 4.0
    # tied to the mean's tenth of an observation, the variance would be learned from the two
    # equal outcomes alone: a narrow posterior that writes the tool off
    tied = _reset_after_two_failures(
        lambda prior: ArmPrior(mean=prior.mean, variance=prior.variance, pseudo_count=prior.pseudo_count)
    )
    assert np.sqrt(own.variance(["a"]))[0] > 0.4 > 0.25 > np.sqrt(tied.variance(["a"]))[0]
    tries = lambda p: sum(p.select(["a", "b"]) == "a" for _ in range(1000))  # noqa: E731
    assert tries(own) > 5 * max(tries(tied), 1)


def test_the_variance_weight_is_saved_checked_and_optional_in_old_states() -> None:
    p = _reset_after_two_failures(lambda prior: prior)
    state = p.state_dict()
    assert state["arrays"]["prior_vn"].tolist() == [4.0, 1.0]
    again = make_policy("gaussian_ts")
    again.load_state_dict(state)
    assert np.allclose(again.variance(["a", "b"]), p.variance(["a", "b"]))
    # a state saved before the variance had its own weight: as many observations as the mean
    old = {"config": state["config"], "arrays": {k: v for k, v in state["arrays"].items() if k != "prior_vn"}}
    again.load_state_dict(old)
    assert again.state_dict()["arrays"]["prior_vn"].tolist() == state["arrays"]["prior_n"].tolist()
    before = p.state_dict()
    with pytest.raises(ValueError, match="variance_pseudo_count"):
        p.reset_arm("a", ArmPrior(mean=1.0, variance=1.0, pseudo_count=0.1, variance_pseudo_count=-1.0))
    assert np.array_equal(p.state_dict()["arrays"]["prior_vn"], before["arrays"]["prior_vn"])


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_a_population_prior_excluding_no_arm_is_refused_naming_it(name) -> None:
    # a misspelt arm left none out: the prior then counted the arm it was meant for
    p = make_policy(name, seed=0, **({"context_dim": 2} if POLICIES[name].contextual else {}))
    p.add_arm("a"), p.add_arm("b")
    with pytest.raises(UnknownToolError, match=r"^exclude: unknown tool 'A'"):
        p.population_prior(exclude="A")


# priors a policy accepts, extreme enough that the population prior built from them overflowed or
# was refused by the policy that built it (gaussian_ts: pseudo_count * mean**2 or variance *
# variance_pseudo_count beyond the largest float); a router failed learning an outcome half-way
EXTREME = {
    "gaussian_ts": [ArmPrior(mean=1e200, pseudo_count=1e-300), ArmPrior(variance=1e308), ArmPrior(mean=-1e150)],
    "ucb1": [ArmPrior(mean=1.7e308), ArmPrior(mean=1.7e308, variance=1e308), ArmPrior(mean=-1.7e308)],
    "epsilon_greedy": [ArmPrior(mean=1e300), ArmPrior(mean=-1e300), ArmPrior()],
    "linucb": [ArmPrior(mean=1e300), ArmPrior(mean=-1e300), ArmPrior()],
    "lin_ts": [ArmPrior(mean=1e200), ArmPrior(mean=-1e200), ArmPrior(mean=1e200)],
}


@pytest.mark.parametrize("name", sorted(EXTREME))
def test_the_population_prior_built_from_extreme_priors_is_one_the_policy_takes(name: str) -> None:
    p = _policy(name)
    for i, prior in enumerate(EXTREME[name]):
        p.add_arm(f"a{i}", prior)
    with np.errstate(all="raise"):  # no overflow on the way either
        for arm in p.arm_ids:
            prior = p.reset_arm(arm)
            assert np.all(np.abs(prior.mean) <= 1e9) and np.all(np.asarray(prior.variance) <= 1e18)
            p.add_arm(f"{arm}-twin", prior)  # taken as given, too
    assert np.all(np.isfinite(p.sample(list(p.arm_ids), _context(np.random.default_rng(0), name))))
