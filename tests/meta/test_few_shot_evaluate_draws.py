"""FewShotLearner.evaluate with num_episodes reads exactly that many episodes: it drew one more and
dropped it, lost to the caller's iterator and to the sampler's random stream."""

from __future__ import annotations

import torch
from torch import nn

from meta import EpisodeSampler, FewShotLearner


def _sampler() -> EpisodeSampler:
    x, y = torch.randn(60, 4, generator=torch.Generator().manual_seed(0)), torch.arange(60) % 6
    return EpisodeSampler(x, y, n_way=3, k_shot=1, n_query=2, seed=0)


def test_the_episodes_after_those_evaluated_are_left_to_the_caller() -> None:
    learner = FewShotLearner("prototypical", encoder=nn.Linear(4, 8))
    episodes = iter([_sampler().sample() for _ in range(5)])
    assert learner.evaluate(episodes, num_episodes=2)["episodes"] == 2.0
    assert len(list(episodes)) == 3
    sampler, reference = _sampler(), _sampler()
    learner.evaluate(sampler, num_episodes=2)
    for _ in range(2):
        reference.sample()
    assert torch.equal(sampler.sample().support_x, reference.sample().support_x)
