"""A learner's checkpoint holds its settings; one whose saved setting equals the learner's only as
``==`` has it (``2.0`` for ``2``, ``0`` for ``False``: damage, not the value) is refused, naming
the file and the field, and nothing is loaded, as a toolrouter state's options are
(``same_settings``); so is one whose settings are no JSON object (an AttributeError before)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file
from torch import nn

from meta import MAML, FewShotLearner, MultiTaskMAML
from meta._checks import same_setting, same_settings


def _rewritten(path: Path, whole: Any = None, **settings: Any) -> None:
    """The checkpoint at ``path`` with ``settings`` written over its saved ones, or ``whole`` in
    their place."""
    with safe_open(str(path), framework="pt") as handle:
        meta = handle.metadata()
    user = json.loads(meta["user"])
    if whole is None:
        user["settings"].update(settings)
    else:
        user["settings"] = whole
    save_file(load_file(str(path)), str(path), metadata={**meta, "user": json.dumps(user)})


@pytest.mark.parametrize(
    ("cls", "field", "value"),
    [(MAML, "num_inner_steps", 1.0), (MAML, "first_order", 0), (MAML, "lr_inner", True), (MultiTaskMAML, "temperature", 1)],
)
def test_a_saved_setting_of_another_type_is_refused_and_nothing_loaded(tmp_path: Path, cls, field, value) -> None:
    options = {"lr_inner": 1.0, "temperature": 1.0} if cls is MultiTaskMAML else {"lr_inner": 1.0}
    path = tmp_path / "learner.safetensors"
    cls(nn.Linear(1, 1), vectorize="loop", **options).save(str(path))
    _rewritten(path, **{field: value})
    torch.manual_seed(1)
    other = cls(nn.Linear(1, 1), vectorize="loop", **options)
    assert other.settings()[field] == value  # equal as == has it
    before = {k: v.clone() for k, v in other.state_dict().items()}
    with pytest.raises(ValueError, match=rf"learner\.safetensors.*settings\.{field} is {value!r} in the file but"):
        other.load(str(path))
    assert all(torch.equal(v, other.state_dict()[k]) for k, v in before.items())


@pytest.mark.parametrize(
    "learner", [lambda: MAML(nn.Linear(1, 1), vectorize="loop"), lambda: FewShotLearner("relation", encoder=nn.Linear(1, 4))]
)
@pytest.mark.parametrize("settings", [["lr_inner", 1.0], "sum", 3])
def test_saved_settings_that_are_no_json_object_are_refused_naming_the_file(tmp_path: Path, learner, settings) -> None:
    path = tmp_path / "learner.safetensors"
    learner().save(str(path))
    _rewritten(path, settings)
    with pytest.raises(ValueError, match=rf"learner\.safetensors': settings {re.escape(repr(settings))} is not a JSON object; the file was not loaded"):
        learner().load(str(path))


def test_same_setting_and_same_settings_compare_types_too() -> None:
    assert same_setting("sum", "sum") and same_setting(["bias"], ["bias"]) and same_setting(0.5, 0.5)
    assert not same_setting(2.0, 2) and not same_setting(1, True) and not same_setting(1, 1.0)
    assert same_settings({"window": 4, "decay": 0.5}, {"window": 4, "decay": 0.5})
    assert not same_settings({"window": 4.0}, {"window": 4}) and not same_settings({"window": 4}, {"window": 4, "decay": 0.5})
    assert not same_settings(None, {"window": 4}) and not same_settings([4], {"window": 4})
