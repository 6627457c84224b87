"""HashingFeaturizer on one text whose accents are written two ways (composed, or as a letter and a
combining mark as macOS writes them): the same words, the same vector (the mark split the word)."""

from __future__ import annotations

import numpy as np

from toolrouter.features import HashingFeaturizer


def test_a_text_has_one_vector_however_its_accents_are_encoded() -> None:
    decomposed, composed = "Re\u0301sume\u0301 the cafe\u0301 menu", "R\u00e9sum\u00e9 the caf\u00e9 menu"
    f = HashingFeaturizer(dim=64)
    assert "w:r\u00e9sum\u00e9" in f.tokens(decomposed)  # one word, not "re" and "sume"
    assert f.tokens(decomposed) == f.tokens(composed)
    np.testing.assert_array_equal(f(decomposed), f(composed))
