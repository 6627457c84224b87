"""Prototypical networks in bfloat16 or float16: euclidean logits are computed in float32."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from meta import FewShotLearner, PrototypicalNetwork


def _episode(dtype: torch.dtype) -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(0)
    sx, qx = torch.randn(6, 4, generator=g), torch.randn(3, 4, generator=g)
    return sx.to(dtype), torch.tensor([0, 0, 1, 1, 2, 2]), qx.to(dtype), torch.tensor([0, 1, 2])


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_euclidean_logits_of_a_low_precision_network_are_float32_squared_distances(dtype: torch.dtype) -> None:
    torch.manual_seed(0)
    net = PrototypicalNetwork(nn.Linear(4, 8)).to(dtype)
    sx, sy, qx, _ = _episode(dtype)
    scores = net(sx, sy, qx)
    z = net.embed(torch.cat([sx, qx])).float()
    protos = torch.stack([z[:6][sy == c].mean(0) for c in range(3)])
    expected = -((z[6:, None] - protos[None]) ** 2).sum(-1)
    assert scores.dtype == torch.float32
    torch.testing.assert_close(scores, expected, rtol=1e-2, atol=1e-2)


def test_a_bfloat16_prototypical_learner_trains_and_predicts() -> None:
    torch.manual_seed(0)
    learner = FewShotLearner("prototypical", encoder=nn.Linear(4, 8)).to(torch.bfloat16)
    sx, sy, qx, qy = _episode(torch.bfloat16)
    metrics = learner.train_episode(sx, sy, qx, qy)
    assert torch.isfinite(torch.tensor(metrics["loss"]))
    assert learner.predict(sx, sy, qx).shape == (3,)
    assert learner.network.encoder.weight.dtype == torch.bfloat16
