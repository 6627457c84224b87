"""A selector loaded with a featurizer of another length is refused naming the featurizer, both
lengths and where the selector was saved; a featurizer whose dim is not a whole number is named
too (int() failed on it naming nothing)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from toolrouter.features import HashingFeaturizer
from toolrouter.selection import FewShotToolSelector


class OddDim:
    dim = "sixteen"

    def __call__(self, text: str) -> np.ndarray:
        return np.ones(16)

    def transform(self, texts):  # type: ignore[no-untyped-def]
        return np.ones((len(texts), 16))


def test_a_featurizer_of_another_dim_is_refused_naming_both_and_the_folder(tmp_path) -> None:  # type: ignore[no-untyped-def]
    sel = FewShotToolSelector(HashingFeaturizer(dim=16))
    sel.add_tool("weather", "weather forecasts")
    sel.save(tmp_path)
    expected = f"featurizer: HashingFeaturizer makes vectors of dim 32, and the saved selector (path: {str(tmp_path)!r}) was trained on vectors of dim 16"
    with pytest.raises(ValueError, match=re.escape(expected)):
        FewShotToolSelector.load(tmp_path, featurizer=HashingFeaturizer(dim=32))
    with pytest.raises(ValueError, match=r"the saved selector \(data\) was trained on vectors of dim 16"):
        FewShotToolSelector.from_bytes(sel.to_bytes(), featurizer=HashingFeaturizer(dim=32))
    with pytest.raises(ValueError, match=r"^featurizer\.dim: .*'sixteen'"):
        FewShotToolSelector.load(tmp_path, featurizer=OddDim())
