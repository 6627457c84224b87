"""adapt_to_task and evaluate run their gradient steps even when called under ``torch.no_grad`` or
``torch.inference_mode``, the usual way to evaluate a model, and on tensors made there."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from meta import MAML, MetaSGD, Reptile


def _tasks() -> list[tuple[torch.Tensor, ...]]:
    g = torch.Generator().manual_seed(0)
    return [tuple(torch.randn(5, 2, generator=g) for _ in range(4)) for _ in range(2)]


@pytest.mark.parametrize("vectorize", ["loop", "vmap"])
@pytest.mark.parametrize("cls", [MAML, MetaSGD, Reptile])
@pytest.mark.parametrize("context", [torch.no_grad, torch.inference_mode])
def test_adapt_and_evaluate_under_no_grad_or_inference_mode_match_the_plain_call(cls, vectorize, context) -> None:
    torch.manual_seed(0)
    learner = cls(nn.Linear(2, 2), vectorize=vectorize)
    tasks = _tasks()
    expected_loss = learner.evaluate(tasks, num_steps=2)["loss"]
    expected_weights = learner.adapt_to_task(tasks[0][0], tasks[0][1], num_steps=2)
    with context():
        made_here = [tuple(x.clone() for x in t) for t in tasks]  # inference tensors under inference_mode
        loss = learner.evaluate(made_here, num_steps=2)["loss"]
        weights = learner.adapt_to_task(made_here[0][0], made_here[0][1], num_steps=2)
    torch.testing.assert_close(loss, expected_loss, rtol=0, atol=0)
    for name, value in expected_weights.items():
        torch.testing.assert_close(weights[name], value, rtol=0, atol=0)
    assert all(p.grad is None for p in learner.meta_parameters())  # nothing leaked into the meta-gradient
