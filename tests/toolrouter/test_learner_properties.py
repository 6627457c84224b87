"""Property tests of the router: whatever valid outcomes arrive, its statistics stay finite, and
the store holds exactly what was learned."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toolrouter import ExecutionResult, TaskProfile, ToolMetaLearner, ToolProfile, UtilityWeights
from toolrouter.policies import POLICIES

TOOLS = [ToolProfile(tool_id=f"t{i}", capabilities=["x"], cost_per_use=float(i), reliability=0.2 * i) for i in range(4)]

finite = st.floats(min_value=0.0, max_value=1e6, allow_nan=False, allow_infinity=False)
outcome = st.builds(
    lambda tool, success, quality, cost, latency: ExecutionResult(
        tool_id=f"t{tool}", step="x", success=success, quality=quality, cost=cost, latency_s=latency
    ),
    st.integers(0, 3),
    st.booleans(),
    st.floats(0.0, 1.0),
    finite,
    finite,
)


@settings(max_examples=40, deadline=None)
@given(
    policy=st.sampled_from(sorted(n for n, c in POLICIES.items() if not c.contextual)),
    results=st.lists(outcome, min_size=1, max_size=30),
    weight=st.floats(0.0, 100.0),
)
def test_statistics_and_decisions_stay_finite(policy: str, results: list[ExecutionResult], weight: float) -> None:
    router = ToolMetaLearner(
        TOOLS, policy=policy, seed=0, store="memory://", weights=UtilityWeights(cost=weight, latency=weight)
    )
    task = TaskProfile(task_id="t", required_capabilities=["x"])
    learned = router.learn_from_execution(task, results)
    assert all(math.isfinite(u) for us in learned.utilities.values() for u in us)
    for s in router.tool_statistics().values():
        for value in (s.mean_utility, s.mean_cost, s.mean_latency_s, s.mean_quality, s.expected_utility):
            assert value is not None and math.isfinite(value)
    for choice in router.optimize_task_execution(task).step("x").candidates:
        assert not math.isnan(choice.score)
        assert math.isfinite(choice.expected_utility) and 0.0 <= choice.predicted_success <= 1.0
        assert math.isfinite(choice.predicted_cost) and math.isfinite(choice.predicted_latency_s)
    assert router.store.count() == len(results)
    assert sum(s.calls for s in router.tool_statistics().values()) == len(results)


@settings(max_examples=25, deadline=None)
@given(results=st.lists(outcome, min_size=1, max_size=20), bad_at=st.integers(0, 19))
def test_one_bad_outcome_rejects_the_whole_batch(results: list[ExecutionResult], bad_at: int) -> None:
    router = ToolMetaLearner(TOOLS, seed=0, store="memory://")
    task = TaskProfile(task_id="t", required_capabilities=["x"])
    router.learn_from_execution(task, results[:1])
    before = (router.state_bytes(), router.store.count())
    batch = list(results)
    batch.insert(min(bad_at, len(batch)), ExecutionResult(tool_id="unknown", step="x", success=True))
    with pytest.raises(KeyError, match="unknown tool 'unknown'"):
        router.learn_from_execution(task, batch)
    assert (router.state_bytes(), router.store.count()) == before


def test_router_state_arrays_are_plain_numbers() -> None:
    from safetensors.numpy import load

    router = ToolMetaLearner(TOOLS, seed=0)
    router.learn_from_execution(TaskProfile(task_id="t", required_capabilities=["x"]), [ExecutionResult(tool_id="t1", step="x", success=True)])
    arrays = load(router.state_bytes())  # safetensors, never pickle
    assert arrays and all(a.dtype.kind in "fiub" for a in arrays.values())
    assert all(np.all(np.isfinite(a)) for a in arrays.values() if a.dtype.kind == "f")
