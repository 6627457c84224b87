"""The reward model's drift memory (EWC weights and anchors, replay memory) travels with it: an
adapt after a save and load goes on exactly as without the restart."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from toolrouter.errors import CorruptStateError
from toolrouter.reward_model import MetaRewardModel, Outcome, RewardModel
from toolrouter.serialization import read_blob, write_blob

D = 4


def fresh() -> MetaRewardModel:
    torch.manual_seed(0)
    return MetaRewardModel(
        RewardModel(D, D, 2, 2, 4), ["a", "b"], np.eye(2, D), prior_scale=0.5, new_tool_cov=np.eye(3), noise=0.3
    )


def outcomes(tool: str, utility: float, seed: int) -> list[Outcome]:
    rng = np.random.default_rng(seed)
    return [Outcome("qa", tool, rng.normal(size=D), utility) for _ in range(8)]


def test_an_adapt_after_a_restart_keeps_the_memory_of_the_earlier_ones() -> None:
    first, second = outcomes("a", 1.0, 0), outcomes("b", -1.0, 1)
    kept = fresh()
    kept.adapt(first, steps=5)
    restarted = MetaRewardModel.from_bytes(kept.to_bytes())
    kept.adapt(second, steps=5)
    restarted.adapt(second, steps=5)
    # without its memory the restarted model trained on the second batch alone, unprotected
    assert torch.equal(restarted.model.tool_offsets, kept.model.tool_offsets)
    with pytest.raises(ValueError, match="ewc_lambda"):  # the memory's weight travels too
        restarted.adapt(second, ewc_lambda=1.0)


def test_a_model_saved_before_the_memory_was_kept_loads_with_an_empty_one() -> None:
    blob = read_blob(fresh().to_bytes(), "config")
    old = write_blob(blob.arrays, "config", {**blob.config, "format": "toolrouter.reward_model/2"})
    loaded, new = MetaRewardModel.from_bytes(old), fresh()
    for model in (loaded, new):
        model.adapt(outcomes("a", 1.0, 0), steps=2)
    assert torch.equal(loaded.model.tool_offsets, new.model.tool_offsets)


def test_a_memory_that_does_not_fit_the_model_is_refused_by_name() -> None:
    model = fresh()
    model.adapt(outcomes("a", 1.0, 0), steps=2)
    blob = read_blob(model.to_bytes(), "config")
    anchors = [n for n in blob.arrays if n.startswith("adapter.") and blob.arrays[n].dtype == np.float32]
    arrays = {**blob.arrays, anchors[0]: np.zeros(7, dtype=np.float32)}
    with pytest.raises(CorruptStateError, match="config.adapter"):
        MetaRewardModel.from_bytes(write_blob(arrays, "config", blob.config))
