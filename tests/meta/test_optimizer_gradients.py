"""AdaptiveOptimizer on the gradients torch optimisers take besides dense real ones: complex
parameters and sparse embedding gradients learn the same rate as their dense real twins."""

from __future__ import annotations

import torch

from meta.optimizer import AdaptiveOptimizer


def _rates(param: torch.Tensor, loss_of, steps: int = 8) -> list[float]:
    opt = AdaptiveOptimizer([param], base_optimizer="sgd", learning_rate=0.05, meta_learning_rate=0.2)
    for _ in range(steps):
        opt.zero_grad()
        opt.step(loss_of())
    return [rates[0] for rates in opt.lr_history]


def test_a_complex_parameter_learns_the_rate_of_its_real_view() -> None:
    start = torch.tensor([1.0 + 2.0j, -0.5 + 0.3j, 2.0 - 1.0j])
    target = torch.tensor([0.2 - 0.1j, 0.0 + 1.0j, 1.0 + 0.0j])
    z = torch.nn.Parameter(start.clone())
    r = torch.nn.Parameter(torch.view_as_real(start).clone())
    complex_rates = _rates(z, lambda: (z - target).abs().pow(2).sum())
    real_rates = _rates(r, lambda: (r - torch.view_as_real(target)).pow(2).sum())
    assert complex_rates[-1] > 0.05  # the rate was learned, not left alone
    assert max(abs(a - b) for a, b in zip(complex_rates, real_rates)) < 1e-6
    assert torch.allclose(torch.view_as_real(z.detach()), r.detach(), atol=1e-6)


def test_sparse_embedding_gradients_learn_the_rate_of_dense_ones() -> None:
    torch.manual_seed(0)
    sparse = torch.nn.Embedding(6, 3, sparse=True)
    dense = torch.nn.Embedding(6, 3)
    dense.load_state_dict(sparse.state_dict())
    rows = torch.tensor([1, 4, 1])  # a repeated row: its sparse gradient holds two entries for it
    sparse_rates = _rates(sparse.weight, lambda: (sparse(rows) - 1.0).pow(2).sum())
    dense_rates = _rates(dense.weight, lambda: (dense(rows) - 1.0).pow(2).sum())
    assert sparse_rates[-1] > 0.05
    assert max(abs(a - b) for a, b in zip(sparse_rates, dense_rates)) < 1e-6
    assert torch.allclose(sparse.weight, dense.weight, atol=1e-6)
