"""HashingFeaturizer split words at every combining mark and dropped the mark: a Devanagari vowel
sign or virama, a Thai vowel, an Arabic haraka is no word character. "नमस्ते दुनिया" was hashed as
the words "नमस", "त", "द", "न", "य", and "कमी" (a shortage) had the very vector of "कम" (less).
Marks now stay within their words."""

from __future__ import annotations

import numpy as np

from toolrouter.features import HashingFeaturizer


def test_combining_marks_stay_within_their_words() -> None:
    f = HashingFeaturizer(dim=64)
    words = [t for t in f.tokens("नमस्ते दुनिया") if t.startswith("w:")]
    assert words == ["w:नमस्ते", "w:दुनिया"]
    assert [t for t in f.tokens("مَرْحَبًا") if t.startswith("w:")] == ["w:مَرْحَبًا"]
    assert float(f("कम") @ f("कमी")) < 0.9  # two words, two vectors
    # accents that compose are one word as before, and ASCII text is split as before
    np.testing.assert_array_equal(f("Re\u0301sume\u0301"), f("R\u00e9sum\u00e9"))
    assert [t for t in f.tokens("Email_2 Bob-now") if t.startswith("w:")] == ["w:email_2", "w:bob", "w:now"]
