"""``load_omniglot(rotations=...)`` given a generator: the check of the angles spent it, so no
angle was left and the data came back empty (0 classes, 0 images) without a word; a number where
the list belongs raised a bare "'int' object is not iterable"."""

from __future__ import annotations

import pytest

from meta.data.omniglot import load_omniglot, omniglot_split


def test_rotations_given_as_a_generator_make_their_classes(omniglot_zip) -> None:  # type: ignore[no-untyped-def]
    data = load_omniglot(omniglot_zip(["Greek"]), rotations=(r for r in [0, 90]))
    assert data.class_names == ["Greek/character01/rot0", "Greek/character01/rot90"] and len(data.labels) == 2


def test_a_number_for_rotations_is_refused_naming_it(omniglot_zip) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=r"^rotations must be a non-empty list of multiples of 90, got 90$"):
        load_omniglot(omniglot_zip(["Greek"]), rotations=90)  # type: ignore[arg-type]


def test_omniglot_split_gives_both_splits_every_rotation_of_a_generator(omniglot_zip) -> None:  # type: ignore[no-untyped-def]
    # it loads twice: the test split spent the generator and the train split was refused for no angle
    train, test = omniglot_split(omniglot_zip(["Greek", "Latin"]), test_alphabets=["Latin"], rotations=(r for r in [0, 90]))
    assert train.class_names == ["Greek/character01/rot0", "Greek/character01/rot90"]
    assert test.class_names == ["Latin/character01/rot0", "Latin/character01/rot90"]
