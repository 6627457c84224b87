"""A contextual router given a featurizer that knows its length takes that length as its
``context_dim``: it defaulted to 256, and the first decision with a text failed. A featurizer
whose length disagrees with the router's ``context_dim`` (given, or saved) is refused when the
router is built or loaded."""

from __future__ import annotations

import numpy as np
import pytest

from toolrouter import ExecutionResult, TaskProfile, ToolMetaLearner, ToolProfile
from toolrouter.features import HashingFeaturizer

TOOLS = [ToolProfile(tool_id=t, capabilities=("answer",)) for t in ("a", "b")]
TASK = TaskProfile(task_id="t", task_type="qa", required_capabilities=["answer"], context="what is the capital of Peru")


@pytest.mark.parametrize("policy", ["lin_ts", "linucb", "neural_linear"])
def test_the_featurizers_dim_is_the_context_dim(policy) -> None:
    router = ToolMetaLearner(TOOLS, policy=policy, seed=0, featurizer=HashingFeaturizer(dim=8))
    assert router.context_dim == 8
    plan = router.optimize_task_execution(TASK)
    assert plan.steps[0].candidates[0].tool_id in ("a", "b")


def test_a_given_context_dim_and_a_featurizer_without_dim_are_as_before() -> None:
    assert ToolMetaLearner(TOOLS, policy="lin_ts", featurizer=HashingFeaturizer(dim=8), context_dim=8).context_dim == 8
    assert ToolMetaLearner(TOOLS, policy="lin_ts", policy_options={"context_dim": 8}, featurizer=HashingFeaturizer(dim=8)).context_dim == 8
    assert ToolMetaLearner(TOOLS, policy="lin_ts", featurizer=lambda text: np.zeros(256)).context_dim == 256
    # a featurizer that declares no dim is checked at its first vector, as before
    router = ToolMetaLearner(TOOLS, policy="lin_ts", featurizer=lambda text: np.zeros(8), context_dim=16)
    with pytest.raises(ValueError, match=r"^featurizer: returned shape \(8,\), expected \(16,\)"):
        router.optimize_task_execution(TASK)
    # a policy without a context reads no featurizer's dim
    assert ToolMetaLearner(TOOLS, policy="gaussian_ts", featurizer=HashingFeaturizer(dim=8)).context_dim is None


MISMATCH = r"^featurizer: makes vectors of dim 8, the router's context_dim is 16"


@pytest.mark.parametrize("options", [{"context_dim": 16}, {"policy_options": {"context_dim": 16}}])
def test_a_featurizer_of_another_dim_than_the_context_dim_is_refused_when_the_router_is_built(options) -> None:
    # it was built, and failed at the first request with a text
    with pytest.raises(ValueError, match=MISMATCH):
        ToolMetaLearner(TOOLS, policy="lin_ts", featurizer=HashingFeaturizer(dim=8), **options)


def test_a_saved_router_loaded_or_resumed_with_a_featurizer_of_another_dim_is_refused(tmp_path) -> None:
    router = ToolMetaLearner(TOOLS, policy="lin_ts", featurizer=HashingFeaturizer(dim=16), seed=0, store="memory://")
    tool = router.optimize_task_execution(TASK).assignments["answer"]
    router.learn_from_execution(TASK, [ExecutionResult(tool_id=tool, step="answer", success=True)])
    router.save()
    router.save(tmp_path / "router.safetensors")
    with pytest.raises(ValueError, match=MISMATCH):
        ToolMetaLearner.load(tmp_path / "router.safetensors", featurizer=HashingFeaturizer(dim=8))
    with pytest.raises(ValueError, match=MISMATCH):
        ToolMetaLearner(store=router.store, featurizer=HashingFeaturizer(dim=8))
    loaded = ToolMetaLearner.load(tmp_path / "router.safetensors", featurizer=HashingFeaturizer(dim=16))
    assert loaded.context_dim == 16 and loaded.optimize_task_execution(TASK).assignments


def test_a_policy_that_is_neither_a_name_nor_a_factory_is_still_named() -> None:
    with pytest.raises(TypeError, match=r"^policy: expected a policy name or a factory"):
        ToolMetaLearner(TOOLS, policy=["lin_ts"], featurizer=HashingFeaturizer(dim=8))
