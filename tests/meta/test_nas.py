"""Neural architecture search: spaces, models, samplers, the search loop, DARTS and the tabular benchmark."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import optuna
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from meta.data.nasbench201 import NASBenchFormatError, cell_to_str, load_nasbench201, parse_cell
from meta.nas import (
    CellSearchSpace,
    NASBench201Benchmark,
    RegularizedEvolutionSampler,
    create_nas_search_space,
    create_nb201_search_space,
    make_space,
)
from meta.optimizer import AllTrialsFailedError

optuna.logging.set_verbosity(optuna.logging.WARNING)
torch.set_num_threads(1)

NB201_CSV = Path(__file__).resolve().parents[2] / "../shared/data/nasbench201/nb201_cifar10.csv"
needs_nb201 = pytest.mark.skipif(not NB201_CSV.is_file(), reason="NAS-Bench-201 CSV not present")


def conv_count(arch: dict) -> float:
    """A cheap, deterministic stand-in for training: more convolutions, fewer layers is better."""
    layers = arch["layers"]
    return sum(layer["op"].startswith("conv") for layer in layers) - 0.1 * len(layers)


# ----------------------------------------------------------------------- seed snippets


def test_seed_snippet_custom_nas_evaluation_on_digits() -> None:
    from meta.data.digits import load_digits_split

    split = load_digits_split()
    training_data = (split.x_train[:160].reshape(-1, 1, 8, 8), split.y_train[:160])
    validation_data = (split.x_test[:256].reshape(-1, 1, 8, 8), split.y_test[:256])

    def train_model(model: torch.nn.Module, data: tuple) -> None:
        torch.manual_seed(0)
        opt = torch.optim.Adam(model.parameters(), lr=0.05)
        # long enough that a convolutional candidate learns the digits (10 steps left most near chance,
        # so whether the best passed 0.2 hung on the order of the search's proposals)
        for _ in range(30):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(data[0]), data[1]).backward()
            opt.step()

    def evaluate_model(model: torch.nn.Module, data: tuple) -> float:
        model.eval()
        with torch.no_grad():
            return float((model(data[0]).argmax(1) == data[1]).float().mean())

    from meta import NeuralArchitectureSearch, build_model_from_architecture, create_nas_search_space

    search_space = create_nas_search_space((1, 8, 8), num_classes=10, max_layers=2, widths=(8, 16))

    # --- seed snippet, "Custom NAS Evaluation" ---
    def custom_architecture_evaluation(architecture):
        """Custom architecture evaluation function."""
        # Build model from architecture
        model = build_model_from_architecture(architecture)

        # Train and evaluate
        train_model(model, training_data)
        accuracy = evaluate_model(model, validation_data)

        return accuracy

    # Use with NAS
    nas = NeuralArchitectureSearch(search_space, "bayesian")
    best_arch, best_perf = nas.search_architecture(custom_architecture_evaluation, num_evaluations=15)
    # ---
    assert 0.2 < best_perf <= 1.0 and best_arch["type"] == "layers"


def test_seed_snippet_benchmarking() -> None:
    from meta import benchmark_nas_algorithms, create_nas_search_space

    search_space = create_nas_search_space((16,), num_classes=3, max_layers=4)
    eval_function = lambda arch: -abs(len(arch["layers"]) - 3) + sum(l["width"] for l in arch["layers"]) / 1000  # noqa: E731
    # --- seed snippet, "Benchmarking" ---
    nas_results = benchmark_nas_algorithms(search_space, eval_function, 50)
    # ---
    assert set(nas_results) == {"random", "bayesian", "evolutionary"}
    for result in nas_results.values():
        assert len(result["curve"]) == 50 and result["curve"] == sorted(result["curve"])
        assert result["best_performance"] == result["curve"][-1]


# ----------------------------------------------------------------------- spaces and models


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10**6), image=st.booleans(), max_layers=st.integers(1, 6))
def test_every_sampled_architecture_builds_and_round_trips(seed: int, image: bool, max_layers: int) -> None:
    from meta import build_model_from_architecture, create_nas_search_space

    shape = (2, 9, 9) if image else (7,)
    space = make_space(create_nas_search_space(shape, num_classes=4, max_layers=max_layers, widths=(4, 8)))
    arch = space.sample(np.random.default_rng(seed))
    assert space.decode(space.to_params(arch)) == arch
    assert 1 <= len(arch["layers"]) <= max_layers
    out = build_model_from_architecture(arch)(torch.zeros(3, *shape))
    assert out.shape == (3, 4) and torch.isfinite(out).all()
    for neighbour in space.neighbours(arch):
        assert space.key(neighbour) != space.key(arch)


def test_cell_space_is_the_nasbench201_space() -> None:
    from meta import build_model_from_architecture

    space = make_space(create_nb201_search_space((1, 8, 8), 10, channels=4))
    assert space.size == 5**6 == len({space.key(a) for a in space.enumerate()})
    arch = space.cell_arch(["nor_conv_3x3", "none", "skip_connect", "avg_pool_3x3", "nor_conv_1x1", "none"])
    assert len(space.neighbours(arch)) == 24 and space.encode(arch).sum() == 6
    assert build_model_from_architecture(arch)(torch.zeros(2, 1, 8, 8)).shape == (2, 10)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"input_shape": (3, 32), "num_classes": 10, "max_layers": 3},
        {"input_shape": (3, 32, 32), "num_classes": 1, "max_layers": 3},
        {"input_shape": (3, 32, 32), "num_classes": 10, "max_layers": 0},
        {"input_shape": (8,), "num_classes": 10, "max_layers": 3, "operations": ("conv3x3",)},
        {"input_shape": (8,), "num_classes": 10, "max_layers": 3, "widths": ()},
    ],
)
def test_bad_search_space_is_a_validation_error(kwargs: dict) -> None:
    from meta import create_nas_search_space

    with pytest.raises(ValidationError):
        create_nas_search_space(**kwargs)


# ----------------------------------------------------------------------- the search loop


def test_evolution_is_regularised_the_oldest_die_not_the_worst() -> None:
    space = CellSearchSpace()
    sampler = RegularizedEvolutionSampler(space, population_size=3, tournament_size=3, mutation="random", seed=0)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    rng = np.random.default_rng(0)
    archs = [space.sample(rng) for _ in range(4)]
    for arch, value in zip(archs, [100.0, 1.0, 3.0, 2.0]):
        study.add_trial(optuna.trial.create_trial(params=space.to_params(arch), distributions=space.distributions(), value=value))
    child = space.decode(study.ask(space.distributions()).params)
    # The global best (100, the oldest) has aged out; the parent is the best of the last three (3.0).
    assert sum(a != b for a, b in zip(child["ops"], archs[2]["ops"])) == 1


@pytest.mark.parametrize("algorithm", ["random", "bayesian", "evolutionary", "tpe"])
def test_no_architecture_is_evaluated_twice(algorithm: str) -> None:
    from meta import NeuralArchitectureSearch

    calls: list[str] = []

    def evaluate(arch: dict) -> float:
        calls.append("|".join(arch["ops"]))
        return float(arch["ops"].count("nor_conv_3x3") + 0.5 * arch["ops"].count("skip_connect"))

    nas = NeuralArchitectureSearch(create_nb201_search_space(), algorithm, population_size=5, n_startup_trials=5, seed=3)
    best, score = nas.search_architecture(evaluate, num_evaluations=30)
    assert len(calls) == 30 == len(set(calls))
    assert score == max(v for _, v in nas.history)


def test_failing_and_nan_evaluations_are_failed_trials_and_the_search_goes_on() -> None:
    from meta import NeuralArchitectureSearch

    def evaluate(arch: dict) -> float:
        if arch["ops"][0] == "none":
            raise RuntimeError("training diverged")
        if arch["ops"][0] == "skip_connect":
            return float("nan")
        return float(arch["ops"].count("nor_conv_1x1"))

    nas = NeuralArchitectureSearch(create_nb201_search_space(), "evolutionary", population_size=4, seed=0)
    best, score = nas.search_architecture(evaluate, num_evaluations=40)
    states = {t.state for t in nas.study.trials}
    assert optuna.trial.TrialState.FAIL in states and math.isfinite(score)
    assert best["ops"][0] not in ("none", "skip_connect")

    doomed = NeuralArchitectureSearch(create_nb201_search_space(), "random")
    with pytest.raises(AllTrialsFailedError, match="all 4 trials failed"):
        doomed.search_architecture(lambda a: float("nan"), num_evaluations=4)


LAYER_ARCH = {"type": "layers", "input_shape": [8], "num_classes": 2, "layers": [{"op": "dense", "width": 4, "activation": "relu"}]}
CELL_ARCH = {"type": "nb201_cell", "input_shape": [1, 8, 8], "num_classes": 3, "channels": 4, "ops": ["nor_conv_3x3"] * 6}


@pytest.mark.parametrize(
    ("architecture", "where", "bad"),
    [
        ({**LAYER_ARCH, "layers": [{"op": "dense", "width": 0, "activation": "relu"}]}, r"\['layers'\]\[0\]\['width'\]", 0),
        ({**LAYER_ARCH, "layers": [{"op": "dense", "width": "4", "activation": "relu"}]}, r"\['layers'\]\[0\]\['width'\]", "4"),
        ({**LAYER_ARCH, "num_classes": 0}, r"\['num_classes'\]", 0),
        ({**LAYER_ARCH, "input_shape": [0]}, r"\['input_shape'\]\[0\]", 0),
        ({**CELL_ARCH, "channels": 0}, r"\['channels'\]", 0),
        ({**CELL_ARCH, "num_stages": -1}, r"\['num_stages'\]", -1),
    ],
)
def test_an_architecture_with_sizes_that_are_not_positive_integers_is_refused(architecture: dict, where: str, bad: object) -> None:
    from meta import build_model_from_architecture

    # a size of 0 built zero-sized layers that output a constant; a string width was parsed by int()
    with pytest.raises(ValueError, match=f"architecture{where}: expected an integer >= 1, got {bad!r}"):
        build_model_from_architecture(architecture)


def test_an_interrupted_evaluation_is_recorded_failed_not_left_running() -> None:
    from meta import NeuralArchitectureSearch

    def interrupted(arch: dict) -> float:
        raise KeyboardInterrupt

    nas = NeuralArchitectureSearch(create_nb201_search_space(), "random")
    with pytest.raises(KeyboardInterrupt):
        nas.search_architecture(interrupted, num_evaluations=3)
    assert [t.state for t in nas.study.trials] == [optuna.trial.TrialState.FAIL]


def test_bad_search_arguments_name_the_field() -> None:
    from meta import NeuralArchitectureSearch

    space = create_nb201_search_space()
    with pytest.raises(ValueError, match="algorithm"):
        NeuralArchitectureSearch(space, "hill_climbing")
    with pytest.raises(ValueError, match="darts_data"):
        NeuralArchitectureSearch(space, "darts")
    with pytest.raises(ValueError, match="tournament_size"):
        NeuralArchitectureSearch(space, "evolutionary", population_size=4, tournament_size=5)
    with pytest.raises(ValueError, match="num_evaluations"):
        NeuralArchitectureSearch(space, "random").search_architecture(lambda a: 0.0, num_evaluations=0)
    with pytest.raises(ValueError, match="n_starts"):
        NeuralArchitectureSearch(space, "bayesian", n_starts=0)
    with pytest.raises(ValueError, match="population_size: expected an integer >= 2, got 2.5"):
        NeuralArchitectureSearch(space, "evolutionary", population_size=2.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="n_startup_trials: expected an integer >= 2, got 1.5"):
        NeuralArchitectureSearch(space, "bayesian", n_startup_trials=1.5)  # type: ignore[arg-type]


def test_search_resumes_from_storage_without_repeating(tmp_path) -> None:
    from meta import NeuralArchitectureSearch

    url = f"sqlite:///{tmp_path / 'nas.db'}"
    calls: list[str] = []

    def evaluate(arch: dict) -> float:
        calls.append("|".join(arch["ops"]))
        return float(arch["ops"].count("nor_conv_3x3"))

    kwargs = dict(population_size=4, storage=url, study_name="cells")
    NeuralArchitectureSearch(create_nb201_search_space(), "evolutionary", seed=0, **kwargs).search_architecture(evaluate, 8)
    resumed = NeuralArchitectureSearch(create_nb201_search_space(), "evolutionary", seed=1, **kwargs)
    resumed.search_architecture(evaluate, 8)
    assert len(calls) == 16 == len(set(calls)) and len(resumed.study.trials) >= 16


@pytest.mark.parametrize("algorithm", ["random", "evolutionary"])
def test_search_stops_when_every_architecture_of_a_small_space_is_evaluated(algorithm: str) -> None:
    from meta import NeuralArchitectureSearch

    space = create_nas_search_space(
        input_shape=(8,), num_classes=2, max_layers=2, operations=("dense",), widths=(16, 32), activations=("relu",)
    )
    assert make_space(space).size == 6
    seen: list[str] = []
    nas = NeuralArchitectureSearch(space, algorithm, population_size=2, seed=0)
    _, best = nas.search_architecture(lambda a: seen.append(repr(a)) or float(len(a["layers"])), num_evaluations=50)
    assert len(seen) == len(set(seen)) == 6 and best == 2.0
    assert not nas.study.trials[-1].user_attrs.get("repeat")  # no repeats asked for once nothing new was left


def test_a_stored_study_of_another_search_space_is_refused_by_name(tmp_path) -> None:
    from meta import NeuralArchitectureSearch

    url = f"sqlite:///{tmp_path / 'nas.db'}"
    layers = create_nas_search_space(input_shape=(1, 8, 8), num_classes=3, max_layers=3)
    NeuralArchitectureSearch(layers, "random", storage=url, study_name="s").search_architecture(lambda a: 1.0, 2)
    cells = NeuralArchitectureSearch(create_nb201_search_space(), "random", storage=url, study_name="s")
    with pytest.raises(ValueError, match=r"search_space_config: parameter '.*' of study 's' in the storage is"):
        cells.search_architecture(lambda a: 1.0, 2)
    assert len(optuna.load_study(study_name="s", storage=url).trials) == 2


# ----------------------------------------------------------------------- DARTS on digits


def test_darts_on_digits_learns_architecture_weights_and_discretises() -> None:
    from meta import NeuralArchitectureSearch
    from meta.data.digits import load_digits_split
    from meta.nas.darts import DARTSConfig, run_darts

    split = load_digits_split()
    data = (split.x_train[:192], split.y_train[:192], split.x_train[192:384], split.y_train[192:384])
    space = CellSearchSpace(create_nb201_search_space((1, 8, 8), 10, channels=4))
    result = run_darts(space, data, DARTSConfig(epochs=2, batch_size=64, alpha_lr=0.03, seed=0))
    assert np.abs(result.alphas).max() > 0.02  # the architecture weights moved off their tiny init
    assert "none" not in result.architecture["ops"] and result.ranked_architectures[0] == result.architecture
    assert np.allclose(result.op_probabilities.sum(1), 1.0)
    # The same search through the main entry point, the ranked cells evaluated as trials.
    nas = NeuralArchitectureSearch(
        space, "darts", seed=0, darts_data=data, darts_options={"epochs": 1, "batch_size": 64}
    )
    best, score = nas.search_architecture(lambda a: float(a["ops"].count("nor_conv_3x3")), num_evaluations=3)
    assert len(nas.history) == 3 and nas.history[0][0] == nas.darts_result.architecture
    with pytest.raises(ValueError, match="darts_data"):
        run_darts(space, (split.x_train[:10, :10], split.y_train[:10], split.x_train[:10], split.y_train[:10]))


# ----------------------------------------------------------------------- NAS-Bench-201


def test_cell_strings_round_trip_and_bad_ones_are_rejected() -> None:
    s = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
    cell = parse_cell(s)
    assert cell == (3, 3, 4, 1, 3, 1) and cell_to_str(cell) == s
    for bad in ["|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|", "|none~0|+|none~0|+|none~0|none~1|none~2|"]:
        with pytest.raises(NASBenchFormatError, match="cellstr"):
            parse_cell(bad)


def test_loader_errors_name_the_path(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="path"):
        load_nasbench201(tmp_path / "missing.csv")
    bad = tmp_path / "bad.csv"
    bad.write_text("arch,cellstr\n0,x\n")
    with pytest.raises(NASBenchFormatError, match="lacks columns"):
        load_nasbench201(bad)


@needs_nb201
def test_nasbench201_table_and_search_beats_random() -> None:
    bench = NASBench201Benchmark.from_csv(NB201_CSV)
    assert len(bench.table) == 15625 and bench.best_test_accuracy() == pytest.approx(89.16)
    assert set(bench.table.cells) == {bench.space.op_indices(a) for a in bench.space.enumerate()}
    from meta import NeuralArchitectureSearch

    def best_val(algorithm: str, seed: int) -> float:
        nas = NeuralArchitectureSearch(bench.space, algorithm, population_size=10, tournament_size=3, seed=seed)
        return nas.search_architecture(bench, 50)[1]

    evolution = np.mean([best_val("evolutionary", s) for s in (0, 1)])
    random = np.mean([best_val("random", s) for s in (0, 1)])
    assert evolution > random
    assert bench.queries == 200


def test_samplers_work_in_plain_optuna_optimize_loops() -> None:
    from meta.nas import SurrogateSampler

    space = CellSearchSpace()
    for sampler in (
        RegularizedEvolutionSampler(space, population_size=4, tournament_size=2, seed=0),
        SurrogateSampler(space, seed=0, n_startup_trials=4),
    ):
        study = optuna.create_study(direction="maximize", sampler=sampler)
        study.optimize(lambda t: space.suggest(t)["ops"].count("nor_conv_3x3"), n_trials=14)
        keys = [space.key(space.decode(t.params)) for t in study.trials]
        assert len(set(keys)) == 14 and study.best_value >= 3


def test_bayesian_starts_each_learn_only_from_their_own_trials() -> None:
    """With two starts, trial i belongs to start i % 2: each start has its own random start-up and its
    proposals depend on its own trials only, while no start repeats a cell any start has seen."""
    from meta.nas import SurrogateSampler

    space = CellSearchSpace()
    sampler = SurrogateSampler(space, seed=0, n_startup_trials=3, n_starts=2)
    proposals_from: list[list[int]] = []
    original = sampler.propose

    def spy(history, seen):  # type: ignore[no-untyped-def]
        proposals_from.append(sorted(h[0] for h in history))
        return original(history, seen)

    sampler.propose = spy  # type: ignore[method-assign]
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.optimize(lambda t: space.suggest(t)["ops"].count("nor_conv_3x3"), n_trials=12)
    # start 0 owns trials 0, 2, 4 (its start-up) and proposes trials 6, 8, 10; start 1 likewise
    assert proposals_from == [[0, 2, 4], [1, 3, 5], [0, 2, 4, 6], [1, 3, 5, 7], [0, 2, 4, 6, 8], [1, 3, 5, 7, 9]]
    keys = [space.key(space.decode(t.params)) for t in study.trials]
    assert len(set(keys)) == 12
    with pytest.raises(ValueError, match="n_starts"):
        SurrogateSampler(space, n_starts=0)
