"""A bool inside a task's features is refused, naming the field and its index: pydantic read
``True`` as 1.0, a flag taken for a measurement, as it refuses ``features=True`` itself."""

from __future__ import annotations

import numpy as np
import pytest

from toolrouter.models import TaskProfile


@pytest.mark.parametrize(
    "features, index, value",
    [([True, 0.5], 0, "True"), ((0.5, np.bool_(False)), 1, "np.False_"), (np.array([1.0, True], dtype=object), 1, "True"),
     (np.array([True, False]), 0, "True")],
)
def test_a_bool_inside_features_is_refused_naming_its_index(features, index, value) -> None:
    with pytest.raises(ValueError, match=rf"features\[{index}\]: expected a number, not a bool, got {value}"):
        TaskProfile(task_id="t", features=features)


def test_numbers_of_any_kind_are_still_taken() -> None:
    assert TaskProfile(task_id="t", features=[1, 2.5, np.float32(0.5), np.int64(3)]).features == (1.0, 2.5, 0.5, 3.0)
    assert TaskProfile(task_id="t", features=np.array([1.0, 2.0])).features == (1.0, 2.0)
