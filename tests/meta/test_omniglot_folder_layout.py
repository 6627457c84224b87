"""Omniglot from a folder names alphabets and characters by the folders under the one given, as
from a zip: images put straight in a folder (not the dataset) were loaded as the alphabet and the
character named by the folders above it (``/tmp/omf/flat/a.png`` became ``omf/flat``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from meta.data import DataFormatError
from meta.data.omniglot import load_omniglot


def _png(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.zeros((105, 105), dtype=np.uint8)).save(path)


def test_a_folder_of_loose_images_is_not_the_dataset(tmp_path: Path) -> None:
    folder = tmp_path / "pictures" / "flat"
    _png(folder / "a.png")
    _png(folder / "scans" / "b.png")  # one folder deep: still no ALPHABET/character/ under it
    with pytest.raises(DataFormatError, match=r"no Omniglot images found in .*ALPHABET/characterNN/\*\.png"):
        load_omniglot(folder, rotations=(0,))


def test_only_the_images_laid_out_under_the_folder_are_read(tmp_path: Path) -> None:
    _png(tmp_path / "omniglot" / "Greek" / "character01" / "0.png")
    _png(tmp_path / "omniglot" / "notes.png")  # beside the alphabets: no character of any
    data = load_omniglot(tmp_path / "omniglot", rotations=(0,))
    assert data.class_names == ["Greek/character01/rot0"] and len(data.labels) == 1


def test_the_folder_holding_the_zips_is_refused_naming_the_zips_to_give(omniglot_zip) -> None:  # type: ignore[no-untyped-def]
    archive = omniglot_zip(["Greek"])
    with pytest.raises(DataFormatError, match=rf"no Omniglot images .*; the folder holds the zip files \['{archive}'\]: give those"):
        load_omniglot(archive.parent)
    with pytest.raises(KeyError, match=r"alphabets: \['Greek'\] not found .*; the folder holds the zip files"):
        load_omniglot(archive.parent, alphabets=["Greek"])
    assert load_omniglot(archive, rotations=(0,)).alphabets == ["Greek"]
