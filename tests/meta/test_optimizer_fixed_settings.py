"""BayesianOptimizer's study settings are fixed: set later, they had no effect on the kept study."""

import optuna
import pytest
from pydantic import ValidationError

from meta.optimizer import BayesianOptimizer


@pytest.mark.parametrize(
    ("field", "value"),
    [("sampler", "random"), ("seed", 5), ("storage", "sqlite:///hpo.db"), ("pruner", "none"),
     ("study_name", "other"), ("direction", "minimize"), ("n_startup_trials", 1)],
)
def test_a_study_setting_set_later_is_refused_naming_the_field(field, value) -> None:
    opt = BayesianOptimizer({"x": (0.0, 1.0)}, sampler="tpe")
    before = opt.config.model_dump()
    with pytest.raises(ValidationError, match=rf"{field}\n  Field is frozen"):
        setattr(opt.config, field, value)
    assert opt.config.model_dump() == before


def test_the_study_keeps_the_sampler_it_was_built_with_and_the_timeout_may_change() -> None:
    opt = BayesianOptimizer({"x": (0.0, 1.0)}, sampler="tpe")
    with pytest.raises(ValidationError, match="sampler"):
        opt.config.sampler = "random"
    assert isinstance(opt.study.sampler, optuna.samplers.TPESampler)
    opt.config.trial_timeout_s = 30.0  # read on each trial, so it may change
    assert opt.config.trial_timeout_s == 30.0
