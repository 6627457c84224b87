"""The reward variance of a reset arm's prior is pooled from its peers' outcomes under discounting
too, where no arm's weight reaches 2: a reset arm restarts at the scale of the rewards."""

from __future__ import annotations

import numpy as np
import pytest

from toolrouter.policies import make_policy


@pytest.mark.parametrize("discount", [0.5, 0.7])
def test_a_discounted_reset_arm_restarts_at_the_scale_of_its_peers_rewards(discount: float) -> None:
    p = make_policy("gaussian_ts", seed=0, discount=discount)
    for arm in ("a", "b", "c"):
        p.add_arm(arm)
    # a and b alike (no spread between their means), rewards 0 or 200: a scale of about 100
    for reward in (0.0, 200.0) * 20:
        for arm in ("a", "b", "c"):
            p.update(arm, reward - 500.0 * (arm == "c"))
    assert p.counts(["a", "b"]).max() < 2  # the discount keeps every weight below 2
    arrays = p.state_dict()["arrays"]
    n, m2, w2 = (arrays[k][:2] for k in ("n", "m2", "w2"))
    within = float(m2.sum() / (n - w2 / n).sum())  # a's and b's pooled weighted variance
    between = float(np.var(p.expected(["a", "b"])))
    prior = p.reset_arm("c")
    assert prior.variance == pytest.approx(within + between, rel=1e-9)
    assert prior.variance > 1000.0  # not the prior's 1.0
    # the reset arm's draws spread at that scale, so it is explored again among its peers
    draws = np.array([p.sample(["c"])[0] for _ in range(300)])
    assert np.std(draws) > 50.0  # the rewards scatter by 100
    assert 0.05 < np.mean([p.select(["a", "b", "c"]) == "c" for _ in range(300)]) < 0.95


def test_arms_discounted_to_nothing_leave_the_pool() -> None:
    p = make_policy("gaussian_ts", seed=0, discount=0.5)
    for arm in ("a", "b", "c"):
        p.add_arm(arm)
    for reward in (0.0, 1e6) * 5:
        p.update("a", reward)
        p.update("b", -reward)
    for _ in range(1100):  # a and b idle: their weights round to 0 before their spreads do
        p.update("c", 1.0)
    with np.errstate(all="raise"):  # m2 / 0 was infinite, with a warning
        prior = p.reset_arm("c")
    assert prior.variance == pytest.approx(1.0)  # no spread known: the prior's variance


def test_a_windowed_arm_left_with_one_outcome_stays_out_of_the_pool() -> None:
    p = make_policy("gaussian_ts", seed=0, window=3)
    for arm in ("a", "b", "c"):
        p.add_arm(arm)
    for arm, reward in (("a", 0.3), ("a", 0.1), ("b", 1.0), ("b", 2.0)):
        p.update(arm, reward)
    n, m2 = p.counts(["a", "b"]), p.state_dict()["arrays"]["m2"][:2]
    assert n[0] == 1 and m2[0] > 0  # rounding left from taking 0.3 away
    between = float(np.var(p.expected(["a", "b"])))
    assert p.population_prior(exclude="c").variance == pytest.approx(m2[1] / (n[1] - 1) + between, rel=1e-12)
