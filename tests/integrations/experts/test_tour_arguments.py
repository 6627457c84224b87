"""run_meta_learning_demo names a progress flag or a step name of the wrong kind before any step runs."""

from __future__ import annotations

import pytest

from integrations.experts import run_meta_learning_demo


@pytest.mark.parametrize("progress", ["no", 0, None])
def test_a_progress_flag_that_is_not_a_bool_is_named(progress: object) -> None:
    with pytest.raises(ValueError, match=f"^progress: expected True or False, got {progress!r}"):
        run_meta_learning_demo(scale=0.02, steps=["tool_optimization"], progress=progress)  # type: ignore[arg-type]


def test_a_step_name_that_is_not_a_string_is_named() -> None:
    with pytest.raises(ValueError, match=r"^steps: unknown steps \[\['maml'\]\]"):
        run_meta_learning_demo(steps=[["maml"]], progress=False)  # type: ignore[list-item]
