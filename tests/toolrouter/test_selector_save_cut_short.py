"""FewShotToolSelector.save writes each file beside its place and moves it there: a save cut short
by a full disk left half a selector.json over the one saved before, and the folder loaded no more.
A save cut short between its two files (new weights beside the old selector.json) loaded the mix
without a word; selector.json now records the digest of its weights, and load refuses the pair."""

from __future__ import annotations

import errno
import json
from pathlib import Path

import numpy as np
import pytest

import toolrouter.selection
from toolrouter.errors import CorruptStateError
from toolrouter.features import HashingFeaturizer
from toolrouter.selection import FewShotToolSelector

QUERIES = ["will it rain in Rome", "email the slides to Ann"]


class _DiskFull:
    """A file that takes half of what is written to it, then runs out of space."""

    def __init__(self, file) -> None:
        self.file = file

    def __enter__(self) -> "_DiskFull":
        return self

    def __exit__(self, *exc) -> None:
        self.file.close()

    def write(self, data) -> int:
        self.file.write(data[: len(data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")


def test_a_save_cut_short_leaves_the_selector_saved_before(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    saved = FewShotToolSelector(HashingFeaturizer(dim=32))
    saved.add_tool("weather", "weather forecast for a city", ["rain tomorrow in Paris"])
    saved.add_tool("mail", "send an email", ["email Bob the report"])
    saved.save(tmp_path)
    newer = FewShotToolSelector(HashingFeaturizer(dim=32))
    newer.add_tool("calc", "a calculator", ["what is 2 plus 2", "add 3 and 4"])

    real_open = Path.open

    def open_on_a_full_disk(self, mode="r", *args, **kwargs):
        file = real_open(self, mode, *args, **kwargs)
        return _DiskFull(file) if "w" in mode else file

    monkeypatch.setattr(Path, "open", open_on_a_full_disk)
    with pytest.raises(OSError, match="No space left on device"):
        newer.save(tmp_path)
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["selector.json", "selector.safetensors"]
    loaded = FewShotToolSelector.load(tmp_path)
    assert loaded.tool_ids == ["weather", "mail"]
    np.testing.assert_allclose(loaded.scores(QUERIES), saved.scores(QUERIES), atol=1e-6)


def test_new_weights_beside_the_old_json_are_refused_naming_both_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    saved = FewShotToolSelector(HashingFeaturizer(dim=32))
    saved.add_tool("weather", "weather forecast for a city", ["rain tomorrow in Paris"])
    saved.add_tool("mail", "send an email", ["email Bob the report"])
    saved.save(tmp_path)
    newer = FewShotToolSelector(HashingFeaturizer(dim=32))  # the same tools and shapes, other texts
    newer.add_tool("weather", "weather forecast for a city", ["rain tomorrow in Paris"])
    newer.add_tool("mail", "post a letter", ["mail the contract to Rome"])

    real_write = toolrouter.selection.write_atomically

    def killed_before_the_json(path, data):
        if Path(path).name == "selector.json":
            raise KeyboardInterrupt  # the process stopped between the two files
        return real_write(path, data)

    monkeypatch.setattr(toolrouter.selection, "write_atomically", killed_before_the_json)
    with pytest.raises(KeyboardInterrupt):
        newer.save(tmp_path)
    monkeypatch.undo()
    with pytest.raises(CorruptStateError) as info:
        FewShotToolSelector.load(tmp_path)
    message = str(info.value)
    assert message.startswith(f"path: {str(tmp_path)!r}: ")
    assert "selector.safetensors is not the one selector.json was saved with" in message
    # saving again makes a whole pair, which loads
    newer.save(tmp_path)
    loaded = FewShotToolSelector.load(tmp_path)
    np.testing.assert_allclose(loaded.scores(QUERIES), newer.scores(QUERIES), atol=1e-6)


def test_a_folder_saved_before_the_json_recorded_its_weights_digest_still_loads(tmp_path: Path) -> None:
    saved = FewShotToolSelector(HashingFeaturizer(dim=32))
    saved.add_tool("weather", "weather forecast for a city", ["rain tomorrow in Paris"])
    saved.save(tmp_path)
    meta = json.loads((tmp_path / "selector.json").read_text())
    assert len(meta.pop("weights_sha256")) == 64
    (tmp_path / "selector.json").write_text(json.dumps(meta))
    np.testing.assert_allclose(FewShotToolSelector.load(tmp_path).scores(QUERIES), saved.scores(QUERIES), atol=1e-6)
