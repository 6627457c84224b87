"""Policy.merge honours an arm reset since the snapshot it merges from, for every family that merges."""

from __future__ import annotations

import numpy as np
import pytest

from toolrouter.policies import POLICIES, make_policy, policy_from_state

CONTEXT = np.array([1.0, 0.5, -0.25])


def _policy(name: str, seed: int):
    options = {"context_dim": len(CONTEXT)} if POLICIES[name].contextual else {}
    p = make_policy(name, seed=seed, **options)
    return p


def _x(policy) -> np.ndarray | None:
    return CONTEXT if policy.contextual else None


def _learned(name: str):
    """A policy that learned arm x is worth 1 and arm y 0.5, and a snapshot of it."""
    p = _policy(name, 0)
    for arm in ("x", "y"):
        p.add_arm(arm)
    for _ in range(20):
        p.update("x", 1.0, _x(p))
        p.update("y", 0.5, _x(p))
    return p, p.state_dict()


def _twin(name: str, snapshot, seed: int):
    q = _policy(name, seed)
    q.load_state_dict(snapshot)
    return q


@pytest.mark.parametrize("name", list(POLICIES))
def test_a_reset_in_other_replaces_the_arm_and_brings_no_outcome_from_before_it_back(name: str) -> None:
    a, snapshot = _learned(name)
    b = _twin(name, snapshot, 1)
    b.reset_arm("x")
    for _ in range(3):
        b.update("x", 0.0, _x(b))
    a.update("x", 1.0, _x(a))  # before b's reset, as far as a merge can tell
    a.update("y", 0.5, _x(a))
    y_before = a.expected(["y"], _x(a))
    a.merge(b, base=snapshot)
    assert np.allclose(a.expected(["x"], _x(a)), b.expected(["x"], _x(b)))
    assert a.expected(["x"], _x(a))[0] < 0.5  # the 20 outcomes of 1.0 before the reset are gone
    assert np.allclose(a.expected(["y"], _x(a)), y_before)
    assert a.state_dict()["config"].get("resets", a.state_dict()["config"].get("head", {}).get("resets")) == {"x": 1}


@pytest.mark.parametrize("name", list(POLICIES))
def test_a_reset_in_this_policy_drops_others_outcomes_of_the_arm_since_base(name: str) -> None:
    a, snapshot = _learned(name)
    b = _twin(name, snapshot, 1)
    for _ in range(5):
        b.update("x", 1.0, _x(b))
        b.update("y", 0.0, _x(b))
    a.reset_arm("x")
    a.update("x", 0.0, _x(a))
    x_before = a.expected(["x"], _x(a))
    a.merge(b, base=snapshot)
    assert np.allclose(a.expected(["x"], _x(a)), x_before)
    assert a.expected(["y"], _x(a))[0] < 0.5  # b's other outcomes still count


@pytest.mark.parametrize("name", list(POLICIES))
def test_the_reset_counts_survive_a_saved_state(name: str) -> None:
    a, snapshot = _learned(name)
    b = _twin(name, snapshot, 1)
    b.reset_arm("x")
    b.update("x", 0.0, _x(b))
    saved = policy_from_state(b.state_dict())
    a.merge(saved, base=snapshot)
    assert np.allclose(a.expected(["x"], _x(a)), b.expected(["x"], _x(b)))
    # a third process from the old snapshot: its outcomes of x predate the reset a now holds
    c = _twin(name, snapshot, 2)
    c.update("x", 1.0, _x(c))
    a.merge(c, base=snapshot)
    assert np.allclose(a.expected(["x"], _x(a)), b.expected(["x"], _x(b)))
