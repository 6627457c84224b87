"""benchmark_nas_algorithms: one curve value per evaluation, failed ones included; each algorithm named once."""

from __future__ import annotations

import math

import optuna
import pytest
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend

from meta.nas import benchmark_nas_algorithms, create_nb201_search_space

optuna.logging.set_verbosity(optuna.logging.WARNING)


def _score(arch: dict) -> float:
    if arch["ops"][0] == "none":
        raise RuntimeError("this cell cannot be trained")
    return float(arch["ops"].count("skip_connect"))


def test_the_curve_has_one_value_per_evaluation_when_some_fail() -> None:
    out = benchmark_nas_algorithms(create_nb201_search_space(), _score, 12, algorithms=("random",), seed=0)["random"]
    curve = out["curve"]
    assert len(curve) == 12
    assert all(b >= a for a, b in zip(curve, curve[1:])) and curve[-1] == out["best_performance"]


def test_the_curve_is_minus_infinity_until_an_evaluation_succeeds() -> None:
    calls = []

    def first_fails(arch: dict) -> float:
        calls.append(arch)
        if len(calls) == 1:
            raise RuntimeError("out of memory")
        return 1.0

    curve = benchmark_nas_algorithms(create_nb201_search_space(), first_fails, 3, algorithms=("random",))["random"]["curve"]
    assert curve[0] == -math.inf and curve[1:] == [1.0, 1.0]


@pytest.mark.parametrize("algorithms", [("random", "random"), "random"])
def test_algorithms_named_twice_or_as_one_string_are_refused(algorithms: object) -> None:
    with pytest.raises(ValueError, match="algorithms: "):
        benchmark_nas_algorithms(create_nb201_search_space(), _score, 4, algorithms=algorithms)  # type: ignore[arg-type]


def test_algorithms_sharing_a_storage_and_study_name_each_search_a_study_of_their_own(tmp_path) -> None:
    score = lambda arch: float(arch["ops"].count("nor_conv_3x3"))  # noqa: E731
    algorithms = ("random", "evolutionary")
    alone = benchmark_nas_algorithms(create_nb201_search_space(), score, 8, algorithms=algorithms)
    storage = JournalStorage(JournalFileBackend(str(tmp_path / "nas.log")))
    stored = benchmark_nas_algorithms(create_nb201_search_space(), score, 8, algorithms=algorithms, storage=storage, study_name="b")
    for algorithm in algorithms:
        assert stored[algorithm]["curve"] == alone[algorithm]["curve"]
        assert stored[algorithm]["best_architecture"] == alone[algorithm]["best_architecture"]
    names = sorted(s.study_name for s in optuna.get_all_study_summaries(storage))
    assert names == ["b-evolutionary", "b-random"]
    assert all(len(optuna.load_study(study_name=n, storage=storage).trials) == 8 for n in names)
