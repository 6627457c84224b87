"""A MAML learner with ``vectorize="auto"`` saves the path it chose, and a resumed one takes it rather
than timing both again: the paths draw dropout masks differently, and the faster one can be the
other on another run, so the resumed run trained on other masks than the run that did not stop."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from meta import MAML
from meta.checkpoint import save_checkpoint


def _learner(vectorize: str = "auto") -> MAML:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 8), nn.Dropout(0.5), nn.ReLU(), nn.Linear(8, 1))
    return MAML(model, lr_inner=0.1, lr_meta=0.01, vectorize=vectorize)


def _tasks(seed: int) -> list[tuple[torch.Tensor, ...]]:
    g = torch.Generator().manual_seed(seed)
    return [tuple(torch.randn(4, size, generator=g) for size in (3, 1, 3, 1)) for _ in range(2)]


@pytest.mark.parametrize("chosen", ["vmap", "loop"])
def test_a_resumed_learner_takes_the_saved_path_and_trains_as_the_run_that_did_not_stop(tmp_path: Path, chosen: str) -> None:
    learner = _learner()
    learner.meta_train_step(_tasks(0))
    learner.path = chosen  # what the timing picked on this run
    path = str(tmp_path / "maml.safetensors")
    learner.save(path)
    expected = learner.meta_train_step(_tasks(1))["meta_loss"]

    resumed = _learner()
    resumed.load(path)
    assert resumed.path == chosen
    assert resumed.meta_train_step(_tasks(1))["meta_loss"] == expected


def test_an_explicit_path_stands_and_a_damaged_one_is_refused(tmp_path: Path) -> None:
    learner = _learner()
    learner.meta_train_step(_tasks(0))
    learner.path = "vmap"
    path = str(tmp_path / "maml.safetensors")
    learner.save(path)
    looped = _learner("loop")
    looped.load(path)
    assert looped.path == "loop"

    damaged = str(tmp_path / "damaged.safetensors")
    save_checkpoint(damaged, learner, learner.meta_optimizer, {"class": "MAML", "execution_path": "gpu"})
    fresh = _learner()
    before = [p.detach().clone() for p in fresh.parameters()]
    with pytest.raises(ValueError, match=r"execution_path 'gpu' is neither 'vmap' nor 'loop'; the file was not loaded"):
        fresh.load(damaged)
    assert fresh.path is None and all(torch.equal(a, b) for a, b in zip(before, fresh.parameters()))
