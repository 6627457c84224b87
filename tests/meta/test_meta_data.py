"""Data: sinusoid tasks, the N-way K-shot episode sampler, and the Omniglot loader (zips and folders)."""

from __future__ import annotations

import math
import re
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from pydantic import ValidationError

from meta.data.episodes import EpisodeSampler
from meta.data.omniglot import load_omniglot, omniglot_split
from meta.data.sinusoid import SinusoidConfig, SinusoidTaskSampler


OMNIGLOT = Path(__file__).resolve().parents[3] / "shared" / "data" / "omniglot"
SMALL1 = OMNIGLOT / "images_background_small1.zip"
SMALL2 = OMNIGLOT / "images_background_small2.zip"


def test_sinusoid_tasks_follow_the_maml_setting() -> None:
    sampler = SinusoidTaskSampler(seed=0)
    amp, phase = sampler.sample_parameters(2000)
    assert 0.1 <= float(amp.min()) and float(amp.max()) <= 5.0
    assert 0.0 <= float(phase.min()) and float(phase.max()) <= math.pi
    batch = SinusoidTaskSampler(seed=0).sample(25, 10, 15)
    sx, sy, qx, qy = batch.stacked()  # type: ignore[misc]
    assert sx.shape == (25, 10, 1) and qy.shape == (25, 15, 1)
    assert float(sx.abs().max()) <= 5.0 and float(sy.abs().max()) <= 5.0
    again = SinusoidTaskSampler(seed=0).sample(25, 10, 15)
    assert torch.equal(again.stacked()[1], sy)  # type: ignore[index]
    with pytest.raises(ValidationError, match="amplitude_min"):
        SinusoidConfig(amplitude_min=6.0)
    with pytest.raises(ValueError, match="k_shot: expected an integer >= 1, got 0"):
        sampler.sample(2, 0, 5)


def test_episode_sampler_draws_relabelled_disjoint_episodes() -> None:
    x = torch.arange(60.0)[:, None]
    y = torch.arange(60) % 6
    ep = EpisodeSampler(x, y, n_way=4, k_shot=2, n_query=3, seed=0).sample()
    assert ep.support_y.tolist() == [0, 0, 1, 1, 2, 2, 3, 3]
    assert ep.query_y.tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3]
    support_ids = set(ep.support_x.flatten().tolist())
    assert not support_ids & set(ep.query_x.flatten().tolist())
    for way in range(4):  # each way is one original class
        classes = {int(v) % 6 for v in ep.support_x[ep.support_y == way].flatten()}
        classes |= {int(v) % 6 for v in ep.query_x[ep.query_y == way].flatten()}
        assert len(classes) == 1
    again = EpisodeSampler(x, y, n_way=4, k_shot=2, n_query=3, seed=0).sample()
    assert torch.equal(again.support_x, ep.support_x)


def test_episode_sampler_accepts_a_dataset_of_pairs() -> None:
    items = [(torch.full((2,), float(i)), i % 3) for i in range(12)]
    batch = EpisodeSampler(items, n_way=3, k_shot=1, n_query=1, seed=0).sample_batch(4)
    assert len(batch) == 4 and batch.stacked()[0].shape == (4, 3, 2)  # type: ignore[index]


def test_episode_sampler_rejects_impossible_episodes() -> None:
    x, y = torch.randn(20, 2), torch.arange(20) % 4
    with pytest.raises(ValueError, match="n_way=5 is more than the 4 classes"):
        EpisodeSampler(x, y, n_way=5, k_shot=1, n_query=1)
    with pytest.raises(ValueError, match="n_way=2 is more than the 0 classes with at least k_shot"):
        EpisodeSampler(x, y, n_way=2, k_shot=3, n_query=3)
    with pytest.raises(ValueError, match="k_shot: expected an integer >= 1, got 0"):
        EpisodeSampler(x, y, k_shot=0)
    with pytest.raises(ValueError, match="labels has 3 entries"):
        EpisodeSampler(x, y[:3])
    with pytest.raises(ValueError, match=r"labels must hold one label per example \(1-D\), got shape \(20, 1\)"):
        EpisodeSampler(x, y[:, None], n_way=2, k_shot=1, n_query=1)
    with pytest.raises(TypeError, match=r"labels\[0\] is \[0\]: a label must be hashable"):
        EpisodeSampler(x, [[int(v)] for v in y], n_way=2, k_shot=1, n_query=1)


