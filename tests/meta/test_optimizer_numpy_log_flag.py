"""A range's log flag given as numpy's bool (a space read from an array or a table) is taken as the
bool it is: parse_parameter_space refused np.True_ with 'log must be True or False, got np.True_'."""

from __future__ import annotations

import numpy as np
import pytest

from meta.optimizer import parse_parameter_space


@pytest.mark.parametrize("flag", [np.True_, np.False_])
def test_a_numpy_bool_log_flag_is_taken(flag: np.bool_) -> None:
    space = parse_parameter_space({"lr": {"low": 1e-4, "high": 1e-1, "log": flag}})
    assert space["lr"].log is bool(flag)
