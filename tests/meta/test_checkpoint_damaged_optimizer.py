"""A checkpoint whose optimiser metadata is damaged (a part missing, of another type) is refused
with a ValueError naming the file, and nothing is loaded: it failed with a bare KeyError,
TypeError or AttributeError that named neither."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file
from torch import nn

from meta.checkpoint import load_checkpoint, save_checkpoint


def _trained() -> tuple[nn.Module, torch.optim.Optimizer]:
    net = nn.Linear(2, 1)
    optimizer = torch.optim.Adam(net.parameters())
    net(torch.ones(1, 2)).sum().backward()
    optimizer.step()
    return net, optimizer


@pytest.mark.parametrize(
    "damage",
    [
        lambda m: m.pop("param_groups"),
        lambda m: m.update(param_groups=3),
        lambda m: m.update(param_groups=[{}]),
        lambda m: m.update(scalars=[]),
        lambda m: m.update(scalars={"first": {}}),
    ],
)
def test_damaged_optimizer_metadata_is_refused_naming_the_file(tmp_path: Path, damage) -> None:
    path = tmp_path / "net.safetensors"
    save_checkpoint(path, *_trained())
    with safe_open(str(path), framework="pt") as handle:
        meta = handle.metadata()
    saved: dict[str, Any] = json.loads(meta["optimizer"])
    damage(saved)
    save_file(load_file(str(path)), str(path), metadata={**meta, "optimizer": json.dumps(saved)})
    net, optimizer = _trained()
    before = {k: v.clone() for k, v in net.state_dict().items()}, optimizer.state_dict()["state"][0]["step"].clone()
    with pytest.raises(ValueError, match=r"net\.safetensors': its optimizer metadata is damaged \(\w+: .*\); the file was not loaded"):
        load_checkpoint(path, net, optimizer)
    assert all(torch.equal(v, net.state_dict()[k]) for k, v in before[0].items())
    assert torch.equal(optimizer.state_dict()["state"][0]["step"], before[1])
