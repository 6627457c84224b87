"""Omniglot options that named nothing or the same thing twice: an excluded alphabet the data does
not have, and two rotations by the same angle; rotations given as an array or a tensor."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from meta.data.omniglot import load_omniglot, omniglot_split


@pytest.fixture()
def archive(omniglot_zip) -> Path:  # type: ignore[no-untyped-def]
    return omniglot_zip(["Greek", "Latin"])


def test_an_excluded_alphabet_that_is_not_in_the_data_is_refused(archive: Path) -> None:
    with pytest.raises(KeyError, match=r"exclude_alphabets: \['Grek'\] not found in .*its alphabets: \['Greek', 'Latin'\]"):
        load_omniglot(archive, rotations=(0,), exclude_alphabets=["Grek"])
    assert load_omniglot(archive, rotations=(0,), exclude_alphabets=["Greek"]).alphabets == ["Latin"]


@pytest.mark.parametrize("rotations", [(0, 360), (90, -270), (180, 180)])
def test_two_rotations_by_one_angle_are_refused(archive: Path, rotations: tuple[int, ...]) -> None:
    # each would be a class of its own, named alike and holding the same images
    with pytest.raises(ValueError, match=r"rotations must name each angle once \(modulo 360\)"):
        load_omniglot(archive, rotations=rotations)


def test_an_alphabet_both_kept_and_excluded_is_refused(archive: Path) -> None:
    # it was excluded, then reported as not found although the data has it
    with pytest.raises(ValueError, match=r"^alphabets and exclude_alphabets both name \['Greek'\]"):
        load_omniglot(archive, rotations=(0,), alphabets=["Greek", "Latin"], exclude_alphabets="Greek")


@pytest.mark.parametrize("make", [np.array, torch.tensor])
def test_rotations_in_an_array_or_a_tensor_are_the_angles_they_hold(archive: Path, make) -> None:  # type: ignore[no-untyped-def]
    # the truth value of an array of several angles is ambiguous: numpy and torch raised their own error
    data = load_omniglot(archive, rotations=make([0, -90]), alphabets="Greek")
    expected = load_omniglot(archive, rotations=[0, 270], alphabets="Greek")
    assert data.class_names == expected.class_names and torch.equal(data.images, expected.images)
    with pytest.raises(ValueError, match="rotations must be a non-empty list of multiples of 90"):
        load_omniglot(archive, rotations=make([0, 45]))


def test_an_empty_list_of_alphabets_to_keep_or_test_on_is_named(archive: Path) -> None:
    # it kept nothing, and the files were blamed: "no Omniglot images found in ..."
    with pytest.raises(ValueError, match="alphabets is empty"):
        load_omniglot(archive, alphabets=[])
    with pytest.raises(ValueError, match="test_alphabets is empty"):
        omniglot_split(archive, test_alphabets=[])
    # a generator of names is read once, not used up by the checks
    assert load_omniglot(archive, rotations=(0,), alphabets=(a for a in ["Greek"])).alphabets == ["Greek"]
