"""A selector holds no size a saved selector may not: ``hidden`` or ``lora_rank`` above
``MAX_SAVED_DIM``, or a featurizer that long, was accepted, and the selector trained and saved,
then refused at load as corrupt."""

from __future__ import annotations

import json

import numpy as np
import pytest
from pydantic import ValidationError

from toolrouter.errors import CorruptStateError
from toolrouter.features import HashingFeaturizer
from toolrouter.selection import FewShotToolSelector, SelectorConfig
from toolrouter.serialization import MAX_SAVED_DIM


@pytest.mark.parametrize("field", ["hidden", "lora_rank"])
def test_a_size_above_what_a_saved_selector_holds_is_refused_when_configured(field) -> None:
    with pytest.raises(ValidationError, match=rf"{field}\n  Input should be less than or equal to {MAX_SAVED_DIM}"):
        SelectorConfig(**{field: MAX_SAVED_DIM + 1})


def test_the_largest_size_saves_and_loads_and_a_file_beyond_it_is_corrupt(tmp_path, one_torch_thread) -> None:
    sel = FewShotToolSelector(HashingFeaturizer(dim=4), SelectorConfig(hidden=MAX_SAVED_DIM, description_tower=False))
    sel.add_tool("mail", "send an email")
    sel.add_tool("maps", "directions to a place")
    sel.save(tmp_path)
    np.testing.assert_array_equal(FewShotToolSelector.load(tmp_path).scores(["email Bob"]), sel.scores(["email Bob"]))
    meta = json.loads((tmp_path / "selector.json").read_text())
    meta["config"]["hidden"] = MAX_SAVED_DIM + 1
    (tmp_path / "selector.json").write_text(json.dumps(meta))
    with pytest.raises(CorruptStateError, match=r"selector\.config\.hidden: Input should be less than or equal to 65536"):
        FewShotToolSelector.load(tmp_path)


class Features:
    """A featurizer of any declared ``dim``, 0, a bool or a float among them."""

    def __init__(self, dim: object) -> None:
        self.dim = dim

    def __call__(self, text: str) -> np.ndarray:
        return np.ones(3)

    def transform(self, texts) -> np.ndarray:
        return np.ones((len(texts), 3))


@pytest.mark.parametrize("dim", [MAX_SAVED_DIM + 1, 0, True, 3.0])
def test_a_featurizer_dim_a_saved_selector_cannot_hold_is_refused_when_built(dim) -> None:
    # 0, True and 3.0 built a selector too, and -1 raised torch's "negative dimension"
    with pytest.raises(ValueError, match=rf"^featurizer\.dim: expected an integer in \[1, {MAX_SAVED_DIM}\], got {dim!r}"):
        FewShotToolSelector(Features(dim))
