"""UCB1's index of an arm counts the plays of every arm (Auer et al.'s N), whichever arms are asked."""

from __future__ import annotations

import numpy as np

from toolrouter.policies import make_policy


def test_an_arms_index_does_not_depend_on_the_other_candidates() -> None:
    p = make_policy("ucb1")
    for arm in ("a", "b", "c"):
        p.add_arm(arm)
    for arm, reward, plays in (("a", 1.2, 10), ("b", 0.3, 2), ("c", 0.0, 100)):
        for _ in range(plays):
            p.update(arm, reward)
    every = p.sample(["a", "b", "c"])
    # N = 12 rather than 112 shrank the bonus: a ranked above b when c was not a candidate
    assert np.array_equal(p.sample(["a", "b"]), every[:2])
    assert p.select(["a", "b"]) == p.select(["a", "b", "c"]) == "b"
