"""A checkpoint whose JSON metadata is damaged is refused naming the file and the field, before
anything is loaded (json's own error named neither, and the module was loaded before it came)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file
from torch import nn

from meta import MAML
from meta.checkpoint import load_checkpoint, save_checkpoint


def _damaged(path: Path, field: str, value: str) -> None:
    with safe_open(str(path), framework="pt") as handle:
        metadata = dict(handle.metadata())
    metadata[field] = value
    save_file(load_file(str(path)), str(path), metadata=metadata)


@pytest.mark.parametrize(("field", "value"), [("user", '{"step": 3'), ("user", "[3]"), ("optimizer", '{"class": ')])
def test_damaged_metadata_is_named_and_nothing_is_loaded(tmp_path: Path, field: str, value: str) -> None:
    torch.manual_seed(0)
    net = nn.Linear(2, 1)
    path = tmp_path / "net.safetensors"
    save_checkpoint(path, net, torch.optim.Adam(net.parameters()), metadata={"step": 3})
    _damaged(path, field, value)
    other = nn.Linear(2, 1)
    weight = other.weight.detach().clone()
    with pytest.raises(ValueError, match=f"net.safetensors': its {field} metadata is damaged"):
        load_checkpoint(path, other, torch.optim.Adam(other.parameters()))
    assert torch.equal(other.weight, weight)


def test_a_learner_names_its_damaged_file(tmp_path: Path) -> None:
    path = tmp_path / "maml.safetensors"
    MAML(nn.Linear(2, 1)).save(str(path))
    _damaged(path, "user", '{"class": "MAML", ')
    with pytest.raises(ValueError, match="maml.safetensors': its user metadata is damaged"):
        MAML(nn.Linear(2, 1)).load(str(path))
