"""The flags of toolrouter's and meta's models take True or False only (``NumbersOnly``, as
``check_flag``): pydantic read ``use_fallbacks="no"`` and ``success=0`` as False, ``"yes"`` and 1
as True, a value read from a file or a command line and never converted. The error names the field
and the value; numpy's bools are still taken, as bools. A store URL's options are text, read as
such (``PostgresOptions``)."""

from __future__ import annotations

import numpy as np
import pytest

from meta._checks import NumbersOnly
from meta.protonet_recipe import ProtoNetRecipe
from toolrouter import ExecutionResult
from toolrouter.attempts import ExecutorConfig
from toolrouter.drift import DetectorConfig
from toolrouter.selection import SelectorConfig
from toolrouter.store.postgres import PostgresOptions
from toolrouter.structure import StructureConfig

CASES = [
    (ExecutorConfig, {}, "use_fallbacks", "no"),
    (ExecutorConfig, {}, "enforce_budget", 1),
    (ExecutionResult, {"tool_id": "a"}, "success", 0),
    (ExecutionResult, {"tool_id": "a"}, "success", "true"),
    (SelectorConfig, {}, "description_tower", "off"),
    (SelectorConfig, {}, "calibrate", 0),
    (DetectorConfig, {}, "standardize", 1),
    (StructureConfig, {}, "drop_quoted", "yes"),
    (ProtoNetRecipe, {}, "augment", 0),
    (ProtoNetRecipe, {}, "channels_last", "false"),
    (ExecutorConfig, {}, "use_fallbacks", None),
]


@pytest.mark.parametrize(("model", "required", "field", "value"), CASES)
def test_a_flag_that_is_no_bool_is_refused_naming_the_field(model, required, field, value) -> None:
    with pytest.raises(ValueError, match=rf"{field}: expected True or False, got {value!r}"):
        model(**required, **{field: value})


def test_a_numpy_bool_is_taken_as_a_bool() -> None:
    result = ExecutionResult(tool_id="a", success=np.float64(0.7) >= 0.5)
    assert result.success is True
    assert ExecutorConfig(use_fallbacks=np.False_).use_fallbacks is False


def test_an_optional_flag_takes_none_and_a_flag_set_later_is_checked() -> None:
    class Options(NumbersOnly):
        tidy: bool | None = None

    options = Options()
    with pytest.raises(ValueError, match=r"tidy: expected True or False, got 'no'"):
        options.tidy = "no"
    assert options.tidy is None
    options.tidy = False
    assert Options(tidy=True).tidy and options.tidy is False


def test_a_store_urls_options_are_still_read_from_text() -> None:
    assert PostgresOptions(listen="false").listen is False
