"""``load_omniglot(exclude_alphabets=...)`` given a generator: the check that no alphabet is both
kept and excluded spent it, and then nothing was excluded, without a word: a held-out alphabet
was loaded with the others."""

from __future__ import annotations

from meta.data.omniglot import load_omniglot, omniglot_split


def test_alphabets_excluded_by_a_generator_are_left_out(omniglot_zip) -> None:  # type: ignore[no-untyped-def]
    archive = omniglot_zip(["Greek", "Latin"])
    assert load_omniglot(archive, rotations=(0,), exclude_alphabets=(a for a in ["Greek"])).alphabets == ["Latin"]
    train, test = omniglot_split(archive, test_alphabets=(a for a in ["Greek"]), rotations=(0,))
    assert train.alphabets == ["Latin"] and test.alphabets == ["Greek"]
