"""A stored NAS study is resumed only with the search space its trials were drawn from."""

from __future__ import annotations

import optuna
import pytest

from meta import NeuralArchitectureSearch, create_nas_search_space


def _space(widths: tuple[int, ...]) -> dict:
    return create_nas_search_space(
        input_shape=(8,), num_classes=2, max_layers=2, operations=("dense",), widths=widths, activations=("relu",)
    )


def test_a_stored_study_with_other_choices_is_refused_naming_the_parameter(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'nas.db'}"
    NeuralArchitectureSearch(_space((16, 32)), "random", storage=url, study_name="s").search_architecture(lambda a: 1.0, 2)
    # every stored architecture is also one of the wider space, but its trials were drawn from other choices
    wider = NeuralArchitectureSearch(_space((16, 32, 64)), "random", storage=url, study_name="s")
    with pytest.raises(
        ValueError,
        match=r"search_space_config: parameter 'layer_0_width' of study 's' in the storage is "
        r"CategoricalDistribution\(choices=\(16, 32\)\), got CategoricalDistribution\(choices=\(16, 32, 64\)\)",
    ):
        wider.search_architecture(lambda a: 1.0, 2)
    assert len(optuna.load_study(study_name="s", storage=url).trials) == 2  # no trial left behind
    same = NeuralArchitectureSearch(_space((16, 32)), "random", storage=url, study_name="s", seed=1)
    same.search_architecture(lambda a: 1.0, 1)
    assert len(same.study.trials) >= 3
