"""Omniglot paths given as a generator: the loader read them once, then named none in its errors
("not found in []"), having spent the generator; ``omniglot_split``, which loads twice, found
no path the second time ("paths is empty")."""

from __future__ import annotations

import pytest

from meta.data.omniglot import load_omniglot, omniglot_split


def test_paths_given_as_a_generator_are_read_and_named_in_errors(omniglot_zip) -> None:  # type: ignore[no-untyped-def]
    archive = omniglot_zip(["Greek"])
    assert load_omniglot((p for p in [archive]), rotations=(0,)).alphabets == ["Greek"]
    with pytest.raises(KeyError, match=rf"\['Klingon'\] not found in \['{archive}'\]"):
        load_omniglot((p for p in [archive]), alphabets=["Klingon"])  # the message named no path: []


def test_omniglot_split_reads_paths_given_as_a_generator(omniglot_zip) -> None:  # type: ignore[no-untyped-def]
    archive = omniglot_zip(["Greek", "Latin"])
    train, test = omniglot_split((p for p in [archive]), test_alphabets=["Latin"], rotations=(0,))
    assert train.alphabets == ["Greek"] and test.alphabets == ["Latin"]
