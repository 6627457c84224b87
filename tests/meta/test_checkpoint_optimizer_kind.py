"""save_checkpoint and load_checkpoint refuse, naming ``optimizer``, an optimiser that is no
``torch.optim.Optimizer`` (AdaptiveOptimizer, whose state has a layout of its own), before anything
is written or changed."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from meta.checkpoint import load_checkpoint, save_checkpoint
from meta.optimizer import AdaptiveOptimizer

MESSAGE = r"^optimizer: expected a torch.optim.Optimizer, got AdaptiveOptimizer; .* meta.checkpoint.save_state$"


def test_an_adaptive_optimizer_is_refused_by_save_and_load(tmp_path: Path) -> None:
    net = nn.Linear(3, 1)
    opt = AdaptiveOptimizer(net.parameters())
    with pytest.raises(TypeError, match=MESSAGE):
        save_checkpoint(tmp_path / "c.safetensors", net, opt)  # type: ignore[arg-type]
    assert not (tmp_path / "c.safetensors").exists()
    save_checkpoint(tmp_path / "c.safetensors", net)
    other = nn.Linear(3, 1)
    before = other.weight.detach().clone()
    with pytest.raises(TypeError, match=MESSAGE):
        load_checkpoint(tmp_path / "c.safetensors", other, opt)  # type: ignore[arg-type]
    assert torch.equal(other.weight, before)
