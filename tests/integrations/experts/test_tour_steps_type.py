"""steps that is no list of names is refused naming the argument, before any step runs."""

import pytest

from integrations.experts.tour import run_meta_learning_demo


@pytest.mark.parametrize("steps", [5, 2.5, object()])
def test_steps_that_is_no_list_is_named(steps):
    with pytest.raises(ValueError, match=r"^steps: expected a list of step names, got "):
        run_meta_learning_demo(steps=steps, progress=False)
