"""Pruning: an objective reports its value step by step with ``report`` and raises ``TrialPruned`` when
told to; a pruned trial is recorded as pruned, never as a result, in memory and in a resumed study."""

from __future__ import annotations

import re
import threading
import time

import optuna
import pytest
from optuna.trial import TrialState
from pydantic import ValidationError

from meta import BayesianOptimizer, NeuralArchitectureSearch, create_nas_search_space
from meta.optimizer import AllTrialsFailedError, TrialPruned, report

STEPS = 10


def curve_objective(steps_run: list[int], steps: int = STEPS):
    """Minimised: the loss at each step is ``x`` (constant), so a trial of a larger x is hopeless
    from its first step; ``steps_run`` collects how many steps each call ran."""

    def objective(params: dict) -> float:
        for step in range(steps):
            if report(params["x"], step):
                steps_run.append(step + 1)
                raise TrialPruned()
        steps_run.append(steps)
        return params["x"]

    return objective


def states(study: optuna.Study) -> list[str]:
    return [t.state.name for t in study.trials]


@pytest.mark.parametrize("pruner", ["median", "successive_halving", optuna.pruners.MedianPruner(n_startup_trials=2)])
def test_hopeless_trials_are_stopped_and_recorded_as_pruned_never_as_results(pruner) -> None:
    steps_run: list[int] = []
    opt = BayesianOptimizer({"x": (0.0, 1.0)}, direction="minimize", sampler="random", seed=0, pruner=pruner)
    params, score = opt.optimize(curve_objective(steps_run), n_iterations=20)
    pruned = opt.study.get_trials(states=(TrialState.PRUNED,))
    completed = opt.study.get_trials(states=(TrialState.COMPLETE,))
    assert pruned and len(pruned) + len(completed) == 20
    assert sum(steps_run) < 20 * STEPS  # the pruned trials stopped early
    assert len(opt.history) == len(completed)
    assert sorted(v for _, v in opt.history) == sorted(t.value for t in completed)
    assert score == min(t.value for t in completed) == params["x"]
    # each trial's reported values are kept, the pruned ones' too
    assert all(t.intermediate_values for t in pruned)


def test_without_a_pruner_every_trial_completes() -> None:
    opt = BayesianOptimizer({"x": (0.0, 1.0)}, direction="minimize", sampler="random", pruner="none")
    opt.optimize(curve_objective([]), n_iterations=8)
    assert states(opt.study) == ["COMPLETE"] * 8


def test_a_resumed_study_keeps_its_pruned_trials_and_prunes_against_its_stored_values(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'hpo.db'}"
    settings = dict(direction="minimize", sampler="random", storage=url, study_name="s", pruner="median")
    first = BayesianOptimizer({"x": (0.0, 1.0)}, seed=0, **settings)
    first.optimize(curve_objective([], steps=2), n_iterations=8)
    before = states(first.study)
    assert "PRUNED" in before
    resumed = BayesianOptimizer({"x": (0.0, 1.0)}, seed=1, **settings)
    assert states(resumed.study) == before
    assert resumed.best() == first.best()
    # a trial far worse than the stored ones is stopped at its first step
    steps_run: list[int] = []
    resumed.optimize(lambda p: curve_objective(steps_run, steps=2)({"x": p["x"] + 10.0}), n_iterations=1)
    assert steps_run == [1] and states(resumed.study)[-1] == "PRUNED"
    assert resumed.history == [] and resumed.best() == first.best()


def test_a_study_of_pruned_trials_only_has_no_best_and_says_why() -> None:
    opt = BayesianOptimizer({"x": (0.0, 1.0)}, sampler="random")

    def always_pruned(params: dict) -> float:
        report(params["x"], 0)
        raise TrialPruned()

    with pytest.raises(AllTrialsFailedError, match=r"none of the 3 trials has completed \(0 failed, 3 pruned, 0 still running\)"):
        opt.optimize(always_pruned, n_iterations=3)


