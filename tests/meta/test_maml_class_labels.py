"""Class labels that the model's scores do not have (more classes per task than the model has
outputs) are named before any step, on every path."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from meta import MAML, Reptile
from meta.base import TaskShapeError
from meta.data.episodes import EpisodeSampler


def _episodes(n_way: int) -> EpisodeSampler:
    x, y = torch.randn(200, 8, generator=torch.Generator().manual_seed(0)), torch.arange(200) % 20
    return EpisodeSampler(x, y, n_way=n_way, k_shot=1, n_query=2, seed=0)


@pytest.mark.parametrize("vectorize", ["loop", "vmap", "auto"])
@pytest.mark.parametrize("cls", [MAML, Reptile])
def test_more_ways_than_the_model_scores_are_named_and_nothing_changes(cls, vectorize: str) -> None:
    torch.manual_seed(0)
    learner = cls(nn.Linear(8, 5), loss_fn="cross_entropy", vectorize=vectorize)
    before = {k: v.clone() for k, v in learner.state_dict().items()}
    batch = _episodes(10).sample_batch(2)
    message = r"support_y holds class label [5-9] but the model scores 5 classes \(labels 0..4\)"
    with pytest.raises(TaskShapeError, match=message):
        learner.meta_train_step(batch)
    with pytest.raises(TaskShapeError, match=message):
        learner.evaluate(batch)
    with pytest.raises(TaskShapeError, match="support_y holds class label -3"):
        learner.adapt_to_task(torch.randn(3, 8), torch.tensor([0, 1, -3]))
    assert learner.meta_step_count == 0 and all(torch.equal(v, learner.state_dict()[k]) for k, v in before.items())
    if vectorize == "auto":
        assert learner.path is None  # the refused batch decided nothing


def test_labels_the_model_scores_and_the_ignore_index_pass() -> None:
    torch.manual_seed(0)
    learner = MAML(nn.Linear(8, 5), loss_fn="cross_entropy", vectorize="loop")
    batch = _episodes(5).sample_batch(2)
    assert 0.0 <= learner.meta_train_step(batch)["query_accuracy"] <= 1.0
    weights = learner.adapt_to_task(torch.randn(3, 8), torch.tensor([0, 4, -100]))
    assert weights["weight"].shape == (5, 8)


def test_tasks_of_different_shapes_are_named_by_their_index() -> None:
    learner = MAML(nn.Linear(8, 5), loss_fn="cross_entropy", vectorize="loop")
    ok = (torch.randn(3, 8), torch.tensor([0, 1, 2]), torch.randn(2, 8), torch.tensor([0, 1]))
    bad = (torch.randn(4, 8), torch.tensor([0, 1, 2, 3]), torch.randn(2, 8), torch.tensor([0, 6]))
    with pytest.raises(TaskShapeError, match="query_y of task 1 holds class label 6"):
        learner.meta_train_step([ok, bad])
