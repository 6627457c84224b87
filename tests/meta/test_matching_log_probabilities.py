"""Matching networks' log-probabilities are exact, however small, and float32 at least."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from meta import FewShotLearner, MatchingNetwork


def test_log_probabilities_below_the_old_floor_are_exact_and_have_a_gradient() -> None:
    net = MatchingNetwork(nn.Identity(), scale=100.0)
    sx, sy = torch.tensor([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0]]), torch.tensor([0, 1, 1])
    qx = torch.tensor([[1.0, 0.0]])
    scores = net(sx, sy, qx)
    # attention logits 100 * cosine: 100, -100, 0; class 1 sums the last two
    logits = torch.tensor([100.0, -100.0, 0.0], dtype=torch.float64)
    expected = torch.stack([logits[:1].logsumexp(0), logits[1:].logsumexp(0)]) - logits.logsumexp(0)
    torch.testing.assert_close(scores[0].double(), expected)
    assert float(scores[0, 1]) == pytest.approx(-100.0)  # log(1e-12) = -27.6 was the floor
    net.loss(scores, torch.tensor([1])).backward()
    assert float(net.log_scale.grad) != 0.0  # nothing to learn from below the floor


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_a_low_precision_matching_learner_trains_and_predicts_on_finite_data(dtype: torch.dtype) -> None:
    g = torch.Generator().manual_seed(0)
    sx, qx = 3 * torch.randn(6, 4, generator=g), 3 * torch.randn(3, 4, generator=g)
    sy, qy = torch.tensor([0, 0, 1, 1, 2, 2]), torch.tensor([0, 1, 2])
    torch.manual_seed(0)
    learner = FewShotLearner("matching", encoder=nn.Linear(4, 8), scale=50.0).to(dtype)
    # float16 has no 1e-12: a confident attention gave log(0) = -inf, refused as a NaN loss
    metrics = learner.train_episode(sx.to(dtype), sy, qx.to(dtype), qy)
    assert torch.isfinite(torch.tensor(metrics["loss"]))
    scores = learner.predict_scores(sx.to(dtype), sy, qx.to(dtype))
    # computed in float32, as the prototypical network's distances are
    assert bool(torch.isfinite(scores).all()) and scores.dtype == torch.float32
    torch.testing.assert_close(scores.exp().sum(-1), torch.ones(3))
