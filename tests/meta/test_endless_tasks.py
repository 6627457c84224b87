"""An EpisodeSampler never runs out of episodes: handed to the MAML family as a meta-batch it is
refused, instead of being read without end."""

from __future__ import annotations

import threading

import pytest
import torch
from torch import nn

from meta import MAML, Reptile
from meta.data.episodes import EpisodeSampler


def _sampler() -> EpisodeSampler:
    x, y = torch.randn(60, 4, generator=torch.Generator().manual_seed(0)), torch.arange(60) % 6
    return EpisodeSampler(x, y, n_way=3, k_shot=1, n_query=2, seed=0)


@pytest.mark.parametrize("cls", [MAML, Reptile])
@pytest.mark.parametrize("method", ["meta_train_step", "evaluate", "compute_meta_gradients"])
def test_an_episode_sampler_as_a_meta_batch_is_refused_naming_tasks(cls, method: str) -> None:
    learner = cls(nn.Linear(4, 3), loss_fn="cross_entropy", vectorize="loop")
    outcome: list[BaseException | object] = []

    def run() -> None:
        try:
            outcome.append(getattr(learner, method)(_sampler()))
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            outcome.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(timeout=10)  # it used to read the sampler without end
    assert outcome and isinstance(outcome[0], TypeError), outcome
    assert "tasks is an EpisodeSampler" in str(outcome[0]) and "sample_batch" in str(outcome[0])


def test_a_batch_of_its_episodes_is_taken() -> None:
    learner = MAML(nn.Linear(4, 3), loss_fn="cross_entropy", vectorize="loop")
    assert learner.evaluate(_sampler().sample_batch(2))["accuracy"].shape == (2,)
