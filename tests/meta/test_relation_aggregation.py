"""A relation network compares a query with each class's mean support embedding, so the number of
shots per class does not bias it; checkpoints record the aggregation, and files written before it
was recorded (when the sum was the only one) load as ``"sum"``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file
from safetensors import safe_open
from torch import nn

from meta import FewShotLearner, RelationNetwork


def _episode() -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(0)
    return torch.randn(6, 4, generator=g), torch.tensor([0, 0, 1, 1, 2, 2]), torch.randn(3, 4, generator=g), torch.tensor([0, 1, 2])


def _learner(seed: int, **options: object) -> FewShotLearner:
    torch.manual_seed(seed)
    learner = FewShotLearner("relation", encoder=nn.Linear(4, 8), **options)
    learner.train_episode(*_episode())
    return learner


def test_more_shots_of_the_same_examples_leave_the_scores_as_they_were() -> None:
    torch.manual_seed(0)
    net = RelationNetwork(nn.Linear(4, 8))
    sx, sy, qx, _ = _episode()
    scores = net(sx, sy, qx)
    # class 0's two examples three times over: its mean embedding is the same, its sum three times larger
    repeated = net(torch.cat([sx, sx[:2], sx[:2]]), torch.cat([sy, sy[:2], sy[:2]]), qx)
    torch.testing.assert_close(repeated, scores)
    summed = RelationNetwork(net.encoder, net.relation, aggregation="sum")
    assert not torch.allclose(summed(torch.cat([sx, sx[:2], sx[:2]]), torch.cat([sy, sy[:2], sy[:2]]), qx), summed(sx, sy, qx))


def test_an_aggregation_that_is_neither_is_named() -> None:
    with pytest.raises(ValueError, match="aggregation must be 'mean' or 'sum', got 'max'"):
        FewShotLearner("relation", encoder=nn.Linear(4, 8), aggregation="max")


def _rewrite_settings(path: str, change) -> None:  # type: ignore[no-untyped-def]
    with safe_open(path, framework="pt") as handle:
        meta = handle.metadata()
    user = json.loads(meta["user"])
    change(user["settings"])
    save_file(load_file(path), path, metadata={**meta, "user": json.dumps(user)})


def test_a_checkpoint_written_before_the_aggregation_was_recorded_loads_as_a_sum(tmp_path: Path) -> None:
    path = str(tmp_path / "relation.safetensors")
    saved = _learner(0, aggregation="sum")
    saved.save(path)
    _rewrite_settings(path, lambda settings: settings.pop("aggregation"))  # as such files were written
    loaded = FewShotLearner("relation", encoder=nn.Linear(4, 8))  # built with today's default, the mean
    loaded.load(path)
    assert loaded.network.aggregation == "sum"
    sx, sy, qx, _ = _episode()
    torch.testing.assert_close(loaded.predict_scores(sx, sy, qx), saved.predict_scores(sx, sy, qx))


def test_the_saved_aggregation_is_restored_and_one_that_is_neither_refused(tmp_path: Path) -> None:
    path = str(tmp_path / "relation.safetensors")
    saved = _learner(0)
    saved.save(path)
    loaded = _learner(1, aggregation="sum")
    assert loaded.load(path)["settings"] == {"network": "RelationNetwork", "aggregation": "mean"}
    assert loaded.network.aggregation == "mean"
    sx, sy, qx, _ = _episode()
    torch.testing.assert_close(loaded.predict_scores(sx, sy, qx), saved.predict_scores(sx, sy, qx))
    _rewrite_settings(path, lambda settings: settings.update(aggregation="max"))
    other = _learner(2, aggregation="sum")
    before = {k: v.clone() for k, v in other.state_dict().items()}
    with pytest.raises(ValueError, match=r"settings\.aggregation 'max' is neither 'mean' nor 'sum'; the file was not loaded"):
        other.load(path)
    assert other.network.aggregation == "sum" and other.episodes_trained == 1
    assert all(torch.equal(v, other.state_dict()[k]) for k, v in before.items())
