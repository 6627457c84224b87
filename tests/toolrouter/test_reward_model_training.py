"""meta_train and MetaRewardModel as a user calls them: histories with nothing to learn from, the
caller's random state, the arguments of predict and adapt, the model a MetaRewardModel wraps."""

from __future__ import annotations

import numpy as np
import pytest

from toolrouter import ToolProfile
from toolrouter.features import HashingFeaturizer
from toolrouter.models import CANCELLED_BY_CALLER
from toolrouter.reward_model import meta_train
from toolrouter.store.base import AttemptRecord

D = 8
FEATURIZER = HashingFeaturizer(dim=D)
TOOLS = [ToolProfile(tool_id=t, capabilities=("answer",), description=f"tool {t} answers questions") for t in "ab"]


def train(history, **options):
    options = {"features": 2, "hidden": 4, "meta_steps": 2, "meta_batch": 2, "shots": 2, **options}
    return meta_train(history, TOOLS, FEATURIZER, context_dim=D, **options)


def cancelled(i: int) -> AttemptRecord:
    return AttemptRecord(
        task_id=f"t{i}", task_type="qa", step="s", capability="answer", tool_id="a", success=False,
        quality=0.0, cost=0.0, latency_s=0.0, utility=0.0, error=CANCELLED_BY_CALLER,
    )


def test_a_history_of_cancelled_attempts_only_is_refused_by_name() -> None:
    # it used to reach the sampler with no tool and no task: "a cannot be empty unless no samples are taken"
    with pytest.raises(ValueError, match=r"history: none of its 3 attempts.*cancelled"):
        train([cancelled(i) for i in range(3)])
