"""A journal's or a SQLite file's path that starts with ~ is in the home folder, as the loaders and
savers read one: it was refused as a file in a folder named '~' in the working folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from meta.optimizer import BayesianOptimizer


@pytest.mark.parametrize(("storage", "file"), [("journal:~/hpo.log", "hpo.log"), ("sqlite:///~/hpo.db", "hpo.db")])
def test_a_storage_under_the_home_folder_is_opened_there(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, storage: str, file: str) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    monkeypatch.chdir(tmp_path)
    search = BayesianOptimizer({"x": (0.0, 1.0)}, storage=storage, study_name="s", sampler="random")
    search.optimize(lambda p: p["x"], n_iterations=1)
    assert (tmp_path / "home" / file).is_file() and not (tmp_path / "~").exists()
    resumed = BayesianOptimizer({"x": (0.0, 1.0)}, storage=storage, study_name="s", sampler="random")
    assert len(resumed.study.trials) == 1
