"""Query accuracy of the MAML family for every target form that ``loss_fn="cross_entropy"`` takes:
class labels, class probabilities, and labels per position of K-dimensional scores."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from meta import MAML, Reptile


def _expected(scores: torch.Tensor, labels: torch.Tensor) -> float:
    return float((scores.argmax(1) == labels).float().mean())


@pytest.mark.parametrize("vectorize", ["loop", "vmap"])
@pytest.mark.parametrize("n", [3, 6])  # 3: as many examples as classes
def test_probability_targets_are_scored_by_their_most_likely_class(vectorize: str, n: int) -> None:
    torch.manual_seed(0)
    learner = MAML(nn.Linear(4, 3), loss_fn="cross_entropy", vectorize=vectorize)
    x, labels = torch.randn(n, 4), torch.arange(n) % 3
    probabilities = 0.7 * F.one_hot(labels, 3).float() + 0.1
    expected = _expected(learner.model(x), labels)
    for targets in (labels, probabilities):
        result = learner.evaluate([(x, targets, x, targets), (x, targets, x, targets)], num_steps=0)
        assert result["accuracy"].tolist() == pytest.approx([expected, expected])


@pytest.mark.parametrize("cls", [MAML, Reptile])
def test_k_dimensional_scores_are_scored_along_the_class_dimension(cls) -> None:
    torch.manual_seed(0)
    # scores [n, 3 classes, 2 positions] with a label per position, as cross_entropy takes them
    learner = cls(nn.Sequential(nn.Linear(4, 6), nn.Unflatten(1, (3, 2))), loss_fn="cross_entropy", vectorize="loop")
    x, labels = torch.randn(5, 4), torch.randint(0, 3, (5, 2))
    expected = _expected(learner.model(x), labels)
    assert learner.evaluate([(x, labels, x, labels)], num_steps=0)["accuracy"].tolist() == pytest.approx([expected])
    assert 0.0 <= learner.meta_train_step([(x, labels, x, labels)])["query_accuracy"] <= 1.0


@pytest.mark.parametrize("vectorize", ["loop", "vmap"])
def test_positions_labelled_ignore_index_do_not_count(vectorize: str) -> None:
    torch.manual_seed(0)
    learner = MAML(nn.Linear(4, 3), loss_fn="cross_entropy", vectorize=vectorize)
    x = torch.randn(6, 4)
    labels = learner.model(x).argmax(1)  # every counted position right
    ignored = labels.clone()
    ignored[:3] = -100
    result = learner.evaluate([(x, labels, x, ignored)], num_steps=0)
    assert result["accuracy"].tolist() == [1.0]
