"""The integer fields of toolrouter's and meta's models take integers only (``NumbersOnly``, as
``check_count``): pydantic read ``max_retries=2.0`` as 2, and a saved ``compose_limit: 8.0``, damage,
loaded as 8. The error names the field and the value; numpy's integers are still taken, and a float
field still takes an integer."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from meta.continual import ContinualConfig
from meta.nas.space import NASSearchSpaceConfig
from meta.protonet_recipe import ProtoNetRecipe
from toolrouter import CorruptStateError, ToolMetaLearner, ToolProfile
from toolrouter.attempts import CircuitBreakerConfig, ExecutorConfig, RetryPolicy
from toolrouter.drift import DetectorConfig
from toolrouter.selection import SelectorConfig
from toolrouter.serialization import read_blob, write_blob
from toolrouter.structure import StructureConfig

CASES = [
    (RetryPolicy, "max_retries", 2.0),
    (CircuitBreakerConfig, "failure_threshold", np.float64(3)),
    (ExecutorConfig, "seed", 7.0),
    (ExecutorConfig, "max_concurrency", Decimal(2)),
    (StructureConfig, "compose_limit", 8.0),
    (SelectorConfig, "hidden", 32.0),
    (DetectorConfig, "recheck_after", 100.0),
    (ProtoNetRecipe, "n_way", 5.0),
    (ContinualConfig, "batch_size", 8.0),
]


@pytest.mark.parametrize(("model", "field", "value"), CASES)
def test_a_whole_float_is_refused_naming_the_field_and_an_integer_taken(model, field, value) -> None:
    with pytest.raises(ValueError, match=re.escape(f"{field}: expected an integer, not a {type(value).__name__}, got {value!r}")):
        model(**{field: value})
    taken = model(**{field: np.int64(int(value))})
    assert getattr(taken, field) == int(value) and type(getattr(taken, field)) is int


def test_a_float_field_still_takes_an_integer_and_none_is_still_none() -> None:
    assert RetryPolicy(base_delay_s=1).base_delay_s == 1.0
    assert ExecutorConfig(seed=None, max_concurrency=None).seed is None


def test_a_whole_float_set_later_is_refused_and_the_config_kept() -> None:
    config = ContinualConfig()
    with pytest.raises(ValueError, match=r"batch_size: expected an integer, not a float, got 16\.0"):
        config.batch_size = 16.0
    assert config.batch_size == ContinualConfig().batch_size


def test_a_whole_float_among_sizes_is_refused() -> None:
    with pytest.raises(ValueError, match=r"widths: expected whole numbers, not floats, got \(16\.0, 32\)"):
        NASSearchSpaceConfig(input_shape=(8,), num_classes=2, max_layers=2, widths=(16.0, 32))


def test_a_saved_whole_float_is_damage_not_an_integer(tmp_path: Path) -> None:
    blob = read_blob(ToolMetaLearner([ToolProfile(tool_id="a")]).state_bytes(), "toolrouter.learner")
    blob.config["structure_config"]["compose_limit"] = 8.0
    path = tmp_path / "router.safetensors"
    path.write_bytes(write_blob(blob.arrays, blob.key, blob.config))
    with pytest.raises(CorruptStateError, match=r"structure_config.*compose_limit: expected an integer, not a float, got 8\.0"):
        ToolMetaLearner.load(path)
