"""The tour draws its plots on figures of its own: the caller's matplotlib backend (a notebook's)
and pyplot's open figures are as they were after ``run_meta_learning_demo(plots=...)``."""

from __future__ import annotations

from pathlib import Path

import pytest

from integrations.experts import run_meta_learning_demo


def test_plots_leave_the_backend_and_the_open_figures_as_they_were(tmp_path: Path) -> None:
    matplotlib = pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt

    previous = matplotlib.get_backend()
    matplotlib.use("svg")  # stands for the caller's own choice
    try:
        figures = plt.get_fignums()
        run_meta_learning_demo(scale=0.02, progress=False, steps=["tool_optimization"], plots=tmp_path)
        assert matplotlib.get_backend() == "svg"
        assert plt.get_fignums() == figures
        assert (tmp_path / "tool_optimization.png").stat().st_size > 0
    finally:
        matplotlib.use(previous)
