"""toolrouter's number checks: meta's wording, with the value cut short as toolrouter quotes it."""

from __future__ import annotations

import importlib

import numpy as np
import pytest

from toolrouter import ToolMetaLearner, ToolProfile
from toolrouter._checks import check_count, check_real
from toolrouter.errors import CorruptStateError
from toolrouter.serialization import short_repr


def test_a_long_value_is_quoted_cut_short() -> None:
    value = "x" * 500
    with pytest.raises(ValueError) as info:
        check_count("upto_id", value)
    assert str(info.value) == f"upto_id: expected an integer >= 0, got {short_repr(value)}"
    assert len(str(info.value)) < 120


def test_the_call_sites_error_type_and_bounds_are_kept() -> None:
    assert check_count("window", np.int64(5), low=1) == 5
    with pytest.raises(CorruptStateError, match=r"^state\.detections: expected an integer in \[0, 3\], got True$"):
        check_count("state.detections", True, high=3, error=CorruptStateError)
    with pytest.raises(CorruptStateError, match=r"^state\.gain: expected a finite number, got inf$"):
        check_real("state.gain", float("inf"), error=CorruptStateError)


@pytest.mark.parametrize(
    "policy, options, field",
    [("neural_linear", {"context_dim": 70_000}, "context_dim"), ("neural_linear", {"context_dim": 8, "hidden": 2**70}, "hidden"),
     ("neural_linear", {"context_dim": 8, "features": 70_000}, "features"), ("lin_ts", {"context_dim": 2**70}, "context_dim")],
)
def test_a_size_no_saved_state_may_hold_is_refused_when_the_router_is_built(policy, options, field) -> None:
    # a router built with it could save its state but never load it again (or numpy failed
    # without naming the option)
    tools = [ToolProfile(tool_id="a", capabilities=("answer",))]
    with pytest.raises(ValueError, match=rf"{field}: expected an integer in \[1, 6553[56]\]"):
        ToolMetaLearner(tools, policy=policy, policy_options=options)


OPTIONS_MODELS = [
    # (module, class, a number field, the required fields)
    ("toolrouter.models", "UtilityWeights", "cost", {}),
    ("toolrouter.models", "ToolProfile", "expected_latency_s", {"tool_id": "a", "capabilities": ["x"]}),
    ("toolrouter.models", "TaskProfile", "max_cost", {"task_id": "t1", "required_capabilities": ["x"]}),
    ("toolrouter.models", "ExecutionResult", "quality", {"tool_id": "a", "success": True}),
    ("toolrouter.attempts", "RetryPolicy", "max_retries", {}),
    ("toolrouter.attempts", "CircuitBreakerConfig", "failure_threshold", {}),
    ("toolrouter.attempts", "ExecutorConfig", "timeout_s", {}),
    ("toolrouter.structure", "StructureConfig", "ridge", {}),
    ("toolrouter.selection", "SelectorConfig", "lr", {}),
    ("toolrouter.drift", "DetectorConfig", "threshold", {}),
    ("toolrouter.store.postgres", "PostgresOptions", "pool_max", {}),
    ("meta.continual.learner", "ContinualConfig", "lr", {}),
    ("meta.nas.darts", "DARTSConfig", "epochs", {}),
    ("meta.optimizer", "BayesianOptimizerConfig", "seed", {}),
    ("meta.data.sinusoid", "SinusoidConfig", "amplitude_max", {}),
    ("meta.protonet_recipe", "ProtoNetRecipe", "k_shot", {}),
]


@pytest.mark.parametrize(("module", "name", "field", "required"), OPTIONS_MODELS)
def test_options_models_refuse_a_bool_for_a_number_naming_the_field(
    module: str, name: str, field: str, required: dict
) -> None:
    model = getattr(importlib.import_module(module), name)
    # pydantic alone takes True for 1 or 1.0: `max_retries=True` would mean one retry
    for flag in (True, np.bool_(False)):
        with pytest.raises(ValueError, match=rf"{field}: expected a number, not a bool, got {flag!r}"):
            model(**required, **{field: flag})
    model(**required, **{field: np.int64(2) if "int" in str(model.model_fields[field].annotation) else np.float32(0.5)})


def test_a_field_that_takes_a_bool_keeps_it() -> None:
    from toolrouter.attempts import ExecutorConfig

    bools = [k for k, f in ExecutorConfig.model_fields.items() if f.annotation is bool]
    assert bools  # the options model has flags, and they still take bools
    assert all(getattr(ExecutorConfig(**{k: True}), k) is True for k in bools)
