"""A distributed meta-step that does not complete leaves no meta-gradient behind (one gloo process)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from meta import MAML
from meta.distributed import DistributedMetaTrainer


def test_a_step_interrupted_after_its_gradients_leaves_none_behind(one_process_group: None) -> None:
    torch.manual_seed(0)
    trainer = DistributedMetaTrainer(MAML(nn.Linear(1, 1), vectorize="loop"))
    learner, compute = trainer.learner, trainer.learner.compute_meta_gradients

    def interrupted(*args, **kwargs):  # type: ignore[no-untyped-def]
        compute(*args, **kwargs)  # this rank's share is in .grad when Ctrl-C comes
        raise KeyboardInterrupt

    learner.compute_meta_gradients = interrupted
    before = [p.detach().clone() for p in learner.meta_parameters()]
    with pytest.raises(KeyboardInterrupt):
        trainer.meta_train_step([tuple(torch.randn(3, 1) for _ in range(4))])
    assert all(p.grad is None for p in learner.meta_parameters())
    assert all(torch.equal(p, b) for p, b in zip(learner.meta_parameters(), before)) and learner.meta_step_count == 0
