"""The options models of meta take numbers as numbers only and check a field again when it is set:
``lr="1"`` was read as 1.0, and ``learner.config.lr = -1`` was kept and failed later inside torch."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError
from torch import nn

from meta import ContinualLearner
from meta.continual import ContinualConfig
from meta.data.sinusoid import SinusoidConfig
from meta.nas.darts import DARTSConfig
from meta.nas.space import NASSearchSpaceConfig, NB201SpaceConfig
from meta.optimizer import BayesianOptimizerConfig
from meta.protonet_recipe import ProtoNetRecipe


@pytest.mark.parametrize(
    ("model", "field", "value"),
    [
        (ContinualConfig, "lr", "1"),
        (ContinualConfig, "batch_size", b"8"),
        (DARTSConfig, "epochs", "3"),
        (BayesianOptimizerConfig, "n_startup_trials", "3"),
        (BayesianOptimizerConfig, "trial_timeout_s", "1.5"),
        (ProtoNetRecipe, "lr", "0.1"),
        (SinusoidConfig, "x_min", "0"),
        (NB201SpaceConfig, "channels", "16"),
    ],
)
def test_a_number_string_is_refused_naming_the_field(model, field, value) -> None:
    with pytest.raises(ValidationError, match=rf"{field}: expected a number, not a {type(value).__name__}, got {value!r}"):
        model(**{field: value})


def test_a_number_string_among_sizes_is_refused_naming_the_field() -> None:
    with pytest.raises(ValidationError, match=r"widths: expected whole numbers, not strings"):
        NASSearchSpaceConfig(input_shape=(8,), num_classes=2, max_layers=2, widths=("16", 32))


def test_numbers_numpy_ones_included_are_still_taken() -> None:
    config = ContinualConfig(lr=np.float32(0.5), batch_size=np.int64(8), grad_clip=None)
    assert (config.lr, config.batch_size) == (0.5, 8)


@pytest.mark.parametrize(("field", "value"), [("lr", -1), ("lr", "0.1"), ("batch_size", 0), ("momentum", True), ("optimizer", "rmsprop")])
def test_a_learner_config_refuses_a_bad_value_set_later_and_keeps_its_own(field, value) -> None:
    learner = ContinualLearner(nn.Linear(2, 2), strategy="naive")
    before = learner.config.model_dump()
    with pytest.raises(ValidationError, match=field):
        setattr(learner.config, field, value)
    assert learner.config.model_dump() == before
    learner.config.lr = 0.01  # a good value is still taken
    assert learner.config.lr == 0.01


@pytest.mark.parametrize(("model", "field", "value"), [(DARTSConfig, "weight_lr", 0.0), (BayesianOptimizerConfig, "trial_timeout_s", 0.0)])
def test_other_settable_configs_check_a_value_set_later(model, field, value) -> None:
    config = model()
    with pytest.raises(ValidationError, match=field):
        setattr(config, field, value)
    assert getattr(config, field) == getattr(model(), field)


@pytest.mark.parametrize(("field", "value"), [("setting", "class"), ("buffer_size", 10), ("seed", 1)])
def test_a_learner_config_keeps_what_the_learner_was_built_from(field, value) -> None:
    # set later, these had no effect (the strategy and generator were built from them), or, for
    # the setting, served a progressive network's predictions of a setting it was not trained for
    learner = ContinualLearner(nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 2)), strategy="progressive", setting="task")
    before = learner.config.model_dump()
    with pytest.raises(ValidationError, match=rf"{field}\n  Field is frozen"):
        setattr(learner.config, field, value)
    assert learner.config.model_dump() == before
