"""A blank study name is refused where a search is made, naming it: it was kept in the storage as a
study of that blank name, or (in memory) replaced by a random one. None still means a new study."""

from __future__ import annotations

import re

import pytest

from meta import NeuralArchitectureSearch
from meta.nas.benchmark import benchmark_nas_algorithms
from meta.nas.space import CellSearchSpace
from meta.optimizer import BayesianOptimizer


@pytest.mark.parametrize("name", ["", "  ", "\t"])
@pytest.mark.parametrize("storage", [None, "sqlite:///{folder}/hpo.db"])
def test_a_blank_study_name_is_refused_naming_it(tmp_path, name: str, storage: str | None) -> None:
    storage = storage and storage.format(folder=tmp_path)
    match = r"study_name: expected None \(a new study\) or a name, got the blank " + re.escape(repr(name))
    with pytest.raises(ValueError, match=match):
        BayesianOptimizer({"x": (0.0, 1.0)}, storage=storage, study_name=name)
    with pytest.raises(ValueError, match=match):
        NeuralArchitectureSearch(CellSearchSpace(), "random", storage=storage, study_name=name)
    with pytest.raises(ValueError, match=match):  # was made "-random", a study of its own
        benchmark_nas_algorithms(CellSearchSpace(), lambda a: 0.0, 2, ("random",), storage=storage, study_name=name)
    assert list(tmp_path.iterdir()) == []  # no storage made


def test_a_named_study_and_none_are_taken() -> None:
    assert BayesianOptimizer({"x": (0.0, 1.0)}, study_name=" hpo ").config.study_name == " hpo "
    assert NeuralArchitectureSearch(CellSearchSpace(), "random", study_name=None).study_name is None
    with pytest.raises(TypeError, match=r"study_name: expected None or a string, got 3"):
        NeuralArchitectureSearch(CellSearchSpace(), "random", study_name=3)
