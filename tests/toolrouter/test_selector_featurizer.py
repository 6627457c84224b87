"""A saved selector loaded with a featurizer other than its own (even one of the same dim) is
refused naming the featurizer: it put requests in another space than the saved prototypes and
routed them at random, without a word."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from safetensors.torch import load as load_bytes
from safetensors.torch import save as save_bytes

from toolrouter.features import HashingFeaturizer
from toolrouter.selection import FewShotToolSelector, SelectorConfig
from toolrouter.serialization import read_blob

QUERY = "please email the report to Alice"


def selector(examples: bool = True) -> FewShotToolSelector:
    sel = FewShotToolSelector(HashingFeaturizer(dim=64))
    sel.add_tool("calc", "a calculator for arithmetic", ["what is 2 plus 2"] if examples else ())
    sel.add_tool("mail", "send an email", ["email Bob the report"] if examples else ())
    return sel


@pytest.mark.parametrize("examples", [True, False])
def test_load_with_another_featurizer_is_refused_and_with_its_own_routes_the_same(tmp_path: Path, examples: bool) -> None:
    sel = selector(examples)
    sel.save(tmp_path)
    assert FewShotToolSelector.load(tmp_path, featurizer=HashingFeaturizer(dim=64)).rank(QUERY) == sel.rank(QUERY)
    with pytest.raises(ValueError, match=r"featurizer: not the one the selector was saved with"):
        FewShotToolSelector.load(tmp_path, featurizer=HashingFeaturizer(dim=64, seed=3))
    with pytest.raises(ValueError, match=r"featurizer: not the one the selector was saved with"):
        FewShotToolSelector.from_bytes(sel.to_bytes(), featurizer=HashingFeaturizer(dim=64, char_ngrams=(3, 4)))


@pytest.mark.parametrize("featurizer", [64, "hashing", HashingFeaturizer(dim=64).__call__])
def test_load_names_a_featurizer_that_is_not_one(tmp_path: Path, featurizer: object) -> None:
    # its dim was read first: AttributeError: 'int' object has no attribute 'dim'
    sel = selector()
    sel.save(tmp_path)
    with pytest.raises(TypeError, match=r"^featurizer: expected a Featurizer \(dim, __call__, transform\), got "):
        FewShotToolSelector.load(tmp_path, featurizer=featurizer)
    with pytest.raises(TypeError, match=r"^featurizer: expected a Featurizer"):
        FewShotToolSelector.from_bytes(sel.to_bytes(), featurizer=featurizer)


def trained_without_tools() -> FewShotToolSelector:
    sel = FewShotToolSelector(HashingFeaturizer(dim=64), SelectorConfig(hidden=8, calibrate=False))
    examples = {"mail": ["email Bob", "send a mail to Ann"], "maps": ["route to Lyon", "directions home"]}
    sel.fit(examples, episodes=2, n_way=2, k_shot=1, register=False)
    return sel


def test_a_selector_without_tools_loads_only_with_its_featurizer(tmp_path: Path) -> None:
    # no saved text told: its encoder, trained on one featurizer's features, took another's
    sel = trained_without_tools()
    sel.save(tmp_path)
    with pytest.raises(ValueError, match=r"^featurizer: not the one the selector was saved with"):
        FewShotToolSelector.load(tmp_path, featurizer=HashingFeaturizer(dim=64, seed=3))
    with pytest.raises(ValueError, match=r"^featurizer: not the one the selector was saved with"):
        FewShotToolSelector.from_bytes(sel.to_bytes(), featurizer=HashingFeaturizer(dim=64, seed=3))
    loaded = FewShotToolSelector.load(tmp_path)  # its own, rebuilt from the saved spec
    loaded.add_tool("calc", "a calculator for arithmetic")
    sel.add_tool("calc", "a calculator for arithmetic")
    assert loaded.rank(QUERY) == sel.rank(QUERY)


def test_a_selector_saved_before_the_featurizer_vector_was_kept_loads_as_before() -> None:
    blob = trained_without_tools().to_bytes()
    key = "toolrouter.FewShotToolSelector/2"
    tensors = {k: v for k, v in load_bytes(blob).items() if k != "featurizer_probe"}
    old = save_bytes(tensors, metadata={key: json.dumps(read_blob(blob, key).config)})
    assert FewShotToolSelector.from_bytes(old, featurizer=HashingFeaturizer(dim=64, seed=3)).tool_ids == []
