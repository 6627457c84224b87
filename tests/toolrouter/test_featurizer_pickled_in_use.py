"""A featurizer pickles and copies while other threads featurize texts with it (a router copied or
sent to a worker process while it serves): its text cache was pickled as it changed, and the
pickling raised "OrderedDict mutated during iteration" (and its per-word memo "dictionary changed
size during iteration"). The cache is copied under its lock; the memo, recomputed identically, is
left out."""

from __future__ import annotations

import copy
import pickle

import numpy as np

from toolrouter.features import HashingFeaturizer


class _TextThatFeaturizesWhilePickled(str):
    """A text whose pickling featurizes another text with the featurizer, as another thread would
    at that moment."""

    featurizer: HashingFeaturizer

    def __reduce_ex__(self, protocol: object) -> object:
        self.featurizer(f"another request {len(self.featurizer._cache)}")
        return str, (str(self),)


def test_a_featurizer_pickles_and_copies_while_its_cache_changes() -> None:
    featurizer = HashingFeaturizer(dim=32)
    text = _TextThatFeaturizesWhilePickled("weather in Paris")
    text.featurizer = featurizer
    expected = featurizer(text).copy()
    for again in (pickle.loads(pickle.dumps(featurizer)), copy.deepcopy(featurizer)):
        assert np.array_equal(again("weather in Paris"), expected)
        assert np.array_equal(again("weather in Rome"), featurizer("weather in Rome"))
