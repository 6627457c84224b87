"""An arm given twice among a decision's candidates is refused, naming it, and nothing is drawn:
each listing got a draw of its own, so the arm had two chances to be chosen."""

from __future__ import annotations

import numpy as np
import pytest

from toolrouter.policies import POLICIES, make_policy


@pytest.mark.parametrize("name", sorted(POLICIES))
@pytest.mark.parametrize("method", ["select", "sample", "expected", "sample_and_expected"])
def test_an_arm_given_twice_is_refused_and_nothing_is_drawn(name: str, method: str) -> None:
    policy = make_policy(name, seed=0, **({"context_dim": 2} if POLICIES[name].contextual else {}))
    for arm in ("a", "b"):
        policy.add_arm(arm)
    context = np.ones(2) if policy.contextual else None
    before = policy.rng.bit_generator.state
    with pytest.raises(ValueError, match=r"arm_ids: 'a' is given more than once, got \['a', 'b', 'a'\]"):
        getattr(policy, method)(["a", "b", "a"], context)
    assert policy.rng.bit_generator.state == before
    assert policy.select(["b", "a"], context) in ("a", "b")

