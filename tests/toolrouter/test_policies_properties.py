"""Property tests (hypothesis) of every policy: statistics stay finite under any finite reward
stream, and save -> load -> continue makes the same decisions as never stopping."""

from __future__ import annotations

import json

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from safetensors.numpy import load as st_load
from safetensors.numpy import save as st_save

from toolrouter.errors import InvalidOutcomeError
from toolrouter.policies import POLICIES, make_policy, policy_from_state

D = 3
ARMS = ("a", "b", "c")
CONFIGS = [
    ("beta_ts", {}),
    ("beta_ts", {"discount": 0.9}),
    ("gaussian_ts", {}),
    ("gaussian_ts", {"window": 4}),
    ("ucb1", {"discount": 0.8}),
    ("ucb1", {}),
    ("epsilon_greedy", {"window": 3, "epsilon": 0.3}),
    ("linucb", {"context_dim": D}),
    ("lin_ts", {"context_dim": D, "refresh_arms": 1, "exact": False}),
    ("lin_ts", {"context_dim": D}),
    ("lin_ts", {"context_dim": D, "exact": True}),
    ("neural_linear", {"context_dim": D, "features": 3, "hidden": 5}),
]

finite_reward = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
unit_reward = st.floats(min_value=0.0, max_value=1.0)
context = st.lists(st.floats(min_value=-100, max_value=100), min_size=D, max_size=D)
step = st.tuples(st.integers(0, len(ARMS) - 1), finite_reward, unit_reward, context)
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def build(name, options, seed=0):
    policy = make_policy(name, seed=seed, **options)
    for arm in ARMS:
        policy.add_arm(arm)
    return policy


def play(policy, steps, decide: bool = True):
    """Apply (arm, reward, unit reward, context) steps; returns the decisions made on the way."""
    decisions = []
    for arm_i, reward, unit, ctx in steps:
        x = np.array(ctx) if policy.contextual else None
        if decide:
            decisions.append(policy.select(list(ARMS), x))
        r = unit if policy.reward_bounds == (0.0, 1.0) else reward
        policy.update(ARMS[arm_i], r, x)
    return decisions


def assert_finite(policy):
    state = policy.state_dict()
    for name, a in state["arrays"].items():
        assert np.all(np.isfinite(a)), name
    x = np.ones(D) if policy.contextual else None
    assert np.all(~np.isnan(policy.sample(list(ARMS), x)))
    assert np.all(np.isfinite(policy.expected(list(ARMS), x)))


@SETTINGS
@given(steps=st.lists(step, max_size=40), which=st.sampled_from(range(len(CONFIGS))))
def test_statistics_never_become_nan(steps, which):
    name, options = CONFIGS[which]
    policy = build(name, options)
    play(policy, steps)
    assert_finite(policy)


@SETTINGS
@given(
    steps=st.lists(step, min_size=2, max_size=30),
    cut=st.integers(0, 30),
    which=st.sampled_from(range(len(CONFIGS))),
    seed=st.integers(0, 2**32 - 1),
)
def test_save_load_continue_equals_never_stopping(steps, cut, which, seed):
    name, options = CONFIGS[which]
    cut = min(cut, len(steps))
    straight = build(name, options, seed=seed)
    expected = play(straight, steps)

    first = build(name, options, seed=seed)
    got = play(first, steps[:cut])
    state = first.state_dict()
    # through the real persistence formats: JSON for the config, safetensors for the arrays
    config = json.loads(json.dumps(state["config"]))
    arrays = st_load(st_save({k: np.ascontiguousarray(v) for k, v in state["arrays"].items()}))
    resumed = policy_from_state({"config": config, "arrays": arrays})
    got += play(resumed, steps[cut:])
    assert got == expected
    final_a, final_b = straight.state_dict(), resumed.state_dict()
    for k in final_a["arrays"]:
        np.testing.assert_array_equal(final_a["arrays"][k], final_b["arrays"][k])


@SETTINGS
@given(
    steps=st.lists(step, max_size=15),
    bad=st.sampled_from([float("nan"), float("inf"), -float("inf"), 1e10]),
    which=st.sampled_from(range(len(CONFIGS))),
)
def test_rejected_update_changes_nothing(steps, bad, which):
    name, options = CONFIGS[which]
    policy = build(name, options)
    play(policy, steps, decide=False)
    before = policy.state_dict()
    x = np.ones(D) if policy.contextual else None
    try:
        policy.update("a", bad, x)
    except InvalidOutcomeError:
        pass
    else:
        raise AssertionError(f"{name} accepted reward {bad!r}")
    after = policy.state_dict()
    assert before["config"] == after["config"]
    for k in before["arrays"]:
        np.testing.assert_array_equal(before["arrays"][k], after["arrays"][k])


def test_every_policy_is_covered():
    assert {name for name, _ in CONFIGS} == set(POLICIES)


MERGEABLE = [c for c in CONFIGS if "discount" not in c[1] and "window" not in c[1]]


@SETTINGS
@given(
    base_steps=st.lists(step, max_size=10),
    steps=st.lists(st.tuples(step, st.booleans()), max_size=30),
    which=st.sampled_from(range(len(MERGEABLE))),
)
def test_merge_since_a_snapshot_equals_one_process(base_steps, steps, which):
    """Two processes resume one snapshot, each learns its share; merging the second into the
    first (with the snapshot as base) gives the statistics of one process that saw everything."""
    name, options = MERGEABLE[which]
    base = build(name, options)
    play(base, base_steps, decide=False)
    snap = base.state_dict()
    one, two, whole = (policy_from_state(snap) for _ in range(3))
    for s, first in steps:
        play(one if first else two, [s], decide=False)
        play(whole, [s], decide=False)
    one.merge(two, base=snap)
    got, want = one.state_dict()["arrays"], whole.state_dict()["arrays"]
    keys = ("A", "b") if one.contextual else ("n", "mean", "m2")
    for k in keys:
        np.testing.assert_allclose(got[k], want[k], rtol=1e-9, atol=1e-6 * (1 + np.abs(want[k]).max()))
    assert one.state_dict()["config"]["t"] == whole.state_dict()["config"]["t"]
    assert_finite(one)
