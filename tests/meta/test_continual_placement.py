"""What the continual learners build to meet a model's outputs (loss weights, task masks, the EWC
penalty, replay priorities and weights) is made beside the model's parameters, in their device
and dtype: made on the CPU in float32, it failed every training step of a model on a GPU, and
computed a float64 model's weights and priorities in float32. The 'meta' device stands in for an
accelerator."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

from meta import ContinualLearner
from meta.continual import EWC, Batch, DriftAdapter, ExperienceReplay, Strategy


class _Spy(Strategy):
    """Records the dtypes of each step's loss weights and per-sample losses."""

    name = "spy"

    def __init__(self) -> None:
        self.seen: set[tuple[torch.dtype, torch.dtype]] = set()

    def after_batch(self, ctx: Any, batch: Batch, losses: torch.Tensor) -> None:
        self.seen.add((batch.weight.dtype, losses.dtype))


def _model(dtype: torch.dtype = torch.float32) -> nn.Module:
    return nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 4)).to(dtype)


def _tasks(dtype: torch.dtype = torch.float32) -> list[tuple[torch.Tensor, torch.Tensor]]:
    g = torch.Generator().manual_seed(0)
    return [(torch.randn(20, 4, generator=g).to(dtype), torch.randint(2 * t, 2 * t + 2, (20,), generator=g)) for t in range(2)]


@pytest.mark.parametrize("dtype", [torch.float64, torch.bfloat16])
def test_weights_penalty_and_priorities_take_the_models_dtype(dtype: torch.dtype) -> None:
    torch.manual_seed(0)
    spy, ewc, replay = _Spy(), EWC(), ExperienceReplay(10, policy="loss_prioritized", seed=0)
    learner = ContinualLearner(_model(dtype), strategy=[ewc, replay, spy], setting="task", seed=0)
    for task_id, data in enumerate(_tasks(dtype)):
        learner.train_task(data, task_id)
    assert spy.seen == {(dtype, dtype)}  # replayed rows' weights included (the second task replays)
    assert replay.priority is not None and replay.priority.dtype == dtype
    assert ewc.penalty_value(learner).dtype == dtype


@pytest.mark.filterwarnings("ignore:for .*copying from a non-meta parameter")
def test_masks_and_batch_weights_are_made_on_the_models_device() -> None:
    torch.manual_seed(0)
    replay = ExperienceReplay(10, seed=0)
    learner = ContinualLearner(_model(), strategy=replay, setting="task", seed=0)
    (x, y), _ = _tasks()
    learner.train_task((x, y), 0)
    learner.model.to("meta")
    replay.x, replay.y = replay.x.to("meta"), replay.y.to("meta")  # type: ignore[union-attr]
    t = torch.zeros(20, dtype=torch.long)  # task ids stay on the CPU
    x, y = x.to("meta"), y.to("meta")
    assert learner.per_sample_loss(learner.forward(x, t), y, t).device.type == "meta"
    batch = replay.augment_batch(learner, Batch.current(x, y, t, learner.model))
    assert batch.x.shape[0] == 40 and batch.weight.device.type == "meta"


def test_a_drift_adapter_takes_cpu_features_for_a_model_elsewhere() -> None:
    torch.manual_seed(0)
    adapter = DriftAdapter(nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1)).to("meta", torch.float64))
    out = adapter.predict(torch.randn(5, 3))  # a stream's float32 CPU features
    assert out.device.type == "meta" and out.dtype == torch.float64 and out.shape == (5, 1)


def test_a_float32_learners_file_loads_into_a_float64_learner_in_float64(tmp_path: Path) -> None:
    torch.manual_seed(0)
    path = str(tmp_path / "learner.safetensors")
    strategy = [EWC(), ExperienceReplay(10, policy="loss_prioritized", seed=0)]
    learner = ContinualLearner(_model(), strategy=strategy, setting="task", seed=0)
    learner.train_task(_tasks()[0], 0)
    learner.save(path)
    strategy = [EWC(), ExperienceReplay(10, policy="loss_prioritized", seed=0)]
    wide = ContinualLearner(_model(torch.float64), strategy=strategy, setting="task", seed=0)
    wide.load(path)
    ewc, replay = strategy
    held = [*ewc.fisher_[0].values(), *ewc.anchor_[0].values(), replay.priority, replay.x]
    assert len(held) == 10 and {t.dtype for t in held} == {torch.float64}
    assert wide.train_task(_tasks(torch.float64)[1], 1)["samples"] == 20  # and it trains on
