"""A save cut short leaves the previous checkpoint as it was: files are written beside their path
and moved into place whole."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

import meta.checkpoint
from meta import MAML
from meta.checkpoint import load_state, save_state


def _cut_short(tensors, filename, metadata=None):  # type: ignore[no-untyped-def]
    Path(filename).write_bytes(b"half a file")
    raise OSError(28, "No space left on device")


def test_a_learner_save_cut_short_keeps_the_last_checkpoint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    torch.manual_seed(0)
    learner = MAML(nn.Linear(1, 1), vectorize="loop")
    path = tmp_path / "learner.safetensors"
    learner.save(str(path))
    saved = {k: v.clone() for k, v in learner.state_dict().items()}
    task = tuple(torch.randn(5, 1) for _ in range(4))
    learner.meta_train_step([task])
    monkeypatch.setattr(meta.checkpoint, "save_file", _cut_short)
    with pytest.raises(OSError, match="No space left"):
        learner.save(str(path))
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["learner.safetensors"]  # no temporary file left
    restored = MAML(nn.Linear(1, 1), vectorize="loop")
    assert restored.load(str(path))["meta_step_count"] == 0
    assert all(torch.equal(v, restored.state_dict()[k]) for k, v in saved.items())


def test_a_state_save_cut_short_keeps_the_last_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "state.safetensors"
    save_state(path, "Kind", {"step": 1, "w": torch.ones(2)})
    monkeypatch.setattr(meta.checkpoint, "save_file", _cut_short)
    with pytest.raises(OSError):
        save_state(path, "Kind", {"step": 2, "w": torch.zeros(2)})
    monkeypatch.undo()
    state = load_state(path, "Kind")
    assert state["step"] == 1 and torch.equal(state["w"], torch.ones(2))
