"""``run_meta_learning_demo`` names a ``plots`` that is not a path and a ``console`` that is not a
rich ``Console`` before any step runs (they failed with Python's and rich's own errors, naming
neither)."""

from __future__ import annotations

import pytest

from integrations.experts import run_meta_learning_demo


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"plots": 3}, "plots: expected a file path .*got 3"),
        ({"console": "stdout"}, "console: expected a rich.console.Console or None, got 'stdout'"),
        ({"console": 3, "progress": False}, "console: expected a rich.console.Console or None, got 3"),
    ],
)
def test_a_plots_or_console_of_another_kind_is_named(options: dict, message: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import integrations.experts.tour as tour

    def must_not_run(*args: object) -> None:
        raise AssertionError("a step ran")

    monkeypatch.setitem(tour._STEPS, "maml", (*tour._STEPS["maml"][:2], must_not_run))
    with pytest.raises(TypeError, match=message):
        run_meta_learning_demo(steps=["maml"], **{"progress": True, **options})
