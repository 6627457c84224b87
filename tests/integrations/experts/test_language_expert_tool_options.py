"""``process_task`` refuses a tool run's bad options with ``ExpertInputError`` naming the option
and the value, before any tool is called, as it says: an unknown option failed with a TypeError
naming ``_run_tools``, a bad ``max_cost`` or ``task_type`` with pydantic's error naming
``TaskProfile``, and where no tool served the label a bad value was not checked at all."""

from __future__ import annotations

from typing import Any

import pytest

from integrations.experts import ExpertInputError, LanguageExpert
from toolrouter import ToolMetaLearner, ToolProfile
from toolrouter.features import HashingFeaturizer

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _expert() -> tuple[LanguageExpert, list[Any]]:
    calls: list[Any] = []
    router = ToolMetaLearner([ToolProfile(tool_id="web", capabilities=["search"], description="search the web")], seed=0)
    router.functions["web"] = lambda request: calls.append(request.inputs) or "pages"
    expert = LanguageExpert(HashingFeaturizer(dim=64))
    expert.add_tool_optimization(router)
    return expert, calls


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"budget": 1.0}, r"options: \['budget'\] are not options of a LanguageExpert's tool runs \(they are \['capabilities', "),
        ({"max_cost": -1}, r"options\.max_cost: Input should be greater than 0 \(got -1\)"),
        ({"max_latency_s": "fast"}, r"options: .*max_latency_s: expected a number, not a str, got 'fast'"),
        ({"task_type": 5}, r"options\.task_type: .* \(got 5\)"),
        ({"capabilities": ["weather"], "max_cost": 0}, r"options\.max_cost: .* \(got 0\)"),  # no tool serves it
    ],
)
def test_bad_tool_options_are_refused_naming_them_and_nothing_runs(options: dict[str, Any], named: str) -> None:
    expert, calls = _expert()
    with pytest.raises(ExpertInputError, match=named):
        expert.process_task("search the web for cats", **options)
    assert calls == []
    assert expert.process_task("search the web for cats", max_cost=1.0).output == "pages"
