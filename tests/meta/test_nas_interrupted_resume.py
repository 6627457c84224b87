"""An architecture whose evaluation was interrupted (Ctrl-C) is evaluated when the search resumes, not taken as failed."""

from __future__ import annotations

import optuna
import pytest

from meta.nas import NeuralArchitectureSearch, create_nas_search_space


def test_a_resumed_search_evaluates_the_interrupted_architecture(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # Two architectures in all, so the first search's interrupted one must be evaluated for the space to be covered.
    space = create_nas_search_space((4,), 2, max_layers=1, operations=("dense",), widths=(8,), activations=("relu", "tanh"))
    storage, name = f"sqlite:///{tmp_path / 'nas.db'}", "resume"

    def interrupted(arch: dict) -> float:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        NeuralArchitectureSearch(space, "random", storage=storage, study_name=name).search_architecture(interrupted, 2)

    evaluated: list[str] = []

    def evaluate(arch: dict) -> float:
        evaluated.append(arch["layers"][0]["activation"])
        return 1.0 if evaluated[-1] == "tanh" else 0.5

    nas = NeuralArchitectureSearch(space, "random", seed=1, storage=storage, study_name=name)
    arch, score = nas.search_architecture(evaluate, num_evaluations=2)
    assert sorted(evaluated) == ["relu", "tanh"]
    assert (arch["layers"][0]["activation"], score) == ("tanh", 1.0)
    first = nas.study.trials[0]
    assert first.state == optuna.trial.TrialState.FAIL and first.user_attrs == {"interrupted": True}
