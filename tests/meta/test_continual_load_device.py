"""ContinualLearner.load puts the strategies' tensors (EWC's importance weights and anchors, the
replay memory's samples) beside the model, not on the CPU where the file is read: on a GPU the next
task's penalty and replayed batches would mix devices. The 'meta' device stands in for an accelerator."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from meta import ContinualLearner


def _model() -> nn.Module:
    return nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))


def _saved(path: Path) -> str:
    torch.manual_seed(0)
    learner = ContinualLearner(_model(), strategy="ewc+replay", buffer_size=20)
    x = torch.randn(30, 8, generator=torch.Generator().manual_seed(0))
    learner.train_task((x, (x[:, 0] > 0).long()), 0)
    learner.save(str(path / "continual.safetensors"))
    return str(path / "continual.safetensors")


@pytest.mark.filterwarnings("ignore:for .*copying from a non-meta parameter")
def test_strategy_state_loads_onto_the_models_device(tmp_path: Path) -> None:
    path = _saved(tmp_path)
    learner = ContinualLearner(_model().to("meta"), strategy="ewc+replay", buffer_size=20)
    learner.load(path)
    ewc, replay = learner.strategy.strategies  # type: ignore[attr-defined]
    placed = [t for field in (ewc.fisher_, ewc.anchor_) for weights in field.values() for t in weights.values()]
    placed += [replay.x, replay.y]
    assert len(placed) == 10 and {t.device.type for t in placed} == {"meta"}
    assert replay.task_ids.device.type == "cpu"  # where the memory stores the ids of what it takes


@pytest.mark.filterwarnings("ignore:for .*copying from a non-meta parameter")
def test_ewc_weights_load_beside_their_own_parameter(tmp_path: Path) -> None:
    path = _saved(tmp_path)
    model = _model()
    model[2].to("meta")  # a model split over two devices
    learner = ContinualLearner(model, strategy="ewc+replay", buffer_size=20)
    learner.load(path)
    ewc = learner.strategy.strategies[0]  # type: ignore[attr-defined]
    for field in (ewc.fisher_[0], ewc.anchor_[0]):
        assert {n: t.device.type for n, t in field.items()} == {"0.weight": "cpu", "0.bias": "cpu", "2.weight": "meta", "2.bias": "meta"}
