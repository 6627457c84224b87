"""FewShotToolSelector's embedding methods take a list of texts and refuse one string, naming the
argument: its characters were embedded as that many texts (embed_queries("hello") gave 5 rows), and
None came back as no rows at all."""

from __future__ import annotations

import pytest

from toolrouter.features import HashingFeaturizer
from toolrouter.selection import FewShotToolSelector

SEL = FewShotToolSelector(HashingFeaturizer(dim=32))


@pytest.mark.parametrize("method, field", [(SEL.embed_queries, "queries"), (SEL.embed_descriptions, "descriptions"),
                                           (SEL.encoder_rows, "texts")])
@pytest.mark.parametrize("texts, error, message", [
    ("hello", TypeError, r": expected a list of strings, got str \('hello'\)"),
    (None, TypeError, r": expected a list of strings, got NoneType"),
    (["fine", 3], TypeError, r"\[1\]: expected a str, got int"),
    (["fine", "  "], ValueError, r"\[1\]: must be a non-empty string"),
])
def test_texts_that_are_not_a_list_of_texts_are_refused_naming_the_argument(method, field, texts, error, message) -> None:
    with pytest.raises(error, match=rf"^{field}{message}"):
        method(texts)


def test_lists_of_texts_are_embedded_one_row_each() -> None:
    assert SEL.embed_queries(["hello", "send an email"]).shape == (2, 32)
    assert SEL.embed_descriptions(("send an email",)).shape == (1, 32)
    assert SEL.encoder_rows(["hello"], is_description=True).shape == (1, 33)
    assert SEL.embed_queries([]).shape == (0, 32)
