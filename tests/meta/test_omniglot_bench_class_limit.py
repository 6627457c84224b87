"""The Omniglot section's ``--max-train-classes``: the recipe's characters (each makes 4 rotated
classes) were ``N // 4``, so a limit of 1 to 3 was 0, which means no limit (every character); and
the limited data kept every alphabet's name, so the section's summary line named alphabets it had
cut."""

from __future__ import annotations

from meta.data.omniglot import load_omniglot
from toolrouter.bench._meta_omniglot import _limit_classes


def test_a_limit_under_the_rotations_keeps_one_character_not_all(omniglot_zip) -> None:  # type: ignore[no-untyped-def]
    data = load_omniglot(omniglot_zip(["Greek", "Latin", "Tagalog"]), rotations=(0,))
    assert _limit_classes(data, 2, made_per_class=4).class_names == ["Greek/character01/rot0"]
    assert _limit_classes(data, 8, made_per_class=4).n_classes == 2
    assert _limit_classes(data, 0, made_per_class=4) is data  # 0: all


def test_the_limited_data_names_only_its_alphabets(omniglot_zip) -> None:  # type: ignore[no-untyped-def]
    data = load_omniglot(omniglot_zip(["Greek", "Latin", "Tagalog"]), rotations=(0, 90))
    part = _limit_classes(data, 4)
    assert part.class_names == ["Greek/character01/rot0", "Greek/character01/rot90", "Latin/character01/rot0", "Latin/character01/rot90"]
    assert part.alphabets == ["Greek", "Latin"] and sorted(set(part.labels.tolist())) == [0, 1, 2, 3]
