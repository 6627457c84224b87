"""Names a user passes (tool ids, capabilities, steps, dependencies) must be strings: anything else
is a validation error naming the field and the value, raised before any state changes."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from toolrouter import TaskProfile, ToolMiddleware, ToolProfile, ToolType
from toolrouter.models import TaskStep


@pytest.mark.parametrize(
    "build, field, value",
    [
        (lambda: ToolProfile(tool_id="a", capabilities=[1]), "capabilities.0", "input_value=1,"),
        (lambda: ToolProfile(tool_id="a", capabilities=["ok", None]), "capabilities.1", "input_value=None"),
        (lambda: ToolProfile(tool_id="a", capabilities=[b"code"]), "capabilities.0", "input_value=b'code'"),
        (lambda: ToolProfile(tool_id="a", capabilities=7), "capabilities", "input_value=7"),
        (lambda: ToolProfile(tool_id=3), "tool_id", "input_value=3"),
        (lambda: TaskProfile(task_id="t", required_capabilities=[1.5]), "required_capabilities.0", "input_value=1.5"),
        (lambda: TaskProfile(task_id="t", required_capabilities=None), "required_capabilities", "input_value=None"),
        (lambda: TaskProfile(task_id=["t"]), "task_id", "input_value=['t']"),
        (lambda: TaskStep(step_id="s", capability=2), "capability", "input_value=2"),
        (lambda: TaskStep(step_id="s", capability="x", depends_on=[0]), "depends_on.0", "input_value=0"),
        (
            lambda: TaskProfile(task_id="t", steps=[{"step_id": "a", "capability": 1}]),
            "steps.0.capability",
            "input_value=1,",
        ),
        (
            lambda: TaskProfile(task_id="t", steps=[{"step_id": "b", "capability": "x", "depends_on": [None]}]),
            "steps.0.depends_on.0",
            "input_value=None",
        ),
    ],
)
def test_a_name_that_is_not_a_string_is_a_validation_error_naming_field_and_value(build, field, value) -> None:
    with pytest.raises(ValidationError) as info:
        build()
    text = str(info.value)
    assert f"\n{field}\n" in text and value in text


def test_blank_and_repeated_names_are_still_refused() -> None:
    with pytest.raises(ValidationError, match="capabilities must be a non-empty string, got ' '"):
        ToolProfile(tool_id="a", capabilities=["x", " "])
    with pytest.raises(ValidationError, match=r"capabilities must not repeat, got \['x', 'x'\]"):
        ToolProfile(tool_id="a", capabilities=["x", " x "])
    with pytest.raises(ValidationError, match=r"depends_on must not repeat"):
        TaskStep(step_id="s", capability="c", depends_on=["a", "a"])


def test_string_enums_and_single_names_are_accepted_as_plain_strings() -> None:
    profile = ToolProfile(tool_id=" a ", capabilities=[ToolType.CODE, " llm "])
    assert profile.tool_id == "a" and profile.capabilities == ("code", "llm")
    assert all(type(c) is str for c in profile.capabilities)  # used as dict keys and in JSON
    assert ToolProfile(tool_id="a", capabilities="search").capabilities == ("search",)
    assert TaskProfile(task_id="t", required_capabilities="search").required_capabilities == ("search",)
    assert TaskStep(step_id="s", capability="c", depends_on="a").depends_on == ("a",)


def test_register_with_a_non_string_capability_raises_and_registers_nothing() -> None:
    tools = ToolMiddleware(seed=0)

    def search(query: str) -> str:
        return query

    with pytest.raises(ValidationError) as info:
        tools.register(search, [1])
    assert "\ncapabilities.0\n" in str(info.value) and "input_value=1," in str(info.value)
    with pytest.raises(ValidationError, match="tool_id"):
        tools.register(search, "search", tool_id=5)
    assert tools.tool_ids == [] and tools.learner.tools == {}
    tools.register(search, "search")  # the same function registers once the input is right
    assert tools.tool_ids == ["search"]


@pytest.mark.parametrize(
    "names, message",
    [
        ({"task_type": ""}, "task_type must be a non-empty string, got ''"),
        ({"task_type": "a\ud800b"}, r"task_type must be text a store can keep \(no lone surrogate\), got 'a\\ud800b'"),
        # PostgreSQL keeps a NUL as U+FFFD: other routers replayed the attempt under another route
        ({"step": "a\x00b"}, r"step must be text a store can keep \(no NUL character\), got 'a\\x00b'"),
        ({"step": "   "}, "step must be a non-empty string, got '   '"),
        ({"capability": ""}, "capability must be a non-empty string, got ''"),
    ],
)
def test_one_step_calls_refuse_the_names_a_task_refuses_and_change_nothing(names, message) -> None:
    """Such a name used to make a route that was learned and saved, and then no router could load
    the snapshot (or, seeded, a UnicodeEncodeError from deep inside)."""
    from toolrouter import ExecutionResult, ToolMetaLearner

    router = ToolMetaLearner([ToolProfile(tool_id="t", capabilities=["s"])], seed=0, store="memory://")
    options = {"capability": "s", **names}
    with pytest.raises(ValueError, match=message):
        router.rank_tool_ids(**options)
    with pytest.raises(ValueError, match=message):
        router.record_attempt(ExecutionResult(tool_id="t", success=True), **options)
    assert router.routes == [] and router.store.count() == 0


@pytest.mark.parametrize("store", ["memory", "sqlite"])
@pytest.mark.parametrize("task_id", [5, None, ["t"]])
def test_a_one_step_call_with_a_task_id_that_is_not_a_string_is_refused_and_changes_nothing(tmp_path, store, task_id) -> None:
    # the memory store kept it as it was, SQLite as text or with its own errors, PostgreSQL with others
    from toolrouter import ExecutionResult, ToolMetaLearner

    url = "memory://" if store == "memory" else f"sqlite:///{tmp_path / 'r.db'}"
    router = ToolMetaLearner([ToolProfile(tool_id="t", capabilities=["s"])], seed=0, store=url)
    with pytest.raises(TypeError, match=r"^task_id: expected a string, got "):
        router.record_attempt(ExecutionResult(tool_id="t", success=True), capability="s", task_id=task_id)
    assert router.routes == [] and router.store.count() == 0
    router.record_attempt(ExecutionResult(tool_id="t", success=True), capability="s", task_id="call-1")
    assert [r.task_id for r in router.store.attempts()] == ["call-1"]
    router.close()


@pytest.mark.parametrize(
    "build",
    [lambda: ToolProfile(tool_id="a\x00b"), lambda: ToolProfile(tool_id="a", capabilities=["s\x00"]),
     lambda: TaskProfile(task_id="t", task_type="web\x00"), lambda: TaskProfile(task_id="t\x00")],
)
def test_profiles_refuse_a_name_with_a_nul_character(build) -> None:
    with pytest.raises(ValidationError, match=r"must be text a store can keep \(no NUL character\)"):
        build()


def test_one_step_calls_strip_names_as_a_task_does_so_that_both_share_the_route(tmp_path) -> None:
    from toolrouter import ExecutionResult, ToolMetaLearner

    router = ToolMetaLearner([ToolProfile(tool_id="t", capabilities=["s"])], seed=0)
    assert router.rank_tool_ids(" s ", task_type=" web ", step="s ") == ["t"]
    router.record_attempt(ExecutionResult(tool_id="t", success=True), capability="s", task_type="web\n")
    router.optimize_task_execution(TaskProfile(task_id="q", task_type=" web", required_capabilities=["s"]))
    assert router.routes == [("web", "s", "s")]
    router.save(tmp_path / "router.safetensors")
    assert ToolMetaLearner.load(tmp_path / "router.safetensors").tool_statistics("web")["t"].calls == 1


@pytest.mark.parametrize("tools", [3, 2.5])
def test_tools_that_are_not_a_collection_are_named(tools) -> None:
    from toolrouter import ToolMetaLearner

    with pytest.raises(TypeError, match="tools: expected a mapping or a list of ToolProfile, got"):
        ToolMetaLearner(tools)


@pytest.mark.parametrize("option", ["featurizer", "prior_fn"])
def test_a_function_option_that_is_not_callable_is_named_when_given(option) -> None:
    # not at the first contextual call, as "'str' object is not callable"
    with pytest.raises(TypeError, match=f"{option}: expected a callable, got 'minilm'"):
        ToolMiddleware(policy="lin_ts", seed=0, **{option: "minilm"})


@pytest.mark.parametrize("value", [np.int64(3), object(), b"\xff"])
def test_tool_metadata_that_the_saved_state_cannot_hold_is_refused_when_given(value) -> None:
    with pytest.raises(ValidationError, match="metadata\n.*every value must be JSON-able"):
        ToolProfile(tool_id="a", metadata={"k": value})
    assert ToolProfile(tool_id="a", metadata={"k": [1, {"x": None}]}).metadata == {"k": [1, {"x": None}]}


@pytest.mark.parametrize(
    ("name", "error", "message"),
    [
        (None, TypeError, "snapshot_name: expected a string, got None"),
        (5, TypeError, "snapshot_name: expected a string, got 5"),
        ("", ValueError, "snapshot_name must be a non-empty string, got ''"),
        ("\ud800", ValueError, "snapshot_name must be text a store can keep"),
    ],
)
def test_a_snapshot_name_a_store_cannot_keep_is_refused_before_the_store_is_opened(tmp_path, name, error, message) -> None:
    # str() made None a snapshot called 'None', and a lone surrogate failed only at the first save
    from toolrouter import ToolMetaLearner

    url = f"sqlite:///{tmp_path / 'router.db'}"
    with pytest.raises(error, match=message):
        ToolMetaLearner([ToolProfile(tool_id="a")], store=url, snapshot_name=name)
    with pytest.raises(error, match=message):
        ToolMetaLearner.load(url, snapshot_name=name)
    assert not (tmp_path / "router.db").exists()


def test_a_snapshot_name_of_another_routers_reward_model_is_refused(tmp_path) -> None:
    # its saves replaced router "learner"'s reward model snapshot with a learner, and "learner"
    # could no longer be opened on the store (a damaged reward model)
    from toolrouter import ToolMetaLearner

    url = f"sqlite:///{tmp_path / 'router.db'}"
    ToolMetaLearner([ToolProfile(tool_id="a")], store=url).save()
    for call in (lambda: ToolMetaLearner([ToolProfile(tool_id="a")], store=url, snapshot_name="learner.reward_model"),
                 lambda: ToolMetaLearner.load(url, snapshot_name="learner.reward_model")):
        with pytest.raises(ValueError, match=r"^snapshot_name: 'learner.reward_model' names the reward model snapshot of router 'learner'"):
            call()
    assert ToolMetaLearner.load(url).tools.keys() == {"a"}


def test_a_context_dim_of_zero_is_named_as_given() -> None:
    # 0 was taken for "not given": the error spoke of a context_dim of 256 nobody had passed
    from toolrouter import ToolMetaLearner

    with pytest.raises(ValueError, match=r"context_dim: expected an integer in \[1, 6553[56]\], got 0"):
        ToolMetaLearner([ToolProfile(tool_id="a")], policy="linucb", context_dim=0)
