"""The meta package's settings refuse infinite and NaN numbers, which pass bounds such as gt=0."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from meta.continual import ContinualConfig
from meta.data.sinusoid import SinusoidConfig
from meta.nas.darts import DARTSConfig
from meta.protonet_recipe import ProtoNetRecipe


@pytest.mark.parametrize(
    ("config", "field", "value"),
    [
        (ContinualConfig, "lr", float("inf")),
        (ContinualConfig, "grad_clip", float("inf")),
        (SinusoidConfig, "x_max", float("nan")),  # NaN passes the min <= max check
        (SinusoidConfig, "amplitude_max", float("inf")),
        (DARTSConfig, "weight_lr", float("inf")),
        (ProtoNetRecipe, "lr", float("inf")),
        (ProtoNetRecipe, "cpu_seconds", float("nan")),
    ],
)
def test_non_finite_numbers_are_refused_naming_the_field(config: type[BaseModel], field: str, value: float) -> None:
    with pytest.raises(ValidationError, match=f"{field}\n.*finite number"):
        config(**{field: value})
