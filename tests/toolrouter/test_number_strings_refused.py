"""toolrouter's own models refuse a number given as a string, as meta's configs do (``NumbersOnly``):
pydantic read ``timeout_s="1"`` as 1.0, a value read from a file or a command line and never
converted. The error names the field and the value; numbers (numpy's too) are still taken."""

from __future__ import annotations

import numpy as np
import pytest

from toolrouter import ExecutionResult, TaskProfile, ToolProfile, UtilityWeights
from toolrouter.attempts import CircuitBreakerConfig, ExecutorConfig, RetryPolicy
from toolrouter.drift import DetectorConfig
from toolrouter.selection import SelectorConfig
from toolrouter.structure import StructureConfig

CASES = [
    (ExecutorConfig, {}, "timeout_s", "1"),
    (RetryPolicy, {}, "base_delay_s", "0.5"),
    (CircuitBreakerConfig, {}, "failure_threshold", "3"),
    (UtilityWeights, {}, "cost", "0.2"),
    (ToolProfile, {"tool_id": "a"}, "cost_per_use", "0.01"),
    (TaskProfile, {"task_id": "t"}, "max_cost", "2.5"),
    (ExecutionResult, {"tool_id": "a", "success": True}, "latency_s", "0.5"),
    (DetectorConfig, {}, "threshold", "5"),
    (StructureConfig, {}, "ridge", "1.0"),
    (SelectorConfig, {}, "hidden", "32"),
]


@pytest.mark.parametrize(("model", "required", "field", "text"), CASES)
def test_a_number_string_is_refused_naming_the_field(model, required, field, text) -> None:
    with pytest.raises(ValueError, match=rf"{field}: expected a number, not a str, got '{text}'"):
        model(**required, **{field: text})
    number = float(text) if model.model_fields[field].annotation is not int else int(text)
    assert getattr(model(**required, **{field: np.float64(number) if isinstance(number, float) else number}), field) == number


def test_inside_a_field_too() -> None:
    with pytest.raises(ValueError, match=r"tool_timeouts_s\['search'\]: expected a number, not a str, got '5'"):
        ExecutorConfig(tool_timeouts_s={"search": "5"})
    with pytest.raises(ValueError, match=r"max_retries: expected a number, not a str, got '2'"):
        ExecutorConfig(retry={"max_retries": "2"})
    with pytest.raises(ValueError, match=r"features: expected real numbers, got \['1', '2'\]"):
        TaskProfile(task_id="t", features=["1", "2"])
    assert ExecutorConfig(tool_timeouts_s={"search": 5}).tool_timeouts_s == {"search": 5.0}
    assert TaskProfile(task_id="t", features=np.array([1, 2])).features == (1.0, 2.0)
