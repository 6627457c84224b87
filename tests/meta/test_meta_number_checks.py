"""The one check of a whole number, and of a finite real number, that the modules share."""

from __future__ import annotations

import math

import numpy as np
import pytest

from meta._checks import check_count, check_real


@pytest.mark.parametrize("value", [True, False, np.bool_(True), 2.0, "2", None])
def test_a_count_refuses_bools_and_non_integers_naming_the_field_and_value(value) -> None:
    with pytest.raises(ValueError, match=rf"^steps: expected an integer >= 0, got {value!r}$"):
        check_count("steps", value)


def test_a_count_takes_numpy_integers_and_returns_a_python_int() -> None:
    for value in (np.int64(7), np.int8(7), np.uint8(7)):
        out = check_count("steps", value, low=1)
        assert out == 7 and type(out) is int


def test_a_count_includes_both_bounds_and_words_them() -> None:
    assert check_count("k", 1, low=1, high=3) == 1
    assert check_count("k", 3, low=1, high=3) == 3
    for value in (0, 4):
        with pytest.raises(ValueError, match=rf"^k: expected an integer in \[1, 3\], got {value}$"):
            check_count("k", value, low=1, high=3)
    with pytest.raises(ValueError, match=r"^k: expected an integer <= 3, got 4$"):
        check_count("k", 4, low=None, high=3)
    assert check_count("seed", -5, low=None) == -5


def test_a_count_raises_the_error_type_and_quotes_as_asked() -> None:
    with pytest.raises(TypeError, match=r"^seed: expected an integer, got <1\.5>$"):
        check_count("seed", 1.5, low=None, error=TypeError, quote=lambda v: f"<{v}>")


@pytest.mark.parametrize("value", [True, "1", None, math.nan, math.inf, -math.inf, np.float64("nan"), 10**400])
def test_a_real_refuses_bools_non_numbers_and_non_finite_numbers(value) -> None:
    with pytest.raises(ValueError, match=r"^lr: expected a finite number, got "):
        check_real("lr", value)


def test_a_real_takes_ints_and_numpy_numbers_and_returns_a_float() -> None:
    for value in (2, np.int64(2), np.float32(2.0), 2.0):
        out = check_real("lr", value)
        assert out == 2.0 and type(out) is float


def test_a_real_bounds_are_inclusive_unless_open() -> None:
    assert check_real("p", 0, low=0, high=1) == 0.0
    assert check_real("p", 1, low=0, high=1) == 1.0
    with pytest.raises(ValueError, match=r"^p: expected a finite number in \(0, 1\), got 1$"):
        check_real("p", 1, low=0, high=1, low_open=True, high_open=True)
    with pytest.raises(ValueError, match=r"^p: expected a finite number in \(0, 1\), got 0$"):
        check_real("p", 0, low=0, high=1, low_open=True, high_open=True)
    with pytest.raises(ValueError, match=r"^lr: expected a finite number > 0, got 0$"):
        check_real("lr", 0, low=0, low_open=True)
    with pytest.raises(ValueError, match=r"^lr: expected a finite number >= 0, got -0\.5$"):
        check_real("lr", -0.5, low=0)
    with pytest.raises(ValueError, match=r"^t: expected a finite number < 5, got 5$"):
        check_real("t", 5, high=5, high_open=True)
