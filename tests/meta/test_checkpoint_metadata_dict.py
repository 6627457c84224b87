"""A checkpoint's user metadata is a dict: one that is not (a list, a string) is refused by the
save, naming it, where it was written and every load then refused the file as damaged."""

from __future__ import annotations

from pathlib import Path

import pytest
from torch import nn

from meta import MAML
from meta.checkpoint import load_checkpoint, save_checkpoint


@pytest.mark.parametrize("metadata", [[1, 2], "note", ()])
def test_metadata_that_is_no_dict_is_refused_and_nothing_written(tmp_path: Path, metadata) -> None:
    path = tmp_path / "net.safetensors"
    with pytest.raises(TypeError, match=rf"^metadata: expected a dict of JSON values, got {type(metadata).__name__} "):
        save_checkpoint(path, nn.Linear(1, 1), metadata=metadata)
    with pytest.raises(TypeError, match=r"^metadata: expected a dict of JSON values, got list \['note'\]$"):
        MAML(nn.Linear(1, 1), vectorize="loop").save(str(path), metadata=["note"])
    assert not path.exists()


def test_a_dict_and_none_are_saved_and_loaded(tmp_path: Path) -> None:
    path = tmp_path / "net.safetensors"
    save_checkpoint(path, nn.Linear(1, 1), metadata={"step": 3})
    assert load_checkpoint(path, nn.Linear(1, 1)) == {"step": 3}
    save_checkpoint(path, nn.Linear(1, 1))
    assert load_checkpoint(path, nn.Linear(1, 1)) == {}
