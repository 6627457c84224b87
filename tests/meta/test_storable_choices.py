"""A categorical choice that a study's storage cannot hold is refused when the space is given, not at the first save."""

from __future__ import annotations

from typing import Any

import optuna
import pytest
import torch

from meta import BayesianOptimizer, NeuralArchitectureSearch, create_nb201_search_space
from meta.nas.space import CellSearchSpace

# the tests build such distributions on purpose; Optuna warns about them
pytestmark = pytest.mark.filterwarnings("ignore:Choices for a categorical distribution")


@pytest.mark.parametrize("choice", [(1, 2), torch.nn.ReLU, torch.nn.Tanh()])
@pytest.mark.parametrize("storage", [None, "sqlite"])
def test_hpo_refuses_a_choice_a_storage_cannot_hold_before_any_trial(tmp_path, choice: Any, storage: str | None) -> None:
    url = f"sqlite:///{tmp_path / 'hpo.db'}" if storage else None
    with pytest.raises(TypeError, match=r"parameter_space\['act'\]: choice .* cannot be stored in a study"):
        BayesianOptimizer({"x": (0.0, 1.0), "act": ["relu", choice]}, sampler="random", storage=url, study_name="s")
    with pytest.raises(TypeError, match=r"parameter_space\['act'\]: choice .*\(tuple\)"):
        BayesianOptimizer({"act": optuna.distributions.CategoricalDistribution([(1, 2)])})


def test_hpo_scalar_choices_survive_a_stored_study(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'hpo.db'}"
    opt = BayesianOptimizer({"c": [None, True, 3, 0.5, "relu"]}, sampler="random", storage=url, study_name="s")
    opt.optimize(lambda p: 1.0, n_iterations=3)
    assert {t.params["c"] for t in opt.study.trials} <= {None, True, 3, 0.5, "relu"}


class _ObjectChoices(CellSearchSpace):
    """A cell space whose first edge offers a module instead of an operation name."""

    def distributions(self) -> dict[str, optuna.distributions.BaseDistribution]:
        out = super().distributions()
        first = next(iter(out))
        out[first] = optuna.distributions.CategoricalDistribution([torch.nn.Identity, *out[first].choices[1:]])
        return out


def test_nas_refuses_a_space_whose_choices_a_storage_cannot_hold_at_construction(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'nas.db'}"
    with pytest.raises(TypeError, match=r"search_space_config: parameter '\w+': choice <class 'torch.nn.*Identity'> \(type\)"):
        NeuralArchitectureSearch(_ObjectChoices(create_nb201_search_space().model_copy()), "random", storage=url, study_name="s")
    assert optuna.get_all_study_names(url) == []
