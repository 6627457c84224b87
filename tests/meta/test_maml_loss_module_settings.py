"""A MAML-family learner built with one of torch's loss modules (nn.MSELoss, nn.L1Loss,
nn.CrossEntropyLoss) records that loss in its settings, as one built with its name does: it recorded
none, so a regression checkpoint loaded into a classifier built with nn.CrossEntropyLoss() (or a
classifier's into a regression learner) without a word, and trained on with the other loss."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

from meta import MAML


def _saved(tmp_path: Path, loss_fn: Any) -> str:
    torch.manual_seed(0)
    path = str(tmp_path / "learner.safetensors")
    MAML(nn.Linear(3, 2), loss_fn=loss_fn).save(path)
    return path


@pytest.mark.parametrize(
    ("saved", "loading"),
    [("mse", nn.CrossEntropyLoss()), (nn.MSELoss(), "cross_entropy"), (nn.L1Loss(), nn.MSELoss())],
    ids=["name into module", "module into name", "module into module"],
)
def test_a_checkpoint_of_another_loss_is_refused_naming_it(tmp_path: Path, saved: Any, loading: Any) -> None:
    path = _saved(tmp_path, saved)
    learner = MAML(nn.Linear(3, 2), loss_fn=loading)
    before = learner.model.weight.detach().clone()
    with pytest.raises(ValueError, match=r"settings\.loss is '(mse|l1)' in the file but '(cross_entropy|mse)'"):
        learner.load(path)
    assert torch.equal(learner.model.weight, before)


@pytest.mark.parametrize(("saved", "loading"), [(nn.MSELoss(), "mse"), ("cross_entropy", nn.CrossEntropyLoss())])
def test_a_loss_module_and_its_name_are_the_same_loss(tmp_path: Path, saved: Any, loading: Any) -> None:
    path = _saved(tmp_path, saved)
    learner = MAML(nn.Linear(3, 2), loss_fn=loading)
    learner.load(path)
    assert learner.settings()["loss"] == MAML(nn.Linear(3, 2), loss_fn=saved).settings()["loss"]
