"""The parts a relation or matching network makes itself (the default relation MLP, the matching
attention's scale) are made beside the encoder, in its device and dtype: made in float32 on the
CPU, a float64 encoder's episodes failed (told to convert the inputs to float32, which the encoder
refused), and the learner of a matching network on an accelerator read its device from the scale.
The 'meta' device stands in for an accelerator."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from meta import FewShotLearner


def _episode() -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(0)
    sx, qx = torch.randn(6, 4, generator=g, dtype=torch.float64), torch.randn(3, 4, generator=g, dtype=torch.float64)
    return sx, torch.tensor([0, 0, 1, 1, 2, 2]), qx, torch.tensor([0, 1, 2])


@pytest.mark.parametrize("algorithm", ["relation", "matching"])
def test_a_float64_encoder_trains_and_predicts_in_float64(algorithm: str) -> None:
    torch.manual_seed(0)
    learner = FewShotLearner(algorithm, encoder=nn.Sequential(nn.Linear(4, 8), nn.ReLU()).double())
    sx, sy, qx, qy = _episode()
    before = learner.predict_scores(sx, sy, qx)
    learner.train_episode(sx, sy, qx, qy)
    assert before.dtype == torch.float64
    assert {p.dtype for p in learner.parameters()} == {torch.float64}
    assert not torch.equal(learner.predict_scores(sx, sy, qx), before)  # the step trained the network


@pytest.mark.parametrize("algorithm", ["relation", "matching"])
def test_a_networks_own_parts_are_made_on_the_encoders_device(algorithm: str) -> None:
    learner = FewShotLearner(algorithm, encoder=nn.Linear(4, 8).to("meta"))
    assert learner.device.type == "meta"
    assert {p.device.type for p in learner.parameters()} == {"meta"}
