"""A tensor of bools given as features, a policy's context or a drift detector's request is refused
as a list or a numpy array of bools is, naming the field and the index: read as 0.0 and 1.0 it was
a flag taken for a measurement, and learned from."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from toolrouter import ExecutionResult, TaskProfile, ToolMetaLearner, ToolProfile
from toolrouter.drift import PageHinkley, request_key
from toolrouter.policies import LinUCB

FLAGS = torch.tensor([False, True])
BOOL = r"\[0\]: expected a number, not a bool, got False"


def test_a_task_refuses_them() -> None:
    with pytest.raises(ValueError, match="features" + BOOL):
        TaskProfile(task_id="t", features=FLAGS)
    assert TaskProfile(task_id="t", features=torch.tensor([0.5, 1.0])).features == (0.5, 1.0)


@pytest.mark.parametrize("contextual", [False, True])
def test_a_router_refuses_them_and_learns_nothing(contextual: bool) -> None:
    context = {"policy": "linucb", "context_dim": 2} if contextual else {"drift_detection": {"recheck_after": 5}}
    router = ToolMetaLearner([ToolProfile(tool_id="a", capabilities=["search"])], seed=0, **context)
    with pytest.raises(ValueError, match="features" + BOOL):
        router.rank_tool_ids("search", features=FLAGS)
    with pytest.raises(ValueError, match="features" + BOOL):
        router.record_attempt(ExecutionResult(tool_id="a", success=True), capability="search", features=FLAGS)
    assert router.tool_statistics()["a"].calls == 0
    assert list(router.rank_tool_ids("search", features=torch.tensor([0.5, 1.0]))) == ["a"]


def test_a_policy_refuses_them_as_a_context() -> None:
    policy = LinUCB(context_dim=2, seed=0)
    policy.add_arm("a")
    with pytest.raises(ValueError, match="context" + BOOL):
        policy.update("a", 1.0, FLAGS)
    assert policy.state_dict()["config"]["t"] == 0


@pytest.mark.parametrize("request_", [FLAGS, np.array([False, True]), [False, True]])
def test_a_request_of_bools_has_no_key(request_) -> None:
    with pytest.raises(ValueError, match="request" + BOOL):
        request_key(request_)
    detector = PageHinkley()
    with pytest.raises(ValueError, match="request" + BOOL):
        detector.update(1.0, True, request=request_)
    assert request_key(torch.tensor([0.0, 1.0])) == request_key([0.0, 1.0])
