"""Omniglot images named ``.PNG`` (as some copies and tools write them) load from a folder as they
load from a zip: the folder reader looked for ``*.png`` only and dropped them without a word."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from meta.data.omniglot import load_omniglot


def png(shade: int) -> bytes:
    out = io.BytesIO()
    Image.fromarray(np.full((105, 105), shade, dtype=np.uint8)).save(out, format="PNG")
    return out.getvalue()


def test_upper_case_png_names_load_from_a_folder_as_from_a_zip(tmp_path: Path) -> None:
    files = {f"omniglot/Alpha/character0{c}/{k}.{'PNG' if k else 'png'}": png(60 * c + 20 * k) for c in (1, 2) for k in (0, 1)}
    archive = tmp_path / "omniglot.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    folder = tmp_path / "folder"
    for name, data in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    (folder / "omniglot/Alpha/notes.png.d").mkdir()  # a folder named like an image is no image
    from_zip, from_folder = load_omniglot(archive, rotations=(0,)), load_omniglot(folder, rotations=(0,))
    assert len(from_folder.labels) == len(from_zip.labels) == 4
    assert torch.equal(from_folder.images, from_zip.images)
