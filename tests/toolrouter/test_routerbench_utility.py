"""``RouterBenchData.utility`` checks its weight as every number argument is checked: ``True`` was
taken as a weight of 1, and a string raised numpy's "ufunc 'isfinite' not supported" TypeError
naming neither the argument nor the value."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from toolrouter.data.routerbench import RouterBenchData

DATA = RouterBenchData(("a",), ("mbpp",), ("p",), ("m1", "m2"), np.array([[1.0, 0.5]]), np.array([[0.25, 0.5]]))


@pytest.mark.parametrize("weight", [True, "0.5", None, -1.0, float("nan"), float("inf")], ids=repr)
def test_a_weight_that_is_no_finite_number_at_least_0_is_refused(weight: Any) -> None:
    with pytest.raises(ValueError, match=r"^cost_weight: expected a finite number >= 0, got "):
        DATA.utility(weight)


def test_a_weight_gives_quality_less_weighted_cost() -> None:
    assert DATA.utility(2).tolist() == [[0.5, -0.5]] and DATA.utility(np.float32(0)).tolist() == [[1.0, 0.5]]
