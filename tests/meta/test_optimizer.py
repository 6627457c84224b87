"""AdaptiveOptimizer (hypergradient descent) and BayesianOptimizer (Optuna) behaviour."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import textwrap

import optuna
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from meta.optimizer import AdaptiveOptimizer, AllTrialsFailedError, BayesianOptimizer, parse_parameter_space

optuna.logging.set_verbosity(optuna.logging.WARNING)


def quadratic_steps(opt: AdaptiveOptimizer, x: torch.nn.Parameter, steps: int) -> list[float]:
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = (x**2).sum()
        loss.backward()
        opt.step(loss.item())
        losses.append(loss.item())
    return losses


def test_hypergradient_raises_a_too_small_rate_and_lowers_a_too_large_one() -> None:
    x = torch.nn.Parameter(torch.full((4,), 5.0))
    slow = AdaptiveOptimizer([x], base_optimizer="sgd", meta_learning_rate=0.05, learning_rate=1e-3)
    quadratic_steps(slow, x, 60)
    assert slow.param_groups[0]["lr"] > 5e-3  # successive gradients agree -> the rate grows

    y = torch.nn.Parameter(torch.full((4,), 5.0))
    fast = AdaptiveOptimizer([y], base_optimizer="sgd", meta_learning_rate=0.05, learning_rate=0.95)
    losses = quadratic_steps(fast, y, 60)
    assert fast.param_groups[0]["lr"] < 0.9  # it overshoots (lr > 0.5 on x^2) -> the rate shrinks
    assert losses[-1] < losses[0]


def test_fixed_rate_without_meta_learning_and_adaptive_beats_it() -> None:
    torch.manual_seed(0)
    x1 = torch.nn.Parameter(torch.full((4,), 5.0))
    fixed = AdaptiveOptimizer([x1], base_optimizer="sgd", use_meta_learning=False, learning_rate=1e-3)
    fixed_losses = quadratic_steps(fixed, x1, 50)
    assert fixed.param_groups[0]["lr"] == 1e-3
    x2 = torch.nn.Parameter(torch.full((4,), 5.0))
    adaptive = AdaptiveOptimizer([x2], base_optimizer="sgd", meta_learning_rate=0.1, learning_rate=1e-3)
    adaptive_losses = quadratic_steps(adaptive, x2, 50)
    assert adaptive_losses[-1] < 0.5 * fixed_losses[-1]


def test_seed_snippet_adaptive_optimization() -> None:
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))
    data = [(torch.randn(16, 4), torch.randn(16, 1)) for _ in range(4)]
    dataloader, num_epochs = data, 3

    def compute_loss(model: torch.nn.Module, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        loss = torch.nn.functional.mse_loss(model(batch[0]), batch[1])
        loss.backward()
        return loss

    # --- seed snippet, section 4 (import line changed) ---
    from meta import AdaptiveOptimizer

    optimizer = AdaptiveOptimizer(model=model, base_optimizer="adam", use_meta_learning=True, meta_learning_rate=0.001)
    for epoch in range(num_epochs):
        for batch in dataloader:
            optimizer.zero_grad()
            loss = compute_loss(model, batch)
            optimizer.step(loss.item())
    stats = optimizer.get_optimization_stats()
    # ---
    assert stats["step"] == 12 and stats["use_meta_learning"]
    assert stats["learning_rates"][0] != stats["initial_learning_rates"][0]
    assert math.isfinite(stats["loss_trend"])


def test_nan_loss_and_missing_gradients_are_refused_without_changing_state() -> None:
    x = torch.nn.Parameter(torch.ones(3))
    opt = AdaptiveOptimizer([x], base_optimizer="sgd", learning_rate=0.1)
    with pytest.raises(ValueError, match="no parameter has a gradient"):
        opt.step(1.0)
    (x**2).sum().backward()
    before = x.detach().clone()
    with pytest.raises(ValueError, match="loss_value"):
        opt.step(float("nan"))
    assert torch.equal(x.detach(), before) and opt.step_count == 0
    x.grad = torch.tensor([float("nan"), 0.0, 0.0])
    with pytest.raises(ValueError, match="gradients"):
        opt.step(1.0)
    assert torch.equal(x.detach(), before)


def test_loss_tensor_is_backpropagated_for_the_caller() -> None:
    x = torch.nn.Parameter(torch.ones(3))
    opt = AdaptiveOptimizer([x], base_optimizer="sgd", learning_rate=0.1)
    opt.zero_grad()
    opt.step((x**2).sum())
    assert torch.allclose(x.detach(), torch.full((3,), 0.8))


def test_plateau_reduces_rate_and_convergence_is_detected() -> None:
    x = torch.nn.Parameter(torch.ones(2))
    opt = AdaptiveOptimizer(
        [x], base_optimizer="sgd", use_meta_learning=False, learning_rate=0.1, window=5,
        plateau_patience=10, convergence_patience=2,
    )
    for _ in range(40):
        opt.zero_grad()
        x.grad = torch.zeros(2) + 1e-9
        opt.step(1.0)  # a flat loss: a plateau and, soon, convergence
    stats = opt.get_optimization_stats()
    assert stats["plateau_reductions"] >= 2 and stats["learning_rates"][0] <= 0.025
    assert stats["converged"] and stats["converged_at_step"] is not None


def _noisy_steps(opt: AdaptiveOptimizer, model: torch.nn.Module, steps: int, seed: int) -> list[float]:
    gen = torch.Generator().manual_seed(seed)
    losses = []
    for _ in range(steps):
        x = torch.randn(16, 3, generator=gen)
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x), x.sum(1, keepdim=True))
        opt.step(loss)
        losses.append(loss.item())
    return losses


@pytest.mark.parametrize("base", ["adam", "sgd"])
def test_state_dict_resumes_bit_for_bit_through_a_file(tmp_path, base: str) -> None:
    from meta.checkpoint import load_state, save_state

    torch.manual_seed(0)
    straight = torch.nn.Linear(3, 1)
    resumed = torch.nn.Linear(3, 1)
    settings = dict(base_optimizer=base, meta_learning_rate=0.05, learning_rate=0.01, window=3, plateau_patience=2,
                    plateau_threshold=0.5, convergence_patience=1, convergence_tol=0.5)
    opt = AdaptiveOptimizer(straight, momentum=0.9, **settings) if base == "sgd" else AdaptiveOptimizer(straight, **settings)
    _noisy_steps(opt, straight, 8, seed=0)
    save_state(tmp_path / "opt.safetensors", "AdaptiveOptimizer", opt.state_dict())
    resumed.load_state_dict(straight.state_dict())
    # built with other settings: the state brings the saved ones
    other = AdaptiveOptimizer(resumed, base_optimizer=base, learning_rate=0.001, window=10)
    other.load_state_dict(load_state(tmp_path / "opt.safetensors", "AdaptiveOptimizer"))
    assert _noisy_steps(opt, straight, 12, seed=1) == _noisy_steps(other, resumed, 12, seed=1)
    assert torch.equal(straight.weight, resumed.weight) and torch.equal(straight.bias, resumed.bias)
    stats = opt.get_optimization_stats()
    assert stats == other.get_optimization_stats()
    assert stats["plateau_reductions"] > 0 and stats["step"] == 20  # the counters did come back


def test_load_state_dict_refuses_another_optimiser_naming_the_field() -> None:
    model = torch.nn.Linear(3, 1)
    opt = AdaptiveOptimizer(model)
    _noisy_steps(opt, model, 2, seed=0)
    state = opt.state_dict()
    sgd = AdaptiveOptimizer(torch.nn.Linear(3, 1), base_optimizer="sgd")
    with pytest.raises(ValueError, match="base_class: the state is of a Adam base optimiser, this one is SGD"):
        sgd.load_state_dict(state)
    wider = AdaptiveOptimizer(torch.nn.Linear(4, 1))
    before = wider.state_dict()
    with pytest.raises(ValueError, match=r"prev_direction\[0\]\[0\]: shape \(1, 3\), the parameter's is \(1, 4\)"):
        wider.load_state_dict(state)
    assert wider.state_dict()["step_count"] == before["step_count"] == 0 and not wider.optimizer.state
    with pytest.raises(ValueError, match=r"state: expected the fields .*got \['base'\]"):
        wider.load_state_dict({"base": state["base"]})
    damaged = {**state, "settings": {**state["settings"], "window": 0}}
    same = AdaptiveOptimizer(model)
    with pytest.raises(ValueError, match="settings.window"):
        same.load_state_dict(damaged)
    assert same.window == 20 and same.step_count == 0 and not same.optimizer.state


def test_bad_optimizer_settings_name_the_field() -> None:
    model = torch.nn.Linear(2, 1)
    with pytest.raises(ValueError, match="base_optimizer"):
        AdaptiveOptimizer(model, base_optimizer="lion")
    with pytest.raises(ValueError, match="meta_learning_rate"):
        AdaptiveOptimizer(model, meta_learning_rate=float("nan"))
    # NaN fails a plain `<= 1` check, and a NaN factor would turn every rate NaN at the first plateau
    for name, bad in (("plateau_factor", float("nan")), ("plateau_threshold", float("nan")), ("convergence_tol", -1.0),
                      ("meta_learning_rate", True), ("learning_rate", "0.01")):
        with pytest.raises(ValueError, match=f"{name}: expected a finite number .*got {bad!r}"):
            AdaptiveOptimizer(model, **{name: bad})
    opt = AdaptiveOptimizer(model)
    with pytest.raises(TypeError, match="loss_value: expected the batch's loss as a number or a scalar tensor, got 'abc'"):
        opt.step("abc")
    for name, bad in (("window", 2.5), ("plateau_patience", 0), ("convergence_patience", 0), ("window", True)):
        with pytest.raises(ValueError, match=f"{name}: expected an integer >= .*got {bad!r}"):
            AdaptiveOptimizer(model, **{name: bad})


# ---------------------------------------------------------------- BayesianOptimizer


def test_seed_snippet_bayesian_gp_finds_a_good_region() -> None:
    def your_objective(p: dict) -> float:
        return -((math.log10(p["learning_rate"]) + 3.5) ** 2) - (p["batch_size"] - 64) ** 2 / 1e3

    # --- seed snippet, "Bayesian Hyperparameter Optimization" (import line changed) ---
    from meta.optimizer import BayesianOptimizer

    parameter_space = {"learning_rate": (1e-5, 1e-2), "batch_size": (16, 128), "weight_decay": (1e-6, 1e-3)}
    optimizer = BayesianOptimizer(parameter_space=parameter_space, acquisition_function="ei")
    best_params, best_score = optimizer.optimize(objective_function=your_objective, n_iterations=13)
    # ---
    d = optimizer.distributions
    assert d["learning_rate"].log and d["weight_decay"].log and not d["batch_size"].log
    assert isinstance(d["batch_size"], optuna.distributions.IntDistribution)
    assert isinstance(optimizer.study.sampler, optuna.samplers.GPSampler)
    assert isinstance(best_params["batch_size"], int) and 1e-5 <= best_params["learning_rate"] <= 1e-2
    assert best_score == max(v for _, v in optimizer.history)


@pytest.mark.parametrize("direction", ["minimize", "maximize"])
def test_tpe_minimises_and_maximises(direction: str) -> None:
    sign = 1.0 if direction == "minimize" else -1.0
    opt = BayesianOptimizer({"x": (-5.0, 5.0), "kind": ["a", "b"]}, sampler="tpe", direction=direction, seed=1)
    params, score = opt.optimize(lambda p: sign * ((p["x"] - 2.0) ** 2 + (p["kind"] == "b")), n_iterations=40)
    assert abs(params["x"] - 2.0) < 0.7 and params["kind"] == "a"
    assert sign * score < 0.5


def test_failing_and_nan_trials_are_marked_failed_and_the_search_goes_on() -> None:
    def objective(p: dict) -> float:
        if p["x"] < -1:
            raise RuntimeError("diverged")
        if p["x"] > 1:
            return float("nan")
        return -p["x"] ** 2

    opt = BayesianOptimizer({"x": (-3.0, 3.0)}, sampler="random", seed=0)
    params, score = opt.optimize(objective, n_iterations=30)
    states = [t.state for t in opt.study.trials]
    assert len(states) == 30 and optuna.trial.TrialState.FAIL in states
    assert -1 <= params["x"] <= 1 and math.isfinite(score)

    always = BayesianOptimizer({"x": (0.0, 1.0)}, sampler="random")
    with pytest.raises(AllTrialsFailedError, match="all 3 trials failed"):
        always.optimize(lambda p: float("nan"), n_iterations=3)


def test_an_interrupted_trial_is_recorded_failed_not_left_running(tmp_path) -> None:  # type: ignore[no-untyped-def]
    storage = f"sqlite:///{tmp_path / 'hpo.db'}"
    opt = BayesianOptimizer({"x": (0.0, 1.0)}, sampler="random", storage=storage, study_name="s")

    def interrupted(p: dict) -> float:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        opt.optimize(interrupted, n_iterations=5)
    resumed = BayesianOptimizer({"x": (0.0, 1.0)}, sampler="random", storage=storage, study_name="s")
    assert [t.state for t in resumed.study.trials] == [optuna.trial.TrialState.FAIL]


@pytest.mark.parametrize(
    ("space", "match"),
    [
        ({}, "empty"),
        ({"lr": (1e-2, 1e-5)}, "above high"),
        ({"act": []}, "at least one choice"),
        ({"lr": (0.0, 1.0, 2.0)}, "range"),
        ({"lr": {"low": 0.0, "high": 1.0, "log": True}}, "log scale needs low > 0"),
        ({"lr": ("a", "b")}, "numbers"),
        ({"lr": 3}, "expected"),
    ],
)
def test_bad_parameter_space_names_the_parameter(space: dict, match: str) -> None:
    with pytest.raises((ValueError, TypeError), match=match):
        BayesianOptimizer(space)


def test_bad_settings_are_validation_errors() -> None:
    with pytest.raises(ValidationError, match="acquisition_function"):
        BayesianOptimizer({"x": (0.0, 1.0)}, acquisition_function="pi")
    with pytest.raises(ValidationError, match="sampler"):
        BayesianOptimizer({"x": (0.0, 1.0)}, sampler="cmaes")
    with pytest.raises(ValueError, match="n_iterations"):
        BayesianOptimizer({"x": (0.0, 1.0)}).optimize(lambda p: 0.0, n_iterations=0)


@settings(max_examples=40, deadline=None)
@given(
    low=st.one_of(st.integers(1, 10**6), st.floats(1e-8, 1e6)),
    ratio=st.floats(1.0, 1e6),
)
def test_type_and_scale_are_inferred_from_the_bounds(low: float, ratio: float) -> None:
    high = type(low)(low * ratio) if isinstance(low, float) else int(low * ratio)
    dist = parse_parameter_space({"p": (low, high)})["p"]
    expected_type = optuna.distributions.IntDistribution if isinstance(low, int) else optuna.distributions.FloatDistribution
    assert isinstance(dist, expected_type)
    assert dist.log == (high / low >= 100.0)


def test_explicit_scale_and_categorical() -> None:
    space = parse_parameter_space({"a": {"low": 1e-3, "high": 1e-2, "log": True}, "b": {"low": 1, "high": 1000, "log": False}, "c": [1, "x"]})
    assert space["a"].log and not space["b"].log and space["c"].choices == (1, "x")


def test_stopped_search_resumes_from_sqlite(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'hpo.db'}"
    first = BayesianOptimizer({"x": (-2.0, 2.0)}, sampler="tpe", storage=url, study_name="s", direction="minimize")
    first.optimize(lambda p: p["x"] ** 2, n_iterations=6)
    again = BayesianOptimizer({"x": (-2.0, 2.0)}, sampler="tpe", storage=url, study_name="s", direction="minimize", seed=1)
    params, score = again.optimize(lambda p: p["x"] ** 2, n_iterations=4)
    assert len(again.study.trials) == 10
    assert score == min(t.value for t in again.study.trials)


def test_best_before_any_trial_says_none_has_run() -> None:
    from meta import NeuralArchitectureSearch, create_nb201_search_space

    with pytest.raises(AllTrialsFailedError, match="objective_function: no trial has run yet"):
        BayesianOptimizer({"x": (0.0, 1.0)}).best()
    with pytest.raises(AllTrialsFailedError, match="evaluation_function: no trial has run yet"):
        NeuralArchitectureSearch(create_nb201_search_space(), "random").best()


def test_resuming_a_study_with_the_other_direction_is_refused(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'hpo.db'}"
    BayesianOptimizer({"x": (-2.0, 2.0)}, sampler="random", storage=url, study_name="s", direction="minimize").optimize(
        lambda p: p["x"] ** 2, n_iterations=3
    )
    again = BayesianOptimizer({"x": (-2.0, 2.0)}, sampler="random", storage=url, study_name="s", direction="maximize")
    with pytest.raises(ValueError, match=r"direction: study 's' .* created to minimize, got direction='maximize'"):
        again.optimize(lambda p: p["x"] ** 2, n_iterations=3)
    # nothing was added to the stored study
    assert len(optuna.load_study(study_name="s", storage=url).trials) == 3


@pytest.mark.parametrize(
    ("space", "name"),
    [({"x": (-1.0, 1.0)}, "x"), ({"x": (-2.0, 2.0), "y": (0, 3)}, "y"), ({"y": (-2.0, 2.0)}, "x"),
     ({"x": ["a", "b"]}, "x")],
)
def test_resuming_a_study_with_another_parameter_space_is_refused(tmp_path, space: dict, name: str) -> None:
    url = f"sqlite:///{tmp_path / 'hpo.db'}"
    BayesianOptimizer({"x": (-2.0, 2.0)}, sampler="random", storage=url, study_name="s").optimize(
        lambda p: p["x"], n_iterations=3
    )
    again = BayesianOptimizer(space, sampler="random", storage=url, study_name="s")
    with pytest.raises(ValueError, match=rf"parameter_space: parameter '{name}' of study 's' in the storage is"):
        again.best()
    with pytest.raises(ValueError, match=rf"parameter_space: parameter '{name}'"):
        again.optimize(lambda p: 0.0, n_iterations=2)
    assert len(optuna.load_study(study_name="s", storage=url).trials) == 3
    # the same space resumes
    same = BayesianOptimizer({"x": (-2.0, 2.0)}, sampler="random", storage=url, study_name="s")
    assert -2.0 <= same.best()[0]["x"] <= 2.0


def test_two_processes_share_one_study_without_losing_or_repeating_a_trial(tmp_path) -> None:
    storage = f"journal:{tmp_path / 'journal.log'}"
    script = textwrap.dedent(
        f"""
        import json, os, sys
        import optuna
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        from meta.optimizer import BayesianOptimizer
        seed = int(sys.argv[1])
        seen = []
        def objective(p):
            seen.append(p["x"])
            return (p["x"] - 0.3) ** 2
        opt = BayesianOptimizer({{"x": (0.0, 1.0)}}, sampler="tpe", n_startup_trials=3, seed=seed,
                                storage={storage!r}, study_name="shared", direction="minimize")
        opt.optimize(objective, n_iterations=8)
        print(json.dumps({{"numbers": [t.number for t in opt.study.trials if t.params.get("x") in seen], "seen": seen}}))
        """
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", script, str(seed)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for seed in (0, 1)
    ]
    outs = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        outs.append(json.loads(out.strip().splitlines()[-1]))
    study = optuna.load_study(study_name="shared", storage=optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(str(tmp_path / "journal.log"))))
    trials = study.trials
    assert len(trials) == 16 and all(t.state == optuna.trial.TrialState.COMPLETE for t in trials)
    assert sorted(t.number for t in trials) == list(range(16))
    evaluated = sorted(outs[0]["seen"] + outs[1]["seen"])
    assert evaluated == sorted(t.params["x"] for t in trials)  # each trial evaluated exactly once
    assert len(outs[0]["seen"]) == len(outs[1]["seen"]) == 8
