"""Meta-batches whose tasks have different shapes, which vmap cannot stack, at any meta-step."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from meta import MAML, Reptile, VmapUnsafeError
from meta.data.sinusoid import SinusoidTaskSampler


def _mixed(sampler: SinusoidTaskSampler) -> list:  # type: ignore[type-arg]
    return list(sampler.sample(2, 5, 5)) + list(sampler.sample(2, 7, 5))


@pytest.mark.parametrize("cls", [MAML, Reptile])
def test_auto_takes_the_loop_for_tasks_of_different_shapes_after_choosing_vmap(cls: type[MAML]) -> None:
    torch.manual_seed(0)
    learner = cls(nn.Sequential(nn.Linear(1, 8), nn.Tanh(), nn.Linear(8, 1)))
    sampler = SinusoidTaskSampler(seed=0)
    learner.path = "vmap"  # as "auto" keeps it for a model where vmap is the faster path
    batch = _mixed(sampler)
    reference = cls(nn.Sequential(nn.Linear(1, 8), nn.Tanh(), nn.Linear(8, 1)), vectorize="loop")
    reference.load_state_dict(learner.state_dict())
    metrics = learner.meta_train_step(batch)
    assert metrics["path"] == "loop" and learner.path == "loop"
    assert metrics["meta_loss"] == pytest.approx(reference.meta_train_step(batch)["meta_loss"])
    for mine, theirs in zip(learner.parameters(), reference.parameters()):
        torch.testing.assert_close(mine, theirs)


def test_a_forced_vmap_refuses_tasks_of_different_shapes_before_any_update() -> None:
    learner = MAML(nn.Linear(1, 1), vectorize="vmap")
    before = [p.detach().clone() for p in learner.parameters()]
    with pytest.raises(VmapUnsafeError, match="tasks of different shapes"):
        learner.meta_train_step(_mixed(SinusoidTaskSampler(seed=0)))
    assert all(torch.equal(a, b) for a, b in zip(before, learner.parameters()))
    assert learner.meta_step_count == 0
