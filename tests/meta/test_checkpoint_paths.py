"""The meta-learners' savers and loaders name their path argument when it is not a path (``None``,
a number, bytes), through one check (``meta._checks.check_path``), before anything is written."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from torch import nn

from meta import MAML, ContinualLearner
from meta.checkpoint import checkpoint_metadata, load_checkpoint, load_state, save_checkpoint, save_state


def _calls() -> dict[str, Callable[[Any], Any]]:
    maml = MAML(nn.Linear(2, 1))
    continual = ContinualLearner(nn.Sequential(nn.Linear(4, 2)), strategy="ewc")
    return {
        "MAML.save": maml.save,
        "MAML.load": maml.load,
        "ContinualLearner.save": continual.save,
        "ContinualLearner.load": continual.load,
        "save_checkpoint": lambda p: save_checkpoint(p, nn.Linear(2, 1)),
        "load_checkpoint": lambda p: load_checkpoint(p, nn.Linear(2, 1)),
        "checkpoint_metadata": checkpoint_metadata,
        "save_state": lambda p: save_state(p, "Kind", {"x": 1}),
        "load_state": lambda p: load_state(p, "Kind"),
    }


@pytest.mark.parametrize("value", [None, 3, b"learner.safetensors"], ids=repr)
def test_a_value_that_is_not_a_path_is_refused_naming_the_argument(value: Any, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)  # a path made of the value (str(3)) would land here
    for name, call in _calls().items():
        with pytest.raises(TypeError, match=r"^path: expected a file path \(str or os.PathLike\), got ") as err:
            call(value)
        assert repr(value) in str(err.value), name
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("value", "said"), [("", "'' (empty)"), ("learner\x00.safetensors", "(a NUL character)")], ids=repr)
def test_an_empty_path_or_one_with_a_nul_is_refused_naming_the_argument(value: str, said: str, tmp_path: Path, monkeypatch) -> None:
    # "" is the working folder to pathlib: a save failed with "PosixPath('.') has an empty name", a
    # load with "Is a directory: '.'"; a NUL failed with the system's "embedded null byte"
    monkeypatch.chdir(tmp_path)
    for name, call in _calls().items():
        with pytest.raises(ValueError, match=r"^path: expected a file path, got ") as err:
            call(value)
        assert str(err.value).endswith(said), name
    assert list(tmp_path.iterdir()) == []
