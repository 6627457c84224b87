"""What a saved selector records of its featurizer and its tools: a spec whose dim contradicts the
saved dim is a damaged file (no featurizer passed would load it); a combined featurizer with a
custom part names its parts' classes, so that the error says which part to pass; and a blank tool id
or text, which add_tool refuses, is a damaged file too (it loaded), as are fine-tuned layers saved
beside a featurizer spec that has none. A saved model folder that is not on this machine names the
saved selector it was read from. A weights digest that is not one is named as such (null skipped the
check, and a number was taken for a save cut short). A saved text edited away from its saved
embedding, with the featurizer its spec rebuilds, is a damaged file, not a wrong featurizer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from toolrouter import CorruptStateError
from toolrouter.features import CombinedFeaturizer, HashingFeaturizer
from toolrouter.selection import FewShotToolSelector


class _OwnHashing(HashingFeaturizer):
    """A custom featurizer: a subclass of ours is not rebuilt from a spec."""


def _saved(tmp_path: Path, featurizer: HashingFeaturizer | CombinedFeaturizer) -> Path:
    sel = FewShotToolSelector(featurizer)
    sel.add_tool("search", "search the web", ["find the weather"])
    return sel.save(tmp_path / "sel")


def test_a_spec_whose_dim_contradicts_the_saved_dim_is_a_damaged_file(tmp_path: Path) -> None:
    folder = _saved(tmp_path, HashingFeaturizer(dim=32))
    meta = json.loads((folder / "selector.json").read_text())
    meta["featurizer"]["dim"] = 64
    (folder / "selector.json").write_text(json.dumps(meta))
    with pytest.raises(CorruptStateError, match=rf"{str(folder)!r}: selector.featurizer: .*dim 64, and selector.dim is 32$"):
        FewShotToolSelector.load(folder)


def test_a_combined_featurizer_with_a_custom_part_names_the_parts(tmp_path: Path) -> None:
    folder = _saved(tmp_path, CombinedFeaturizer([(HashingFeaturizer(dim=16), 1.0), (_OwnHashing(dim=16, seed=1), 0.5)]))
    part = f"{__name__}._OwnHashing"
    recorded = json.loads((folder / "selector.json").read_text())["featurizer_class"]
    assert recorded == f"toolrouter.features.CombinedFeaturizer(toolrouter.features.HashingFeaturizer, {part})"
    with pytest.raises(ValueError, match=rf"custom featurizer, .*CombinedFeaturizer\(.*HashingFeaturizer, {part}\); pass it"):
        FewShotToolSelector.load(folder)


@pytest.mark.parametrize(
    ("edit", "field"),
    [({"tool_id": " "}, "tool_id"), ({"description": ""}, "description"), ({"examples": ["find the weather", "\n"]}, r"examples\[1\]")],
)
def test_a_blank_saved_text_is_a_damaged_file(tmp_path: Path, edit: dict, field: str) -> None:  # type: ignore[type-arg]
    folder = _saved(tmp_path, HashingFeaturizer(dim=32))
    meta = json.loads((folder / "selector.json").read_text())
    meta["tools"][0].update(edit)
    (folder / "selector.json").write_text(json.dumps(meta))
    with pytest.raises(CorruptStateError, match=rf"^path: {str(folder)!r}: selector.tools\[0\].{field}: .*non-empty string"):
        FewShotToolSelector.load(folder)


def test_fine_tuned_layers_with_a_hashing_spec_is_a_damaged_file(tmp_path: Path) -> None:
    folder = _saved(tmp_path, HashingFeaturizer(dim=32))
    meta = json.loads((folder / "selector.json").read_text())
    meta["config"]["finetune_layers"] = 2
    (folder / "selector.json").write_text(json.dumps(meta))
    with pytest.raises(CorruptStateError, match=rf"^path: {str(folder)!r}: selector.config: finetune_layers 2 with a hashing featurizer"):
        FewShotToolSelector.load(folder)


def test_a_saved_model_folder_that_is_not_here_names_the_saved_selector(tmp_path: Path) -> None:
    folder = _saved(tmp_path, HashingFeaturizer(dim=32))
    meta = json.loads((folder / "selector.json").read_text())
    meta["featurizer"] = {"name": "minilm", "model_path": str(tmp_path / "gone"), "dtype": "float32"}
    (folder / "selector.json").write_text(json.dumps(meta))
    gone = str(tmp_path / "gone")
    with pytest.raises(FileNotFoundError, match=rf"^path: {str(folder)!r}: selector.featurizer: model_path: .*{gone!r}; pass load\(\)"):
        FewShotToolSelector.load(folder)


@pytest.mark.parametrize("digest", [None, 5, "abc", ["x"]])
def test_a_saved_weights_digest_that_is_not_one_is_named(tmp_path: Path, digest: object) -> None:
    folder = _saved(tmp_path, HashingFeaturizer(dim=32))
    meta = json.loads((folder / "selector.json").read_text())
    meta["weights_sha256"] = digest
    (folder / "selector.json").write_text(json.dumps(meta))
    with pytest.raises(CorruptStateError, match=rf"^path: {str(folder)!r}: selector.weights_sha256: expected a SHA-256 hex digest, got"):
        FewShotToolSelector.load(folder)


def test_a_saved_text_edited_away_from_its_embedding_is_a_damaged_file(tmp_path: Path) -> None:
    folder = _saved(tmp_path, HashingFeaturizer(dim=32))
    meta = json.loads((folder / "selector.json").read_text())
    meta["tools"][0]["examples"] = ["book a flight to Rome"]
    (folder / "selector.json").write_text(json.dumps(meta))
    with pytest.raises(CorruptStateError, match=rf"^path: {str(folder)!r}: selector.tools: a saved text of tool 'search' does not give"):
        FewShotToolSelector.load(folder)
