"""A decision state can be restored more than once: each restore gives the decision it recorded."""

import numpy as np
import pytest

from toolrouter.policies import POLICIES, make_policy, policy_from_state

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


@pytest.mark.parametrize("name", sorted(POLICIES))
@pytest.mark.parametrize("change", ["remove", "add", "swap"])
def test_a_decision_state_of_other_arms_is_refused_and_changes_nothing(name: str, change: str) -> None:
    # lin_ts's cached draws of the arms then would land on the arms now (its saved state no longer loaded)
    p = make_policy(name, seed=0, **({"context_dim": 3} if POLICIES[name].contextual else {}), **OPTIONS.get(name, {}))
    for arm in ("a", "b", "c"):
        p.add_arm(arm)
    x = np.array([1.0, -0.5, 0.25]) if p.contextual else None
    state = p.decision_state()
    p.remove_arm("a") if change != "add" else p.add_arm("d")
    if change == "swap":
        p.add_arm("e")
    before = p.state_dict()
    with pytest.raises(ValueError, match=r"^state: taken with arms \['a', 'b', 'c'\], the policy now has"):
        p.restore_decision_state(state)
    assert repr(p.state_dict()) == repr(before)
    policy_from_state(p.state_dict()).sample(list(p.arm_ids), x)  # still saves and loads
