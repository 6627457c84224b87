"""``Expert.load`` refuses a file whose saved options are not a mapping with ``CorruptStateError``
naming them, before anything changes: they were read as a mapping, and the load failed with an
``AttributeError`` (a language expert's checks) or, once the weights and tasks were already
loaded, a ``ValueError`` or ``TypeError`` (``null`` options, which now load as none)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

from integrations.experts import VisionExpert
from integrations.experts.base import _FORMAT
from toolrouter.errors import CorruptStateError
from toolrouter.serialization import read_blob, write_atomically, write_blob

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _saved_with_options(tmp_path: Path, options: Any) -> Path:
    saved = VisionExpert(nn.Flatten(), image_shape=(1, 3, 3))
    saved.adapt({"eye": [torch.eye(3)[None]]}, task="t")
    blob = read_blob(saved.save(tmp_path / "v.safetensors").read_bytes(), _FORMAT)
    return write_atomically(tmp_path / "v.safetensors", write_blob(blob.arrays, _FORMAT, {**blob.config, "options": options}))


@pytest.mark.parametrize("options", [["seed", 0], "seed=0"])
def test_options_that_are_not_a_mapping_are_refused_naming_them(tmp_path: Path, options: Any) -> None:
    path = _saved_with_options(tmp_path, options)
    expert = VisionExpert(nn.Flatten(), image_shape=(1, 3, 3))
    with pytest.raises(CorruptStateError, match=r"options: expected a mapping of the saved options, got"):
        expert.load(path)
    assert expert.tasks == []


def test_a_file_without_options_loads(tmp_path: Path) -> None:
    expert = VisionExpert(nn.Flatten(), image_shape=(1, 3, 3))
    assert expert.load(_saved_with_options(tmp_path, None)) == {}
    assert expert.tasks == ["t"]
