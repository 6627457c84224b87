"""A reset arm whose peers' rewards are constant restarts with the arms' prior variance, not a
variance of 0 (floored at 1e-6) worth four outcomes: those rewards show no scale, and with it the
arm's first bad outcome wrote it off for good."""

from __future__ import annotations

import numpy as np
import pytest

from toolrouter.policies import make_policy


@pytest.mark.parametrize("options", [{}, {"discount": 0.9}, {"window": 50}])
def test_a_reset_arm_beside_constant_peers_is_still_tried_after_a_bad_outcome(options: dict) -> None:
    p = make_policy("gaussian_ts", seed=0, **options)
    for arm in ("a", "b", "c"):
        p.add_arm(arm)
    for _ in range(30):  # a tool that always gives the same utility, and one that did too
        p.update("a", 1.0)
        p.update("b", 1.0)
        p.update("c", 1.0)
    prior = p.reset_arm("c")  # c changed
    assert prior.variance == pytest.approx(1.0, rel=1e-3)  # the arms' prior variance (gaussian_ts's default)
    p.update("c", 0.0)  # its first outcome since: a failure, one glitch or a break
    # still uncertain after one outcome: tried again now and then (with 1e-6, never again)
    share = np.mean([p.select(["a", "b", "c"]) == "c" for _ in range(400)])
    assert 0.03 < share < 0.5


def test_constant_peers_apart_add_their_spread() -> None:
    p = make_policy("gaussian_ts", seed=0)
    for arm in ("a", "b", "c"):
        p.add_arm(arm)
    for _ in range(10):
        p.update("a", 2.0)
        p.update("b", 0.0)
    between = float(np.var(p.expected(["a", "b"])))
    assert p.population_prior(exclude="c").variance == pytest.approx(1.0 + between)
