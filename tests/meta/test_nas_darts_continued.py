"""A DARTS search continued (a second call) or resumed (a new process on the same study) goes on down
the supernet's ranking, as one longer search would; the supernet is trained once per search object."""

from __future__ import annotations

import pytest
import torch

import meta.nas.darts
from meta.nas import NeuralArchitectureSearch, create_nb201_search_space


def _nas(**options) -> NeuralArchitectureSearch:
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(8, 1, 4, 4, generator=g), torch.randint(0, 3, (8,), generator=g)
    space = create_nb201_search_space((1, 4, 4), 3, channels=2)
    return NeuralArchitectureSearch(space, "darts", seed=0, darts_data=(x, y, x, y), darts_options={"epochs": 1}, **options)


def _score(arch: dict) -> float:
    return float(arch["ops"].count("nor_conv_3x3"))


def _evaluated(nas: NeuralArchitectureSearch) -> list[list[str]]:
    return [nas.space.decode(t.params)["ops"] for t in nas.study.trials]


def test_a_continued_or_resumed_search_evaluates_the_next_ranked_cells(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    trainings = []
    run_darts = meta.nas.darts.run_darts
    monkeypatch.setattr(meta.nas.darts, "run_darts", lambda *a: trainings.append(1) or run_darts(*a))
    storage = f"sqlite:///{tmp_path / 'darts.db'}"
    nas = _nas(storage=storage, study_name="s")
    nas.search_architecture(_score, num_evaluations=2)
    nas.search_architecture(_score, num_evaluations=2)  # continued: the same supernet's next cells
    ranked = [a["ops"] for a in nas.darts_result.ranked_architectures]
    assert _evaluated(nas) == ranked[:4]
    assert len(trainings) == 1
    resumed = _nas(storage=storage, study_name="s")  # another process: trains the same supernet again
    resumed.search_architecture(_score, num_evaluations=2)
    assert _evaluated(resumed) == ranked[:6]