@pytest.mark.parametrize(
    ("value", "step", "error"),
    [
        (float("nan"), 0, r"value: expected a finite number, got nan"),
        ("0.5", 0, r"report: value '0.5' \(str\)"),
        (0.5, -1, r"step: expected an integer >= 0, got -1"),
        (0.5, 1.0, r"step: expected an integer >= 0, got 1.0"),
    ],
)
def test_a_bad_report_is_refused_naming_it_and_the_trial_fails(value, step, error) -> None:
    caught: list[Exception] = []

    def objective(params: dict) -> float:
        try:
            report(value, step)
        except Exception as exc:
            caught.append(exc)
            raise
        return 0.0

    opt = BayesianOptimizer({"x": (0.0, 1.0)}, sampler="random")
    with pytest.raises(AllTrialsFailedError):
        opt.optimize(objective, n_iterations=1)
    assert len(caught) == 1 and re.search(error, str(caught[0]))
    assert states(opt.study) == ["FAIL"] and opt.study.trials[0].intermediate_values == {}


def test_a_step_reported_twice_is_refused_and_report_outside_a_trial_is_an_error() -> None:
    caught: list[Exception] = []

    def objective(params: dict) -> float:
        report(1.0, 3)
        try:
            report(2.0, 3)
        except ValueError as exc:
            caught.append(exc)
        return 1.0

    opt = BayesianOptimizer({"x": (0.0, 1.0)}, sampler="random")
    opt.optimize(objective, n_iterations=1)
    assert "step: 3 of trial 0 is reported already" in str(caught[0])
    assert opt.study.trials[0].intermediate_values == {3: 1.0}
    with pytest.raises(RuntimeError, match="report: called outside a trial"):
        report(1.0, 0)


def test_an_unknown_pruner_is_refused_naming_it() -> None:
    with pytest.raises(ValidationError, match="pruner: unknown 'medain'"):
        BayesianOptimizer({"x": (0.0, 1.0)}, pruner="medain")
    with pytest.raises(ValueError, match="pruner: unknown 'medain'"):
        NeuralArchitectureSearch(create_nas_search_space((4,), 2, max_layers=1), "random", pruner="medain")


def test_a_call_past_its_time_limit_is_told_to_stop_at_its_next_report() -> None:
    stopped = threading.Event()

    def slow(params: dict) -> float:
        step = 0
        while not report(float(step), step):
            step += 1
            time.sleep(0.01)
        stopped.set()
        return 0.0

    opt = BayesianOptimizer({"x": (0.0, 1.0)}, sampler="random", pruner="none", trial_timeout_s=0.1)
    with pytest.raises(AllTrialsFailedError):
        opt.optimize(slow, n_iterations=1)
    assert stopped.wait(10)
    assert states(opt.study) == ["FAIL"]


def test_nas_prunes_candidates_once_and_learns_only_from_results() -> None:
    space = create_nas_search_space((4,), 2, max_layers=2, operations=("dense",), widths=(2, 4, 8), activations=("relu",))
    evaluated: list[str] = []

    def train(arch: dict) -> float:
        """Validation accuracy that grows with the total width, reported per epoch."""
        evaluated.append(repr(arch["layers"]))
        width = sum(layer["width"] for layer in arch["layers"])
        for epoch in range(STEPS):
            if report(width * (epoch + 1) / STEPS, epoch):
                raise TrialPruned()
        return float(width)

    storage = optuna.storages.InMemoryStorage()
    options = dict(storage=storage, study_name="nas", pruner=optuna.pruners.MedianPruner(n_startup_trials=3))
    nas = NeuralArchitectureSearch(space, "random", seed=0, **options)
    arch, score = nas.search_architecture(train, num_evaluations=50)
    pruned = nas.study.get_trials(states=(TrialState.PRUNED,))
    assert pruned and len(evaluated) == len(set(evaluated)) == nas.space.size == 12  # each once, the pruned too
    assert score == 16.0 and [layer["width"] for layer in arch["layers"]] == [8, 8]
    completed = [t.value for t in nas.study.get_trials(states=(TrialState.COMPLETE,)) if not t.user_attrs.get("repeat")]
    assert sorted(v for _, v in nas.history) == sorted(completed) and len(completed) + len(
        [t for t in pruned if not t.user_attrs.get("repeat")]
    ) == 12
    # resumed, the study has evaluated every network, the pruned ones included: nothing is evaluated again
    resumed = NeuralArchitectureSearch(space, "random", seed=1, **options)
    assert resumed.search_architecture(train, num_evaluations=5) == (arch, score) and len(evaluated) == 12
