"""benchmark_nas_algorithms makes every search, checking its options, before the first one runs, and
checks num_evaluations itself: a typo in the last algorithm's name surfaced only after the searches
before it had run to their end, and num_evaluations=15.0 was reported as population_size=3.0."""

from __future__ import annotations

import pytest

from meta.nas import benchmark_nas_algorithms, create_nb201_search_space


def test_a_bad_algorithm_is_refused_before_any_search_runs() -> None:
    calls: list[dict] = []

    def evaluate(arch: dict) -> float:
        calls.append(arch)
        return 1.0

    with pytest.raises(ValueError, match="algorithm: unknown 'evolution'"):
        benchmark_nas_algorithms(create_nb201_search_space(), evaluate, 5, algorithms=("random", "evolution"))
    with pytest.raises(ValueError, match="darts_data: algorithm='darts' needs"):
        benchmark_nas_algorithms(create_nb201_search_space(), evaluate, 5, algorithms=("random", "darts"))
    assert calls == []


@pytest.mark.parametrize("bad", [15.0, "15", 0])
def test_num_evaluations_is_named_when_it_is_no_count(bad: object) -> None:
    with pytest.raises(ValueError, match=rf"num_evaluations: expected an integer >= 1, got {bad!r}"):
        benchmark_nas_algorithms(create_nb201_search_space(), lambda a: 1.0, bad)  # type: ignore[arg-type]


def test_algorithms_given_as_a_generator_each_run() -> None:
    # the check for repeated names spent the generator: no search ran, and the result was empty
    out = benchmark_nas_algorithms(create_nb201_search_space(), lambda a: 1.0, 3, algorithms=(a for a in ("random", "evolutionary")))
    assert sorted(out) == ["evolutionary", "random"] and all(len(r["curve"]) == 3 for r in out.values())
    with pytest.raises(ValueError, match="algorithms: give a sequence of at least one algorithm name"):
        benchmark_nas_algorithms(create_nb201_search_space(), lambda a: 1.0, 3, algorithms=iter(()))
