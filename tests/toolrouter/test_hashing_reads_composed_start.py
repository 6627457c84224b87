"""``HashingFeaturizer`` reads the first 8,192 characters of a text's composed form (NFC), but it
normalized the whole text first: a 10 MB text written with combining accents took seconds. It now
normalizes a start of the text cut where composition cannot reach across, and reads the same."""

from __future__ import annotations

import random
import unicodedata

import numpy as np

from toolrouter.features import _MAX_CHARS, HashingFeaturizer, _composed_start


def _expected(text: str) -> str:
    return unicodedata.normalize("NFC", text)[:_MAX_CHARS]


def _normalized_lengths(monkeypatch, text: str) -> tuple[np.ndarray, list[int]]:
    """``text``'s vector, and the lengths of the texts normalized to compute it."""
    normalize, read = unicodedata.normalize, []

    def recorded(form: str, s: str) -> str:
        read.append(len(s))
        return normalize(form, s)

    monkeypatch.setattr(unicodedata, "normalize", recorded)
    f = HashingFeaturizer(dim=64, cache_size=0)
    v = f(text)
    monkeypatch.undo()
    return v, read


def test_a_long_text_is_normalized_only_as_far_as_it_is_read(monkeypatch) -> None:
    text = "caf\u0065\u0301 " * 200_000  # 1.2 million characters, "e" and a combining acute accent
    v, read = _normalized_lengths(monkeypatch, text)
    assert max(read) < 4 * _MAX_CHARS
    np.testing.assert_array_equal(v, HashingFeaturizer(dim=64, cache_size=0)(_expected(text)))


def test_a_long_run_of_marks_is_cut(monkeypatch) -> None:
    # canonical reordering of marks of alternating classes is quadratic: 40,000 of them took a second
    _, read = _normalized_lengths(monkeypatch, "\u0f40" + "\u0f72\u0f71" * 20_000)
    assert max(read) < 2 * _MAX_CHARS


def test_a_cut_never_parts_what_composes() -> None:
    # at and around the 8,192nd character: a base and its marks, Hangul jamo (three make one
    # syllable), a Tamil vowel sign that composes with the letter before it, Greek with four parts
    pieces = ["e\u0301", "\u1f00\u0300\u0345", "\u1100\u1161\u11a8", "\u0bc6\u0bbe", "\u0f40\u0f72\u0f71", "a", " "]
    for shift in range(-3, 4):
        for piece in pieces:
            text = "x" * (_MAX_CHARS + shift) + piece * 3 + "y" * 10
            assert _composed_start(text) == _expected(text), (shift, piece)
            text = piece * (3 * _MAX_CHARS) + "z"
            assert _composed_start(text) == _expected(text), piece
    rng = random.Random(0)
    pool = [*"ae io", "\u00e9", "\u0301", "\u0323", "\u0345", "\u1161", "\u11a8", "\u1100", "\uac00", "\u0bbe", "\u0bc6"]
    for _ in range(20):
        text = "".join(rng.choices(pool, k=rng.choice([_MAX_CHARS, 2 * _MAX_CHARS, 5 * _MAX_CHARS])))
        assert _composed_start(text) == _expected(text)


def test_ordinary_text_has_the_vector_it_had() -> None:
    f = HashingFeaturizer(dim=256, cache_size=0)
    for text in ["Réserve un vol pour Zürich demain matin. " * 400, "検索してください。" * 2000, "नमस्ते दुनिया " * 1000]:
        expected = f(unicodedata.normalize("NFC", text)[:_MAX_CHARS])
        np.testing.assert_array_equal(f(text), expected)
