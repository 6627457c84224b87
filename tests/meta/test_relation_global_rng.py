"""The default relation module is sized on first use without moving torch's global random stream,
so a predict before any training leaves what the caller draws next, and the training, unchanged."""

from __future__ import annotations

import torch
from torch import nn

from meta import FewShotLearner


def _learner() -> FewShotLearner:
    torch.manual_seed(0)
    return FewShotLearner("relation", encoder=nn.Linear(3, 4), hidden=8)


def test_a_first_predict_leaves_the_global_stream_alone() -> None:
    support_x, support_y, query_x = torch.randn(4, 3), torch.tensor([0, 0, 1, 1]), torch.randn(2, 3)
    learner = _learner()
    before = torch.get_rng_state()
    learner.predict(support_x, support_y, query_x)
    assert torch.equal(torch.get_rng_state(), before)


def test_training_after_a_predict_matches_training_without() -> None:
    support_x, support_y, query_x = torch.randn(4, 3), torch.tensor([0, 0, 1, 1]), torch.randn(2, 3)
    query_y = torch.tensor([0, 1])
    states = []
    for predict_first in (False, True):
        learner = _learner()
        if predict_first:
            learner.predict(support_x, support_y, query_x)
        learner.train_episode(support_x, support_y, query_x, query_y)
        states.append((learner.network.state_dict(), torch.rand(1)))
    (first, first_draw), (second, second_draw) = states
    assert all(torch.equal(first[k], second[k]) for k in first)
    assert torch.equal(first_draw, second_draw)
