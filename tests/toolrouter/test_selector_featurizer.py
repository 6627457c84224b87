"""A saved selector loaded with a featurizer other than its own (even one of the same dim) is
refused naming the featurizer: it put requests in another space than the saved prototypes and
routed them at random, without a word."""

from __future__ import annotations

from pathlib import Path

import pytest

from toolrouter.features import HashingFeaturizer
from toolrouter.selection import FewShotToolSelector

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
