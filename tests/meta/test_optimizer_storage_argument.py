"""A storage argument that cannot be opened (a file name for a URL, a journal without a file) is named
when the Bayesian or architecture search is made, not as SQLAlchemy's parse error at the first trial."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from meta.nas import NeuralArchitectureSearch, create_nb201_search_space
from meta.optimizer import BayesianOptimizer

BAD = [
    ("hpo.db", r"storage: 'hpo.db' is not a database URL or journal:PATH; for a SQLite file write sqlite:///hpo.db"),
    ("journal:", r"storage: 'journal:' names no file; write journal:PATH"),
]


@pytest.mark.parametrize(("storage", "match"), BAD)
def test_a_storage_that_cannot_be_opened_is_refused_when_the_search_is_made(storage: str, match: str) -> None:
    with pytest.raises(ValidationError, match=match):
        BayesianOptimizer({"x": (0.0, 1.0)}, storage=storage, study_name="s")
    with pytest.raises(ValueError, match=match):
        NeuralArchitectureSearch(create_nb201_search_space(), "random", storage=storage, study_name="s")


def test_urls_and_journals_are_taken(tmp_path) -> None:
    for storage in (f"sqlite:///{tmp_path / 'hpo.db'}", f"journal:{tmp_path / 'hpo.log'}"):
        opt = BayesianOptimizer({"x": (0.0, 1.0)}, storage=storage, study_name="s", sampler="random")
        assert opt.config.storage == storage
        assert opt.optimize(lambda p: p["x"], n_iterations=1)[1] >= 0.0
