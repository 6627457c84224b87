"""A contextual router given a featurizer that knows its length takes that length as its
``context_dim``: it defaulted to 256, and the first decision with a text failed."""

from __future__ import annotations

import numpy as np
import pytest

from toolrouter import TaskProfile, ToolMetaLearner, ToolProfile
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
    # a mismatch the caller asked for still fails at the first decision, naming the featurizer
    router = ToolMetaLearner(TOOLS, policy="lin_ts", featurizer=HashingFeaturizer(dim=8), context_dim=16)
    with pytest.raises(ValueError, match=r"^featurizer: returned shape \(8,\), expected \(16,\)"):
        router.optimize_task_execution(TASK)


def test_a_policy_that_is_neither_a_name_nor_a_factory_is_still_named() -> None:
    with pytest.raises(TypeError, match=r"^policy: expected a policy name or a factory"):
        ToolMetaLearner(TOOLS, policy=["lin_ts"], featurizer=HashingFeaturizer(dim=8))
