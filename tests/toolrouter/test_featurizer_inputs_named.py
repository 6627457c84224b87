"""Featurizer inputs that are not what they take are named: ``HashingFeaturizer.tokens`` of a value
that is no string failed with "'NoneType' object has no attribute 'isascii'" (``__call__`` and
``transform`` named the text already), and a ``SentenceEncoderFeaturizer`` model path that is no
path with os.fspath's wording, naming no argument. ``transform`` of a set or a mapping is refused:
the rows came in no order the caller knows."""

from __future__ import annotations

import numpy as np
import pytest

from toolrouter.features import CombinedFeaturizer, HashingFeaturizer, SentenceEncoderFeaturizer


@pytest.mark.parametrize("text", [None, b"bytes", 5])
def test_tokens_of_a_value_that_is_no_text_name_the_text(text) -> None:
    with pytest.raises(TypeError, match=r"text: expected a str, got"):
        HashingFeaturizer(dim=8).tokens(text)


def test_tokens_of_a_text_are_those_hashed() -> None:
    assert HashingFeaturizer(dim=8, char_ngrams=None).tokens("Hello world") == ["w:hello", "w:world", "b:hello world"]


@pytest.mark.parametrize("path", [5, b"/models/minilm", ["/models/minilm"]])
def test_a_model_path_that_is_no_path_is_named(path) -> None:
    with pytest.raises(TypeError, match=r"model_path: expected a folder's path \(str or os.PathLike\), got"):
        SentenceEncoderFeaturizer(model_path=path)


@pytest.mark.parametrize("texts", [{"a b", "c d"}, frozenset({"a b"}), {"a b": 0, "c d": 1}])
@pytest.mark.parametrize("featurizer", [HashingFeaturizer(dim=8), CombinedFeaturizer([(HashingFeaturizer(dim=8), 1.0)])])
def test_transform_of_a_set_or_a_mapping_is_refused_naming_the_texts(featurizer, texts) -> None:
    # a set's rows came in an order the caller could not match to its texts; a mapping's were its keys
    with pytest.raises(TypeError, match=rf"^texts: expected a list of strings, in order, got a {type(texts).__name__} "):
        featurizer.transform(texts)


def test_transform_of_an_ordered_iterable_is_taken_row_by_row() -> None:
    f = HashingFeaturizer(dim=8)
    texts = {"a b": 0, "c d": 1}
    assert np.array_equal(f.transform(texts.keys()), np.stack([f("a b"), f("c d")]))
    assert np.array_equal(f.transform(t for t in ("c d", "a b")), np.stack([f("c d"), f("a b")]))
