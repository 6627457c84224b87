"""Tasks are data: tensors computed by another network (still in its autograd graph) train the
learner alone, as often as they are given, and leave that network's gradients untouched."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from meta import MAML, FewShotLearner


@pytest.mark.parametrize("vectorize", ["loop", "vmap"])
def test_maml_trains_twice_on_tasks_computed_by_another_network(vectorize: str) -> None:
    torch.manual_seed(0)
    encoder, maml = nn.Linear(3, 3), MAML(nn.Linear(3, 1), vectorize=vectorize)
    task = (encoder(torch.randn(5, 3)), torch.randn(5, 1), encoder(torch.randn(5, 3)), torch.randn(5, 1))
    first = maml.meta_train_step([task])["meta_loss"]
    second = maml.meta_train_step([task])["meta_loss"]  # failed: backward through the graph a second time
    assert second < first
    assert maml.evaluate([task])["loss"].shape == (1,)
    assert not maml.adapt_to_task(task[0], task[1])["weight"].requires_grad
    assert encoder.weight.grad is None and encoder.bias.grad is None


def test_maml_gives_the_same_step_for_attached_and_detached_inputs() -> None:
    encoder = nn.Linear(3, 3)
    task = (encoder(torch.randn(5, 3)), torch.randn(5, 1), encoder(torch.randn(5, 3)), torch.randn(5, 1))
    learners = []
    for tensors in (task, tuple(t.detach() for t in task)):
        torch.manual_seed(1)
        learners.append(MAML(nn.Linear(3, 1), vectorize="loop"))
        learners[-1].meta_train_step([tensors])
    assert all(torch.equal(a, b) for a, b in zip(learners[0].parameters(), learners[1].parameters()))


def test_few_shot_learner_trains_twice_on_an_episode_computed_by_another_network() -> None:
    torch.manual_seed(0)
    encoder, learner = nn.Linear(4, 4), FewShotLearner("prototypical", encoder=nn.Linear(4, 8))
    episode = (encoder(torch.randn(4, 4)), torch.tensor([0, 0, 1, 1]), encoder(torch.randn(2, 4)), torch.tensor([0, 1]))
    learner.train_episode(*episode)
    learner.train_episode(*episode)
    assert learner.episodes_trained == 2
    assert encoder.weight.grad is None
