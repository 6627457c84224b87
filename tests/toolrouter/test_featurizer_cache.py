"""The featurizers' text cache: a batch larger than the cache, and threads that share one featurizer."""

from __future__ import annotations

import numpy as np

from toolrouter.features import SentenceEncoderFeaturizer


class LengthEncoder(SentenceEncoderFeaturizer):
    """The sentence encoder's cache and batching over a stand-in model: a text's vector is the
    one-hot of its length (mod 4); ``encoded`` lists every text the model was given."""

    def __init__(self, **options: object) -> None:
        super().__init__(**options)  # type: ignore[arg-type]
        self.encoded: list[str] = []

    @property
    def dim(self) -> int:
        return 4

    def _encode(self, texts: list[str]) -> np.ndarray:
        self.encoded += texts
        return np.eye(4)[[len(t) % 4 for t in texts]]


def test_a_batch_larger_than_the_cache_keeps_the_vectors_it_found_cached() -> None:
    # "a" was found cached, then evicted by "bb" before its row was filled: KeyError
    f = LengthEncoder(cache_size=1)
    f("a")
    np.testing.assert_array_equal(f.transform(["bb", "a", "bb"]), np.eye(4)[[2, 1, 2]])
    assert f.encoded == ["a", "bb"]  # "a" from the cache, "bb" encoded once
