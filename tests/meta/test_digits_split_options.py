"""``load_digits_split`` checks its arguments as every number argument is checked, before any work:
``random_state=True`` was taken as seed 1, a test_size given as a string raised "'<' not supported
between instances of 'float' and 'str'", and a seed outside scikit-learn's range raised its own
error naming ``train_test_split``."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("sklearn")

from meta.data.digits import load_digits_split  # noqa: E402


@pytest.mark.parametrize("value", [True, "0.3", 0.0, 1.0, float("nan")], ids=repr)
def test_a_test_size_that_is_no_fraction_is_refused(value: Any) -> None:
    with pytest.raises(ValueError, match=r"^test_size: expected a finite number in \(0, 1\), got "):
        load_digits_split(test_size=value)


@pytest.mark.parametrize("value", [True, -1, 2**32, 1.5], ids=repr)
def test_a_random_state_that_is_no_seed_is_refused(value: Any) -> None:
    with pytest.raises(ValueError, match=r"^random_state: expected an integer in \[0, 4294967295\], got "):
        load_digits_split(random_state=value)


def test_the_split_is_the_same_for_a_seed() -> None:
    a, b = load_digits_split(random_state=3), load_digits_split(test_size=0.3, random_state=3)
    assert a.x_test.equal(b.x_test) and len(a.x_test) == 540
