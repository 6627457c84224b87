"""UCB1 with a discount: an arm left unplayed until its weight is nearly nothing keeps a sound index."""

import warnings

import numpy as np
import pytest

from toolrouter.policies import make_policy


@pytest.mark.parametrize("exploration", [0.0, 1.0])
def test_index_of_a_nearly_forgotten_arm(exploration: float) -> None:
    p = make_policy("ucb1", discount=0.5, exploration=exploration)
    p.add_arm("idle"); p.add_arm("busy")
    p.update("idle", 0.0)
    for _ in range(1030):  # idle's weight halves each time: 2**-1030, below what 2 ln N / weight can hold
        p.update("busy", 1.0)
    assert 0.0 < p.counts(["idle"])[0] < 1e-308
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # it overflowed, with a RuntimeWarning on every decision
        scores = p.sample(["idle", "busy"])
    assert not np.isnan(scores).any()
    if exploration == 0.0:  # greedy: the means alone (NaN for idle, which argmax chose)
        assert scores.tolist() == [0.0, 1.0]
        assert p.select(["idle", "busy"]) == "busy"
    else:  # a bonus beyond any mean: the idle arm is tried again
        assert scores[0] > 1e100
        assert p.select(["idle", "busy"]) == "idle"
