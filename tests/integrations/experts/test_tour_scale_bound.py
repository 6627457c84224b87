"""run_meta_learning_demo refuses a scale above MAX_SCALE before any step runs (1e300 ran, practically, forever).

A bad step name comes with each call: were the scale accepted, the steps' error would be raised
instead, so the tests fail rather than run the tour."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from integrations.experts import run_meta_learning_demo
from integrations.experts.tour import MAX_SCALE
from toolrouter.cli import app


@pytest.mark.parametrize("scale", [1e300, MAX_SCALE * 1.01])
def test_a_scale_above_the_bound_is_named(scale: float) -> None:
    with pytest.raises(ValueError, match=r"^scale: expected a finite number in \(0, 100.0\], got "):
        run_meta_learning_demo(scale=scale, steps=["nope"], progress=False)


def test_the_bound_itself_is_accepted() -> None:
    with pytest.raises(ValueError, match="^steps: unknown steps"):
        run_meta_learning_demo(scale=MAX_SCALE, steps=["nope"], progress=False)


def test_the_command_names_the_option() -> None:
    result = CliRunner().invoke(app, ["demo", "--tour", "--scale", "1e300", "--steps", "nope"], env={"COLUMNS": "200"})
    assert result.exit_code == 2
    assert "--scale" in result.output and "1e+300" in result.output
