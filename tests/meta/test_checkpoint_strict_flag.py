"""``load_checkpoint``'s ``strict`` is True or False: ``strict=0`` or ``None`` (a value read from a
file or a command line) loaded a checkpoint of another architecture without a word, the parameters
it lacks left as they were initialised, and ``strict="false"`` loaded strictly."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from meta.checkpoint import load_checkpoint, save_checkpoint


@pytest.mark.parametrize("value", [0, None, "false"])
def test_a_strict_that_is_no_bool_is_refused_and_nothing_is_loaded(value, tmp_path: Path) -> None:
    save_checkpoint(tmp_path / "c.safetensors", nn.Sequential(nn.Linear(2, 2)))
    module = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 1))  # one layer more than the checkpoint's
    before = {k: v.clone() for k, v in module.state_dict().items()}
    with pytest.raises(ValueError, match=rf"^strict: expected True or False, got {value!r}$"):
        load_checkpoint(tmp_path / "c.safetensors", module, strict=value)
    assert all(torch.equal(v, before[k]) for k, v in module.state_dict().items())
    assert load_checkpoint(tmp_path / "c.safetensors", module, strict=False) == {}
