"""A plan's JSON is strict JSON: a +inf score (a tool never tried, or one drift detection
rechecks) was written as the bare token ``Infinity``, which JavaScript's ``JSON.parse``, ``jq``
and PostgreSQL's ``json`` refuse. It is now the string ``"Infinity"``, read back as +inf; JSON
written before still reads."""

from __future__ import annotations

import json
import math

import pytest

from toolrouter import TaskProfile, ToolMetaLearner, ToolProfile
from toolrouter.plan import ExecutionPlan


def _strict(text: str) -> object:
    def refuse(token: str) -> None:
        raise ValueError(f"not strict JSON: {token}")

    return json.loads(text, parse_constant=refuse)


def _untried_plan() -> ExecutionPlan:
    tools = [ToolProfile(tool_id=t, capabilities=["search"]) for t in ("a", "b")]
    router = ToolMetaLearner(tools, policy="ucb1", seed=0, prior_fn=lambda *_: None)
    plan = router.optimize_task_execution(TaskProfile(task_id="t", required_capabilities=["search"]))
    assert plan.steps[0].choice.score == math.inf
    return plan


def test_a_plan_with_an_infinite_score_writes_strict_json_that_reads_back_exactly() -> None:
    plan = _untried_plan()
    text = plan.to_json()
    data = _strict(text)
    assert data["steps"][0]["candidates"][0]["score"] == "Infinity"
    assert ExecutionPlan.from_json(text) == plan
    assert ExecutionPlan.from_json(text).steps[0].choice.score == math.inf
    assert ExecutionPlan.from_dict(json.loads(json.dumps(plan.to_dict(), allow_nan=False))) == plan


def test_json_written_with_the_bare_infinity_token_still_reads() -> None:
    plan = _untried_plan()
    old = plan.to_json().replace('"Infinity"', "Infinity")
    assert ExecutionPlan.from_json(old) == plan


def test_only_a_score_may_be_written_as_infinity() -> None:
    data = json.loads(_untried_plan().to_json())
    data["steps"][0]["candidates"][0]["expected_utility"] = "Infinity"
    with pytest.raises(ValueError, match=r"\['expected_utility'\]"):
        ExecutionPlan.from_dict(data)


def test_a_non_finite_number_in_the_metadata_is_named_not_written() -> None:
    plan = _untried_plan()
    plan.metadata["report"] = {"ratios": [1.0, math.nan]}
    with pytest.raises(ValueError, match=r"metadata\['report'\]\['ratios'\]\[1\]: nan is not a JSON number"):
        plan.to_json()


@pytest.mark.parametrize(
    ("value", "where"),
    [
        ({"span": (1, 2)}, r"metadata\['report'\]\['span'\]: \(1, 2\) is a tuple"),
        ({1: "a"}, r"metadata\['report'\]: key 1 is not a string"),
        ([{"tags"}], r"metadata\['report'\]\[0\]: \{'tags'\} is a set"),
    ],
)
def test_metadata_json_would_not_read_back_as_it_is_is_named_not_written(value: object, where: str) -> None:
    plan = _untried_plan()
    plan.metadata["report"] = value
    with pytest.raises(TypeError, match=where):
        plan.to_json()
    plan.metadata["report"] = {"span": [1, 2], "1": "a", "ok": None, "n": 0.5, "yes": True}
    assert ExecutionPlan.from_json(plan.to_json()) == plan
