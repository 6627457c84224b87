"""A training call that fails midway puts back everything it touched, at the cost of one copy of the weights."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from meta.continual import ContinualLearner, DriftAdapter


def test_a_failed_batch_puts_back_a_full_memory_written_in_place_and_the_fisher() -> None:
    torch.manual_seed(0)
    adapter = DriftAdapter(nn.Linear(3, 1), steps=2, buffer_size=8)
    x = torch.randn(16, 3)
    adapter.adapt(x, x.sum(dim=1))  # the memory is full: the next batch overwrites rows in place
    memory = {k: v.clone() if isinstance(v, torch.Tensor) else v for k, v in adapter.replay.state_dict().items()}
    fisher = {n: f.clone() for n, f in adapter.ewc.fisher_[0].items()}
    anchor = {n: a.clone() for n, a in adapter.ewc.anchor_[0].items()}
    scored = []

    def mse(*args: torch.Tensor) -> float:  # the scoring after the memory and the Fisher were updated fails
        scored.append(1)
        if len(scored) == 2:
            raise RuntimeError("scoring failed")
        return 0.0

    adapter.mse = mse  # type: ignore[method-assign]
    with pytest.raises(RuntimeError, match="scoring failed"):
        adapter.adapt(x + 1, x.sum(dim=1) - 1)
    for k, v in adapter.replay.state_dict().items():
        assert torch.equal(v, memory[k]) if isinstance(v, torch.Tensor) else v == memory[k], k
    assert all(torch.equal(adapter.ewc.fisher_[0][n], f) for n, f in fisher.items())
    assert all(torch.equal(adapter.ewc.anchor_[0][n], a) for n, a in anchor.items())
    assert adapter.batches_seen == 1


def test_a_failed_call_leaves_the_model_in_the_mode_it_was_in() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 8), nn.Dropout(0.5), nn.Linear(8, 1)).eval()
    adapter = DriftAdapter(model, steps=3, lr=1e30, ewc_lambda=0.0, buffer_size=0)
    x = torch.randn(16, 3) * 1e6
    with pytest.raises(FloatingPointError, match="loss"):
        adapter.adapt(x, x.sum(dim=1))
    # a model left in training mode would serve dropout-noised predictions to its other users
    assert not any(m.training for m in model.modules())

    classifier = nn.Sequential(nn.Linear(4, 8), nn.Dropout(0.5), nn.Linear(8, 2)).eval()
    learner = ContinualLearner(classifier, strategy="naive", lr=1e30, momentum=0.0)
    with pytest.raises(FloatingPointError, match="loss"):
        learner.train_task((torch.randn(16, 4) * 1e6, torch.randint(0, 2, (16,))), 0, num_epochs=3)
    assert not any(m.training for m in classifier.modules())
