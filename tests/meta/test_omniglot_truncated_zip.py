"""An Omniglot zip cut short (a download or copy that stopped) is named as a damaged zip: it was
called 'neither a folder nor a zip file', which sent the user looking for the wrong file."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from meta.data import DataFormatError
from meta.data.omniglot import load_omniglot


def test_a_zip_cut_short_is_named_as_a_damaged_zip(tmp_path: Path) -> None:
    image = io.BytesIO()
    Image.fromarray(np.zeros((105, 105), dtype=np.uint8)).save(image, format="PNG")
    archive = tmp_path / "omniglot.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for k in range(2):
            z.writestr(f"omniglot/Alpha/character01/{k}.png", image.getvalue())
    cut = tmp_path / "cut.zip"
    cut.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    with pytest.raises(DataFormatError, match=r"'.*cut\.zip' is a damaged or truncated zip file"):
        load_omniglot(cut)
    other = tmp_path / "notes.zip"
    other.write_text("not a zip")
    with pytest.raises(DataFormatError, match="is neither a folder nor a zip file"):
        load_omniglot(other)
    assert load_omniglot(archive, rotations=(0,)).n_classes == 1
