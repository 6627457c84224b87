"""A SQLite or journal storage whose file lies in a folder that does not exist is refused, naming the
storage and the folder, when the Bayesian or architecture search is made: it failed at the first
trial with SQLite's "unable to open database file", which names neither."""

from __future__ import annotations

import re

import pytest
from pydantic import ValidationError

from meta.nas import NeuralArchitectureSearch, create_nb201_search_space
from meta.optimizer import BayesianOptimizer, check_storage


@pytest.mark.parametrize("scheme", ["sqlite:///", "journal:"])
def test_a_file_in_a_missing_folder_is_refused_naming_the_storage(tmp_path, scheme: str) -> None:
    storage = f"{scheme}{tmp_path / 'missing' / 'hpo.db'}"
    match = re.escape(f"storage: '{storage}' names a file in '{tmp_path / 'missing'}', which is not an existing folder")
    with pytest.raises(ValidationError, match=match):
        BayesianOptimizer({"x": (0.0, 1.0)}, storage=storage, study_name="s")
    with pytest.raises(ValueError, match=match):
        NeuralArchitectureSearch(create_nb201_search_space(), "random", storage=storage, study_name="s")
    assert not (tmp_path / "missing").exists()


def test_in_memory_and_existing_folders_are_taken(tmp_path) -> None:
    for storage in ("sqlite://", "sqlite:///:memory:", f"sqlite:///{tmp_path / 'hpo.db'}", f"journal:{tmp_path / 'hpo.log'}"):
        assert check_storage(storage) == storage
