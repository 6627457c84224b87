"""Featurizer inputs that are not what they take are named: ``HashingFeaturizer.tokens`` of a value
that is no string failed with "'NoneType' object has no attribute 'isascii'" (``__call__`` and
``transform`` named the text already), and a ``SentenceEncoderFeaturizer`` model path that is no
path with os.fspath's wording, naming no argument."""

from __future__ import annotations

import pytest

from toolrouter.features import HashingFeaturizer, SentenceEncoderFeaturizer


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
