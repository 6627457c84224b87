"""A decision state can be restored more than once: each restore gives the decision it recorded."""

import numpy as np
import pytest

from toolrouter.policies import POLICIES, make_policy

OPTIONS = {"lin_ts": {"exact": False}, "neural_linear": {"exact": False, "features": 3, "hidden": 4}}


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_restoring_one_state_twice_repeats_the_same_decision(name: str) -> None:
    p = make_policy(name, seed=0, **({"context_dim": 3} if POLICIES[name].contextual else {}), **OPTIONS.get(name, {}))
    arms = ["a", "b", "c", "d"]
    for arm in arms:
        p.add_arm(arm)
    x = np.array([1.0, -0.5, 0.25]) if p.contextual else None
    state = p.decision_state()
    first = [p.sample(arms, x) for _ in range(3)]
    for _ in range(2):
        p.restore_decision_state(state)
        assert all(np.array_equal(a, b) for a, b in zip(first, [p.sample(arms, x) for _ in range(3)]))
