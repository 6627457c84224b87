"""Optuna's INFO lines ("A new study created in memory with name: ...") are not printed while this
library calls Optuna: the library stays quiet unless the application enables its logging, and then
they pass. Optuna's verbosity, the application's setting, is left alone, and Optuna's own calls and
warnings still log."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import optuna
import pytest

from meta import NeuralArchitectureSearch
from meta.nas.space import CellSearchSpace
from meta.optimizer import BayesianOptimizer


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture
def optuna_lines() -> Iterator[list[str]]:
    """What Optuna logs, at its default verbosity (other test modules lower it)."""
    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.INFO)
    records = Records()
    logging.getLogger("optuna").addHandler(records)
    try:
        yield records.lines
    finally:
        logging.getLogger("optuna").removeHandler(records)
        optuna.logging.set_verbosity(verbosity)


def test_a_hyperparameter_search_logs_no_optuna_info_line(optuna_lines, tmp_path) -> None:
    BayesianOptimizer({"x": (0.0, 1.0)}, sampler="random", seed=0).optimize(lambda p: p["x"], n_iterations=2)
    storage = f"sqlite:///{tmp_path / 'hpo.db'}"
    for _ in range(2):  # created, then resumed ("Using an existing study")
        BayesianOptimizer({"x": (0.0, 1.0)}, sampler="random", storage=storage, study_name="s").optimize(
            lambda p: p["x"], n_iterations=1
        )
    assert optuna_lines == []
    assert optuna.logging.get_verbosity() == optuna.logging.INFO


def test_an_architecture_search_logs_no_optuna_info_line(optuna_lines) -> None:
    NeuralArchitectureSearch(CellSearchSpace(), "random", seed=0).search_architecture(
        lambda arch: float(len(arch["ops"])), num_evaluations=2
    )
    assert optuna_lines == []


def test_an_application_that_enables_the_library_log_sees_them(optuna_lines, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="meta"):
        BayesianOptimizer({"x": (0.0, 1.0)}, sampler="random").optimize(lambda p: p["x"], n_iterations=1)
    assert len(optuna_lines) == 1 and optuna_lines[0].startswith("A new study created")


def test_optuna_called_directly_still_logs_and_its_warnings_pass(optuna_lines) -> None:
    from meta.optimizer import quiet_optuna

    optuna.create_study()
    assert len(optuna_lines) == 1 and optuna_lines[0].startswith("A new study created")
    with quiet_optuna():
        logging.getLogger("optuna.study.study").info("dropped")
        logging.getLogger("optuna.study.study").warning("kept")
    assert optuna_lines[1:] == ["kept"]


@pytest.mark.parametrize("sampler", ["gp", "tpe"])
def test_no_start_up_trials_logs_no_independent_sampling_warning(optuna_lines, sampler) -> None:
    # with no trial completed, the GP sampler's first proposal is random: nothing to warn the user of
    BayesianOptimizer({"x": (0.0, 1.0)}, sampler=sampler, n_startup_trials=0, seed=0).optimize(
        lambda p: p["x"], n_iterations=2
    )
    assert optuna_lines == []
