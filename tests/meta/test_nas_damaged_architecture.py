"""build_model_from_architecture names what is wrong with a damaged architecture: a layer that is no
dict, an op missing or unknown for the input, a cell whose ops are not a list of six names."""

from __future__ import annotations

import pytest

from meta.nas import build_model_from_architecture

LAYERS = {"type": "layers", "input_shape": [3, 8, 8], "num_classes": 2}
CELL = {"type": "nb201_cell", "input_shape": [3, 8, 8], "num_classes": 2}


@pytest.mark.parametrize(
    ("architecture", "error", "match"),
    [
        ({**LAYERS, "layers": [1]}, TypeError, r"architecture\['layers'\]\[0\]: expected a dict of op, width and activation, got 1"),
        ({**LAYERS, "layers": [{"width": 4, "activation": "relu"}]}, KeyError, r"\['layers'\]\[0\]\['op'\]: unknown None for input_shape \(3, 8, 8\)"),
        (
            {**LAYERS, "layers": [{"op": "conv3x3", "width": 4, "activation": "relu"}] * 2 + [{"op": "conv7x7", "width": 4, "activation": "relu"}]},
            KeyError,
            r"\['layers'\]\[2\]\['op'\]: unknown 'conv7x7' for input_shape \(3, 8, 8\); choose from \('conv3x3'",
        ),
        ({**CELL, "ops": "none"}, ValueError, r"architecture\['ops'\]: expected a list of 6 names .*, got 'none'"),
        (CELL, ValueError, r"architecture\['ops'\]: expected a list of 6 names .*, got None"),
    ],
)
def test_a_damaged_architecture_is_named(architecture: dict, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        build_model_from_architecture(architecture)
