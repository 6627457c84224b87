"""Omniglot from a zip or folder made on macOS: the ``__MACOSX/`` folder and ``._NAME`` resource
forks it adds beside each image are named like images but are none (loading failed on the first)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from meta.data.omniglot import load_omniglot

#: what macOS writes as a file's resource fork: an AppleDouble header, no PNG
APPLE_DOUBLE = b"\x00\x05\x16\x07\x00\x02\x00\x00" + b"\x00" * 56


def png(shade: int) -> bytes:
    out = io.BytesIO()
    Image.fromarray(np.full((105, 105), shade, dtype=np.uint8)).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture()
def files() -> dict[str, bytes]:
    images = {f"omniglot/Alpha/character0{c}/{k}.png": png(60 * c + 20 * k) for c in (1, 2) for k in (0, 1)}
    metadata = {f"__MACOSX/{name.rsplit('/', 1)[0]}/._{name.rsplit('/', 1)[1]}": APPLE_DOUBLE for name in images}
    metadata["omniglot/Alpha/character01/._0.png"] = APPLE_DOUBLE  # a copy to a disk macOS does not format
    return {**images, **metadata}


def test_a_zip_made_on_macos_loads_its_images_only(tmp_path: Path, files: dict[str, bytes]) -> None:
    archive = tmp_path / "omniglot.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    clean = tmp_path / "clean.zip"
    with zipfile.ZipFile(clean, "w") as z:
        for name, data in files.items():
            if data != APPLE_DOUBLE:
                z.writestr(name, data)
    data = load_omniglot(archive, rotations=(0,))
    assert data.class_names == ["Alpha/character01/rot0", "Alpha/character02/rot0"] and len(data.labels) == 4
    assert torch.equal(data.images, load_omniglot(clean, rotations=(0,)).images)


def test_a_folder_unpacked_from_it_loads_its_images_only(tmp_path: Path, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(data)
    data = load_omniglot(tmp_path, rotations=(0,))
    assert data.class_names == ["Alpha/character01/rot0", "Alpha/character02/rot0"] and len(data.labels) == 4
