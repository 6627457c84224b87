"""A MAML-family checkpoint holds the learner's class and settings; loading it into a learner of
another class or with other settings is refused before anything changes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

from meta import MAML, MAMLFirstOrder, MetaSGD, MultiTaskMAML, Reptile
from meta.checkpoint import save_checkpoint


def _task() -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(0)
    return tuple(torch.randn(5, 1, generator=g) for _ in range(4))


def _saved(tmp_path: Path, cls: type[MAML] = MAML, **options: Any) -> tuple[str, MAML]:
    torch.manual_seed(0)
    learner = cls(nn.Linear(1, 1), vectorize="loop", **options)
    learner.meta_train_step([_task()])
    path = str(tmp_path / "learner.safetensors")
    learner.save(path)
    return path, learner


@pytest.mark.parametrize(
    ("cls", "options", "field"),
    [
        (MAML, {"lr_inner": 0.5}, "lr_inner"),
        (MAML, {"num_inner_steps": 3}, "num_inner_steps"),
        (MAML, {"first_order": True}, "first_order"),
        (MAML, {"adapt_parameters": ["bias"]}, "adapt_parameters"),
        (MAML, {"loss_fn": "l1"}, "loss"),
        (MAML, {"grad_clip": 1.0}, "grad_clip"),
        (MultiTaskMAML, {"temperature": 2.0}, "temperature"),
    ],
)
def test_other_settings_are_named_and_nothing_is_loaded(tmp_path: Path, cls, options, field) -> None:
    path, _ = _saved(tmp_path, cls)
    torch.manual_seed(1)
    other = cls(nn.Linear(1, 1), vectorize="loop", **options)
    before = {k: v.clone() for k, v in other.state_dict().items()}
    with pytest.raises(ValueError, match=rf"learner\.safetensors.*settings\.{field} is .* in the file but .* in this {cls.__name__}"):
        other.load(path)
    assert all(torch.equal(v, other.state_dict()[k]) for k, v in before.items())
    assert other.meta_step_count == 0 and not other.meta_optimizer.state


@pytest.mark.parametrize(("saved", "loading"), [(MAML, Reptile), (MAML, MAMLFirstOrder), (MAMLFirstOrder, MAML)])
def test_a_checkpoint_of_another_class_is_refused(tmp_path: Path, saved, loading) -> None:
    path, _ = _saved(tmp_path, saved)
    other = loading(nn.Linear(1, 1), vectorize="loop")
    with pytest.raises(ValueError, match=f"was saved by a {saved.__name__}, not a {loading.__name__}"):
        other.load(path)
    assert other.meta_step_count == 0


@pytest.mark.parametrize("cls", [MAML, MetaSGD, Reptile, MultiTaskMAML])
def test_the_same_settings_load_and_are_returned(tmp_path: Path, cls) -> None:
    path, learner = _saved(tmp_path, cls, lr_inner=0.05)
    torch.manual_seed(1)
    other = cls(nn.Linear(1, 1), vectorize="loop", lr_inner=0.05)
    info = other.load(path)
    assert info["settings"] == learner.settings() == other.settings() and info["settings"]["lr_inner"] == 0.05
    for k, v in learner.state_dict().items():
        assert torch.equal(v, other.state_dict()[k]), k


def test_a_file_without_settings_and_a_callable_loss_are_not_compared(tmp_path: Path) -> None:
    plain = tmp_path / "plain.safetensors"
    save_checkpoint(plain, MAML(nn.Linear(1, 1), lr_inner=0.5), metadata={"meta_step_count": 2})
    assert MAML(nn.Linear(1, 1)).load(str(plain))["meta_step_count"] == 2
    path, _ = _saved(tmp_path)
    custom = MAML(nn.Linear(1, 1), vectorize="loop", loss_fn=nn.MSELoss())
    assert custom.load(path)["class"] == "MAML"
    with pytest.raises(ValueError, match=r"metadata: \['settings'\] are written by save itself"):
        custom.save(str(tmp_path / "x.safetensors"), metadata={"settings": 1})
