"""The step a one-step attempt is recorded at: the one ``record_attempt`` is given, else the one
its result names, else its capability; a result naming another step than the one given is
refused. The result's own step was ignored, so an attempt at step "a" was learned as "login"."""

from __future__ import annotations

import pytest

from toolrouter import ExecutionResult, ToolMetaLearner, ToolProfile
from toolrouter.errors import InvalidOutcomeError


def _router() -> ToolMetaLearner:
    return ToolMetaLearner([ToolProfile(tool_id="auth", capabilities=["login"])], seed=0)


def test_a_result_names_the_step_when_no_step_is_given() -> None:
    router = _router()
    router.record_attempt(ExecutionResult(tool_id="auth", step="a", success=True), capability="login")
    router.check_attempt(ExecutionResult(tool_id="auth", step="b", success=True), capability="login")
    assert router.routes == [("default", "a", "login")]


def test_a_result_of_another_step_than_the_one_given_is_refused_and_nothing_recorded() -> None:
    router = _router()
    result = ExecutionResult(tool_id="auth", step="a", success=True)
    for check in (router.record_attempt, router.check_attempt):
        with pytest.raises(InvalidOutcomeError, match=r"step: 'a' differs from step='login'"):
            check(result, capability="login", step="login", trace_id="t")
    assert router.routes == [] and router.trace_steps("t") == ()


def test_a_result_without_a_step_takes_the_one_given_or_the_capability() -> None:
    router = _router()
    router.record_attempt(ExecutionResult(tool_id="auth", success=True), capability="login")
    router.record_attempt(ExecutionResult(tool_id="auth", success=True), capability="login", step="sso")
    router.record_attempt(ExecutionResult(tool_id="auth", step="main", success=True), capability="login")
    assert sorted(router.routes) == [("default", "login", "login"), ("default", "main", "login"), ("default", "sso", "login")]


def test_a_result_consuming_steps_outside_a_trace_is_refused_and_nothing_recorded() -> None:
    # its depends_on was dropped silently: an attempt outside a trace is stored without parents
    router = ToolMetaLearner([ToolProfile(tool_id="auth", capabilities=["login"])], seed=0, store="memory://")
    result = ExecutionResult(tool_id="auth", step="login", depends_on=["search"], success=True)
    for check in (router.record_attempt, router.check_attempt):
        with pytest.raises(InvalidOutcomeError, match=r"^execution_results\[0\]\.depends_on: .*give its trace_id too, got depends_on=\['search'\]$"):
            check(result, capability="login")
    assert router.store.count() == 0 and router.routes == []


@pytest.mark.parametrize("task_id", ["", "  "])
def test_an_empty_task_id_is_refused_and_nothing_recorded(task_id: str) -> None:
    # TaskProfile refuses it; record_attempt stored it, an attempt of no task
    router = ToolMetaLearner([ToolProfile(tool_id="auth", capabilities=["login"])], seed=0, store="memory://")
    match = rf"^task_id: expected a non-empty string, got {task_id!r}$"
    for check in (router.record_attempt, router.check_attempt):
        with pytest.raises(ValueError, match=match):
            check(ExecutionResult(tool_id="auth", success=True), capability="login", task_id=task_id)
    with pytest.raises(ValueError, match=match):
        router.rank_tools("login", task_id=task_id)
    assert router.store.count() == 0 and router.routes == []
