"""``CombinedFeaturizer`` parts that are no list, and ``make_featurizer`` names that are no string,
are refused naming the argument: they failed with "'int' object is not iterable" and "unhashable
type: 'list'"."""

from __future__ import annotations

import pytest

from toolrouter.features import CombinedFeaturizer, HashingFeaturizer, make_featurizer


@pytest.mark.parametrize("parts", [5, None, "hashing"])
def test_parts_that_are_no_list_are_named(parts) -> None:
    with pytest.raises(TypeError, match=r"parts: expected a list of \(featurizer, weight\) pairs, got"):
        CombinedFeaturizer(parts)


def test_parts_given_as_a_tuple_of_pairs_are_taken() -> None:
    parts = ((HashingFeaturizer(dim=4), 1.0), (HashingFeaturizer(dim=2, seed=1), 0.5))
    assert CombinedFeaturizer(parts).dim == 6


@pytest.mark.parametrize("name", [["hashing"], None, 5])
def test_a_featurizer_name_that_is_no_string_is_named(name) -> None:
    with pytest.raises(ValueError, match=r"featurizer: unknown name .*; choose from \['hashing', 'minilm', 'minilm\+hashing'\]"):
        make_featurizer(name)
