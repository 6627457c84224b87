"""A selector saved with a subclass of one of our featurizers records what it really is: it was saved
as the built-in type, rebuilt as that at load, and refused as "not the one the selector was saved
with" without a word of which featurizer to pass."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from toolrouter.features import CombinedFeaturizer, HashingFeaturizer
from toolrouter.selection import FewShotToolSelector

NAME = f"{__name__}.Shouting"


class Shouting(HashingFeaturizer):
    """Hashed features of the text followed by its reverse: another space than the built-in one."""

    def transform(self, texts):
        return super().transform([f"{t} {t[::-1]}" for t in texts])


def selector(featurizer) -> FewShotToolSelector:  # type: ignore[no-untyped-def]
    sel = FewShotToolSelector(featurizer)
    sel.add_tool("calc", "a calculator for arithmetic", ["what is 2 plus 2"])
    sel.add_tool("mail", "send an email", ["email Bob the report"])
    return sel


@pytest.mark.parametrize("wrap", [False, True])
def test_a_subclass_is_named_at_load_and_loads_when_passed(tmp_path: Path, wrap: bool) -> None:
    featurizer = Shouting(dim=64)
    sel = selector(CombinedFeaturizer([(featurizer, 1.0)]) if wrap else featurizer)
    sel.save(tmp_path)
    name = rf"toolrouter.features.CombinedFeaturizer\({NAME}\)" if wrap else NAME
    with pytest.raises(ValueError, match=rf"^featurizer: the saved selector used a custom featurizer, a {name}; pass it to load\(\)"):
        FewShotToolSelector.load(tmp_path)
    with pytest.raises(ValueError, match=rf"^featurizer: the saved selector used a custom featurizer, a {name}; pass"):
        FewShotToolSelector.from_bytes(sel.to_bytes())
    loaded = FewShotToolSelector.load(tmp_path, featurizer=sel.featurizer)
    np.testing.assert_allclose(loaded.scores(["email Ann"]), sel.scores(["email Ann"]), atol=1e-6)


def test_another_featurizer_is_refused_naming_the_saved_class(tmp_path: Path) -> None:
    selector(Shouting(dim=64)).save(tmp_path)
    with pytest.raises(ValueError, match=rf"^featurizer: not the one the selector was saved with, a {NAME} \("):
        FewShotToolSelector.load(tmp_path, featurizer=HashingFeaturizer(dim=64))
