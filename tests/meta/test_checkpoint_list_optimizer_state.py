"""save_checkpoint stores optimiser state that holds lists of tensors (LBFGS's history), and a state
value it cannot store is named briefly, not printed."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from meta.checkpoint import load_checkpoint, save_checkpoint


def _lbfgs_step(net: nn.Linear, opt: torch.optim.LBFGS, x: torch.Tensor, y: torch.Tensor) -> None:
    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = ((net(x) - y) ** 2).mean()
        loss.backward()
        return loss

    opt.step(closure)


def test_lbfgs_resumes_from_a_checkpoint_as_if_uninterrupted(tmp_path: Path) -> None:
    torch.manual_seed(0)
    x, y = torch.randn(8, 3), torch.randn(8, 1)
    net = nn.Linear(3, 1)
    opt = torch.optim.LBFGS(net.parameters(), lr=0.1, max_iter=4, history_size=3)
    _lbfgs_step(net, opt, x, y)
    save_checkpoint(tmp_path / "c.safetensors", net, opt)
    other = nn.Linear(3, 1)
    other_opt = torch.optim.LBFGS(other.parameters(), lr=0.1, max_iter=4, history_size=3)
    load_checkpoint(tmp_path / "c.safetensors", other, other_opt)
    _lbfgs_step(net, opt, x, y)
    _lbfgs_step(other, other_opt, x, y)
    assert torch.equal(net.weight, other.weight) and torch.equal(net.bias, other.bias)


class _Holds(torch.optim.SGD):
    """An optimiser whose settings hold a whole tensor, which JSON metadata cannot."""

    def state_dict(self):  # type: ignore[no-untyped-def]
        state = super().state_dict()
        state["param_groups"][0]["table"] = torch.arange(1000.0)
        return state


def test_a_tensor_setting_is_refused_by_kind_and_shape(tmp_path: Path) -> None:
    net = nn.Linear(3, 1)
    with pytest.raises(TypeError, match=r"^optimizer: its state holds a tensor of shape \(1000,\), which") as info:
        save_checkpoint(tmp_path / "c.safetensors", net, _Holds(net.parameters(), lr=0.1))
    assert len(str(info.value)) < 200
    assert not (tmp_path / "c.safetensors").exists()
