"""HashingFeaturizer hashed every character n-gram of a text however long: a 1 MB text without
repeats (a hex dump, base64) took most of a minute, on the router's path to a decision, and every
one of its words, however long, stayed in the per-word cache (a 1 MB word held 55 MB there). It now
reads a text's first MAX_CHARS characters, as MiniLM reads its first 256 tokens, and caches the
n-grams of short words only."""

from __future__ import annotations

import numpy as np

from toolrouter.features import HashingFeaturizer


def test_a_long_text_is_read_up_to_max_chars() -> None:
    f = HashingFeaturizer(dim=64)
    limit = HashingFeaturizer.MAX_CHARS
    text = "".join(f"w{i:05d} " for i in range(limit // 3))  # twice the limit, no word repeated
    np.testing.assert_array_equal(f(text), f(text[:limit]))
    assert f.tokens(text) == f.tokens(text[:limit])
    assert not np.array_equal(f(text[: limit // 2]), f(text[:limit]))  # the first MAX_CHARS all count


def test_long_words_are_not_kept_in_the_word_cache() -> None:
    f = HashingFeaturizer(dim=64)
    f("please check the digest " + "ab12" * 500)
    assert "please" in f._words and not any(len(word) > 32 for word in f._words)
