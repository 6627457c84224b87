"""The PNG figures (``bench routing``'s regret curves, the tour's ``--plots``) are rendered whole
before they are written, and written through a temporary file: a save cut short (Ctrl-C, a full
disk) left half a PNG where the last figure was."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from PIL import Image  # noqa: E402

from integrations.experts import run_meta_learning_demo  # noqa: E402
from toolrouter.bench._routing_learning import RunResult, plot_curves  # noqa: E402


def _curves(path: Path) -> bool:
    result = RunResult("lin_ts", "s", curves=[np.arange(5.0), np.arange(5.0) * 2])
    return plot_curves([result], "regret", path)


def _tour(path: Path) -> None:
    run_meta_learning_demo(scale=0.02, progress=False, steps=["tool_optimization"], plots=path.parent)


SAVES = [(_curves, "curves.png"), (_tour, "tool_optimization.png")]


@pytest.mark.parametrize(("save", "name"), SAVES)
def test_a_save_cut_short_leaves_the_last_figure_as_it_was(
    save, name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch  # type: ignore[no-untyped-def]
) -> None:
    path = tmp_path / name
    path.write_bytes(b"the last figure")
    encode = FigureCanvasAgg.print_png

    def cut_short(self, target, **options):  # type: ignore[no-untyped-def]
        # half the PNG reaches its destination, then Ctrl-C (savefig passes every option to a
        # method not of matplotlib's own; print_png takes these two)
        whole = io.BytesIO()
        encode(self, whole, metadata=options.get("metadata"), pil_kwargs=options.get("pil_kwargs"))
        half = whole.getvalue()[: len(whole.getvalue()) // 2]
        if isinstance(target, (str, os.PathLike)):
            Path(target).write_bytes(half)
        else:
            target.write(half)
        raise KeyboardInterrupt

    monkeypatch.setattr(FigureCanvasAgg, "print_png", cut_short)
    with pytest.raises(KeyboardInterrupt):
        save(path)
    assert path.read_bytes() == b"the last figure"
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]  # no temporary file either


@pytest.mark.parametrize(("save", "name"), SAVES)
def test_a_figure_is_a_whole_png(save, name: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / name
    save(path)
    with Image.open(path) as image:
        image.verify()  # raises on a truncated or damaged PNG
        assert image.format == "PNG"
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]
