"""Merging a policy into itself would count its outcomes twice: it is refused, and nothing changes."""

from __future__ import annotations

import numpy as np
import pytest

from toolrouter.policies import POLICIES, make_policy


@pytest.mark.parametrize("name", sorted(POLICIES))
@pytest.mark.parametrize("with_base", [False, True])
def test_a_policy_is_not_merged_into_itself(name, with_base):
    options = {"context_dim": 2} if POLICIES[name].contextual else {}
    policy = make_policy(name, seed=0, **options)
    policy.add_arm("a")
    snapshot = policy.state_dict()
    x = np.array([0.6, 0.8]) if options else None
    policy.update("a", 1.0, x)
    before = policy.state_dict()
    with pytest.raises(ValueError, match="^other: a policy cannot be merged into itself"):
        policy.merge(policy, base=snapshot if with_base else None)
    after = policy.state_dict()
    assert after["config"] == before["config"]
    for k, a in before["arrays"].items():
        np.testing.assert_array_equal(after["arrays"][k], a)
