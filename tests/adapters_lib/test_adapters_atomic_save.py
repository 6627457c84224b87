"""A save cut short leaves the previous adapter file whole, and no temporary file."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest
import torch
from torch import nn

import adapters_lib.model
import adapters_lib.peft_format
from adapters_lib import AdapterConfig, AdapterModel


def _model() -> AdapterModel:
    torch.manual_seed(0)
    return AdapterModel(nn.Sequential(nn.Linear(8, 8)), AdapterConfig(adapter_type="lora", input_dim=8, lora_r=2))


def _disk_full(state: dict, filename: str, metadata: dict | None = None) -> None:
    Path(filename).write_bytes(b"half a file")
    raise OSError(errno.ENOSPC, "No space left on device")


def test_an_interrupted_save_adapters_keeps_the_previous_file(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    model = _model()
    path = model.save_adapters(tmp_path / "a.safetensors")
    saved = path.read_bytes()
    with torch.no_grad():
        for p in model.adapter_parameters():
            p.add_(1.0)
    monkeypatch.setattr(adapters_lib.model, "save_file", _disk_full)
    with pytest.raises(OSError):
        model.save_adapters(path)
    assert path.read_bytes() == saved
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.safetensors"]


def test_an_interrupted_export_peft_keeps_the_previous_checkpoint(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    model = _model()
    out = model.export_peft(tmp_path)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    monkeypatch.setattr(adapters_lib.peft_format, "save_file", _disk_full)
    with pytest.raises(OSError):
        model.export_peft(tmp_path)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_an_export_peft_cut_short_after_the_weights_keeps_the_previous_pair(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    model = _model()
    out = model.export_peft(tmp_path)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    with torch.no_grad():
        for p in model.adapter_parameters():
            p.add_(1.0)

    def config_write_fails(self: Path, *args: object, **kwargs: object) -> None:  # the second file
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "write_text", config_write_fails)
    with pytest.raises(OSError):
        model.export_peft(tmp_path)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # old weights with their old config
    monkeypatch.undo()
    model.export_peft(tmp_path)
    restored = AdapterModel(nn.Sequential(nn.Linear(8, 8)), AdapterConfig(adapter_type="lora", input_dim=8, lora_r=2))
    adapters_lib.peft_format.load_peft_weights(restored, out)  # the next export writes the new pair
    assert all(torch.equal(a, b) for a, b in zip(model.adapter_parameters(), restored.adapter_parameters()))
