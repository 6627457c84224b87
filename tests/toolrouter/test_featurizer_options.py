"""Building featurizers: a combined featurizer does not load its parts (a sentence encoder loads
on its first text, not when it is combined), ``char_ngrams`` is checked naming each bound, and
``dim`` is bounded (a huge one was taken, to run out of memory at the first call)."""

from __future__ import annotations

import numpy as np
import pytest

from toolrouter.features import CombinedFeaturizer, HashingFeaturizer


class CountsDimReads:
    """A featurizer whose ``dim`` is costly, as a sentence encoder's is (it loads the model)."""

    def __init__(self) -> None:
        self.dim_reads = 0

    @property
    def dim(self) -> int:
        self.dim_reads += 1
        return 3

    def __call__(self, text: str) -> np.ndarray:
        return np.ones(3)

    def transform(self, texts):
        return np.ones((len(texts), 3))


def test_combining_a_featurizer_does_not_read_its_dim_until_it_is_used() -> None:
    part = CountsDimReads()
    combined = CombinedFeaturizer([(part, 1.0), (HashingFeaturizer(dim=4), 1.0)])
    assert part.dim_reads == 0
    assert combined("hello").shape == (7,)
    assert part.dim_reads > 0


def test_a_part_that_is_no_featurizer_is_still_refused() -> None:
    with pytest.raises(TypeError, match=r"^parts\[0\]: expected a \(Featurizer, weight\) pair"):
        CombinedFeaturizer([(object(), 1.0)])


@pytest.mark.parametrize(
    "char_ngrams, message",
    [((3,), r"^char_ngrams must be \(low, high\)"), ("ab", r"^char_ngrams must be \(low, high\)"),
     ((True, 4), r"^char_ngrams\[0\]: expected an integer >= 1, got True"),
     ((2, 4.0), r"^char_ngrams\[1\]: expected an integer >= 1, got 4.0"),
     ((4, 2), r"^char_ngrams must be \(low, high\) with 1 <= low <= high, got \(4, 2\)")],
)
def test_char_ngrams_that_are_not_two_ordered_lengths_are_refused_naming_them(char_ngrams, message) -> None:
    with pytest.raises(ValueError, match=message):
        HashingFeaturizer(dim=8, char_ngrams=char_ngrams)


@pytest.mark.parametrize("dim", [10**12, 2**24 + 1])
def test_a_dim_no_vector_fits_in_memory_is_refused_when_the_featurizer_is_made(dim) -> None:
    with pytest.raises(ValueError, match=rf"^dim: expected an integer in \[1, 16777216\], got {dim}$"):
        HashingFeaturizer(dim=dim)


def test_the_largest_dim_is_taken() -> None:
    assert HashingFeaturizer(dim=2**24).dim == 2**24


def test_char_ngrams_given_as_a_list_of_numpy_ints_are_kept_as_a_tuple_of_ints() -> None:
    f = HashingFeaturizer(dim=8, char_ngrams=[np.int64(2), np.int64(3)])
    assert f.char_ngrams == (2, 3) and all(type(n) is int for n in f.char_ngrams)
    assert np.array_equal(f("hello world"), HashingFeaturizer(dim=8, char_ngrams=(2, 3))("hello world"))


def test_the_cache_keeps_vectors_not_long_texts() -> None:
    # a cache of cache_size agent requests held every request's text as its key: memory grew with
    # the texts' length, not with the vectors'
    import gc
    import tracemalloc

    f = HashingFeaturizer(dim=16, cache_size=1000)
    f("warm up the word cache")
    long_texts = 40
    gc.collect()
    tracemalloc.start()
    try:
        for i in range(long_texts):
            text = "." * 100_000 + f" request {i}"  # 100 kB, cheap to featurise: three words
            assert f(text) is f(text)  # cached all the same
        gc.collect()
        retained, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert retained < long_texts * 100_000 / 10, retained
    short = "a short request"
    assert f(short) is f(short)
