"""An AdaptiveOptimizer leaves nothing on the parameters once it is gone: a training loop that builds
one per task or per trial on the same model must not pile up backward hooks."""

from __future__ import annotations

import gc
import weakref

import torch

from meta.optimizer import AdaptiveOptimizer


def test_a_collected_optimiser_takes_its_backward_hooks_with_it() -> None:
    model = torch.nn.Linear(3, 1)
    watchers = []
    for _ in range(5):
        opt = AdaptiveOptimizer(model, learning_rate=0.01)
        opt.zero_grad()
        opt.step(model(torch.randn(4, 3)).pow(2).mean())
        watchers.append(weakref.ref(opt._backward_seen))
    del opt
    gc.collect()
    # what a parameter's hook held stayed alive as long as the parameter did, one per optimiser built
    assert [w() is None for w in watchers] == [True] * 5
    survivor = AdaptiveOptimizer(model, base_optimizer="sgd", use_meta_learning=False, learning_rate=0.1)
    before = model.weight.detach().clone()
    survivor.zero_grad()
    survivor.step(model(torch.ones(1, 3)).sum())  # its own hook still sees the backward pass it runs
    torch.testing.assert_close(model.weight.detach(), before - 0.1)