@pytest.mark.skipif(not SMALL1.exists(), reason="shared Omniglot zips not present")
def test_omniglot_from_zips_dedupes_and_rotates() -> None:
    greek1 = load_omniglot(SMALL1, alphabets=["Greek"], rotations=(0,))
    both = load_omniglot([SMALL1, SMALL2], alphabets=["Greek"], rotations=(0, 90))
    assert greek1.images.shape[1:] == (1, 28, 28) and greek1.n_classes == 24
    assert both.n_classes == 2 * greek1.n_classes  # Greek is in both zips: kept once
    assert len(both.labels) == 2 * len(greek1.labels)
    assert 0.0 <= float(greek1.images.min()) and float(greek1.images.max()) <= 1.0
    assert float(greek1.images.mean()) < 0.3  # strokes are 1 on a 0 background
    first = both.images[both.labels == 0][0, 0]
    rotated = both.images[both.labels == 1][0, 0]
    assert both.class_names[1].endswith("rot90")
    torch.testing.assert_close(torch.rot90(first, 1), rotated)
    with pytest.raises(KeyError, match="Klingon"):
        load_omniglot(SMALL1, alphabets=["Klingon"])


@pytest.mark.skipif(not SMALL2.exists(), reason="shared Omniglot zips not present")
def test_omniglot_split_holds_out_alphabets() -> None:
    train, test = omniglot_split([SMALL1, SMALL2], test_alphabets=["Balinese"], rotations=(0,))
    assert test.alphabets == ["Balinese"] and "Balinese" not in train.alphabets
    assert {"Greek", "Latin", "Korean"} <= set(train.alphabets)


def test_omniglot_from_a_users_folder(tmp_path: Path) -> None:
    for alphabet in ("Alpha", "Beta"):
        for char in ("character01", "character02"):
            folder = tmp_path / "images_background" / alphabet / char
            folder.mkdir(parents=True)
            for k in range(3):
                pixels = np.full((105, 105), 255, dtype=np.uint8)
                pixels[10 * k : 10 * k + 20, :] = 0
                Image.fromarray(pixels).save(folder / f"{k}.png")
    data = load_omniglot(tmp_path, image_size=14, rotations=(0, 180), exclude_alphabets=["Beta"])
    assert data.alphabets == ["Alpha"] and data.n_classes == 4 and data.images.shape == (12, 1, 14, 14)
    archive = tmp_path / "mine.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for png in sorted((tmp_path / "images_background").rglob("*.png")):
            z.write(png, png.relative_to(tmp_path).as_posix())
    zipped = load_omniglot(archive, image_size=14, rotations=(0, 180), exclude_alphabets=["Beta"])
    assert torch.equal(zipped.images, data.images)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_omniglot(tmp_path / "missing.zip")
    with pytest.raises(ValueError, match="rotations must be"):
        load_omniglot(tmp_path, rotations=(45,))


def test_omniglot_names_the_image_it_cannot_read(tmp_path: Path) -> None:
    from meta.data import DataFormatError

    good = tmp_path / "good.png"
    Image.fromarray(np.zeros((105, 105), dtype=np.uint8)).save(good)
    folder = tmp_path / "folder" / "Alpha" / "character01"
    folder.mkdir(parents=True)
    (folder / "cut.png").write_bytes(good.read_bytes()[:40])
    with pytest.raises(DataFormatError, match=r"character01/cut\.png: not a readable image"):
        load_omniglot(tmp_path / "folder")

    archive = tmp_path / "notes.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("Alpha/character01/0.png", good.read_bytes())
        z.writestr("Alpha/character01/1.png", b"not a png")
    with pytest.raises(DataFormatError, match=r"notes\.zip: Alpha/character01/1\.png: not a readable image"):
        load_omniglot(archive)

    damaged = tmp_path / "damaged.zip"
    with zipfile.ZipFile(damaged, "w") as z:  # stored, not compressed: the PNG's bytes are in the file as they are
        z.writestr("Alpha/character01/0.png", good.read_bytes())
    raw = bytearray(damaged.read_bytes())
    start = raw.index(b"IHDR")
    raw[start] ^= 0xFF  # a flipped byte: the member no longer matches its CRC
    damaged.write_bytes(bytes(raw))
    with pytest.raises(DataFormatError, match=r"damaged\.zip: Alpha/character01/0\.png: cannot be read from the zip"):
        load_omniglot(damaged)


def test_omniglot_reads_one_alphabet_given_as_a_string(tmp_path: Path) -> None:
    archive = tmp_path / "three.zip"
    png = tmp_path / "blank.png"
    Image.fromarray(np.zeros((105, 105), dtype=np.uint8)).save(png)
    with zipfile.ZipFile(archive, "w") as z:
        for alphabet in ("Greek", "Latin", "Korean"):
            z.write(png, f"root/{alphabet}/character01/0.png")
    assert load_omniglot(archive, alphabets="Korean", rotations=(0,)).alphabets == ["Korean"]
    assert load_omniglot(archive, exclude_alphabets="Greek", rotations=(0,)).alphabets == ["Korean", "Latin"]
    train, test = omniglot_split(archive, test_alphabets="Latin", rotations=(0,))
    assert (train.alphabets, test.alphabets) == (["Greek", "Korean"], ["Latin"])
    for rotations in ("90", [90.5], [True]):
        with pytest.raises(ValueError, match=f"rotations must be .*got {re.escape(repr(rotations))}"):
            load_omniglot(archive, rotations=rotations)  # type: ignore[arg-type]
