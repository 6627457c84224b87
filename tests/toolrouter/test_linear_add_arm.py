"""Adding an arm to a linear policy writes that arm's rows only: the other arms' d x d matrices
are not copied (they sit in buffers with spare rows), and a refused add changes nothing."""

from __future__ import annotations

import numpy as np
import pytest

from toolrouter.policies import ArmPrior, make_policy, policy_from_state

ARRAYS = {"linucb": ("A", "b", "R", "theta"), "lin_ts": ("A", "b", "R", "theta", "draw", "stamp")}


def build(name: str, **options):
    return make_policy(name, seed=0, context_dim=3, **options)


@pytest.mark.parametrize("name", sorted(ARRAYS))
def test_adding_arms_rarely_moves_the_other_arms_matrices(name):
    policy = build(name)
    moved = 0
    for i in range(60):
        before = {k: getattr(policy, f"_{k}") for k in ARRAYS[name]}
        policy.add_arm(f"t{i}")
        if i:
            moved += sum(not np.shares_memory(before[k], getattr(policy, f"_{k}")) for k in ARRAYS[name])
        policy.update(f"t{i}", 1.0, np.ones(3))
    # a buffer grows by half when full: a handful of moves per array over 60 adds, not one per add
    assert moved <= 8 * len(ARRAYS[name])


@pytest.mark.parametrize("name", sorted(ARRAYS))
def test_arms_added_to_spare_rows_hold_the_same_state(name):
    rng = np.random.default_rng(0)
    policy = build(name)
    for i in range(12):
        policy.add_arm(f"t{i}", ArmPrior(mean=float(i), variance=None) if i % 3 else None)
        policy.update(f"t{int(rng.integers(i + 1))}", float(rng.random()), rng.normal(size=3))
        if i == 7:
            policy.remove_arm("t2")
            policy.reset_arm("t5")
    held = policy._R  # a view handed out before the next add
    snapshot = held.copy()
    with pytest.raises(ValueError, match="prior.variance"):
        policy.add_arm("bad", ArmPrior(mean=0.0, variance=-1.0))
    twin = policy_from_state(policy.state_dict())  # fresh arrays, no spare rows
    for p in (policy, twin):
        p.add_arm("last", ArmPrior(mean=2.0, variance=None))
        p.update("last", 1.0, np.ones(3))
    np.testing.assert_array_equal(held, snapshot)
    got, want = policy.state_dict(), twin.state_dict()
    assert got["config"] == want["config"] and "bad" not in policy.arm_ids
    for k in ARRAYS[name]:
        np.testing.assert_array_equal(got["arrays"][k], want["arrays"][k])
    x = np.array([0.3, -0.2, 0.5])
    np.testing.assert_array_equal(policy.sample(list(policy.arm_ids), x), twin.sample(list(twin.arm_ids), x))


def test_neural_linear_heads_grow_in_place_too():
    policy = make_policy("neural_linear", seed=0, context_dim=3)
    policy.add_arm("t0")
    moved = 0
    for i in range(1, 40):
        before = policy.head._A
        policy.add_arm(f"t{i}")
        moved += not np.shares_memory(before, policy.head._A)
    assert moved <= 8
