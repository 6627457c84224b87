"""A router with a reward model adapts it on every drift it finds with the model's own EWC weight:
it passed the default (10), which a model adapted at another weight before (by hand, or in
another router, then saved) refused, so the attempt that found the drift raised after it was
stored, unlearned, and the tool was never restarted."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tiny_reward_model import D, FEATURIZER, TOOLS, history
from toolrouter import ExecutionResult, ToolMetaLearner
from toolrouter.reward_model import MetaRewardModel, RewardModel


def test_a_drift_adapts_a_model_adapted_at_another_weight_before() -> None:
    torch.manual_seed(0)
    model = MetaRewardModel(
        RewardModel(D, D, 2, features=2, hidden=4), ["a", "b"], np.zeros((2, D)), prior_scale=0.5,
        new_tool_cov=np.eye(3), noise=0.3,
    )
    model.adapt(history(), ewc_lambda=5.0, steps=1)
    router = ToolMetaLearner(
        TOOLS, policy="neural_linear", context_dim=D, featurizer=FEATURIZER, reward_model=model, seed=0,
        drift_detection={"recheck_after": None}, store="memory://",
    )
    for i in range(40):  # "a" works, then breaks
        ok = i < 30
        router.record_attempt(ExecutionResult(tool_id="a", step="answer", success=ok, quality=float(ok)), capability="answer")
    stats = router.tool_statistics()["a"]
    assert stats.resets >= 1 and stats.calls == 40
    with pytest.raises(ValueError, match=r"ewc_lambda: 10.0, but this model adapts with ewc_lambda=5.0"):
        model.adapt(history(), ewc_lambda=10.0)  # another weight, named, is still refused
