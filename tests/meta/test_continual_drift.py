"""DriftAdapter: follows a shifted stream and keeps the old one, unlike naive fine-tuning."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from meta.continual import DriftAdapter


def _stream(centre: float, weight: torch.Tensor, n: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """A region of feature space with its own utility function (a new task type, say)."""
    x = torch.randn(n, 4, generator=gen) * 0.5 + centre
    return x, torch.tanh(x @ weight)


def test_adapter_fits_new_stream_and_keeps_old_one_better_than_naive() -> None:
    gen = torch.Generator().manual_seed(0)
    w_old, w_new = torch.tensor([1.0, -1.0, 0.5, 0.0]), torch.tensor([-0.5, 0.0, 1.0, 1.0])
    old_batches = [_stream(-1.5, w_old, 64, gen) for _ in range(6)]
    new_batches = [_stream(+1.5, w_new, 64, gen) for _ in range(6)]
    old_test, new_test = _stream(-1.5, w_old, 256, gen), _stream(+1.5, w_new, 256, gen)

    torch.manual_seed(0)
    base = nn.Sequential(nn.Linear(4, 32), nn.Tanh(), nn.Linear(32, 1))
    protected = DriftAdapter(copy.deepcopy(base), steps=40, seed=0)
    naive = DriftAdapter(copy.deepcopy(base), steps=40, ewc_lambda=0.0, buffer_size=0, seed=0)
    for adapter in (protected, naive):
        for x, u in old_batches:
            adapter.adapt(x, u)
    old_error_before_shift = protected.mse(*old_test)
    assert old_error_before_shift < 0.02
    for adapter in (protected, naive):
        for x, u in new_batches:
            report = adapter.adapt(x, u)
        assert report["mse_after"] < report["mse_before"] + 1e-6

    # both follow the new stream
    assert protected.mse(*new_test) < 0.03 and naive.mse(*new_test) < 0.03
    # only the protected one keeps the old stream
    assert protected.mse(*old_test) < 0.05
    assert naive.mse(*old_test) > 3 * protected.mse(*old_test)


def test_adapter_rejects_bad_batches_without_changing_the_model() -> None:
    model = nn.Linear(3, 1)
    adapter = DriftAdapter(model)
    before = copy.deepcopy(model.state_dict())
    with pytest.raises(ValueError, match="utility"):
        adapter.adapt(torch.zeros(4, 3), torch.zeros(5))
    with pytest.raises(ValueError, match="empty"):
        adapter.adapt(torch.zeros(0, 3), torch.zeros(0))
    with pytest.raises(ValueError, match="NaN"):
        adapter.adapt(torch.zeros(4, 3), torch.tensor([0.0, float("nan"), 0.0, 0.0]))
    with pytest.raises(TypeError, match="features"):
        adapter.adapt([[0.0, 0.0, 0.0]], torch.zeros(1))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="buffer_size"):
        DriftAdapter(model, buffer_size=-1)
    for bad in ("0.01", float("inf"), True):
        with pytest.raises(ValueError, match=f"lr: expected a finite number > 0, got {bad!r}"):
            DriftAdapter(model, lr=bad)  # type: ignore[arg-type]
    # two utilities per row against one output would broadcast in the squared error
    with pytest.raises(ValueError, match="utility: 2 values per row, but the model predicts 1 per row"):
        adapter.adapt(torch.zeros(4, 3), torch.zeros(4, 2))
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert adapter.batches_seen == 0 and len(adapter.replay) == 0


def test_utilities_of_shape_n_and_n_by_1_mix_across_batches() -> None:
    torch.manual_seed(0)
    adapter = DriftAdapter(nn.Linear(3, 1), steps=2)
    x = torch.randn(8, 3)
    adapter.adapt(x, x.sum(dim=1))
    report = adapter.adapt(x, x.sum(dim=1, keepdim=True))  # the replay memory holds the first batch
    assert report["batches_seen"] == 2 and report["replayed"] == 16


class _FailsAfter(nn.Module):
    """A regression model whose training forward pass raises from its ``fail_at``-th call on."""

    def __init__(self, fail_at: int) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1))
        self.calls, self.fail_at = 0, fail_at

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training:
            self.calls += 1
            if self.calls >= self.fail_at:
                raise RuntimeError("the model failed")
        return self.net(x)


def test_a_batch_that_fails_midway_leaves_model_memory_and_fisher_as_they_were() -> None:
    torch.manual_seed(0)
    model = _FailsAfter(fail_at=10**9)
    adapter = DriftAdapter(model, steps=5)
    x = torch.randn(16, 3)
    adapter.adapt(x, x.sum(dim=1))
    params = list(model.parameters())
    before = copy.deepcopy(model.state_dict())
    memory, fisher = adapter.replay.x.clone(), copy.deepcopy(adapter.ewc.fisher_)
    model.fail_at = model.calls + 3  # two steps of the next batch go through, then the model fails
    with pytest.raises(RuntimeError, match="the model failed"):
        adapter.adapt(x + 1, x.sum(dim=1) - 1)
    assert all(a is b for a, b in zip(model.parameters(), params, strict=True))
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert torch.equal(adapter.replay.x, memory) and adapter.batches_seen == 1
    assert all(torch.equal(fisher[k][n], f) for k, fs in adapter.ewc.fisher_.items() for n, f in fs.items())
    model.fail_at = 10**9
    assert adapter.adapt(x + 1, x.sum(dim=1) - 1)["batches_seen"] == 2.0
